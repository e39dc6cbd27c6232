//! The chapter 4 demo: run a command under cgroup limits with your drivers.
//!
//! `sudo chapter-4 run [--memory SIZE] [--swap SIZE] [--cpu PERCENT] [--pids N] -- CMD [ARG…]`
//! creates a cgroup (v1 or v2, as this machine has them), starts CMD in it, waits,
//! prints the counters and removes the cgroup. `chapter-4 detect` shows the hierarchies.
//! The payloads `hog MIB [--hold]`, `forkbomb MAX [SECONDS]` and `spin [SECONDS]` misbehave
//! on purpose (the tests use them too); each first waits for a line on stdin (EOF will do).

use std::io::{BufRead, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use chapter_4::cgroups::{self, CgroupManager, Cpu, Hierarchies, Memory, Pids, Resources};
use nix::sys::signal::Signal;
use nix::unistd::{fork, pause, ForkResult};

const USAGE: &str = "usage: chapter-4 detect
       chapter-4 run [--memory SIZE] [--swap SIZE] [--cpu PERCENT] [--pids N] -- CMD [ARG...]
       chapter-4 hog MIB [--hold] | forkbomb MAX [SECONDS] | spin [SECONDS]   (payloads; CMD may be one of them)
SIZE is bytes, or a number with K, M or G; --cpu 20 is 20% of one core.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["detect"] => detect(),
        ["run", rest @ ..] => run(rest),
        ["init", command @ ..] if !command.is_empty() => init(command),
        ["hog", mib, rest @ ..] => hog(mib, rest == ["--hold"]),
        ["forkbomb", max] => forkbomb(max, None),
        ["forkbomb", max, seconds] => forkbomb(max, Some(seconds)),
        ["spin"] => spin(None),
        ["spin", seconds] => spin(Some(seconds)),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("chapter-4: {message}");
            ExitCode::from(125)
        }
    }
}

fn detect() -> Result<ExitCode, String> {
    let hierarchies = Hierarchies::here().map_err(|e| e.to_string())?;
    for h in &hierarchies.v1 {
        println!("v1 hierarchy {} ({})", h.mount_point.display(), h.controllers.join(","));
    }
    if let Some(unified) = &hierarchies.unified {
        let controllers = std::fs::read_to_string(unified.join("cgroup.controllers")).unwrap_or_default();
        println!("v2 tree {} (controllers: {})", unified.display(), controllers.trim());
    }
    println!("driver: {}", hierarchies.version().map_err(|e| e.to_string())?);
    Ok(ExitCode::SUCCESS)
}

/// Parses `32M`, `1G`, `4096`.
fn size(text: &str) -> Result<i64, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let number: i64 = digits.parse().map_err(|_| format!("{text:?} is not a size; write e.g. 32M or 1G"))?;
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        _ => return Err(format!("{text:?}: the unit must be K, M or G")),
    };
    Ok(number << shift)
}

fn number<T: std::str::FromStr>(flag: &str, text: Option<&&str>) -> Result<T, String> {
    let text = text.ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
    text.parse().map_err(|_| format!("{flag} {text:?} is not a number"))
}

/// Cgroup `path` with `resources`, made by the chapter's own factory: with your
/// drivers, the v1 or v2 one this machine calls for. The limits are validated first
/// (`validated()`), before any directory is made: the factory and the drivers take
/// only validated ones. The factory removes the cgroup again when the kernel refuses one.
fn create(path: &Path, resources: &Resources) -> Result<Box<dyn CgroupManager>, String> {
    let resources = resources.clone().validated().map_err(|e| e.to_string())?;
    let hierarchies = Hierarchies::here().map_err(|e| e.to_string())?;
    cgroups::create(&hierarchies, path, &resources).map_err(|e| e.to_string())
}

