//! The chapter 3 demo: a command in a root filesystem of its own mount tree, built by
//! your `rootfs` code, and the chroot escape tried against chroot and pivot_root.
//!
//! `chapter-3 run [OPTIONS] ROOTFS -- CMD [ARG…]` does what `runc init` does for mounts:
//! in a single-threaded process it enters a user namespace when not root, unshares the
//! mount, PID, network, IPC and UTS namespaces, forks the container's PID 1, which
//! prepares the rootfs and execs CMD. Exit status: CMD's, 125 when the runtime failed.
//! `chapter-3 escape ROOTFS MARKER` tries the classic chroot escape after chroot(2),
//! after the chroot fallback, and after pivot_root(2), and says whether it read MARKER.
//! `chapter-3 --make-rootfs DIR` builds a busybox rootfs to try it on.

use std::ffi::CString;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chapter_3::process::{RootInUserNamespace, CONTAINER_PATH};
use chapter_3::rootfs::escape::try_chroot_escape;
use chapter_3::rootfs::{prepare_rootfs, Mount, Overlay, RootChange, RootfsConfig};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{chdir, chroot, execve, fork, geteuid, ForkResult};

const USAGE: &str = "usage: chapter-3 run [--overlay LOWER[:LOWER...] [--upper DIR --work DIR]] [--readonly]
                     [--no-pivot] [--bind SRC:DEST[:ro]]... [--pid-file FILE] ROOTFS -- CMD [ARG...]
       chapter-3 escape ROOTFS MARKER
       chapter-3 --make-rootfs DIR";

/// What `run` was asked to do.
struct RunArgs {
    config: RootfsConfig,
    pid_file: Option<PathBuf>,
    argv: Vec<String>,
}

fn parse_run(args: &[String]) -> Result<RunArgs, String> {
    let mut overlay = Overlay::default();
    let (mut readonly, mut no_pivot) = (false, false);
    let mut binds = Vec::new();
    let mut pid_file = None;
    let mut rest = args.iter();
    let rootfs = loop {
        let arg = rest.next().ok_or("missing ROOTFS")?;
        let mut value = || rest.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            // overlayfs resolves its directories when it is mounted: make them absolute now.
            "--overlay" => overlay.lower = value()?.split(':').map(absolute).collect(),
            "--upper" => overlay.upper = Some(absolute(&value()?)),
            "--work" => overlay.work = Some(absolute(&value()?)),
            "--readonly" => readonly = true,
            "--no-pivot" => no_pivot = true,
            "--pid-file" => pid_file = Some(PathBuf::from(value()?)),
            "--bind" => {
                let spec = value()?;
                let parts: Vec<&str> = spec.split(':').collect();
                let (source, dest, ro) = match parts.as_slice() {
                    [s, d] => (*s, *d, false),
                    [s, d, "ro"] => (*s, *d, true),
                    _ => return Err(format!("--bind {spec}: write SRC:DEST or SRC:DEST:ro")),
                };
                let options: &[&str] = if ro { &["rbind", "ro", "nosuid", "nodev"] } else { &["rbind"] };
                binds.push(Mount::new(dest, "bind", source, options));
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            rootfs => break PathBuf::from(rootfs),
        }
    };
    match rest.next() {
        Some(dashes) if dashes == "--" => {}
        _ => return Err("write -- between ROOTFS and the command".to_owned()),
    }
    let argv: Vec<String> = rest.cloned().collect();
    if argv.is_empty() {
        return Err("no command given; say which program to run, e.g. -- /bin/sh".to_owned());
    }
    let mut config = RootfsConfig::new(rootfs);
    config.mounts.extend(binds);
    config.readonly = readonly;
    if no_pivot {
        config.root_change = RootChange::MoveAndChroot;
    }
    if !overlay.lower.is_empty() || overlay.upper.is_some() || overlay.work.is_some() {
        config.overlay = Some(overlay);
    }
    Ok(RunArgs { config, pid_file, argv })
}

fn absolute(path: &str) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path))
}

/// Becomes root in a user namespace when not root, so that the rest is allowed.
fn enter_user_namespace_if_needed() -> Result<(), String> {
    if !geteuid().is_root() {
        RootInUserNamespace::for_current_user().enter().map_err(|err| {
            format!("cannot enter a user namespace ({err}); run as root or see `cargo workshop doctor`")
        })?;
    }
    Ok(())
}

/// Finds the command in the container's own `/` (after the root change).
fn lookup(program: &str) -> PathBuf {
    if program.contains('/') {
        return PathBuf::from(program);
    }
    CONTAINER_PATH
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from(program))
}

fn cstring(bytes: &[u8]) -> CString {
    CString::new(bytes).unwrap_or_else(|_| CString::from(c"?"))
}

/// The container's PID 1: waits for the parent's go, prepares the rootfs, execs.
fn container_init(run: &RunArgs, go: std::os::fd::OwnedFd) -> ExitCode {
    // If the runtime dies, so does the container (and with PID 1, its whole namespace).
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    let mut byte = [0u8; 1];
    let _ = nix::unistd::read(go.as_fd(), &mut byte);
    drop(go);
    if let Err(err) = prepare_rootfs(&run.config) {
        eprintln!("chapter-3: {err}");
        return ExitCode::from(125);
    }
    let program = lookup(&run.argv[0]);
    let argv: Vec<CString> = run.argv.iter().map(|a| cstring(a.as_bytes())).collect();
    let env = [cstring(format!("PATH={CONTAINER_PATH}").as_bytes()), cstring(b"HOME=/")];
    let err = execve(&cstring(program.as_os_str().as_bytes()), &argv, &env).unwrap_err();
    eprintln!("chapter-3: cannot run {}: {err}", run.argv[0]);
    ExitCode::from(if err == nix::errno::Errno::ENOENT { 127 } else { 126 })
}

