//! bang-oci against the OCI runtime specification (chapter 6): a suite mirroring the
//! programs of opencontainers/runtime-tools' validation/ directory, one test per
//! program, named after it. Each builds a bundle from `bang-oci spec` and a busybox
//! rootfs, runs the real binary, and checks what config.json asked for from inside
//! the container (the payload prints /proc/self/status, mountinfo, `hostname`, …) or
//! from /proc/<pid> on the host. Where runtime-tools' expectation and runc differ, the
//! test says which it follows. Read the runtime-spec's config.md, config-linux.md and
//! runtime.md. Needs root: `sudo -E env PATH="$PATH" cargo test -p bang --test validation`.

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use bigbang_container::mountinfo::{MountInfo, OptionalField};
use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::cgroups;
use bigbang_testkit::mounts::{self, mount_at};
use bigbang_testkit::names::unique;
use bigbang_testkit::payload::{probe_args, sections};
use bigbang_testkit::process::{
    alive, capability_mask, host_bounding_set, ns_link, status_field, status_line,
};
use bigbang_testkit::runtime::{
    assert_create_fails, assert_nothing_left, mounts_mentioning, require_root_for_suite, Runtime,
};
use bigbang_testkit::wait::PATIENCE;
use serde_json::{json, Value};

const SUITE: &str = "validation";

fn runtime() -> Runtime {
    Runtime::new(SUITE)
}

/// Runs `commands` as the payload of a container from `bundle` to its end; returns
/// what each printed.
fn inside(
    runtime: &Runtime,
    bundle: &Bundle,
    id: &str,
    commands: &[(&str, &str)],
) -> BTreeMap<String, String> {
    bundle.set_args(&probe_args(commands));
    sections(&runtime.run_to_end(bundle, id))
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// A hook running `script` with the host's sh, as config.md spells one.
fn hook(script: &str) -> Value {
    json!({ "path": "/bin/sh", "args": ["sh", "-c", script], "timeout": 10 })
}

/// A hook that fails: the host's /bin/false, as runtime-tools' *_fail programs use.
fn failing_hook() -> Value {
    json!({ "path": "/bin/false", "args": ["false"] })
}

/// The two ways every case runs, each a test of its own (`plain::default`,
/// `default_deny_seccomp::default`), so that a failure says which one failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// The bundle as the case makes it, from `bang-oci spec` (runc's default).
    Plain,
    /// As runtime-tools' validation programs run every case: no_new_privs off and a
    /// seccomp profile that denies what it does not list ([`default_deny_seccomp`]).
    /// Without no_new_privs the filter goes in early, and the runtime's own last
    /// steps run under it: a step that makes a system call the payload does not
    /// need fails here (close_range did, until the descriptors were closed first).
    DefaultDenySeccomp,
}

impl Variant {
    /// A bundle running `args`, with this variant's changes; the case's own edits,
    /// made after, win (linux_seccomp sets a profile of its own).
    fn bundle<S: AsRef<str>>(self, args: &[S]) -> Bundle {
        let bundle = Bundle::new(args);
        if self == Variant::DefaultDenySeccomp {
            bundle.edit(|c| {
                c["process"]["noNewPrivileges"] = Value::Bool(false);
                c["linux"]["seccomp"] = default_deny_seccomp();
            });
        }
        bundle
    }

    /// A name no other case, variant or run of the suite uses (container ids, cgroups):
    /// both variants of a case run at the same time.
    fn unique(self, name: &str) -> String {
        match self {
            Variant::Plain => unique(name),
            Variant::DefaultDenySeccomp => unique(&format!("{name}-dd")),
        }
    }

    fn filtered(self) -> bool {
        self == Variant::DefaultDenySeccomp
    }
}

