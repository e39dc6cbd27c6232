// Part of chapter 6, given complete (no todo!() here): read it, your other files use it. Generated from crates/container/src/lifecycle/init.rs by `cargo xtask exercises`;
// `cargo workshop reset 6` gives you a fresh copy.
//! `bang-oci init` (chapter 6): the container's init, in a fresh single-threaded
//! process the runtime starts by re-executing itself, as `runc init` is. It reads its
//! instructions from an inherited socket, clones into the namespaces, and the clone
//! sets up hostname, root filesystem and security, then waits on the exec fifo for
//! `start` and execs the payload. Read clone(2), unix(7) (socketpair), execve(2),
//! and runc's libcontainer/init_linux.go for the original.
//!
//! Two processes, as in runc:
//! ```text
//!   bang-oci create ──socket──▶ bang-oci init (stage 0, in the host's namespaces)
//!                                   │ clone(CLONE_NEWUSER|NEWNS|NEWPID|…)
//!                                   ▼
//!                               container init (PID 1 of the new pid namespace)
//!                                   hostname, prepare_rootfs (pivot_root),
//!                                   security profile, "ready" on the socket,
//!                                   blocks on exec.fifo … execve(payload)
//! ```
//! Stage 0 writes the child's id maps (it still has the capabilities outside the
//! user namespace), sends the child's host pid, releases it and exits; the container
//! init is then reparented to the nearest subreaper (conmon, `bang-oci run`) or to
//! the host's init. With process.terminal, the container init opens a pty in its new
//! root and sends the master over the inherited console socket (`console`).
//!
//! The same `init` verb serves `exec`: the request's first line says which, and an
//! exec request goes to `exec::exec_stage0` (setns instead of clone).
//!
//! Why a socket and not the environment: the spec is tens of kilobytes (a podman
//! seccomp profile), environments are visible in /proc/<pid>/environ to the
//! container, and errors must flow back too. Why re-exec and not fork the runtime:
//! the init must be single-threaded for clone(CLONE_NEWUSER) and unshare(CLONE_NEWNS),
//! and a fresh process inherits nothing but what we hand it.

use std::ffi::CString;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use nix::errno::Errno;
use nix::sys::signal::SigSet;
use nix::sys::socket::MsgFlags;
use serde::{Deserialize, Serialize};

use super::console::set_up_terminal;
use super::exec::{exec_stage0, ExecRequest};
use super::fifo::StartGate;
use super::hooks::{run_hooks, HookKind};
use super::state::{State, Status};
use super::LifecycleError;
use crate::cgroups::mount::CgroupfsPlan;
use crate::namespaces::idmap::write_id_maps;
use crate::namespaces::spawn::{clone_into, Cloned, Handshake};
use crate::namespaces::uts::set_hostname;
use crate::namespaces::{Namespace, Setgroups};
use crate::rootfs::{prepare_rootfs, MountNamespace, RootChange, RootfsConfig};
use crate::security::seal::{ensure_sealed, fd_path, sealed_overlay};
use crate::security::{set_user, Profile, User};
use crate::spec::Spec;

/// The descriptor number the init socket is given in `bang-oci init`.
pub const INIT_FD: RawFd = 3;

/// What the runtime asks of `bang-oci init`, the first line on its socket: to be a
/// new container's init (`create`), or to start a process in a running one (`exec`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InitRequest {
    // Boxed: both are large, and the enum is only ever passed along.
    Create(Box<CreateRequest>),
    Exec(Box<ExecRequest>),
}

