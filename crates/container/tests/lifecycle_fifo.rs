//! The exec fifo between `create` and `start` (chapter 6), black-box: an init (a
//! thread, or a real process) waits on it; start lets it go once and only once.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use bigbang_container::lifecycle::fifo::{ExecFifo, FifoError, StartGate};
use bigbang_container::lifecycle::state::InitProcess;

const BUSYBOX: &str = "/usr/bin/busybox";

fn identity(pid: u32) -> InitProcess {
    InitProcess::of(pid as i32, Path::new("/proc")).unwrap()
}

/// A waiting init (a thread) is released by start, which then removes the fifo; a second start fails AlreadyStarted.
#[test]
fn start_releases_a_waiting_thread_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = ExecFifo::create(dir.path()).unwrap();
    let mut gate = StartGate::open(fifo.path()).unwrap();
    gate.pin().unwrap();
    let init = std::thread::spawn(move || gate.wait_for_start());
    fifo.start(&identity(std::process::id())).unwrap();
    init.join().unwrap().unwrap();
    assert!(!fifo.path().exists(), "start must remove the fifo");
    assert!(matches!(fifo.start(&identity(std::process::id())), Err(FifoError::AlreadyStarted { .. })));
}

/// A real process blocked opening the fifo for writing is released by start and exits cleanly.
#[test]
fn start_releases_a_waiting_process() {
    assert!(Path::new(BUSYBOX).exists(), "this test needs busybox at {BUSYBOX}");
    let dir = tempfile::tempdir().unwrap();
    let fifo = ExecFifo::create(dir.path()).unwrap();
    let mut child =
        Command::new(BUSYBOX).args(["sh", "-c", r#"printf 0 > "$0""#]).arg(fifo.path()).spawn().unwrap();
    let result = fifo.start(&identity(child.id()));
    assert!(child.wait().unwrap().success());
    result.unwrap();
}

/// An init that exits without ever waiting makes start fail with InitExited instead of blocking forever.
#[test]
fn start_fails_when_the_init_exits_without_waiting() {
    assert!(Path::new(BUSYBOX).exists(), "this test needs busybox at {BUSYBOX}");
    let dir = tempfile::tempdir().unwrap();
    let fifo = ExecFifo::create(dir.path()).unwrap();
    let mut child =
        Command::new(BUSYBOX).args(["sh", "-c", "read line"]).stdin(Stdio::piped()).spawn().unwrap();
    let init = identity(child.id());
    let mut stdin = child.stdin.take().unwrap();
    std::thread::scope(|s| {
        let starter = s.spawn(|| fifo.start(&init));
        stdin.write_all(b"exit now\n").unwrap();
        drop(stdin);
        let result = starter.join().unwrap();
        assert!(matches!(result, Err(FifoError::InitExited { pid }) if pid == init.pid), "{result:?}");
    });
    child.wait().unwrap();
    assert!(fifo.path().exists(), "a failed start leaves the fifo for delete to remove");
}

/// A gate whose /proc/self/fd was never pinned refuses to reopen the fifo through
/// whatever /proc the process sees now (after pivot_root, the image's).
#[test]
fn an_unpinned_gate_refuses_to_wait() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = ExecFifo::create(dir.path()).unwrap();
    let gate = StartGate::open(fifo.path()).unwrap();
    assert!(matches!(gate.wait_for_start(), Err(FifoError::NotPinned { .. })));
}

/// Creating the fifo twice fails with Exists; a regular file in its place is refused as NotAFifo.
#[test]
fn fifo_misuse_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = ExecFifo::create(dir.path()).unwrap();
    assert!(matches!(ExecFifo::create(dir.path()), Err(FifoError::Exists { .. })));
    fs::remove_file(fifo.path()).unwrap();
    fs::write(fifo.path(), b"0").unwrap();
    let err = ExecFifo::at(dir.path()).start(&identity(std::process::id())).unwrap_err();
    assert!(matches!(err, FifoError::NotAFifo { .. }), "{err:?}");
}
