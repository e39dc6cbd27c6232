//! `bang-oci ps` (chapter 6): the processes of a container, which are the processes
//! of its cgroup, as runc-ps(8) reports them: the pids as a JSON array (what
//! `podman top` asks for), or the host's ps(1) output filtered to those pids. Read
//! cgroups(7) (`cgroup.procs`) and ps(1).
//!
//! Why the cgroup and not the pid namespace: a container without a pid namespace of
//! its own has no namespace to list, and a process that moved to another pid
//! namespace (an exec'd process joins the container's) would be missed by walking
//! the children of the init, which reparenting also scrambles. The cgroup holds every
//! process of the container from birth, exec'd ones included.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use super::error::{ControlError, LifecycleError};
use super::store::Store;
use crate::cgroups::{self, read_procs, CgroupError, Hierarchies};

// ANCHOR: ps
/// The pids (on the host) of every process in container `id`'s cgroup and in the
/// cgroups below it (a payload may make its own, as systemd does), ascending. A
/// container whose cgroup is already gone has none.
pub fn ps(store: &Store, id: &str) -> Result<Vec<i32>, LifecycleError> {
    let record = store.load(id)?;
    let Some(path) = &record.cgroup_path else { return Ok(Vec::new()) };
    let cgroup = match cgroups::open(&Hierarchies::here()?, path) {
        Ok(cgroup) => cgroup,
        Err(CgroupError::NotFound { .. }) => return Ok(Vec::new()),
        Err(err) => return Err(err.into()),
    };
    let mut pids = BTreeSet::new();
    for dir in cgroup.dirs() {
        collect_procs(&dir, &mut pids)?;
    }
    Ok(pids.into_iter().collect())
}
// ANCHOR_END: ps

/// Adds the `cgroup.procs` of `dir` and of every cgroup below it. A cgroup removed
/// while we walk (its last process exited and someone rmdir'ed it) is skipped.
fn collect_procs(dir: &Path, pids: &mut BTreeSet<i32>) -> Result<(), LifecycleError> {
    match read_procs(&dir.join("cgroup.procs")) {
        Ok(found) => pids.extend(found),
        Err(CgroupError::FileMissing { .. }) => return Ok(()),
        Err(err) => return Err(err.into()),
    }
    let Ok(entries) = fs::read_dir(dir) else { return Ok(()) };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_procs(&entry.path(), pids)?;
        }
    }
    Ok(())
}

// ANCHOR: ps_table
/// runc's table form: runs the host's `ps` with `args` (`-ef` when none) and keeps
/// its header and the rows whose PID column is one of `pids`.
pub fn ps_table(pids: &[i32], args: &[String]) -> Result<String, LifecycleError> {
    let args: Vec<String> = if args.is_empty() { vec!["-ef".to_string()] } else { args.to_vec() };
    let fail = |reason: String| LifecycleError::from(ControlError::Ps { args: args.clone(), reason });
    let output = Command::new("ps").args(&args).output().map_err(|err| fail(err.to_string()))?;
    if !output.status.success() {
        return Err(fail(format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim())));
    }
    filter_rows(&String::from_utf8_lossy(&output.stdout), pids).map_err(fail)
}
// ANCHOR_END: ps_table

/// The header of a ps(1) listing and the rows whose PID column is in `pids`.
fn filter_rows(listing: &str, pids: &[i32]) -> Result<String, String> {
    let mut lines = listing.lines();
    let header = lines.next().ok_or("ps printed nothing")?;
    let column = header.split_whitespace().position(|name| name == "PID").ok_or_else(|| {
        format!("ps printed no PID column (header {header:?}); give ps options that show it")
    })?;
    let mut out = format!("{header}\n");
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let field = line.split_whitespace().nth(column).unwrap_or("");
        let pid: i32 = field.parse().map_err(|_| format!("cannot parse the pid {field:?} in {line:?}"))?;
        if pids.contains(&pid) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keeps_the_header_and_the_container_rows() {
        let listing = "UID PID PPID C STIME TTY TIME CMD\n\
                       root 1 0 0 10:00 ? 00:00:01 /sbin/init\n\
                       root 4242 4200 0 10:01 ? 00:00:00 sleep 1000\n\
                       root 4243 4242 0 10:01 ? 00:00:00 sh\n";
        let table = filter_rows(listing, &[4242, 4243]).unwrap();
        assert_eq!(table.lines().count(), 3);
        assert!(table.starts_with("UID PID"));
        assert!(!table.contains("/sbin/init"));
        assert!(filter_rows("USER COMMAND\nroot x\n", &[1]).unwrap_err().contains("no PID column"));
        assert!(filter_rows("PID CMD\nabc x\n", &[1]).unwrap_err().contains("cannot parse"));
    }
}
