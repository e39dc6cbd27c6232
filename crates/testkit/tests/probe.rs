//! Black-box tests of `bigbang_testkit::probe`: the pure parsers on fixture texts and
//! trees (cgroup v1, v2 and hybrid hosts, ELF headers, userns sysctls), and the live
//! probes on this machine.

use std::fs;
use std::path::Path;

use bigbang_testkit::probe::{
    self, cgroup_mode, elf_linkage, parse_mountinfo, Attempt, CgroupMode, Cgroups, Kernel, Linkage,
    Namespace, ProbeError, UsernsPolicy, UsernsSysctls, UsernsVerdict,
};

// --- fixtures: real mountinfo lines from the machines learners use --------------------------

/// Ubuntu 22.04 / 24.04 (pure v2, systemd).
const UBUNTU_V2: &str = "\
22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
23 28 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
28 1 252:0 / / rw,relatime shared:1 - ext4 /dev/mapper/ubuntu--vg-ubuntu--lv rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
31 22 0:27 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:10 - pstore pstore rw
";

/// Fedora 39 (pure v2, SELinux).
const FEDORA_V2: &str = "\
24 60 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw,seclabel
35 24 0:31 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,seclabel,nsdelegate,memory_recursiveprot
60 1 259:3 /root / rw,relatime shared:1 - btrfs /dev/nvme0n1p3 rw,seclabel,compress=zstd:1,ssd,space_cache=v2,subvolid=256,subvol=/root
";

/// A desktop session's /proc/self/cgroup on a v2 host.
const V2_SELF: &str = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-bigbang.scope\n";

/// CentOS 7 (pure v1, co-mounted cpu,cpuacct and net_cls,net_prio).
const CENTOS_V1: &str = "\
24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory
30 24 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,pids
31 24 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,net_prio,net_cls
";

const CENTOS_SELF: &str = "\
5:net_prio,net_cls:/
4:pids:/user.slice/user-1000.slice
3:memory:/user.slice
2:cpuacct,cpu:/user.slice
1:name=systemd:/user.slice/user-1000.slice/session-1.scope
";

/// This machine: v1 controllers, a v2 tree at /sys/fs/cgroup/unified.
const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

const HYBRID_SELF: &str = "\
9:name=systemd:/
8:pids:/
4:memory:/process_api/edeb8cd2fc53fff25b47a3650e531802
1:cpu:/
0::/
";

/// Ubuntu 20.04 (systemd's hybrid layout, nsdelegate on the unified tree).
const UBUNTU_20_HYBRID: &str = "\
33 25 0:29 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
34 33 0:30 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
35 33 0:31 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
38 33 0:34 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
";

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

// --- cgroups ---------------------------------------------------------------------------------

/// cgroup2 at /sys/fs/cgroup is v2, on Ubuntu's and Fedora's real lines.
#[test]
fn mode_pure_v2() {
    assert_eq!(cgroup_mode(UBUNTU_V2), CgroupMode::V2);
    assert_eq!(cgroup_mode(FEDORA_V2), CgroupMode::V2);
}

/// v1 hierarchies alone are v1; with a cgroup2 mount beside them, hybrid.
#[test]
fn mode_v1_and_hybrid() {
    assert_eq!(cgroup_mode(CENTOS_V1), CgroupMode::V1);
    assert_eq!(cgroup_mode(HYBRID), CgroupMode::Hybrid);
    assert_eq!(cgroup_mode(UBUNTU_20_HYBRID), CgroupMode::Hybrid);
}

/// No cgroup filesystem under /sys/fs/cgroup (a bare container) is "none".
#[test]
fn mode_none() {
    let no_cgroups: String =
        UBUNTU_V2.lines().filter(|l| !l.contains("cgroup")).map(|l| format!("{l}\n")).collect();
    assert_eq!(cgroup_mode(&no_cgroups), CgroupMode::None);
    assert_eq!(cgroup_mode(""), CgroupMode::None);
}

