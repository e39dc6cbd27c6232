//! Chapter 3's checks: containers started by the chapter binary with your `rootfs` code,
//! judged by what the kernel reports in /proc/<pid>/mountinfo and through /proc/<pid>/root.
//!
//! Each test says what it proves. When one fails on a `todo!()`, the container's stderr
//! in its message holds the hint of the hole to fill next.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use bigbang_testkit::mounts;
use bigbang_testkit::probe::is_root;
use bigbang_testkit::wait::Lines;
use chapter_3::rootfs::{
    parse_options, resolve_in_root, Mount, Overlay, RootfsConfig, RootfsError, MASKED_PATHS,
};
use common::{mount_at, open_tempdir, rootfs, Container};
use nix::mount::MsFlags;

/// The mount points a default container has, and nothing else: the host's tree is gone.
#[test]
fn the_old_root_is_gone() {
    let rootfs = rootfs();
    let container = Container::run(&[], rootfs.path(), "");
    let mounts = container.mounts();
    let root = &mounts[0];
    assert_eq!(root.mount_point, Path::new("/"), "the first mount is the container's root: {mounts:#?}");
    assert_eq!(root.root, fs::canonicalize(rootfs.path()).unwrap(), "/ is the rootfs bound onto itself");
    let mut expected: Vec<PathBuf> = ["/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"]
        .iter()
        .chain(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"].iter())
        .chain(MASKED_PATHS.iter())
        .map(PathBuf::from)
        .collect();
    // In a user namespace the devices are the host's, bound in one by one.
    expected.extend(
        ["null", "zero", "full", "random", "urandom", "tty"].iter().map(|d| Path::new("/dev").join(d)),
    );
    for mount in &mounts {
        assert!(
            expected.contains(&mount.mount_point),
            "unexpected mount {} ({} from {}): the old root or a host mount is still there",
            mount.mount_point.display(),
            mount.fstype,
            mount.root.display()
        );
    }
    let root_link = fs::read_link(format!("/proc/{}/root", container.pid)).unwrap();
    assert_eq!(root_link, PathBuf::from("/"), "the command's root is its mount namespace's root");
}

/// /proc, /dev, /sys and friends carry the filesystem types and flags `runc spec` asks for.
#[test]
fn every_mount_has_the_expected_flags() {
    let rootfs = rootfs();
    let container = Container::run(&[], rootfs.path(), "");
    let mounts = container.mounts();
    let proc = mount_at(&mounts, "/proc");
    assert_eq!(proc.fstype, "proc");
    for flag in ["rw", "nosuid", "nodev", "noexec"] {
        assert!(proc.has_option(flag), "/proc lacks {flag}: {proc:?}");
    }
    let dev = mount_at(&mounts, "/dev");
    assert_eq!((dev.fstype.as_str(), dev.has_option("nosuid")), ("tmpfs", true), "/dev: {dev:?}");
    let pts = mount_at(&mounts, "/dev/pts");
    assert_eq!(pts.fstype, "devpts");
    assert!(pts.super_options.iter().any(|o| o == "ptmxmode=666"), "devpts: {pts:?}");
    let shm = mount_at(&mounts, "/dev/shm");
    assert!(
        shm.has_option("nodev") && shm.has_option("noexec") && shm.has_option("nosuid"),
        "/dev/shm: {shm:?}"
    );
    let sys = mount_at(&mounts, "/sys");
    assert_eq!(sys.fstype, "sysfs");
    assert!(sys.has_option("ro") && sys.has_option("nosuid"), "/sys must be read-only: {sys:?}");
    // The read-only paths: the bind was remounted read-only and kept proc's own flags.
    for path in ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq"] {
        if !Path::new(path).exists() {
            continue; // e.g. a kernel without CONFIG_MAGIC_SYSRQ
        }
        let m = mount_at(&mounts, path);
        for flag in ["ro", "nosuid", "nodev", "noexec"] {
            assert!(
                m.has_option(flag),
                "{path} lacks {flag} (the remount must keep the flags it had): {m:?}"
            );
        }
    }
    let write = fs::write(container.inside("/proc/sys/kernel/hostname"), "changed");
    assert!(write.is_err(), "/proc/sys/kernel/hostname was writable");
}

