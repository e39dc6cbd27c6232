//! OCI hooks (chapter 6), black-box: the state on stdin, argv and env, failures,
//! timeouts (the hook is killed: checked in /proc), and which kinds abort.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bigbang_container::lifecycle::hooks::{run_hook, run_hooks, Hook, HookError, HookKind, OnFailure};
use bigbang_container::lifecycle::state::{State, Status};

const BUSYBOX: &str = "/usr/bin/busybox";

fn state() -> State {
    State {
        oci_version: "1.2.0".into(),
        id: "hooked".into(),
        status: Status::Creating,
        pid: Some(4242),
        bundle: PathBuf::from("/containers/hooked"),
        annotations: BTreeMap::from([("k".to_string(), "v".to_string())]),
    }
}

/// A hook running `busybox sh -c SCRIPT ARG0 ARGS…` (so `$0` is `arg0`).
fn sh(script: &str, arg0: &Path) -> Hook {
    Hook {
        path: BUSYBOX.into(),
        args: vec!["busybox".into(), "sh".into(), "-c".into(), script.into(), arg0.display().to_string()],
        env: Vec::new(),
        timeout: None,
    }
}

fn require_busybox() {
    assert!(
        Path::new(BUSYBOX).exists(),
        "these tests need busybox at {BUSYBOX}: apt-get install busybox-static"
    );
}