fn run(args: &[String]) -> ExitCode {
    let run = match parse_run(args) {
        Ok(run) => run,
        Err(msg) => {
            eprintln!("chapter-3: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Bad input is reported before any namespace or mount exists.
    if let Err(err) = run.config.validate() {
        eprintln!("chapter-3: {err}");
        return ExitCode::from(125);
    }
    if let Err(msg) = enter_user_namespace_if_needed() {
        eprintln!("chapter-3: {msg}");
        return ExitCode::from(125);
    }
    let mut run = run;
    if chapter_3::rootfs::in_user_namespace() {
        run.config = run.config.rootless();
    }
    // A PID namespace so that the new /proc shows the container's processes only (and,
    // in a user namespace, so that mounting proc is allowed at all); a network namespace
    // so that sysfs may be mounted; IPC for mqueue.
    let flags = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS;
    if let Err(errno) = unshare(flags) {
        eprintln!(
            "chapter-3: cannot create the namespaces: {errno}; run as root or see `cargo workshop doctor`"
        );
        return ExitCode::from(125);
    }
    let (go_read, go_write) = match nix::unistd::pipe() {
        Ok(pair) => pair,
        Err(errno) => {
            eprintln!("chapter-3: cannot create a pipe: {errno}");
            return ExitCode::from(125);
        }
    };
    // SAFETY: this process is single-threaded, so the child may do anything after fork.
    match unsafe { fork() } {
        Err(errno) => {
            eprintln!("chapter-3: cannot fork: {errno}");
            ExitCode::from(125)
        }
        Ok(ForkResult::Child) => {
            drop(go_write);
            container_init(&run, go_read)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(go_read);
            if let Some(pid_file) = &run.pid_file {
                if let Err(err) = std::fs::write(pid_file, child.as_raw().to_string()) {
                    eprintln!("chapter-3: cannot write pid file {}: {err}", pid_file.display());
                    let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
                    let _ = waitpid(child, None);
                    return ExitCode::from(125);
                }
            }
            let _ = nix::unistd::write(&go_write, b"g");
            drop(go_write);
            loop {
                match waitpid(child, None) {
                    Ok(WaitStatus::Exited(_, code)) => return ExitCode::from(code as u8),
                    Ok(WaitStatus::Signaled(_, signal, _)) => return ExitCode::from(128 + signal as u8),
                    Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
                    Err(errno) => {
                        eprintln!("chapter-3: cannot wait for the container: {errno}");
                        return ExitCode::from(125);
                    }
                }
            }
        }
    }
}

/// Runs `setup` then the escape in a child, and prints what the escape reached.
fn attempt(label: &str, marker: &Path, setup: impl FnOnce() -> Result<(), String>) -> bool {
    // SAFETY: single-threaded process.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let code = match setup() {
                Err(msg) => {
                    println!("{label}: setup failed: {msg}");
                    2
                }
                Ok(()) => match try_chroot_escape(marker) {
                    Ok(Some(contents)) => {
                        println!(
                            "{label}: escaped, read {}: {}",
                            marker.display(),
                            String::from_utf8_lossy(&contents).trim()
                        );
                        0
                    }
                    Ok(None) => {
                        println!("{label}: contained, {} is not there", marker.display());
                        0
                    }
                    Err(err) => {
                        println!("{label}: contained, the attempt failed: {err}");
                        0
                    }
                },
            };
            std::process::exit(code)
        }
        Ok(ForkResult::Parent { child }) => matches!(waitpid(child, None), Ok(WaitStatus::Exited(_, 0))),
        Err(errno) => {
            println!("{label}: cannot fork: {errno}");
            false
        }
    }
}

fn escape(rootfs: &Path, marker: &Path) -> ExitCode {
    if let Err(msg) = enter_user_namespace_if_needed() {
        eprintln!("chapter-3: {msg}");
        return ExitCode::from(125);
    }
    let root = match RootfsConfig::bare(rootfs).validate() {
        Ok(root) => root,
        Err(err) => {
            eprintln!("chapter-3: {err}");
            return ExitCode::from(125);
        }
    };
    let chrooted = attempt("chroot", marker, || {
        chroot(&root).map_err(|e| format!("chroot: {e}"))?;
        chdir("/").map_err(|e| format!("chdir: {e}"))
    });
    let moved = attempt("move+chroot", marker, || {
        unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare: {e}"))?;
        let config = RootfsConfig { root_change: RootChange::MoveAndChroot, ..RootfsConfig::bare(&root) };
        prepare_rootfs(&config).map_err(|e| e.to_string())
    });
    let pivoted = attempt("pivot_root", marker, || {
        unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare: {e}"))?;
        prepare_rootfs(&RootfsConfig::bare(&root)).map_err(|e| e.to_string())
    });
    if chrooted && moved && pivoted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, dir] if flag == "--make-rootfs" => {
            match bigbang_testkit::rootfs::make_busybox_rootfs(Path::new(dir)) {
                Ok(()) => {
                    println!("made a busybox rootfs in {dir}; try: sudo cargo run -p chapter-3 -- run {dir} -- /bin/sh");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("chapter-3: {err}");
                    ExitCode::from(1)
                }
            }
        }
        [verb, rest @ ..] if verb == "run" => run(rest),
        [verb, rootfs, marker] if verb == "escape" => escape(Path::new(rootfs), Path::new(marker)),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