/// On a v2 fixture tree the root's and the process's controllers are read, and a
/// writable own cgroup counts as delegated.
#[test]
fn v2_tree_controllers_and_delegation() {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
    let own = root.path().join("user.slice/user-1000.slice/user@1000.service/app.slice/app-bigbang.scope");
    write(&own.join("cgroup.controllers"), "cpu memory pids\n");
    write(&own.join("cgroup.procs"), "");
    write(&own.join("cgroup.subtree_control"), "");

    let cgroups = Cgroups::detect(UBUNTU_V2, V2_SELF, root.path());

    assert_eq!(cgroups.mode, CgroupMode::V2);
    assert!(cgroups.v1.is_empty());
    let v2 = cgroups.v2.as_ref().unwrap();
    assert_eq!(v2.mount_point, "/sys/fs/cgroup");
    assert_eq!(v2.root_controllers, ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"]);
    assert_eq!(
        v2.own_cgroup.as_deref(),
        Some("/user.slice/user-1000.slice/user@1000.service/app.slice/app-bigbang.scope")
    );
    assert_eq!(v2.own_controllers, ["cpu", "memory", "pids"]);
    assert!(v2.delegated);
    assert_eq!(cgroups.controllers_for_user(), ["cpu", "memory", "pids"]);
    assert!(Cgroups::lacking(&cgroups.controllers_for_root(), &["cpu", "memory", "pids"]).is_empty());
    assert_eq!(
        cgroups.describe(),
        "v2 (v2 at /sys/fs/cgroup has controllers: cpuset, cpu, io, memory, hugetlb, pids, rdma, misc)"
    );
}

/// A v2 process whose own cgroup directory is not there to manage is not delegated and
/// gets no controllers as a user.
#[test]
fn v2_without_own_cgroup_is_not_delegated() {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");

    let cgroups = Cgroups::detect(FEDORA_V2, V2_SELF, root.path());

    let v2 = cgroups.v2.as_ref().unwrap();
    assert!(!v2.delegated);
    assert!(v2.own_controllers.is_empty());
    assert!(cgroups.controllers_for_user().is_empty());
}

/// On a v1 fixture, co-mounted controllers stay together and each hierarchy knows the
/// process's cgroup in it, whatever order /proc/self/cgroup lists them in.
#[test]
fn v1_hierarchies() {
    let root = tempfile::tempdir().unwrap();
    for dir in ["systemd", "cpu,cpuacct", "memory", "pids", "net_cls,net_prio"] {
        fs::create_dir_all(root.path().join(dir)).unwrap();
    }

    let cgroups = Cgroups::detect(CENTOS_V1, CENTOS_SELF, root.path());

    assert_eq!(cgroups.mode, CgroupMode::V1);
    assert!(cgroups.v2.is_none());
    assert_eq!(cgroups.v1_controllers(), ["cpu", "cpuacct", "memory", "net_cls", "net_prio", "pids"]);
    let cpu = cgroups.v1.iter().find(|h| h.mount_point == "/sys/fs/cgroup/cpu,cpuacct").unwrap();
    assert_eq!(cpu.controllers, ["cpu", "cpuacct"]);
    assert_eq!(cpu.own_cgroup.as_deref(), Some("/user.slice"));
    let systemd = cgroups.v1.iter().find(|h| h.name.as_deref() == Some("systemd")).unwrap();
    assert!(systemd.controllers.is_empty());
    assert_eq!(systemd.own_cgroup.as_deref(), Some("/user.slice/user-1000.slice/session-1.scope"));
    assert_eq!(cgroups.describe(), "v1 (v1 controllers: cpu, cpuacct, memory, net_cls, net_prio, pids)");
}

/// This machine's layout: v1 controllers and an empty v2 tree at /sys/fs/cgroup/unified.
#[test]
fn hybrid_as_on_this_machine() {
    let root = tempfile::tempdir().unwrap();
    for dir in ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"] {
        fs::create_dir_all(root.path().join(dir)).unwrap();
    }
    write(&root.path().join("unified/cgroup.controllers"), "");

    let cgroups = Cgroups::detect(HYBRID, HYBRID_SELF, root.path());

    assert_eq!(cgroups.mode, CgroupMode::Hybrid);
    assert_eq!(
        cgroups.describe(),
        "hybrid (v1 controllers: blkio, cpu, cpuacct, cpuset, devices, freezer, memory, pids; \
         v2 at /sys/fs/cgroup/unified has no controllers)"
    );
    let memory = cgroups.v1.iter().find(|h| h.mount_point == "/sys/fs/cgroup/memory").unwrap();
    assert_eq!(memory.own_cgroup.as_deref(), Some("/process_api/edeb8cd2fc53fff25b47a3650e531802"));
    assert!(Cgroups::lacking(&cgroups.controllers_for_root(), &["cpu", "memory", "pids"]).is_empty());
    assert_eq!(cgroups.v2.as_ref().unwrap().own_cgroup.as_deref(), Some("/"));
}

