//! The chapter 2 demo: run a command in new namespaces, under an init of your own.
//!
//! `cargo run -p chapter-2 -- run [--ns uts,pid,…] [--hostname NAME] [--uid-map 0:1000:1]
//! ROOTFS -- CMD [ARG…]` clones a child into the namespaces (all seven by default),
//! writes its id maps from the parent, and the child, PID 1 inside, sets the hostname,
//! chroots into ROOTFS and runs CMD while reaping orphans and forwarding signals. It
//! exits as CMD did (128+n for signal n, 127 not found, 125 when the runtime failed).
//! `cargo run -p chapter-2 -- make-rootfs DIR` builds a busybox rootfs to try it on.

use std::convert::Infallible;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::{chdir, chroot, setgroups, setresgid, setresuid, Gid, Uid};

use chapter_2::namespaces::idmap::{check_map, check_root_mapped, write_id_maps};
use chapter_2::namespaces::init::{become_subreaper, block_init_signals, reap_and_forward, spawn_payload};
use chapter_2::namespaces::spawn::{clone_into, Cloned, Handshake};
use chapter_2::namespaces::uts::{check_uts, set_hostname};
use chapter_2::namespaces::{IdKind, IdMap, Namespace, NamespaceError, Namespaces, Setgroups};
use chapter_2::process::{check_rootfs, find_program, CONTAINER_PATH};

#[derive(Parser)]
#[command(
    name = "chapter-2",
    about = "Chapter 2's demo: a command in namespaces of its own, under PID 1 of your own"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run CMD in ROOTFS in new namespaces.
    Run(Run),
    /// Build a busybox rootfs in DIR to try `run` on.
    MakeRootfs { dir: PathBuf },
}

#[derive(clap::Args)]
struct Run {
    /// The namespaces to create, comma-separated: uts, pid, mnt (mount), ipc, net
    /// (network), user, cgroup; "" for none.
    #[arg(long = "ns", default_value = "user,uts,pid,mnt,ipc,net,cgroup")]
    namespaces: Namespaces,
    /// The hostname inside (needs uts).
    #[arg(long)]
    hostname: Option<String>,
    /// A uid map line CONTAINER:HOST:SIZE (needs user); repeat for several ranges.
    /// Default: 0:<your uid>:1.
    #[arg(long = "uid-map")]
    uid_map: Vec<IdMap>,
    /// A gid map line CONTAINER:HOST:SIZE (needs user). Default: 0:<your gid>:1.
    #[arg(long = "gid-map")]
    gid_map: Vec<IdMap>,
    /// Write the init's pid (as the host sees it) to this file once it is set up.
    #[arg(long = "pid-file")]
    pid_file: Option<PathBuf>,
    rootfs: PathBuf,
    #[arg(last = true, required = true)]
    argv: Vec<String>,
}

/// Everything the child needs, worked out and checked in the parent before the clone,
/// so bad input is refused before any process exists.
struct Plan {
    namespaces: Namespaces,
    hostname: Option<String>,
    maps: Option<(Vec<IdMap>, Vec<IdMap>, Setgroups)>,
    pid_file: Option<PathBuf>,
    root: PathBuf,
    program: PathBuf,
    args: Vec<String>,
}

/// Exit codes of a runtime that failed itself, as `docker run` reports them.
const RUNTIME_FAILED: u8 = 125;
const NOT_FOUND: u8 = 127;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::MakeRootfs { dir } => match bigbang_testkit::rootfs::make_busybox_rootfs(&dir) {
            Ok(()) => {
                println!(
                    "made a busybox rootfs in {0}; try: cargo run -p chapter-2 -- run --hostname box1 {0} -- sh",
                    dir.display()
                );
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("chapter-2: {err}");
                ExitCode::from(1)
            }
        },
        Cmd::Run(run) => {
            let plan = match plan(run) {
                Ok(plan) => plan,
                Err((code, err)) => {
                    eprintln!("chapter-2: {err:#}");
                    return ExitCode::from(code);
                }
            };
            match run_container(&plan) {
                Ok(code) => ExitCode::from(code),
                Err(err) => {
                    eprintln!("chapter-2: {err:#}");
                    ExitCode::from(RUNTIME_FAILED)
                }
            }
        }
    }
}