/// Runs every case both ways: `variants!(a, #[ignore = "…"] b)` makes the tests
/// `plain::a`, `default_deny_seccomp::a`, … (a case left out of the list is dead
/// code, which the build refuses).
macro_rules! variants {
    ($($(#[$attr:meta])* $case:ident,)*) => {
        mod plain {
            $( $(#[$attr])* #[test] fn $case() { super::$case(super::Variant::Plain) } )*
        }
        mod default_deny_seccomp {
            $( $(#[$attr])* #[test] fn $case() { super::$case(super::Variant::DefaultDenySeccomp) } )*
        }
    };
}

variants! {
    default,
    create,
    start,
    state,
    kill,
    kill_no_effect,
    killsig,
    delete,
    delete_resources,
    delete_only_create_resources,
    linux_cgroups_path_existing,
    pidfile,
    hostname,
    mounts,
    mounts_shared_propagation,
    linux_masked_paths,
    linux_masked_rel_paths,
    linux_masked_symlinks,
    linux_readonly_paths,
    linux_readonly_rel_paths,
    linux_readonly_symlinks,
    linux_ns_nopath,
    linux_ns_itype,
    linux_ns_itype_two_on_one_rootfs,
    linux_ns_itype_on_a_shared_mount,
    linux_ns_path,
    linux_ns_path_user_and_mount,
    linux_ns_path_wrong_type_or_missing,
    mounts_tmpcopyup,
    create_preserve_fds,
    linux_devices,
    linux_devices_fifo,
    linux_cgroups_devices,
    linux_cgroups_pids_memory_cpus,
    linux_uid_mappings,
    process,
    process_user,
    process_user_umask,
    process_rlimits,
    process_rlimits_fail,
    process_capabilities,
    process_capabilities_fail,
    process_oom_score_adj,
    linux_seccomp,
    linux_sysctl,
    domainname,
    root_readonly_true,
    linux_rootfs_propagation,
    linux_rootfs_propagation_shared,
    #[ignore = "bang-oci gap: rootfsPropagation unbindable is refused by name (chapter 3 cannot set it on the root), see issue 4"]
    linux_rootfs_propagation_unbindable,
    hooks,
    hooks_stdin,
    prestart_fail,
    create_container_fail,
    start_container_fail,
    poststart_fail,
    poststop_fail,
    misc_props,
    config_updates_without_affect,
}

/// A seccomp profile of runtime-tools' shape (generate/seccomp: `SCMP_ACT_ERRNO` by
/// default, so anything unlisted fails with EPERM, and an allow list), with a list of
/// our own: what the suite's busybox payloads and the runtime's steps after an early
/// filter need. Not listed, so denied: mount, umount2, pivot_root, chroot, unshare,
/// setns, sethostname, keyctl, bpf, ptrace, module and reboot calls, close_range.
/// clone may not make namespaces; clone3, whose flags a filter cannot read, answers
/// ENOSYS, so that glibc falls back to clone (Docker's profile does the same).
fn default_deny_seccomp() -> Value {
    const ALLOWED: &[&str] = &[
        // files and descriptors
        "read",
        "write",
        "readv",
        "writev",
        "pread64",
        "pwrite64",
        "open",
        "openat",
        "close",
        "lseek",
        "stat",
        "fstat",
        "lstat",
        "newfstatat",
        "statx",
        "statfs",
        "fstatfs",
        "access",
        "faccessat",
        "faccessat2",
        "readlink",
        "readlinkat",
        "getdents64",
        "getcwd",
        "chdir",
        "fchdir",
        "mkdir",
        "mkdirat",
        "rmdir",
        "unlink",
        "unlinkat",
        "rename",
        "renameat",
        "renameat2",
        "link",
        "linkat",
        "symlink",
        "symlinkat",
        "chmod",
        "fchmod",
        "fchmodat",
        "chown",
        "fchown",
        "lchown",
        "fchownat",
        "truncate",
        "ftruncate",
        "fsync",
        "fdatasync",
        "utimensat",
        "umask",
        "dup",
        "dup2",
        "dup3",
        "fcntl",
        "ioctl",
        "pipe",
        "pipe2",
        "sendfile",
        "copy_file_range",
        "splice",
        "poll",
        "ppoll",
        "select",
        "pselect6",
        "flock",
        "mknod",
        "mknodat",
        "getxattr",
        "lgetxattr",
        "fgetxattr",
        "inotify_init1",
        "inotify_add_watch",
        "eventfd2",
        "epoll_create1",
        "epoll_ctl",
        "epoll_wait",
        "epoll_pwait",
        "signalfd4",
        "timerfd_create",
        "timerfd_settime",
        // memory
        "brk",
        "mmap",
        "munmap",
        "mprotect",
        "mremap",
        "madvise",
        // processes
        "execve",
        "execveat",
        "exit",
        "exit_group",
        "wait4",
        "waitid",
        "fork",
        "vfork",
        "getpid",
        "getppid",
        "gettid",
        "getpgrp",
        "getpgid",
        "setpgid",
        "getsid",
        "setsid",
        "kill",
        "tkill",
        "tgkill",
        "prctl",
        "arch_prctl",
        "set_tid_address",
        "set_robust_list",
        "get_robust_list",
        "rseq",
        "futex",
        "sched_yield",
        "sched_getaffinity",
        "prlimit64",
        "getrlimit",
        "setrlimit",
        "getrusage",
        "uname",
        "sysinfo",
        "getpriority",
        "setpriority",
        "getrandom",
        "capget",
        "capset",
        // identity
        "getuid",
        "geteuid",
        "getgid",
        "getegid",
        "getresuid",
        "getresgid",
        "getgroups",
        "setuid",
        "setgid",
        "setreuid",
        "setregid",
        "setresuid",
        "setresgid",
        "setgroups",
        "setfsuid",
        "setfsgid",
        // signals and time
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "rt_sigsuspend",
        "rt_sigtimedwait",
        "rt_sigpending",
        "sigaltstack",
        "pause",
        "alarm",
        "nanosleep",
        "clock_nanosleep",
        "clock_gettime",
        "clock_getres",
        "gettimeofday",
        "time",
        "times",
        "setitimer",
        "getitimer",
        // sockets (hooks talk to nothing, but the init's socket is a socket)
        "socket",
        "socketpair",
        "connect",
        "bind",
        "listen",
        "accept",
        "accept4",
        "sendto",
        "recvfrom",
        "sendmsg",
        "recvmsg",
        "shutdown",
        "getsockname",
        "getpeername",
        "getsockopt",
        "setsockopt",
    ];
    let namespaces = (nix::libc::CLONE_NEWNS
        | nix::libc::CLONE_NEWUTS
        | nix::libc::CLONE_NEWIPC
        | nix::libc::CLONE_NEWUSER
        | nix::libc::CLONE_NEWPID
        | nix::libc::CLONE_NEWNET
        | nix::libc::CLONE_NEWCGROUP) as u64;
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            { "names": ALLOWED, "action": "SCMP_ACT_ALLOW" },
            { "names": ["clone"], "action": "SCMP_ACT_ALLOW",
              "args": [{ "index": 0, "value": namespaces, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" }] },
            { "names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": nix::libc::ENOSYS },
        ]
    })
}

/// runc's default config.json, as `bang-oci spec` writes it: the default filesystems,
/// devices and symbolic links, the hostname, runc's three capabilities in every set
/// but the inheritable and ambient ones, no_new_privs, RLIMIT_NOFILE 1024, a read-only
/// root, the masked and read-only paths, and root in / (runtime-tools' `default`,
/// which runs its whole runtimetest on the default configuration).
fn default(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    let config = bundle.config();
    let masked = strings(&config["linux"]["maskedPaths"]);
    let readonly = strings(&config["linux"]["readonlyPaths"]);
    let masked_probe: Vec<String> = masked
        .iter()
        .map(|p| {
            format!(
                "if [ -d {p} ]; then echo \"{p} $(ls -A {p} | wc -l)\"; elif [ -e {p} ]; then echo \"{p} $(head -c 4096 {p} | wc -c)\"; fi"
            )
        })
        .collect();
    let readonly_probe: Vec<String> = readonly.iter().map(|p| format!("[ -e {p} ] && echo {p}")).collect();
    let seen = inside(
        &runtime,
        &bundle,
        &v.unique("default"),
        &[
            ("status", "cat /proc/self/status"),
            ("mountinfo", "cat /proc/self/mountinfo"),
            ("hostname", "hostname"),
            ("id", "id -u; id -g"),
            ("cwd", "pwd"),
            ("nofile", "ulimit -Sn; ulimit -Hn"),
            ("devices", "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T' /dev/$d; done"),
            ("links", "for l in fd ptmx stdin stdout stderr; do echo /dev/$l $(readlink /dev/$l); done"),
            ("rootfs", "touch /bigbang-probe"),
            ("masked", &masked_probe.join("; ")),
            ("readonly", &readonly_probe.join("; ")),
        ],
    );
    let mounts = mounts::parse(&seen["mountinfo"]);
    for (point, fstype) in [
        ("/proc", "proc"),
        ("/sys", "sysfs"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
    ] {
        let mount = mount_at(&mounts, point).unwrap_or_else(|| panic!("no mount at {point}: {mounts:?}"));
        assert_eq!(mount.fstype, fstype, "{point}");
    }
    assert!(mount_at(&mounts, "/").unwrap().has_option("ro"), "root.readonly");
    assert!(seen["rootfs"].contains("Read-only file system"), "{}", seen["rootfs"]);
    let devices: Vec<&str> = seen["devices"].lines().collect();
    assert_eq!(
        devices,
        [
            "/dev/null character special file 1:3",
            "/dev/zero character special file 1:5",
            "/dev/full character special file 1:7",
            "/dev/random character special file 1:8",
            "/dev/urandom character special file 1:9",
            "/dev/tty character special file 5:0",
        ]
    );
    assert_eq!(
        seen["links"].lines().collect::<Vec<_>>(),
        [
            "/dev/fd /proc/self/fd",
            "/dev/ptmx pts/ptmx",
            "/dev/stdin /proc/self/fd/0",
            "/dev/stdout /proc/self/fd/1",
            "/dev/stderr /proc/self/fd/2",
        ]
    );
    assert_eq!(seen["hostname"], "runc\n");
    assert_eq!(seen["id"], "0\n0\n");
    assert_eq!(seen["cwd"], "/\n");
    assert_eq!(seen["nofile"], "1024\n1024\n");
    let status = &seen["status"];
    let caps = &config["process"]["capabilities"];
    for (field, set) in [("CapBnd", "bounding"), ("CapEff", "effective"), ("CapPrm", "permitted")] {
        assert_eq!(status_line(status, field).unwrap(), capability_mask(&strings(&caps[set])), "{field}");
    }
    assert_eq!(status_line(status, "CapInh").unwrap(), "0000000000000000");
    // runc's default lists ambient capabilities it does not make inheritable: the
    // kernel cannot raise them (capabilities(7)), so runc and bang-oci leave them out.
    assert_eq!(status_line(status, "CapAmb").unwrap(), "0000000000000000");
    if v.filtered() {
        assert_eq!(status_line(status, "NoNewPrivs").unwrap(), "0");
        assert_eq!(status_line(status, "Seccomp").unwrap(), "2", "the variant's profile filters the payload");
    } else {
        assert_eq!(status_line(status, "NoNewPrivs").unwrap(), "1");
        assert_eq!(status_line(status, "Seccomp").unwrap(), "0", "runc's default has no seccomp profile");
    }
    for line in seen["masked"].lines() {
        assert!(line.ends_with(" 0"), "a masked path shows something: {line}");
    }
    assert!(!seen["readonly"].trim().is_empty(), "none of {readonly:?} exists");
    for path in seen["readonly"].lines() {
        let mount = mount_at(&mounts, path).unwrap_or_else(|| panic!("{path} is not a mount point"));
        assert!(mount.has_option("ro"), "{path} is not read-only: {mount:?}");
    }
}

/// `create` without an id fails; with a new id it makes a container `state` reports;
/// the same id again fails and leaves the first alone (runtime-tools' `create`).
fn create(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["ls"]);
    let err = runtime.fails(&["create", "--bundle", bundle.path().to_str().unwrap()]);
    assert!(err.stderr.contains("<ID>"), "{}", err.stderr);
    let id = v.unique("create");
    runtime.created(&bundle, &id);
    let state = runtime.state(&id);
    assert_eq!(state["id"], id.as_str());
    assert_eq!(state["status"], "created");
    let (status, err) = runtime.create(&bundle, &id, &[]);
    assert!(!status.success());
    assert!(err.contains(&id) && err.contains("already exists"), "{err}");
    assert_eq!(runtime.state(&id)["status"], "created");
}

/// `start` without an id, or of a container that does not exist, fails; the payload
/// does not run before `start`, runs once after it, and a second `start` fails
/// without running it again (runtime-tools' `start`). A configuration without
/// `process` is refused: bang-oci refuses it at `create`, before anything exists,
/// where runtime-tools expects `start` to fail.
fn start(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sh", "-c", "echo 'process called' >> /output"]);
    bundle.writable();
    let output = bundle.rootfs().join("output");
    let id = v.unique("start");
    assert!(runtime.fails(&["start"]).stderr.contains("<ID>"));
    assert!(runtime.fails(&["start", &id]).stderr.contains(&id));
    runtime.created(&bundle, &id);
    assert!(!output.exists(), "process.args ran before start");
    runtime.ok(&["start", &id]);
    runtime.wait_status(&id, "stopped");
    assert_eq!(fs::read_to_string(&output).unwrap(), "process called\n");
    let err = runtime.fails(&["start", &id]);
    assert!(err.stderr.contains("not created"), "{}", err.stderr);
    assert_eq!(fs::read_to_string(&output).unwrap(), "process called\n", "a second start ran it again");
    runtime.ok(&["delete", &id]);

    bundle.edit(|c| {
        c.as_object_mut().unwrap().remove("process");
    });
    assert_create_fails(&runtime, &bundle, &v.unique("start-noprocess"), &["process"]);
}

/// `state` without an id, or of an unknown one, fails; of a created container it
/// prints the State of runtime.md: ociVersion, id, status, pid, bundle, annotations
/// (runtime-tools' `state`).
fn state(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| c["annotations"] = json!({ "org.opencontainers.runtime-tools": "state test" }));
    let id = v.unique("state");
    assert!(runtime.fails(&["state"]).stderr.contains("<ID>"));
    assert!(runtime.fails(&["state", &id]).stderr.contains(&id));
    runtime.created(&bundle, &id);
    let state = runtime.state(&id);
    assert_eq!(state["ociVersion"], bundle.config()["ociVersion"]);
    assert_eq!(state["id"], id.as_str());
    assert_eq!(state["status"], "created");
    let pid = state["pid"].as_i64().unwrap();
    assert!(pid > 0 && alive(pid), "pid {pid}");
    assert_eq!(Path::new(state["bundle"].as_str().unwrap()), fs::canonicalize(bundle.path()).unwrap());
    assert_eq!(state["annotations"], json!({ "org.opencontainers.runtime-tools": "state test" }));
    runtime.ok(&["kill", &id, "KILL"]);
    runtime.wait_status(&id, "stopped");
}

/// `kill` without an id, or of an unknown container, fails; KILL stops a created and
/// a running container; a stopped one cannot be signalled (runtime-tools' `kill`).
fn kill(v: Variant) {
    let runtime = runtime();
    let id = v.unique("kill");
    assert!(runtime.fails(&["kill"]).stderr.contains("<ID>"));
    assert!(runtime.fails(&["kill", &id, "KILL"]).stderr.contains(&id));

    let created = v.bundle(&["true"]);
    runtime.created(&created, &id);
    runtime.ok(&["kill", &id, "KILL"]);
    runtime.wait_status(&id, "stopped");
    let err = runtime.fails(&["kill", &id, "KILL"]);
    assert!(err.stderr.contains("not running"), "{}", err.stderr);
    runtime.ok(&["delete", &id]);

    let running = v.bundle(&["sleep", "30"]);
    let id = v.unique("kill-running");
    let pid = runtime.start_running(&running, &id);
    runtime.ok(&["kill", &id, "KILL"]);
    runtime.wait_status(&id, "stopped");
    assert!(!alive(pid));
}

/// Signalling a stopped container fails and changes nothing in its state
/// (runtime-tools' `kill_no_effect`).
fn kill_no_effect(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    let id = v.unique("kill-no-effect");
    runtime.created(&bundle, &id);
    runtime.ok(&["start", &id]);
    let before = runtime.wait_status(&id, "stopped");
    runtime.fails(&["kill", &id, "KILL"]);
    assert_eq!(runtime.state(&id), before);
}

/// `kill` delivers the signal named: a payload that traps TERM, USR1 or USR2 sees it
/// (runtime-tools' `killsig`).
fn killsig(v: Variant) {
    let runtime = runtime();
    for signal in ["TERM", "USR1", "USR2"] {
        // The trap exits: a signal that lands while sh still runs `touch /ready` is
        // handled only after it, and sh would then go on to wait the 30 s out.
        let script = format!("trap 'touch /{signal}; exit 0' {signal}; touch /ready; sleep 30 & wait $!");
        let bundle = v.bundle(&["sh", "-c", &script]);
        bundle.writable();
        let id = v.unique(&format!("killsig-{signal}"));
        runtime.created(&bundle, &id);
        runtime.ok(&["start", &id]);
        let deadline = std::time::Instant::now() + PATIENCE;
        while !bundle.rootfs().join("ready").exists() {
            assert!(std::time::Instant::now() < deadline, "the payload never trapped {signal}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        runtime.ok(&["kill", &id, signal]);
        runtime.wait_status(&id, "stopped");
        assert!(bundle.rootfs().join(signal).exists(), "the payload never saw SIG{signal}");
        runtime.ok(&["delete", &id]);
    }
}

/// `delete` without an id fails; of a running container it fails and has no effect:
/// the container keeps running and `state` still answers (runtime-tools' `delete`).
/// runtime-tools also expects deleting a `created` container to fail; runc deletes it
/// (killing its init), podman relies on that, and bang-oci follows runc
/// (lifecycle.rs, delete_of_a_created_container_kills_its_init).
fn delete(v: Variant) {
    let runtime = runtime();
    assert!(runtime.fails(&["delete"]).stderr.contains("<ID>"));
    let bundle = v.bundle(&["sleep", "30"]);
    let id = v.unique("delete");
    let pid = runtime.start_running(&bundle, &id);
    let err = runtime.fails(&["delete", &id]);
    assert!(err.stderr.contains("running"), "{}", err.stderr);
    assert_eq!(runtime.state(&id)["status"], "running");
    assert!(alive(pid));
}

/// The value of `file` in the cgroup `path` (relative to the cgroup root) of the
/// v1 `controller`, or of the v2 tree.
fn cgroup_file(controller: &str, path: &str, v1: &str, v2: &str) -> String {
    let base = Path::new("/sys/fs/cgroup");
    let file = if base.join("cgroup.controllers").exists() {
        base.join(path).join(v2)
    } else {
        base.join(controller).join(path).join(v1)
    };
    fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())).trim().to_string()
}

/// A container with `linux.cgroupsPath` gets that cgroup with its limits; `delete`
/// removes it from every hierarchy (runtime-tools' `delete_resources`).
fn delete_resources(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    let name = v.unique("bigbang-delete-resources");
    bundle.edit(|c| {
        c["linux"]["cgroupsPath"] = Value::from(format!("/{name}"));
        c["linux"]["resources"]["pids"] = json!({ "limit": 1000 });
    });
    let id = v.unique("delete-resources");
    runtime.created(&bundle, &id);
    assert_eq!(cgroup_file("pids", &name, "pids.max", "pids.max"), "1000");
    let procs = cgroup_file("pids", &name, "cgroup.procs", "cgroup.procs");
    assert_eq!(procs, runtime.pid(&id).to_string());
    runtime.ok(&["start", &id]);
    runtime.wait_status(&id, "stopped");
    runtime.ok(&["delete", &id]);
    assert!(cgroups::leftovers(&name).is_empty(), "{:?}", cgroups::leftovers(&name));
}

/// A cgroup directory made by the test, removed on drop.
struct ForeignCgroup(PathBuf);

impl Drop for ForeignCgroup {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}

/// `delete` removes only what `create` made: a cgroup the container's init was moved
/// into by someone else survives it (runtime-tools' `delete_only_create_resources`).
fn delete_only_create_resources(v: Variant) {
    require_root_for_suite(SUITE);
    let base = Path::new("/sys/fs/cgroup");
    let pids = if base.join("cgroup.controllers").exists() { base.to_path_buf() } else { base.join("pids") };
    let foreign = ForeignCgroup(pids.join(v.unique("bigbang-foreign")));
    fs::create_dir(&foreign.0).unwrap();
    // Made after the cgroup, so dropped before it: the container is gone by the time
    // the cgroup is removed, even when an assertion fails.
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    let id = v.unique("delete-only-created");
    runtime.created(&bundle, &id);
    fs::write(foreign.0.join("cgroup.procs"), runtime.pid(&id).to_string()).unwrap();
    runtime.ok(&["start", &id]);
    runtime.wait_status(&id, "stopped");
    runtime.ok(&["delete", &id]);
    assert!(foreign.0.exists(), "delete removed a cgroup it did not create");
    assert!(cgroups::leftovers(&id).is_empty(), "{:?}", cgroups::leftovers(&id));
}

/// The cgroup directories of `name` in every hierarchy (v1) or the v2 tree: a guard
/// that removes whichever exist on drop (rmdir, bottom-up is not needed: no children).
struct SharedCgroup(Vec<PathBuf>);

impl SharedCgroup {
    fn of(name: &str) -> SharedCgroup {
        let base = Path::new("/sys/fs/cgroup");
        let dirs = if base.join("cgroup.controllers").exists() {
            vec![base.join(name)]
        } else {
            fs::read_dir(base)
                .unwrap()
                .flatten()
                .filter(|e| e.path().join("cgroup.procs").exists())
                .map(|e| e.path().join(name))
                .collect()
        };
        SharedCgroup(dirs)
    }
}

impl Drop for SharedCgroup {
    fn drop(&mut self) {
        for dir in &self.0 {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// A `cgroupsPath` that already exists is joined, not refused ("MUST consistently
/// attach to the same place"): on v1 it was made by the test in the pids hierarchy
/// only, and is made in the others; two containers of the same path share it, with
/// the config's limit; deleting the first leaves it to the second, and deleting the
/// last removes it, as runc 1.1.5 does with a cgroup it did not create.
fn linux_cgroups_path_existing(v: Variant) {
    require_root_for_suite(SUITE);
    let name = v.unique("bigbang-shared");
    let cgroup = SharedCgroup::of(&name);
    let base = Path::new("/sys/fs/cgroup");
    let pids = if base.join("cgroup.controllers").exists() { base.to_path_buf() } else { base.join("pids") };
    fs::create_dir(pids.join(&name)).unwrap();
    // Made after the cgroup, so dropped before it.
    let runtime = runtime();
    let bundle = v.bundle(&["sleep", "30"]);
    bundle.edit(|c| {
        c["linux"]["cgroupsPath"] = Value::from(format!("/{name}"));
        c["linux"]["resources"]["pids"] = json!({ "limit": 100 });
    });
    let (first, second) = (v.unique("cg-shared-1"), v.unique("cg-shared-2"));
    let first_pid = runtime.start_running(&bundle, &first);
    let second_pid = runtime.start_running(&bundle, &second);
    assert_eq!(cgroup_file("pids", &name, "pids.max", "pids.max"), "100");
    let mut procs: Vec<i64> = cgroup_file("pids", &name, "cgroup.procs", "cgroup.procs")
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    procs.sort_unstable();
    let mut expected = vec![first_pid, second_pid];
    expected.sort_unstable();
    assert_eq!(procs, expected, "both inits in the one cgroup");
    // Every controller hierarchy (name=systemd and a hybrid host's cgroup2 tree hold
    // no controller of the container's).
    for dir in cgroup
        .0
        .iter()
        .filter(|d| !d.parent().unwrap().ends_with("unified") && !d.parent().unwrap().ends_with("systemd"))
    {
        assert!(dir.is_dir(), "{} was not made", dir.display());
    }
    runtime.ok(&["kill", &first, "KILL"]);
    runtime.wait_status(&first, "stopped");
    runtime.ok(&["delete", &first]);
    assert!(alive(second_pid), "deleting the first killed the second");
    assert!(pids.join(&name).is_dir(), "the cgroup went while the second was in it");
    runtime.ok(&["kill", &second, "KILL"]);
    runtime.wait_status(&second, "stopped");
    runtime.ok(&["delete", &second]);
    assert!(cgroups::leftovers(&name).is_empty(), "{:?}", cgroups::leftovers(&name));
}

/// `--pid-file` holds the init's pid, as `state` reports it, in decimal without a
/// newline (runtime-tools' `pidfile`).
fn pidfile(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    let id = v.unique("pidfile");
    let pid_file = runtime.logs().join("pidfile");
    let (status, err) = runtime.create(&bundle, &id, &["--pid-file", pid_file.to_str().unwrap()]);
    assert!(status.success(), "{err}");
    assert_eq!(fs::read_to_string(&pid_file).unwrap(), runtime.pid(&id).to_string());
}

/// `hostname` is what the payload sees; an empty one is no hostname at all, so the
/// new UTS namespace keeps the host's name, as runc does (runtime-tools' `hostname`,
/// whose Go generator drops the empty field).
fn hostname(v: Variant) {
    let runtime = runtime();
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for (given, expected) in [("hostname-specific", "hostname-specific\n"), ("", host.as_str())] {
        let bundle = v.bundle(&["true"]);
        bundle.edit(|c| c["hostname"] = Value::from(given));
        let id = v.unique(&format!("hostname{}", given.len()));
        let seen = inside(&runtime, &bundle, &id, &[("hostname", "cat /proc/sys/kernel/hostname")]);
        assert_eq!(seen["hostname"], expected, "hostname {given:?}");
    }
}

/// runtime-tools' `mounts`: tmpfs and bind mounts with every propagation option.
fn runtime_tools_mounts() -> Vec<Value> {
    let defaults = ["nosuid", "strictatime", "mode=755", "size=1k"];
    let tmpfs = |dest: &str, propagation: &str| {
        let mut options: Vec<&str> = defaults.to_vec();
        options.push(propagation);
        json!({ "destination": dest, "type": "tmpfs", "source": "tmpfs", "options": options })
    };
    let bind = |dest: &str, kind: &str, propagation: &str| {
        let mut options: Vec<&str> = defaults.to_vec();
        options.extend([kind, propagation]);
        json!({ "destination": dest, "source": "/etc", "options": options })
    };
    vec![
        tmpfs("/tmp/test-shared", "shared"),
        tmpfs("/tmp/test-slave", "slave"),
        tmpfs("/tmp/test-private", "private"),
        bind("/mnt/etc-shared", "bind", "shared"),
        bind("/mnt/etc-rshared", "rbind", "rshared"),
        bind("/mnt/etc-slave", "bind", "slave"),
        bind("/mnt/etc-rslave", "rbind", "rslave"),
        bind("/mnt/etc-private", "bind", "private"),
        bind("/mnt/etc-rprivate", "rbind", "rprivate"),
        bind("/mnt/etc-unbindable", "bind", "unbindable"),
        bind("/mnt/etc-runbindable", "rbind", "runbindable"),
    ]
}

/// Runs a container with runtime-tools' mounts; returns the mounts it saw.
fn mounts_seen(v: Variant, runtime: &Runtime, name: &str) -> Vec<MountInfo> {
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| c["mounts"].as_array_mut().unwrap().extend(runtime_tools_mounts()));
    let id = v.unique(name);
    let seen = inside(runtime, &bundle, &id, &[("mountinfo", "cat /proc/self/mountinfo")]);
    assert!(
        mounts_mentioning(&bundle.paths()).is_empty(),
        "mounts leaked to the host: {:?}",
        mounts_mentioning(&bundle.paths())
    );
    mounts::parse(&seen["mountinfo"])
}

/// Every mount of runtime-tools' `mounts` is there with its type, source and flags:
/// tmpfs of 1k (a page), binds of /etc, nosuid on all, `unbindable` where asked,
/// no propagation peers where `private` was asked; none of them reaches the host.
/// (The `shared` half is `mounts_shared_propagation`.)
fn mounts(v: Variant) {
    let runtime = runtime();
    let mounts = mounts_seen(v, &runtime, "mounts");
    for entry in runtime_tools_mounts() {
        let dest = entry["destination"].as_str().unwrap();
        let options = strings(&entry["options"]);
        let mount = mount_at(&mounts, dest).unwrap_or_else(|| panic!("{dest} is not mounted: {mounts:?}"));
        assert!(mount.has_option("nosuid"), "{dest}: {mount:?}");
        if entry["type"] == "tmpfs" {
            assert_eq!(mount.fstype, "tmpfs", "{dest}");
            assert_eq!(mount.root, Path::new("/"), "{dest}");
        } else {
            assert_eq!(mount.root, Path::new("/etc"), "{dest} is not a bind of /etc: {mount:?}");
        }
        if options.iter().any(|o| o.ends_with("unbindable")) {
            assert!(mount.optional.contains(&OptionalField::Unbindable), "{dest}: {mount:?}");
        }
        if options.iter().any(|o| o.ends_with("private")) {
            assert!(mount.shared().is_none() && mount.master().is_none(), "{dest} is not private: {mount:?}");
        }
    }
}

/// The `shared` and `rshared` mounts of runtime-tools' `mounts` are shared (they
/// carry a peer group in mountinfo), as under runc.
fn mounts_shared_propagation(v: Variant) {
    let runtime = runtime();
    let mounts = mounts_seen(v, &runtime, "mounts-shared");
    for dest in ["/tmp/test-shared", "/mnt/etc-shared", "/mnt/etc-rshared"] {
        let mount = mount_at(&mounts, dest).unwrap();
        assert!(mount.shared().is_some(), "{dest}: {mount:?}");
    }
}

/// Writes the files runtime-tools' masked/read-only path programs put in the rootfs:
/// `/<kind>-dir/<kind>-subdir/tmp`, and `<kind>-file` at three depths, holding `secret`.
/// Returns the five paths to mask or make read-only.
fn paths_in_rootfs(rootfs: &Path, kind: &str, secret: &str) -> Vec<String> {
    let dir = format!("/{kind}-dir");
    let sub = format!("{dir}/{kind}-subdir");
    let file = format!("/{kind}-file");
    let sub_file = format!("{dir}/{kind}-file");
    let sub_sub_file = format!("{sub}/{kind}-file");
    let host = |p: &str| rootfs.join(p.trim_start_matches('/'));
    fs::create_dir_all(host(&sub)).unwrap();
    fs::write(host(&sub).join("tmp"), secret).unwrap();
    for f in [&file, &sub_file, &sub_sub_file] {
        fs::write(host(f), secret).unwrap();
    }
    vec![dir, file, sub, sub_file, sub_sub_file]
}

/// A directory, a file, a subdirectory and files in them, all masked: the payload
/// reads none of the secrets and sees the directories empty (runtime-tools'
/// `linux_masked_paths`, checkMaskedPaths).
fn linux_masked_paths(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    let paths = paths_in_rootfs(bundle.rootfs(), "masked", "secrets\n");
    bundle.edit(|c| c["linux"]["maskedPaths"] = json!(paths));
    let seen = inside(
        &runtime,
        &bundle,
        &v.unique("masked"),
        &[
            ("files", "cat /masked-file /masked-dir/masked-file /masked-dir/masked-subdir/masked-file"),
            ("dir", "ls -A /masked-dir"),
        ],
    );
    assert!(!seen["files"].contains("secrets"), "a masked file is readable: {}", seen["files"]);
    assert_eq!(seen["dir"], "", "a masked directory shows its contents");
    assert_eq!(
        fs::read_to_string(bundle.rootfs().join("masked-file")).unwrap(),
        "secrets\n",
        "the host's file changed"
    );
}

/// A relative masked path is an error, and nothing is left (runtime-tools'
/// `linux_masked_paths`, checkMaskedRelPaths).
fn linux_masked_rel_paths(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| c["linux"]["maskedPaths"] = json!(["masked-relpath"]));
    assert_create_fails(
        &runtime,
        &bundle,
        &v.unique("masked-rel"),
        &["linux.maskedPaths[0]", "not an absolute path"],
    );
}

/// A masked path that is a symbolic link looping onto itself is an error, and
/// nothing is left (runtime-tools' `linux_masked_paths`, checkMaskedSymlinks).
fn linux_masked_symlinks(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    std::os::unix::fs::symlink("../masked-symlink", bundle.rootfs().join("masked-symlink")).unwrap();
    bundle.edit(|c| c["linux"]["maskedPaths"] = json!(["/masked-symlink"]));
    assert_create_fails(&runtime, &bundle, &v.unique("masked-symlink"), &["/masked-symlink"]);
}

/// A directory, a file, a subdirectory and files in them, all read-only: the payload
/// reads them but cannot write, while the rest of its (writable) root stays writable
/// (runtime-tools' `linux_readonly_paths`, checkReadonlyPaths).
fn linux_readonly_paths(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.writable();
    let paths = paths_in_rootfs(bundle.rootfs(), "readonly", "immutable\n");
    bundle.edit(|c| c["linux"]["readonlyPaths"] = json!(paths));
    let write_each = "for f in /readonly-file /readonly-dir/readonly-file /readonly-dir/readonly-subdir/readonly-file /readonly-dir/new; do echo x > $f && echo \"$f written\"; done";
    let seen = inside(
        &runtime,
        &bundle,
        &v.unique("readonly"),
        &[
            ("read", "cat /readonly-file /readonly-dir/readonly-subdir/readonly-file"),
            ("write", write_each),
            ("elsewhere", "echo x > /written && echo ok"),
        ],
    );
    assert_eq!(seen["read"], "immutable\nimmutable\n");
    assert!(!seen["write"].contains("written"), "a read-only path was written: {}", seen["write"]);
    assert_eq!(seen["write"].matches("Read-only file system").count(), 4, "{}", seen["write"]);
    assert_eq!(seen["elsewhere"], "ok\n");
}

/// A relative read-only path is an error, and nothing is left (runtime-tools'
/// `linux_readonly_paths`, checkReadonlyRelPaths).
fn linux_readonly_rel_paths(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| c["linux"]["readonlyPaths"] = json!(["readonly-relpath"]));
    assert_create_fails(
        &runtime,
        &bundle,
        &v.unique("readonly-rel"),
        &["linux.readonlyPaths[0]", "not an absolute path"],
    );
}

/// A read-only path that is a symbolic link looping onto itself is an error, and
/// nothing is left (runtime-tools' `linux_readonly_paths`, checkReadonlySymlinks).
fn linux_readonly_symlinks(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    std::os::unix::fs::symlink("../readonly-symlink", bundle.rootfs().join("readonly-symlink")).unwrap();
    bundle.edit(|c| c["linux"]["readonlyPaths"] = json!(["/readonly-symlink"]));
    assert_create_fails(&runtime, &bundle, &v.unique("readonly-symlink"), &["/readonly-symlink"]);
}

/// The kinds of /proc/<pid>/ns the spec's namespace types map to.
const PROC_NAMESPACES: &[(&str, &str)] = &[
    ("cgroup", "cgroup"),
    ("ipc", "ipc"),
    ("mount", "mnt"),
    ("network", "net"),
    ("pid", "pid"),
    ("user", "user"),
    ("uts", "uts"),
];

/// Each namespace type without a path gets a new namespace: the init's
/// /proc/<pid>/ns links differ from the runtime's for all seven (runtime-tools'
/// `linux_ns_nopath`, with its id maps 0 → 1000, 1000 ids).
fn linux_ns_nopath(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sleep", "30"]);
    bundle.edit(|c| {
        c["linux"]["namespaces"] = PROC_NAMESPACES.iter().map(|(kind, _)| json!({ "type": kind })).collect();
        let map = json!([{ "containerID": 0, "hostID": 1000, "size": 1000 }]);
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map;
    });
    let pid = runtime.start_running(&bundle, &v.unique("ns-nopath")).to_string();
    for (kind, proc_name) in PROC_NAMESPACES {
        assert_ne!(ns_link("self", proc_name), ns_link(&pid, proc_name), "{kind} was not created");
    }
}

/// Namespace types left out are inherited from the runtime (runtime-tools'
/// `linux_ns_itype`): with no namespace listed at all, mount included, every link in
/// the init's /proc/<pid>/ns is the runtime's. The same when the only entry joins the
/// runtime's own mount namespace by path. Without a mount namespace of its own the
/// container is not pivot_root'ed (that would swap the root of every process on the
/// machine) but chroot'ed into a view of the rootfs in its state directory (a bind of
/// its own): its mounts are the host's, under the view, and they are gone after
/// `delete`, after a payload that ran to its end, and after a `create` that failed.
fn linux_ns_itype(v: Variant) {
    for (i, namespaces) in
        [json!([]), json!([{ "type": "mount", "path": "/proc/self/ns/mnt" }])].iter().enumerate()
    {
        let runtime = runtime();
        let bundle = v.bundle(&["sleep", "30"]);
        bundle.edit(|c| {
            c["linux"]["namespaces"] = namespaces.clone();
            c.as_object_mut().unwrap().remove("hostname");
        });
        // The container's mounts name the rootfs and the state root (its view).
        let mut paths = bundle.paths();
        paths.push(runtime.root().to_path_buf());
        let before = mounts_mentioning(&paths);
        let id = v.unique(&format!("ns-itype{i}"));
        let pid = runtime.start_running(&bundle, &id).to_string();
        for (kind, proc_name) in PROC_NAMESPACES {
            assert_eq!(
                ns_link("self", proc_name),
                ns_link(&pid, proc_name),
                "{kind} was not inherited ({namespaces})"
            );
        }
        // chroot'ed into its own view of the rootfs, in its state directory.
        let view = fs::canonicalize(runtime.root()).unwrap().join(&id).join("rootfs");
        assert_eq!(
            fs::read_link(format!("/proc/{pid}/root")).unwrap(),
            view,
            "the init's root ({namespaces})"
        );
        assert!(bundle.rootfs().join("bin/busybox").exists());
        assert!(view.join("bin/busybox").exists(), "the view is not the rootfs");
        let proc_mount = format!(" {}/proc ", view.display());
        let during = mounts_mentioning(&paths);
        assert!(
            during.iter().any(|l| l.contains(&proc_mount)),
            "no /proc of the container on the host: {during:#?}"
        );
        runtime.ok(&["delete", "--force", &id]);
        assert_eq!(mounts_mentioning(&paths), before, "mounts left on the host after delete ({namespaces})");
        assert!(!view.exists(), "the view is left");

        bundle.set_args(&["true"]);
        runtime.run_to_end(&bundle, &v.unique(&format!("ns-itype{i}-end")));
        assert_eq!(mounts_mentioning(&paths), before, "mounts left after a payload that ended");

        bundle.set_args(&["/no-such-program"]);
        let failed = v.unique(&format!("ns-itype{i}-fail"));
        let (status, err) = runtime.create(&bundle, &failed, &[]);
        assert!(!status.success(), "create of a missing program must fail");
        assert!(err.contains("/no-such-program"), "{err}");
        assert_eq!(mounts_mentioning(&paths), before, "mounts left after a failed create");
        assert_nothing_left(&runtime, &failed, &bundle);
    }
}

/// Two containers without a mount namespace on one rootfs (one bundle, two ids):
/// each builds its tree on a view of its own, so both run, and deleting the first
/// leaves the second's mounts and processes alone (its /proc is still there, and
/// `exec` still works); after the second `delete` nothing is left.
fn linux_ns_itype_two_on_one_rootfs(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sleep", "30"]);
    bundle.edit(|c| {
        c["linux"]["namespaces"] = json!([{ "type": "pid" }]);
        c.as_object_mut().unwrap().remove("hostname");
    });
    let mut paths = bundle.paths();
    paths.push(runtime.root().to_path_buf());
    let before = mounts_mentioning(&paths);
    let (first, second) = (v.unique("ns-itype-first"), v.unique("ns-itype-second"));
    runtime.start_running(&bundle, &first);
    runtime.start_running(&bundle, &second);
    let second_proc = format!(
        " {}/proc ",
        fs::canonicalize(runtime.root()).unwrap().join(&second).join("rootfs").display()
    );
    runtime.ok(&["delete", "--force", &first]);
    let left = mounts_mentioning(&paths);
    assert!(
        left.iter().any(|l| l.contains(&second_proc)),
        "the second container's /proc went with the first: {left:#?}"
    );
    let out = runtime.ok(&["exec", &second, "cat", "/proc/1/cmdline"]);
    assert!(out.starts_with("sleep"), "{out:?}");
    runtime.ok(&["delete", "--force", &second]);
    assert_eq!(mounts_mentioning(&paths), before, "mounts left after both deletes");
}

/// A container without a mount namespace whose rootfs is a shared mount (as an
/// engine's overlay is on a systemd host), seen from a peer mount namespace (made
/// by unshare(1) with the host's propagation): the container's mounts on the host do
/// not propagate there (the runtime's bind of the rootfs, made private, at most),
/// the host's propagation is unchanged, and after `delete` both mount tables are as
/// before.
fn linux_ns_itype_on_a_shared_mount(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sleep", "30"]);
    bundle.edit(|c| {
        c["linux"]["namespaces"] = json!([]);
        c.as_object_mut().unwrap().remove("hostname");
    });
    let rootfs = fs::canonicalize(bundle.rootfs()).unwrap();
    let _shared = SharedMount::new(&rootfs);
    let peer = Holder(
        Command::new("unshare")
            .args(["--mount", "--propagation", "unchanged", "sleep", "60"])
            .spawn()
            .expect("unshare(1)"),
    );
    let peer_pid = peer.0.id().to_string();
    let deadline = std::time::Instant::now() + PATIENCE;
    while ns_link(&peer_pid, "mnt") == ns_link("self", "mnt") {
        assert!(std::time::Instant::now() < deadline, "unshare never made its namespace");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut paths = bundle.paths();
    paths.push(runtime.root().to_path_buf());
    let peer_mounts = || -> Vec<String> {
        let text = fs::read_to_string(format!("/proc/{peer_pid}/mountinfo")).unwrap();
        text.lines()
            .filter(|l| paths.iter().any(|p| l.contains(p.to_str().unwrap())))
            .map(str::to_string)
            .collect()
    };
    let (host_before, peer_before) = (mounts_mentioning(&paths), peer_mounts());
    assert!(
        peer_before.iter().any(|l| l.contains("shared:")),
        "the peer has no shared copy: {peer_before:#?}"
    );
    let id = v.unique("ns-itype-shared");
    runtime.start_running(&bundle, &id);
    let host_during = mounts_mentioning(&paths);
    assert!(host_during.iter().any(|l| l.contains("/rootfs/proc ")), "{host_during:#?}");
    let reached: Vec<String> = peer_mounts().into_iter().filter(|l| !peer_before.contains(l)).collect();
    assert!(reached.is_empty(), "the container's mounts reached the peer namespace: {reached:#?}");
    runtime.ok(&["delete", "--force", &id]);
    assert_eq!(mounts_mentioning(&paths), host_before, "the host's mounts after delete");
    assert_eq!(peer_mounts(), peer_before, "the peer's mounts after delete");
}

/// A process in namespaces of its own, killed on drop.
struct Holder(Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A namespace entry with a path is joined: the container's mount, network, uts and
/// ipc namespaces are those of a process the test made with unshare(1)
/// (runtime-tools' `linux_ns_path`). The mount namespace is joined with the others,
/// before the clone, and the rootfs is set up there: nothing of it shows on the host.
fn linux_ns_path(v: Variant) {
    let runtime = runtime();
    // unshare(1) makes the namespaces in its own (child) process and execs sleep;
    // its mount namespace is a private copy of the host's (--propagation private).
    let holder = Holder(
        Command::new("unshare")
            .args(["--mount", "--net", "--uts", "--ipc", "sleep", "60"])
            .spawn()
            .expect("unshare(1)"),
    );
    let holder_pid = holder.0.id().to_string();
    let deadline = std::time::Instant::now() + PATIENCE;
    while ["mnt", "net"].iter().any(|ns| ns_link(&holder_pid, ns) == ns_link("self", ns)) {
        assert!(std::time::Instant::now() < deadline, "unshare never made its namespaces");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let bundle = v.bundle(&["sleep", "30"]);
    bundle.edit(|c| {
        let path = |ns: &str| format!("/proc/{holder_pid}/ns/{ns}");
        c["linux"]["namespaces"] = json!([
            { "type": "pid" },
            { "type": "mount", "path": path("mnt") },
            { "type": "network", "path": path("net") },
            { "type": "uts", "path": path("uts") },
            { "type": "ipc", "path": path("ipc") },
        ]);
        c.as_object_mut().unwrap().remove("hostname");
    });
    let before = mounts_mentioning(&bundle.paths());
    let pid = runtime.start_running(&bundle, &v.unique("ns-path")).to_string();
    for ns in ["mnt", "net", "uts", "ipc"] {
        assert_eq!(ns_link(&holder_pid, ns), ns_link(&pid, ns), "{ns} was not joined");
    }
    assert_ne!(ns_link("self", "mnt"), ns_link(&pid, "mnt"));
    assert_eq!(mounts_mentioning(&bundle.paths()), before, "the joined namespace's mounts reached the host");
}

/// A user namespace and a mount namespace it owns, both joined by path with a
/// network and an IPC namespace (unshare --user --map-root-user): stage 0 opens every path
/// first, joins the others, then the user namespace (join_in_order), and the init
/// sets up the rootfs in the joined mount namespace as that namespace's root.
fn linux_ns_path_user_and_mount(v: Variant) {
    let runtime = runtime();
    let holder = Holder(
        Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "--net", "--ipc", "sleep", "60"])
            .spawn()
            .expect("unshare(1)"),
    );
    let holder_pid = holder.0.id().to_string();
    let deadline = std::time::Instant::now() + PATIENCE;
    while ["user", "mnt", "net"].iter().any(|ns| ns_link(&holder_pid, ns) == ns_link("self", ns)) {
        assert!(std::time::Instant::now() < deadline, "unshare never made its namespaces");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let bundle = v.bundle(&["sleep", "30"]);
    bundle.edit(|c| {
        let path = |ns: &str| format!("/proc/{holder_pid}/ns/{ns}");
        c["linux"]["namespaces"] = json!([
            { "type": "pid" },
            { "type": "user", "path": path("user") },
            { "type": "mount", "path": path("mnt") },
            { "type": "network", "path": path("net") },
            // mqueue is mounted only by an owner of the IPC namespace.
            { "type": "ipc", "path": path("ipc") },
        ]);
        c.as_object_mut().unwrap().remove("hostname");
        // The joined user namespace maps only root: no group 5 for devpts.
        for mount in c["mounts"].as_array_mut().unwrap() {
            if let Some(options) = mount.get_mut("options").and_then(Value::as_array_mut) {
                options.retain(|o| o != "gid=5");
            }
        }
    });
    let before = mounts_mentioning(&bundle.paths());
    let pid = runtime.start_running(&bundle, &v.unique("ns-path-user")).to_string();
    for ns in ["user", "mnt", "net", "ipc"] {
        assert_eq!(ns_link(&holder_pid, ns), ns_link(&pid, ns), "{ns} was not joined");
    }
    assert_eq!(mounts_mentioning(&bundle.paths()), before, "the joined namespace's mounts reached the host");
}

/// A namespace path that is missing, or names a namespace of another type, fails
/// `create` with an error naming the path, and leaves nothing.
fn linux_ns_path_wrong_type_or_missing(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    for (kind, path, expect) in [
        ("uts", "/proc/self/ns/net", "Invalid argument"),
        ("network", "/nonexistent/netns/x", "No such file"),
        ("mount", "/proc/self/ns/net", "Invalid argument"),
    ] {
        bundle.edit(|c| {
            c.as_object_mut().unwrap().remove("hostname");
            c["linux"]["namespaces"] = json!([
                { "type": "mount" }, { "type": "pid" }, { "type": kind, "path": path },
            ]);
            if kind == "mount" {
                c["linux"]["namespaces"] = json!([{ "type": "pid" }, { "type": "mount", "path": path }]);
            }
        });
        let id = v.unique(&format!("ns-bad-{kind}"));
        let (status, err) = runtime.create(&bundle, &id, &[]);
        assert!(!status.success(), "joining {kind} at {path} must fail");
        assert!(err.contains(path) && err.contains(expect), "joining {kind} at {path}: {err}");
        assert_nothing_left(&runtime, &id, &bundle);
    }
}

/// runc's `tmpcopyup` (podman's `--read-only` puts it on /tmp, /run, /var/tmp): the
/// new tmpfs starts with a copy of what the directory held, with modes, owners and
/// symlinks, and writes to it stay in the tmpfs, not in the image.
fn mounts_tmpcopyup(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    let etc = bundle.rootfs().join("etc");
    fs::write(etc.join("seeded"), "from the image\n").unwrap();
    std::os::unix::fs::symlink("seeded", etc.join("link")).unwrap();
    fs::set_permissions(etc.join("seeded"), fs::Permissions::from_mode(0o604)).unwrap();
    std::os::unix::fs::chown(etc.join("seeded"), Some(12), Some(34)).unwrap();
    bundle.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/etc", "type": "tmpfs", "source": "tmpfs",
            "options": ["nosuid", "nodev", "mode=755", "tmpcopyup"],
        }))
    });
    let out = inside(
        &runtime,
        &bundle,
        &v.unique("tmpcopyup"),
        &[
            ("content", "cat /etc/link"),
            ("owner", "stat -c '%a %u %g' /etc/seeded"),
            ("fstype", "grep ' /etc ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1"),
            ("write", "echo new > /etc/written && cat /etc/written"),
        ],
    );
    assert_eq!(out["content"].trim(), "from the image", "{out:?}");
    assert_eq!(out["owner"].trim(), "604 12 34", "{out:?}");
    assert_eq!(out["fstype"].trim(), "tmpfs", "{out:?}");
    assert_eq!(out["write"].trim(), "new", "{out:?}");
    assert!(!etc.join("written").exists(), "a write to the tmpfs reached the image's /etc");
}

/// `create --preserve-fds 2`: descriptors 3 and 4 of the caller reach the container's
/// process under the same numbers (runc's socket activation), and nothing else does.
fn create_preserve_fds(v: Variant) {
    use std::os::unix::process::CommandExt;
    let runtime = runtime();
    let bundle = v.bundle(&["sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; echo; cat <&3; cat <&4"]);
    let (three, four) = (runtime.logs().join("three"), runtime.logs().join("four"));
    fs::write(&three, "fd three\n").unwrap();
    fs::write(&four, "fd four\n").unwrap();
    let (three, four) = (fs::File::open(&three).unwrap(), fs::File::open(&four).unwrap());
    let (a, b) = (three.as_raw_fd(), four.as_raw_fd());
    let id = v.unique("preserve-fds");
    let mut command = runtime.cmd();
    command.args(["run", "--preserve-fds", "2", "--bundle"]).arg(bundle.path()).arg(&id);
    // SAFETY: dup2 is async-signal-safe; the numbers were taken before the fork.
    unsafe {
        command.pre_exec(move || {
            // Copied out of the way first (either may already sit on 3 or 4), then
            // placed; dup2 onto another number also clears close-on-exec.
            let staged = [
                (nix::libc::fcntl(a, nix::libc::F_DUPFD_CLOEXEC, 10), 3),
                (nix::libc::fcntl(b, nix::libc::F_DUPFD_CLOEXEC, 10), 4),
            ];
            for (from, to) in staged {
                if from < 0 || nix::libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let output = command.stdin(Stdio::null()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "run --preserve-fds 2 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut lines = stdout.lines();
    // `ls` itself holds one more descriptor for the directory it reads (5).
    assert_eq!(lines.next().unwrap().trim(), "0 1 2 3 4 5", "{stdout}");
    assert_eq!(lines.collect::<Vec<_>>(), ["fd three", "fd four"], "{stdout}");
    let err =
        runtime.fails(&["run", "--preserve-fds", "40", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert!(err.stderr.contains("not open"), "{}", err.stderr);
}

/// `linux.devices`: runtime-tools' `linux_devices` as it is, with numbers no host has
/// (10:666 and 8:666): a character device, a block device and a FIFO appear in the
/// container's /dev with their type, numbers, mode and owner, made with mknod(2).
/// A character device the host has (1:3) opens, since the default rules allow it.
fn linux_devices(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        c["linux"]["devices"] = json!([
            { "path": "/dev/test1", "type": "c", "major": 10, "minor": 666, "fileMode": 0o666, "uid": 0, "gid": 0 },
            { "path": "/dev/test2", "type": "b", "major": 8, "minor": 666, "fileMode": 0o640, "uid": 7, "gid": 8 },
            { "path": "/dev/sub/test4", "type": "u", "major": 1, "minor": 3 },
        ]);
    });
    let seen = inside(
        &runtime,
        &bundle,
        &v.unique("devices"),
        &[
            ("stat", "stat -c '%n %F %t:%T %a %u %g' /dev/test1 /dev/test2 /dev/sub/test4"),
            ("open", "echo x > /dev/sub/test4 && echo written"),
        ],
    );
    assert_eq!(
        seen["stat"].lines().collect::<Vec<_>>(),
        [
            "/dev/test1 character special file a:29a 666 0 0",
            "/dev/test2 block special file 8:29a 640 7 8",
            "/dev/sub/test4 character special file 1:3 666 0 0",
        ]
    );
    assert_eq!(seen["open"], "written\n");
}

/// `linux.devices` of type `p`: a FIFO in the container's /dev, as runtime-tools'
/// `linux_devices` asks (its third device), with its mode and owner.
fn linux_devices_fifo(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        c["linux"]["devices"] =
            json!([{ "path": "/dev/test3", "type": "p", "fileMode": 0o660, "uid": 3, "gid": 4 }]);
    });
    let seen = inside(
        &runtime,
        &bundle,
        &v.unique("devices-fifo"),
        &[("stat", "stat -c '%n %F %a %u %g' /dev/test3")],
    );
    assert_eq!(seen["stat"], "/dev/test3 fifo 660 3 4\n");
}

/// The device cgroup: runc's default configuration denies every device but the
/// default ones, so the host's /dev/loop-control bound into the container cannot be
/// opened; a rule allowing its numbers lets it open (runtime-tools'
/// `linux_cgroups_devices`, checked by opening, which is what the rules are for).
fn linux_cgroups_devices(v: Variant) {
    let runtime = runtime();
    let control = Path::new("/dev/loop-control");
    assert!(
        control.exists(),
        "this test binds the host's /dev/loop-control, which is missing: modprobe loop"
    );
    let open = [("open", ": < /dev/loop-control && echo opened")];
    let bind = json!({ "destination": "/dev/loop-control", "type": "bind", "source": "/dev/loop-control", "options": ["bind"] });

    let denied = v.bundle(&["true"]);
    denied.edit(|c| c["mounts"].as_array_mut().unwrap().push(bind.clone()));
    let seen = inside(&runtime, &denied, &v.unique("cgroups-devices-deny"), &open);
    assert!(
        seen["open"].contains("Operation not permitted"),
        "the device cgroup let it open: {}",
        seen["open"]
    );

    let allowed = v.bundle(&["true"]);
    allowed.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(bind);
        c["linux"]["resources"]["devices"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "allow": true, "type": "c", "major": 10, "minor": 237, "access": "rw" }));
    });
    let seen = inside(&runtime, &allowed, &v.unique("cgroups-devices-allow"), &open);
    assert_eq!(seen["open"], "opened\n");
}

/// `linux.resources.pids`, `memory` and `cpu` reach the kernel's files of the
/// container's cgroup (runtime-tools' `linux_cgroups_pids`, `_memory`, `_cpus`).
fn linux_cgroups_pids_memory_cpus(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        let resources = &mut c["linux"]["resources"];
        resources["pids"] = json!({ "limit": 64 });
        resources["memory"] = json!({ "limit": 67108864 });
        resources["cpu"] = json!({ "shares": 512, "quota": 50000, "period": 100000 });
    });
    let id = v.unique("cgroups-limits");
    runtime.created(&bundle, &id);
    let path = format!("bang-oci/{id}");
    assert_eq!(cgroup_file("pids", &path, "pids.max", "pids.max"), "64");
    assert_eq!(cgroup_file("memory", &path, "memory.limit_in_bytes", "memory.max"), "67108864");
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        assert_eq!(cgroup_file("cpu", &path, "", "cpu.max"), "50000 100000");
    } else {
        assert_eq!(cgroup_file("cpu", &path, "cpu.shares", ""), "512");
        assert_eq!(cgroup_file("cpu", &path, "cpu.cfs_quota_us", ""), "50000");
        assert_eq!(cgroup_file("cpu", &path, "cpu.cfs_period_us", ""), "100000");
    }
}