/// The live machine reads without error, and its mode agrees with the mountinfo alone.
#[test]
fn live_cgroups_agree_with_mountinfo() {
    let cgroups = Cgroups::here().unwrap();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert_eq!(cgroups.mode, cgroup_mode(&mountinfo));
}

/// mountinfo's octal escapes are decoded and optional fields skipped.
#[test]
fn mountinfo_escapes_and_optional_fields() {
    let mounts = parse_mountinfo(
        "99 30 0:50 /a\\040dir /mnt/with\\040space rw,relatime shared:5 master:1 - ext4 /dev/sda1 rw,errors=remount-ro\n",
    );
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].root, "/a dir");
    assert_eq!(mounts[0].mount_point, "/mnt/with space");
    assert_eq!(mounts[0].fstype, "ext4");
    assert_eq!(mounts[0].source, "/dev/sda1");
    assert_eq!(mounts[0].super_options, ["rw", "errors=remount-ro"]);
}

// --- ELF -------------------------------------------------------------------------------------

/// A 64-bit little-endian ELF with the given program header types; a PT_INTERP header
/// points at `interp` stored after the headers.
fn elf64(types: &[u32], interp: &str) -> Vec<u8> {
    let phoff = 64u64;
    let phentsize = 56u16;
    let data_at = phoff as usize + types.len() * phentsize as usize;
    let mut bytes = vec![0u8; data_at];
    bytes[..4].copy_from_slice(b"\x7fELF");
    bytes[4] = 2; // ELFCLASS64
    bytes[5] = 1; // ELFDATA2LSB
    bytes[6] = 1; // EV_CURRENT
    bytes[0x10..0x12].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    bytes[0x12..0x14].copy_from_slice(&0x3Eu16.to_le_bytes()); // x86-64
    bytes[0x20..0x28].copy_from_slice(&phoff.to_le_bytes());
    bytes[0x34..0x36].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    bytes[0x36..0x38].copy_from_slice(&phentsize.to_le_bytes());
    bytes[0x38..0x3A].copy_from_slice(&(types.len() as u16).to_le_bytes());
    for (i, ty) in types.iter().enumerate() {
        let at = phoff as usize + i * phentsize as usize;
        bytes[at..at + 4].copy_from_slice(&ty.to_le_bytes());
        if *ty == 3 {
            bytes[at + 8..at + 16].copy_from_slice(&(data_at as u64).to_le_bytes());
            bytes[at + 32..at + 40].copy_from_slice(&(interp.len() as u64 + 1).to_le_bytes());
        }
    }
    bytes.extend_from_slice(interp.as_bytes());
    bytes.push(0);
    bytes
}

/// No PT_INTERP (only PT_LOAD, PT_NOTE) means static.
#[test]
fn elf_without_interp_is_static() {
    assert_eq!(elf_linkage(&elf64(&[1, 4, 1], "")).unwrap(), Linkage::Static);
    assert_eq!(elf_linkage(&elf64(&[], "")).unwrap(), Linkage::Static);
}

/// A PT_INTERP header means dynamic, and its loader path is read.
#[test]
fn elf_with_interp_is_dynamic() {
    let bytes = elf64(&[6, 3, 1, 2], "/lib64/ld-linux-x86-64.so.2");
    assert_eq!(
        elf_linkage(&bytes).unwrap(),
        Linkage::Dynamic { interpreter: "/lib64/ld-linux-x86-64.so.2".into() }
    );
}

