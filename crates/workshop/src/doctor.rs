//! `cargo workshop doctor`: can this machine run the chapters, and if not, what to do.
//! Each check is a probe from `bigbang_testkit::probe` (kernel, root, user namespaces,
//! each namespace type, cgroups, overlayfs, pivot_root, busybox, disk, interop tools);
//! the `needs` of each chapter.toml map onto them, so a learner hears before chapter 3
//! that overlayfs is missing. The book's setup appendix says the same at length.

use std::fmt::Write as _;
use std::path::Path;

use bigbang_testkit::probe::{
    self, Attempt, Busybox, CgroupMode, Cgroups, Kernel, Linkage, Namespace, Tool, UsernsPolicy,
    UsernsSysctls, UsernsVerdict, WORKSHOP_CONTROLLERS,
};
use serde::Serialize;

use crate::chapter::{Chapter, ChapterError, Workspace};

/// Below this much free space on the workspace's filesystem the disk check warns: a full
/// build of the workspace (debug, all chapters) takes a few GiB.
pub const MIN_FREE_BYTES: u64 = 5 << 30;

/// How to run one chapter's checks as root: sudo resets PATH to a secure_path that lacks
/// rustup's ~/.cargo/bin, so hand it the user's. `chapter-N` is replaced per chapter.
const SUDO_TEST: &str = "sudo -E env PATH=\"$PATH\" cargo test -p chapter-N";

/// What a chapter can ask of the machine in the `needs` list of its chapter.toml.
///
/// | need             | met when                                                                  |
/// |------------------|---------------------------------------------------------------------------|
/// | `root`           | the checks run with euid 0 (see `SUDO_TEST`)                              |
/// | `root-or-userns` | root, or unprivileged user namespaces really work                         |
/// | `userns`         | unprivileged user namespaces really work (tested as uid 65534 when root)  |
/// | `busybox`        | a statically linked busybox is on PATH (or /bin, /usr/bin)                |
/// | `cgroups`        | root, and the cpu, memory and pids controllers are mounted (v1, v2, hybrid)|
/// | `overlayfs`      | overlay is in /proc/filesystems or loadable, and a test mount worked       |
/// | `pivot_root`     | pivot_root into a bind-mounted scratch dir worked in a forked child       |
/// | `podman`, `runc`, `skopeo`, `umoci`, `etcd` | the program is on PATH                          |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Need {
    Root,
    RootOrUserns,
    Userns,
    Busybox,
    Cgroups,
    Overlayfs,
    PivotRoot,
    Podman,
    Runc,
    Skopeo,
    Umoci,
    Etcd,
}

impl Need {
    pub const ALL: [Need; 12] = [
        Need::Root,
        Need::RootOrUserns,
        Need::Userns,
        Need::Busybox,
        Need::Cgroups,
        Need::Overlayfs,
        Need::PivotRoot,
        Need::Podman,
        Need::Runc,
        Need::Skopeo,
        Need::Umoci,
        Need::Etcd,
    ];

    /// The spelling in chapter.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Root => "root",
            Need::RootOrUserns => "root-or-userns",
            Need::Userns => "userns",
            Need::Busybox => "busybox",
            Need::Cgroups => "cgroups",
            Need::Overlayfs => "overlayfs",
            Need::PivotRoot => "pivot_root",
            Need::Podman => "podman",
            Need::Runc => "runc",
            Need::Skopeo => "skopeo",
            Need::Umoci => "umoci",
            Need::Etcd => "etcd",
        }
    }

    /// The need spelled `name` in chapter.toml, if it is one.
    pub fn parse(name: &str) -> Option<Need> {
        Need::ALL.into_iter().find(|n| n.as_str() == name)
    }
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Works, or only matters for some chapters, but worth knowing.
    Warn,
    /// Absent or not working.
    Missing,
    /// Absent, and only a chapter that is still being written will need it.
    Later,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Missing => "missing",
            Status::Later => "later",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Status::Ok => "\x1b[32m",
            Status::Warn => "\x1b[33m",
            Status::Missing => "\x1b[31m",
            Status::Later => "\x1b[2m",
        }
    }
}

