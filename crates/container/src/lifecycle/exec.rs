//! `bang-oci exec` (chapter 6): a new process in a running container, as `podman
//! exec` and `runc exec` start one. It joins every namespace of the container's init
//! with setns(2), enters the container's root and cgroup, puts on its own security
//! profile (capabilities, no_new_privs, rlimits, user; the container's seccomp
//! filter) and execs. Read setns(2), nsenter(1), pid_namespaces(7), runc-exec(8) and
//! runc's libcontainer/nsenter/nsexec.c for the original.
//!
//! Three processes, as for `create`:
//! ```text
//!   bang-oci exec ──socket──▶ bang-oci init (stage 0: setns into the init's namespaces,
//!   (joins stage 0 to the          │          chroot into /proc/<init>/root)
//!    container's cgroup)           │ fork: only children enter a joined pid namespace
//!                                  ▼
//!                              the process: terminal, security profile, execve
//! ```
//! Stage 0 sends the process's host pid and exits; the process is then reparented to
//! the nearest subreaper: conmon (podman), or `bang-oci exec` itself, which waits for
//! it unless `--detach`.
//!
//! Why setns from a re-executed init and not from `bang-oci exec`: setns(2) into a
//! user or mount namespace refuses a multi-threaded caller, and the process should
//! inherit nothing of the runtime but what it is handed, as for `create`.

use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{ForkResult, Pid};

use super::console::{check_terminal, connect, set_up_terminal};
use super::delete::wait_gone;
use super::error::{ExecError, LifecycleError, ProtocolError};
use super::init_error::InitError;
use super::process::{cstring, find_program, security_profile, with_home};
use super::protocol::{self, spawn_init, ExecRequest, InitMessage, InitRequest};
use super::state::{Status, PROC};
use super::store::{write_pid_file, Store};
use crate::cgroups::{self, Hierarchies};
use crate::namespaces::init::{become_subreaper, block_init_signals, reap_and_forward};
use crate::namespaces::spawn::{thread_count, Handshake};
use crate::namespaces::{join_in_order, Namespace, NamespaceError};
use crate::security::fds::check_preserved;
use crate::security::{set_user, SecurityError, User};
use crate::spec::{Process, Spec};

/// Where the process comes from: a runtime-spec process object in a file (what podman
/// passes), or config.json's process with the command line's changes (as runc does).
#[derive(Debug, Clone)]
pub enum ExecProcess {
    /// `--process FILE`; `tty` is `--tty`, which podman passes along with a file
    /// whose `terminal` is already true (runc ignores it; here it can only add one).
    File {
        path: PathBuf,
        tty: bool,
    },
    Flags(ProcessFlags),
}

/// The flags of `exec` that change config.json's process when there is no
/// `--process` file: the command, and what runc-exec(8) lets one override.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessFlags {
    /// The command and its arguments; required.
    pub args: Vec<String>,
    /// `--tty`: give the process a terminal (sent over `--console-socket`).
    pub tty: bool,
    /// `--cwd`: replaces process.cwd.
    pub cwd: Option<String>,
    /// `--env K=V`: appended to process.env (a later entry wins in most programs).
    pub env: Vec<String>,
    /// `--user UID[:GID]`: replaces process.user's uid (and gid).
    pub user: Option<String>,
    /// `--cap NAME`: added to the bounding, effective and permitted sets.
    pub caps: Vec<String>,
    /// `--no-new-privs`: sets process.noNewPrivileges.
    pub no_new_privs: bool,
}

