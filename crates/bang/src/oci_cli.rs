//! `bang-oci`'s command line: the OCI runtime the book assembles in chapter 6, driven
//! by podman the way it drives runc. Only parsing, logging and printing; the work is
//! in `container::spec` and `container::lifecycle`. This file is compiled twice: into
//! the `bang-oci` binary (with the product's lifecycle) and into chapter 6's binary
//! (with the learner's), so it names the modules as `crate::lifecycle` and
//! `crate::spec` and each binary brings them into its root. Read runc(8), runc-spec(8), runc-features(8), and the OCI runtime
//! specification's runtime.md and features.md.
//!
//! Commands: `spec`, `features`, and the lifecycle `create`, `start`, `state`,
//! `kill`, `delete`, `run`, `list`, `exec`, `ps`, `pause`, `resume`, `update` (plus the hidden `init`, the container's init that
//! `create` re-executes this binary as). The global flags
//! podman passes to every runtime (`--root`, `--log`, `--log-format`, `--debug`,
//! `--systemd-cgroup`) are accepted already, so that the command lines match runc's.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::lifecycle::state::Status;
use crate::lifecycle::store::{validate_id, Store};
use crate::lifecycle::{self, CreateOptions, PROC};
use crate::spec::{Features, Spec};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "bang-oci",
    version,
    about = "An OCI container runtime built in the bigbang book (chapter 6), driven like runc"
)]
struct Cli {
    /// Directory holding the state of containers, one subdirectory per container id
    /// [default: /run/bang-oci for root, $XDG_RUNTIME_DIR/bang-oci for other users].
    #[arg(long, value_name = "DIR", global = true)]
    root: Option<PathBuf>,
    /// Write log messages to FILE instead of standard error (errors go to both).
    #[arg(long, value_name = "FILE", global = true)]
    log: Option<PathBuf>,
    /// The form of log messages: text, or JSON lines as podman reads them.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    /// Log debug messages too.
    #[arg(long, global = true)]
    debug: bool,
    /// Manage cgroups through systemd. Not supported: this runtime writes the cgroup
    /// filesystem itself (use podman --cgroup-manager cgroupfs).
    #[arg(long, global = true)]
    systemd_cgroup: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a new config.json into a bundle, as `runc spec` does. An existing one is kept.
    Spec {
        /// Write a configuration for an unprivileged user: a user namespace mapping root onto you.
        #[arg(long)]
        rootless: bool,
        /// The bundle directory to write config.json into.
        #[arg(short, long, value_name = "DIR", default_value = ".")]
        bundle: PathBuf,
    },
    /// Print what this runtime implements, as JSON (the OCI features document).
    Features,
    /// Create a container from a bundle; its init waits for `start`.
    Create {
        #[command(flatten)]
        create: CreateArgs,
    },
    /// Let a created container run its process.
    Start {
        /// The container's id.
        id: String,
    },
    /// Print a container's state as JSON (the runtime-spec's state).
    State {
        /// The container's id.
        id: String,
    },
    /// Send a signal to a container's init (default SIGTERM).
    Kill {
        /// Send the signal to every process of the container's cgroup.
        #[arg(short, long)]
        all: bool,
        /// The container's id.
        id: String,
        /// A signal name (TERM, SIGKILL) or number (15).
        #[arg(default_value = "SIGTERM")]
        signal: String,
    },
    /// Delete a stopped container: its processes, cgroup and state.
    Delete {
        /// Kill a running container first.
        #[arg(short, long)]
        force: bool,
        /// The container's id.
        id: String,
    },
    /// Create and start a container, wait for it and delete it; exits with its status.
    Run {
        #[command(flatten)]
        create: CreateArgs,
        /// Return once the container has started, leaving it running.
        #[arg(short, long)]
        detach: bool,
    },
    /// Freeze every process of a running container (the cgroup freezer).
    Pause {
        /// The container's id.
        id: String,
    },
    /// Thaw a paused container.
    Resume {
        /// The container's id.
        id: String,
    },
    /// Change a container's cgroup limits, from a linux.resources JSON or from flags.
    Update {
        #[command(flatten)]
        update: UpdateArgs,
    },
    /// List the containers.
    List {
        /// table or json.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Print only the ids.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Run a new process in a running container; exits with its status (255 when it cannot start).
    Exec {
        #[command(flatten)]
        exec: ExecArgs,
    },
    /// List the processes of a container: their host pids as JSON, or ps(1) rows.
    Ps {
        /// table (the host's ps, filtered) or json (an array of pids).
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// The container's id.
        id: String,
        /// Options for ps(1) in table form (default -ef); put them after `--`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "PS_ARGS")]
        ps_args: Vec<String>,
    },
    /// The container's init: started by `create`, not by people.
    #[command(hide = true)]
    Init {
        /// The inherited socket to `create`.
        #[arg(long)]
        fd: i32,
    },
}

#[derive(clap::Args)]
struct CreateArgs {
    /// The bundle directory (config.json and the root filesystem).
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    bundle: PathBuf,
    /// Write the init's host pid to FILE.
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// Use move and chroot instead of pivot_root (for a rootfs on ramfs).
    #[arg(long)]
    no_pivot: bool,
    /// A unix socket to send the master of the container's terminal to (process.terminal true).
    #[arg(long, value_name = "PATH")]
    console_socket: Option<PathBuf>,
    /// Pass descriptors 3 .. 3+N on to the container's process (socket activation).
    #[arg(long, value_name = "N", default_value_t = 0)]
    preserve_fds: u32,
    /// Keep the caller's session keyring instead of giving the container a new one.
    #[arg(long)]
    no_new_keyring: bool,
    /// The container's id.
    id: String,
}

/// The flags of `exec`, as runc-exec(8) has them.
#[derive(clap::Args)]
struct ExecArgs {
    /// A runtime-spec process object (JSON) to run instead of config.json's process and COMMAND.
    #[arg(short, long, value_name = "FILE")]
    process: Option<PathBuf>,
    /// Return once the process runs instead of waiting for it.
    #[arg(short, long)]
    detach: bool,
    /// Write the process's host pid to FILE.
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// Give the process a terminal (its master goes to --console-socket).
    #[arg(short, long)]
    tty: bool,
    /// A unix socket to send the master of the process's terminal to.
    #[arg(long, value_name = "PATH")]
    console_socket: Option<PathBuf>,
    /// The working directory inside the container.
    #[arg(long, value_name = "DIR")]
    cwd: Option<String>,
    /// Add an environment variable (repeatable).
    #[arg(short, long, value_name = "K=V")]
    env: Vec<String>,
    /// Run as UID, or UID:GID.
    #[arg(short, long, value_name = "UID[:GID]")]
    user: Option<String>,
    /// Add a capability to the bounding, effective and permitted sets (repeatable).
    #[arg(short, long, value_name = "CAP")]
    cap: Vec<String>,
    /// Set no_new_privs for the process.
    #[arg(long)]
    no_new_privs: bool,
    /// Pass descriptors 3 .. 3+N on to the process.
    #[arg(long, value_name = "N", default_value_t = 0)]
    preserve_fds: u32,
    /// The container's id.
    id: String,
    /// The command and its arguments (without --process).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
    command: Vec<String>,
}

impl ExecArgs {
    fn options(&self) -> anyhow::Result<lifecycle::ExecOptions> {
        validate_id(&self.id)?;
        let flags = lifecycle::ProcessFlags {
            args: self.command.clone(),
            tty: self.tty,
            cwd: self.cwd.clone(),
            env: self.env.clone(),
            user: self.user.clone(),
            caps: self.cap.clone(),
            no_new_privs: self.no_new_privs,
        };
        let process = match &self.process {
            None => lifecycle::ExecProcess::Flags(flags),
            // podman passes --tty along with a file that has a terminal: allowed.
            Some(path) if lifecycle::ProcessFlags { tty: false, ..flags } == Default::default() => {
                lifecycle::ExecProcess::File { path: path.clone(), tty: self.tty }
            }
            Some(path) => bail!(
                "--process {} replaces the whole process: drop COMMAND and --cwd, --env, --user, --cap, --no-new-privs, or put them in the file",
                path.display()
            ),
        };
        let runtime = std::fs::read_link("/proc/self/exe").context("cannot find this runtime's binary")?;
        Ok(lifecycle::ExecOptions {
            id: self.id.clone(),
            process,
            detach: self.detach,
            pid_file: self.pid_file.clone(),
            console_socket: self.console_socket.clone(),
            preserve_fds: self.preserve_fds,
            runtime,
        })
    }
}

impl CreateArgs {
    fn options(&self) -> anyhow::Result<CreateOptions> {
        validate_id(&self.id)?;
        let runtime = std::fs::read_link("/proc/self/exe").context("cannot find this runtime's binary")?;
        Ok(CreateOptions {
            id: self.id.clone(),
            bundle: self.bundle.clone(),
            pid_file: self.pid_file.clone(),
            no_pivot: self.no_pivot,
            runtime,
            console_socket: self.console_socket.clone(),
            preserve_fds: self.preserve_fds,
            no_new_keyring: self.no_new_keyring,
        })
    }
}

/// runc-update(8)'s command line.
#[derive(clap::Args)]
struct UpdateArgs {
    /// A file holding a runtime-spec linux.resources object, or - for standard input.
    /// The flags below are for when there is none.
    #[arg(short, long, value_name = "FILE")]
    resources: Option<PathBuf>,
    /// Block I/O weight, 10 to 1000.
    #[arg(long, value_name = "WEIGHT")]
    blkio_weight: Option<u16>,
    /// CFS period in microseconds.
    #[arg(long, value_name = "USEC")]
    cpu_period: Option<u64>,
    /// CFS quota in microseconds per period (-1: no limit).
    #[arg(long, value_name = "USEC", allow_hyphen_values = true)]
    cpu_quota: Option<i64>,
    /// Quota carried over between periods, in microseconds.
    #[arg(long, value_name = "USEC")]
    cpu_burst: Option<u64>,
    /// CPU shares (relative weight).
    #[arg(long, value_name = "SHARES")]
    cpu_share: Option<u64>,
    /// Real-time period in microseconds.
    #[arg(long, value_name = "USEC")]
    cpu_rt_period: Option<u64>,
    /// Real-time runtime per period in microseconds.
    #[arg(long, value_name = "USEC", allow_hyphen_values = true)]
    cpu_rt_runtime: Option<i64>,
    /// The CPUs to run on (0-1,3).
    #[arg(long, value_name = "LIST")]
    cpuset_cpus: Option<String>,
    /// The memory nodes to allocate from.
    #[arg(long, value_name = "LIST")]
    cpuset_mems: Option<String>,
    /// 1: SCHED_IDLE for the cgroup.
    #[arg(long, value_name = "0|1")]
    cpu_idle: Option<i64>,
    /// Memory limit (bytes, or 64M, 1G; -1: none).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    memory: Option<String>,
    /// Memory plus swap (-1: unlimited swap).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Soft limit.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    memory_reservation: Option<String>,
    /// Ignored with a warning, as runc does: kernels ignore kernel memory limits.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    kernel_memory: Option<String>,
    /// Ignored with a warning, as runc does (a deprecated kernel memory limit).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    kernel_memory_tcp: Option<String>,
    /// The most tasks (-1: no limit; 0 leaves the limit as it is, as with runc).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Intel RDT L3 cache schema: not supported.
    #[arg(long, value_name = "SCHEMA")]
    l3_cache_schema: Option<String>,
    /// Intel RDT memory bandwidth schema: not supported.
    #[arg(long, value_name = "SCHEMA")]
    mem_bw_schema: Option<String>,
    /// The container's id.
    id: String,
}

impl UpdateArgs {
    fn resources(&self) -> anyhow::Result<crate::spec::LinuxResources> {
        if self.l3_cache_schema.is_some() || self.mem_bw_schema.is_some() {
            bail!("--l3-cache-schema and --mem-bw-schema (Intel RDT) are not supported by this runtime; drop them");
        }
        let flags = lifecycle::update::UpdateFlags {
            blkio_weight: self.blkio_weight,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpu_burst: self.cpu_burst,
            cpu_share: self.cpu_share,
            cpu_rt_period: self.cpu_rt_period,
            cpu_rt_runtime: self.cpu_rt_runtime,
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            cpu_idle: self.cpu_idle,
            memory: self.memory.clone(),
            memory_swap: self.memory_swap.clone(),
            memory_reservation: self.memory_reservation.clone(),
            kernel_memory: self.kernel_memory.clone(),
            kernel_memory_tcp: self.kernel_memory_tcp.clone(),
            pids_limit: self.pids_limit,
        };
        match &self.resources {
            // runc ignores the flags when --resources is given; saying so is kinder.
            Some(_) if !flags.is_empty() => {
                bail!("give either --resources or the limit flags, not both; put everything in the resources file")
            }
            Some(path) => Ok(lifecycle::update::read_resources(path)?),
            None if flags.is_empty() => {
                bail!("nothing to update: give --resources FILE or a limit flag such as --memory 64M")
            }
            None => Ok(flags.resources()?),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Where log messages go: `--log FILE` or standard error, in `--log-format`.
struct Log {
    file: Option<PathBuf>,
    format: LogFormat,
    debug: bool,
}

impl Log {
    fn line(&self, level: &str, msg: &str) -> String {
        let time = rfc3339(SystemTime::now());
        match self.format {
            LogFormat::Json => serde_json::json!({ "level": level, "msg": msg, "time": time }).to_string(),
            LogFormat::Text => format!("time={time:?} level={level} msg={msg:?}"),
        }
    }

    /// Appends a line to the log file. A log that cannot be written must not hide
    /// the message itself, so the failure is reported on standard error.
    fn to_file(&self, path: &Path, line: &str) {
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| writeln!(file, "{line}"));
        if let Err(err) = written {
            eprintln!("bang-oci: cannot write the log {}: {err}", path.display());
        }
    }

    fn debug(&self, msg: &str) {
        if !self.debug {
            return;
        }
        let line = self.line("debug", msg);
        match &self.file {
            Some(path) => self.to_file(path, &line),
            None => eprintln!("{line}"),
        }
    }

    /// Warnings (a failed poststart or poststop hook) go where errors go.
    fn warn(&self, msg: &str) {
        eprintln!("bang-oci: warning: {msg}");
        if let Some(path) = &self.file {
            self.to_file(path, &self.line("warning", msg));
        }
    }

    /// Errors go to standard error, for a person, and to the log, for podman.
    fn error(&self, msg: &str) {
        eprintln!("bang-oci: {msg}");
        if let Some(path) = &self.file {
            self.to_file(path, &self.line("error", msg));
        }
    }
}

/// `2026-11-26T15:09:16Z`, from the civil-from-days algorithm (H. Hinnant), so the
/// runtime needs no date crate for its log.
fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Writes `text` and a newline to standard output; a reader that has gone
/// (`bang-oci list | head`) is not an error, unlike println!'s panic.
fn print(text: &str) -> anyhow::Result<()> {
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(err).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}

fn list(store: &Store, format: ListFormat, quiet: bool) -> anyhow::Result<()> {
    let listing = store.list()?;
    let mut rows = Vec::new();
    for record in &listing.containers {
        let status = record.live_status(Path::new(PROC))?;
        rows.push((record, status));
    }
    // Broken entries are reported whatever the format: a quiet listing that silently
    // skipped a container would hide it from `bang-oci list -q | xargs …` cleanups.
    for (name, err) in &listing.broken {
        eprintln!("bang-oci: skipping {name}: {err}");
    }
    if quiet {
        for (record, _) in &rows {
            print(&record.id)?;
        }
        return Ok(());
    }
    match format {
        ListFormat::Json => {
            let items: Vec<_> = rows
                .iter()
                .map(|(record, status)| {
                    let state = record.state(*status);
                    serde_json::json!({
                        "ociVersion": state.oci_version,
                        "id": state.id,
                        "pid": state.pid.unwrap_or(0),
                        "status": state.status,
                        "bundle": state.bundle,
                        "rootfs": record.rootfs,
                        "created": rfc3339(record.created),
                        "owner": owner_name(record.owner),
                    })
                })
                .collect();
            print(&serde_json::to_string(&items)?)?;
        }
        ListFormat::Table => {
            let mut out = format!(
                "{:<20} {:<8} {:<10} {:<40} {:<21} OWNER\n",
                "ID", "PID", "STATUS", "BUNDLE", "CREATED"
            );
            for (record, status) in &rows {
                let pid = if *status == Status::Stopped { 0 } else { record.init.map_or(0, |i| i.pid) };
                out.push_str(&format!(
                    "{:<20} {:<8} {:<10} {:<40} {:<21} {}\n",
                    record.id,
                    pid,
                    status.as_str(),
                    record.bundle.display(),
                    rfc3339(record.created),
                    owner_name(record.owner)
                ));
            }
            print(out.trim_end())?;
        }
    }
    Ok(())
}

/// A uid as a name, as runc's list shows it (root, or `#1000` when unknown).
fn owner_name(uid: u32) -> String {
    match nix_user_name(uid) {
        Some(name) => name,
        None => format!("#{uid}"),
    }
}

fn nix_user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid.to_string()).then(|| name.to_string())
    })
}

