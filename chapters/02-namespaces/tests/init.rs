//! Chapter 2's checks of PID 1, with your `exercises/02-namespaces/`: it reaps
//! orphans, passes signals on to the payload, and exits as the payload did.

mod common;
#[path = "common/container.rs"]
mod container;

use std::time::Instant;

use bigbang_testkit::process::children;
use bigbang_testkit::wait::PATIENCE;
use common::text;

/// The payload trapped SIGTERM: it printed got-term and exited 42, and that status came
/// back through the init and the runtime.
fn assert_term_reached_the_payload(out: &std::process::Output) {
    assert_eq!(text(&out.stdout), "got-term\n", "stderr: {}{}", text(&out.stderr), note(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(42),
        "the payload's exit status, through the init and the runtime; stderr: {}{}",
        text(&out.stderr),
        note(&out.stderr)
    );
}

/// [`bigbang_testkit::holes::note`] of a runtime's stderr bytes.
fn note(stderr: &[u8]) -> String {
    bigbang_testkit::holes::note(&text(stderr))
}
use container::{with_user, Container};
use nix::sys::signal::{kill, Signal};

/// An orphaned grandchild is re-parented to the init and reaped: no zombie is left under PID 1.
#[test]
fn an_orphan_is_reaped() {
    // The inner shell starts `sleep 1` in the background and exits at once, so the
    // sleep's parent is gone: the kernel hands it to PID 1. The payload stays up.
    let script = "sh -c 'sleep 1 & exit 0'; touch /tmp/ready; read line || true";
    let mut container = Container::start(&with_user("pid"), &[], script);
    let init = container.init_pid();
    container.wait_for("/tmp/ready");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let kids = children(init);
        // Once the orphan has exited and been reaped, only the payload is left.
        if kids.len() == 1 && kids[0].state != 'Z' {
            break;
        }
        if nix::sys::signal::kill(init, None).is_err() {
            panic!("the init (host pid {init}) died while the payload was running{}", container.hole_note());
        }
        if Instant::now() >= deadline {
            panic!(
                "children of the init (host pid {init}) never came down to the payload alone, zombies (Z) remain: {kids:?}{}",
                container.hole_note()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    container.finish_ok();
}

/// Orphans are reaped without a PID namespace too: the init is then a child subreaper.
#[test]
fn without_a_pid_namespace_the_init_adopts_orphans() {
    let script = "sh -c 'sleep 1 & exit 0'; touch /tmp/ready; read line || true";
    let mut container = Container::start(&with_user("uts"), &[], script);
    let init = container.init_pid();
    container.wait_for("/tmp/ready");
    let deadline = Instant::now() + PATIENCE;
    while !(children(init).len() == 1 && children(init)[0].state != 'Z') {
        if Instant::now() >= deadline {
            panic!(
                "orphans or zombies under the init (host pid {init}), or no payload: {:?}{}",
                children(init),
                container.hole_note()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    container.finish_ok();
}

/// A SIGTERM sent to the init's host pid reaches the payload, and its exit status 42 comes back.
#[test]
fn sigterm_to_the_init_reaches_the_payload() {
    // `wait` returns as soon as a trapped signal arrives; `sleep` would finish first.
    let script = "trap 'echo got-term; exit 42' TERM; touch /tmp/ready; sleep 600 & wait $!";
    let mut container = Container::start(&with_user("pid"), &[], script);
    let init = container.init_pid();
    container.wait_for("/tmp/ready");
    kill(init, Signal::SIGTERM).unwrap();
    assert_term_reached_the_payload(&container.finish());
}

/// A SIGHUP sent to the runtime travels runtime → init → payload.
#[test]
fn signals_to_the_runtime_are_forwarded_too() {
    let script = "trap 'echo got-hup; exit 7' HUP; touch /tmp/ready; sleep 600 & wait $!";
    let mut container = Container::start(&with_user("pid"), &[], script);
    container.init_pid();
    container.wait_for("/tmp/ready");
    kill(container.runtime_pid, Signal::SIGHUP).unwrap();
    let out = container.finish();
    assert_eq!(text(&out.stdout), "got-hup\n", "stderr: {}{}", text(&out.stderr), note(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(7),
        "the payload's exit status after SIGHUP; stderr: {}{}",
        text(&out.stderr),
        note(&out.stderr)
    );
}

/// Exit codes 0, 1 and 255 come back intact, and a death by signal n as 128+n.
#[test]
fn the_payload_s_exit_status_comes_back() {
    for (script, code) in [("exit 0", 0), ("exit 1", 1), ("exit 255", 255), ("kill -KILL $$", 137)] {
        let container = Container::start(&with_user("pid,uts"), &[], script);
        let out = container.finish();
        assert_eq!(
            out.status.code(),
            Some(code),
            "sh -c {script:?}: {}{}",
            text(&out.stderr),
            note(&out.stderr)
        );
    }
}

/// After the init has reaped an orphan it still forwards signals: a blocking
/// waitpid(2) (no WNOHANG) would hold the init until every child is gone.
#[test]
fn signals_are_forwarded_after_an_orphan_is_reaped() {
    let script =
        "sh -c 'true & exit 0'; trap 'echo got-term; exit 42' TERM; touch /tmp/ready; sleep 600 & wait $!";
    let mut container = Container::start(&with_user("pid"), &[], script);
    let init = container.init_pid();
    container.wait_for("/tmp/ready");
    // Until only the payload (and its sleep, a child of the payload) is left under the init.
    let deadline = Instant::now() + PATIENCE;
    while !(children(init).len() == 1 && children(init)[0].state != 'Z') {
        if Instant::now() >= deadline {
            panic!("orphans or zombies under the init: {:?}{}", children(init), container.hole_note());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    kill(init, Signal::SIGTERM).unwrap();
    assert_term_reached_the_payload(&container.finish());
}

/// An orphan killed by a signal is not the payload: the init goes on until the payload
/// itself exits, and reports the payload's code, not the orphan's signal.
#[test]
fn an_orphan_killed_by_a_signal_is_not_the_payload() {
    let script = "sh -c 'sleep 600 & echo $! > /tmp/orphan'; kill -KILL $(cat /tmp/orphan); \
                  touch /tmp/ready; read line || true; exit 5";
    let mut container = Container::start(&with_user("pid"), &[], script);
    let init = container.init_pid();
    container.wait_for("/tmp/ready");
    // Once the orphan is reaped, the init must still be there with its payload.
    let deadline = Instant::now() + PATIENCE;
    while !(children(init).len() == 1 && children(init)[0].state != 'Z') {
        if kill(init, None).is_err() {
            panic!("the init (host pid {init}) ended when an orphan was killed{}", container.hole_note());
        }
        if Instant::now() >= deadline {
            panic!("orphans or zombies under the init: {:?}{}", children(init), container.hole_note());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = container.finish();
    assert_eq!(
        out.status.code(),
        Some(5),
        "the payload's exit code: {}{}",
        text(&out.stderr),
        note(&out.stderr)
    );
}
