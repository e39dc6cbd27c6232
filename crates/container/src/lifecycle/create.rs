//! `bang-oci create` (chapter 6): from a bundle to a container whose init waits for
//! `start`. Loads config.json and derives the container's plan from it once (which
//! checks it), records the container, makes its cgroup, starts `bang-oci init` and
//! hands it the spec and the plan, and writes the pid file. A failure at any step
//! undoes the earlier ones: no state directory, cgroup or process is left.
//! Read the runtime-spec's runtime.md ("create") and runc-create(8).

use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::SystemTime;

use nix::sys::signal::{kill, Signal};
use nix::unistd::{Gid, Pid, Uid};

use super::console;
use super::delete::wait_gone;
use super::error::{CreateError, LifecycleError, ProtocolError};
use super::fifo::ExecFifo;
use super::hooks::{run_hooks, HookKind};
use super::mount_namespace::{mount_namespace, remove_host_view};
use super::plan::ContainerPlan;
use super::protocol::{self, spawn_sealed_init, CreateRequest, InitMessage, InitRequest, INIT_FD};
use super::state::{ContainerRecord, InitProcess, Status, PROC};
use super::store::{write_pid_file, ContainerLock, Store};
use crate::cgroups::{self, CgroupManager, Hierarchies};
use crate::namespaces::Namespace;
use crate::rootfs::MountNamespace;
use crate::spec::Spec;

/// The flags of `create` (and `run`).
#[derive(Debug, Clone)]
pub struct CreateOptions {
    pub id: String,
    /// The bundle directory (config.json and, usually, the rootfs).
    pub bundle: PathBuf,
    /// Where to write the init's host pid (podman's conmon reads it).
    pub pid_file: Option<PathBuf>,
    /// Move the rootfs onto / and chroot instead of pivot_root (runc --no-pivot).
    pub no_pivot: bool,
    /// The runtime binary to re-execute as `init` (normally /proc/self/exe).
    pub runtime: PathBuf,
    /// The unix socket to send the terminal's master to (process.terminal true).
    pub console_socket: Option<PathBuf>,
    /// How many descriptors from 3 on the container's process inherits (runc
    /// --preserve-fds: a socket-activated service gets its listening sockets so).
    pub preserve_fds: u32,
    /// Do not give the container a session keyring of its own (runc --no-new-keyring).
    pub no_new_keyring: bool,
}

// ANCHOR: rollback
/// What `create` has made so far: a guard that undoes it, in reverse, when it is
/// dropped before [`Rollback::commit`]: on an error, and on a panic between two
/// steps, so that a failed `create` leaves no state directory, cgroup or process.
/// An undo that fails is reported on stderr and the others still run.
#[derive(Default)]
struct Rollback {
    stage0: Option<Child>,
    init_pid: Option<i32>,
    cgroup: Option<Box<dyn CgroupManager>>,
    lock: Option<ContainerLock>,
    /// In the host's mount namespace: the directory the container's tree is built on.
    host_view: Option<PathBuf>,
}

impl Rollback {
    /// The container's lock, held from the state directory's creation on.
    fn lock(&self) -> &ContainerLock {
        self.lock.as_ref().expect("the state directory is made first")
    }

    /// `create` succeeded: keep everything (the lock is released, the directory stays).
    fn commit(mut self) {
        self.stage0 = None;
        self.init_pid = None;
        self.cgroup = None;
        self.host_view = None;
        self.lock = None;
    }
}