/// What `create` sends the init: everything it needs, already validated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    pub spec: Spec,
    /// The absolute bundle path (a relative `root.path` is relative to it).
    pub bundle: PathBuf,
    /// The exec fifo in the container's state directory.
    pub fifo: PathBuf,
    /// `--no-pivot`: move the rootfs onto / and chroot instead of pivot_root.
    pub no_pivot: bool,
    /// Whose mount namespace the rootfs is prepared in, as `create` decided.
    #[serde(default)]
    pub mount_namespace: MountNamespace,
    /// The inherited socket to `--console-socket`, when process.terminal is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_socket: Option<RawFd>,
    /// Descriptors 3 .. 3+N are the caller's, for the container's process.
    #[serde(default)]
    pub preserve_fds: u32,
    /// `--no-new-keyring`: keep the session keyring the runtime was started with.
    #[serde(default)]
    pub no_new_keyring: bool,
}

/// What the init sends back, one JSON object per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InitMessage {
    /// From stage 0: the container init's pid on the host.
    Pid(i32),
    /// From the runtime, after the createRuntime hooks: go on; the state is what the
    /// createContainer and startContainer hooks read.
    Continue(State),
    /// From the container init: set up, waiting on the exec fifo.
    Ready,
    /// From either: what failed.
    Error(String),
}

/// Writes one message as a JSON line.
pub fn send(socket: &mut UnixStream, message: &InitMessage) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(message).expect("an InitMessage always serializes");
    line.push(b'\n');
    socket.write_all(&line)
}

