//! `cargo workshop` starts here. The workshop tool (`cargo-workshop`, in
//! crates/workshop) depends on mdBook, axum and tokio, so its first build compiles a
//! few hundred crates and takes minutes; run through `cargo run --quiet`, that build
//! would print nothing at all. This launcher has no dependencies and builds in about
//! a second, so it can tell a learner what is happening: on the first run it says
//! so and lets cargo show its progress; afterwards it rebuilds quietly (nothing to
//! do, usually) and hands over to the tool with the same arguments.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // The launcher and the tool are built into the same target directory and profile.
    let Some(dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(PathBuf::from)) else {
        eprintln!("error: cannot find where cargo put the workshop's programs (current_exe failed)");
        return ExitCode::FAILURE;
    };
    let tool = dir.join("cargo-workshop");
    let first = !tool.exists();
    let mut build = Command::new(&cargo);
    build.args(["build", "--package", "bigbang-workshop", "--bin", "cargo-workshop"]);
    build.arg("--manifest-path").arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"));
    if dir.file_name().is_some_and(|d| d == "release") {
        build.arg("--release");
    }
    if first {
        eprintln!(
            "First run: building the workshop tool. Cargo compiles about 160 crates, which\n\
             takes about two minutes on two cores and 0.7 GB of disk under target/.\n\
             Later runs start in a second. A chapter's first check builds its tests the\n\
             same way, for a minute or two more.\n"
        );
    } else {
        build.arg("--quiet");
    }
    match build.status() {
        Ok(status) if status.success() => {}
        Ok(status) => {
            eprintln!("error: the workshop tool did not build ({status}); cargo's messages above say why");
            return ExitCode::from(status.code().map_or(1, |c| c.clamp(1, 255) as u8));
        }
        Err(e) => {
            eprintln!("error: cannot run cargo ({}): {e}", PathBuf::from(&cargo).display());
            return ExitCode::FAILURE;
        }
    }
    if first {
        eprintln!();
    }
    // exec: the tool takes over this process, so Ctrl-C and exit codes are its own.
    let err = Command::new(&tool).args(std::env::args_os().skip(1)).exec();
    eprintln!("error: cannot start {}: {err}", tool.display());
    ExitCode::FAILURE
}
