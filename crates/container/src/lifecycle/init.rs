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
//! the host's init.
//!
//! Why a socket and not the environment: the spec is tens of kilobytes (a podman
//! seccomp profile), environments are visible in /proc/<pid>/environ to the
//! container, and errors must flow back too. Why re-exec and not fork the runtime:
//! the init must be single-threaded for clone(CLONE_NEWUSER) and unshare(CLONE_NEWNS),
//! and a fresh process inherits nothing but what we hand it.

use std::ffi::CString;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::sys::signal::SigSet;
use serde::{Deserialize, Serialize};

use super::fifo::StartGate;
use super::hooks::{run_hooks, HookKind};
use super::state::{State, Status};
use super::LifecycleError;
use crate::cgroups::{Hierarchies, Version};
use crate::namespaces::idmap::write_id_maps;
use crate::namespaces::spawn::{clone_into, Cloned, Handshake};
use crate::namespaces::uts::set_hostname;
use crate::namespaces::{Namespace, Setgroups};
use crate::rootfs::{prepare_rootfs, RootChange, RootfsConfig};
use crate::security::seal::ensure_sealed;
use crate::security::{set_user, Profile, User};
use crate::spec::Spec;

/// The descriptor number the init socket is given in `bang-oci init`.
pub const INIT_FD: RawFd = 3;

/// What `create` sends the init: everything it needs, already validated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitRequest {
    pub spec: Spec,
    /// The absolute bundle path (a relative `root.path` is relative to it).
    pub bundle: PathBuf,
    /// The exec fifo in the container's state directory.
    pub fifo: PathBuf,
    /// `--no-pivot`: move the rootfs onto / and chroot instead of pivot_root.
    pub no_pivot: bool,
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

// ANCHOR: init_main
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
    if let Err(err) = stage0(&mut socket) {
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
// ANCHOR_END: init_main

/// Reads the request. A buffered reader is safe here, and only here: the runtime
/// sends nothing more until stage 0 has answered, so there is nothing to over-read.
fn read_request(socket: &UnixStream) -> Result<InitRequest, LifecycleError> {
    let mut line = String::new();
    BufReader::new(socket).read_line(&mut line).map_err(|source| LifecycleError::Pipe { source })?;
    serde_json::from_str(&line)
        .map_err(|err| LifecycleError::Protocol { what: format!("bad request: {err}") })
}

/// Reads one message from the runtime. One byte at a time: a buffered reader could
/// swallow bytes meant for a later read, and messages are rare and short.
pub fn read_message(socket: &mut UnixStream) -> Result<InitMessage, LifecycleError> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match socket.read(&mut byte) {
            Ok(0) => return Err(LifecycleError::Protocol { what: "the runtime closed the socket".into() }),
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Err(LifecycleError::Pipe { source }),
        }
    }
    serde_json::from_slice(&line)
        .map_err(|err| LifecycleError::Protocol { what: format!("bad message: {err}") })
}

fn mnt_inode(pid: &str) -> Result<u64, LifecycleError> {
    let path = PathBuf::from(format!("/proc/{pid}/ns/mnt"));
    fs::metadata(&path).map(|m| m.ino()).map_err(|source| LifecycleError::ReadProc { path, source })
}

// ANCHOR: stage0
fn stage0(socket: &mut UnixStream) -> Result<(), LifecycleError> {
    let request = read_request(socket)?;
    let plan = request.spec.namespace_plan()?;
    let before = mnt_inode("self")?;
    // Taken here, by a process that is still root on the host, and inherited by the
    // clone: in a user namespace the container's root may not search the state
    // directory (mode 0700, owned by the host's root) to open the fifo itself.
    let gate = StartGate::open(&request.fifo)?;
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
            let err = container_init(socket, &request, gate, before);
            fail(socket, &err.to_string());
        }
    }
}
// ANCHOR_END: stage0

