//! The chapter 5 demo: a tiny runtime that locks a container down with your code.
//!
//! `chapter-5 run [--profile FILE] [--preserve-fd N]… [--no-seal] ROOTFS -- CMD [ARG…]`
//! re-executes itself from a sealed copy, checks the profile (an OCI config.json
//! or just its `process`, `linux.seccomp` and `root` keys), forks the container's
//! init, which enters a mount namespace, mounts /proc, chroots into ROOTFS, applies
//! the profile and execs CMD. It exits as CMD did (128+n for signal n; 125 when the
//! runtime itself failed). `chapter-5 compile FILE` prints the seccomp program;
//! `chapter-5 --make-rootfs DIR` builds a busybox rootfs.

use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chapter_5::process::{check_rootfs, find_program, Exit, CONTAINER_PATH};
use chapter_5::security::{seal, seccomp, Prepared, Profile};
use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{chdir, chroot, execve, fork, ForkResult};

const USAGE: &str =
    "usage: chapter-5 run [--profile FILE] [--preserve-fd N]... [--no-seal] ROOTFS -- CMD [ARG...]
       chapter-5 compile FILE
       chapter-5 --make-rootfs DIR";

/// What `run` was asked to do.
struct Run {
    profile: Option<PathBuf>,
    preserve: Vec<RawFd>,
    seal: bool,
    rootfs: PathBuf,
    argv: Vec<String>,
}

fn parse_run(args: &[String]) -> Result<Run> {
    let mut run =
        Run { profile: None, preserve: Vec::new(), seal: true, rootfs: PathBuf::new(), argv: Vec::new() };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--profile" => run.profile = Some(rest.next().context("--profile needs a file")?.into()),
            "--preserve-fd" => {
                let fd = rest.next().context("--preserve-fd needs a number")?;
                run.preserve.push(fd.parse().with_context(|| format!("--preserve-fd {fd}: not a number"))?);
            }
            "--no-seal" => run.seal = false,
            flag if flag.starts_with('-') => bail!("unknown option {flag}\n{USAGE}"),
            rootfs => {
                run.rootfs = rootfs.into();
                let argv: Vec<String> = rest.by_ref().skip_while(|a| *a == "--").cloned().collect();
                if argv.is_empty() {
                    bail!("no command given after the rootfs\n{USAGE}");
                }
                run.argv = argv;
            }
        }
    }
    if run.argv.is_empty() {
        bail!("{USAGE}");
    }
    Ok(run)
}