/// One line of the doctor's findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable name: `kernel`, `root`, `userns`, `namespace.uts` …, `cgroups`, `overlayfs`,
    /// `pivot_root`, `busybox`, `disk`, `podman`, `runc`, `skopeo`, `umoci`, `etcd`.
    pub name: String,
    pub status: Status,
    /// What was seen.
    pub found: String,
    /// One line saying what to do; empty when ok.
    pub fix: String,
}

impl Check {
    fn new(name: &str, status: Status, found: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { name: name.to_owned(), status, found: found.into(), fix: fix.into() }
    }
}

/// Whether a need is met here, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeedStatus {
    pub need: String,
    pub met: bool,
    /// Why not, in one line with what to do; empty when met.
    pub reason: String,
}

/// A chapter need that is not met here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    pub need: String,
    pub reason: String,
}

/// A chapter and what keeps it from running here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChapterStatus {
    pub number: u32,
    pub title: String,
    pub needs: Vec<String>,
    /// Empty when the chapter can run here.
    pub blocked: Vec<Blocker>,
}

/// The headline facts, for scripts that read `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// Kernel release, e.g. `6.18.44-fc-v595`.
    pub kernel: String,
    pub root: bool,
    pub cgroup_mode: CgroupMode,
    /// e.g. `hybrid (v1 controllers: …; v2 at /sys/fs/cgroup/unified has no controllers)`.
    pub cgroups: String,
    /// Path of a statically linked busybox, if there is one.
    pub busybox: Option<String>,
    /// Free bytes on the workspace's filesystem.
    pub free_disk_bytes: Option<u64>,
}

/// What `cargo workshop doctor` found; `--json` prints it as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The packages (as the installer names them) that chapters of this workspace need
    /// and this machine lacks, busybox first; installed by `cargo workshop --yes`.
    pub install: Vec<String>,
    pub installer: Installer,
    pub machine: Machine,
    pub checks: Vec<Check>,
    /// Every need a chapter.toml may name, met or not here.
    pub needs: Vec<NeedStatus>,
    pub chapters: Vec<ChapterStatus>,
    /// Mistakes in the workspace itself (unreadable chapters, unknown needs).
    pub defects: Vec<String>,
}

/// One namespace type: listed in /proc/self/ns, and what unshare did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceFacts {
    pub ns: Namespace,
    pub in_proc: bool,
    /// unshare(flag) as the current user; `Err` when the probe itself failed.
    pub direct: Result<Attempt, String>,
    /// unshare(CLONE_NEWUSER | flag), tried when not root and `direct` failed.
    pub in_userns: Option<Result<Attempt, String>>,
}

/// Which package manager the fixes should name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Installer {
    Apt,
    Dnf,
}

impl Installer {
    /// From /etc/os-release text: dnf for Fedora and its relatives, apt-get otherwise.
    pub fn from_os_release(text: &str) -> Self {
        let redhat = text.lines().any(|line| {
            let Some((key, value)) = line.split_once('=') else { return false };
            (key == "ID" || key == "ID_LIKE")
                && value.trim_matches('"').split(' ').any(|id| ["fedora", "rhel", "centos"].contains(&id))
        });
        if redhat {
            Installer::Dnf
        } else {
            Installer::Apt
        }
    }

    fn install(self, debian: &str, fedora: &str) -> String {
        self.line(&[self.package(debian, fedora)])
    }

    /// The package's name for this installer.
    fn package<'a>(self, debian: &'a str, fedora: &'a str) -> &'a str {
        match self {
            Installer::Apt => debian,
            Installer::Dnf => fedora,
        }
    }

    /// The one line that installs `packages`.
    pub fn line(self, packages: &[&str]) -> String {
        match self {
            Installer::Apt => format!("sudo apt-get install {}", packages.join(" ")),
            Installer::Dnf => format!("sudo dnf install {}", packages.join(" ")),
        }
    }
}

