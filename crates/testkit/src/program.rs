//! Running a test's program as another user: a link to it in a directory every user
//! may enter, and a spawn that rides out the ETXTBSY race of multi-threaded tests.
//!
//! The workspace, and so `target/`, may sit under a directory only root may enter
//! (`/root`), so a program run as `nobody` must first be reachable from elsewhere.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

/// A program reachable by every user, in a temporary directory removed on drop.
#[derive(Debug)]
pub struct SharedProgram {
    dir: TempDir,
    path: PathBuf,
}

impl SharedProgram {
    /// Places `program` in a fresh 0755 directory: a hard link where the file system
    /// allows it (it writes nothing), a copy otherwise.
    pub fn new(program: &Path) -> io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("bigbang-bin-").tempdir()?;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
        let name = program.file_name().ok_or_else(|| io::Error::other("a program path needs a file name"))?;
        let path = dir.path().join(name);
        if fs::hard_link(program, &path).is_err() {
            fs::copy(program, &path)?;
        }
        Ok(Self { dir, path })
    }

    /// The program's path in the shared directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The shared directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Spawns `command`, retrying while exec fails with ETXTBSY.
///
/// A file just written (a copied program) can be briefly "busy": when another test
/// thread forks, its child holds a copy of our write descriptor until it execs.
/// The kernel then refuses to execute the file; a short retry outlasts the window.
pub fn spawn_retrying(command: &mut Command) -> io::Result<Child> {
    let mut tries = 0;
    loop {
        match command.spawn() {
            Err(err) if err.raw_os_error() == Some(nix::libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Runs `command` once to the end with `args`, stdin closed, and returns its output
/// (spawned with [`spawn_retrying`]); fails when it cannot be started.
pub fn run(mut command: Command, args: &[&str]) -> std::process::Output {
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = spawn_retrying(&mut command)
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", command.get_program().to_string_lossy()));
    child.wait_with_output().expect("cannot collect the program's output")
}
