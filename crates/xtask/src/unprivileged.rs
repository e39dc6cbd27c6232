//! `cargo xtask unprivileged [N…]`: run chapters' checks as an unprivileged user.
//!
//! Learners often are not root. As root, this builds each chapter's tests on the
//! product (`--features solution`), copies the test programs and the chapter's demo to a directory any
//! user may read (the workspace may sit under /root), and runs them as `nobody`
//! (uid 65534), so the code paths that use a user namespace are exercised for real.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use bigbang_workshop::chapter::{Chapter, Workspace};

/// The uid and gid the checks run as.
pub const NOBODY: u32 = 65534;

/// Test and binary executables cargo built for `package`, from its JSON messages.
fn executables(ws: &Workspace, package: &str) -> Result<Vec<PathBuf>> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&ws.root)
        .args(["test", "--package", package, "--features", "solution", "--no-run", "--message-format=json"])
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo test --no-run")?;
    if !out.status.success() {
        bail!("cannot build the tests of {package}");
    }
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // A compiler-artifact message with an executable: `"executable":"/path"`.
        if let Some(at) = line.find("\"executable\":\"") {
            let rest = &line[at + 14..];
            if let Some(end) = rest.find('"') {
                found.push(PathBuf::from(&rest[..end]));
            }
        }
    }
    Ok(found)
}

/// Runs the checks of chapters `only` (when empty: every chapter whose
/// `chapter.toml` needs `root-or-userns`, i.e. claims to work without root).
pub fn run(ws: &Workspace, only: &[u32]) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        println!("not root: the ordinary test run already was unprivileged; nothing to do");
        return Ok(());
    }
    let mut failed = Vec::new();
    let wanted = |c: &Chapter| {
        if only.is_empty() {
            c.meta.needs.iter().any(|n| n == "root-or-userns")
        } else {
            only.contains(&c.number)
        }
    };
    for chapter in ws.chapters()?.into_iter().filter(wanted) {
        let package = chapter.package();
        let stage = tempfile::Builder::new().prefix("bigbang-unprivileged-").tempdir()?;
        fs::set_permissions(stage.path(), fs::Permissions::from_mode(0o755))?;
        let deps = stage.path().join("deps");
        fs::create_dir(&deps)?;
        fs::set_permissions(&deps, fs::Permissions::from_mode(0o755))?;
        let mut tests = Vec::new();
        for exe in executables(ws, &package)? {
            let name = exe.file_name().context("executable without a name")?;
            // Test programs live in deps/, binaries one level up: the layout assert_cmd expects.
            let in_deps = exe.parent().is_some_and(|p| p.ends_with("deps"));
            let to = if in_deps { deps.join(name) } else { stage.path().join(name) };
            fs::copy(&exe, &to).with_context(|| format!("copying {}", exe.display()))?;
            if in_deps {
                tests.push(to);
            }
        }
        for test in tests {
            println!("running {} as uid {NOBODY}", test.display());
            let status = Command::new(&test)
                .current_dir(stage.path())
                .env("HOME", stage.path())
                .env("TMPDIR", "/tmp")
                .uid(NOBODY)
                .gid(NOBODY)
                .status()
                .with_context(|| format!("running {}", test.display()))?;
            if !status.success() {
                failed.push(format!("{package} ({})", test.display()));
            }
        }
    }
    if !failed.is_empty() {
        bail!("checks failed as an unprivileged user: {}", failed.join(", "));
    }
    Ok(())
}
