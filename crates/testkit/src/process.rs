//! Processes as the kernel shows them in /proc (proc(5)): alive or gone, their status
//! fields and capability masks, their namespaces and descriptors, and process trees
//! (children, descendants, a tree to kill). A test asserts what these files say, not
//! what the code under test says about itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use bigbang_container::security::capabilities;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::wait::PATIENCE;

/// One process as /proc/<pid>/stat shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    /// `R`, `S`, `Z` (a zombie: exited, not yet reaped) …
    pub state: char,
    pub ppid: i32,
}

/// The fields of a /proc/<pid>/stat text after the command name, which may hold
/// spaces and parentheses (so the fields start after its last ')').
fn stat_fields(stat: &str) -> Option<std::str::SplitWhitespace<'_>> {
    Some(stat.rsplit_once(')')?.1.split_whitespace())
}

/// Process `pid` from /proc/<pid>/stat, `None` when there is none.
fn proc_of(pid: impl Display) -> Option<Proc> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat_fields(&stat)?;
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some(Proc { pid: pid.to_string().parse().ok()?, state, ppid })
}

/// Every process on the machine.
pub fn processes() -> Vec<Proc> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(proc_of)
        .collect()
}

/// Whether process `pid` exists and is neither a zombie nor dead.
pub fn alive(pid: impl Display) -> bool {
    proc_of(pid).is_some_and(|p| !matches!(p.state, 'Z' | 'X'))
}

/// Waits (at most [`PATIENCE`]) for `pid` to be gone, reaped by its parent.
pub fn wait_gone(pid: impl Display) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Path::new(&format!("/proc/{pid}")).exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Waits (at most [`PATIENCE`], then kills it and fails) for `child` to exit.
pub fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("cannot wait for a child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not exit within {PATIENCE:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (at most [`PATIENCE`]) until `pid` runs a program for which `executed` holds
/// (its /proc/<pid>/exe), or has exited: an init that has executed its payload.
pub fn wait_for_exec(pid: impl Display, executed: impl Fn(&Path) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match fs::read_link(format!("/proc/{pid}/exe")) {
            Ok(exe) if executed(&exe) => return,
            Err(_) => return, // exited already: nothing more to wait for
            _ => {}
        }
        assert!(Instant::now() < deadline, "process {pid} never executed its payload");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A field of a /proc/<pid>/status text (`CapEff`, `NoNewPrivs`), trimmed.
pub fn status_line(status: &str, field: &str) -> Option<String> {
    status.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).map(|v| v.trim().to_string())
}

/// A field of /proc/<pid>/status; fails when the process or the field is missing.
pub fn status_field(pid: impl Display, field: &str) -> String {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).unwrap_or_else(|err| panic!("cannot read {path}: {err}"));
    status_line(&status, field).unwrap_or_else(|| panic!("no {field} in {path}"))
}

/// A capability mask of /proc/<pid>/status (`CapEff`, `CapBnd` …) as a number.
pub fn cap_mask(pid: impl Display, field: &str) -> u64 {
    let hex = status_field(pid, field);
    u64::from_str_radix(&hex, 16).unwrap_or_else(|_| panic!("{field} is {hex:?}, not a hex mask"))
}

/// The capability set a CapEff-style hex mask holds, by name.
pub fn capability_names(mask_hex: &str) -> BTreeSet<String> {
    let mask = u64::from_str_radix(mask_hex.trim(), 16).unwrap();
    (0..64)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| capabilities::name(bit).map(str::to_string).unwrap_or_else(|| format!("bit {bit}")))
        .collect()
}

/// The mask of a set of capability names, as /proc/<pid>/status prints it.
pub fn capability_mask(names: &[String]) -> String {
    let mask = names.iter().fold(0u64, |m, n| m | 1 << capabilities::number(n).unwrap());
    format!("{mask:016x}")
}

/// The capabilities of this process's bounding set: all a container here can get.
pub fn host_bounding_set() -> Vec<String> {
    capability_names(&status_field("self", "CapBnd")).into_iter().collect()
}

/// A process's `NSpid` line: its pid in each PID namespace it is in, outermost first.
pub fn nspid(pid: impl Display) -> Vec<i32> {
    status_field(pid, "NSpid").split_whitespace().map(|n| n.parse().unwrap()).collect()
}

/// `/proc/<pid>/ns/<name>`'s target, e.g. `uts:[4026531838]`.
pub fn ns_link(pid: impl Display, name: &str) -> String {
    let path = format!("/proc/{pid}/ns/{name}");
    fs::read_link(&path).unwrap_or_else(|err| panic!("cannot read {path}: {err}")).display().to_string()
}

/// A /proc id-map file (`uid_map`, `gid_map`) as lines of numbers, e.g. `[[0, 1000, 1]]`.
pub fn read_map(pid: impl Display, file: &str) -> Vec<Vec<u64>> {
    let text = fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
    text.lines().map(|l| l.split_whitespace().map(|n| n.parse().unwrap()).collect()).collect()
}

/// The descriptors process `pid` has open, by number.
pub fn open_fds(pid: impl Display) -> BTreeSet<i32> {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect()
}

/// The children of `parent`, as the kernel records them.
pub fn children(parent: impl Display) -> Vec<Proc> {
    let parent: i32 = parent.to_string().parse().expect("a pid");
    processes().into_iter().filter(|p| p.ppid == parent).collect()
}

/// The processes whose parent chain leads to `ancestor`.
pub fn descendants_of(ancestor: i32) -> Vec<i32> {
    let parent: BTreeMap<i32, i32> = processes().into_iter().map(|p| (p.pid, p.ppid)).collect();
    parent
        .keys()
        .copied()
        .filter(|&pid| {
            let mut at = pid;
            for _ in 0..64 {
                match parent.get(&at) {
                    Some(&p) if p == ancestor => return true,
                    Some(&p) if p > 1 => at = p,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

/// SIGKILLs `root` and every process below it, leaves first.
pub fn kill_tree(root: Pid) {
    let all = processes();
    let mut tree = vec![root.as_raw()];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        i += 1;
    }
    for pid in tree.into_iter().rev() {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// Processes whose command line mentions `needle` (a test's unique rootfs path).
pub fn processes_mentioning(needle: &Path) -> Vec<i32> {
    let needle = needle.as_os_str().as_encoded_bytes();
    processes()
        .into_iter()
        .filter(|p| {
            fs::read(format!("/proc/{}/cmdline", p.pid))
                .is_ok_and(|cmdline| cmdline.windows(needle.len()).any(|w| w == needle))
        })
        .map(|p| p.pid)
        .collect()
}

/// Processes whose command line, working directory, root or executable mentions one
/// of `paths`: a container process (its root is the rootfs) or a runtime process
/// (its command line names the bundle) that outlived its container.
pub fn processes_touching(paths: &[PathBuf]) -> Vec<String> {
    let me = std::process::id() as i32;
    let mut found = Vec::new();
    for pid in processes().into_iter().map(|p| p.pid).filter(|&p| p != me) {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        let link = |what: &str| {
            fs::read_link(format!("/proc/{pid}/{what}"))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let (cwd, root, exe) = (link("cwd"), link("root"), link("exe"));
        let text = format!("{cmdline} cwd={cwd} root={root} exe={exe}");
        if paths.iter().any(|p| text.contains(p.to_str().unwrap())) {
            found.push(format!("pid {pid}: {text}"));
        }
    }
    found
}