/// The whole of `bang-oci init --fd N`: never returns. The exit status is for the
/// runtime only (which reads the real error from the socket).
pub fn main(fd: RawFd) -> ! {
    // A clean signal mask: `bang-oci run` blocks the signals it forwards, and a
    // mask survives fork and execve, so the payload would never see a SIGTERM.
    let _ = SigSet::all().thread_unblock();
    // First of all, and before the socket is made close-on-exec (the re-exec must
    // keep it): run from a sealed copy of the runtime, so that a payload reaching
    // /proc/<init pid>/exe cannot overwrite the host's binary (CVE-2019-5736).
    let sealed = ensure_sealed();
    // SAFETY: the runtime handed us this descriptor; nothing else in this fresh
    // process owns it.
    let mut socket = unsafe { UnixStream::from_raw_fd(fd) };
    if let Err(err) = sealed {
        fail(&mut socket, &err.to_string());
    }
    // dup2 cleared close-on-exec; the payload must not inherit the socket.
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    let done = read_request(&socket).and_then(|request| {
        let console = match &request {
            InitRequest::Create(create) => create.console_socket,
            InitRequest::Exec(exec) => exec.console_socket,
        };
        if let Some(console) = console {
            // Nor the console socket, nor the hooks the init runs.
            // SAFETY: fcntl on a descriptor the runtime handed us.
            unsafe { libc::fcntl(console, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        match &request {
            InitRequest::Create(create) => stage0(&mut socket, create),
            InitRequest::Exec(exec) => exec_stage0(&mut socket, exec),
        }
    });
    if let Err(err) = done {
        fail(&mut socket, &err.to_string());
    }
    std::process::exit(0);
}

/// Reports `message` to `create` (or, when nobody listens, e.g. `bang-oci init` run
/// by hand, to standard error) and exits.
fn fail(socket: &mut UnixStream, message: &str) -> ! {
    if send(socket, &InitMessage::Error(message.to_string())).is_err() {
        eprintln!("bang-oci init: {message}");
    }
    std::process::exit(1);
}

/// Reads the request.
fn read_request(socket: &UnixStream) -> Result<InitRequest, LifecycleError> {
    let line = read_line(socket)?.ok_or_else(|| LifecycleError::Protocol {
        what: "the runtime closed the socket before the request".into(),
    })?;
    serde_json::from_slice(&line)
        .map_err(|err| LifecycleError::Protocol { what: format!("bad request: {err}") })
}

/// Reads one message from the runtime.
pub fn read_message(socket: &mut UnixStream) -> Result<InitMessage, LifecycleError> {
    next_message(socket)?
        .ok_or_else(|| LifecycleError::Protocol { what: "the runtime closed the socket".into() })
}

/// The next message, or `None` at end-of-file (every writer closed its end).
pub fn next_message(socket: &mut UnixStream) -> Result<Option<InitMessage>, LifecycleError> {
    let Some(line) = read_line(socket)? else { return Ok(None) };
    serde_json::from_slice(&line)
        .map(Some)
        .map_err(|err| LifecycleError::Protocol { what: format!("bad message: {err}") })
}

/// How much of the socket one look takes: a State with megabytes of annotations
/// then costs a few dozen system calls, not one per byte.
const CHUNK: usize = 64 * 1024;

/// One line off the socket, without its `\n`, and not a byte more: `None` at
/// end-of-file before any byte.
///
/// The socket is shared by processes that each read their own messages (stage 0
/// the request, the container init the `Continue` after it), so a buffered reader,
/// which reads ahead and keeps what it read in its own memory, could take bytes
/// meant for another reader. Reading one byte per recv(2) kept the boundaries but
/// cost a system call per byte (0.55 s per MB of annotations). Here recv(2) with
/// MSG_PEEK looks at up to [`CHUNK`] bytes without taking them, and a read then
/// takes exactly the bytes up to the newline (all of them when there is none yet):
/// two calls per chunk, and whatever follows the line stays in the socket. The init
/// socket carries no descriptors (they are inherited by number; the terminal's
/// master goes over the console socket, SCM_RIGHTS); a descriptor sent on it would
/// be dropped by this read as by the one before, which passes no control buffer.
pub fn read_line(socket: &UnixStream) -> Result<Option<Vec<u8>>, LifecycleError> {
    let mut line = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let peeked = match nix::sys::socket::recv(socket.as_raw_fd(), &mut chunk, MsgFlags::MSG_PEEK) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(LifecycleError::Pipe { source: errno.into() }),
        };
        if peeked == 0 {
            if line.is_empty() {
                return Ok(None);
            }
            return Err(LifecycleError::Protocol { what: "a message was cut short".into() });
        }
        let newline = chunk[..peeked].iter().position(|&b| b == b'\n');
        let take = newline.map_or(peeked, |at| at + 1);
        // The bytes are in the socket (just peeked), and only this process reads
        // it now: the read returns them all, in one call.
        (&*socket).read_exact(&mut chunk[..take]).map_err(|source| LifecycleError::Pipe { source })?;
        match newline {
            Some(at) => {
                line.extend_from_slice(&chunk[..at]);
                return Ok(Some(line));
            }
            None => line.extend_from_slice(&chunk[..take]),
        }
    }
}

/// Starts `runtime init --fd N`, a fresh single-threaded copy of the runtime, with
/// the descriptors `fds` (here, number in the init) placed at their numbers; the
/// first is the socket and N its number. All else the runtime holds is
/// close-on-exec and stays behind.
pub fn spawn_init(runtime: &Path, fds: &[(RawFd, RawFd)]) -> Result<Child, LifecycleError> {
    spawn_sealed_init(runtime, None, fds)
}

/// As [`spawn_init`], but when `spare_dir` is given, executes `runtime` through a
/// read-only overlayfs view of it ([`sealed_overlay`], `spare_dir` its spare layer):
/// the init then runs sealed (CVE-2019-5736) without copying itself. Where the view
/// cannot be made, the init copies itself into a sealed memfd, as before.
pub fn spawn_sealed_init(
    runtime: &Path,
    spare_dir: Option<&Path>,
    fds: &[(RawFd, RawFd)],
) -> Result<Child, LifecycleError> {
    // Numbered 10 or above (SEALED_FD_MIN): no dup2 below can close it before execve.
    let sealed = spare_dir.and_then(|dir| sealed_overlay(runtime, dir).ok());
    // Each source is first duplicated above every target, so that placing one
    // descriptor can never overwrite another still to be placed (dup2 onto a number
    // that is also a source). The copies are close-on-exec and die with `staged`.
    let above = fds.iter().map(|&(_, to)| to).max().unwrap_or(2) + 1;
    let mut staged = Vec::new();
    for &(from, to) in fds {
        let copy = nix::fcntl::fcntl(
            // SAFETY: the caller's descriptor is open for the duration of this call.
            unsafe { std::os::fd::BorrowedFd::borrow_raw(from) },
            nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(above),
        )
        .map_err(|errno| LifecycleError::Pipe { source: errno.into() })?;
        // SAFETY: fcntl just made this descriptor; nothing else owns it.
        staged.push((unsafe { OwnedFd::from_raw_fd(copy) }, to));
    }
    let moves: Vec<(RawFd, RawFd)> = staged.iter().map(|(fd, to)| (fd.as_raw_fd(), *to)).collect();
    let mut command = Command::new(sealed.as_ref().map_or_else(|| runtime.to_path_buf(), fd_path));
    command.arg0(runtime).arg("init").arg("--fd").arg(fds[0].1.to_string());
    // SAFETY: dup2 is async-signal-safe, and `moves` was built before the fork.
    unsafe {
        command.pre_exec(move || {
            for &(from, to) in &moves {
                // dup2 onto another number leaves the copy without close-on-exec.
                if libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        })
    };
    command.spawn().map_err(|source| LifecycleError::Spawn { runtime: runtime.to_path_buf(), source })
}

fn mnt_inode(pid: &str) -> Result<u64, LifecycleError> {
    let path = PathBuf::from(format!("/proc/{pid}/ns/mnt"));
    fs::metadata(&path).map(|m| m.ino()).map_err(|source| LifecycleError::ReadProc { path, source })
}

fn stage0(socket: &mut UnixStream, request: &CreateRequest) -> Result<(), LifecycleError> {
    let plan = request.spec.namespace_plan()?;
    let before = mnt_inode("self")?;
    // Taken here, by a process that is still root on the host, and inherited by the
    // clone: in a user namespace the container's root may not search the state
    // directory (mode 0700, owned by the host's root) to open the fifo itself.
    let gate = StartGate::open(&request.fifo)?;
    join_by_path(&plan.join)?;
    let handshake = Handshake::new()?;
    match clone_into(&plan.create)? {
        Cloned::Parent { child } => {
            if plan.create.contains(Namespace::User) {
                let setgroups = Setgroups::for_caller()?;
                if let Err(err) = write_id_maps(child, &plan.uid_map, &plan.gid_map, setgroups) {
                    handshake.abandon(child);
                    return Err(err.into());
                }
            }
            if let Err(source) = send(socket, &InitMessage::Pid(child.as_raw())) {
                handshake.abandon(child);
                return Err(LifecycleError::Pipe { source });
            }
            handshake.release(child)?;
            Ok(())
        }
        Cloned::Child => {
            if !handshake.wait()? {
                // Stage 0 gave up and said why; nothing more to say.
                std::process::exit(1);
            }
            // container_init only returns on failure.
            let err = container_init(socket, request, gate, before);
            fail(socket, &err.to_string());
        }
    }
}

/// The container's init, in its new namespaces. Returns only on failure.
fn container_init(
    socket: &mut UnixStream,
    request: &CreateRequest,
    gate: StartGate,
    host_mnt: u64,
) -> LifecycleError {
    match set_up(socket, request, gate, host_mnt) {
        Ok(never) => match never {},
        Err(err) => err,
    }
}

enum Never {}

fn set_up(
    socket: &mut UnixStream,
    request: &CreateRequest,
    gate: StartGate,
    host_mnt: u64,
) -> Result<Never, LifecycleError> {
    let spec = &request.spec;
    // The lesson of the morning: never mount in the host's mount namespace, unless
    // config.json asked for it (no `mount` entry), and then never pivot_root there.
    let inode = mnt_inode("self")?;
    if inode == host_mnt && !matches!(request.mount_namespace, MountNamespace::Host { .. }) {
        return Err(LifecycleError::SameMountNamespace { inode });
    }
    // The runtime runs createRuntime (and prestart) hooks now, then lets us go on.
    let mut state = match read_message(socket)? {
        InitMessage::Continue(state) => state,
        other => return Err(LifecycleError::Protocol { what: format!("expected continue, got {other:?}") }),
    };
    let hooks = spec.hooks.clone().unwrap_or_default();
    // In the container's namespaces, before any of its mounts: runc runs them after
    // its mounts, just before pivot_root; chapter 3's prepare_rootfs is one step.
    run_hooks(HookKind::CreateContainer, &hooks.create_container, &state)?;
    // In a new user namespace this process is still the host's root, which the maps
    // do not mention: it shows as the overflow id, and the kernel refuses to create
    // files it would own (EOVERFLOW). Becoming the namespace's root fixes both.
    if spec.namespace_plan()?.create.contains(Namespace::User) {
        set_user(&User::default())?;
    }
    if let Some(hostname) = spec.hostname.as_deref() {
        set_hostname(hostname)?;
    }
    if let Some(domainname) = spec.domainname.as_deref() {
        set_domainname(domainname)?;
    }
    if let Some(linux) = &spec.linux {
        write_sysctls(&linux.sysctl)?;
    }
    if let Some(adj) = spec.process.as_ref().and_then(|p| p.oom_score_adj) {
        // proc(5): inherited by every process the payload forks. Lowering it needs
        // CAP_SYS_RESOURCE, which the init still has here (or not at all, see the error).
        fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(|source| LifecycleError::OomScoreAdj { value: adj, source })?;
    }
    // Every fact taken from /proc after this point is taken through a descriptor
    // opened now, while /proc is the host's: past pivot_root it is the image's.
    let mut gate = gate;
    gate.pin()?;
    let mut rootfs = spec.rootfs_config(&request.bundle)?;
    plan_cgroup_mounts(&mut rootfs, spec)?;
    if request.no_pivot {
        rootfs.root_change = RootChange::MoveAndChroot;
    }
    rootfs.mount_namespace = request.mount_namespace.clone();
    prepare_rootfs(&rootfs)?;
    let prepared = security_profile(spec)?.prepare()?;
    let process = spec.process.as_ref().expect("security_profile checked process");
    // Inside the new root, so the pty is the container's /dev/pts/N; before the
    // lock-down, which closes the socket and may forbid the mount.
    if let Some(fd) = request.console_socket {
        // SAFETY: `create` passed this descriptor for the init alone; stage 0's copy
        // closed when it exited.
        let console = unsafe { OwnedFd::from_raw_fd(fd) };
        set_up_terminal(console, process.console_size, true)?;
    }
    if let Some(umask) = process.user.umask {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(umask));
    }
    let env: Vec<CString> =
        with_home(&process.env, process.user.id.uid).iter().map(|e| cstring(e)).collect::<Result<_, _>>()?;
    let args: Vec<CString> = process.args.iter().map(|a| cstring(a)).collect::<Result<_, _>>()?;
    if !request.no_new_keyring {
        join_new_session_keyring()?;
    }
    // Last: the lock-down, then nothing but the wait and execve. The preserved
    // descriptors stay open, without close-on-exec, for the payload.
    let mut keep: Vec<RawFd> = (INIT_FD..INIT_FD + request.preserve_fds as RawFd).collect();
    keep.extend(gate.raw_fds());
    keep.push(socket.as_raw_fd());
    prepared.apply(&keep)?;
    // apply cleared close-on-exec on what it kept: the payload must not inherit the
    // socket. (The gate closes in wait_for_start.)
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let program = find_program(&process.args[0], &process.env)?;
    let program = cstring(&program.to_string_lossy())?;
    send(socket, &InitMessage::Ready).map_err(|source| LifecycleError::Pipe { source })?;
    gate.wait_for_start()?;
    state.status = Status::Created;
    if let Err(err) = run_hooks(HookKind::StartContainer, &hooks.start_container, &state) {
        // `start` has returned: stderr is all there is, and the payload must not run.
        eprintln!("bang-oci init: {err}");
        std::process::exit(1);
    }
    let err = nix::unistd::execve(&program, &args, &env).unwrap_err();
    // Past `start` nobody reads the socket any more: stderr is all there is.
    eprintln!("bang-oci init: cannot execute {:?}: {err}", process.args[0]);
    std::process::exit(127);
}

/// setdomainname(2), in the container's UTS namespace (the NIS domain name, which
/// `hostname -d`-like tools and /proc/sys/kernel/domainname show).
fn set_domainname(name: &str) -> Result<(), LifecycleError> {
    // SAFETY: setdomainname reads `len` bytes of the buffer we pass.
    if unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) } != 0 {
        return Err(LifecycleError::Domainname {
            name: name.to_string(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// Joins the namespaces config.json names by path (`{"type": "network", "path":
/// "/proc/42/ns/net"}`: a Kubernetes pod's containers share the network namespace of
/// its first one), before the clone, so that the container's init is born in them.
/// setns(2) checks that each file is a namespace of the given type (EINVAL if not).
fn join_by_path(join: &[(Namespace, PathBuf)]) -> Result<(), LifecycleError> {
    let mut namespaces = Vec::new();
    for (namespace, path) in join {
        let fd = nix::fcntl::open(
            path,
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|source| LifecycleError::JoinPath {
            namespace: *namespace,
            path: path.clone(),
            source,
        })?;
        namespaces.push((*namespace, fd));
    }
    super::exec::join_in_order(namespaces, |namespace, source| {
        let path =
            join.iter().find(|(kind, _)| *kind == namespace).map(|(_, p)| p.clone()).unwrap_or_default();
        LifecycleError::JoinPath { namespace, path, source }
    })
}

/// `env` with a `HOME` when it has none, as runc sets it: the home directory of `uid`
/// in the container's /etc/passwd (this runs inside the new root), or `/`. Programs
/// (shells, git, pip) misbehave without one.
pub fn with_home(env: &[String], uid: u32) -> Vec<String> {
    let mut env = env.to_vec();
    if env.iter().any(|e| e.starts_with("HOME=")) {
        return env;
    }
    let home = fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.len() >= 6 && fields[2] == uid.to_string()).then(|| fields[5].to_string())
            })
        })
        .filter(|home| !home.is_empty())
        .unwrap_or_else(|| "/".to_string());
    env.push(format!("HOME={home}"));
    env
}