/// User namespace id maps, as runtime-tools' `linux_uid_mappings` gives them (uid
/// 0 → 1000 for 2000 ids, gid 0 → 1000 for 3000): the kernel's uid_map and gid_map
/// of the init, and root inside.
fn linux_uid_mappings(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sleep", "30"]);
    bundle.edit(|c| {
        c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({ "type": "user" }));
        c["linux"]["uidMappings"] = json!([{ "containerID": 0, "hostID": 1000, "size": 2000 }]);
        c["linux"]["gidMappings"] = json!([{ "containerID": 0, "hostID": 1000, "size": 3000 }]);
    });
    let pid = runtime.start_running(&bundle, &v.unique("uid-mappings"));
    let map = |file: &str| -> Vec<String> {
        fs::read_to_string(format!("/proc/{pid}/{file}"))
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(map("uid_map"), ["0", "1000", "2000"]);
    assert_eq!(map("gid_map"), ["0", "1000", "3000"]);
    assert_eq!(status_field(pid, "Uid"), "1000\t1000\t1000\t1000");
    assert_eq!(status_field(pid, "Gid"), "1000\t1000\t1000\t1000");
}

/// `process.cwd`, `env` and `args` (runtime-tools' `process`: cwd /test, testa and
/// testb in the environment).
fn process(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    fs::create_dir(bundle.rootfs().join("test")).unwrap();
    bundle.edit(|c| {
        c["process"]["cwd"] = Value::from("/test");
        let env = c["process"]["env"].as_array_mut().unwrap();
        env.push(Value::from("testa=valuea"));
        env.push(Value::from("testb=123"));
    });
    let seen = inside(
        &runtime,
        &bundle,
        &v.unique("process"),
        &[
            ("cwd", "pwd"),
            ("env", "echo $testa $testb"),
            ("args", "cat /proc/1/cmdline | tr '\\0' ' ' | cut -c1-9"),
        ],
    );
    assert_eq!(seen["cwd"], "/test\n");
    assert_eq!(seen["env"], "valuea 123\n");
    assert_eq!(seen["args"], "sh -c ech\n", "PID 1 runs process.args");
}

