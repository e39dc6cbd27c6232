//! `cargo workshop`: the learner's and instructor's tool (clap, printing, exit codes).
//!
//! The logic lives in the library (`status`, `check`, `reset`, `diff`, `book`,
//! `watch`, `doctor`); this file parses the command line and prints. Colour goes
//! through `anstream`, which drops it when stdout is not a terminal or NO_COLOR is set.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anstream::{eprintln, print, println};
use anstyle::{AnsiColor, Style};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use bigbang_workshop::chapter::{Chapter, Workspace};
use bigbang_workshop::check::{self, CheckOutcome};
use bigbang_workshop::hints::{open_holes, ChapterHoles};
use bigbang_workshop::progress::{unix_now, Outcome, Progress, TestRecord};
use bigbang_workshop::status::{relative, Status};
use bigbang_workshop::watch::{WatchMode, Watcher};
use bigbang_workshop::{book, diff, doctor, reset};

/// Your guide through the bigbang workshop: build Docker and Kubernetes from scratch.
///
/// Without a command: checks this machine, shows your progress and the next
/// step, then serves the book on http://127.0.0.1:3000.
#[derive(Debug, Parser)]
#[command(name = "cargo workshop", bin_name = "cargo workshop", version)]
struct Cli {
    /// Show cargo's own output (compiling, running tests) instead of hiding it
    #[arg(short, long, global = true, display_order = 100)]
    verbose: bool,

    /// The port to serve the book on, without a command
    #[arg(long, default_value_t = 3000, value_name = "PORT")]
    port: u16,

    /// Install what the chapters need and this machine lacks without asking (as root,
    /// with apt-get), without a command or with `doctor`
    #[arg(short, long)]
    yes: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show each chapter's progress: holes filled, last test result, next step
    ///
    /// Reads only files: works offline and builds nothing.
    Status,

    /// Run a chapter's tests and record the result
    ///
    /// Runs `cargo test -p chapter-N`, shows which tests failed and why, and
    /// records the result for `cargo workshop status`.
    Check {
        /// The chapter [default: the first one not done]
        #[arg(value_parser = chapter_number)]
        chapter: Option<u32>,
    },

    /// Show the next hint for the hole you are at, one level more each time
    ///
    /// Finds the hole the first failing test points at (from the last `check`, or by
    /// running the chapter's tests when your files changed since) and shows the next
    /// hint for it, with its function, your file and the book section that teaches it.
    Hint {
        /// The chapter [default: the first one not done]
        #[arg(value_parser = chapter_number)]
        chapter: Option<u32>,
        /// Show every hint of that hole at once
        #[arg(long)]
        all: bool,
    },

    /// Show how your files differ from the answer key
    ///
    /// Lines starting with `-` are yours, lines starting with `+` are the answer's.
    Solution {
        /// The chapter [default: the first one not done]
        #[arg(value_parser = chapter_number)]
        chapter: Option<u32>,
    },

    /// Give a chapter's files a fresh start (your copy is backed up first)
    ///
    /// Writes the starter files into exercises/NN-topic/ again, after copying
    /// yours to .workshop/backup/.
    Reset {
        /// The chapter to reset
        #[arg(value_parser = chapter_number)]
        chapter: u32,
        /// Reset without asking
        #[arg(short, long)]
        yes: bool,
    },

    /// Build the book (into book/book/), and serve it with --serve
    Book {
        /// Serve the built book on http://127.0.0.1:PORT until Ctrl-C
        #[arg(long)]
        serve: bool,
        /// Open the book in your browser (implies --serve)
        #[arg(long)]
        open: bool,
        /// The port to serve on
        #[arg(long, default_value_t = 3000, value_name = "PORT")]
        port: u16,
    },

    /// Re-run `check` whenever you save a file under exercises/
    Watch {
        /// Look for changes every second instead of waiting for file events
        ///
        /// Automatic where file events may not arrive: WSL's Windows drives and
        /// other folders shared with another machine.
        #[arg(long)]
        poll: bool,
    },

    /// Check that this machine can run the chapters, and say what to fix
    Doctor {
        /// Print the full report as JSON
        #[arg(long)]
        json: bool,
    },
}

