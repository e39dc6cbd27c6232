//! Chapter 2's checks of the namespaces themselves, with your `exercises/02-namespaces/`:
//! what the kernel reports in /proc for the container's init, compared with the host.

mod common;
#[path = "common/container.rs"]
mod container;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

use bigbang_testkit::names::numbered;
use bigbang_testkit::probe::{is_root, NOBODY};
use bigbang_testkit::process::{ns_link, nspid, processes_mentioning, read_map};
use bigbang_testkit::program::{run, SharedProgram};
use common::{demo, text};
use container::{with_user, Container};
use nix::sys::utsname::uname;
use nix::unistd::{getegid, geteuid, Pid};

use chapter_2::namespaces::idmap::read_id_map;
use chapter_2::namespaces::{IdKind, IdMap};

/// The seven /proc/<pid>/ns names.
const KINDS: [&str; 7] = ["uts", "pid", "mnt", "ipc", "net", "user", "cgroup"];

/// Waits for a container running `touch /tmp/ready; read line` and returns its init's host pid.
fn started(namespaces: &str, extra: &[&str]) -> (Container, Pid) {
    let mut container = Container::start(namespaces, extra, "touch /tmp/ready; read line || true");
    let init = container.init_pid();
    container.wait_for("/tmp/ready");
    (container, init)
}

/// For every set asked for, each requested /proc/<pid>/ns/<ns> differs from the host's and each other one is the host's.
#[test]
fn requested_namespaces_are_new_and_the_others_are_the_host_s() {
    // (what the caller writes, the /proc names it means); OCI names too.
    let sets: [(&str, &[&str]); 10] = [
        ("uts", &["uts"]),
        ("pid", &["pid"]),
        ("mount", &["mnt"]),
        ("ipc", &["ipc"]),
        ("network", &["net"]),
        ("cgroup", &["cgroup"]),
        ("user", &["user"]),
        ("uts,pid", &["uts", "pid"]),
        ("mnt,net,ipc", &["mnt", "net", "ipc"]),
        ("user,uts,pid,mnt,ipc,net,cgroup", &KINDS),
    ];
    for (asked, meant) in sets {
        let asked = with_user(asked);
        let mut meant = meant.to_vec();
        if asked.starts_with("user") && !meant.contains(&"user") {
            meant.push("user");
        }
        let (container, init) = started(&asked, &[]);
        for kind in KINDS {
            let host = ns_link("self", kind);
            let inside = ns_link(init, kind);
            if meant.contains(&kind) {
                assert_ne!(inside, host, "--ns {asked}: the init's {kind} namespace should be new");
            } else {
                assert_eq!(inside, host, "--ns {asked}: the init's {kind} namespace should be the host's");
            }
        }
        container.finish_ok();
    }
}

/// A hostname set inside is what uname(2) reports inside, and the host's hostname is unchanged.
#[test]
fn the_hostname_stays_inside() {
    let host_before = uname().unwrap().nodename().to_owned();
    let name = numbered("box");
    let container = Container::start(&with_user("uts"), &["--hostname", &name], "hostname");
    let out = container.finish_ok();
    assert_eq!(text(&out.stdout).trim(), name, "the hostname inside the container");
    assert_eq!(uname().unwrap().nodename(), host_before.as_os_str(), "the host's hostname changed");
}

/// With a PID namespace the init is pid 1 inside (NSpid ends in 1) and the payload is its child, pid 2.
#[test]
fn the_init_is_pid_1() {
    let mut container =
        Container::start(&with_user("pid"), &[], "echo $$ $PPID; touch /tmp/ready; read line || true");
    let init = container.init_pid();
    container.wait_for("/tmp/ready");
    let host_depth = nspid(Pid::this()).len();
    let ids = nspid(init);
    assert_eq!(
        ids.len(),
        host_depth + 1,
        "NSpid of the init (host pid {init}): one level deeper than the host"
    );
    assert_eq!(ids.first(), Some(&init.as_raw()), "NSpid starts with the pid the host sees");
    assert_eq!(ids.last(), Some(&1), "the init is pid 1 in its own PID namespace: {ids:?}");
    let out = container.finish();
    assert_eq!(text(&out.stdout).trim(), "2 1", "the payload's $$ and $PPID: {}", text(&out.stderr));
}

/// Without a PID namespace the init has one pid only, the host's.
#[test]
fn without_a_pid_namespace_pids_are_the_host_s() {
    let (container, init) = started(&with_user("uts"), &[]);
    assert_eq!(nspid(init), vec![init.as_raw()], "NSpid of the init (host pid {init})");
    container.finish_ok();
}