/// `process.user`: uid 10, gid 10 and additional gid 5, as the kernel sees them
/// (runtime-tools' `process_user`; its umask is `process_user_umask`).
fn process_user(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| c["process"]["user"] = json!({ "uid": 10, "gid": 10, "additionalGids": [5] }));
    let seen = inside(&runtime, &bundle, &v.unique("process-user"), &[("status", "cat /proc/self/status")]);
    assert_eq!(status_line(&seen["status"], "Uid").unwrap(), "10\t10\t10\t10");
    assert_eq!(status_line(&seen["status"], "Gid").unwrap(), "10\t10\t10\t10");
    assert_eq!(status_line(&seen["status"], "Groups").unwrap(), "5");
}

/// `process.user.umask` 0o002 is the payload's umask (runtime-tools' `process_user`).
fn process_user_umask(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| c["process"]["user"]["umask"] = json!(2));
    let seen = inside(&runtime, &bundle, &v.unique("umask"), &[("umask", "umask")]);
    assert_eq!(seen["umask"], "0002\n");
}

/// `process.rlimits`: runtime-tools' seven limits, soft and hard, as /proc/self/limits
/// shows them (`process_rlimits`; RLIMIT_NOFILE stays under this machine's hard
/// limit of 20000, which no process here may raise).
fn process_rlimits(v: Variant) {
    let runtime = runtime();
    let giga: u64 = 1 << 30;
    let limits = [
        ("RLIMIT_AS", "Max address space", 2 * giga, giga),
        ("RLIMIT_CORE", "Max core file size", 4 * giga, 3 * giga),
        ("RLIMIT_DATA", "Max data size", 6 * giga, 5 * giga),
        ("RLIMIT_FSIZE", "Max file size", 8 * giga, 7 * giga),
        ("RLIMIT_STACK", "Max stack size", 10 * giga, 9 * giga),
        ("RLIMIT_CPU", "Max cpu time", 120, 60),
        ("RLIMIT_NOFILE", "Max open files", 4000, 3000),
    ];
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        c["process"]["rlimits"] = limits
            .iter()
            .map(|(kind, _, hard, soft)| json!({ "type": kind, "hard": hard, "soft": soft }))
            .collect();
    });
    let seen = inside(&runtime, &bundle, &v.unique("rlimits"), &[("limits", "cat /proc/self/limits")]);
    for (kind, row, hard, soft) in limits {
        let line = seen["limits"].lines().find(|l| l.starts_with(row)).unwrap_or_else(|| panic!("no {row}"));
        let numbers: Vec<&str> = line[row.len()..].split_whitespace().take(2).collect();
        assert_eq!(numbers, [soft.to_string(), hard.to_string()], "{kind}");
    }
}

