//! prepare_rootfs in a process with threads (chapter 3): unshare(CLONE_NEWNS) alone
//! would move the calling thread only, so the guard refuses before anything changes.

use std::fs;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;

use bigbang_container::rootfs::{prepare_rootfs, RootfsConfig, RootfsError};

/// The mount namespace of the calling thread, not of the process's main thread; `None`
/// when the thread's root has no /proc (it was moved into the rootfs).
fn thread_mount_namespace() -> Option<PathBuf> {
    fs::read_link("/proc/thread-self/ns/mnt").ok()
}

/// With a second thread alive, prepare_rootfs returns MultiThreaded and the calling thread is still in its mount namespace.
#[test]
fn refuses_a_process_with_threads() {
    let rootfs = tempfile::tempdir().expect("tempdir");
    let (stop, stopped) = mpsc::channel::<()>();
    let other = thread::spawn(move || {
        let _ = stopped.recv();
    });
    let before = thread_mount_namespace();
    let result = prepare_rootfs(&RootfsConfig::bare(rootfs.path()));
    let after = thread_mount_namespace();
    drop(stop);
    other.join().expect("the other thread");
    assert!(matches!(result, Err(RootfsError::MultiThreaded { .. })), "{result:?}");
    assert_eq!(before, after, "the calling thread left its mount namespace");
}
