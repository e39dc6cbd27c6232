//! OCI hooks (chapter 6): programs config.json asks the runtime to run at points of
//! the lifecycle, each given the container's state as JSON on stdin, each killed if
//! it outlives its timeout. Read the runtime-spec's config.md ("POSIX-platform
//! Hooks") and runtime.md ("Lifecycle"), execve(2) and setpgid(2).

use std::fmt;
use std::fs::File;
use std::io::{self, Seek, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::state::{pidfd_open, State, StateError};

/// How much of a failed hook's stderr goes into the error.
const STDERR_LINES: usize = 10;
const STDERR_BYTES: usize = 4096;

/// What can go wrong while running a hook.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{kind} hook #{index} ({path}) is invalid: {reason}; fix it in config.json")]
    Invalid { kind: HookKind, index: usize, path: PathBuf, reason: String },
    #[error(
        "cannot run {kind} hook #{index} ({path}): {source}; the path must name an executable on the host"
    )]
    Spawn { kind: HookKind, index: usize, path: PathBuf, source: io::Error },
    #[error("{kind} hook #{index} ({path}) failed with {status}{output}")]
    Failed { kind: HookKind, index: usize, path: PathBuf, status: ExitStatus, output: OutputHead },
    #[error("{kind} hook #{index} ({path}) did not finish within its timeout of {timeout} s and was killed (with its process group); raise `timeout` in config.json or fix the hook")]
    TimedOut { kind: HookKind, index: usize, path: PathBuf, timeout: u64 },
    #[error("cannot set up the stdin/stdout/stderr of {kind} hook #{index} ({path}): {source}")]
    Stdio { kind: HookKind, index: usize, path: PathBuf, source: io::Error },
    #[error("cannot wait for {kind} hook #{index} ({path}): {source}")]
    Wait { kind: HookKind, index: usize, path: PathBuf, source: io::Error },
    #[error(transparent)]
    State(#[from] StateError),
}

/// The first lines a failed hook wrote to stderr (or, if none, to stdout).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputHead(pub String);

impl fmt::Display for OutputHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "; it printed:\n{}", self.0)
        }
    }
}

// ANCHOR: hook
/// One hook, as config.json spells it: the `spec` module's type, so what is parsed
/// is what runs. Its path must be absolute, its timeout positive: [`run_hook`] checks.
pub use crate::spec::Hook;
// ANCHOR_END: hook

/// When in the lifecycle a hook runs (config.md's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HookKind {
    /// Deprecated: after the container's namespaces exist, before pivot_root; on the host.
    Prestart,
    /// During create, after the namespaces exist, before pivot_root; on the host.
    CreateRuntime,
    /// During create, after createRuntime, before pivot_root; inside the container's namespaces.
    CreateContainer,
    /// During start, just before the user's program; inside the container.
    StartContainer,
    /// After start has run the user's program; on the host.
    Poststart,
    /// After the container stopped, during delete; on the host.
    Poststop,
}

/// What the runtime does when a hook fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Report an error, stop the container, and continue with delete (runtime.md step 12).
    Abort,
    /// Log a warning; the remaining hooks and the lifecycle go on as if it had succeeded.
    Warn,
}

impl HookKind {
    /// Every kind, in the order the lifecycle runs them.
    pub const ALL: [HookKind; 6] = [
        HookKind::Prestart,
        HookKind::CreateRuntime,
        HookKind::CreateContainer,
        HookKind::StartContainer,
        HookKind::Poststart,
        HookKind::Poststop,
    ];

    /// The name config.md gives the list (`hooks.<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::Prestart => "prestart",
            HookKind::CreateRuntime => "createRuntime",
            HookKind::CreateContainer => "createContainer",
            HookKind::StartContainer => "startContainer",
            HookKind::Poststart => "poststart",
            HookKind::Poststop => "poststop",
        }
    }

    // ANCHOR: on_failure
    /// runtime.md: a failing prestart, createRuntime, createContainer or startContainer
    /// hook is an error that stops the container; a failing poststart or poststop hook
    /// is a warning (the container is already running, or already gone).
    pub fn on_failure(self) -> OnFailure {
        match self {
            HookKind::Prestart
            | HookKind::CreateRuntime
            | HookKind::CreateContainer
            | HookKind::StartContainer => OnFailure::Abort,
            HookKind::Poststart | HookKind::Poststop => OnFailure::Warn,
        }
    }
    // ANCHOR_END: on_failure
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ANCHOR: run_hooks
/// Runs the hooks of one kind in order, each with `state` on stdin. For an aborting
/// kind the first failure is returned and the rest do not run; for a warning kind
/// every hook runs and the failures come back as warnings for the caller to log.
pub fn run_hooks(kind: HookKind, hooks: &[Hook], state: &State) -> Result<Vec<HookError>, HookError> {
    let json = state.to_json()?;
    let mut warnings = Vec::new();
    for (index, hook) in hooks.iter().enumerate() {
        if let Err(e) = run_hook(kind, index, hook, &json) {
            match kind.on_failure() {
                OnFailure::Abort => return Err(e),
                OnFailure::Warn => warnings.push(e),
            }
        }
    }
    Ok(warnings)
}
// ANCHOR_END: run_hooks