/// Nothing propagates: no mount is shared or a slave, and a mount made inside stays inside,
/// even when the rootfs sits on a shared mount (as `/` is on systemd machines) and holds one.
#[test]
fn a_mount_made_inside_stays_inside() {
    let rootfs = rootfs();
    let work = open_tempdir();
    let marker = format!("bigbang-inside-{}", std::process::id());
    let setup = format!(
        "{}mkdir -p /mnt/inside && mount -t tmpfs {marker} /mnt/inside",
        bigbang_testkit::rootfs::IN_TEST_ROOTFS
    );
    // The "host" is a mount namespace of its own made by unshare(1), never the real one:
    // in it a shared tmpfs holds a copy of the rootfs, as a systemd host's shared / would.
    let host = HostNamespace::start(work.path(), rootfs.path(), "", &setup);
    let container = host.container();
    let mounts = container.mounts();
    let inside = mount_at(&mounts, "/mnt/inside");
    assert_eq!(inside.source, marker, "the mount made inside");
    // A shared mount below the rootfs, not only above it, comes along with the rootfs's
    // bind: only a recursive change (MS_REC) of the propagation makes it private too.
    assert_eq!(
        mount_at(&mounts, "/mnt/host-shared").source,
        "bigbang-sub",
        "the host's mount below the rootfs"
    );
    for mount in &mounts {
        assert!(
            mount.shared().is_none() && mount.master().is_none(),
            "{} still propagates ({:?}); make the tree private",
            mount.mount_point.display(),
            mount.optional
        );
    }
    let host_mounts = mounts::of(host.pid());
    let shared = host_mounts.iter().find(|m| m.mount_point == work.path().join("shared"));
    assert!(
        shared.is_some_and(|m| m.shared().is_some()),
        "the test's host namespace has no shared mount: {host_mounts:#?}"
    );
    assert!(
        host_mounts.iter().all(|m| m.source != marker),
        "the container's mount appeared in the host's mountinfo: {:?}",
        host_mounts.iter().find(|m| m.source == marker)
    );
}

/// A read-only bind keeps the flags its source had and asked for again: binding a
/// `nosuid,nodev` mount with `ro,nosuid,nodev` leaves all three set (a remount that
/// toggled the flags it was given, rather than adding them, would clear two).
#[test]
fn a_read_only_bind_keeps_the_source_s_flags() {
    let rootfs = rootfs();
    let work = open_tempdir();
    let prepare = "mkdir $shared/src && mount -t tmpfs -o nosuid,nodev,noexec bigbang-src $shared/src; \
                   args=\"--bind $shared/src:/data:ro\";";
    let host = HostNamespace::start(work.path(), rootfs.path(), prepare, "true");
    let mounts = host.container().mounts();
    let data = mount_at(&mounts, "/data");
    for flag in ["ro", "nosuid", "nodev", "noexec"] {
        assert!(data.has_option(flag), "/data lacks {flag}: {data:?}");
    }
}

/// A stand-in for the host: a shell in a mount namespace made by unshare(1) (and a user
/// namespace when not root), with a shared tmpfs holding a copy of the rootfs, from which
/// the chapter binary starts the container. Killed with its process group when dropped.
struct HostNamespace {
    shell: std::process::Child,
    container: Option<Container>,
}