// ANCHOR: process_flags
impl ProcessFlags {
    /// config.json's process (`base`) with these changes, as runc's `exec` makes it:
    /// the terminal is only what `--tty` says, whatever config.json had.
    pub fn apply(&self, base: Option<&Process>) -> Result<Process, LifecycleError> {
        if self.args.is_empty() {
            return Err(ExecError::ExecUsage {
                what: "no command given".into(),
                advice: "give the command after the container id, or a process with --process FILE",
            }
            .into());
        }
        let mut process = base.cloned().unwrap_or_else(|| Process { cwd: "/".into(), ..Process::default() });
        process.args = self.args.clone();
        process.terminal = self.tty;
        if let Some(cwd) = &self.cwd {
            process.cwd = cwd.clone();
        }
        process.env.extend(self.env.iter().cloned());
        if let Some(text) = &self.user {
            let bad = || LifecycleError::from(ExecError::BadUser { text: text.clone() });
            let (uid, gid) = match text.split_once(':') {
                Some((uid, gid)) => (uid, Some(gid)),
                None => (text.as_str(), None),
            };
            process.user.id.uid = uid.parse().map_err(|_| bad())?;
            if let Some(gid) = gid {
                process.user.id.gid = gid.parse().map_err(|_| bad())?;
            }
        }
        if !self.caps.is_empty() {
            let caps = process.capabilities.get_or_insert_with(Default::default);
            for cap in &self.caps {
                for set in [&mut caps.bounding, &mut caps.effective, &mut caps.permitted] {
                    if !set.contains(cap) {
                        set.push(cap.clone());
                    }
                }
            }
        }
        if self.no_new_privs {
            process.no_new_privileges = true;
        }
        Ok(process)
    }
}
// ANCHOR_END: process_flags

/// Reads a `--process` file: one runtime-spec process object.
fn load_process(path: &Path) -> Result<Process, LifecycleError> {
    let fail =
        |reason: String| LifecycleError::from(ExecError::ProcessFile { path: path.to_path_buf(), reason });
    let text = fs::read_to_string(path).map_err(|err| fail(err.to_string()))?;
    serde_json::from_str(&text).map_err(|err| fail(err.to_string()))
}

/// The flags of `exec`.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub id: String,
    pub process: ExecProcess,
    /// Return once the process runs, instead of waiting for it.
    pub detach: bool,
    /// Where to write the process's host pid (conmon reads it).
    pub pid_file: Option<PathBuf>,
    /// The unix socket to send the terminal's master to.
    pub console_socket: Option<PathBuf>,
    /// Pass descriptors 3 .. 3+N on to the process.
    pub preserve_fds: u32,
    /// The runtime binary to re-execute as `init` (normally /proc/self/exe).
    pub runtime: PathBuf,
}