fn run(args: &[&str]) -> Result<ExitCode, String> {
    let mut resources = Resources::default();
    let mut i = 0;
    while i < args.len() && args[i] != "--" {
        let value = args.get(i + 1);
        match args[i] {
            "--memory" => {
                let limit = size(value.ok_or("--memory needs a size")?)?;
                resources.memory.get_or_insert_with(Memory::default).limit = Some(limit);
            }
            "--swap" => {
                let swap = size(value.ok_or("--swap needs a size")?)?;
                resources.memory.get_or_insert_with(Memory::default).swap = Some(swap);
            }
            "--cpu" => {
                let percent: i64 = number("--cpu", value)?;
                resources.cpu =
                    Some(Cpu { quota: Some(percent * 1000), period: Some(100_000), ..Cpu::default() });
            }
            "--pids" => resources.pids = Some(Pids { limit: number("--pids", value)? }),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
        i += 2;
    }
    let command = args.get(i + 1..).filter(|c| !c.is_empty()).ok_or(USAGE)?;
    // No swap unless asked: with a memory limit, swap = limit.
    if let Some(memory) = &mut resources.memory {
        if memory.swap.is_none() {
            memory.swap = memory.limit;
        }
    }

    let path = PathBuf::from(format!("bigbang-demo-{}", std::process::id()));
    let cgroup = create(&path, &resources)?;
    let outcome = run_in(cgroup.as_ref(), command);
    let removed = cgroup.remove();
    let code = outcome?;
    removed.map_err(|e| e.to_string())?;
    println!("removed cgroup {} ({} directories)", path.display(), cgroup.dirs().len());
    Ok(code)
}

fn run_in(cgroup: &dyn CgroupManager, command: &[&str]) -> Result<ExitCode, String> {
    let dirs: Vec<String> = cgroup.dirs().iter().map(|d| d.display().to_string()).collect();
    println!("cgroup {}: {}", cgroup.version(), dirs.join(" "));

    // The command starts as `chapter-4 init CMD…`, which waits for a line on stdin and
    // then execs CMD: the parent moves it into the cgroup first, so nothing CMD runs
    // escapes the limits. runc's `runc init` waits the same way. (A pre_exec closure
    // that blocks cannot do it: std's spawn returns only once the child has exec'd.)
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut child = Command::new(&exe)
        .arg("init")
        .args(command)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if let Err(err) = cgroup.join(child.id() as i32) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(err.to_string());
    }
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"go\n");
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let wall = start.elapsed();
    let stats = cgroup.stats().map_err(|e| e.to_string())?;

    match (status.code(), status.signal()) {
        (Some(code), _) => println!("exit: code {code}"),
        (None, Some(signal)) => println!(
            "exit: killed by signal {signal} ({})",
            Signal::try_from(signal).map(|s| s.as_str()).unwrap_or("?")
        ),
        _ => {}
    }
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    if let Some(m) = &stats.memory {
        println!(
            "memory: usage {:.1} MiB, max usage {}, limit {}, limit hit {} times, oom kills {}",
            mib(m.usage),
            m.max_usage.map_or("n/a".to_owned(), |u| format!("{:.1} MiB", mib(u))),
            m.limit.map_or("none".to_owned(), |l| format!("{:.1} MiB", mib(l))),
            m.failcnt,
            m.oom_kills
        );
    }
    if let Some(c) = &stats.cpu {
        println!(
            "cpu: {:.3} s used in {:.3} s of wall time ({:.0}% of a core), throttled in {} periods",
            c.usage_ns as f64 / 1e9,
            wall.as_secs_f64(),
            100.0 * c.usage_ns as f64 / wall.as_nanos() as f64,
            c.nr_throttled
        );
    }
    if let Some(p) = &stats.pids {
        println!(
            "pids: current {}, limit {}, forks refused {}",
            p.current,
            p.limit.map_or("none".to_owned(), |l| l.to_string()),
            p.refused
        );
    }
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok(ExitCode::from(code as u8))
}

/// `run`'s helper: waits until the parent has placed it in the cgroup (a line on stdin),
/// then execs the command with stdin on /dev/null. The payload words run this binary.
fn init(command: &[&str]) -> Result<ExitCode, String> {
    wait_for_go();
    let null = std::fs::File::open("/dev/null").map_err(|e| e.to_string())?;
    nix::unistd::dup2_stdin(&null).map_err(|e| format!("dup2: {e}"))?;
    let payloads = ["hog", "forkbomb", "spin"];
    let mut cmd = if payloads.contains(&command[0]) {
        let mut cmd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
        cmd.arg(command[0]);
        cmd
    } else {
        Command::new(command[0])
    };
    let err = cmd.args(&command[1..]).exec();
    Err(format!("cannot run {}: {err}", command[0]))
}

/// Waits for one line on stdin (or EOF): the test's "you are in the cgroup now".
fn wait_for_go() {
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
}

fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Allocates `mib` MiB and touches every page, so the kernel must really provide it.
fn hog(mib: &str, hold: bool) -> Result<ExitCode, String> {
    let mib: usize = mib.parse().map_err(|_| format!("hog {mib:?}: give a number of MiB"))?;
    wait_for_go();
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    for _ in 0..mib {
        let mut chunk = vec![0u8; 1 << 20];
        for page in chunk.chunks_mut(4096) {
            page[0] = 1;
        }
        chunks.push(std::hint::black_box(chunk));
    }
    say(&format!("allocated {mib} MiB"));
    if hold {
        loop {
            pause();
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Forks children that sleep until it has `max` of them or fork fails, says how many,
/// then sleeps `seconds` (forever without) and exits. The children die with it
/// (PR_SET_PDEATHSIG), cgroup or not.
fn forkbomb(max: &str, seconds: Option<&&str>) -> Result<ExitCode, String> {
    let max: usize = max.parse().map_err(|_| format!("forkbomb {max:?}: give a number"))?;
    let hold = match seconds {
        Some(s) => {
            Some(Duration::from_secs_f64(s.parse().map_err(|_| format!("forkbomb: {s:?} is not seconds"))?))
        }
        None => None,
    };
    wait_for_go();
    let mut forked = 0;
    let mut refused = "none".to_owned();
    while forked < max {
        // SAFETY: this process is single-threaded; the child only calls prctl and pause.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
                loop {
                    pause();
                }
            }
            Ok(ForkResult::Parent { .. }) => forked += 1,
            Err(errno) => {
                refused = format!("{errno:?}");
                break;
            }
        }
    }
    say(&format!("forked {forked} refused {refused}"));
    match hold {
        Some(hold) => {
            std::thread::sleep(hold);
            Ok(ExitCode::SUCCESS)
        }
        None => loop {
            pause();
        },
    }
}

/// Burns CPU for `seconds` of wall time (forever without).
fn spin(seconds: Option<&&str>) -> Result<ExitCode, String> {
    let limit = match seconds {
        Some(s) => Some(Duration::from_secs_f64(s.parse().map_err(|_| format!("spin {s:?}: give seconds"))?)),
        None => None,
    };
    wait_for_go();
    let start = Instant::now();
    let mut x: u64 = 0;
    while limit.is_none_or(|l| start.elapsed() < l) {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