/// An rlimit type the kernel does not have is an error, and nothing is left
/// (runtime-tools' `process_rlimits_fail`).
fn process_rlimits_fail(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        c["process"]["rlimits"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "type": "RLIMIT_TEST", "hard": 1024, "soft": 1024 }))
    });
    assert_create_fails(
        &runtime,
        &bundle,
        &v.unique("rlimits-fail"),
        &["process.rlimits[1].type", "RLIMIT_TEST"],
    );
}

/// Every capability this host can give, in every set (runtime-tools'
/// `process_capabilities`, which asks for a privileged container: here the host's
/// bounding set, since this VM lacks CAP_SYS_RESOURCE and nobody can grant more).
fn process_capabilities(v: Variant) {
    let runtime = runtime();
    let all = host_bounding_set();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        let caps = json!(all);
        c["process"]["capabilities"] = json!({
            "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps,
        });
    });
    let seen = inside(&runtime, &bundle, &v.unique("capabilities"), &[("status", "cat /proc/self/status")]);
    let mask = capability_mask(&all);
    for field in ["CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"] {
        assert_eq!(status_line(&seen["status"], field).unwrap(), mask, "{field}");
    }
}

/// A capability name the kernel does not know is an error, and nothing is left
/// (runtime-tools' `process_capabilities_fail`).
fn process_capabilities_fail(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        c["process"]["capabilities"]["bounding"].as_array_mut().unwrap().push(Value::from("CAP_TEST"))
    });
    assert_create_fails(
        &runtime,
        &bundle,
        &v.unique("caps-fail"),
        &["process.capabilities.bounding[3]", "CAP_TEST"],
    );
}

