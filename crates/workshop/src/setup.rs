//! Installing the system packages the chapters and the tests need, with the
//! distribution's package manager: the one piece of set-up a learner's machine or a
//! fresh CI machine lacks.
//!
//! `cargo workshop` (through the doctor) names what an existing chapter needs and is
//! missing, in one install line, and runs it after asking when it runs as root;
//! `cargo xtask ci` installs [`CI_PACKAGES`] the same way before its first step.
//! Only Debian and Ubuntu (apt-get) are installed to; elsewhere the line is printed.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// What the full test command needs on a Debian machine, each with the reason. The
/// learner's chapters need fewer: the doctor works those out from `needs`.
pub const CI_PACKAGES: &[(&str, &str)] = &[
    ("busybox-static", "the root filesystems every chapter's checks run in"),
    ("runc", "`bang-oci spec` is compared with `runc spec`, and runs the same bundles"),
    ("podman", "drives bang-oci in tests/podman*.rs (conmon comes with it)"),
    ("docker.io", "dockerd and its client drive bang-oci in tests/docker.rs"),
    ("containerd", "ctr and containerd-shim-runc-v2 drive bang-oci in tests/containerd.rs"),
    ("procps", "ps(1), which `bang-oci ps` formats like"),
    ("util-linux", "unshare(1), for the namespaces a validation case joins by path"),
    ("coreutils", "sleep and the other commands the tests run"),
    ("tar", "podman and docker import root filesystems as tar streams"),
    ("chromium", "the browser the book is tested in (`cargo xtask browser`)"),
    ("nodejs", "runs the browser test's driver, Playwright (tests/browser)"),
    ("npm", "installs Playwright from tests/browser/package-lock.json"),
];

/// Packages that count as present when their command is on PATH, however it came:
/// Node.js from NodeSource ships npm inside its own `nodejs` package, and Debian's
/// `npm` package cannot be installed beside it.
const SATISFIED_BY_COMMAND: &[(&str, &str)] = &[("nodejs", "node"), ("npm", "npm")];

/// Whether `command` is an executable file in a directory of PATH.
fn on_path(command: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(command))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Debian's switch that keeps a package's install from starting its service
/// (invoke-rc.d(8)): docker.io would otherwise start a system dockerd, which changes the
/// host's firewall and bridges, while the tests start daemons of their own.
const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";

/// Whether this machine installs with apt-get (Debian, Ubuntu and their relatives).
pub fn has_apt() -> bool {
    Path::new("/usr/bin/apt-get").exists() && Path::new("/usr/bin/dpkg-query").exists()
}

/// Which of `packages` dpkg does not list as installed (and, for those a command
/// stands for, whose command is not on PATH either).
pub fn missing_debian<'a>(packages: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    packages
        .into_iter()
        .filter(|p| !SATISFIED_BY_COMMAND.iter().any(|(package, command)| package == p && on_path(command)))
        .filter(|p| {
            let out = Command::new("dpkg-query").args(["-W", "-f=${Status}", p]).output();
            !matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect()
}

/// The one line a person runs to install `packages`.
pub fn apt_line(packages: &[&str]) -> String {
    format!("sudo apt-get install -y --no-install-recommends {}", packages.join(" "))
}

/// Removes the policy-rc.d this module wrote, however the install ends.
struct OwnPolicy;

impl Drop for OwnPolicy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(POLICY_RC_D);
    }
}

/// As root on a Debian machine: `apt-get update`, then install `packages` without
/// starting their services. Output goes to the terminal: an install is long and the
/// person waiting should see it move.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    if !nix::unistd::geteuid().is_root() {
        bail!("installing packages needs root; run: {}", apt_line(packages));
    }
    if !has_apt() {
        bail!("no apt-get on this machine; install these with your package manager: {}", packages.join(" "));
    }
    let _policy = if Path::new(POLICY_RC_D).exists() {
        None
    } else {
        std::fs::write(
            POLICY_RC_D,
            "#!/bin/sh\n# written by bigbang's set-up, removed after the install\nexit 101\n",
        )
        .with_context(|| format!("cannot write {POLICY_RC_D}"))?;
        let guard = OwnPolicy;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(POLICY_RC_D, std::fs::Permissions::from_mode(0o755))?;
        Some(guard)
    };
    let apt = |args: &[&str]| -> Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("apt-get {} failed ({status})", args.join(" "));
        }
        Ok(())
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend_from_slice(packages);
    apt(&install)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_every_package_in_order() {
        assert_eq!(
            apt_line(&["busybox-static", "podman", "runc"]),
            "sudo apt-get install -y --no-install-recommends busybox-static podman runc"
        );
    }

    #[test]
    fn a_package_that_does_not_exist_is_missing() {
        if !has_apt() {
            return;
        }
        assert_eq!(missing_debian(["coreutils", "no-such-package-bigbang"]), vec!["no-such-package-bigbang"]);
    }
}