/// The hook reads the state JSON on stdin, gets its argv[0] and argv from args, and only the env given.
#[test]
fn hook_receives_state_on_stdin_args_and_env() {
    require_busybox();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdin.json");
    let mut hook = sh(r#"cat > "$0"; echo "$FOO|$HOME|$1" > "$0.env""#, &out);
    hook.args.push("second".into());
    hook.env = vec!["FOO=bar=baz".into(), "PATH=/usr/bin:/bin".into()];
    run_hooks(HookKind::CreateRuntime, &[hook], &state()).unwrap();
    let received: State = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
    assert_eq!(received, state());
    assert_eq!(fs::read_to_string(dir.path().join("stdin.json.env")).unwrap(), "bar=baz||second\n");
}

/// A hook that never reads its stdin does not block the runtime, even with a megabyte of state.
#[test]
fn hook_that_ignores_a_large_stdin_is_fine() {
    require_busybox();
    let mut big = state();
    big.annotations.insert("big".into(), "x".repeat(1 << 20));
    let hook = Hook { path: BUSYBOX.into(), args: vec!["true".into()], env: vec![], timeout: Some(30) };
    run_hooks(HookKind::Poststart, &[hook], &big).unwrap();
}

/// A failing hook of an aborting kind is an error naming kind, index, path, exit status and stderr, and later hooks do not run.
#[test]
fn failing_hook_aborts_with_a_clear_error() {
    require_busybox();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("third-ran");
    let hooks = [
        sh("true", dir.path()),
        sh("echo first line >&2; echo boom >&2; exit 3", dir.path()),
        sh(r#"touch "$0""#, &marker),
    ];
    let err = run_hooks(HookKind::CreateRuntime, &hooks, &state()).unwrap_err();
    let HookError::Failed { kind, index, path, status, output } = &err else { panic!("{err:?}") };
    assert_eq!(
        (*kind, *index, path.as_path(), status.code()),
        (HookKind::CreateRuntime, 1, Path::new(BUSYBOX), Some(3))
    );
    assert_eq!(output.0, "first line\nboom");
    let message = err.to_string();
    for part in ["createRuntime hook #1", BUSYBOX, "exit status: 3", "boom"] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
    assert!(!marker.exists(), "a hook after the failing one ran");
}

/// A failing hook that explains itself on stdout only has that shown in the error.
#[test]
fn failing_hook_stdout_is_shown_when_stderr_is_empty() {
    require_busybox();
    let dir = tempfile::tempdir().unwrap();
    let err =
        run_hook(HookKind::StartContainer, 0, &sh("echo no network; exit 1", dir.path()), "{}").unwrap_err();
    assert!(matches!(&err, HookError::Failed { output, .. } if output.0 == "no network"), "{err:?}");
}

/// A failing poststart or poststop hook is a warning: every hook still runs.
#[test]
fn failing_poststop_hook_only_warns() {
    require_busybox();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("second-ran");
    let hooks = [sh("exit 1", dir.path()), sh(r#"touch "$0""#, &marker)];
    let warnings = run_hooks(HookKind::Poststop, &hooks, &state()).unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(matches!(warnings[0], HookError::Failed { kind: HookKind::Poststop, index: 0, .. }));
    assert!(marker.exists());
}

/// Which kinds abort and which warn, as runtime.md says.
#[test]
fn on_failure_per_kind() {
    let expected = [
        (HookKind::Prestart, OnFailure::Abort),
        (HookKind::CreateRuntime, OnFailure::Abort),
        (HookKind::CreateContainer, OnFailure::Abort),
        (HookKind::StartContainer, OnFailure::Abort),
        (HookKind::Poststart, OnFailure::Warn),
        (HookKind::Poststop, OnFailure::Warn),
    ];
    assert_eq!(HookKind::ALL.map(|k| (k, k.on_failure())), expected);
}

/// A hook past its timeout is killed with its children: the error says so, and /proc shows both gone.
#[test]
fn timed_out_hook_is_killed() {
    require_busybox();
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let mut hook = sh(r#"busybox sleep 1000 & echo "$$ $!" > "$0.tmp"; mv "$0.tmp" "$0"; wait"#, &pids);
    hook.timeout = Some(1);
    let err = run_hook(HookKind::Prestart, 0, &hook, &state().to_json().unwrap()).unwrap_err();
    assert!(
        matches!(err, HookError::TimedOut { kind: HookKind::Prestart, index: 0, timeout: 1, .. }),
        "{err:?}"
    );
    let text = fs::read_to_string(&pids).expect("the hook did not record its pids within its 1 s");
    let (shell, sleeper) = text.trim().split_once(' ').unwrap();
    // The hook itself was reaped before run_hook returned.
    assert!(!Path::new(&format!("/proc/{shell}")).exists(), "hook {shell} still exists");
    // Its child was killed too; init reaps it, which may take a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match fs::read_to_string(format!("/proc/{sleeper}/stat")) {
            Err(_) => break,
            Ok(stat) if stat.contains(") Z ") || stat.contains(") X ") => break,
            Ok(stat) => {
                assert!(Instant::now() < deadline, "the hook's child {sleeper} is still alive: {stat}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// A hook program that does not exist, a relative path, a zero or negative timeout or a bad env entry: clear errors.
#[test]
fn invalid_hooks_are_refused() {
    let json = state().to_json().unwrap();
    let missing = Hook { path: "/nonexistent/hook".into(), args: vec![], env: vec![], timeout: None };
    let err = run_hook(HookKind::CreateContainer, 2, &missing, &json).unwrap_err();
    assert!(matches!(err, HookError::Spawn { kind: HookKind::CreateContainer, index: 2, .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/hook"));
    let relative = Hook { path: "hook.sh".into(), ..missing.clone() };
    assert!(matches!(run_hook(HookKind::Prestart, 0, &relative, &json), Err(HookError::Invalid { .. })));
    let zero = Hook { path: BUSYBOX.into(), timeout: Some(0), ..missing.clone() };
    assert!(matches!(run_hook(HookKind::Prestart, 0, &zero, &json), Err(HookError::Invalid { .. })));
    let negative = Hook { path: BUSYBOX.into(), timeout: Some(-1), ..missing.clone() };
    assert!(matches!(run_hook(HookKind::Prestart, 0, &negative, &json), Err(HookError::Invalid { .. })));
    let env = Hook { path: BUSYBOX.into(), env: vec!["NOEQUALS".into()], ..missing };
    assert!(matches!(run_hook(HookKind::Prestart, 0, &env, &json), Err(HookError::Invalid { .. })));
}

/// Hooks parse from config.json's field names (the `spec` module's type).
#[test]
fn hook_json_uses_config_md_names() {
    let hook: Hook = serde_json::from_str(
        r#"{"path": "/usr/bin/setup-network", "args": ["setup-network", "-v"], "env": ["A=b"], "timeout": 5}"#,
    )
    .unwrap();
    assert_eq!(hook.timeout, Some(5));
    assert_eq!(hook.args, ["setup-network", "-v"]);
    let minimal: Hook = serde_json::from_str(r#"{"path": "/bin/true"}"#).unwrap();
    assert_eq!(serde_json::to_string(&minimal).unwrap(), r#"{"path":"/bin/true"}"#);
    assert_eq!(serde_json::to_value(HookKind::CreateRuntime).unwrap(), "createRuntime");
}
