//! `cargo xtask browser`: the built book in a real browser (issue 10, section 6).
//!
//! Builds the book as `cargo workshop book` does, serves it with the workshop's own
//! server on a free port of 127.0.0.1, and runs `tests/browser/check.mjs`, which drives
//! Debian's headless Chromium through Playwright: every page of SUMMARY.md loads without
//! a console error or a failed request, nothing is wider than the content column at
//! 1400x900, solution blocks stay closed until clicked, search finds a term, and the
//! print page prints to PDF. First it proves that the check can fail: on a tiny book
//! with a faulty page it must report each fault. Why Playwright rather than a Rust
//! WebDriver client: see the head of check.mjs (console and PDF are CDP features; no
//! minutes of compiling).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};
use bigbang_workshop::chapter::Workspace;

/// Where the driver script and its npm package live, relative to the workspace root.
const DRIVER: &str = "tests/browser";

/// Debian's Chromium; `BIGBANG_CHROMIUM` names another build.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The pages of the book, as built HTML paths, in the order of `summary` (SUMMARY.md):
/// each `[title](path.md)` link once; draft entries (`[title]()`) have no page.
pub fn summary_pages(summary: &str) -> Vec<String> {
    let mut pages = Vec::new();
    for line in summary.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = rest[..end].trim();
            if let Some(stem) = target.strip_suffix(".md") {
                let page = format!("{stem}.html");
                if !pages.contains(&page) {
                    pages.push(page);
                }
            }
            rest = &rest[end..];
        }
    }
    pages
}

