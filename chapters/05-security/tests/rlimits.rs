//! Chapter 5's rlimit checks: limits reach the payload, and impossible ones are
//! refused before anything starts.

mod common;
#[path = "common/run.rs"]
mod run;

use chapter_5::security::rlimits::{PosixRlimit, RlimitError};
use chapter_5::security::{Profile, SecurityError};
use common::*;
use run::run_cmd;
use serde_json::json;

/// The payload's `/proc/<pid>/limits` shows the soft and hard limits of the profile.
#[test]
fn rlimits_reach_the_payload() {
    require_root();
    let rootfs = rootfs();
    let profile = profile_file(&json!({
        "process": {"rlimits": [
            {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024},
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        ]}
    }));
    let mut running = spawn(run_cmd(&profile, rootfs.path(), &["sleep", "30"]));
    let pid = payload_pid(&mut running);
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let row = |name: &str| -> Vec<String> {
        let line =
            limits.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {limits}"));
        line[name.len()..].split_whitespace().take(2).map(str::to_owned).collect()
    };
    assert_eq!(row("Max open files"), ["512", "1024"]);
    assert_eq!(row("Max core file size"), ["0", "0"]);
}

/// A hard limit above this process's hard limit, without CAP_SYS_RESOURCE, is an
/// error naming the rlimit, the value and the limit; an unknown name is refused.
#[test]
fn impossible_rlimits_are_refused() {
    let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit fills the struct.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut current) }, 0);
    let too_high = current.rlim_max.saturating_add(1);
    let mut profile = Profile::default();
    profile.process.rlimits = vec![PosixRlimit { kind: "RLIMIT_NOFILE".into(), soft: 1, hard: too_high }];
    let can_raise = chapter_5::security::capabilities::current().unwrap().effective & (1 << 24) != 0;
    match profile.prepare() {
        Err(SecurityError::Rlimit(RlimitError::AboveHardLimit { name, value, allowed })) => {
            assert!(!can_raise);
            assert_eq!((name.as_str(), value, allowed), ("RLIMIT_NOFILE", too_high, current.rlim_max));
        }
        Ok(_) if can_raise || current.rlim_max == libc::RLIM_INFINITY => {}
        other => panic!("expected RlimitError::AboveHardLimit, got {other:?}"),
    }
    profile.process.rlimits = vec![PosixRlimit { kind: "RLIMIT_FILES".into(), soft: 1, hard: 1 }];
    assert!(matches!(profile.prepare(), Err(SecurityError::Rlimit(RlimitError::Unknown { .. }))));
}

/// The runtime refuses such a profile with exit status 125 and starts nothing.
#[test]
fn runtime_refuses_an_impossible_rlimit() {
    require_root();
    let rootfs = rootfs();
    let profile = profile_file(&json!({
        "process": {"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": u64::MAX - 1}]}
    }));
    std::fs::remove_file(rootfs.path().join("ran")).ok();
    let out = run_cmd(&profile, rootfs.path(), &["touch", "/ran"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Without CAP_SYS_RESOURCE the check refuses it before fork; with it,
    // setrlimit does (the kernel's nr_open is far below this value).
    assert_eq!(out.status.code(), Some(125), "stderr: {stderr}");
    assert!(stderr.contains("RLIMIT_NOFILE"), "the error names the rlimit: {stderr}");
    assert!(!rootfs.path().join("ran").exists(), "the payload ran");
}
