//! The chapter 1 demo: run a command in a root filesystem with your code.
//!
//! `cargo run -p chapter-1 -- ROOTFS CMD [ARG…]` exits as the command did
//! (128+n when signal n killed it, 127 when it is not in the rootfs, 126 when
//! it is not executable, 125 when the runtime itself failed);
//! `cargo run -p chapter-1 -- --make-rootfs DIR` builds a busybox rootfs to try it on.

use std::path::Path;
use std::process::ExitCode;

use chapter_1::process::{run_chrooted, ProcessError};

const USAGE: &str = "usage: chapter-1 ROOTFS CMD [ARG...]\n       chapter-1 --make-rootfs DIR";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, dir] if flag == "--make-rootfs" => {
            match bigbang_testkit::rootfs::make_busybox_rootfs(Path::new(dir)) {
                Ok(()) => {
                    println!("made a busybox rootfs in {dir}; try: cargo run -p chapter-1 -- {dir} /bin/sh");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("chapter-1: {err}");
                    ExitCode::from(1)
                }
            }
        }
        [rootfs, argv @ ..] if !argv.is_empty() && !rootfs.starts_with('-') => {
            match run_chrooted(Path::new(rootfs), argv) {
                // A shell's $? is 0–255; the status of a signal death is 128+n.
                Ok(exit) => ExitCode::from(exit.shell_code() as u8),
                Err(err @ ProcessError::ProgramNotFound { .. }) => {
                    eprintln!("chapter-1: {err}");
                    ExitCode::from(127)
                }
                // Found, but not something exec can run: 126, as shells report it.
                Err(err @ ProcessError::NotExecutable { .. }) => {
                    eprintln!("chapter-1: {err}");
                    ExitCode::from(126)
                }
                // The runtime itself failed: 125, as `docker run` and `podman run` report it.
                Err(err) => {
                    eprintln!("chapter-1: {err}");
                    ExitCode::from(125)
                }
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