/// `process.oomScoreAdj` 500 is the payload's /proc/self/oom_score_adj
/// (runtime-tools' `process_oom_score_adj`).
fn process_oom_score_adj(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| c["process"]["oomScoreAdj"] = json!(500));
    let seen = inside(&runtime, &bundle, &v.unique("oom"), &[("oom", "cat /proc/self/oom_score_adj")]);
    assert_eq!(seen["oom"], "500\n");
}

/// A seccomp profile allowing everything but getcwd(2), which fails with an errno:
/// the payload is filtered (Seccomp: 2) and `pwd` fails (runtime-tools' `linux_seccomp`).
fn linux_seccomp(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        c["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{ "names": ["getcwd"], "action": "SCMP_ACT_ERRNO" }],
        });
    });
    let seen = inside(
        &runtime,
        &bundle,
        &v.unique("seccomp"),
        &[
            ("status", "cat /proc/self/status"),
            ("pwd", "busybox pwd; echo rc=$?"),
            ("ls", "ls / >/dev/null && echo ok"),
        ],
    );
    assert_eq!(status_line(&seen["status"], "Seccomp").unwrap(), "2");
    assert!(seen["pwd"].contains("rc=1"), "getcwd was not filtered: {}", seen["pwd"]);
    assert_eq!(seen["ls"], "ok\n", "other system calls are allowed");
}