impl HostNamespace {
    /// `prepare` runs in the host namespace first (`$shared` is the shared tmpfs) and may
    /// set `args`, more options for the chapter binary; `setup` runs inside the container.
    fn start(work: &Path, rootfs: &Path, prepare: &str, setup: &str) -> HostNamespace {
        use std::os::unix::process::CommandExt;
        let bin = common::binary_for_nobody(work);
        let shared = work.join("shared");
        let pid_file = work.join("pid");
        fs::create_dir(&shared).unwrap();
        let script = format!(
            "set -e; mount -t tmpfs bigbang-shared {shared}; mount --make-shared {shared}; \
             cp -a {rootfs} {shared}/rootfs; \
             mkdir -p {shared}/rootfs/mnt/host-shared; \
             mount -t tmpfs bigbang-sub {shared}/rootfs/mnt/host-shared; \
             mount --make-shared {shared}/rootfs/mnt/host-shared; \
             shared={shared}; args=; {prepare} \
             {bin} run --pid-file {pid} $args {shared}/rootfs -- sh -c '{setup}; echo ready; exec sleep 600' & wait",
            shared = shared.display(),
            rootfs = rootfs.display(),
            bin = bin.display(),
            pid = pid_file.display(),
        );
        let mut unshare = std::process::Command::new("unshare");
        if !is_root() {
            unshare.args(["--user", "--map-root-user"]);
        }
        let mut shell = unshare
            // unshare(1) makes every mount in the new namespace private first (its default
            // --propagation private), so the shared tmpfs below has no peer on the real host.
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .process_group(0)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run unshare(1) from util-linux");
        let line = Lines::new(shell.stdout.take().unwrap()).next_line().unwrap_or_default();
        if line != "ready" {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(shell.id() as i32),
                nix::sys::signal::SIGKILL,
            );
            let out = shell.wait_with_output().unwrap();
            panic!(
                "the container did not start in the test's host namespace: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let pid = fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        HostNamespace { shell, container: Some(Container::adopt(pid)) }
    }

    fn pid(&self) -> u32 {
        self.shell.id()
    }

    fn container(&self) -> &Container {
        self.container.as_ref().unwrap()
    }
}

impl Drop for HostNamespace {
    fn drop(&mut self) {
        self.container.take();
        // The shell and the chapter binary; the container dies with the binary.
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.shell.id() as i32),
            nix::sys::signal::SIGKILL,
        );
        let _ = self.shell.wait();
    }
}

/// /dev holds the six devices with the right numbers, and the links to ptmx, fd and std*.
#[test]
fn dev_is_minimal_and_complete() {
    let rootfs = rootfs();
    let container = Container::run(&[], rootfs.path(), "");
    for (name, major, minor) in
        [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)]
    {
        let meta = fs::metadata(container.inside(&format!("/dev/{name}"))).unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/{name} is not a character device");
        let rdev = meta.rdev();
        assert_eq!((nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev)), (major, minor), "/dev/{name}");
        assert_eq!(meta.permissions().mode() & 0o666, 0o666, "/dev/{name} must be usable by everyone");
    }
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        let target = fs::read_link(container.inside(&format!("/dev/{link}"))).unwrap();
        assert_eq!(target, PathBuf::from(to), "/dev/{link}");
    }
    let mounts = container.mounts();
    // Root makes them with mknod; a user namespace binds the host's (mknod is refused there).
    let bound = mounts.iter().any(|m| m.mount_point == Path::new("/dev/null"));
    assert_eq!(bound, !is_root(), "/dev/null: mknod as root, a bind of the host's in a user namespace");
}

/// A masked file reads as empty, a masked directory is an empty read-only tmpfs.
#[test]
fn masked_paths_read_as_empty() {
    let rootfs = rootfs();
    let container = Container::run(&[], rootfs.path(), "");
    let mounts = container.mounts();
    for file in ["/proc/keys", "/proc/timer_list"] {
        if !Path::new(file).exists() {
            continue;
        }
        let contents = fs::read(container.inside(file)).unwrap();
        assert!(contents.is_empty(), "{file} is not masked: {} bytes", contents.len());
        assert!(mounts.iter().any(|m| m.mount_point == Path::new(file)), "no mount masks {file}");
    }
    for dir in ["/proc/acpi", "/sys/firmware"] {
        if !Path::new(dir).exists() {
            continue;
        }
        let m = mount_at(&mounts, dir);
        assert_eq!((m.fstype.as_str(), m.has_option("ro")), ("tmpfs", true), "{dir}: {m:?}");
        assert_eq!(fs::read_dir(container.inside(dir)).unwrap().count(), 0, "{dir} is not empty");
    }
}