/// Everything the probes found, gathered once; [`Report::assemble`] judges it. Probe
/// failures (not findings: a refused syscall is a finding) are kept as their message.
#[derive(Debug, Clone)]
pub struct Facts {
    pub kernel: Result<Kernel, String>,
    pub euid: u32,
    pub userns_sysctls: UsernsSysctls,
    pub userns: Result<UsernsVerdict, String>,
    pub namespaces: Vec<NamespaceFacts>,
    pub cgroups: Result<Cgroups, String>,
    /// overlay in /proc/filesystems.
    pub overlay_listed: bool,
    /// The overlay module under /lib/modules, if loadable.
    pub overlay_module: Option<String>,
    pub overlay_mount: Result<Attempt, String>,
    pub pivot_root: Result<Attempt, String>,
    pub busybox: Result<Option<Busybox>, String>,
    pub free_disk: Result<u64, String>,
    /// podman, runc, skopeo, umoci, etcd in that order, each found or not.
    pub tools: Vec<(String, Option<Tool>)>,
    pub installer: Installer,
}

/// The interop tools, the chapter that first uses each, and their packages (Debian, Fedora).
const TOOLS: [(&str, u32, &str, &str); 5] = [
    ("podman", 6, "podman", "podman"),
    ("runc", 6, "runc", "runc"),
    ("umoci", 8, "umoci", "umoci"),
    ("skopeo", 10, "skopeo", "skopeo"),
    ("etcd", 12, "etcd-server", "etcd"),
];

impl Facts {
    /// Runs every probe on this machine; the disk check looks at `workspace_root`.
    pub fn gather(workspace_root: &Path) -> Self {
        let kernel = probe::kernel().map_err(|e| e.to_string());
        let root = probe::is_root();
        let proc_ns = Path::new("/proc/self/ns");
        let namespaces = Namespace::ALL
            .into_iter()
            .map(|ns| {
                let direct = probe::try_unshare(ns).map_err(|e| e.to_string());
                let in_userns = (!root && !matches!(direct, Ok(Attempt::Worked)) && ns != Namespace::User)
                    .then(|| probe::try_unshare_in_userns(ns).map_err(|e| e.to_string()));
                NamespaceFacts { ns, in_proc: ns.in_proc(proc_ns), direct, in_userns }
            })
            .collect();
        let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
        let release = kernel.as_ref().map(|k| k.release.clone()).unwrap_or_default();
        Self {
            euid: probe::euid(),
            userns_sysctls: UsernsSysctls::here(),
            userns: probe::userns_unprivileged().map_err(|e| e.to_string()),
            namespaces,
            cgroups: Cgroups::here().map_err(|e| e.to_string()),
            overlay_listed: probe::filesystem_listed(&filesystems, "overlay"),
            overlay_module: probe::overlay_module(Path::new("/lib/modules"), &release)
                .map(|p| p.display().to_string()),
            overlay_mount: probe::try_overlay_mount().map_err(|e| e.to_string()),
            pivot_root: probe::try_pivot_root().map_err(|e| e.to_string()),
            busybox: probe::busybox().map_err(|e| e.to_string()),
            free_disk: probe::free_bytes(workspace_root).map_err(|e| e.to_string()),
            tools: TOOLS.iter().map(|(name, ..)| (name.to_string(), probe::tool(name))).collect(),
            installer: Installer::from_os_release(
                &std::fs::read_to_string("/etc/os-release").unwrap_or_default(),
            ),
            kernel,
        }
    }

    fn root(&self) -> bool {
        self.euid == 0
    }
}

/// Probes this machine and judges every chapter of `ws` against it.
pub fn diagnose(ws: &Workspace) -> Report {
    Report::assemble(&Facts::gather(&ws.root), ws.chapters())
}

