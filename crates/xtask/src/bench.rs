//! `cargo xtask bench runtime`: how long bang-oci takes to run a container, next to
//! runc, youki and crun on the same bundle, and next to the floor: unshare(1) of the same
//! five namespaces, chroot(1) and the payload, with no runtime at all (chapter 6,
//! book/src/06-oci-runtime/speed.md).
//!
//! Every runtime runs the same busybox bundle (`runc spec`, adapted to run /bin/true)
//! in interleaved rounds, so that noise from the machine hits all alike. Measured
//! from outside, as an engine sees it: the wall time of each command, with
//! std::time::Instant around std::process::Command. Needs root. youki is optional
//! (`cargo install youki --features v1,v2,seccomp`, which needs libseccomp-dev): it is
//! looked for on PATH, in ~/.cargo/bin and /opt/youki/bin, or named by $YOUKI. crun
//! (Debian's package) takes part when it is on PATH and runs one container here.
//!
//! Why not hyperfine: it runs every round of one command before the other's, so a
//! noisy minute on a shared machine lands on one runtime only.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bigbang_workshop::chapter::Workspace;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

/// How long one runtime command may take before the benchmark gives up on it: a
/// hundred times what any of them needs.
const COMMAND_LIMIT: Duration = Duration::from_secs(10);

/// A command the watchdog killed. A peer's hang is counted and its round left out
/// (youki 0.7.0's `run` hangs now and then, waiting for a payload that has already
/// exited); bang-oci's is a bug, and fails the benchmark.
#[derive(Debug)]
struct Hung(String);

impl std::fmt::Display for Hung {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Hung {}

/// `Ok(Some(value))`, or `Ok(None)` when a peer hung (counted in `hangs`).
fn tolerate_peer_hang<T>(runtime: &Runtime, result: Result<T>, hangs: &mut usize) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if runtime.name != "bang-oci" && err.is::<Hung>() => {
            eprintln!("{err:#}");
            *hangs += 1;
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// A runtime compared.
struct Runtime {
    name: &'static str,
    binary: PathBuf,
    /// Its own `--root` state directory, so that neither sees the other's containers.
    root: PathBuf,
    /// Standard error of its last command, shown when that command fails.
    log: PathBuf,
}

/// The timings of one runtime, in the order the rounds ran.
#[derive(Default)]
struct Samples {
    run: Vec<Duration>,
    lifecycle: Vec<Duration>,
    create: Vec<Duration>,
    start: Vec<Duration>,
    delete: Vec<Duration>,
}

// ANCHOR: bench_runtime
/// Builds bang-oci in release, makes the bundle, runs `warmup` unrecorded rounds and
/// `rounds` measured ones, and prints the table. Fails only when a command fails.
pub fn runtime(ws: &Workspace, rounds: usize, warmup: usize) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        bail!("cargo xtask bench runtime needs root: it creates containers with bang-oci and runc (try sudo -E cargo xtask bench runtime)");
    }
    if rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let runc = find_program("runc", &[])
        .context("runc not found in PATH, /usr/sbin or /usr/bin; install it (sudo apt-get install runc)")?;
    let youki = std::env::var_os("YOUKI").map(PathBuf::from).or_else(find_youki);
    let bang_oci = build_bang_oci(ws)?;
    // The bundle may live anywhere; the state directories go where the runtimes keep
    // them by default (/run/runc, /run/bang-oci), on the same file system.
    let bundle_dir = tempfile::Builder::new().prefix("bigbang-bench-bundle-").tempdir()?;
    let state_dir = tempfile::Builder::new().prefix("bigbang-bench-").tempdir_in("/run")?;
    let bundle = bundle_dir.path();
    make_bundle(&runc, bundle)?;
    let runtime = |name: &'static str, binary: PathBuf| Runtime {
        name,
        binary,
        root: state_dir.path().join(name),
        log: state_dir.path().join(format!("{name}.stderr")),
    };
    let mut runtimes = vec![runtime("bang-oci", bang_oci), runtime("runc", runc)];
    match youki {
        Some(youki) => runtimes.push(runtime("youki", youki)),
        None => println!(
            "youki not found (PATH, ~/.cargo/bin, /opt/youki/bin, $YOUKI): left out; `cargo install youki --features v1,v2,seccomp` (needs libseccomp-dev) adds it"
        ),
    }
    // crun takes part where it runs: crun 1.8.1 refuses a hybrid cgroup layout
    // ("cgroups in hybrid mode not supported"), whatever its --cgroup-manager.
    if let Some(crun) = find_program("crun", &[]) {
        let crun = runtime("crun", crun);
        match time_run(&crun, bundle, &format!("bench-{}-probe", std::process::id())) {
            Ok(_) => runtimes.push(crun),
            Err(err) => println!("crun does not run here, left out: {}", first_line(&format!("{err:#}"))),
        }
    }
    let floor = Floor::new(bundle)?;
    // `create` leaves the container's init an orphan once the runtime exits; as a
    // child subreaper, this process inherits it and can wait(2) for it, as conmon does.
    nix::sys::prctl::set_child_subreaper(true).context("prctl(PR_SET_CHILD_SUBREAPER)")?;
    print_setup(&runtimes, &floor, rounds, warmup);
    let mut samples: Vec<Samples> = runtimes.iter().map(|_| Samples::default()).collect();
    let mut floor_samples = Vec::new();
    let mut hangs = vec![0usize; runtimes.len()];
    for round in 0..warmup + rounds {
        // Rotate who goes first, so that none always runs on a warmer cache.
        let order: Vec<usize> = (0..runtimes.len()).map(|i| (i + round) % runtimes.len()).collect();
        for &i in &order {
            let id = format!("bench-{}-run-{round}", std::process::id());
            let took = tolerate_peer_hang(&runtimes[i], time_run(&runtimes[i], bundle, &id), &mut hangs[i])?;
            if let (Some(took), true) = (took, round >= warmup) {
                samples[i].run.push(took);
            }
        }
        let took = floor.run()?;
        if round >= warmup {
            floor_samples.push(took);
        }
        for &i in &order {
            let id = format!("bench-{}-life-{round}", std::process::id());
            let steps = time_lifecycle(&runtimes[i], bundle, state_dir.path(), &id);
            let Some(steps) = tolerate_peer_hang(&runtimes[i], steps, &mut hangs[i])? else { continue };
            if round >= warmup {
                samples[i].create.push(steps[0]);
                samples[i].start.push(steps[1]);
                samples[i].delete.push(steps[3]);
                samples[i].lifecycle.push(steps.iter().sum());
            }
        }
    }
    print_table(&runtimes, &samples, &floor_samples);
    for (runtime, hangs) in runtimes.iter().zip(&hangs) {
        if *hangs > 0 {
            println!(
                "{}: {hangs} command(s) did not finish in {} s and were killed; those rounds are left out",
                runtime.name,
                COMMAND_LIMIT.as_secs()
            );
        }
    }
    Ok(())
}
// ANCHOR_END: bench_runtime

