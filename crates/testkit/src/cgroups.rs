//! Cgroups as a test finds them after a container: the hierarchies mounted here (each
//! v1 controller's, the named systemd one, the v2 tree), a container's directories in
//! every one of them, what is left of it, and a cleanup that works whatever state the
//! code under test left them in. Read cgroups(7) and the kernel's cgroup-v2.rst.

use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::probe::CGROUP_MOUNT;

/// The parent cgroup bang-oci (and chapter 6's runtime) puts containers in when the
/// configuration names none: `<hierarchy>/bang-oci/<id>`.
pub const CONTAINER_PARENT: &str = "bang-oci";

/// The directories of the cgroup hierarchies mounted here: each v1 controller's (and
/// the named systemd one's), and the v2 tree; /sys/fs/cgroup itself on a v2-only host.
pub fn hierarchies() -> Vec<PathBuf> {
    let base = Path::new(CGROUP_MOUNT);
    if base.join("cgroup.controllers").exists() {
        return vec![base.to_path_buf()];
    }
    let mut found: Vec<PathBuf> = fs::read_dir(base)
        .map(|d| {
            d.flatten()
                // `cpu,cpuacct` and friends are symbolic links to a hierarchy already listed.
                .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Cgroup directories in every hierarchy whose name `matches`, at any depth.
pub fn dirs_matching(matches: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, matches: &dyn Fn(&str) -> bool, found: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            if !entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            if matches(&entry.file_name().to_string_lossy()) {
                found.push(entry.path());
            }
            if depth < 12 {
                walk(&entry.path(), depth + 1, matches, found);
            }
        }
    }
    let mut found = Vec::new();
    for hierarchy in hierarchies() {
        walk(&hierarchy, 0, &matches, &mut found);
    }
    found
}

/// The cgroup directories named `id`, at any depth of any hierarchy: what a container
/// `id` left, wherever its configuration put it.
pub fn leftovers(id: &str) -> Vec<PathBuf> {
    dirs_matching(|name| name == id)
}

/// The directories `<hierarchy>/bang-oci/<id>` of container `id` that exist, in every
/// hierarchy (v1 and v2).
pub fn container_dirs(id: &str) -> Vec<PathBuf> {
    hierarchies().into_iter().map(|h| h.join(CONTAINER_PARENT).join(id)).filter(|d| d.exists()).collect()
}

/// Kills every process in the cgroup `dir` (thawing it first, as a frozen process
/// cannot die) and removes the directory, trying for at most 5 s: the cleanup of a
/// test whose `delete` is still `todo!()`.
pub(crate) fn kill_and_remove(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let _ = fs::write(dir.join("freezer.state"), "THAWED");
        let _ = fs::write(dir.join("cgroup.freeze"), "0");
        let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        if fs::remove_dir(dir).is_ok() || !dir.exists() || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The directory of process `pid`'s cgroup in v1 hierarchy `controller`, as the
/// kernel reports it in /proc/<pid>/cgroup (cgroups(7)); fails showing that file
/// when no line names the controller.
pub fn v1_dir_of(pid: impl Display, controller: &str) -> PathBuf {
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let path = cgroups
        .lines()
        .find_map(|l| {
            let mut fields = l.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            controllers.split(',').any(|c| c == controller).then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("pid {pid} is in no {controller} cgroup:\n{cgroups}"));
    Path::new(CGROUP_MOUNT).join(controller).join(path.trim_start_matches('/'))
}

/// A cgroup file's contents (or any small text file's), trimmed; fails naming the path.
pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())).trim().to_owned()
}
