//! Chapter 6: the create/start handshake through the exec fifo, observed from outside:
//! after `create` the init exists, has written its pid file and waits; the payload
//! has not run; `start` lets it run, once.

mod common;

use std::fs;

use chapter_6::lifecycle::fifo::FifoError;
use chapter_6::lifecycle::state::Status;
use chapter_6::lifecycle::store::Store;
use chapter_6::lifecycle::{self, ControlError, LifecycleError};
use common::{process_lives, Bundle, Runtime};

/// `start` of container `id` through the library, as `chapter-6 start` calls it:
/// its error is a value to match, not a message to read.
fn start(runtime: &Runtime, id: &str) -> Result<(), LifecycleError> {
    let store = Store::open(&runtime.state_dir("")).expect("the runtime's state root");
    lifecycle::start(&store, id).map(drop)
}

#[test]
fn create_leaves_the_init_waiting_and_start_runs_the_payload() {
    let runtime = Runtime::new();
    let hs1 = runtime.id("hs1");
    let bundle = Bundle::new(&["sh", "-c", "echo started > /started; echo hello; sleep 1000"]);
    let pid = runtime.create(&bundle, &hs1);
    let state = runtime.state(&hs1);
    assert_eq!(state["status"], "created", "after create: {state}{}", runtime.hole_note());
    assert_eq!(state["pid"], pid, "the pid file and the state disagree: {state}");
    assert!(
        process_lives(pid),
        "the init (pid {pid}) must wait for start, but it is gone{}",
        runtime.hole_note()
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!bundle.file("started").exists(), "the payload ran before `start`: /started exists");
    assert!(
        runtime.state_dir(&hs1).join("exec.fifo").exists(),
        "the init waits on exec.fifo, which is missing"
    );

    runtime.ok(&["start", &hs1]);
    common::eventually("the payload writes /started", || bundle.file("started").exists());
    assert_eq!(runtime.state(&hs1)["status"], "running");
    common::eventually("the payload prints hello", || runtime.stdout(&hs1) == "hello\n");
    assert!(!runtime.state_dir(&hs1).join("exec.fifo").exists(), "start must remove the exec fifo");
    runtime.ok(&["delete", "--force", &hs1]);
}

#[test]
fn a_container_starts_only_once() {
    let runtime = Runtime::new();
    let hs2 = runtime.id("hs2");
    let bundle = Bundle::new(&["sleep", "1000"]);
    runtime.create(&bundle, &hs2);
    runtime.ok(&["start", &hs2]);
    match start(&runtime, &hs2) {
        Err(LifecycleError::Control(ControlError::NotCreated { status: Status::Running, .. }))
        | Err(LifecycleError::Fifo(FifoError::AlreadyStarted { .. })) => {}
        other => panic!("a second start must fail as running, not created, or already started: {other:?}"),
    }
    runtime.fails(&["start", &hs2]);
    runtime.ok(&["delete", "--force", &hs2]);
}

#[test]
fn start_reports_an_init_that_died_while_waiting() {
    let runtime = Runtime::new();
    let hs3 = runtime.id("hs3");
    let bundle = Bundle::new(&["sleep", "1000"]);
    let pid = runtime.create(&bundle, &hs3);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    common::eventually("the killed init is gone", || !process_lives(pid));
    match start(&runtime, &hs3) {
        Err(LifecycleError::Control(ControlError::NotCreated { status: Status::Stopped, .. }))
        | Err(LifecycleError::Fifo(FifoError::InitExited { .. })) => {}
        other => panic!("start of a dead init must fail as stopped, or as exited without waiting: {other:?}"),
    }
    runtime.fails(&["start", &hs3]);
    runtime.ok(&["delete", &hs3]);
}

#[test]
fn a_payload_that_exits_at_once_still_counts_as_started() {
    let runtime = Runtime::new();
    let bundle = Bundle::new(&["true"]);
    for round in 0..5 {
        let id = runtime.id(&format!("hs4-{round}"));
        runtime.create(&bundle, &id);
        runtime.ok(&["start", &id]);
        runtime.wait_status(&id, "stopped");
        runtime.ok(&["delete", &id]);
    }
}

#[test]
fn run_creates_starts_waits_and_deletes() {
    let runtime = Runtime::new();
    let hs5 = runtime.id("hs5");
    let bundle = Bundle::new(&["sh", "-c", "exit 7"]);
    let status = runtime.run_container(&bundle, &hs5);
    assert_eq!(
        status.code(),
        Some(7),
        "run must exit as the payload did ({status}); its stderr: {}{}",
        runtime.err(&hs5),
        runtime.hole_note()
    );
    assert!(!runtime.state_dir(&hs5).exists(), "run must delete the container afterwards");
    assert!(fs::read_dir(runtime.state_dir("")).unwrap().next().is_none());
}