/// A 32-bit big-endian ELF (e.g. mips) is read with its own field offsets.
#[test]
fn elf32_big_endian() {
    let mut bytes = vec![0u8; 52 + 2 * 32];
    bytes[..4].copy_from_slice(b"\x7fELF");
    bytes[4] = 1; // ELFCLASS32
    bytes[5] = 2; // ELFDATA2MSB
    bytes[0x1C..0x20].copy_from_slice(&52u32.to_be_bytes());
    bytes[0x2A..0x2C].copy_from_slice(&32u16.to_be_bytes());
    bytes[0x2C..0x2E].copy_from_slice(&2u16.to_be_bytes());
    bytes[52..56].copy_from_slice(&1u32.to_be_bytes());
    assert_eq!(elf_linkage(&bytes).unwrap(), Linkage::Static);
    bytes[84..88].copy_from_slice(&3u32.to_be_bytes());
    assert!(matches!(elf_linkage(&bytes).unwrap(), Linkage::Dynamic { .. }));
}

/// A shell script or a truncated file is not an ELF executable.
#[test]
fn not_elf() {
    assert!(matches!(elf_linkage(b"#!/bin/sh\necho hi\n"), Err(ProbeError::BadElf { .. })));
    let mut truncated = elf64(&[1, 3], "/lib/ld.so");
    truncated.truncate(80);
    assert!(matches!(elf_linkage(&truncated), Err(ProbeError::BadElf { .. })));
}

/// A file on disk is read by path, and a bad one names the path in the error.
#[test]
fn elf_linkage_of_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("static");
    fs::write(&good, elf64(&[1], "")).unwrap();
    assert_eq!(probe::elf_linkage_of(&good).unwrap(), Linkage::Static);
    let bad = dir.path().join("script");
    fs::write(&bad, "#!/bin/sh\n").unwrap();
    assert!(matches!(probe::elf_linkage_of(&bad), Err(ProbeError::BadElfFile { path, .. }) if path == bad));
}

// --- userns sysctls --------------------------------------------------------------------------

fn sysctls(files: &[(&str, &str)]) -> UsernsSysctls {
    let dir = tempfile::tempdir().unwrap();
    for (rel, value) in files {
        write(&dir.path().join(rel), value);
    }
    UsernsSysctls::read(dir.path())
}

/// A kernel with none of the switches (Fedora, Arch) allows unprivileged user namespaces.
#[test]
fn userns_no_switches_allowed() {
    let s = sysctls(&[]);
    assert_eq!(s, UsernsSysctls::default());
    assert_eq!(s.policy(), UsernsPolicy::Allowed);
    assert_eq!(sysctls(&[("user/max_user_namespaces", "63432\n")]).policy(), UsernsPolicy::Allowed);
}

/// Debian's unprivileged_userns_clone=0 and max_user_namespaces=0 switch them off.
#[test]
fn userns_switched_off() {
    let debian =
        sysctls(&[("kernel/unprivileged_userns_clone", "0\n"), ("user/max_user_namespaces", "63432\n")]);
    assert_eq!(debian.unprivileged_userns_clone, Some(0));
    assert_eq!(debian.policy(), UsernsPolicy::DisabledByUnprivilegedUsernsClone);
    let zero = sysctls(&[("kernel/unprivileged_userns_clone", "1\n"), ("user/max_user_namespaces", "0\n")]);
    assert_eq!(zero.policy(), UsernsPolicy::MaxUserNamespacesZero);
}

/// Ubuntu 24.04's AppArmor restriction makes them powerless, and the fix says so.
#[test]
fn userns_apparmor_restricted() {
    let ubuntu = sysctls(&[
        ("kernel/unprivileged_userns_clone", "1\n"),
        ("user/max_user_namespaces", "126277\n"),
        ("kernel/apparmor_restrict_unprivileged_userns", "1\n"),
    ]);
    assert_eq!(ubuntu.policy(), UsernsPolicy::AppArmorRestricted);
    assert_eq!(
        ubuntu.policy().fix(),
        "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0, or run the chapters with sudo"
    );
    let lifted = sysctls(&[("kernel/apparmor_restrict_unprivileged_userns", "0\n")]);
    assert_eq!(lifted.policy(), UsernsPolicy::Allowed);
}

// --- small parsers ---------------------------------------------------------------------------