/// `linux.sysctl` sets the container's (network and ipc) namespace parameters:
/// runtime-tools' net.ipv4.ip_forward, and two whose defaults differ from the values
/// asked (`linux_sysctl`).
fn linux_sysctl(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        c["linux"]["sysctl"] = json!({
            "net.ipv4.ip_forward": "1",
            "net.ipv4.ip_default_ttl": "42",
            "kernel.msgmax": "12345",
        });
    });
    let seen = inside(
        &runtime,
        &bundle,
        &v.unique("sysctl"),
        &[
            ("forward", "cat /proc/sys/net/ipv4/ip_forward"),
            ("ttl", "cat /proc/sys/net/ipv4/ip_default_ttl"),
            ("msgmax", "cat /proc/sys/kernel/msgmax"),
        ],
    );
    assert_eq!(
        (seen["forward"].as_str(), seen["ttl"].as_str(), seen["msgmax"].as_str()),
        ("1\n", "42\n", "12345\n")
    );
}

/// `domainname` is the container's NIS domain name (config.md "Domainname").
fn domainname(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| c["domainname"] = json!("bigbang.example"));
    let seen =
        inside(&runtime, &bundle, &v.unique("domainname"), &[("domain", "cat /proc/sys/kernel/domainname")]);
    assert_eq!(seen["domain"], "bigbang.example\n");
}

/// `root.readonly` true: the root is mounted read-only and cannot be written; false:
/// it can (runtime-tools' `root_readonly_true`, and its converse).
fn root_readonly_true(v: Variant) {
    let runtime = runtime();
    for readonly in [true, false] {
        let bundle = v.bundle(&["true"]);
        bundle.edit(|c| c["root"]["readonly"] = Value::Bool(readonly));
        let seen = inside(
            &runtime,
            &bundle,
            &v.unique(&format!("root-readonly-{readonly}")),
            &[("mountinfo", "cat /proc/self/mountinfo"), ("write", "touch /probe && echo written")],
        );
        let root = mount_at(&mounts::parse(&seen["mountinfo"]), "/").unwrap().clone();
        assert_eq!(root.has_option("ro"), readonly, "{root:?}");
        assert_eq!(seen["write"] == "written\n", !readonly, "{}", seen["write"]);
    }
}

/// The container's root mount as its payload sees it with `linux.rootfsPropagation`
/// set to `propagation`; also checks that nothing it mounted reached the host.
fn root_propagation(v: Variant, runtime: &Runtime, propagation: &str) -> MountInfo {
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| c["linux"]["rootfsPropagation"] = Value::from(propagation));
    // The rootfs is a shared mount on the host (as on a systemd host), made before the
    // container and undone when the test ends, even by a panic.
    let _shared = SharedMount::new(bundle.rootfs());
    let before = mounts_mentioning(&bundle.paths());
    let id = v.unique(&format!("propagation-{propagation}"));
    let seen = inside(runtime, &bundle, &id, &[("mountinfo", "cat /proc/self/mountinfo")]);
    let leaked: Vec<String> =
        mounts_mentioning(&bundle.paths()).into_iter().filter(|line| !before.contains(line)).collect();
    assert!(leaked.is_empty(), "{propagation}: the container's mounts reached the host: {leaked:#?}");
    mount_at(&mounts::parse(&seen["mountinfo"]), "/").unwrap().clone()
}

/// A directory bound onto itself and made a shared mount, for one test, unmounted on
/// drop. A container's root can only be a slave (`master:N` in mountinfo) of a peer
/// group the host has: on a systemd host `/` is shared, but on a fresh machine of
/// this kind it is private, so the test makes the shared mount it relies on itself
/// rather than lean on how someone left the host's `/`.
struct SharedMount {
    path: PathBuf,
}

