//! `cargo xtask`: the maintainers' tasks.
//!
//! # Layout
//! - `exercises`: generate the learner's files (`exercises/`) and the chapter shims
//!   (`chapters/NN-topic/src/`) from marked product code.
//! - `verify`: every chapter fails on its exercises, passes on the product, and
//!   every hole is covered by a test.
//! - `mistakes`: each common mistake listed in chapter.toml fails a test.
//! - `mutants`: cargo-mutants on the holes' lines, per hole caught and missed.
//! - `unprivileged`: run the chapters that promise to work without root as uid 65534.
//! - `book`: build the book, check every `{{#include}}` anchor and every internal link.
//! - `browser`: the built book in headless Chromium (pages, widths, search, solutions, print).
//! - `setup`: as root on Debian, install the system packages the tests need.
//! - `ci`: everything CI runs, in order, with a summary; it starts with `setup`.
//! - `bench`: benchmarks that print a comparison (`bench runtime`: bang-oci next to runc).
//!
//! `layout` (folder ↔ package ↔ book part) lives in `bigbang_workshop::layout`,
//! since the root package's tests check it too.

mod bench;
mod book;
mod browser;
mod exercises;
mod mistakes;
mod mutants;
mod unprivileged;
mod verify;

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Result};
use bigbang_workshop::chapter::Workspace;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Maintainers' tasks for the bigbang workspace")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Generate exercises/ and the chapter shims from the exercise markers in crates/.
    Exercises {
        /// Fail if the committed files differ from what would be generated.
        #[arg(long)]
        check: bool,
    },
    /// Prove each chapter's tests fail on the exercises, pass on the product,
    /// and notice every single hole left empty.
    Verify {
        /// Chapter numbers; all chapters when none.
        chapters: Vec<u32>,
    },
    /// Prove each `[[mistakes]]` patch of chapter.toml fails its `caught_by` test
    /// (verify does this too).
    Mistakes {
        /// Chapter numbers; all chapters when none.
        chapters: Vec<u32>,
    },
    /// Run cargo-mutants on the holes of chapters (slow; not part of ci) and report,
    /// per hole, the mutants caught, missed, equivalent, unviable and timed out.
    Mutants {
        /// Chapter numbers; all chapters with holes when none.
        chapters: Vec<u32>,
        /// Only list the mutants of the holes, without building or testing them.
        #[arg(long)]
        list: bool,
    },
    /// Check that chapters/NN-topic, package chapter-N, exercises/NN-topic/ and
    /// book/src/NN-topic/ line up.
    Layout,
    /// As root: run chapters' checks (on the product) as the unprivileged user nobody.
    Unprivileged {
        /// Chapter numbers; by default those whose chapter.toml needs "root-or-userns".
        chapters: Vec<u32>,
    },
    /// Build the book and check its includes and internal links.
    Book,
    /// Build the book, serve it on 127.0.0.1 and check it in headless Chromium:
    /// every page loads cleanly, fits 1400 px, search, solution blocks, print to PDF.
    Browser,
    /// Serve the built book in DIR on a free port of 127.0.0.1 (what `browser` starts).
    #[command(hide = true)]
    ServeBook { dir: std::path::PathBuf },
    /// As root on Debian or Ubuntu: install the system packages the tests need
    /// (busybox-static, runc, podman, docker.io, containerd, ...) with apt-get.
    Setup,
    /// Everything CI runs: set-up, fmt, clippy, generated files, layout, tests,
    /// verify, unprivileged checks, the book, the book in a browser.
    Ci,
    /// Benchmarks that print a comparison table (never a pass/fail on speed).
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// As root: time bang-oci and runc side by side on one busybox bundle
    /// (`run`, and `create` + `start` + wait + `delete`).
    Runtime {
        /// Measured rounds (each runs every scenario once per runtime).
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        /// Rounds run first and not measured.
        #[arg(long, default_value_t = 10)]
        warmup: usize,
    },
}