// ANCHOR: exec
/// Starts a process in running container `options.id`. Returns the exit status to
/// pass on: the process's (128+n when signal n killed it), or 0 with `detach` once
/// it runs.
pub fn exec(store: &Store, options: &ExecOptions) -> Result<i32, LifecycleError> {
    // Held until the process runs, so that no `delete` removes the cgroup meanwhile.
    let lock = store.lock(&options.id)?;
    let record = lock.load()?;
    let status = record.live_status(Path::new(PROC))?;
    let init = match (status, record.init) {
        (Status::Running, Some(init)) => init,
        _ => return Err(ExecError::CannotExec { id: options.id.clone(), status }.into()),
    };
    let spec = Spec::load(&record.bundle)?;
    let process = match &options.process {
        ExecProcess::File { path, tty } => {
            let mut process = load_process(path)?;
            process.terminal |= *tty;
            process
        }
        ExecProcess::Flags(flags) => flags.apply(spec.process.as_ref())?,
    };
    // The container's config.json with this process: validated as a whole, and the
    // source of the profile, so the seccomp filter is the container's own.
    let with_process = Spec { process: Some(process.clone()), ..spec };
    with_process.validate()?;
    // Prepared here, once: the process applies it as it is.
    let security = security_profile(&with_process)?.prepare()?;
    check_terminal(process.terminal, options.console_socket.as_deref(), options.detach)?;
    let preserved: Vec<RawFd> = (3..3 + options.preserve_fds as RawFd).collect();
    check_preserved(&preserved).map_err(SecurityError::from)?;
    let console = options.console_socket.as_deref().map(connect).transpose()?;

    // Without --detach this process waits for the new one, which stage 0 leaves an
    // orphan: as a subreaper we inherit it. Signals are blocked before it exists, so
    // none arrives before the loop that forwards them.
    let signals = if options.detach {
        None
    } else {
        become_subreaper()?;
        Some(block_init_signals()?)
    };
    let (ours, theirs) = UnixStream::pair().map_err(|source| ProtocolError::Pipe { source })?;
    // The preserved descriptors keep their numbers; the socket and the console go after.
    let init_fd = 3 + options.preserve_fds as RawFd;
    let mut fds = vec![(theirs.as_raw_fd(), init_fd)];
    if let Some(console) = &console {
        fds.push((console.as_raw_fd(), init_fd + 1));
    }
    let mut stage0 = spawn_init(&options.runtime, &fds)?;
    drop((theirs, console));
    let started = (|| {
        if let Some(path) = &record.cgroup_path {
            cgroups::open(&Hierarchies::here()?, path)?.join(stage0.id() as i32)?;
        }
        let request = ExecRequest {
            id: options.id.clone(),
            init,
            process,
            security,
            console_socket: options.console_socket.as_ref().map(|_| init_fd + 1),
            preserve_fds: options.preserve_fds,
        };
        protocol::send(&ours, &InitRequest::Exec(Box::new(request)))?;
        match protocol::reply(&ours, "the init")? {
            InitMessage::Pid(pid) => Ok(pid),
            other => Err(protocol::unexpected("the pid", &other).into()),
        }
    })();
    let pid = match started {
        Ok(pid) => pid,
        Err(err) => {
            let _ = stage0.kill();
            let _ = stage0.wait();
            return Err(err);
        }
    };
    let _ = stage0.wait();
    // The process's last word: an error, or end-of-file when execve closed its copy
    // of the socket (close-on-exec) and the program runs.
    let failed: Option<LifecycleError> = match protocol::receive(&ours) {
        Ok(None) => None,
        Ok(Some(InitMessage::Error(err))) => Some(err.into()),
        Ok(Some(other)) => Some(protocol::unexpected("nothing more", &other).into()),
        Err(err) => Some(err.into()),
    };
    if let Some(err) = failed {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        let _ = wait_gone(pid);
        return Err(err);
    }
    drop(lock);
    if let Some(path) = &options.pid_file {
        write_pid_file(path, pid)?;
    }
    let Some(signals) = signals else { return Ok(0) };
    let exit = reap_and_forward(Pid::from_raw(pid), &signals)?;
    Ok(exit.shell_code())
}
// ANCHOR_END: exec

// ANCHOR: exec_stage0
/// Stage 0 of the init for `exec`, in the host's namespaces: opens what it will
/// need, joins the container, forks the process and sends its pid. Returns in
/// stage 0 once the pid is sent; the forked process never returns.
pub fn exec_stage0(socket: &UnixStream, request: &ExecRequest) -> Result<(), LifecycleError> {
    let pid = request.init.pid;
    // Asked now: once in the container's mount namespace, /proc is the container's,
    // where this process (outside its pid namespace) has no /proc/self.
    let threads = thread_count()?;
    if threads > 1 {
        return Err(NamespaceError::MultiThreaded { threads }.into());
    }
    // Not dumpable until execve makes it so again: a process of the container with
    // CAP_SYS_PTRACE must not attach to us, who still hold descriptors of the host
    // (CVE-2016-9962, which runc fixed the same way).
    nix::sys::prctl::set_dumpable(false).map_err(|source| InitError::Dumpable { source })?;
    // Opened first: once in the container's mount namespace, the host's /proc
    // (and with it /proc/<pid>) is out of reach.
    let namespaces = open_namespaces(pid)?;
    let root_path = PathBuf::from(format!("{PROC}/{pid}/root"));
    let root = open(&root_path, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|source| InitError::OpenNamespace { pid, path: root_path.clone(), source })?;
    // Checked after the opens: the descriptors now name that process's namespaces,
    // whatever happens to the pid, and a reused pid is caught here.
    if !request.init.is_alive(Path::new(PROC))? {
        return Err(InitError::InitGone { id: request.id.clone(), pid }.into());
    }
    join_namespaces(pid, namespaces)?;
    enter_root(&root, &root_path)?;
    drop(root);
    let handshake = Handshake::new()?;
    // A fork: the joined pid namespace takes only children.
    // SAFETY: this process is single-threaded (checked above), so the child's copy
    // of the one thread holds no lock another thread could have held.
    match unsafe { nix::unistd::fork() }.map_err(|source| InitError::Fork { source })? {
        ForkResult::Parent { child } => {
            if let Err(err) = protocol::send(socket, &InitMessage::Pid(child.as_raw())) {
                handshake.abandon(child);
                return Err(err.into());
            }
            handshake.release(child)?;
            Ok(())
        }
        ForkResult::Child => {
            // Held until stage 0 has sent our pid, so that an error of ours cannot
            // overtake it on the socket.
            if !handshake.wait()? {
                std::process::exit(1);
            }
            let err = match exec_process(socket, request) {
                Ok(never) => match never {},
                Err(err) => err,
            };
            let _ = protocol::send(socket, &InitMessage::Error(err.into_init_error()));
            std::process::exit(1);
        }
    }
}
// ANCHOR_END: exec_stage0