impl Drop for Rollback {
    fn drop(&mut self) {
        let undo = |what: &str, result: Result<(), String>| {
            if let Err(err) = result {
                eprintln!("bang-oci: warning: undoing a failed create: cannot {what}: {err}");
            }
        };
        if let Some(pid) = self.init_pid.take() {
            match kill(Pid::from_raw(pid), Signal::SIGKILL) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(err) => undo(&format!("kill the init (pid {pid})"), Err(err.to_string())),
            }
            undo(&format!("wait for the init (pid {pid})"), wait_gone(pid).map_err(|e| e.to_string()));
        }
        if let Some(mut child) = self.stage0.take() {
            // Gone already is fine: kill(2) of a reaped child is what fails here.
            let _ = child.kill();
            undo("wait for stage 0 of the init", child.wait().map(drop).map_err(|e| e.to_string()));
        }
        // After the init is gone: nothing mounts any more, and nothing holds them.
        if let Some(view) = self.host_view.take() {
            undo(&format!("remove {}", view.display()), remove_host_view(&view).map_err(|e| e.to_string()));
        }
        if let Some(cgroup) = self.cgroup.take() {
            undo("remove the cgroup", cgroup.remove().map_err(|e| e.to_string()));
        }
        if let Some(lock) = self.lock.take() {
            undo("remove the state directory", lock.remove().map_err(|e| e.to_string()));
        }
    }
}
// ANCHOR_END: rollback

// ANCHOR: create
/// Creates container `options.id` in `store` from its bundle, and returns its record
/// (status `created`, init waiting on the exec fifo).
pub fn create(store: &Store, options: &CreateOptions) -> Result<ContainerRecord, LifecycleError> {
    let bundle = std::fs::canonicalize(&options.bundle)
        .map_err(|source| CreateError::Bundle { path: options.bundle.clone(), source })?;
    // Validated once, here: the limits come out of it checked, and nothing below
    // (the plan, the cgroup factory, the drivers) checks them again.
    let (spec, limits) = Spec::load_validated(&bundle)?;
    // Derived once, and checked by being derived: nothing exists yet.
    let mut plan = ContainerPlan::derive(
        &spec,
        limits,
        &bundle,
        &options.id,
        options.no_pivot,
        options.console_socket.as_deref(),
    )?;
    let mut record = ContainerRecord {
        id: options.id.clone(),
        oci_version: spec.oci_version.clone(),
        status: Status::Creating,
        init: None,
        bundle: bundle.clone(),
        rootfs: plan.rootfs.clone(),
        cgroup_path: plan.cgroup.as_ref().map(|cgroup| cgroup.path.clone()),
        cgroup_joined: false,
        created: SystemTime::now(),
        owner: nix::unistd::geteuid().as_raw(),
        annotations: spec.annotations.clone(),
        host_view: None,
    };
    let mut rollback = Rollback::default();
    rollback.lock = Some(store.create(&record)?);
    create_steps(&spec, &mut plan, options, &mut record, &mut rollback)?;
    rollback.commit();
    Ok(record)
}
// ANCHOR_END: create

/// Who the init is, in a message about its silence.
const INIT: &str = "the container's init";