/// Kernel releases of several distributions parse to major.minor.
#[test]
fn kernel_release() {
    let k = Kernel::parse("6.18.44-fc-v595\n");
    assert_eq!((k.release.as_str(), k.major, k.minor), ("6.18.44-fc-v595", 6, 18));
    let k = Kernel::parse("5.15.0-91-generic");
    assert_eq!((k.major, k.minor), (5, 15));
    assert!(k.at_least(5, 11) && !k.at_least(6, 1));
    assert_eq!(Kernel::parse("6.8.0-1-rpi").minor, 8);
}

/// /proc/filesystems lines and overlay modules under a fixture /lib/modules are found.
#[test]
fn overlay_availability() {
    assert!(probe::filesystem_listed("nodev\tsysfs\n\text4\nnodev\toverlay\n", "overlay"));
    assert!(!probe::filesystem_listed("nodev\tsysfs\n\text4\n", "overlay"));
    let modules = tempfile::tempdir().unwrap();
    assert_eq!(probe::overlay_module(modules.path(), "6.8.0-31-generic"), None);
    let ko = modules.path().join("6.8.0-31-generic/kernel/fs/overlayfs/overlay.ko.zst");
    write(&ko, "");
    assert_eq!(probe::overlay_module(modules.path(), "6.8.0-31-generic"), Some(ko));
    let builtin = modules.path().join("6.1.0-rpi/modules.builtin");
    write(&builtin, "kernel/fs/ext4/ext4.ko\nkernel/fs/overlayfs/overlay.ko\n");
    assert_eq!(probe::overlay_module(modules.path(), "6.1.0-rpi"), Some(builtin));
}

/// Programs are found in PATH order, then in the fallback dirs; non-executables are skipped.
#[test]
fn find_program_on_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write(&a.join("busybox"), "not executable");
    write(&b.join("busybox"), "#!/bin/sh\n");
    fs::set_permissions(b.join("busybox"), fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths([&a, &b]).unwrap();
    assert_eq!(probe::find_program("busybox", Some(&path), &[]), Some(b.join("busybox")));
    assert_eq!(probe::find_program("busybox", None, &[&b]), Some(b.join("busybox")));
    assert_eq!(probe::find_program("podman", Some(&path), &[]), None);
}

// --- live probes -----------------------------------------------------------------------------

/// Each namespace type the kernel lists can be unshared (as root directly, otherwise
/// inside a user namespace), probed from a multi-threaded test process.
#[test]
fn live_namespaces() {
    for ns in Namespace::ALL {
        if !ns.in_proc(Path::new("/proc/self/ns")) {
            continue;
        }
        let attempt =
            if probe::is_root() { probe::try_unshare(ns) } else { probe::try_unshare_in_userns(ns) };
        assert_eq!(attempt.unwrap(), Attempt::Worked, "{}", ns.name());
    }
}

/// Probes from several threads at once each fork their own child and get their own answer.
#[test]
fn live_probes_from_threads() {
    let threads: Vec<_> =
        (0..4).map(|_| std::thread::spawn(|| probe::try_unshare(Namespace::Uts).unwrap())).collect();
    let results: Vec<Attempt> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results.windows(2).all(|w| w[0] == w[1]));
}

/// The overlay and pivot_root probes run and leave no mount behind in this namespace.
#[test]
fn live_mount_probes_leave_nothing() {
    let overlay = probe::try_overlay_mount().unwrap();
    let pivot = probe::try_pivot_root().unwrap();
    if probe::is_root() {
        assert_eq!(overlay, Attempt::Worked);
        assert_eq!(pivot, Attempt::Worked);
    }
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mountinfo.contains("bigbang-probe"), "{mountinfo}");
}

/// The unprivileged userns probe runs; as root it drops to uid 65534 to test.
#[test]
fn live_userns() {
    let verdict = probe::userns_unprivileged().unwrap();
    if UsernsSysctls::here().policy() == UsernsPolicy::Allowed && probe::is_root() {
        assert_eq!(verdict, UsernsVerdict::Works);
        assert!(probe::userns_works());
    }
}

/// busybox, when present, is found with its linkage and version.
#[test]
fn live_busybox() {
    if let Some(busybox) = probe::busybox().unwrap() {
        assert!(busybox.version.unwrap_or_default().contains("BusyBox"));
    }
}
