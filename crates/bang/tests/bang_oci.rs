//! Black-box tests of the `bang-oci` binary (chapter 6): its help, `spec` and
//! `features`, its global flags, and `spec` against runc's own output. The
//! lifecycle verbs are tested in lifecycle.rs.

use std::fs;
use std::path::Path;
use std::process::Command;

use assert_cmd::prelude::*;
use bigbang_container::spec::Spec;
use serde_json::Value;

fn bang_oci() -> Command {
    Command::cargo_bin("bang-oci").expect("the bang-oci binary is built")
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("bigbang-oci-").tempdir().expect("tempdir")
}

/// Runs `command`, which must succeed, and returns its standard output.
fn stdout_of(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Runs `command`, which must fail, and returns its standard error.
fn stderr_of(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    assert!(!output.status.success(), "{command:?} succeeded");
    String::from_utf8(output.stderr).expect("UTF-8 output")
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).expect("the file was written")).expect("the file is JSON")
}

/// `--help` lists exactly the commands and global flags that exist.
#[test]
fn help_lists_spec_features_and_the_global_flags() {
    insta::assert_snapshot!(stdout_of(bang_oci().arg("--help")));
}

/// `spec --help` documents --rootless and --bundle.
#[test]
fn spec_help_documents_its_flags() {
    insta::assert_snapshot!(stdout_of(bang_oci().args(["spec", "--help"])));
}

/// `spec` writes runc's default config.json into the bundle given.
#[test]
fn spec_writes_the_runc_default() {
    let bundle = tempdir();
    stdout_of(bang_oci().args(["spec", "--bundle"]).arg(bundle.path()));
    let text = fs::read_to_string(bundle.path().join("config.json")).unwrap();
    assert_eq!(Spec::load(bundle.path()).unwrap(), Spec::runc_default());
    insta::assert_snapshot!(text);
}

/// `spec` without --bundle writes into the current directory, as runc does.
#[test]
fn spec_writes_into_the_current_directory() {
    let dir = tempdir();
    stdout_of(bang_oci().arg("spec").current_dir(dir.path()));
    assert_eq!(Spec::load(dir.path()).unwrap(), Spec::runc_default());
}

/// `spec --rootless` writes the rootless default, mapping root onto the caller.
#[test]
fn spec_rootless_writes_the_rootless_default() {
    let bundle = tempdir();
    stdout_of(bang_oci().args(["spec", "--rootless", "-b"]).arg(bundle.path()));
    assert_eq!(Spec::load(bundle.path()).unwrap(), Spec::rootless_default());
}

/// `spec` refuses to overwrite an existing config.json, and leaves it as it was.
#[test]
fn spec_refuses_to_overwrite() {
    let bundle = tempdir();
    let config = bundle.path().join("config.json");
    fs::write(&config, "{\"mine\": true}").unwrap();
    let err = stderr_of(bang_oci().args(["spec", "--bundle"]).arg(bundle.path()));
    assert_eq!(fs::read_to_string(&config).unwrap(), "{\"mine\": true}");
    insta::assert_snapshot!(err.replace(&bundle.path().display().to_string(), "<bundle>"));
}

/// `spec` into a directory that does not exist fails with the path in the message.
#[test]
fn spec_into_a_missing_bundle_fails() {
    let dir = tempdir();
    let missing = dir.path().join("nowhere");
    let err = stderr_of(bang_oci().args(["spec", "--bundle"]).arg(&missing));
    assert!(err.contains(&missing.join("config.json").display().to_string()), "{err}");
}

/// `features` prints the features document of what chapters 2 to 5 implement.
#[test]
fn features_prints_what_is_implemented() {
    let out = stdout_of(bang_oci().arg("features"));
    let features: Value = serde_json::from_str(&out).expect("features is JSON");
    assert_eq!(features["linux"]["cgroup"]["systemd"], false);
    assert!(!features["linux"]["namespaces"].as_array().unwrap().contains(&"time".into()));
    insta::assert_snapshot!(out);
}

/// --systemd-cgroup is refused with a clear message.
#[test]
fn systemd_cgroup_is_refused() {
    insta::assert_snapshot!(stderr_of(bang_oci().args(["--systemd-cgroup", "features"])));
}

/// Errors also go to --log, as JSON lines with --log-format json, which podman reads.
#[test]
fn errors_go_to_the_json_log() {
    let dir = tempdir();
    let log = dir.path().join("log.json");
    stderr_of(bang_oci().arg("--log").arg(&log).args([
        "--log-format",
        "json",
        "--systemd-cgroup",
        "features",
    ]));
    let text = fs::read_to_string(&log).expect("the log was written");
    let line: Value = serde_json::from_str(text.lines().next().unwrap()).expect("a JSON line");
    assert_eq!(line["level"], "error");
    assert!(line["msg"].as_str().unwrap().starts_with("--systemd-cgroup is not supported"));
    assert!(line["time"].as_str().unwrap().ends_with('Z'));
}

/// --debug with --log writes debug lines in text form to the log, and the global
/// flags are accepted after the subcommand too. `spec` keeps no state, so it does not
/// even work out the state root; `list` does.
#[test]
fn debug_lines_go_to_the_text_log() {
    let dir = tempdir();
    let log = dir.path().join("log.txt");
    let root = dir.path().join("state");
    stdout_of(
        bang_oci()
            .args(["spec", "--debug", "--root", "/run/x", "--bundle"])
            .arg(dir.path())
            .arg("--log")
            .arg(&log),
    );
    stdout_of(bang_oci().args(["list", "--debug", "--root"]).arg(&root).arg("--log").arg(&log));
    let text = fs::read_to_string(&log).expect("the log was written");
    assert!(!text.contains("state root /run/x"), "spec needs no state root:\n{text}");
    assert!(text.contains(&format!("level=debug msg=\"state root {}\"", root.display())), "{text}");
    assert!(text.contains("level=debug msg=\"wrote "), "{text}");
}

/// runc's verbs that bang-oci does not implement do not exist (no stubs): an engine
/// that tries them gets clap's error naming the verb, not a silent success.
#[test]
fn unwritten_commands_are_unknown() {
    for verb in ["checkpoint", "restore", "events"] {
        let err = stderr_of(bang_oci().args([verb, "x"]));
        assert!(err.contains(&format!("unrecognized subcommand '{verb}'")), "{err}");
    }
}

/// `bang-oci spec` and `runc spec` write the same JSON, and so do their --rootless forms.
#[test]
fn spec_matches_runc_spec() {
    let runc = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .unwrap_or_else(|| {
            panic!("runc is not installed, and this test compares with it: apt-get install runc")
        });
    for flags in [&[][..], &["--rootless"][..]] {
        let (ours, theirs) = (tempdir(), tempdir());
        stdout_of(bang_oci().arg("spec").args(flags).arg("--bundle").arg(ours.path()));
        stdout_of(Command::new(runc).arg("spec").args(flags).arg("--bundle").arg(theirs.path()));
        assert_eq!(
            json_file(&ours.path().join("config.json")),
            json_file(&theirs.path().join("config.json")),
            "bang-oci spec {flags:?} differs from {runc} spec {flags:?}"
        );
    }
}