// ANCHOR: floor
/// The floor: what creating the same five namespaces (config.json's pid, network,
/// ipc, uts and mount), entering the rootfs and running the payload costs with no
/// runtime at all. `unshare --fork` waits for the payload, as `run` does. What a
/// runtime spends above it is its own work: config parsing, mounts, cgroups, the
/// security profile, state files, its own start-up.
struct Floor {
    unshare: PathBuf,
    rootfs: PathBuf,
}

impl Floor {
    fn new(bundle: &Path) -> Result<Floor> {
        let unshare = find_program("unshare", &[])
            .context("unshare not found; install util-linux (sudo apt-get install util-linux)")?;
        Ok(Floor { unshare, rootfs: bundle.join("rootfs") })
    }

    fn run(&self) -> Result<Duration> {
        let mut command = Command::new(&self.unshare);
        command.args(["--pid", "--net", "--ipc", "--uts", "--mount", "--fork", "chroot"]);
        command.arg(&self.rootfs).arg("/bin/true");
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let started = Instant::now();
        let status = command.status().context("running unshare")?;
        let took = started.elapsed();
        if !status.success() {
            bail!(
                "{} … chroot {} /bin/true failed ({status})",
                self.unshare.display(),
                self.rootfs.display()
            );
        }
        Ok(took)
    }
}
// ANCHOR_END: floor

/// `name` in PATH or the usual system directories, or in `extra`.
fn find_program(name: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin", "/bin"]
                .map(PathBuf::from),
        )
        .chain(extra.iter().cloned())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The first line of an error's text, for a one-line note.
fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or(text)
}

/// youki where `cargo install` puts it, or where the book's setup installs it.
fn find_youki() -> Option<PathBuf> {
    let mut extra = vec![PathBuf::from("/opt/youki/bin")];
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        extra.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        extra.push(PathBuf::from(home).join(".cargo/bin"));
    }
    find_program("youki", &extra)
}

