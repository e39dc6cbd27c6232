//! Chapter 5's check of the sealed runtime (CVE-2019-5736): a container that
//! reaches the runtime's binary through /proc/<pid>/exe cannot overwrite it.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use bigbang_testkit::holes::note;
use common::*;
use serde_json::json;

/// The attack, from inside the container: hold the runtime's binary open through
/// /proc/$PPID/exe, kill the runtime so the file is no longer busy, then write it.
const ATTACK: &str = r#"
P=$PPID
exec 3</proc/$P/exe || { echo NO-ACCESS; exit 0; }
kill -KILL $P
while [ -e /proc/$P/exe ]; do sleep 0.05; done
if echo pwned-by-the-container >/proc/self/fd/3; then echo WROTE; else echo REFUSED; fi
"#;

/// Copies the chapter binary into `dir`, runs the copy with the attack as
/// payload, and returns what the payload reported, whether the copy changed, and the
/// runtime's stderr.
fn attack(dir: &Path, extra: &[&str]) -> (String, bool, String) {
    let binary = dir.join("chapter-5-copy");
    fs::copy(cargo_bin("chapter-5"), &binary).unwrap();
    fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
    let before = fs::read(&binary).unwrap();
    let rootfs = rootfs();
    // Every capability (no capabilities section): the ptrace access check on
    // /proc/<pid>/exe needs the payload to hold what the runtime holds.
    let profile = profile_file(&json!({}));
    let mut command = Command::new(&binary);
    command
        .arg("run")
        .args(extra)
        .arg("--profile")
        .arg(&profile.path)
        .arg(rootfs.path())
        .args(["--", "sh", "-c", ATTACK])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // Just written: another test thread's fork may hold the copy's write descriptor
    // for a moment (ETXTBSY), which spawn_retrying outlasts.
    let out = bigbang_testkit::program::spawn_retrying(&mut command).unwrap().wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (report, fs::read(&binary).unwrap() != before, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// With the runtime sealed, the container's write to its binary is refused and
/// the binary on the host is unchanged.
#[test]
fn container_cannot_overwrite_the_runtime() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let (report, changed, stderr) = attack(dir.path(), &[]);
    assert_eq!(
        report,
        "REFUSED",
        "what the payload reported; the runtime's stderr: {stderr}{}",
        note(&stderr)
    );
    assert!(!changed, "the runtime binary on the host was overwritten from inside the container");
}

/// The attack is real: with sealing switched off (--no-seal) the same payload
/// overwrites the runtime's binary on the host. This is why the seal exists.
#[test]
fn without_the_seal_the_attack_works() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let (report, changed, stderr) = attack(dir.path(), &["--no-seal"]);
    assert_eq!(report, "WROTE", "what the payload reported; the runtime's stderr: {stderr}{}", note(&stderr));
    assert!(changed, "the unsealed binary should have been overwritten");
}

/// The runtime runs from a sealed memfd: its /proc/<pid>/exe is a memfd carrying all four seals.
#[test]
fn runtime_runs_from_a_sealed_memfd() {
    require_root();
    let rootfs = rootfs();
    let profile = profile_file(&json!({}));
    let mut running = spawn(run_cmd_sealed(&profile, rootfs.path(), &["sleep", "30"]));
    payload_pid(&mut running);
    let runtime = running.child.id();
    let exe = fs::read_link(format!("/proc/{runtime}/exe")).unwrap();
    assert!(exe.to_string_lossy().starts_with("/memfd:"), "/proc/{runtime}/exe is {}", exe.display());
    let file = fs::File::open(format!("/proc/{runtime}/exe")).unwrap();
    assert!(chapter_5::security::seal::is_sealed(&file), "the runtime's memfd lacks its seals");
}

/// `chapter-5 run --profile P ROOTFS -- argv…`: the runtime seals itself first.
fn run_cmd_sealed(profile: &ProfileFile, rootfs: &Path, argv: &[&str]) -> Command {
    let mut cmd = runtime();
    cmd.arg("run").arg("--profile").arg(&profile.path).arg(rootfs).arg("--").args(argv);
    cmd
}