impl SharedMount {
    fn new(path: &Path) -> SharedMount {
        use nix::mount::{mount, MsFlags};
        mount(Some(path), path, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .expect("bind the rootfs onto itself");
        let guard = SharedMount { path: path.to_path_buf() };
        mount(None::<&str>, path, None::<&str>, MsFlags::MS_SHARED, None::<&str>)
            .expect("make the bind shared");
        guard
    }
}

impl Drop for SharedMount {
    /// Unmounts everything stacked there: a runtime that got propagation wrong may
    /// have added a mount on top of ours, through the peer group.
    fn drop(&mut self) {
        for _ in 0..8 {
            if nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH).is_err() {
                break;
            }
        }
    }
}

/// `rootfsPropagation` private and slave, over a rootfs that is a shared mount on the
/// host: private leaves the root in no peer group, slave makes it a slave of the
/// host's (runtime-tools' `linux_rootfs_propagation`, cases private and slave, checked
/// in mountinfo's optional fields rather than by a bind inside the container).
fn linux_rootfs_propagation(v: Variant) {
    let runtime = runtime();
    let private = root_propagation(v, &runtime, "private");
    assert!(private.optional.is_empty(), "private: {private:?}");
    let slave = root_propagation(v, &runtime, "slave");
    assert!(slave.master().is_some(), "slave: {slave:?}");
}

/// `rootfsPropagation` shared: the container's root is in a peer group of its own,
/// and the container's mounts do not reach the host (runtime-tools'
/// `linux_rootfs_propagation`, case shared).
fn linux_rootfs_propagation_shared(v: Variant) {
    let runtime = runtime();
    let shared = root_propagation(v, &runtime, "shared");
    assert!(shared.shared().is_some(), "shared: {shared:?}");
}

/// `rootfsPropagation` unbindable: the container's root cannot be bound (runtime-tools'
/// `linux_rootfs_propagation`, case unbindable).
fn linux_rootfs_propagation_unbindable(v: Variant) {
    let runtime = runtime();
    let unbindable = root_propagation(v, &runtime, "unbindable");
    assert!(unbindable.optional.contains(&OptionalField::Unbindable), "unbindable: {unbindable:?}");
}

/// Hooks run in the order listed, each kind at its moment: prestart 1 and 2, then
/// createRuntime, createContainer, then poststart 1 and 2 after start, poststop 1 and
/// 2 during delete (runtime-tools' `hooks`, with the two newer create hooks added).
fn hooks(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    let output = runtime.logs().join("hooks-output");
    let log = |name: &str| hook(&format!("echo '{name} called' >> {}", output.display()));
    bundle.edit(|c| {
        c["hooks"] = json!({
            "prestart": [log("pre-start1"), log("pre-start2")],
            "createRuntime": [log("create-runtime")],
            "createContainer": [log("create-container")],
            "poststart": [log("post-start1"), log("post-start2")],
            "poststop": [log("post-stop1"), log("post-stop2")],
        });
    });
    let id = v.unique("hooks");
    runtime.created(&bundle, &id);
    runtime.ok(&["start", &id]);
    runtime.wait_status(&id, "stopped");
    runtime.ok(&["delete", &id]);
    assert_eq!(
        fs::read_to_string(&output).unwrap(),
        "pre-start1 called\npre-start2 called\ncreate-runtime called\ncreate-container called\n\
         post-start1 called\npost-start2 called\npost-stop1 called\npost-stop2 called\n"
    );
}

/// Each hook gets the container's state on stdin: id, bundle, pid (but poststop),
/// annotations, and the status of its moment: `creating` for prestart (runc's, where
/// runtime-tools' `hooks_stdin` predates createRuntime and expects `created`),
/// `running` for poststart, `stopped` for poststop.
fn hooks_stdin(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sleep", "30"]);
    let out = runtime.logs().to_path_buf();
    let annotations = json!({ "org.opencontainers.runtime-tools": "hook stdin test" });
    bundle.edit(|c| {
        c["annotations"] = annotations.clone();
        c["hooks"] = json!({
            "prestart": [hook(&format!("cat > {}/prestart", out.display()))],
            "poststart": [hook(&format!("cat > {}/poststart", out.display()))],
            "poststop": [hook(&format!("cat > {}/poststop", out.display()))],
        });
    });
    let id = v.unique("hooks-stdin");
    let pid = runtime.start_running(&bundle, &id);
    runtime.ok(&["delete", "--force", &id]);
    let bundle_path = fs::canonicalize(bundle.path()).unwrap();
    for (name, status) in [("prestart", "creating"), ("poststart", "running"), ("poststop", "stopped")] {
        let state: Value = serde_json::from_str(&fs::read_to_string(out.join(name)).unwrap()).unwrap();
        assert_eq!(state["id"], id.as_str(), "{name}");
        assert_eq!(Path::new(state["bundle"].as_str().unwrap()), bundle_path, "{name}");
        assert_eq!(state["annotations"], annotations, "{name}");
        assert_eq!(state["status"], status, "{name}");
        if name != "poststop" {
            assert_eq!(state["pid"], pid, "{name}");
        }
    }
}

/// A failing prestart hook fails `create`, the payload never runs, and nothing is
/// left (runtime-tools' `prestart_fail`).
fn prestart_fail(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sh", "-c", "touch /output"]);
    bundle.writable();
    bundle.edit(|c| c["hooks"] = json!({ "prestart": [failing_hook()] }));
    assert_create_fails(&runtime, &bundle, &v.unique("prestart-fail"), &["prestart hook #0", "/bin/false"]);
    assert!(!bundle.rootfs().join("output").exists(), "the payload ran");
}

/// A failing createContainer hook (run in the container's namespaces) fails `create`
/// and leaves nothing.
fn create_container_fail(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sh", "-c", "touch /output"]);
    bundle.writable();
    bundle.edit(|c| c["hooks"] = json!({ "createContainer": [failing_hook()] }));
    assert_create_fails(&runtime, &bundle, &v.unique("create-container-fail"), &["createContainer hook #0"]);
    assert!(!bundle.rootfs().join("output").exists(), "the payload ran");
}

/// A failing startContainer hook (run inside the container after `start`) keeps the
/// payload from running; the container ends stopped. `start` itself succeeds, as
/// runc's does: the hook runs after the exec fifo has let `start` go.
fn start_container_fail(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sh", "-c", "touch /output"]);
    bundle.writable();
    bundle.edit(|c| c["hooks"] = json!({ "startContainer": [failing_hook()] }));
    let id = v.unique("start-container-fail");
    runtime.created(&bundle, &id);
    runtime.ok(&["start", &id]);
    runtime.wait_status(&id, "stopped");
    assert!(!bundle.rootfs().join("output").exists(), "the payload ran");
    assert!(runtime.err(&id).contains("startContainer hook #0"), "{}", runtime.err(&id));
    runtime.ok(&["delete", &id]);
    assert_nothing_left(&runtime, &id, &bundle);
}

/// A failing poststart hook is a warning: `start` succeeds, the next poststart hook
/// still runs, the container runs (runtime-tools' `poststart_fail`).
fn poststart_fail(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sleep", "30"]);
    let output = runtime.logs().join("poststart-output");
    bundle.edit(|c| {
        c["hooks"] =
            json!({ "poststart": [failing_hook(), hook(&format!("echo 'post-start called' >> {}", output.display()))] });
    });
    let id = v.unique("poststart-fail");
    runtime.created(&bundle, &id);
    let start = runtime.cmd().args(["start", &id]).output().unwrap();
    assert!(start.status.success());
    let stderr = String::from_utf8_lossy(&start.stderr);
    assert!(stderr.contains("warning") && stderr.contains("poststart hook #0"), "{stderr}");
    assert_eq!(fs::read_to_string(&output).unwrap(), "post-start called\n");
    assert_eq!(runtime.state(&id)["status"], "running");
}

/// A failing poststop hook is a warning: `delete` succeeds, the next poststop hook
/// still runs, and the container is gone (runtime-tools' `poststop_fail`).
fn poststop_fail(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    let output = runtime.logs().join("poststop-output");
    bundle.edit(|c| {
        c["hooks"] =
            json!({ "poststop": [failing_hook(), hook(&format!("echo 'post-stop called' >> {}", output.display()))] });
    });
    let id = v.unique("poststop-fail");
    runtime.created(&bundle, &id);
    runtime.ok(&["start", &id]);
    runtime.wait_status(&id, "stopped");
    let delete = runtime.cmd().args(["delete", &id]).output().unwrap();
    assert!(delete.status.success());
    let stderr = String::from_utf8_lossy(&delete.stderr);
    assert!(stderr.contains("warning") && stderr.contains("poststop hook #0"), "{stderr}");
    assert_eq!(fs::read_to_string(&output).unwrap(), "post-stop called\n");
    assert_nothing_left(&runtime, &id, &bundle);
}

/// An unknown annotation key and an unknown property are accepted; an invalid
/// ociVersion is an error (runtime-tools' `misc_props`).
fn misc_props(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["true"]);
    bundle.edit(|c| {
        c["annotations"] = json!({ format!("org.{}", v.unique("misc")): "" });
        c["unknown"] = json!("unknown");
    });
    runtime.run_to_end(&bundle, &v.unique("misc-props"));
    bundle.edit(|c| c["ociVersion"] = json!("invalid"));
    assert_create_fails(&runtime, &bundle, &v.unique("misc-props-invalid"), &["ociVersion", "\"invalid\""]);
}

/// Changing config.json after `create` does not affect the container: `start` runs
/// what was created even when the file is replaced by `{"ociVersion": "1.0.0"}`
/// (runtime-tools' `config_updates_without_affect`).
fn config_updates_without_affect(v: Variant) {
    let runtime = runtime();
    let bundle = v.bundle(&["sh", "-c", "echo 'process called' > /output"]);
    bundle.writable();
    let id = v.unique("config-updates");
    runtime.created(&bundle, &id);
    fs::write(bundle.config_path(), "{\"ociVersion\": \"1.0.0\"}").unwrap();
    runtime.ok(&["start", &id]);
    runtime.wait_status(&id, "stopped");
    assert_eq!(fs::read_to_string(bundle.rootfs().join("output")).unwrap(), "process called\n");
    runtime.ok(&["delete", &id]);
}