/// `cargo build --release -p bang --bin bang-oci`, and where cargo put the binary.
fn build_bang_oci(ws: &Workspace) -> Result<PathBuf> {
    println!("building bang-oci in release…");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&ws.root)
        .args(["build", "--release", "-p", "bang", "--bin", "bang-oci"])
        .args(["--message-format=json-render-diagnostics"])
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build")?;
    if !out.status.success() {
        bail!("cargo build --release -p bang --bin bang-oci failed");
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .filter(|path| path.ends_with("bang-oci"))
        .context("cargo did not say where it built bang-oci")
}

/// A busybox rootfs and runc's default config.json, changed to run /bin/true with
/// no terminal (the benchmark has none to give).
fn make_bundle(runc: &Path, bundle: &Path) -> Result<()> {
    bigbang_testkit::rootfs::make_busybox_rootfs(&bundle.join("rootfs"))?;
    let status = Command::new(runc).arg("spec").arg("--bundle").arg(bundle).status()?;
    if !status.success() {
        bail!("runc spec --bundle {} failed ({status})", bundle.display());
    }
    let path = bundle.join("config.json");
    let mut config: serde_json::Value = serde_json::from_slice(&fs::read(&path)?)?;
    config["process"]["terminal"] = false.into();
    config["process"]["args"] = serde_json::json!(["/bin/true"]);
    fs::write(&path, serde_json::to_vec_pretty(&config)?)?;
    Ok(())
}

/// Runs `runtime` with `args`, stdin and stdout on /dev/null and stderr in its log
/// file (a pipe would keep the command "running" for as long as the container
/// holds it), and fails with the log when it exits non-zero. Returns the wall time.
fn invoke(runtime: &Runtime, args: &[&str]) -> Result<Duration> {
    let log = File::create(&runtime.log)?;
    let mut command = Command::new(&runtime.binary);
    command.arg("--root").arg(&runtime.root).args(args);
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
    let started = Instant::now();
    let mut child = command.spawn().with_context(|| format!("cannot run {}", runtime.binary.display()))?;
    // A watchdog, so that a runtime that never returns (youki 0.7.0's `run` once
    // waited here for a payload long gone) fails the benchmark instead of hanging it.
    let pid = Pid::from_raw(child.id() as i32);
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || match finished.recv_timeout(COMMAND_LIMIT) {
        Err(mpsc::RecvTimeoutError::Timeout) => nix::sys::signal::kill(pid, Signal::SIGKILL).is_ok(),
        _ => false,
    });
    let status = child.wait();
    let took = started.elapsed();
    let _ = done.send(());
    let killed = watchdog.join().unwrap_or(false);
    let status = status.with_context(|| format!("cannot wait for {}", runtime.binary.display()))?;
    if killed {
        let stderr = fs::read_to_string(&runtime.log).unwrap_or_default();
        return Err(Hung(format!(
            "{} {} did not finish in {} s and was killed; its stderr: {}",
            runtime.name,
            args.join(" "),
            COMMAND_LIMIT.as_secs(),
            stderr.trim()
        ))
        .into());
    }
    if !status.success() {
        let stderr = fs::read_to_string(&runtime.log).unwrap_or_default();
        bail!("{} {} failed ({status}): {}", runtime.name, args.join(" "), stderr.trim());
    }
    Ok(took)
}

/// Scenario (a): `run`, in the foreground, to the payload's exit. On failure the
/// container is deleted with --force.
fn time_run(runtime: &Runtime, bundle: &Path, id: &str) -> Result<Duration> {
    let bundle = bundle.to_str().context("the bundle path is not UTF-8")?;
    let result = invoke(runtime, &["run", "--bundle", bundle, id]);
    if result.is_err() {
        force_delete(runtime, id);
    }
    result
}

