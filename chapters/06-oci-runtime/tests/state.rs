//! Chapter 6: the state machine and telling a living init from a dead one. These run
//! your `lifecycle::state` directly and need no root.

use std::path::Path;
use std::process::Command;

use chapter_6::lifecycle::state::{InitProcess, Status};

/// Every (from, to) pair a container may take, from runtime.md's lifecycle plus
/// runc's `paused`.
const ALLOWED: &[(Status, Status)] = &[
    (Status::Creating, Status::Created),
    (Status::Creating, Status::Stopped),
    (Status::Created, Status::Running),
    (Status::Created, Status::Stopped),
    (Status::Running, Status::Paused),
    (Status::Running, Status::Stopped),
    (Status::Paused, Status::Running),
    (Status::Paused, Status::Stopped),
];

#[test]
fn the_state_machine_allows_exactly_the_lifecycle_transitions() {
    let mut wrong = Vec::new();
    for from in Status::ALL {
        for to in Status::ALL {
            let expected = ALLOWED.contains(&(from, to));
            if from.can_become(to) != expected {
                wrong.push(format!(
                    "{from} -> {to}: can_become says {}, the lifecycle says {expected}",
                    from.can_become(to)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "Status::can_become is wrong for:\n{}", wrong.join("\n"));
}

#[test]
fn nothing_leaves_stopped_and_errors_say_what_to_do() {
    for to in Status::ALL {
        let err = Status::Stopped.transition(to).expect_err("stopped is final");
        assert!(err.to_string().contains("can only be deleted"), "stopped -> {to}: {err}");
    }
    let err = Status::Running.transition(Status::Running).unwrap_err().to_string();
    assert!(err.contains("already running"), "{err}");
    assert_eq!(Status::Created.transition(Status::Running).unwrap(), Status::Running);
}

#[test]
fn a_living_process_is_alive_and_a_reused_pid_is_not() {
    let mut child = Command::new("sleep").arg("1000").spawn().expect("running sleep");
    let pid = child.id() as i32;
    let proc_root = Path::new("/proc");
    let init = InitProcess::of(pid, proc_root).unwrap();
    let alive = init.is_alive(proc_root);
    // The same pid with another start time: the kernel gave the number to someone else.
    let impostor = InitProcess { pid, start_time: init.start_time + 1 }.is_alive(proc_root);
    let _ = child.kill();
    let _ = child.wait();
    assert!(alive.unwrap(), "a running `sleep` (pid {pid}) is reported dead");
    assert!(!impostor.unwrap(), "pid {pid} with another start time must not count as our init");
}

#[test]
fn a_zombie_and_a_reaped_process_are_dead() {
    let mut child = Command::new("true").spawn().expect("running true");
    let pid = child.id() as i32;
    let proc_root = Path::new("/proc");
    // Read the identity before it can exit… it may already have: then only a zombie is left,
    // whose stat still holds the start time.
    let init = InitProcess::of(pid, proc_root).expect("a zombie still has /proc/<pid>/stat");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap()
        .rsplit(')')
        .next()
        .unwrap()
        .trim()
        .starts_with(|c| c != 'Z')
    {
        assert!(std::time::Instant::now() < deadline, "`true` did not exit");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let zombie = init.is_alive(proc_root);
    child.wait().unwrap();
    let reaped = init.is_alive(proc_root);
    assert!(!zombie.unwrap(), "pid {pid} has exited (it is a zombie, state Z): it is not alive");
    assert!(!reaped.unwrap(), "pid {pid} has exited and been reaped: it is not alive");
}