fn read_profile(path: Option<&Path>) -> Result<Profile> {
    let Some(path) = path else { return Ok(Profile::default()) };
    let text = fs::read_to_string(path).with_context(|| format!("cannot read profile {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("profile {} is not a valid OCI-shaped profile", path.display()))
}

/// The runtime: everything that can fail on bad input is checked before fork.
fn run(args: &[String]) -> Result<Exit> {
    let run = parse_run(args)?;
    if run.seal {
        // First of all: from here on /proc/self/exe is a sealed memfd, not the host file.
        seal::ensure_sealed()?;
    }
    let profile = read_profile(run.profile.as_deref())?;
    let prepared = profile.prepare()?;
    let root = check_rootfs(&run.rootfs)?;
    let program = find_program(&root, &run.argv[0])
        .with_context(|| format!("{}: command not found in rootfs {}", run.argv[0], run.rootfs.display()))?;
    let argv: Vec<CString> = run.argv.iter().map(|a| CString::new(a.as_str())).collect::<Result<_, _>>()?;
    let env =
        [format!("PATH={CONTAINER_PATH}"), "HOME=/".to_owned()].map(|e| CString::new(e).expect("no NUL"));
    let program = CString::new(program.as_os_str().as_bytes())?;

    // SAFETY: this process is single-threaded (nothing here starts a thread), so
    // the child may allocate and do anything before it execs.
    match unsafe { fork() }.context("fork failed")? {
        ForkResult::Child => {
            let err = container_init(&root, &prepared, &run.preserve, &program, &argv, &env);
            eprintln!("chapter-5: {err:#}");
            // SAFETY: _exit ends the child without running the parent's atexit handlers.
            unsafe { libc::_exit(125) }
        }
        ForkResult::Parent { child } => loop {
            match waitpid(child, None).context("waitpid failed")? {
                WaitStatus::Exited(_, code) => return Ok(Exit::Code(code)),
                WaitStatus::Signaled(_, signal, _) => return Ok(Exit::Signal(signal as i32)),
                _ => continue,
            }
        },
    }
}

/// The container's init: its own mount namespace, /proc, the rootfs as root, the
/// profile applied, then the payload. Returns only on failure.
fn container_init(
    root: &Path,
    prepared: &Prepared,
    preserve: &[RawFd],
    program: &CString,
    argv: &[CString],
    env: &[CString],
) -> anyhow::Error {
    let result = (|| -> Result<std::convert::Infallible> {
        // Chapter 3 does this properly with pivot_root and masked paths; a chroot
        // into a bind mount of the rootfs is enough to show what chapter 5 adds.
        unshare(CloneFlags::CLONE_NEWNS).context("unshare(CLONE_NEWNS) failed; run as root")?;
        mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
            .context("making / private")?;
        mount(Some(root), root, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
            .with_context(|| format!("bind-mounting {} onto itself", root.display()))?;
        let proc_dir = root.join("proc");
        fs::create_dir_all(&proc_dir).with_context(|| format!("creating {}", proc_dir.display()))?;
        mount(Some("proc"), &proc_dir, Some("proc"), MsFlags::empty(), None::<&str>)
            .with_context(|| format!("mounting proc on {}", proc_dir.display()))?;
        chroot(root).with_context(|| format!("chroot into {}", root.display()))?;
        chdir("/").context("chdir /")?;
        prepared.apply(preserve)?;
        Ok(execve(program, argv, env)?)
    })();
    match result {
        Ok(never) => match never {},
        Err(err) => err,
    }
}

/// Prints the seccomp program a profile compiles to, one instruction a line.
fn compile(path: &Path) -> Result<()> {
    let profile = read_profile(Some(path))?;
    let spec = profile.linux.seccomp.as_ref().context("the profile has no linux.seccomp section")?;
    let filter = seccomp::Filter::from_spec(spec)?;
    let program = filter.program()?;
    let mut listing = format!(
        "{} rules, {} instructions (the kernel allows {})\n",
        filter.rules.len(),
        program.len(),
        seccomp::MAX_INSTRUCTIONS
    );
    for (at, insn) in program.iter().enumerate() {
        let text = match insn.code {
            0x20 => format!("ld  [{}]", insn.k),
            0x54 => format!("and #{:#x}", insn.k),
            0x15 => format!("jeq #{:#x}, +{}, +{}", insn.k, insn.jt, insn.jf),
            0x25 => format!("jgt #{:#x}, +{}, +{}", insn.k, insn.jt, insn.jf),
            0x35 => format!("jge #{:#x}, +{}, +{}", insn.k, insn.jt, insn.jf),
            0x06 => format!("ret #{:#010x}", insn.k),
            code => format!("code {code:#x} k {:#x}", insn.k),
        };
        listing += &format!("{at:4}  {text}\n");
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    match std::io::stdout().lock().write_all(listing.as_bytes()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((cmd, rest)) if cmd == "run" => run(rest).map(|exit| ExitCode::from(exit.shell_code() as u8)),
        Some((cmd, [file])) if cmd == "compile" => compile(Path::new(file)).map(|()| ExitCode::SUCCESS),
        Some((flag, [dir])) if flag == "--make-rootfs" => {
            bigbang_testkit::rootfs::make_busybox_rootfs(Path::new(dir))
                .map(|()| {
                    println!(
                        "made a busybox rootfs in {dir}; try: sudo cargo run -p chapter-5 -- run {dir} -- sh"
                    );
                    ExitCode::SUCCESS
                })
                .map_err(Into::into)
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    result.unwrap_or_else(|err| {
        // The runtime itself failed: 125, as `docker run` and `podman run` report it.
        eprintln!("chapter-5: {err:#}");
        ExitCode::from(125)
    })
}