/// The default maps read back as written: root inside is the caller outside, setgroups says deny unless root.
#[test]
fn the_id_maps_read_back_as_written() {
    let (container, init) = started("user,uts", &[]);
    let (uid, gid) = (u64::from(geteuid().as_raw()), u64::from(getegid().as_raw()));
    assert_eq!(read_map(init, "uid_map"), vec![vec![0, uid, 1]], "/proc/{init}/uid_map");
    assert_eq!(read_map(init, "gid_map"), vec![vec![0, gid, 1]], "/proc/{init}/gid_map");
    let setgroups = fs::read_to_string(format!("/proc/{init}/setgroups")).unwrap();
    let expected = if is_root() { "allow" } else { "deny" };
    assert_eq!(setgroups.trim(), expected, "/proc/{init}/setgroups");
    assert_eq!(read_id_map(init, IdKind::Uid).unwrap(), vec![IdMap::root_onto(geteuid().as_raw())]);
    container.finish_ok();
}

/// As root, several ranges are written and read back, each map to its own file (the gid
/// ranges differ from the uid ones, so a uid map written to gid_map is seen); without root
/// the kernel refuses them and nothing is left running.
#[test]
fn several_ranges_need_root() {
    let maps = [
        "--uid-map",
        "0:200000:1000",
        "--uid-map",
        "1000:0:1",
        "--gid-map",
        "0:300000:1000",
        "--gid-map",
        "1000:5:1",
    ];
    if is_root() {
        let (container, init) = started("user,uts", &maps);
        let uids = vec![vec![0, 200000, 1000], vec![1000, 0, 1]];
        let gids = vec![vec![0, 300000, 1000], vec![1000, 5, 1]];
        assert_eq!(read_map(init, "uid_map"), uids, "/proc/{init}/uid_map");
        assert_eq!(
            read_map(init, "gid_map"),
            gids,
            "/proc/{init}/gid_map: the --gid-map lines, not the uid ones"
        );
        assert_eq!(fs::read_to_string(format!("/proc/{init}/setgroups")).unwrap().trim(), "allow");
        container.finish_ok();
    } else {
        let rootfs = common::rootfs();
        let mut args = vec!["run", "--ns", "user,uts"];
        args.extend(maps);
        args.extend([rootfs.path().to_str().unwrap(), "--", "true"]);
        let out = run(common::demo(), &args);
        assert_eq!(out.status.code(), Some(125), "a map the kernel refuses: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("uid_map"), "the error names the map file: {}", text(&out.stderr));
        assert_eq!(processes_mentioning(rootfs.path()), Vec::<i32>::new(), "processes left behind");
    }
}

/// Run by an unprivileged user (nobody), the container gets every namespace, root inside maps onto nobody outside.
#[test]
fn an_unprivileged_user_gets_all_namespaces() {
    if !is_root() {
        // Every other check here already ran as an unprivileged user, in a user namespace.
        return;
    }
    let demo = DemoCopy::new();
    let name = numbered("rootless");
    let mut container = Container::start_with(
        demo.as_nobody(),
        "user,uts,pid,mnt,ipc,net,cgroup",
        &["--hostname", &name],
        "id -u; hostname; touch /tmp/ready; read line || true",
    );
    let init = container.init_pid();
    container.wait_for("/tmp/ready");
    assert_eq!(read_map(init, "uid_map"), vec![vec![0, u64::from(NOBODY), 1]], "/proc/{init}/uid_map");
    assert_eq!(fs::read_to_string(format!("/proc/{init}/setgroups")).unwrap().trim(), "deny");
    for kind in KINDS {
        assert_ne!(ns_link(init, kind), ns_link("self", kind), "{kind} namespace as nobody");
    }
    // What root inside created belongs to nobody on the host: the uid map at work.
    let owner = fs::metadata(container.rootfs.path().join("tmp/ready")).unwrap().uid();
    assert_eq!(owner, NOBODY, "owner on the host of a file made by root inside");
    let out = container.finish();
    assert_eq!(text(&out.stdout), format!("0\n{name}\n"), "stderr: {}", text(&out.stderr));
}

/// The demo binary placed in a directory every user may enter (the workspace may sit
/// under /root), for running it as another user.
struct DemoCopy(SharedProgram);

impl DemoCopy {
    fn new() -> Self {
        Self(SharedProgram::new(demo().get_program().as_ref()).expect("cannot share the chapter-2 demo"))
    }

    fn path(&self) -> PathBuf {
        self.0.path().to_owned()
    }

    /// The demo, to be run as nobody.
    fn as_nobody(&self) -> Command {
        let mut command = Command::new(self.path());
        command.uid(NOBODY).gid(NOBODY);
        command
    }
}