fn layout(ws: &Workspace) -> Result<()> {
    let problems = bigbang_workshop::layout::check(ws)?;
    if !problems.is_empty() {
        bail!("the layout does not line up:\n  {}", problems.join("\n  "));
    }
    println!("chapters, packages, exercises, shims and book parts line up");
    Ok(())
}

/// Installs what the tests need and this machine lacks. On a machine without apt-get it
/// names the packages and goes on: their absence shows in the tests that need them.
fn setup(_ws: &Workspace) -> Result<()> {
    use bigbang_workshop::setup::{self as s, CI_PACKAGES};
    if !s::has_apt() {
        let names: Vec<&str> = CI_PACKAGES.iter().map(|p| p.0).collect();
        println!("no apt-get here: install these (Debian's names) yourself: {}", names.join(" "));
        return Ok(());
    }
    let missing = s::missing_debian(CI_PACKAGES.iter().map(|p| p.0));
    if missing.is_empty() {
        println!("all {} packages the tests need are installed", CI_PACKAGES.len());
        return Ok(());
    }
    for (name, why) in CI_PACKAGES.iter().filter(|p| missing.contains(&p.0)) {
        println!("installing {name}: {why}");
    }
    s::apt_install(&missing)
}

fn cargo<'a>(args: &'a [&'a str]) -> impl Fn(&Workspace) -> Result<()> + 'a {
    move |ws| {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(&ws.root)
            .args(args)
            .status()?;
        if !status.success() {
            bail!("cargo {} failed", args.join(" "));
        }
        Ok(())
    }
}

type Step<'a> = (&'a str, Box<dyn Fn(&Workspace) -> Result<()> + 'a>);

fn ci(ws: &Workspace) -> Result<()> {
    let steps: Vec<Step> = vec![
        ("setup", Box::new(setup)),
        ("fmt", Box::new(cargo(&["fmt", "--all", "--check"]))),
        (
            "clippy",
            Box::new(cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ])),
        ),
        ("exercises --check", Box::new(|ws: &Workspace| exercises::run(ws, true))),
        ("layout", Box::new(layout)),
        ("tests on the product", Box::new(cargo(&["test", "--workspace", "--all-features"]))),
        ("verify", Box::new(|ws: &Workspace| verify::run(ws, &[]))),
        ("unprivileged", Box::new(|ws: &Workspace| unprivileged::run(ws, &[]))),
        ("book", Box::new(book::run)),
        ("browser", Box::new(browser::run)),
    ];
    let mut results = Vec::new();
    for (name, step) in &steps {
        println!("\n==> {name}");
        let started = Instant::now();
        let result = step(ws);
        if let Err(err) = &result {
            eprintln!("{name} failed: {err:#}");
        }
        results.push((*name, result.is_ok(), started.elapsed()));
    }
    println!("\n{:<24} {:>7}  result", "step", "seconds");
    for (name, ok, took) in &results {
        println!("{name:<24} {:>7.1}  {}", took.as_secs_f64(), if *ok { "ok" } else { "FAILED" });
    }
    let failed = results.iter().filter(|r| !r.1).count();
    // A plain closing line that any CI reader understands.
    println!("\nci: {} passed, {failed} failed", results.len() - failed);
    if failed > 0 {
        bail!("{failed} CI step(s) failed");
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let ws =
        Workspace::at(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).canonicalize()?);
    match cli.task {
        Task::Exercises { check } => exercises::run(&ws, check),
        Task::Verify { chapters } => verify::run(&ws, &chapters),
        Task::Mistakes { chapters } => mistakes::run(&ws, &chapters),
        Task::Mutants { chapters, list } => mutants::run(&ws, &chapters, list),
        Task::Layout => layout(&ws),
        Task::Unprivileged { chapters } => unprivileged::run(&ws, &chapters),
        Task::Book => book::run(&ws),
        Task::Setup => setup(&ws),
        Task::Browser => browser::run(&ws),
        Task::ServeBook { dir } => browser::serve(&dir),
        Task::Ci => ci(&ws),
        Task::Bench { what: Bench::Runtime { rounds, warmup } } => bench::runtime(&ws, rounds, warmup),
    }
}