fn plan(run: Run) -> Result<Plan, (u8, anyhow::Error)> {
    let failed = |err: anyhow::Error| (RUNTIME_FAILED, err);
    check_uts(&run.namespaces, run.hostname.as_deref()).map_err(|e| failed(e.into()))?;
    let maps = if run.namespaces.contains(Namespace::User) {
        let or_own = |map: Vec<IdMap>, kind: IdKind| {
            if map.is_empty() {
                vec![IdMap::root_onto(kind.own_id())]
            } else {
                map
            }
        };
        let uid_map = or_own(run.uid_map, IdKind::Uid);
        let gid_map = or_own(run.gid_map, IdKind::Gid);
        for (kind, map) in [(IdKind::Uid, &uid_map), (IdKind::Gid, &gid_map)] {
            check_map(kind, map).and_then(|()| check_root_mapped(kind, map)).map_err(|e| failed(e.into()))?;
        }
        let setgroups = Setgroups::for_caller().map_err(|e| failed(e.into()))?;
        Some((uid_map, gid_map, setgroups))
    } else if !run.uid_map.is_empty() || !run.gid_map.is_empty() {
        return Err(failed(NamespaceError::IdMapsWithoutUserNamespace.into()));
    } else {
        None
    };
    let root = check_rootfs(&run.rootfs).map_err(|e| failed(e.into()))?;
    let (name, args) = run.argv.split_first().expect("clap requires at least one word of CMD");
    let program = find_program(&root, name).ok_or_else(|| {
        let err = anyhow::anyhow!(
            "{name}: command not found in rootfs {} (looked in {CONTAINER_PATH})",
            run.rootfs.display()
        );
        (NOT_FOUND, err)
    })?;
    Ok(Plan {
        namespaces: run.namespaces,
        hostname: run.hostname,
        maps,
        pid_file: run.pid_file,
        root,
        program,
        args: args.to_vec(),
    })
}

// ANCHOR: run_container
/// The runtime's side: clone the init, set it up from outside, release it, then
/// wait for it while forwarding signals to it, and exit as it did.
fn run_container(plan: &Plan) -> anyhow::Result<u8> {
    // Blocked before the clone: the init inherits the mask, and a signal that
    // arrives early waits, pending, for the loop instead of being lost.
    let signals = block_init_signals()?;
    let handshake = Handshake::new()?;
    let init = match clone_into(&plan.namespaces)? {
        Cloned::Child => match container_init(plan, handshake, &signals) {
            Err(err) => {
                eprintln!("chapter-2: in the container: {err:#}");
                std::process::exit(RUNTIME_FAILED.into())
            }
        },
        Cloned::Parent { child } => child,
    };
    let setup = || -> anyhow::Result<()> {
        if let Some((uid_map, gid_map, setgroups)) = &plan.maps {
            write_id_maps(init, uid_map, gid_map, *setgroups)?;
        }
        if let Some(pid_file) = &plan.pid_file {
            write_pid_file(pid_file, init.as_raw())
                .with_context(|| format!("cannot write the pid file {}", pid_file.display()))?;
        }
        Ok(())
    };
    if let Err(err) = setup() {
        handshake.abandon(init);
        return Err(err);
    }
    handshake.release(init)?;
    let exit = reap_and_forward(init, &signals)?;
    Ok(exit.shell_code() as u8)
}
// ANCHOR_END: run_container

// ANCHOR: container_init
/// The child's side, PID 1 of the new PID namespace: wait for the id maps, become
/// root inside, set the hostname, enter the rootfs, start the payload and be its init.
fn container_init(plan: &Plan, handshake: Handshake, signals: &SigSet) -> anyhow::Result<Infallible> {
    // If the runtime dies, so does the container (SIGKILL reaches PID 1 from outside).
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).context("prctl(PR_SET_PDEATHSIG)")?;
    if !handshake.wait()? {
        // The runtime gave up and has said why.
        std::process::exit(RUNTIME_FAILED.into());
    }
    if let Some((_, _, groups)) = &plan.maps {
        let root_gid = Gid::from_raw(0);
        setresgid(root_gid, root_gid, root_gid).context("setresgid(0): is gid 0 mapped?")?;
        if *groups == Setgroups::Allow {
            // Drop the runtime's supplementary groups; they mean nothing inside.
            setgroups(&[]).context("setgroups([])")?;
        }
        let root_uid = Uid::from_raw(0);
        setresuid(root_uid, root_uid, root_uid).context("setresuid(0): is uid 0 mapped?")?;
    }
    if let Some(hostname) = &plan.hostname {
        set_hostname(hostname)?;
    }
    chroot(&plan.root).with_context(|| format!("chroot({})", plan.root.display()))?;
    chdir("/").context("chdir(/) in the rootfs")?;
    if !plan.namespaces.contains(Namespace::Pid) {
        // Not PID 1, so orphans would go to the host's init: adopt them instead.
        become_subreaper()?;
    }
    let mut command = Command::new(&plan.program);
    command.args(&plan.args).env_clear().env("PATH", CONTAINER_PATH).env("HOME", "/");
    if let Some(term) = std::env::var_os("TERM") {
        command.env("TERM", term);
    }
    let payload = spawn_payload(&mut command, signals).unwrap_or_else(|err| spawn_error(&plan.program, err));
    let exit = reap_and_forward(payload, signals)?;
    std::process::exit(exit.shell_code())
}
// ANCHOR_END: container_init

/// A payload that cannot be started: 127 not found, 126 not executable, as shells say.
fn spawn_error(program: &Path, err: io::Error) -> ! {
    let code = match err.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOENT) => NOT_FOUND,
        Some(Errno::EACCES | Errno::ENOEXEC) => 126,
        _ => RUNTIME_FAILED,
    };
    eprintln!("chapter-2: cannot start {}: {err}", program.display());
    std::process::exit(code.into())
}

/// Writes the pid to a temporary file and renames it, so a reader never sees half of it.
fn write_pid_file(path: &Path, pid: i32) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{pid}\n"))?;
    std::fs::rename(&tmp, path)
}