/// Errors are printed as one readable line (`{:#}` joins anyhow's causes), not
/// with `Result`'s Debug output, which adds a backtrace when RUST_BACKTRACE is set.
fn main() -> ExitCode {
    match run(Cli::parse_from(args())) {
        Ok(code) => code,
        Err(e) => {
            let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
            eprintln!("{red}error:{red:#} {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let ws = Workspace::discover(&std::env::current_dir().context("cannot read the current folder")?)?;
    let verbose = cli.verbose;
    match cli.command {
        None => front_page(&ws, cli.port, cli.yes),
        Some(Command::Status) => status(&ws),
        Some(Command::Check { chapter }) => {
            let chapter = chapter_or_current(&ws, chapter)?;
            check(&ws, &chapter, verbose)
        }
        Some(Command::Hint { chapter, all }) => hint(&ws, &chapter_or_current(&ws, chapter)?, all, verbose),
        Some(Command::Solution { chapter }) => solution(&ws, &chapter_or_current(&ws, chapter)?),
        Some(Command::Reset { chapter, yes }) => reset(&ws, &ws.chapter(chapter)?, yes),
        Some(Command::Book { serve, open, port }) => book(&ws, serve || open, open, port),
        Some(Command::Watch { poll }) => watch(&ws, poll, verbose),
        Some(Command::Doctor { json }) => doctor(&ws, json, cli.yes),
    }
}

/// A chapter as the learner names it: its number (`2`), or its folder (`02-namespaces`).
fn chapter_number(text: &str) -> Result<u32, String> {
    let digits = text.split_once('-').map_or(text, |(n, _)| n);
    match digits.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{text:?} is not a chapter: give its number, as in `cargo workshop check 2` \
             (`cargo workshop status` lists them)"
        )),
    }
}

/// The command line without cargo's leading `workshop`: installed as
/// `cargo-workshop` on PATH, `cargo workshop status` runs `cargo-workshop workshop status`.
fn args() -> Vec<OsString> {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "workshop") {
        args.remove(1);
    }
    args
}

fn bold() -> Style {
    Style::new().bold()
}

fn dim() -> Style {
    Style::new().dimmed()
}

/// Colour for output that is rendered as a whole elsewhere (the doctor's report).
fn stdout_color() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

fn load_progress(ws: &Workspace) -> Result<(PathBuf, Progress)> {
    let path = Progress::path_for(&ws.root);
    let progress = Progress::load(&path)?;
    Ok((path, progress))
}

fn chapter_or_current(ws: &Workspace, number: Option<u32>) -> Result<Chapter> {
    Ok(match number {
        Some(n) => ws.chapter(n)?,
        None => {
            let (_, progress) = load_progress(ws)?;
            Status::read(ws, &progress)?.current().chapter.clone()
        }
    })
}

/// `cargo workshop`: machine check, progress, next step, then the book.
fn front_page(ws: &Workspace, port: u16, yes: bool) -> Result<ExitCode> {
    let mut report = doctor::diagnose(ws);
    if offer_install(&report, yes)? {
        report = doctor::diagnose(ws);
    }
    println!("{}", report.summary_line());
    println!();
    status(ws)?;
    println!();
    book(ws, true, false, port)
}

/// `cargo workshop status`.
fn status(ws: &Workspace) -> Result<ExitCode> {
    let (_, progress) = load_progress(ws)?;
    let status = Status::read(ws, &progress)?;
    print!("{}", status.table());
    println!();
    println!("{}{}{:#}", bold(), status.next_line(), bold());
    Ok(ExitCode::SUCCESS)
}

