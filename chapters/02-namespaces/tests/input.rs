//! Chapter 2's checks of names, maps and bad input, with your `exercises/02-namespaces/`:
//! every namespace has the right clone flag, and bad input is refused before any
//! process exists, with an error that names it.

mod common;

use bigbang_testkit::process::processes_mentioning;
use bigbang_testkit::program::run;
use chapter_2::namespaces::idmap::{check_map, check_root_mapped, write_id_maps};
use chapter_2::namespaces::uts::{check_hostname, check_uts};
use chapter_2::namespaces::{IdKind, IdMap, Namespace, NamespaceError, Namespaces, Setgroups};
use common::text;
use nix::libc;
use nix::sched::CloneFlags;
use nix::unistd::Pid;

fn map(container_id: u32, host_id: u32, size: u32) -> IdMap {
    IdMap { container_id, host_id, size }
}

/// Each namespace has the CLONE_NEW* flag clone(2) documents, and a set ORs them together.
#[test]
fn clone_flags_are_the_kernel_s() {
    let expected = [
        (Namespace::Uts, libc::CLONE_NEWUTS),
        (Namespace::Pid, libc::CLONE_NEWPID),
        (Namespace::Mount, libc::CLONE_NEWNS),
        (Namespace::Ipc, libc::CLONE_NEWIPC),
        (Namespace::Net, libc::CLONE_NEWNET),
        (Namespace::User, libc::CLONE_NEWUSER),
        (Namespace::Cgroup, libc::CLONE_NEWCGROUP),
    ];
    for (ns, flag) in expected {
        assert_eq!(ns.clone_flag(), CloneFlags::from_bits_retain(flag), "clone_flag of {ns}");
    }
    let set: Namespaces = "uts,pid".parse().unwrap();
    assert_eq!(set.clone_flags(), CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID);
    assert_eq!(Namespaces::none().clone_flags(), CloneFlags::empty());
}

/// OCI names (mount, network) and /proc names (mnt, net) both parse; every kind round-trips through its names.
#[test]
fn oci_and_proc_names_parse() {
    assert_eq!("mount".parse::<Namespace>().unwrap(), Namespace::Mount);
    assert_eq!("mnt".parse::<Namespace>().unwrap(), Namespace::Mount);
    assert_eq!("network".parse::<Namespace>().unwrap(), Namespace::Net);
    assert_eq!("net".parse::<Namespace>().unwrap(), Namespace::Net);
    for ns in Namespace::ALL {
        assert_eq!(ns.proc_name().parse::<Namespace>().unwrap(), ns);
        assert_eq!(ns.oci_name().parse::<Namespace>().unwrap(), ns);
        assert_eq!(
            ns.proc_path(Pid::from_raw(7)).to_str().unwrap(),
            format!("/proc/7/ns/{}", ns.proc_name())
        );
    }
    assert_eq!("".parse::<Namespaces>().unwrap(), Namespaces::none());
    assert_eq!("user,uts,pid,mnt,ipc,net,cgroup".parse::<Namespaces>().unwrap(), Namespaces::all());
}

/// An unknown namespace name is refused with an error naming it and listing the valid ones; `time` is explained.
#[test]
fn unknown_namespaces_are_refused() {
    let err = "pids".parse::<Namespace>().unwrap_err();
    assert!(matches!(&err, NamespaceError::UnknownNamespace { name } if name == "pids"), "{err:?}");
    assert!(err.to_string().contains("uts"), "the message lists the valid names: {err}");
    let err = "uts,bogus".parse::<Namespaces>().unwrap_err();
    assert!(matches!(&err, NamespaceError::UnknownNamespace { name } if name == "bogus"), "{err:?}");
    assert!(matches!("time".parse::<Namespace>(), Err(NamespaceError::TimeNamespace)));
}

/// Map lines parse as CONTAINER:HOST:SIZE; anything else is refused naming the text.
#[test]
fn id_map_lines_parse() {
    assert_eq!("0:1000:1".parse::<IdMap>().unwrap(), map(0, 1000, 1));
    assert_eq!(map(1, 100000, 65536).to_string(), "1:100000:65536");
    for bad in ["0:1000", "0:1000:1:2", "a:b:c", "-1:0:1", "0:4294967296:1", ""] {
        let err = bad.parse::<IdMap>().unwrap_err();
        assert!(matches!(&err, NamespaceError::BadIdMap { text, .. } if text == bad), "{bad:?}: {err:?}");
    }
}