impl Report {
    /// Judges `facts` and the chapters (or the error reading them).
    pub fn assemble(facts: &Facts, chapters: Result<Vec<Chapter>, ChapterError>) -> Self {
        // Chapters are written in order: a tool first needed by a later chapter than the
        // last one here is for a chapter still being written.
        let written = chapters.as_ref().map_or(0, |c| c.iter().map(|c| c.number).max().unwrap_or(0));
        let checks = checks(facts, written);
        let mut install = Vec::new();
        if checks.iter().any(|c| c.name == "busybox" && c.status != Status::Ok) {
            install.push(facts.installer.package("busybox-static", "busybox").to_owned());
        }
        for (name, chapter, debian, fedora) in TOOLS {
            if chapter <= written && checks.iter().any(|c| c.name == name && c.status != Status::Ok) {
                install.push(facts.installer.package(debian, fedora).to_owned());
            }
        }
        let needs: Vec<NeedStatus> = Need::ALL
            .into_iter()
            .map(|need| {
                let reason = unmet(facts, &checks, need).unwrap_or_default();
                NeedStatus { need: need.as_str().to_owned(), met: reason.is_empty(), reason }
            })
            .collect();
        let mut defects = Vec::new();
        let chapters = match chapters {
            Ok(chapters) => chapters,
            Err(e) => {
                defects.push(format!("cannot read the chapters: {e}"));
                Vec::new()
            }
        };
        let chapters = chapters
            .iter()
            .map(|chapter| {
                let blocked = chapter
                    .meta
                    .needs
                    .iter()
                    .filter_map(|name| {
                        let reason = match Need::parse(name) {
                            Some(need) => needs
                                .iter()
                                .find(|s| s.need == need.as_str())
                                .filter(|s| !s.met)
                                .map(|s| s.reason.replace("chapter-N", &chapter.package()))?,
                            None => {
                                let defect = format!(
                                    "{}: unknown need \"{name}\"; use one of {}",
                                    chapter.dir.join("chapter.toml").display(),
                                    Need::ALL.map(Need::as_str).join(", ")
                                );
                                defects.push(defect.clone());
                                defect
                            }
                        };
                        Some(Blocker { need: name.clone(), reason })
                    })
                    .collect();
                ChapterStatus {
                    number: chapter.number,
                    title: chapter.meta.title.clone(),
                    needs: chapter.meta.needs.clone(),
                    blocked,
                }
            })
            .collect();
        let cgroups = facts.cgroups.as_ref().ok();
        let machine = Machine {
            kernel: facts.kernel.as_ref().map(|k| k.release.clone()).unwrap_or_else(|e| e.clone()),
            root: facts.root(),
            cgroup_mode: cgroups.map_or(CgroupMode::None, |c| c.mode),
            cgroups: match &facts.cgroups {
                Ok(c) => c.describe(),
                Err(e) => e.clone(),
            },
            busybox: match &facts.busybox {
                Ok(Some(b)) if b.is_static() => Some(b.path.display().to_string()),
                _ => None,
            },
            free_disk_bytes: facts.free_disk.as_ref().ok().copied(),
        };
        Self { install, installer: facts.installer, machine, checks, needs, chapters, defects }
    }

    /// Chapters that cannot run here, one entry per unmet need: (chapter, why and what to do).
    pub fn blocking(&self) -> Vec<(u32, String)> {
        self.chapters
            .iter()
            .flat_map(|c| c.blocked.iter().map(|b| (c.number, format!("needs {}: {}", b.need, b.reason))))
            .collect()
    }

    /// One line, e.g. `machine: Linux 6.18, root, cgroups hybrid (v1 controllers), busybox
    /// ok — all 1 chapters can run`.
    pub fn summary_line(&self) -> String {
        let kernel = {
            let k = Kernel::parse(&self.machine.kernel);
            format!("Linux {}.{}", k.major, k.minor)
        };
        let who = if self.machine.root { "root" } else { "not root" };
        let check = |name: &str| self.checks.iter().find(|c| c.name == name);
        let cgroups = match self.machine.cgroup_mode {
            CgroupMode::V1 => "v1 (v1 controllers)".to_owned(),
            CgroupMode::Hybrid => "hybrid (v1 controllers)".to_owned(),
            CgroupMode::V2 if check("cgroups").is_some_and(|c| c.status == Status::Ok) => {
                "v2 (usable)".to_owned()
            }
            CgroupMode::V2 => "v2 (not usable by this user)".to_owned(),
            CgroupMode::None => "none mounted".to_owned(),
        };
        let busybox = match check("busybox").map(|c| c.status) {
            Some(Status::Ok) => "ok",
            Some(Status::Warn) => "not static",
            _ => "missing",
        };
        let blocked: Vec<String> =
            self.chapters.iter().filter(|c| !c.blocked.is_empty()).map(|c| c.number.to_string()).collect();
        let total = self.chapters.len();
        let verdict = if !self.defects.is_empty() && total == 0 {
            "the chapters could not be read (see defects)".to_owned()
        } else if blocked.is_empty() {
            let last = self.chapters.iter().map(|c| c.number).max().unwrap_or(0);
            format!("all {total} chapters can run (the chapters after {last} are being written)")
        } else {
            format!("{} of {total} chapters cannot run here: {}", blocked.len(), blocked.join(", "))
        };
        format!("machine: {kernel}, {who}, cgroups {cgroups}, busybox {busybox} — {verdict}")
    }