/// The browser to drive, or an error that names the package to install.
fn chromium() -> Result<PathBuf> {
    let path = std::env::var_os("BIGBANG_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| CHROMIUM.into());
    if !path.is_file() {
        bail!(
            "no Chromium at {}: install Debian's with `apt-get install chromium` (or set BIGBANG_CHROMIUM to a Chromium or Chrome binary)",
            path.display()
        );
    }
    Ok(path)
}

/// The version of `playwright-core` that `package-lock.json` pins.
fn locked_version(driver: &Path) -> Result<String> {
    let lock = driver.join("package-lock.json");
    let text = std::fs::read_to_string(&lock).with_context(|| format!("reading {}", lock.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", lock.display()))?;
    json["packages"]["node_modules/playwright-core"]["version"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("{} pins no playwright-core", lock.display()))
}

/// Node is there, and `node_modules/` holds the locked playwright-core (`npm ci` if not).
fn install_driver(driver: &Path) -> Result<()> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|out| out.status.success()) {
        bail!("no `node` on PATH: the browser test runs on Node.js; install it with `apt-get install nodejs npm`");
    }
    let want = locked_version(driver)?;
    let installed = driver.join("node_modules/playwright-core/package.json");
    let have = std::fs::read_to_string(&installed)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(str::to_owned));
    if have.as_deref() == Some(want.as_str()) {
        return Ok(());
    }
    println!("installing playwright-core {want} into {}/node_modules (npm ci)", driver.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(driver)
        .status()
        .context("running npm: install it with `apt-get install npm`")?;
    if !status.success() {
        bail!("`npm ci` in {} failed", driver.display());
    }
    Ok(())
}

/// The book served by `cargo xtask serve-book` in a child process, stopped on drop.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &Path) -> Result<Server> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("serve-book")
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the book's server")?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("the server's stdout")?;
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("serving on ") else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the book's server did not start (it said {line:?})");
        };
        Ok(Server { base: format!("http://{addr}/"), child })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo xtask serve-book DIR`: what [`Server`] runs. Prints `serving on ADDR`, then
/// serves until killed.
pub fn serve(dir: &Path) -> Result<()> {
    let listener = bigbang_workshop::book::bind(0)?;
    println!("serving on {}", listener.local_addr()?);
    bigbang_workshop::book::serve(dir, listener)?;
    Ok(())
}

/// A page with one of each fault the check must find, and what it must say about each.
const FAULTY_PAGE: &str = r#"# Faults

A figure of 120 columns:

```text
+----------------------------------------------------------------------------------------------------------------------+
```

<script>console.error("injected fault");</script>

<img src="missing.png" alt="a missing image">

<details class="solution" open><summary>Solution</summary>

```rust
let answer = 42;
```

</details>
"#;

const FAULTS_FOUND: [&str; 4] = [
    "faults.html: at 1400x900, code block",
    "faults.html: console error: injected fault",
    "faults.html: HTTP 404: missing.png",
    "faults.html: a solution block is open on load",
];

/// The check can fail: on a tiny book with a faulty page and a clean one, it reports
/// each fault of the faulty page, and nothing about the clean one.
fn self_test(chromium: &Path, driver: &Path) -> Result<()> {
    let root = tempfile::tempdir()?;
    let src = root.path().join("book/src");
    std::fs::create_dir_all(&src)?;
    std::fs::write(root.path().join("book/book.toml"), "[book]\ntitle = \"faults\"\n")?;
    std::fs::write(src.join("SUMMARY.md"), "# Summary\n\n- [Clean](clean.md)\n- [Faults](faults.md)\n")?;
    std::fs::write(src.join("clean.md"), "# Clean\n\nNothing wrong here.\n")?;
    std::fs::write(src.join("faults.md"), FAULTY_PAGE)?;
    let out = bigbang_workshop::book::build_book(root.path())?;
    let server = Server::start(&out)?;
    let run = Command::new("node")
        .arg("check.mjs")
        .arg(chromium)
        .arg(&server.base)
        .args(["clean.html", "faults.html"])
        .current_dir(driver)
        .output()
        .context("running node")?;
    drop(server);
    let said = String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    let missed: Vec<&str> = FAULTS_FOUND.iter().copied().filter(|fault| !said.contains(fault)).collect();
    let blamed_clean = said.lines().any(|line| line.trim_start().starts_with("clean.html:"));
    if run.status.success() || !missed.is_empty() || blamed_clean {
        bail!(
            "the browser check does not catch the faults of a faulty page (missed: {missed:?}; clean page blamed: {blamed_clean}); it said:\n{said}"
        );
    }
    println!(
        "self-test: the check reports all {} faults of a faulty page, and none on a clean one",
        FAULTS_FOUND.len()
    );
    Ok(())
}

pub fn run(ws: &Workspace) -> Result<()> {
    let chromium = chromium()?;
    let driver = ws.root.join(DRIVER);
    install_driver(&driver)?;
    self_test(&chromium, &driver)?;
    let summary =
        std::fs::read_to_string(ws.root.join("book/src/SUMMARY.md")).context("reading SUMMARY.md")?;
    let pages = summary_pages(&summary);
    let out = bigbang_workshop::book::build_book(&ws.root)?;
    let server = Server::start(&out)?;
    println!("checking {} pages of {} in {}", pages.len(), server.base, chromium.display());
    let status = Command::new("node")
        .arg("check.mjs")
        .arg(&chromium)
        .arg(&server.base)
        .args(&pages)
        .current_dir(&driver)
        .status()
        .context("running node")?;
    drop(server);
    if !status.success() {
        bail!("the book fails in the browser (tests/browser/check.mjs)");
    }
    println!("the book works in {}", chromium.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SUMMARY.md's links become HTML paths in order, once each; drafts and prose are skipped.
    #[test]
    fn pages_of_the_summary() {
        let summary = "# Summary\n\n[Introduction](introduction.md)\n\n# Part\n\n- [One](01-a/index.md)\n    - [Sub](01-a/sub.md)\n- [Draft]()\n- [Again](01-a/index.md)\n\nSee [x](notes.txt).\n";
        assert_eq!(summary_pages(summary), ["introduction.html", "01-a/index.html", "01-a/sub.html"]);
    }
}