/// Maps the kernel would refuse (empty, size 0, past the last id, overlapping, too long) are refused first.
#[test]
fn bad_id_maps_are_refused() {
    let uid = IdKind::Uid;
    assert!(check_map(uid, &[map(0, 1000, 1), map(1, 100000, 65536)]).is_ok());
    assert!(matches!(check_map(uid, &[]), Err(NamespaceError::EmptyIdMap { .. })));
    assert!(matches!(check_map(uid, &[map(0, 1000, 0)]), Err(NamespaceError::IdMapSizeZero { .. })));
    assert!(matches!(check_map(uid, &[map(0, u32::MAX - 1, 2)]), Err(NamespaceError::IdMapOverflow { .. })));
    assert!(check_map(uid, &[map(0, u32::MAX - 2, 2)]).is_ok(), "4294967294 is the last id");
    assert!(matches!(
        check_map(uid, &[map(0, 1000, 10), map(5, 2000, 1)]),
        Err(NamespaceError::IdMapOverlap { side: "container", .. })
    ));
    assert!(matches!(
        check_map(uid, &[map(0, 1000, 10), map(100, 1009, 1)]),
        Err(NamespaceError::IdMapOverlap { side: "host", .. })
    ));
    let many: Vec<IdMap> = (0..341).map(|i| map(i, 100000 + i, 1)).collect();
    assert!(matches!(check_map(uid, &many), Err(NamespaceError::TooManyIdLines { count: 341, .. })));
    assert!(matches!(
        check_root_mapped(IdKind::Gid, &[map(1, 1000, 1)]),
        Err(NamespaceError::RootNotMapped { .. })
    ));
    // Checked before anything is written: the pid does not even matter.
    assert!(matches!(
        write_id_maps(Pid::from_raw(i32::MAX), &[map(0, 0, 0)], &[map(0, 0, 1)], Setgroups::Deny),
        Err(NamespaceError::IdMapSizeZero { kind: IdKind::Uid, .. })
    ));
}

/// Hostnames are checked (1 to 64 letters, digits, '-', '.'), and refused without a UTS namespace.
#[test]
fn bad_hostnames_are_refused() {
    assert!(check_hostname("box-1.example").is_ok());
    for bad in ["", "-box", "a b", "a/b", &"x".repeat(65)] {
        assert!(
            matches!(check_hostname(bad), Err(NamespaceError::BadHostname { name, .. }) if name == bad),
            "{bad:?}"
        );
    }
    let no_uts: Namespaces = "pid".parse().unwrap();
    assert!(matches!(check_uts(&no_uts, Some("box")), Err(NamespaceError::HostnameWithoutUts { .. })));
    assert!(check_uts(&no_uts, None).is_ok());
}

/// The demo refuses bad input before cloning anything, names it, and leaves no process behind.
#[test]
fn the_demo_refuses_bad_input() {
    let rootfs = common::rootfs();
    let root = rootfs.path().to_str().unwrap();
    let cases: [(&[&str], i32, &str); 6] = [
        (&["--ns", "uts,pids"], 2, "pids"),
        (&["--ns", "pid", "--hostname", "box"], 125, "box"),
        (&["--ns", "uts", "--hostname", "no spaces"], 125, "no spaces"),
        (&["--ns", "uts", "--uid-map", "0:1000:1"], 125, "user"),
        (&["--ns", "user", "--uid-map", "0:1000"], 2, "0:1000"),
        (&["--ns", "user", "--uid-map", "1:1000:1"], 125, "uid_map"),
    ];
    for (flags, code, named) in cases {
        let mut args = vec!["run"];
        args.extend(flags);
        args.extend([root, "--", "true"]);
        let out = run(common::demo(), &args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(named),
            "{args:?}: the error names {named:?}: {}",
            text(&out.stderr)
        );
    }
    let missing = rootfs.path().join("no-such-dir");
    let out = run(common::demo(), &["run", "--ns", "", missing.to_str().unwrap(), "--", "true"]);
    assert_eq!(out.status.code(), Some(125), "a missing rootfs: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no-such-dir"), "{}", text(&out.stderr));
    let out = run(common::demo(), &["run", "--ns", "", root, "--", "no-such-program"]);
    assert_eq!(out.status.code(), Some(127), "a missing program: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no-such-program"), "{}", text(&out.stderr));
    assert_eq!(processes_mentioning(rootfs.path()), Vec::<i32>::new(), "processes left behind");
}