/// --readonly makes / read-only; a read-only bind is ro and keeps nosuid,nodev.
#[test]
fn read_only_root_and_binds() {
    let rootfs = rootfs();
    let shared = open_tempdir();
    fs::write(shared.path().join("from-host"), "hello").unwrap();
    let bind = format!("{}:/data:ro", shared.path().display());
    let container = Container::run(&["--readonly", "--bind", &bind], rootfs.path(), "");
    let mounts = container.mounts();
    let root = mount_at(&mounts, "/");
    assert!(root.has_option("ro"), "/ is not read-only: {root:?}");
    let data = mount_at(&mounts, "/data");
    for flag in ["ro", "nosuid", "nodev"] {
        assert!(data.has_option(flag), "/data lacks {flag}: {data:?}");
    }
    assert_eq!(fs::read_to_string(container.inside("/data/from-host")).unwrap(), "hello");
    let err = fs::write(container.inside("/data/new"), "x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(nix::libc::EROFS), "writing into the read-only bind");
    let err = fs::write(container.inside("/new-file"), "x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(nix::libc::EROFS), "writing into the read-only root");
}

/// With an overlay root, writes land in upper and the lower layer is left unchanged.
#[test]
fn overlay_writes_land_in_upper() {
    let lower = rootfs();
    let dirs = open_tempdir();
    let (upper, work, mnt) = (dirs.path().join("upper"), dirs.path().join("work"), dirs.path().join("mnt"));
    for dir in [&upper, &work, &mnt] {
        fs::create_dir(dir).unwrap();
        fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).unwrap();
    }
    // Dropped after the container, before the temp dir: see WorkDirCleanup.
    let _cleanup = WorkDirCleanup(work.clone());
    let hostname_before = fs::read(lower.path().join("etc/hostname")).unwrap();
    let lower_arg = lower.path().display().to_string();
    let (upper_arg, work_arg) = (upper.display().to_string(), work.display().to_string());
    // The payload deletes /etc/passwd: only if it is the test rootfs's (IN_TEST_ROOTFS).
    let script = format!(
        "{}echo written-inside > /new-file && echo changed > /etc/hostname && rm /etc/passwd",
        bigbang_testkit::rootfs::IN_TEST_ROOTFS
    );
    let container =
        Container::run(&["--overlay", &lower_arg, "--upper", &upper_arg, "--work", &work_arg], &mnt, &script);
    let mounts = container.mounts();
    let root = mount_at(&mounts, "/");
    assert_eq!(root.fstype, "overlay", "/ is not an overlay: {root:?}");
    assert!(root.super_options.iter().any(|o| o.starts_with("lowerdir=")), "{root:?}");
    assert_eq!(fs::read_to_string(upper.join("new-file")).unwrap(), "written-inside\n");
    assert_eq!(fs::read_to_string(upper.join("etc/hostname")).unwrap(), "changed\n");
    assert!(!lower.path().join("new-file").exists(), "the write reached the lower layer");
    assert_eq!(fs::read(lower.path().join("etc/hostname")).unwrap(), hostname_before, "lower changed");
    assert!(lower.path().join("etc/passwd").exists(), "the delete reached the lower layer");
    // A deletion is a whiteout in upper: a character device 0:0.
    let whiteout = fs::symlink_metadata(upper.join("etc/passwd")).unwrap();
    assert!(whiteout.file_type().is_char_device() && whiteout.rdev() == 0, "no whiteout for /etc/passwd");
    assert!(!container.inside("/etc/passwd").exists(), "the container still sees /etc/passwd");
}

/// overlayfs leaves `work/work` with mode 000, which an unprivileged owner cannot remove
/// without first giving itself permission again.
struct WorkDirCleanup(PathBuf);

impl Drop for WorkDirCleanup {
    fn drop(&mut self) {
        let _ = fs::set_permissions(self.0.join("work"), fs::Permissions::from_mode(0o700));
    }
}

/// The classic escape reaches a host file after chroot, and not after pivot_root.
#[test]
fn chroot_can_be_escaped_pivot_root_cannot() {
    let rootfs = rootfs();
    let secret_dir = open_tempdir();
    fs::set_permissions(secret_dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let marker = secret_dir.path().join("host-secret");
    fs::write(&marker, "the host's secret").unwrap();
    let out = common::demo().arg("escape").arg(rootfs.path()).arg(&marker).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "escape demo failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    let line =
        |label: &str| stdout.lines().find(|l| l.starts_with(&format!("{label}:"))).unwrap_or("").to_owned();
    assert!(line("chroot").contains("escaped") && line("chroot").contains("the host's secret"), "{stdout}");
    assert!(line("pivot_root").contains("contained"), "{stdout}");
    assert!(line("move+chroot").contains("contained"), "{stdout}");
}

/// The chroot fallback (--no-pivot) also gives the command the rootfs as its /.
#[test]
fn no_pivot_falls_back_to_move_and_chroot() {
    let rootfs = rootfs();
    fs::write(rootfs.path().join("marker-in-rootfs"), "here").unwrap();
    let container = Container::run(&["--no-pivot"], rootfs.path(), "test -f /marker-in-rootfs");
    let mounts = container.mounts();
    let root = mount_at(&mounts, "/");
    assert_eq!(root.root, fs::canonicalize(rootfs.path()).unwrap());
    assert!(mounts.iter().any(|m| m.mount_point == Path::new("/proc") && m.fstype == "proc"));
}

/// A symbolic link in the rootfs cannot send a mount outside it: destinations resolve inside.
#[test]
fn mount_destinations_resolve_inside_the_rootfs() {
    let rootfs = rootfs();
    let root = fs::canonicalize(rootfs.path()).unwrap();
    std::os::unix::fs::symlink("/", root.join("to-root")).unwrap();
    std::os::unix::fs::symlink("../../../../..", root.join("etc/up")).unwrap();
    std::os::unix::fs::symlink("/tmp/bigbang-host-dir", root.join("to-host")).unwrap();
    assert_eq!(resolve_in_root(&root, Path::new("/to-root/etc")).unwrap(), root.join("etc"));
    assert_eq!(resolve_in_root(&root, Path::new("/etc/up/tmp/x")).unwrap(), root.join("tmp/x"));
    assert_eq!(
        resolve_in_root(&root, Path::new("/to-host/data")).unwrap(),
        root.join("tmp/bigbang-host-dir/data")
    );
    assert_eq!(resolve_in_root(&root, Path::new("/../../bin")).unwrap(), root.join("bin"));

    let source = open_tempdir();
    fs::write(source.path().join("file"), "bound").unwrap();
    let bind = format!("{}:/to-host/data", source.path().display());
    let container = Container::run(&["--bind", &bind], rootfs.path(), "");
    let mounts = container.mounts();
    mount_at(&mounts, "/tmp/bigbang-host-dir/data");
    assert_eq!(fs::read_to_string(container.inside("/tmp/bigbang-host-dir/data/file")).unwrap(), "bound");
    assert!(root.join("tmp/bigbang-host-dir/data").is_dir(), "the mount point was made inside the rootfs");
}

/// OCI mount options become mount(2) flags, propagation changes and filesystem data.
#[test]
fn oci_options_are_parsed() {
    let options: Vec<String> =
        ["nosuid", "noexec", "nodev", "ro", "rbind", "rprivate", "mode=755", "size=65536k"]
            .map(String::from)
            .to_vec();
    let parsed = parse_options(&options);
    let want = MsFlags::MS_NOSUID
        | MsFlags::MS_NOEXEC
        | MsFlags::MS_NODEV
        | MsFlags::MS_RDONLY
        | MsFlags::MS_BIND
        | MsFlags::MS_REC;
    assert_eq!(parsed.flags, want);
    assert_eq!(parsed.propagation, vec![MsFlags::MS_PRIVATE | MsFlags::MS_REC]);
    assert_eq!(parsed.data, "mode=755,size=65536k");
    assert_eq!(parse_options(&["ro".into(), "rw".into()]).flags, MsFlags::empty(), "the last one wins");
    let overlay = Overlay {
        lower: vec!["/l1".into(), "/l2".into()],
        upper: Some("/u".into()),
        work: Some("/w".into()),
    };
    assert_eq!(overlay.data(false), "lowerdir=/l1:/l2,upperdir=/u,workdir=/w");
    assert_eq!(overlay.data(true), "lowerdir=/l1:/l2,upperdir=/u,workdir=/w,userxattr");
}

/// Bad input is refused with an error naming it, before anything is mounted.
#[test]
fn bad_input_is_refused_and_leaves_nothing() {
    let dir = open_tempdir();
    let missing = dir.path().join("missing");
    let err = RootfsConfig::new(&missing).validate().unwrap_err();
    assert!(matches!(err, RootfsError::RootfsMissing { ref path } if path == &missing), "{err:?}");
    let file = dir.path().join("file");
    fs::write(&file, "").unwrap();
    // Never prepare_rootfs here: this process shares the host's mount namespace. The
    // binary below calls it in a process of its own.
    let err = RootfsConfig::new(&file).validate().unwrap_err();
    assert!(matches!(err, RootfsError::RootfsNotDirectory { ref path } if path == &file), "{err:?}");

    let rootfs = rootfs();
    let mut config = RootfsConfig::new(rootfs.path());
    config.mounts.push(Mount::new("/data", "bind", &missing.display().to_string(), &["rbind"]));
    let err = config.validate().unwrap_err();
    assert!(
        matches!(err, RootfsError::SourceMissing { ref source_path, .. } if source_path == &missing),
        "{err:?}"
    );
    let mut config = RootfsConfig::new(rootfs.path());
    config.mounts.push(Mount::new("data", "tmpfs", "tmpfs", &[]));
    assert!(matches!(config.validate().unwrap_err(), RootfsError::RelativeDestination { .. }));
    let mut config = RootfsConfig::new(rootfs.path());
    config.overlay = Some(Overlay { lower: vec![missing.clone()], upper: None, work: None });
    let err = config.validate().unwrap_err();
    assert!(matches!(err, RootfsError::OverlayDirMissing { ref path } if path == &missing), "{err:?}");
    config.overlay =
        Some(Overlay { lower: vec![rootfs.path().into()], upper: Some(dir.path().into()), work: None });
    assert!(matches!(config.validate().unwrap_err(), RootfsError::OverlayUpperWithoutWork));

    let out = common::demo().args(["run"]).arg(&missing).args(["--", "sh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&missing.display().to_string()) && stderr.contains("does not exist"), "{stderr}");
    // Only this test's paths are checked: other programs on the machine (podman, other
    // tests) may mount and unmount their own things meanwhile.
    let host = fs::read_to_string("/proc/self/mountinfo").unwrap();
    for path in [dir.path(), rootfs.path()] {
        let path = path.display().to_string();
        assert!(
            !host.lines().any(|line| line.contains(&path)),
            "a mount of {path} was left on the host:\n{host}"
        );
    }
}

/// Without root, all of it works in a user namespace: devices are the host's, bound in.
#[test]
fn runs_as_an_unprivileged_user() {
    if !is_root() {
        // Every other test here already ran as an unprivileged user.
        return;
    }
    let rootfs = rootfs();
    let bin_dir = open_tempdir();
    fs::set_permissions(bin_dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let bin = common::binary_for_nobody(bin_dir.path());
    let nobody = 65534;
    nix::unistd::chown(&rootfs.path().join("tmp"), Some(nobody.into()), None).unwrap();
    let container = Container::start(&bin, Some(nobody), &["--readonly"], rootfs.path(), "id -u > /dev/null");
    let status = fs::read_to_string(format!("/proc/{}/status", container.pid)).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(uid_line.split_whitespace().nth(1) == Some("65534"), "{uid_line}");
    let uid_map = fs::read_to_string(format!("/proc/{}/uid_map", container.pid)).unwrap();
    assert_eq!(uid_map.split_whitespace().collect::<Vec<_>>(), ["0", "65534", "1"]);
    let mounts = container.mounts();
    assert!(
        mounts.iter().any(|m| m.mount_point == Path::new("/dev/null")),
        "/dev/null is not the host's, bound in"
    );
    assert!(mount_at(&mounts, "/").has_option("ro"), "the read-only root in a user namespace");
    let sys = mount_at(&mounts, "/proc/sys");
    assert!(sys.has_option("ro") && sys.has_option("nosuid") && sys.has_option("noexec"), "{sys:?}");
    let pts = mount_at(&mounts, "/dev/pts");
    assert!(
        !pts.super_options.iter().any(|o| o.starts_with("gid=")),
        "devpts gid= in a user namespace: {pts:?}"
    );
}