/// `cargo workshop check N`: run, report, record.
fn check(ws: &Workspace, chapter: &Chapter, verbose: bool) -> Result<ExitCode> {
    println!(
        "{}Checking chapter {}: cargo test -p {}{}{:#}",
        dim(),
        chapter.number,
        chapter.package(),
        if verbose { "" } else { " (cargo's output is hidden; -v shows it)" },
        dim()
    );
    let outcome = check::run_tests(&ws.root, chapter, verbose)?;
    println!();
    print!("{}", outcome.report(chapter));
    let holes = ChapterHoles::read(&ws.root, chapter)?;
    let open = open_holes(&ws.root, &holes);
    let (path, mut progress) = load_progress(ws)?;
    if let Some(record) = outcome.record(&holes, &open) {
        progress.chapter_mut(&chapter.meta.id).tests = Some(record);
        progress.save(&path)?;
    }
    if let CheckOutcome::Tested { failed, .. } = &outcome {
        if *failed > 0 {
            let n = chapter.number;
            println!();
            if let Some((hole, test)) = outcome.pointed(&holes, &open) {
                println!(
                    "The first failing test, {}, points at `{}` in {}; the book teaches it at {}",
                    test.name,
                    hole.meta.function(),
                    hole.learner_file.display(),
                    hole.meta.book_url()
                );
            }
            // The legend only when a failure is a todo!(): a wrong answer's failure is not.
            let todo = matches!(&outcome, CheckOutcome::Tested { failures, .. }
                if failures.iter().any(|f| f.message.contains("not yet implemented")));
            if todo {
                println!(
                    "{}A failing `not yet implemented` is a todo!() still in your file.{:#}",
                    dim(),
                    dim()
                );
            }
            println!("{}Stuck? `cargo workshop hint {n}`{:#}", dim(), dim());
        }
    }
    let status = Status::read(ws, &progress)?;
    println!();
    println!("{}{}{:#}", bold(), status.next_line(), bold());
    Ok(if outcome.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `cargo workshop hint N [--all]`: the next hint of the hole the first failing test
/// points at.
fn hint(ws: &Workspace, chapter: &Chapter, all: bool, verbose: bool) -> Result<ExitCode> {
    let n = chapter.number;
    let holes = ChapterHoles::read(&ws.root, chapter)?;
    if holes.holes.is_empty() {
        println!("Chapter {n} has no holes with hints. To compare your files with the answer key: `cargo workshop solution {n}`");
        return Ok(ExitCode::SUCCESS);
    }
    let open = open_holes(&ws.root, &holes);
    let (path, mut progress) = load_progress(ws)?;
    let record = match last_record_if_fresh(ws, chapter, &progress)? {
        Some(record) => record,
        None => {
            println!(
                "{}Running chapter {n}'s tests to find the hole you are at: cargo test -p {}{}{:#}",
                dim(),
                chapter.package(),
                if verbose { "" } else { " (cargo's output is hidden; -v shows it)" },
                dim()
            );
            let outcome = check::run_tests(&ws.root, chapter, verbose)?;
            let Some(record) = outcome.record(&holes, &open) else {
                print!("{}", outcome.report(chapter));
                bail!("the tests of chapter {n} did not run, so no hole can be pointed at");
            };
            progress.chapter_mut(&chapter.meta.id).tests = Some(record.clone());
            progress.save(&path)?;
            println!();
            record
        }
    };
    let book_index = |id: &str| holes.holes.iter().position(|h| h.meta.id == id);
    let pointed = record
        .failures
        .iter()
        .filter_map(|f| Some((book_index(f.hole.as_deref()?)?, f.test.as_str())))
        .min_by_key(|(i, _)| *i);
    let first_open = || holes.holes.iter().position(|h| open.contains(&h.meta.id));
    let (index, why) = match record.outcome {
        Outcome::Passed => {
            println!("Every test of chapter {n} passes: no hint needed. `cargo workshop status` shows what comes next.");
            return Ok(ExitCode::SUCCESS);
        }
        Outcome::DidNotCompile => match first_open() {
            Some(i) => (i, format!("Chapter {n} does not compile (`cargo workshop check {n}` shows the errors); this is the first hole still open.")),
            None => bail!("chapter {n} does not compile; `cargo workshop check {n}` shows the errors"),
        },
        Outcome::Failed => match (pointed, first_open()) {
            (Some((i, test)), _) => (i, format!("The first failing test, {test}, points at it.")),
            (None, Some(i)) => (i, "No failing test points at a hole; this is the first hole still open.".to_owned()),
            (None, None) => {
                println!("Chapter {n}'s failing tests point at no hole, and every hole is filled.");
                println!("`cargo workshop check {n}` shows the failures; `cargo workshop solution {n}` compares your files with the answer key.");
                return Ok(ExitCode::SUCCESS);
            }
        },
    };
    let hole = &holes.holes[index];
    let levels = hole.meta.hints.len();
    let shown = progress.chapter(&chapter.meta.id).hints_shown.get(&hole.meta.id).copied().unwrap_or(0);
    println!(
        "{}Chapter {n}, hole {} of {}: `{}` in {}{:#}",
        bold(),
        index + 1,
        holes.holes.len(),
        hole.meta.function(),
        hole.learner_file.display(),
        bold()
    );
    println!("{why}");
    println!("The book: {}", hole.meta.book_url());
    let (from, to) = if all {
        (0, levels)
    } else if shown >= levels {
        println!();
        println!("No more hints for `{}`: you have seen all {levels}.", hole.meta.function());
        println!("`cargo workshop hint {n} --all` shows them again; `cargo workshop solution {n}` compares your files with the answer key.");
        return Ok(ExitCode::SUCCESS);
    } else {
        (shown, shown + 1)
    };
    for (i, text) in hole.meta.hints.iter().enumerate().take(to).skip(from) {
        println!();
        println!("{}Hint {} of {levels}:{:#}", bold(), i + 1, bold());
        for line in wrap(text.trim(), HINT_WIDTH) {
            println!("  {line}");
        }
    }
    let entry = progress.chapter_mut(&chapter.meta.id).hints_shown.entry(hole.meta.id.clone()).or_default();
    *entry = (*entry).max(to);
    progress.save(&path)?;
    println!();
    if to < levels {
        println!("{}Still stuck? `cargo workshop hint {n}` shows the next one.{:#}", dim(), dim());
    } else {
        println!(
            "{}That was the last hint for this hole; `cargo workshop solution {n}` shows the answer.{:#}",
            dim(),
            dim()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Hint text is wrapped to this many columns (plus a two-space indent), so that a
/// hint reads as a paragraph in an 80-column terminal.
const HINT_WIDTH: usize = 76;

/// `text` broken into lines of at most `width` characters at spaces (a longer word
/// keeps its own line); line breaks in `text` are kept.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out
}

/// The chapter's last recorded test run, when it ran after the learner last saved
/// one of the chapter's files; None when the tests must run again.
fn last_record_if_fresh(
    ws: &Workspace,
    chapter: &Chapter,
    progress: &Progress,
) -> Result<Option<TestRecord>> {
    let Some(record) = progress.chapter(&chapter.meta.id).tests else { return Ok(None) };
    for file in chapter.exercise_files(&ws.root)? {
        let saved = std::fs::metadata(chapter.exercise_path(&ws.root, &file))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        match saved {
            Some(saved) if saved <= record.at => {}
            _ => return Ok(None),
        }
    }
    Ok(Some(record))
}

/// `cargo workshop solution N`: the learner's files against the answer key.
fn solution(ws: &Workspace, chapter: &Chapter) -> Result<ExitCode> {
    let root = &ws.root;
    println!(
        "Chapter {}: your files ({}-{:#}) against the answer key ({}+{:#})",
        chapter.number,
        Style::new().fg_color(Some(AnsiColor::Red.into())),
        Style::new(),
        Style::new().fg_color(Some(AnsiColor::Green.into())),
        Style::new()
    );
    for file in &chapter.exercise_files(root)? {
        let mine_path = chapter.exercise_path(root, file);
        let mine = match std::fs::read_to_string(&mine_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                println!(
                    "\nYour file {} is missing; `cargo workshop reset {}` gives you a fresh one.",
                    relative(root, &mine_path).display(),
                    chapter.number
                );
                String::new()
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read your file {}", mine_path.display()))
            }
        };
        let answer = chapter.render_answer(root, file)?;
        let mine_name = relative(root, &mine_path).display().to_string();
        // The answer key is the product file, markers stripped, under the learner's header.
        let answer_name = file.source.display().to_string();
        let text = diff::unified(&mine_name, &answer_name, &mine, &answer, 3);
        println!();
        if text.is_empty() {
            println!("{mine_name} is the same as the answer key.");
        } else {
            print!("{text}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo workshop reset N [--yes]`.
fn reset(ws: &Workspace, chapter: &Chapter, yes: bool) -> Result<ExitCode> {
    let n = chapter.number;
    let files = reset::plan(&ws.root, chapter)?;
    let changed: Vec<String> =
        files.iter().filter(|f| f.changed()).map(|f| f.shown.display().to_string()).collect();
    if changed.is_empty() {
        let (path, mut progress) = load_progress(ws)?;
        match progress.chapters.get_mut(&chapter.meta.id) {
            Some(record) if !record.hints_shown.is_empty() => {
                record.hints_shown.clear();
                progress.save(&path)?;
                println!("Chapter {n}'s files are already fresh; the hints shown are cleared.");
            }
            _ => println!("Chapter {n}'s files are already fresh; nothing to reset."),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let list = changed.join(", ");
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "`cargo workshop reset {n}` asks before it overwrites {list}, and there is no terminal to ask on; \
                 run `cargo workshop reset {n} --yes` to reset without asking"
            );
        }
        print!("Reset {list}? Your changes are lost. [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            println!("Nothing was reset.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let restored = reset::apply(&ws.root, chapter, &files, unix_now())?;
    // The last test result described the old files; it no longer does. The hints
    // shown go too: a fresh start is a fresh start.
    let (path, mut progress) = load_progress(ws)?;
    if progress.chapters.contains_key(&chapter.meta.id) {
        let record = progress.chapter_mut(&chapter.meta.id);
        record.tests = None;
        record.hints_shown.clear();
        progress.save(&path)?;
    }
    for file in restored {
        match file.backup {
            Some(backup) => {
                println!("Reset {}; your copy is kept in {}", file.shown.display(), backup.display())
            }
            None => println!("Wrote a fresh {}", file.shown.display()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo workshop book [--serve] [--open] [--port P]`.
fn book(ws: &Workspace, serve: bool, open: bool, port: u16) -> Result<ExitCode> {
    println!("{}Building the book…{:#}", dim(), dim());
    let out = book::build_book(&ws.root)?;
    println!("The book is in {}", relative(&ws.root, &out).join("index.html").display());
    if !serve {
        return Ok(ExitCode::SUCCESS);
    }
    let listener = book::bind(port)?;
    let url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    println!("{}Reading at {url}{:#} (Ctrl-C stops)", bold(), bold());
    if open {
        open_browser(&url);
    }
    book::serve(&out, listener)?;
    Ok(ExitCode::SUCCESS)
}

/// Opens `url` with xdg-open, when it is there; says what to do when it is not.
fn open_browser(url: &str) {
    let opened = std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok();
    if !opened {
        eprintln!("No xdg-open here to open a browser; open {url} yourself.");
    }
}

/// `cargo workshop watch [--poll]`.
fn watch(ws: &Workspace, poll: bool, verbose: bool) -> Result<ExitCode> {
    let exercises = ws.root.join("exercises");
    let mut watcher = Watcher::new(&exercises, poll)?;
    let clear = std::io::stdout().is_terminal();
    let mut chapter = chapter_or_current(ws, None)?;
    loop {
        if clear {
            print!("\x1b[2J\x1b[H");
        }
        // A failing check is what watching is for: report it and keep going.
        if let Err(e) = check(ws, &chapter, verbose) {
            eprintln!("error: {e:#}");
        }
        println!();
        let how = match watcher.mode() {
            WatchMode::Inotify => String::new(),
            WatchMode::Poll { reason } => format!(" (checking every second: {reason})"),
        };
        println!("{}Watching exercises/{how}. Save a file to check again; Ctrl-C stops.{:#}", dim(), dim());
        let changed = watcher.wait()?;
        chapter = chapter_of(ws, &exercises, &changed)?.unwrap_or(chapter_or_current(ws, None)?);
    }
}

/// The chapter whose exercise folder holds the changed files, when they are all in one.
fn chapter_of(
    ws: &Workspace,
    exercises: &Path,
    changed: &std::collections::BTreeSet<PathBuf>,
) -> Result<Option<Chapter>> {
    let mut folders = changed.iter().filter_map(|p| {
        p.strip_prefix(exercises).ok()?.components().next().map(|c| c.as_os_str().to_owned())
    });
    let Some(first) = folders.next() else { return Ok(None) };
    if folders.any(|f| f != first) {
        return Ok(None);
    }
    Ok(ws.chapters()?.into_iter().find(|c| first == c.dir_name.as_str()))
}

/// `cargo workshop doctor [--json]`: exit status 1 when a chapter cannot run.
fn doctor(ws: &Workspace, json: bool, yes: bool) -> Result<ExitCode> {
    let mut report = doctor::diagnose(ws);
    if !json {
        print!("{}", report.render(stdout_color()));
        if !offer_install(&report, yes)? {
            return Ok(if report.blocking().is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        println!();
        report = doctor::diagnose(ws);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render(stdout_color()));
    }
    Ok(if report.blocking().is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// When the chapters here need packages this machine lacks: as root with apt-get,
/// installs them after asking (or at once with `--yes`); otherwise names the line to
/// run. True when something was installed, so the caller looks at the machine again.
fn offer_install(report: &doctor::Report, yes: bool) -> Result<bool> {
    let Some(line) = report.install_line() else { return Ok(false) };
    let packages: Vec<&str> = report.install.iter().map(String::as_str).collect();
    let can_install = nix::unistd::geteuid().is_root() && bigbang_workshop::setup::has_apt();
    if !can_install {
        println!(
            "{}The chapters here need {}, which this machine lacks. Install with:{:#}",
            bold(),
            packages.join(", "),
            bold()
        );
        println!("    {line}");
        println!();
        return Ok(false);
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            println!(
                "{}The chapters here need {}: `cargo workshop --yes` installs them with apt-get.{:#}",
                bold(),
                packages.join(", "),
                bold()
            );
            println!();
            return Ok(false);
        }
        print!("{}The chapters here need {}, which this machine lacks. Install them now with apt-get? [y/N] {:#}", bold(), packages.join(", "), bold());
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Not installed. When you want them: {line}");
            println!();
            return Ok(false);
        }
    }
    bigbang_workshop::setup::apt_install(&packages)?;
    println!("{}Installed: {}{:#}", bold(), packages.join(" "), bold());
    Ok(true)
}