/// Best effort, after a failure: whatever is left of container `id` goes.
fn force_delete(runtime: &Runtime, id: &str) {
    let _ = Command::new(&runtime.binary)
        .arg("--root")
        .arg(&runtime.root)
        .args(["delete", "--force", id])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Scenario (b): `create`, `start`, wait for the payload's exit, `delete`; the four
/// durations in that order. On failure the container is deleted with --force.
fn time_lifecycle(runtime: &Runtime, bundle: &Path, state: &Path, id: &str) -> Result<[Duration; 4]> {
    let result = lifecycle_steps(runtime, bundle, state, id);
    if result.is_err() {
        force_delete(runtime, id);
    }
    result
}

fn lifecycle_steps(runtime: &Runtime, bundle: &Path, state: &Path, id: &str) -> Result<[Duration; 4]> {
    let bundle = bundle.to_str().context("the bundle path is not UTF-8")?;
    let pid_file = state.join(format!("{}-{id}.pid", runtime.name));
    let pid_arg = pid_file.to_str().context("the state path is not UTF-8")?;
    let create = invoke(runtime, &["create", "--bundle", bundle, "--pid-file", pid_arg, id])?;
    let pid: i32 = fs::read_to_string(&pid_file)
        .with_context(|| format!("{} create wrote no pid file {}", runtime.name, pid_file.display()))?
        .trim()
        .parse()
        .with_context(|| format!("{} create wrote a bad pid file", runtime.name))?;
    let _ = fs::remove_file(&pid_file);
    let start = invoke(runtime, &["start", id])?;
    let waited = Instant::now();
    match waitpid(Pid::from_raw(pid), None) {
        Ok(WaitStatus::Exited(_, 0)) => {}
        Ok(other) => bail!("{} container {id}: /bin/true ended with {other:?}", runtime.name),
        Err(err) => bail!("{} container {id}: cannot wait for pid {pid}: {err}", runtime.name),
    }
    let wait = waited.elapsed();
    let delete = invoke(runtime, &["delete", id])?;
    Ok([create, start, wait, delete])
}

fn print_setup(runtimes: &[Runtime], floor: &Floor, rounds: usize, warmup: usize) {
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    println!("kernel {}, {cpus} CPUs, {rounds} rounds after {warmup} warm-up rounds", kernel.trim());
    for runtime in runtimes {
        let size = fs::metadata(&runtime.binary).map(|m| m.len()).unwrap_or(0);
        println!("{:<9} {} ({:.1} MB)", runtime.name, runtime.binary.display(), size as f64 / 1e6);
    }
    println!(
        "{:<9} {} --pid --net --ipc --uts --mount --fork chroot ROOTFS /bin/true",
        "floor",
        floor.unshare.display()
    );
}

/// The `q`-quantile (0 ≤ q ≤ 1) of sorted `values`, by nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Which samples a row of the table shows.
type Pick = fn(&Samples) -> &Vec<Duration>;

/// One line per scenario and runtime: p10, median, p90, and the ratio of bang-oci's
/// median to this one's (below 1: bang-oci is faster). `run` gets the floor too.
fn print_table(runtimes: &[Runtime], samples: &[Samples], floor: &[Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let sorted = |values: &[Duration]| {
        let mut sorted = values.to_vec();
        sorted.sort();
        sorted
    };
    println!(
        "\n{:<26} {:<9} {:>8} {:>9} {:>8}  {:>13}",
        "scenario", "runtime", "p10 ms", "median ms", "p90 ms", "bang-oci/this"
    );
    let rows: [(&str, Pick); 5] = [
        ("run", |s| &s.run),
        ("create+start+wait+delete", |s| &s.lifecycle),
        ("  of which create", |s| &s.create),
        ("  of which start", |s| &s.start),
        ("  of which delete", |s| &s.delete),
    ];
    for (scenario, pick) in rows {
        let ours = ms(quantile(&sorted(pick(&samples[0])), 0.5));
        let mut lines: Vec<(&str, Vec<Duration>)> =
            runtimes.iter().zip(samples).map(|(r, s)| (r.name, sorted(pick(s)))).collect();
        if scenario == "run" {
            lines.push(("floor", sorted(floor)));
        }
        for (i, (name, values)) in lines.iter().enumerate() {
            let this = ms(quantile(values, 0.5));
            let ratio = if i == 0 { String::new() } else { format!("{:.2}", ours / this) };
            let line = format!(
                "{:<26} {:<9} {:>8.2} {:>9.2} {:>8.2}  {:>13}",
                if i == 0 { scenario } else { "" },
                name,
                ms(quantile(values, 0.1)),
                this,
                ms(quantile(values, 0.9)),
                ratio
            );
            println!("{}", line.trim_end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let values: Vec<Duration> = (1..=11).map(Duration::from_millis).collect();
        assert_eq!(quantile(&values, 0.5), Duration::from_millis(6));
        assert_eq!(quantile(&values, 0.1), Duration::from_millis(2));
        assert_eq!(quantile(&values, 0.9), Duration::from_millis(10));
        assert_eq!(quantile(&values[..1], 0.9), Duration::from_millis(1));
    }
}
