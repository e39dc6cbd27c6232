//! Chapter 5's capability checks: the sets the payload holds, read from
//! `/proc/<pid>/status`, are the ones the profile asked for.

mod common;
#[path = "common/run.rs"]
mod run;

use bigbang_testkit::process::{cap_mask, status_field};
use chapter_5::security::capabilities::{
    mask, CapSets, CapabilityError, LinuxCapabilities, DOCKER_DEFAULT, RUNC_DEFAULT,
};
use common::*;
use run::run_cmd;
use serde_json::json;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Names become the bits the kernel prints: runc's default set is 0x20000420, Docker's 0xa80425fb.
#[test]
fn masks_from_names() {
    assert_eq!(mask(&names(RUNC_DEFAULT), "bounding").unwrap(), 0x2000_0420);
    assert_eq!(mask(&names(DOCKER_DEFAULT), "bounding").unwrap(), 0xa804_25fb);
    assert_eq!(mask(&[], "ambient").unwrap(), 0);
    assert_eq!(mask(&names(&["CAP_CHECKPOINT_RESTORE"]), "permitted").unwrap(), 1 << 40);
}

/// An unknown capability name is refused before anything runs, naming it and its set.
#[test]
fn unknown_capability_is_refused() {
    let spec = LinuxCapabilities { effective: names(&["CAP_KILL", "CAP_FLY"]), ..Default::default() };
    match CapSets::from_spec(&spec) {
        Err(CapabilityError::Unknown { name, set }) => {
            assert_eq!((name.as_str(), set), ("CAP_FLY", "effective"))
        }
        other => panic!("expected CapabilityError::Unknown, got {other:?}"),
    }
}

/// The payload of a runc-default profile holds exactly CAP_AUDIT_WRITE, CAP_KILL and
/// CAP_NET_BIND_SERVICE in its bounding, permitted and effective sets, nothing
/// inheritable or ambient, and runs with no_new_privs.
#[test]
fn runc_default_set_in_proc_status() {
    require_root();
    let rootfs = rootfs();
    let profile = profile_file(&json!({
        "process": {
            "capabilities": {"bounding": RUNC_DEFAULT, "effective": RUNC_DEFAULT, "permitted": RUNC_DEFAULT},
            "noNewPrivileges": true
        }
    }));
    let mut running = spawn(run_cmd(&profile, rootfs.path(), &["sleep", "30"]));
    let pid = payload_pid(&mut running);
    assert_eq!(cap_mask(pid, "CapBnd"), 0x2000_0420, "CapBnd of the payload");
    assert_eq!(cap_mask(pid, "CapPrm"), 0x2000_0420, "CapPrm of the payload");
    assert_eq!(cap_mask(pid, "CapEff"), 0x2000_0420, "CapEff of the payload");
    assert_eq!(cap_mask(pid, "CapInh"), 0, "CapInh of the payload");
    assert_eq!(cap_mask(pid, "CapAmb"), 0, "CapAmb of the payload");
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
}

/// A non-root payload keeps a capability across execve only through the ambient
/// set: uid 1000 with CAP_NET_BIND_SERVICE ambient has it effective, and nothing else.
#[test]
fn ambient_capability_for_a_non_root_user() {
    require_root();
    let rootfs = rootfs();
    let bind = ["CAP_NET_BIND_SERVICE"];
    let profile = profile_file(&json!({
        "process": {
            "user": {"uid": 1000, "gid": 1000, "additionalGids": [1001]},
            "capabilities": {
                "bounding": RUNC_DEFAULT, "effective": bind, "permitted": bind,
                "inheritable": bind, "ambient": bind
            },
            "noNewPrivileges": true
        }
    }));
    let mut running = spawn(run_cmd(&profile, rootfs.path(), &["sleep", "30"]));
    let pid = payload_pid(&mut running);
    assert_eq!(
        status_field(pid, "Uid").split_whitespace().collect::<Vec<_>>(),
        ["1000"; 4],
        "Uid of the payload"
    );
    assert_eq!(
        status_field(pid, "Gid").split_whitespace().collect::<Vec<_>>(),
        ["1000"; 4],
        "Gid of the payload"
    );
    assert_eq!(status_field(pid, "Groups"), "1001", "supplementary groups of the payload");
    assert_eq!(cap_mask(pid, "CapBnd"), 0x2000_0420, "CapBnd");
    assert_eq!(cap_mask(pid, "CapAmb"), 1 << 10, "CapAmb");
    assert_eq!(cap_mask(pid, "CapInh"), 1 << 10, "CapInh");
    assert_eq!(cap_mask(pid, "CapPrm"), 1 << 10, "CapPrm");
    assert_eq!(cap_mask(pid, "CapEff"), 1 << 10, "CapEff");
}

/// Without CAP_SYS_ADMIN, root in the container cannot mount, whatever its uid says.
#[test]
fn root_without_sys_admin_cannot_mount() {
    require_root();
    let rootfs = rootfs();
    let profile = profile_file(&json!({
        "process": {"capabilities": LinuxCapabilities::uniform(RUNC_DEFAULT), "noNewPrivileges": true}
    }));
    let out = run_cmd(&profile, rootfs.path(), &["mount", "-t", "tmpfs", "none", "/tmp"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "mount succeeded without CAP_SYS_ADMIN");
    assert!(stderr.contains("permission denied"), "mount (EPERM) must be refused: {stderr}");
}