/// The namespaces of process `pid` that this process is not in, opened. Comparing
/// the inodes (namespaces(7): two processes share a namespace when the links'
/// inodes are equal) skips the ones the container shares with the host: setns(2)
/// into one's own user namespace is EINVAL.
fn open_namespaces(pid: i32) -> Result<Vec<(Namespace, OwnedFd)>, LifecycleError> {
    let mut opened = Vec::new();
    for namespace in Namespace::ALL {
        let theirs = namespace.proc_path(Pid::from_raw(pid));
        let ours = namespace.proc_path(Pid::this());
        let inode = |path: &Path| fs::metadata(path).map(|m| (m.dev(), m.ino()));
        let their_inode = inode(&theirs).map_err(|err| InitError::OpenNamespace {
            pid,
            path: theirs.clone(),
            source: errno_of(&err),
        })?;
        if inode(&ours).is_ok_and(|our_inode| our_inode == their_inode) {
            continue;
        }
        let fd = open(&theirs, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|source| InitError::OpenNamespace { pid, path: theirs.clone(), source })?;
        opened.push((namespace, fd));
    }
    Ok(opened)
}

fn errno_of(err: &std::io::Error) -> Errno {
    Errno::from_raw(err.raw_os_error().unwrap_or(libc::EIO))
}

// ANCHOR: join_namespaces
/// setns(2) into each namespace, in runc's order ([`join_in_order`]): the user
/// namespace joined as its root.
fn join_namespaces(pid: i32, namespaces: Vec<(Namespace, OwnedFd)>) -> Result<(), LifecycleError> {
    join_in_order(
        namespaces,
        |namespace, source| LifecycleError::from(InitError::Join { namespace, pid, source }),
        // Still the host's root, which the maps may not mention: become the
        // namespace's own root, as `create` does after its clone.
        || Ok(set_user(&User::default())?),
    )
}
// ANCHOR_END: join_namespaces

// ANCHOR: enter_root
/// Makes the container's root this process's root and working directory.
///
/// setns(2) into a mount namespace sets both to the namespace's root mount, which is
/// the container's root only when it was made with pivot_root; fchdir to the init's
/// own root (opened through /proc/<pid>/root before the join) and chroot(".") give
/// the init's root whatever way it was made, as nsenter(1) --root does.
fn enter_root(root: &OwnedFd, path: &Path) -> Result<(), LifecycleError> {
    let fail = |source| InitError::EnterRoot { path: path.to_path_buf(), source };
    nix::unistd::fchdir(root).map_err(fail)?;
    nix::unistd::chroot(".").map_err(fail)?;
    nix::unistd::chdir("/").map_err(fail)?;
    Ok(())
}
// ANCHOR_END: enter_root

enum Never {}

