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
//! seccomp profile), environments are visible in `/proc/<pid>/environ` to the
//! container, and errors must flow back too. Why re-exec and not fork the runtime:
//! the init must be single-threaded (setns(2) into a user or mount namespace, as `exec`
//! does, refuses a process with threads, so does `prepare_rootfs`, and a child cloned
//! from one thread may find a lock held forever), and a fresh process inherits nothing
//! but what we hand it.

use std::ffi::CString;
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::sys::signal::SigSet;

use super::console::set_up_terminal;
use super::error::{LifecycleError, ProtocolError};
use super::exec::exec_stage0;
use super::fifo::StartGate;
use super::hooks::{run_hooks, HookKind};
use super::init_error::{FailureKind, InitError};
use super::process::{cstring, find_program, with_home};
use super::protocol::{self, CreateRequest, InitMessage, InitRequest, INIT_FD};
use super::state::Status;
use crate::cgroups::mount::CgroupfsPlan;
use crate::namespaces::idmap::write_id_maps;
use crate::namespaces::spawn::{clone_into, Cloned, Handshake};
use crate::namespaces::uts::set_hostname;
use crate::namespaces::{join_in_order, Namespace, Setgroups};
use crate::rootfs::{prepare_rootfs, MountNamespace, RootfsConfig};
use crate::security::seal::ensure_sealed;
use crate::security::{set_user, User};
use crate::spec::NamespacePlan;

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
    let socket = unsafe { UnixStream::from_raw_fd(fd) };
    if let Err(err) = sealed {
        fail(&socket, InitError::Failed { kind: FailureKind::Security, message: err.to_string() });
    }
    // dup2 cleared close-on-exec; the payload must not inherit the socket.
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    let done = read_request(&socket).and_then(|request| {
        if let Some(console) = request.console_socket() {
            // Nor the console socket, nor the hooks the init runs.
            // SAFETY: fcntl on a descriptor the runtime handed us.
            unsafe { libc::fcntl(console, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        match &request {
            InitRequest::Create(create) => stage0(&socket, create),
            InitRequest::Exec(exec) => exec_stage0(&socket, exec),
        }
    });
    if let Err(err) = done {
        fail(&socket, err.into_init_error());
    }
    std::process::exit(0);
}

/// Reports `err` to `create` as the value it is (or, when nobody listens, e.g.
/// `bang-oci init` run by hand, to standard error) and exits.
fn fail(socket: &UnixStream, err: InitError) -> ! {
    if protocol::send(socket, &InitMessage::Error(err.clone())).is_err() {
        eprintln!("bang-oci init: {err}");
    }
    std::process::exit(1);
}
// ANCHOR_END: init_main

/// Reads the request, the first line on the socket.
fn read_request(socket: &UnixStream) -> Result<InitRequest, LifecycleError> {
    protocol::receive(socket)?.ok_or_else(|| {
        ProtocolError::Broken { what: "the runtime closed the socket before the request".into() }.into()
    })
}

/// Reads one message from the runtime.
fn read_message(socket: &UnixStream) -> Result<InitMessage, LifecycleError> {
    protocol::receive(socket)?
        .ok_or_else(|| ProtocolError::Broken { what: "the runtime closed the socket".into() }.into())
}

fn mnt_inode(pid: &str) -> Result<u64, LifecycleError> {
    let path = PathBuf::from(format!("/proc/{pid}/ns/mnt"));
    fs::metadata(&path)
        .map(|m| m.ino())
        .map_err(|source| InitError::ReadProc { path, source: source.into() }.into())
}

// ANCHOR: stage0
fn stage0(socket: &UnixStream, request: &CreateRequest) -> Result<(), LifecycleError> {
    let plan = &request.plan.namespaces;
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
            if let Err(err) = protocol::send(socket, &InitMessage::Pid(child.as_raw())) {
                handshake.abandon(child);
                return Err(err.into());
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
            fail(socket, err.into_init_error());
        }
    }
}
// ANCHOR_END: stage0

// ANCHOR: container_init
/// The container's init, in its new namespaces. Returns only on failure.
fn container_init(
    socket: &UnixStream,
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
    socket: &UnixStream,
    request: &CreateRequest,
    gate: StartGate,
    host_mnt: u64,
) -> Result<Never, LifecycleError> {
    let spec = &request.spec;
    // The lesson of the morning: never mount in the host's mount namespace, unless
    // config.json asked for it (no `mount` entry), and then never pivot_root there.
    let inode = mnt_inode("self")?;
    if inode == host_mnt && !matches!(request.plan.rootfs.mount_namespace, MountNamespace::Host { .. }) {
        return Err(InitError::SameMountNamespace { inode }.into());
    }
    // ANCHOR: create_container_hooks
    // The runtime runs createRuntime (and prestart) hooks now, then lets us go on.
    let mut state = match read_message(socket)? {
        InitMessage::Continue(state) => state,
        other => return Err(protocol::unexpected("continue", &other).into()),
    };
    let hooks = spec.hooks.clone().unwrap_or_default();
    // In the container's namespaces, before any of its mounts: runc runs them after
    // its mounts, just before pivot_root; chapter 3's prepare_rootfs is one step.
    run_hooks(HookKind::CreateContainer, &hooks.create_container, &state)?;
    // ANCHOR_END: create_container_hooks
    // In a new user namespace this process is still the host's root, which the maps
    // do not mention: it shows as the overflow id, and the kernel refuses to create
    // files it would own (EOVERFLOW). Becoming the namespace's root fixes both.
    if request.plan.namespaces.create.contains(Namespace::User) {
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
            .map_err(|source| InitError::OomScoreAdj { value: adj, source: source.into() })?;
    }
    // Every fact taken from /proc after this point is taken through a descriptor
    // opened now, while /proc is the host's: past pivot_root it is the image's.
    let mut gate = gate;
    gate.pin()?;
    let mut rootfs = request.plan.rootfs.clone();
    plan_cgroup_mounts(&mut rootfs, &request.plan.namespaces)?;
    prepare_rootfs(&rootfs)?;
    let process = spec.process.as_ref().expect("create's plan checked process");
    // ANCHOR: init_terminal
    // Inside the new root, so the pty is the container's /dev/pts/N; before the
    // lock-down, which closes the socket and may forbid the mount.
    if let Some(fd) = request.console_socket {
        // SAFETY: `create` passed this descriptor for the init alone; stage 0's copy
        // closed when it exited.
        let console = unsafe { OwnedFd::from_raw_fd(fd) };
        set_up_terminal(console, process.console_size, true)?;
    }
    // ANCHOR_END: init_terminal
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
    request.plan.security.apply(&keep)?;
    // apply cleared close-on-exec on what it kept: the payload must not inherit the
    // socket. (The gate closes in wait_for_start.)
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let program = find_program(&process.args[0], &process.env)?;
    let program = cstring(&program.to_string_lossy())?;
    protocol::send(socket, &InitMessage::Ready)?;
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

/// setdomainname(2), in the container's UTS namespace (the NIS domain name, which
/// `hostname -d`-like tools and /proc/sys/kernel/domainname show).
fn set_domainname(name: &str) -> Result<(), LifecycleError> {
    // SAFETY: setdomainname reads `len` bytes of the buffer we pass.
    if unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) } != 0 {
        return Err(InitError::Domainname {
            name: name.to_string(),
            source: std::io::Error::last_os_error().into(),
        }
        .into());
    }
    Ok(())
}