// ANCHOR: run_hook
/// Runs hook `index` of `kind` with `state_json` on its stdin and waits for it, at
/// most `timeout` seconds; then it and its process group are killed.
///
/// Why memfds, not pipes, for its stdio: with a pipe the runtime must write stdin
/// and drain stdout/stderr while it waits (or a chatty hook blocks on a full pipe),
/// and a background child of the hook that keeps the pipe open would keep the runtime
/// reading after the hook exits. A memfd is a file: written before the spawn, read
/// after the exit, and nobody blocks on it. (A production runtime would cap its size.)
pub fn run_hook(kind: HookKind, index: usize, hook: &Hook, state_json: &str) -> Result<(), HookError> {
    let path = PathBuf::from(&hook.path);
    let invalid = |reason: String| HookError::Invalid { kind, index, path: path.clone(), reason };
    if !path.is_absolute() {
        return Err(invalid("the path is not absolute".into()));
    }
    let timeout = match hook.timeout {
        Some(seconds) if seconds <= 0 => {
            return Err(invalid(format!("timeout {seconds} must be greater than zero")))
        }
        Some(seconds) => Some(seconds.unsigned_abs()),
        None => None,
    };
    if let Some(bad) = hook.env.iter().find(|e| !e.contains('=')) {
        return Err(invalid(format!("env entry {bad:?} is not of the form KEY=value")));
    }
    let stdio_error = |source| HookError::Stdio { kind, index, path: path.clone(), source };

    let stdin = memfd("bang-oci-hook-stdin").map_err(stdio_error)?;
    (|| {
        (&stdin).write_all(state_json.as_bytes())?;
        // The hook shares this file offset: rewind, or it reads from the end.
        (&stdin).rewind()
    })()
    .map_err(stdio_error)?;
    let stdout = memfd("bang-oci-hook-stdout").map_err(stdio_error)?;
    let stderr = memfd("bang-oci-hook-stderr").map_err(stdio_error)?;

    let mut command = Command::new(&hook.path);
    if let Some((argv0, rest)) = hook.args.split_first() {
        command.arg0(argv0).args(rest);
    }
    if !hook.env.is_empty() {
        command.env_clear();
        for entry in &hook.env {
            let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
            command.env(key, value);
        }
    }
    command
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::from(stdout.try_clone().map_err(stdio_error)?))
        .stderr(Stdio::from(stderr.try_clone().map_err(stdio_error)?))
        // Its own process group, so a timeout kills what it started too.
        .process_group(0);
    let mut child =
        command.spawn().map_err(|source| HookError::Spawn { kind, index, path: path.clone(), source })?;
    let pid = Pid::from_raw(child.id() as i32);
    let wait_error = |source| HookError::Wait { kind, index, path: path.clone(), source };

    let status = match timeout {
        None => child.wait().map_err(wait_error)?,
        Some(timeout) => match exits_within(pid, Duration::from_secs(timeout)) {
            Ok(true) => child.wait().map_err(wait_error)?,
            timed_out_or_error => {
                // Until we reap it the pid stays the hook's, so this cannot hit a stranger.
                let _ = killpg(pid, Signal::SIGKILL);
                // Reap it, so the hook is gone when we return, whatever went wrong.
                let _ = child.wait();
                return Err(match timed_out_or_error {
                    Err(source) => wait_error(source),
                    _ => HookError::TimedOut { kind, index, path, timeout },
                });
            }
        },
    };
    if status.success() {
        return Ok(());
    }
    // Hooks that report on stdout instead are not rare: show that when stderr is empty.
    let mut output = head(&stderr);
    if output.0.is_empty() {
        output = head(&stdout);
    }
    Err(HookError::Failed { kind, index, path, status, output })
}
// ANCHOR_END: run_hook

// ANCHOR: exits_within
/// Waits at most `timeout` for the (unreaped) child `pid` to exit, without reaping it.
///
/// Why a pidfd and poll(2), not a thread blocked in wait(2) or a try_wait loop: a
/// pidfd becomes readable the moment the process exits, poll takes the timeout,
/// and no thread is started — a `bang-oci` that must stay single-threaded (setns(2)
/// into a user namespace refuses a multi-threaded caller) can still run hooks.
fn exits_within(pid: Pid, timeout: Duration) -> io::Result<bool> {
    let pidfd = pidfd_open(pid.as_raw()).map_err(io::Error::from)?;
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let left = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, left) {
            Ok(0) if Instant::now() >= deadline => return Ok(false),
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => return Ok(true),
            Err(e) => return Err(e.into()),
        }
    }
}
// ANCHOR_END: exits_within

fn memfd(name: &str) -> io::Result<File> {
    let fd = memfd_create(name, MFdFlags::MFD_CLOEXEC).map_err(io::Error::from)?;
    Ok(File::from(fd))
}

/// The first lines of what the hook wrote, read from the start of the memfd (the
/// hook moved the shared offset to the end).
fn head(output: &File) -> OutputHead {
    let mut buf = vec![0u8; STDERR_BYTES];
    let n = output.read_at(&mut buf, 0).unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]);
    OutputHead(text.lines().take(STDERR_LINES).collect::<Vec<_>>().join("\n"))
}
