//! `bang-oci`'s command line: the OCI runtime the book assembles in chapter 6, driven
//! by podman the way it drives runc. Only parsing, logging and printing; the work is
//! in `container::spec` and `container::lifecycle`. This file is compiled twice: into
//! the `bang-oci` binary (with the product's lifecycle) and into chapter 6's binary
//! (with the learner's), so it names the modules as `crate::lifecycle` and
//! `crate::spec` and each binary brings them into its root. Read runc(8), runc-spec(8), runc-features(8), and the OCI runtime
//! specification's runtime.md and features.md.
//!
//! Commands: `spec`, `features`, and the lifecycle `create`, `start`, `state`,
//! `kill`, `delete`, `run`, `list` (plus the hidden `init`, the container's init that
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
    /// Directory holding the state of containers, one subdirectory per container id.
    #[arg(long, value_name = "DIR", default_value = "/run/bang-oci", global = true)]
    root: PathBuf,
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
    /// List the containers.
    List {
        /// table or json.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Print only the ids.
        #[arg(short, long)]
        quiet: bool,
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
    /// A pseudo-terminal socket. Not supported: use process.terminal false.
    #[arg(long, value_name = "PATH")]
    console_socket: Option<PathBuf>,
    /// The container's id.
    id: String,
}

impl CreateArgs {
    fn options(&self) -> anyhow::Result<CreateOptions> {
        if let Some(socket) = &self.console_socket {
            bail!("--console-socket {} is not supported: this runtime has no terminal support yet; set process.terminal to false and drop the flag", socket.display());
        }
        validate_id(&self.id)?;
        let runtime = std::fs::read_link("/proc/self/exe").context("cannot find this runtime's binary")?;
        Ok(CreateOptions {
            id: self.id.clone(),
            bundle: self.bundle.clone(),
            pid_file: self.pid_file.clone(),
            no_pivot: self.no_pivot,
            runtime,
        })
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
    for (name, err) in &listing.broken {
        eprintln!("bang-oci: skipping {name}: {err}");
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

fn run(cli: &Cli, log: &Log) -> anyhow::Result<Outcome> {
    log.debug(&format!("state root {}", cli.root.display()));
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
            let record = lifecycle::create(&Store::open(&cli.root)?, &options)?;
            log.debug(&format!("created {} with init pid {:?}", record.id, record.init.map(|i| i.pid)));
        }
        Command::Start { id } => {
            for warning in lifecycle::start(&Store::open(&cli.root)?, id)? {
                log.warn(&warning.to_string());
            }
        }
        Command::State { id } => {
            let record = Store::open(&cli.root)?.load(id)?;
            let state = record.state(record.live_status(Path::new(PROC))?);
            print(&serde_json::to_string_pretty(&state)?)?;
        }
        Command::Kill { all, id, signal } => {
            let signal = lifecycle::parse_signal(signal)?;
            lifecycle::kill(&Store::open(&cli.root)?, id, signal, *all)?;
        }
        Command::Delete { force, id } => {
            for warning in lifecycle::delete(&Store::open(&cli.root)?, id, *force)? {
                log.warn(&warning.to_string());
            }
        }
        Command::Run { create, detach } => {
            let options = create.options()?;
            let outcome = lifecycle::run(&Store::open(&cli.root)?, &options, *detach)?;
            for warning in outcome.warnings {
                log.warn(&warning.to_string());
            }
            return Ok(Outcome::Exit(outcome.code));
        }
        Command::List { format, quiet } => list(&Store::open(&cli.root)?, *format, *quiet)?,
        Command::Init { fd } => lifecycle::init::main(*fd),
    }
    Ok(Outcome::Done)
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