// ANCHOR: exec_process
/// The process, in the container: its terminal, umask, security profile, execve.
fn exec_process(socket: &UnixStream, request: &ExecRequest) -> Result<Never, LifecycleError> {
    let process = &request.process;
    if let Some(fd) = request.console_socket {
        // SAFETY: `exec` passed this descriptor for the process alone; stage 0 only
        // holds a copy, which it closes when it exits.
        let console = unsafe { OwnedFd::from_raw_fd(fd) };
        set_up_terminal(console, process.console_size, false)?;
    }
    if let Some(umask) = process.user.umask {
        nix::sys::stat::umask(Mode::from_bits_truncate(umask));
    }
    let env: Vec<_> =
        with_home(&process.env, process.user.id.uid).iter().map(|e| cstring(e)).collect::<Result<_, _>>()?;
    let args: Vec<_> = process.args.iter().map(|a| cstring(a)).collect::<Result<_, _>>()?;
    let program = find_program(&process.args[0], &process.env)?;
    let program = cstring(&program.to_string_lossy())?;
    let mut keep: Vec<RawFd> = (3..3 + request.preserve_fds as RawFd).collect();
    keep.push(socket.as_raw_fd());
    request.security.apply(&keep)?;
    // apply cleared close-on-exec on what it kept; the socket must close at execve,
    // which is how `exec` learns the program runs.
    // SAFETY: fcntl on a descriptor this process owns.
    unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let err = nix::unistd::execve(&program, &args, &env).unwrap_err();
    Err(InitError::Execve { name: process.args[0].clone(), id: request.id.clone(), source: err }.into())
}
// ANCHOR_END: exec_process

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> ProcessFlags {
        ProcessFlags { args: args.iter().map(|a| a.to_string()).collect(), ..ProcessFlags::default() }
    }

    #[test]
    fn flags_change_config_json_s_process_as_runc_does() {
        let base = Spec::runc_default().process.unwrap();
        let mut f = flags(&["ls", "-l"]);
        f.cwd = Some("/tmp".into());
        f.env = vec!["A=1".into()];
        f.user = Some("1000:100".into());
        f.caps = vec!["CAP_NET_ADMIN".into(), "CAP_KILL".into()];
        f.tty = false;
        let process = f.apply(Some(&base)).unwrap();
        assert_eq!(process.args, ["ls", "-l"]);
        assert_eq!(process.cwd, "/tmp");
        assert_eq!(process.env.last().unwrap(), "A=1");
        assert_eq!(process.env.len(), base.env.len() + 1);
        assert_eq!((process.user.id.uid, process.user.id.gid), (1000, 100));
        assert!(!process.terminal, "runc's default has a terminal; exec has one only with --tty");
        let caps = process.capabilities.unwrap();
        assert_eq!(caps.bounding.iter().filter(|c| *c == "CAP_KILL").count(), 1, "no duplicates");
        assert!(caps.permitted.contains(&"CAP_NET_ADMIN".to_string()));
        assert!(caps.effective.contains(&"CAP_NET_ADMIN".to_string()));
    }

    #[test]
    fn a_user_without_gid_keeps_the_gid_and_bad_users_are_refused() {
        let mut f = flags(&["id"]);
        f.user = Some("7".into());
        let process = f.apply(None).unwrap();
        assert_eq!((process.user.id.uid, process.user.id.gid), (7, 0));
        assert_eq!(process.cwd, "/");
        for bad in ["root", "1:x", ":1", ""] {
            f.user = Some(bad.into());
            assert!(matches!(f.apply(None), Err(LifecycleError::Exec(ExecError::BadUser { .. }))), "{bad}");
        }
    }

    #[test]
    fn a_command_is_required() {
        assert!(matches!(flags(&[]).apply(None), Err(LifecycleError::Exec(ExecError::ExecUsage { .. }))));
    }

    #[test]
    fn a_process_file_is_a_runtime_spec_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("process.json");
        fs::write(&path, r#"{"terminal":true,"consoleSize":{"height":24,"width":80},"user":{"uid":1,"gid":2},"args":["sh"],"cwd":"/","env":["PATH=/bin"]}"#).unwrap();
        let process = load_process(&path).unwrap();
        assert!(process.terminal);
        assert_eq!(process.console_size.unwrap().width, 80);
        assert_eq!(process.user.id.uid, 1);
        fs::write(&path, "{").unwrap();
        assert!(matches!(load_process(&path), Err(LifecycleError::Exec(ExecError::ProcessFile { .. }))));
        assert!(matches!(
            load_process(&dir.path().join("none")),
            Err(LifecycleError::Exec(ExecError::ProcessFile { .. }))
        ));
    }
}