// ANCHOR: join_by_path
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
        .map_err(|source| InitError::JoinPath {
            namespace: *namespace,
            path: path.clone(),
            source,
        })?;
        namespaces.push((*namespace, fd));
    }
    join_in_order(
        namespaces,
        |namespace, source| {
            let path =
                join.iter().find(|(kind, _)| *kind == namespace).map(|(_, p)| p.clone()).unwrap_or_default();
            LifecycleError::from(InitError::JoinPath { namespace, path, source })
        },
        // Still the host's root, which the maps may not mention: become the
        // namespace's own root, as after the clone.
        || Ok(set_user(&User::default())?),
    )
}
// ANCHOR_END: join_by_path

// ANCHOR: session_keyring
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
            return Err(InitError::Keyring { source: err.into() }.into());
        }
    }
    Ok(())
}
// ANCHOR_END: session_keyring

// ANCHOR: sysctl
/// Sets `linux.sysctl`: each `a.b.c` is written to `/proc/sys/a/b/c`. Validation let
/// through only parameters of a namespace the container has (net.*, the IPC ones,
/// hostname/domainname), and those files act on the namespaces of the process that
/// writes them, not on those of the /proc mount: so this works here, in the new
/// namespaces but before the container's own /proc is mounted, and before chapter 3
/// makes /proc/sys read-only. runc writes them at the same point.
fn write_sysctls(sysctl: &std::collections::BTreeMap<String, String>) -> Result<(), LifecycleError> {
    for (key, value) in sysctl {
        let path = Path::new("/proc/sys").join(key.replace('.', "/"));
        fs::write(&path, value).map_err(|source| InitError::Sysctl {
            key: key.clone(),
            value: value.clone(),
            path: path.clone(),
            source: source.into(),
        })?;
    }
    Ok(())
}
// ANCHOR_END: sysctl

// ANCHOR: cgroup_mount
/// A `cgroup` mount (runc's and podman's default config has one on /sys/fs/cgroup, ro)
/// shows the container its own cgroups, as runc does: chapter 4 reads what they are
/// (cgroups::mount) now, in the container's cgroup and cgroup namespace but while
/// /proc is still the host's, and chapter 3 mounts them. On v1 a single mount(2) of
/// type cgroup cannot do it (EBUSY without controllers named): it becomes a tmpfs
/// with one directory per hierarchy, so that `memory.limit_in_bytes` is there.
fn plan_cgroup_mounts(rootfs: &mut RootfsConfig, plan: &NamespacePlan) -> Result<(), LifecycleError> {
    if !rootfs.mounts.iter().any(|m| m.kind == "cgroup") {
        return Ok(());
    }
    // A new cgroup namespace, or one joined by path: the kernel roots a fresh mount there.
    let cgroupns = plan.create.contains(Namespace::Cgroup)
        || plan.join.iter().any(|(kind, _)| *kind == Namespace::Cgroup);
    rootfs.cgroupfs = Some(CgroupfsPlan::here(cgroupns)?);
    Ok(())
}
// ANCHOR_END: cgroup_mount

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

    #[test]
    fn a_cgroup_mount_gets_a_plan_and_keeps_its_options() {
        let spec = Spec::runc_default();
        let mut rootfs = spec.rootfs_config(Path::new("/b")).unwrap();
        plan_cgroup_mounts(&mut rootfs, &spec.namespace_plan().unwrap()).unwrap();
        assert!(rootfs.cgroupfs.is_some(), "this host has cgroups");
        let cgroup = rootfs.mounts.iter().find(|m| m.destination == Path::new("/sys/fs/cgroup")).unwrap();
        assert_eq!(cgroup.kind, "cgroup");
        assert!(cgroup.options.contains(&"ro".to_string()));
    }
}