/// Gives the container a session keyring of its own (keyctl(2)
/// KEYCTL_JOIN_SESSION_KEYRING with no name: a new anonymous one), as runc does unless
/// `--no-new-keyring`: otherwise the container shares the keyring of whoever started
/// the runtime, and with it keys such as kerberos tickets or encryption keys. Before
/// the seccomp filter, which usually forbids keyctl (Docker's and podman's profiles
/// do). A kernel without keys (ENOSYS) has nothing to share.
fn join_new_session_keyring() -> Result<(), LifecycleError> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl with a null name reads no memory of ours.
    let ret = unsafe {
        libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, std::ptr::null::<libc::c_char>())
    };
    if ret < 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::ENOSYS) {
            return Err(LifecycleError::Keyring { source: err });
        }
    }
    Ok(())
}

/// Sets `linux.sysctl`: each `a.b.c` is written to `/proc/sys/a/b/c`. Validation let
/// through only parameters of a namespace the container has (net.*, the IPC ones,
/// hostname/domainname), and those files act on the namespaces of the process that
/// writes them, not on those of the /proc mount: so this works here, in the new
/// namespaces but before the container's own /proc is mounted, and before chapter 3
/// makes /proc/sys read-only. runc writes them at the same point.
pub fn write_sysctls(sysctl: &std::collections::BTreeMap<String, String>) -> Result<(), LifecycleError> {
    for (key, value) in sysctl {
        let path = Path::new("/proc/sys").join(key.replace('.', "/"));
        fs::write(&path, value).map_err(|source| LifecycleError::Sysctl {
            key: key.clone(),
            value: value.clone(),
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// A `cgroup` mount (runc's and podman's default config has one on /sys/fs/cgroup, ro)
/// shows the container its own cgroups, as runc does: chapter 4 reads what they are
/// (cgroups::mount) now, in the container's cgroup and cgroup namespace but while
/// /proc is still the host's, and chapter 3 mounts them. On v1 a single mount(2) of
/// type cgroup cannot do it (EBUSY without controllers named): it becomes a tmpfs
/// with one directory per hierarchy, so that `memory.limit_in_bytes` is there.
pub fn plan_cgroup_mounts(rootfs: &mut RootfsConfig, spec: &Spec) -> Result<(), LifecycleError> {
    if !rootfs.mounts.iter().any(|m| m.kind == "cgroup") {
        return Ok(());
    }
    let plan = spec.namespace_plan()?;
    // A new cgroup namespace, or one joined by path: the kernel roots a fresh mount there.
    let cgroupns = plan.create.contains(Namespace::Cgroup)
        || plan.join.iter().any(|(kind, _)| *kind == Namespace::Cgroup);
    rootfs.cgroupfs = Some(CgroupfsPlan::here(cgroupns)?);
    Ok(())
}

/// The container's security profile (chapter 5), with one adjustment for runc's
/// default config.json: it lists capabilities as ambient that are not inheritable,
/// which the kernel can never raise (capabilities(7)). runc tries and ignores the
/// failure; chapter 5 refuses such a profile outright, so the unraisable ones are
/// left out here and the rest of the profile is applied unchanged.
pub fn security_profile(spec: &Spec) -> Result<Profile, LifecycleError> {
    let mut profile = spec.security_profile()?;
    if let Some(caps) = profile.process.capabilities.as_mut() {
        caps.ambient.retain(|name| caps.permitted.contains(name) && caps.inheritable.contains(name));
    }
    Ok(profile)
}

pub fn cstring(text: &str) -> Result<CString, LifecycleError> {
    CString::new(text).map_err(|_| LifecycleError::Protocol { what: format!("{text:?} holds a NUL byte") })
}

/// `args[0]` as execvp(3) would find it, inside the container (after pivot_root): a
/// name with a `/` as is, otherwise the first executable file of that name in the
/// PATH of `process.env` (runc's default PATH when there is none). Checked before
/// `create` returns, so a missing program fails `create`, not the later `start`.
///
/// The three failures are the kernel's (execve(2)): ENOENT for a path that is not
/// there, EACCES for a directory or a file without execute permission (or on a
/// noexec mount, which access(2) sees). Their messages carry the words Docker reads
/// to choose the exit status, as runc's do: "executable file not found" and "no such
/// file or directory" with the name give 127, "permission denied" 126.
pub fn find_program(name: &str, env: &[String]) -> Result<PathBuf, LifecycleError> {
    let executable = |path: &Path| {
        fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            && nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
    };
    if name.contains('/') {
        let path = PathBuf::from(name);
        return match fs::metadata(&path) {
            Err(_) => Err(LifecycleError::NoSuchProgram { name: name.to_string() }),
            Ok(meta) if meta.is_dir() => Err(LifecycleError::NotExecutable {
                name: name.to_string(),
                why: "it is a directory; give the program inside it",
            }),
            Ok(_) if !executable(&path) => Err(LifecycleError::NotExecutable {
                name: name.to_string(),
                why: "the file is not executable (no x permission, or a noexec mount); chmod +x it or run it through its interpreter",
            }),
            Ok(_) => Ok(path),
        };
    }
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    path_var
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| executable(candidate))
        .ok_or_else(|| LifecycleError::ProgramNotFound { name: name.to_string(), path: path_var.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_program_searches_path_and_takes_slashes_as_is() {
        let env = ["PATH=/nonexistent:/bin".to_string()];
        assert_eq!(find_program("sh", &env).unwrap(), PathBuf::from("/bin/sh"));
        assert_eq!(find_program("/bin/sh", &[]).unwrap(), PathBuf::from("/bin/sh"));
        let err = find_program("no-such-program", &env).unwrap_err().to_string();
        assert!(err.starts_with(
            "exec: \"no-such-program\": executable file not found in $PATH (/nonexistent:/bin)"
        ));
        // The kernel's answers, in the words Docker maps to 127 and 126.
        let missing = find_program("/no/such", &[]).unwrap_err().to_string();
        assert!(
            missing.starts_with("exec: \"/no/such\": stat /no/such: no such file or directory"),
            "{missing}"
        );
        let plain = find_program("/etc/passwd", &[]).unwrap_err().to_string();
        assert!(
            plain.starts_with("exec: \"/etc/passwd\": permission denied: the file is not executable"),
            "{plain}"
        );
        let dir = find_program("/etc", &[]).unwrap_err().to_string();
        assert!(dir.starts_with("exec: \"/etc\": permission denied: it is a directory"), "{dir}");
    }

    #[test]
    fn unraisable_ambient_capabilities_are_left_out() {
        let profile = security_profile(&Spec::runc_default()).unwrap();
        let caps = profile.process.capabilities.unwrap();
        assert!(caps.ambient.is_empty(), "runc's default has no inheritable set: {:?}", caps.ambient);
        assert_eq!(caps.bounding.len(), 3);
        let adjusted = security_profile(&Spec::runc_default()).unwrap();
        adjusted.prepare().expect("chapter 5 accepts the adjusted profile");
    }

    #[test]
    fn a_cgroup_mount_gets_a_plan_and_keeps_its_options() {
        let spec = Spec::runc_default();
        let mut rootfs = spec.rootfs_config(Path::new("/b")).unwrap();
        plan_cgroup_mounts(&mut rootfs, &spec).unwrap();
        assert!(rootfs.cgroupfs.is_some(), "this host has cgroups");
        let cgroup = rootfs.mounts.iter().find(|m| m.destination == Path::new("/sys/fs/cgroup")).unwrap();
        assert_eq!(cgroup.kind, "cgroup");
        assert!(cgroup.options.contains(&"ro".to_string()));
    }

    /// A line is taken whole, however long (a megabyte, written while it is read),
    /// and not a byte past its newline: what follows stays in the socket for the
    /// next reader, as stage 0 leaves the `Continue` to the container init.
    #[test]
    fn read_line_takes_one_line_and_nothing_after_it() {
        let (mut writer, reader) = UnixStream::pair().unwrap();
        let long = "x".repeat(1 << 20);
        let sent = format!("short\n{long}\nleft for the next reader\n");
        let writing = std::thread::spawn(move || writer.write_all(sent.as_bytes()).unwrap());
        assert_eq!(read_line(&reader).unwrap().unwrap(), b"short");
        let got = read_line(&reader).unwrap().unwrap();
        assert!(got == long.as_bytes(), "the long line came back as {} bytes, not {}", got.len(), long.len());
        writing.join().unwrap();
        let mut rest = String::new();
        (&reader).read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "left for the next reader\n");
        assert_eq!(read_line(&reader).unwrap(), None, "end-of-file before a byte is None");
    }

    /// End-of-file inside a line is a protocol error, not a message.
    #[test]
    fn read_line_refuses_a_line_cut_short() {
        let (mut writer, reader) = UnixStream::pair().unwrap();
        writer.write_all(b"{\"pid\":4").unwrap();
        drop(writer);
        assert!(matches!(read_line(&reader), Err(LifecycleError::Protocol { .. })));
    }

    #[test]
    fn messages_round_trip_as_json_lines() {
        for message in [InitMessage::Pid(42), InitMessage::Ready, InitMessage::Error("x".into())] {
            let json = serde_json::to_string(&message).unwrap();
            assert!(!json.contains('\n'));
            assert_eq!(serde_json::from_str::<InitMessage>(&json).unwrap(), message);
        }
    }
}