// ANCHOR: container_init
/// The container's init, in its new namespaces. Returns only on failure.
fn container_init(
    socket: &mut UnixStream,
    request: &InitRequest,
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
    request: &InitRequest,
    gate: StartGate,
    host_mnt: u64,
) -> Result<Never, LifecycleError> {
    let spec = &request.spec;
    // The lesson of the morning: never mount in the host's mount namespace.
    let inode = mnt_inode("self")?;
    if inode == host_mnt {
        return Err(LifecycleError::SameMountNamespace { inode });
    }
    // ANCHOR: create_container_hooks
    // The runtime runs createRuntime (and prestart) hooks now, then lets us go on.
    let mut state = match read_message(socket)? {
        InitMessage::Continue(state) => state,
        other => return Err(LifecycleError::Protocol { what: format!("expected continue, got {other:?}") }),
    };
    let hooks = spec.hooks.clone().unwrap_or_default();
    // In the container's namespaces, before any of its mounts: runc runs them after
    // its mounts, just before pivot_root; chapter 3's prepare_rootfs is one step.
    run_hooks(HookKind::CreateContainer, &hooks.create_container, &state)?;
    // ANCHOR_END: create_container_hooks
    // In a new user namespace this process is still the host's root, which the maps
    // do not mention: it shows as the overflow id, and the kernel refuses to create
    // files it would own (EOVERFLOW). Becoming the namespace's root fixes both.
    if spec.namespace_plan()?.create.contains(Namespace::User) {
        set_user(&User::default())?;
    }
    if let Some(hostname) = spec.hostname.as_deref() {
        set_hostname(hostname)?;
    }
    let mut rootfs = spec.rootfs_config(&request.bundle)?;
    if Hierarchies::here()?.version()? == Version::V1 {
        replace_v1_cgroup_mounts(&mut rootfs);
    }
    if request.no_pivot {
        rootfs.root_change = RootChange::MoveAndChroot;
    }
    prepare_rootfs(&rootfs)?;
    let prepared = security_profile(spec)?.prepare()?;
    let process = spec.process.as_ref().expect("security_profile checked process");
    let env: Vec<CString> = process.env.iter().map(|e| cstring(e)).collect::<Result<_, _>>()?;
    let args: Vec<CString> = process.args.iter().map(|a| cstring(a)).collect::<Result<_, _>>()?;
    // Last: the lock-down, then nothing but the wait and execve.
    prepared.apply(&[gate.raw_fd(), socket.as_raw_fd()])?;
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
// ANCHOR_END: container_init

// ANCHOR: v1_cgroup_mount
/// On a cgroup v1 host, a `cgroup` mount (runc's default has one on /sys/fs/cgroup)
/// cannot be made as one mount: v1 has one hierarchy per controller, and mount(2) of
/// type cgroup without naming them fails with EBUSY. runc builds a tmpfs there and
/// binds the container's own directory of each hierarchy under it; chapter 3 knows no
/// such compound mount, so the container gets the tmpfs alone, read-only and empty:
/// it sees no cgroup files rather than the host's. (On v2 the entry works as it is.)
pub fn replace_v1_cgroup_mounts(rootfs: &mut RootfsConfig) {
    for mount in rootfs.mounts.iter_mut().filter(|m| m.kind == "cgroup") {
        mount.kind = "tmpfs".into();
        mount.options.retain(|o| matches!(o.as_str(), "nosuid" | "noexec" | "nodev" | "ro" | "relatime"));
        mount.options.push("mode=755".into());
    }
}
// ANCHOR_END: v1_cgroup_mount

// ANCHOR: security_profile
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
// ANCHOR_END: security_profile

fn cstring(text: &str) -> Result<CString, LifecycleError> {
    CString::new(text).map_err(|_| LifecycleError::Protocol { what: format!("{text:?} holds a NUL byte") })
}

// ANCHOR: find_program
/// `args[0]` as execvp(3) would find it, inside the container (after pivot_root): a
/// name with a `/` as is, otherwise the first executable file of that name in the
/// PATH of `process.env` (runc's default PATH when there is none). Checked before
/// `create` returns, so a missing program fails `create`, not the later `start`.
pub fn find_program(name: &str, env: &[String]) -> Result<PathBuf, LifecycleError> {
    let executable = |path: &Path| {
        fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
    };
    if name.contains('/') {
        let path = PathBuf::from(name);
        return if executable(&path) {
            Ok(path)
        } else {
            Err(LifecycleError::NotExecutable { name: name.to_string() })
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
// ANCHOR_END: find_program

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
        assert!(find_program("/etc/passwd", &[]).unwrap_err().to_string().contains("no such executable"));
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
    fn v1_cgroup_mount_becomes_a_read_only_tmpfs() {
        let mut rootfs = Spec::runc_default().rootfs_config(Path::new("/b")).unwrap();
        replace_v1_cgroup_mounts(&mut rootfs);
        let cgroup = rootfs.mounts.iter().find(|m| m.destination == Path::new("/sys/fs/cgroup")).unwrap();
        assert_eq!(cgroup.kind, "tmpfs");
        assert!(cgroup.options.contains(&"ro".to_string()));
        assert!(!rootfs.mounts.iter().any(|m| m.kind == "cgroup"));
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