/// What `run` asks `main` to exit with.
enum Outcome {
    Done,
    Exit(i32),
}

/// The state root: `--root`, or runc's defaults (`/run/runc` for root,
/// `$XDG_RUNTIME_DIR/runc` for other users) with our name. An unprivileged user
/// cannot write /run, and a shared directory would let users see each other's
/// containers.
fn state_root(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(root) = given {
        return Ok(root.to_path_buf());
    }
    if nix::unistd::geteuid().is_root() {
        return Ok(PathBuf::from("/run/bang-oci"));
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => Ok(Path::new(&dir).join("bang-oci")),
        None => bail!("XDG_RUNTIME_DIR is not set, and an unprivileged user cannot keep state in /run/bang-oci; pass --root DIR (a directory of your own) or log in with a session that sets XDG_RUNTIME_DIR"),
    }
}

fn run(cli: &Cli, log: &Log) -> anyhow::Result<Outcome> {
    // Only the verbs that keep state need (and so compute) the state root.
    let root = || -> anyhow::Result<PathBuf> {
        let root = state_root(cli.root.as_deref())?;
        log.debug(&format!("state root {}", root.display()));
        Ok(root)
    };
    if cli.systemd_cgroup {
        bail!("--systemd-cgroup is not supported: this runtime manages cgroups through the cgroup filesystem itself; drop the flag (with podman: --cgroup-manager cgroupfs)");
    }
    match &cli.command {
        Command::Spec { rootless, bundle } => {
            let spec = if *rootless { Spec::rootless_default() } else { Spec::runc_default() };
            let path = spec.save(bundle).context("cannot write a new configuration")?;
            log.debug(&format!("wrote {}", path.display()));
        }
        Command::Features => {
            print(&serde_json::to_string_pretty(&Features::current())?)?;
        }
        Command::Create { create } => {
            let options = create.options()?;
            warn_ignored(log, &options.bundle);
            let record = lifecycle::create(&Store::open(&root()?)?, &options)?;
            log.debug(&format!("created {} with init pid {:?}", record.id, record.init.map(|i| i.pid)));
        }
        Command::Start { id } => {
            for warning in lifecycle::start(&Store::open(&root()?)?, id)? {
                log.warn(&warning.to_string());
            }
        }
        Command::State { id } => {
            let record = Store::open(&root()?)?.load(id)?;
            let state = record.state(record.live_status(Path::new(PROC))?);
            print(&serde_json::to_string_pretty(&state)?)?;
        }
        Command::Kill { all, id, signal } => {
            let signal = lifecycle::parse_signal(signal)?;
            lifecycle::kill(&Store::open(&root()?)?, id, signal, *all)?;
        }
        Command::Delete { force, id } => {
            for warning in lifecycle::delete(&Store::open(&root()?)?, id, *force)? {
                log.warn(&warning.to_string());
            }
        }
        Command::Run { create, detach } => {
            let options = create.options()?;
            warn_ignored(log, &options.bundle);
            let outcome = lifecycle::run(&Store::open(&root()?)?, &options, *detach)?;
            for warning in outcome.warnings {
                log.warn(&warning.to_string());
            }
            return Ok(Outcome::Exit(outcome.code));
        }
        Command::List { format, quiet } => list(&Store::open(&root()?)?, *format, *quiet)?,
        Command::Pause { id } => lifecycle::pause(&Store::open(&root()?)?, id)?,
        Command::Resume { id } => lifecycle::resume(&Store::open(&root()?)?, id)?,
        Command::Update { update } => {
            let resources = update.resources()?;
            for ignored in lifecycle::update(&Store::open(&root()?)?, &update.id, &resources)? {
                log.warn(&ignored.to_string());
            }
        }
        Command::Exec { exec } => {
            // As runc: 255 when the process cannot start, so that it is not taken
            // for the process's own exit status.
            let code =
                exec.options().and_then(|options| Ok(lifecycle::exec(&Store::open(&root()?)?, &options)?));
            return match code {
                Ok(code) => Ok(Outcome::Exit(code)),
                Err(err) => {
                    log.error(&format!("exec failed: {err:#}"));
                    Ok(Outcome::Exit(255))
                }
            };
        }
        Command::Ps { format, id, ps_args } => {
            let pids = lifecycle::ps(&Store::open(&root()?)?, id)?;
            match format {
                ListFormat::Json => print(&serde_json::to_string(&pids)?)?,
                ListFormat::Table => print(lifecycle::ps::ps_table(&pids, ps_args)?.trim_end())?,
            }
        }
        Command::Init { fd } => lifecycle::init::main(*fd),
    }
    Ok(Outcome::Done)
}

/// Warns about the fields of config.json's `linux.resources` that create leaves out,
/// as runc does ("Kernel memory settings are ignored"). A config.json that does not
/// load is not reported here: `create` says what is wrong with it.
fn warn_ignored(log: &Log, bundle: &Path) {
    if let Ok(ignored) = Spec::load(bundle).and_then(|spec| spec.ignored_resources()) {
        for field in ignored {
            log.warn(&field.to_string());
        }
    }
}

/// The whole of `bang-oci`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = Log { file: cli.log.clone(), format: cli.log_format, debug: cli.debug };
    match run(&cli, &log) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Exit(code)) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(err) => {
            log.error(&format!("{err:#}"));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_705_756)), "2026-11-26T15:09:16Z");
    }
}
