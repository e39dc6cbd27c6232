//! The watcher behind `cargo workshop watch`: a saved `.rs` file under the folder
//! is noticed, with inotify and with polling.

use std::collections::BTreeSet;
use std::time::Duration;

use bigbang_workshop::watch::{WatchMode, Watcher};

fn saves_are_noticed(force_poll: bool) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("01-demo")).unwrap();
    let file = dir.path().join("01-demo/answer.rs");
    std::fs::write(&file, "old").unwrap();
    let mut watcher = Watcher::new(dir.path(), force_poll).unwrap();
    assert_eq!(matches!(watcher.mode(), WatchMode::Poll { .. }), force_poll);

    let writer = {
        let file = file.clone();
        let swap = dir.path().join("01-demo/.answer.rs.swp");
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            std::fs::write(&swap, "editor noise").unwrap();
            // A burst of saves, as format-on-save makes: one change.
            for text in ["new", "newer", "newest!"] {
                std::fs::write(&file, text).unwrap();
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let changed = watcher.wait().unwrap();
    writer.join().unwrap();
    assert_eq!(changed, BTreeSet::from([file]));
}

/// inotify reports a burst of saves as one change, ignoring editors' swap files.
#[test]
fn inotify_notices_saves() {
    saves_are_noticed(false);
}

/// Polling modification times notices the same (WSL's Windows drives need it).
#[test]
fn polling_notices_saves() {
    saves_are_noticed(true);
}