    /// The human report: one line per check (status, name, what was found), a `fix:` line
    /// under anything not ok, the chapters, defects, and the summary line.
    pub fn render(&self, color: bool) -> String {
        let paint = |status: Status, text: &str| {
            if color {
                format!("{}{text}\x1b[0m", status.color())
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        for check in &self.checks {
            let label = paint(check.status, &format!("{:<8}", check.status.label()));
            let _ = writeln!(out, "{label} {:<17} {}", check.name, check.found);
            if check.status != Status::Ok && !check.fix.is_empty() {
                let _ = writeln!(out, "{:<8} {:<17} fix: {}", "", "", check.fix);
            }
        }
        if !self.chapters.is_empty() {
            out.push('\n');
        }
        for chapter in &self.chapters {
            if chapter.blocked.is_empty() {
                let needs = if chapter.needs.is_empty() {
                    "needs nothing special".to_owned()
                } else {
                    format!("needs {}", chapter.needs.join(", "))
                };
                let _ = writeln!(
                    out,
                    "{} chapter {:<2}  {} ({needs})",
                    paint(Status::Ok, "ready   "),
                    chapter.number,
                    chapter.title
                );
            } else {
                let _ = writeln!(
                    out,
                    "{} chapter {:<2}  {}",
                    paint(Status::Missing, "blocked "),
                    chapter.number,
                    chapter.title
                );
                for b in &chapter.blocked {
                    let _ = writeln!(out, "{:<8} needs {}: {}", "", b.need, b.reason);
                }
            }
        }
        for defect in &self.defects {
            let _ = writeln!(out, "{} {defect}", paint(Status::Missing, "defect  "));
        }
        out.push('\n');
        out.push_str(&self.summary_line());
        out.push('\n');
        if let Some(line) = self.install_line() {
            let _ = writeln!(
                out,
                "\nWhat the chapters here need and this machine lacks, in one line:\n    {line}"
            );
        }
        out
    }

    /// The line that installs [`Report::install`], if anything is missing.
    pub fn install_line(&self) -> Option<String> {
        let packages: Vec<&str> = self.install.iter().map(String::as_str).collect();
        (!packages.is_empty()).then(|| self.installer.line(&packages))
    }
}

fn fail(result: &Result<Attempt, String>) -> String {
    match result {
        Ok(attempt) => attempt.to_string(),
        Err(e) => format!("the probe failed: {e}"),
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Every check, in the order the report prints them.
fn checks(facts: &Facts, written: u32) -> Vec<Check> {
    let root = facts.root();
    let mut checks = Vec::new();

    checks.push(match &facts.kernel {
        Ok(k) if k.at_least(5, 11) => Check::new("kernel", Status::Ok, format!("Linux {}", k.release), ""),
        Ok(k) => Check::new(
            "kernel",
            Status::Warn,
            format!("Linux {} (rootless overlayfs and some cgroup v2 files need 5.11+)", k.release),
            "use a distribution released since 2021 (Ubuntu 22.04, Debian 12, Fedora 36) or run the chapters with sudo",
        ),
        Err(e) => Check::new("kernel", Status::Missing, e.clone(), "run the workshop on Linux (macOS/Windows: a Linux VM, see the setup appendix)"),
    });

    checks.push(if root {
        Check::new("root", Status::Ok, "running as root (euid 0)", "")
    } else {
        Check::new(
            "root",
            Status::Warn,
            format!("not root (euid {}): chapters that need root will be listed below", facts.euid),
            format!("run those chapters' checks as root: {SUDO_TEST}"),
        )
    });

    checks.push(userns_check(facts));

    for nsf in &facts.namespaces {
        checks.push(namespace_check(nsf, root));
    }

    checks.push(cgroups_check(facts));

    checks.push(overlay_check(facts));

    let how = if root { "in a private mount namespace" } else { "in a user + mount namespace" };
    checks.push(match &facts.pivot_root {
        Ok(Attempt::Worked) => Check::new("pivot_root", Status::Ok, format!("pivot_root into a bind-mounted dir worked {how}"), ""),
        other => Check::new(
            "pivot_root",
            Status::Missing,
            format!("pivot_root {how}: {}", fail(other)),
            if root {
                "the root filesystem may be a ramfs/initramfs (pivot_root needs a real one): run the workshop in a VM or container with a disk-backed root"
            } else {
                "run the chapter-3 checks with sudo -E, or allow unprivileged user namespaces (see userns above)"
            },
        ),
    });

    let busybox_fix = facts.installer.install("busybox-static", "busybox");
    checks.push(match &facts.busybox {
        Ok(Some(b)) if b.is_static() => Check::new(
            "busybox",
            Status::Ok,
            format!("{}, static ({})", b.path.display(), b.version.as_deref().unwrap_or("version unknown")),
            "",
        ),
        Ok(Some(Busybox { path, linkage: Linkage::Dynamic { interpreter }, .. })) => Check::new(
            "busybox",
            Status::Missing,
            format!(
                "{} is dynamically linked (needs {interpreter}), so it cannot run inside a bare rootfs",
                path.display()
            ),
            busybox_fix,
        ),
        Ok(_) => Check::new("busybox", Status::Missing, "no busybox on PATH, /bin or /usr/bin", busybox_fix),
        Err(e) => Check::new("busybox", Status::Missing, e.clone(), busybox_fix),
    });

    checks.push(match &facts.free_disk {
        Ok(bytes) if *bytes >= MIN_FREE_BYTES => {
            Check::new("disk", Status::Ok, format!("{} free for the workspace", gib(*bytes)), "")
        }
        Ok(bytes) => Check::new(
            "disk",
            Status::Warn,
            format!("{} free for the workspace; a full build takes a few GiB", gib(*bytes)),
            "free at least 5 GiB (cargo clean in other projects helps), or move the workspace",
        ),
        Err(e) => Check::new(
            "disk",
            Status::Warn,
            e.clone(),
            "check that the workspace folder exists and is readable",
        ),
    });

    for (name, found) in &facts.tools {
        let (_, chapter, debian, fedora) =
            TOOLS.iter().find(|t| t.0 == name).copied().unwrap_or((name, 0, name, name));
        checks.push(match found {
            Some(tool) => Check::new(
                name,
                Status::Ok,
                format!("{} ({})", tool.path.display(), tool.version.as_deref().unwrap_or("version unknown")),
                "",
            ),
            None if chapter > written => Check::new(
                name,
                Status::Later,
                format!("not on PATH; needed from chapter {chapter}, which is being written"),
                "",
            ),
            None => Check::new(
                name,
                Status::Warn,
                format!("not on PATH; needed from chapter {chapter}"),
                facts.installer.install(debian, fedora),
            ),
        });
    }
    checks
}

fn userns_check(facts: &Facts) -> Check {
    let root = facts.root();
    let policy = facts.userns_sysctls.policy();
    let tested_as = if root { format!("uid {}", probe::NOBODY) } else { format!("uid {}", facts.euid) };
    // Root needs no unprivileged user namespaces, so for root their absence only warns.
    let broken = if root { Status::Warn } else { Status::Missing };
    let policy_note = match policy {
        UsernsPolicy::Allowed => String::new(),
        UsernsPolicy::DisabledByUnprivilegedUsernsClone => "; kernel.unprivileged_userns_clone = 0".into(),
        UsernsPolicy::MaxUserNamespacesZero => "; user.max_user_namespaces = 0".into(),
        UsernsPolicy::AppArmorRestricted => "; kernel.apparmor_restrict_unprivileged_userns = 1".into(),
    };
    let fix = if policy == UsernsPolicy::Allowed {
        "run the chapters with sudo, or ask your administrator to allow unprivileged user namespaces"
    } else {
        policy.fix()
    };
    match &facts.userns {
        Ok(UsernsVerdict::Works) => Check::new(
            "userns",
            Status::Ok,
            format!("unprivileged user namespaces work (tested as {tested_as}: created, mapped, CAP_SYS_ADMIN inside)"),
            "",
        ),
        Ok(UsernsVerdict::Powerless(a)) => Check::new(
            "userns",
            broken,
            format!("created but powerless when tested as {tested_as}: {a}{policy_note}"),
            fix,
        ),
        Ok(UsernsVerdict::Refused(a)) => Check::new(
            "userns",
            broken,
            format!("refused when tested as {tested_as}: {a}{policy_note}"),
            fix,
        ),
        Ok(UsernsVerdict::Untested(a)) => Check::new(
            "userns",
            Status::Warn,
            format!("could not become {tested_as} to test: {a}{policy_note}"),
            if policy == UsernsPolicy::Allowed { "" } else { policy.fix() },
        ),
        Err(e) => Check::new("userns", Status::Warn, format!("the probe failed: {e}{policy_note}"), policy.fix()),
    }
}

fn namespace_check(nsf: &NamespaceFacts, root: bool) -> Check {
    let name = format!("namespace.{}", nsf.ns.name());
    if !nsf.in_proc {
        let status = if nsf.ns == Namespace::Time { Status::Warn } else { Status::Missing };
        return Check::new(
            &name,
            status,
            format!("no /proc/self/ns/{}: this kernel has no {} namespaces", nsf.ns.name(), nsf.ns.name()),
            format!("use a kernel {} or newer built with {} namespaces", nsf.ns.since(), nsf.ns.name()),
        );
    }
    let who = if root { "as root" } else { "as this user" };
    match (&nsf.direct, &nsf.in_userns) {
        (Ok(Attempt::Worked), _) => Check::new(&name, Status::Ok, format!("unshare works {who}"), ""),
        (_, Some(Ok(Attempt::Worked))) => {
            Check::new(&name, Status::Ok, "unshare works inside a new user namespace (rootless)", "")
        }
        (direct, in_userns) => {
            let mut found = format!("unshare {who}: {}", fail(direct));
            if let Some(r) = in_userns {
                let _ = write!(found, "; inside a user namespace: {}", fail(r));
            }
            Check::new(
                &name,
                Status::Missing,
                found,
                if root {
                    "a container or seccomp profile forbids it: run the workshop in a VM or a privileged container"
                } else {
                    "run the chapters with sudo -E, or allow unprivileged user namespaces (see userns above)"
                },
            )
        }
    }
}

fn cgroups_check(facts: &Facts) -> Check {
    let cgroups = match &facts.cgroups {
        Ok(c) => c,
        Err(e) => {
            return Check::new(
                "cgroups",
                Status::Missing,
                e.clone(),
                "mount /proc and /sys (a container needs them) and retry",
            )
        }
    };
    let root = facts.root();
    let described = cgroups.describe();
    if cgroups.mode == CgroupMode::None {
        return Check::new(
            "cgroups",
            Status::Missing,
            described,
            "mount cgroup2 on /sys/fs/cgroup (a container needs --cgroupns=private or a bind mount)",
        );
    }
    let for_root = cgroups.controllers_for_root();
    let lacking = Cgroups::lacking(&for_root, WORKSHOP_CONTROLLERS);
    if !lacking.is_empty() {
        return Check::new(
            "cgroups",
            Status::Missing,
            format!("{described}; no {} controller", lacking.join(", ")),
            "enable them on the kernel command line (e.g. cgroup_enable=memory on Raspberry Pi OS) and reboot",
        );
    }
    let writable = cgroups.v1.iter().any(|h| h.writable) || cgroups.v2.as_ref().is_some_and(|t| t.delegated);
    if root && !writable {
        return Check::new(
            "cgroups",
            Status::Missing,
            format!("{described}; read-only here"),
            "the cgroup filesystem is mounted read-only (a container?): run the workshop in a VM or a privileged container",
        );
    }
    if root {
        return Check::new("cgroups", Status::Ok, described, "");
    }
    let for_user = cgroups.controllers_for_user();
    if Cgroups::lacking(&for_user, WORKSHOP_CONTROLLERS).is_empty() {
        Check::new("cgroups", Status::Ok, format!("{described}; own cgroup delegated to this user"), "")
    } else {
        Check::new(
            "cgroups",
            Status::Warn,
            format!("{described}; this user's cgroup is not delegated, so cgroup chapters need root"),
            "run them with sudo -E, or in a delegated scope: systemd-run --user --scope -p Delegate=yes -- cargo test -p chapter-4",
        )
    }
}

fn overlay_check(facts: &Facts) -> Check {
    let how = if facts.root() { "in a private mount namespace" } else { "in a user + mount namespace" };
    let available = if facts.overlay_listed {
        "listed in /proc/filesystems".to_owned()
    } else if let Some(module) = &facts.overlay_module {
        format!("not loaded, module at {module}")
    } else {
        String::new()
    };
    match (&facts.overlay_mount, available.is_empty()) {
        (Ok(Attempt::Worked), _) => Check::new(
            "overlayfs",
            Status::Ok,
            format!("{}; a test mount worked {how}", if available.is_empty() { "loaded on demand" } else { &available }),
            "",
        ),
        (other, true) => Check::new(
            "overlayfs",
            Status::Missing,
            format!("not in /proc/filesystems and no overlay module under /lib/modules; a test mount {how}: {}", fail(other)),
            "install your kernel's modules package (e.g. linux-modules-extra) or use a kernel with CONFIG_OVERLAY_FS",
        ),
        (other, false) if !facts.overlay_listed => Check::new(
            "overlayfs",
            Status::Warn,
            format!("{available}; a test mount {how}: {}", fail(other)),
            "sudo modprobe overlay",
        ),
        (other, false) => Check::new(
            "overlayfs",
            if facts.root() { Status::Missing } else { Status::Warn },
            format!("{available}, but a test mount {how}: {}", fail(other)),
            if facts.root() {
                "a container or security module forbids mounts: run the workshop in a VM or a privileged container"
            } else {
                "run the overlay chapters with sudo -E (rootless overlay needs Linux 5.11+ and user namespaces)"
            },
        ),
    }
}

/// Why `need` is not met here, with what to do; `None` when it is met.
fn unmet(facts: &Facts, checks: &[Check], need: Need) -> Option<String> {
    let root = facts.root();
    let userns_works = matches!(facts.userns, Ok(UsernsVerdict::Works));
    let check = |name: &str| checks.iter().find(|c| c.name == name);
    let because = |name: &str| -> String {
        match check(name) {
            Some(c) if c.fix.is_empty() => c.found.clone(),
            Some(c) => format!("{}; fix: {}", c.found, c.fix),
            None => format!("no {name} check"),
        }
    };
    let not_root = format!("not root; run this chapter's checks as root: {SUDO_TEST}");
    match need {
        Need::Root => (!root).then(|| not_root.clone()),
        Need::RootOrUserns => (!root && !userns_works).then(|| {
            format!("not root, and unprivileged user namespaces do not work: {}", because("userns"))
        }),
        Need::Userns => (!userns_works).then(|| because("userns")),
        Need::Busybox => (check("busybox").map(|c| c.status) != Some(Status::Ok)).then(|| because("busybox")),
        Need::Cgroups => {
            if !root {
                Some(not_root.clone())
            } else {
                (check("cgroups").map(|c| c.status) != Some(Status::Ok)).then(|| because("cgroups"))
            }
        }
        Need::Overlayfs => {
            (check("overlayfs").map(|c| c.status) != Some(Status::Ok)).then(|| because("overlayfs"))
        }
        Need::PivotRoot => {
            (check("pivot_root").map(|c| c.status) != Some(Status::Ok)).then(|| because("pivot_root"))
        }
        Need::Podman | Need::Runc | Need::Skopeo | Need::Umoci | Need::Etcd => {
            (check(need.as_str()).map(|c| c.status) != Some(Status::Ok)).then(|| because(need.as_str()))
        }
    }
}