fn create_steps(
    spec: &Spec,
    plan: &mut ContainerPlan,
    options: &CreateOptions,
    record: &mut ContainerRecord,
    rollback: &mut Rollback,
) -> Result<(), LifecycleError> {
    let dir = rollback.lock().dir().to_path_buf();
    let mount_namespace = mount_namespace(&plan.init.namespaces, &dir)?;
    if let MountNamespace::Host { view } = &mount_namespace {
        // Recorded before it exists: a `create` killed from here on is undone by
        // `delete --force`, which finds the view in the record.
        record.host_view = Some(view.clone());
        rollback.lock().save(record)?;
        rollback.host_view = Some(view.clone());
        std::fs::create_dir(view).map_err(|source| CreateError::HostView {
            what: "create",
            path: view.clone(),
            source,
        })?;
    }
    let fifo = ExecFifo::create(&dir)?;
    // ANCHOR: chown_fifo
    // In a user namespace the container's root is some other host id, which must own
    // the fifo to reopen it through /proc/self/fd (its capabilities do not reach
    // files whose owner its namespace does not map).
    let namespaces = &plan.init.namespaces;
    if namespaces.create.contains(Namespace::User) {
        let host =
            |map: &[crate::namespaces::IdMap]| map.iter().find(|m| m.container_id == 0).map(|m| m.host_id);
        let (uid, gid) = (host(&namespaces.uid_map), host(&namespaces.gid_map));
        nix::unistd::chown(fifo.path(), uid.map(Uid::from_raw), gid.map(Gid::from_raw))
            .map_err(|source| CreateError::Chown { path: fifo.path().to_path_buf(), source })?;
    }
    // ANCHOR_END: chown_fifo
    // A joined cgroup is not ours to remove on failure (nor to kill in): the rollback
    // kills the init by its pid instead, and leaves the cgroup alone.
    let mut joined = None;
    if let Some(planned) = &plan.cgroup {
        let hierarchies = Hierarchies::here()?;
        let (cgroup, existed) = cgroups::create_or_join(&hierarchies, &planned.path, &planned.resources)?;
        record.cgroup_joined = existed;
        if existed {
            joined = Some(cgroup);
        } else {
            rollback.cgroup = Some(cgroup);
        }
    }

    // ANCHOR: spawn_init
    // Connected here, on the host: the init, once in its own root, cannot reach the path.
    let preserved: Vec<RawFd> = (INIT_FD..INIT_FD + options.preserve_fds as RawFd).collect();
    crate::security::fds::check_preserved(&preserved).map_err(crate::security::SecurityError::from)?;
    let console = options.console_socket.as_deref().map(console::connect).transpose()?;
    let (ours, theirs) = UnixStream::pair().map_err(|source| ProtocolError::Pipe { source })?;
    // The preserved descriptors keep their numbers (the init inherits them as they
    // are); the socket and the console go after them.
    let init_fd = INIT_FD + options.preserve_fds as RawFd;
    let mut fds = vec![(theirs.as_raw_fd(), init_fd)];
    if let Some(console) = &console {
        fds.push((console.as_raw_fd(), init_fd + 1));
    }
    // The state directory is the spare layer of the init's read-only overlayfs view of
    // the runtime: no copy of the binary at each start (see security::seal).
    let child = spawn_sealed_init(&options.runtime, Some(&dir), &fds)?;
    drop((theirs, console));
    let stage0_pid = child.id() as i32;
    rollback.stage0 = Some(child);
    // Stage 0 joins the cgroup before it clones, so the container init is born in it
    // and no process of the container ever runs outside its limits.
    if let Some(cgroup) = rollback.cgroup.as_ref().or(joined.as_ref()) {
        cgroup.join(stage0_pid)?;
    }
    plan.init.rootfs.mount_namespace = mount_namespace;
    let request = InitRequest::Create(Box::new(CreateRequest {
        spec: spec.clone(),
        plan: plan.init.clone(),
        fifo: fifo.path().to_path_buf(),
        console_socket: options.console_socket.as_ref().map(|_| init_fd + 1),
        preserve_fds: options.preserve_fds,
        no_new_keyring: options.no_new_keyring,
    }));
    protocol::send(&ours, &request)?;
    // ANCHOR_END: spawn_init

    // ANCHOR: wait_ready
    let pid = match protocol::reply(&ours, INIT)? {
        InitMessage::Pid(pid) => pid,
        other => return Err(protocol::unexpected("the pid", &other).into()),
    };
    rollback.init_pid = Some(pid);
    record.init = Some(InitProcess::of(pid, Path::new(PROC))?);
    let status =
        rollback.stage0.as_mut().expect("spawned").wait().map_err(|source| ProtocolError::Pipe { source })?;
    rollback.stage0 = None;
    if !status.success() {
        return Err(CreateError::Stage0 { status }.into());
    }
    // ANCHOR: create_runtime_hooks
    // The namespaces exist, nothing is mounted yet: prestart (deprecated, the same
    // moment) and createRuntime hooks run here, on the host, with the init's pid.
    let state = record.state(Status::Creating);
    let hooks = spec.hooks.clone().unwrap_or_default();
    run_hooks(HookKind::Prestart, &hooks.prestart, &state)?;
    run_hooks(HookKind::CreateRuntime, &hooks.create_runtime, &state)?;
    protocol::send(&ours, &InitMessage::Continue(state))?;
    // ANCHOR_END: create_runtime_hooks
    match protocol::reply(&ours, INIT)? {
        InitMessage::Ready => {}
        other => return Err(protocol::unexpected("ready", &other).into()),
    }
    // ANCHOR_END: wait_ready
    record.status = Status::Created;
    rollback.lock().save(record)?;
    if let Some(path) = &options.pid_file {
        write_pid_file(path, pid)?;
    }
    Ok(())
}
