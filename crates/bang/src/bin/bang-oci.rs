//! `bang-oci`: the OCI runtime the book assembles in chapter 6, driven by podman the
//! way it drives runc. This file is only the command line: parsing, logging and
//! printing; the work is in `bigbang_container::spec` (and, as chapter 6 grows, the
//! lifecycle). Read runc(8), runc-spec(8), runc-features(8), and the OCI runtime
//! specification's runtime.md and features.md.
//!
//! Commands arrive when they work: today `spec` and `features`. The global flags
//! podman passes to every runtime (`--root`, `--log`, `--log-format`, `--debug`,
//! `--systemd-cgroup`) are accepted already, so that the command lines match runc's.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use bigbang_container::spec::{Features, Spec};
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

fn run(cli: &Cli, log: &Log) -> anyhow::Result<()> {
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
            let json = serde_json::to_string_pretty(&Features::current())?;
            // Not println!, which panics when the reader has gone (`bang-oci features | head`).
            match writeln!(std::io::stdout().lock(), "{json}") {
                Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(err).context("cannot write to standard output")
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = Log { file: cli.log.clone(), format: cli.log_format, debug: cli.debug };
    match run(&cli, &log) {
        Ok(()) => ExitCode::SUCCESS,
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
