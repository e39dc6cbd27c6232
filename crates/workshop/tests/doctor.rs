//! Black-box tests of `cargo workshop doctor`: the report on this machine (root, hybrid
//! cgroups, busybox-static), the shape of its `--json`, and the advice a learner on
//! Ubuntu 24.04 gets, from fabricated facts and a fixture workspace.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use bigbang_testkit::probe::{
    Attempt, Busybox, CgroupMode, Cgroups, Kernel, Linkage, Namespace, Tool, UsernsSysctls, UsernsVerdict,
    V2Tree,
};
use bigbang_workshop::chapter::Workspace;
use bigbang_workshop::doctor::{self, Facts, Installer, NamespaceFacts, Need, Report, Status};
use nix::errno::Errno;
use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Keeps the keys and turns every value into its type; an array keeps its first element's shape.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

/// On this machine (root, hybrid cgroups, busybox-static) every check that matters is ok
/// and every chapter can run.
#[test]
fn this_machine_via_the_library() {
    let report = doctor::diagnose(&Workspace::at(workspace_root()));
    assert!(report.machine.root);
    assert_eq!(report.machine.cgroup_mode, CgroupMode::Hybrid);
    assert!(report.machine.cgroups.starts_with("hybrid (v1 controllers: "), "{}", report.machine.cgroups);
    assert!(report.machine.busybox.is_some());
    for name in
        ["root", "userns", "cgroups", "overlayfs", "pivot_root", "busybox", "namespace.user", "namespace.mnt"]
    {
        let check = report.checks.iter().find(|c| c.name == name).unwrap();
        assert_eq!(check.status, Status::Ok, "{check:?}");
    }
    assert!(report.defects.is_empty(), "{:?}", report.defects);
    assert_eq!(report.blocking(), Vec::<(u32, String)>::new());
    assert!(report.summary_line().contains(", root, cgroups hybrid (v1 controllers), busybox ok — all "));
}

/// `cargo-workshop doctor --json` exits 0 here and reports hybrid cgroups, root and busybox.
#[test]
fn this_machine_via_the_binary() {
    let output = Command::cargo_bin("cargo-workshop")
        .unwrap()
        .args(["doctor", "--json"])
        .current_dir(workspace_root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["machine"]["cgroup_mode"], "hybrid");
    assert_eq!(json["machine"]["root"], true);
    assert!(json["machine"]["busybox"].is_string());
    assert!(json["chapters"].as_array().is_some_and(|c| !c.is_empty()));
}

/// The `--json` keys, check names and need names are stable: scripts depend on them.
#[test]
fn json_shape() {
    let report = doctor::diagnose(&Workspace::at(workspace_root()));
    let json = serde_json::to_value(&report).unwrap();
    insta::assert_json_snapshot!("json_shape", shape(&json));
    let names = |list: &str, key: &str| -> Vec<String> {
        json[list].as_array().unwrap().iter().map(|c| c[key].as_str().unwrap().to_owned()).collect()
    };
    insta::assert_json_snapshot!("check_names", names("checks", "name"));
    insta::assert_json_snapshot!("need_names", names("needs", "need"));
}

/// Every need string parses back to itself; anything else is not a need.
#[test]
fn need_names_round_trip() {
    for need in Need::ALL {
        assert_eq!(Need::parse(need.as_str()), Some(need));
    }
    assert_eq!(Need::parse("kvm"), None);
    assert_eq!(Need::parse("Root"), None);
}

/// /etc/os-release picks apt-get or dnf for the fixes.
#[test]
fn installer_from_os_release() {
    assert_eq!(Installer::from_os_release("ID=ubuntu\nID_LIKE=debian\n"), Installer::Apt);
    assert_eq!(Installer::from_os_release("ID=fedora\nVERSION_ID=40\n"), Installer::Dnf);
    assert_eq!(Installer::from_os_release("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n"), Installer::Dnf);
    assert_eq!(Installer::from_os_release(""), Installer::Apt);
}

/// A fixture workspace with chapters needing root, userns, busybox, cgroups, overlayfs,
/// podman, and one unknown need.
fn fixture_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let chapters = [
        ("01-big-bang", "It all started with the big bang", r#"["root-or-userns", "busybox"]"#),
        ("02-namespaces", "Namespaces", r#"["root-or-userns"]"#),
        ("03-root-filesystems", "Root filesystems", r#"["root", "overlayfs", "pivot_root"]"#),
        ("04-cgroups", "Cgroups v1 and v2", r#"["cgroups"]"#),
        ("06-oci-runtime", "The OCI runtime", r#"["root", "podman", "runc"]"#),
        ("07-networking", "Networking", r#"["kvm"]"#),
        ("12-api-server", "From Borg to Kubernetes", "[]"),
    ];
    for (folder, title, needs) in chapters {
        let path = dir.path().join("chapters").join(folder).join("chapter.toml");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let id = &folder[3..];
        fs::write(&path, format!("id = \"{id}\"\ntitle = \"{title}\"\nbuilds = \"x\"\nneeds = {needs}\n"))
            .unwrap();
    }
    dir
}

/// What a non-root learner on Ubuntu 24.04 sees: AppArmor-restricted user namespaces,
/// pure v2 cgroups without delegation, no busybox, little disk, podman but nothing else.
fn ubuntu_2404_learner() -> Facts {
    let eperm = |step| Attempt::Failed { step, errno: Errno::EPERM };
    let namespaces = Namespace::ALL
        .into_iter()
        .map(|ns| NamespaceFacts {
            ns,
            in_proc: true,
            direct: Ok(if ns == Namespace::User { Attempt::Worked } else { eperm("unshare") }),
            in_userns: (ns != Namespace::User).then_some(Ok(eperm("unshare(CLONE_NEWUSER | flag)"))),
        })
        .collect();
    Facts {
        kernel: Ok(Kernel::parse("6.8.0-31-generic")),
        euid: 1000,
        userns_sysctls: UsernsSysctls {
            unprivileged_userns_clone: Some(1),
            max_user_namespaces: Some(126277),
            apparmor_restrict_unprivileged_userns: Some(1),
        },
        userns: Ok(UsernsVerdict::Powerless(eperm("unshare(CLONE_NEWUTS) inside the user namespace"))),
        namespaces,
        cgroups: Ok(Cgroups {
            mode: CgroupMode::V2,
            v1: Vec::new(),
            v2: Some(V2Tree {
                mount_point: "/sys/fs/cgroup".into(),
                root_controllers: "cpuset cpu io memory hugetlb pids rdma misc"
                    .split(' ')
                    .map(String::from)
                    .collect(),
                own_cgroup: Some("/user.slice/user-1000.slice/session-2.scope".into()),
                own_controllers: vec!["memory".into(), "pids".into()],
                delegated: false,
            }),
        }),
        overlay_listed: true,
        overlay_module: None,
        overlay_mount: Ok(eperm("unshare(CLONE_NEWNS)")),
        pivot_root: Ok(eperm("unshare(CLONE_NEWNS)")),
        busybox: Ok(None),
        free_disk: Ok(3 << 30),
        tools: vec![
            (
                "podman".into(),
                Some(Tool { path: "/usr/bin/podman".into(), version: Some("podman version 4.9.3".into()) }),
            ),
            ("runc".into(), None),
            ("umoci".into(), None),
            ("skopeo".into(), None),
            ("etcd".into(), None),
        ],
        installer: Installer::Apt,
    }
}

fn assemble(facts: &Facts) -> (Report, tempfile::TempDir) {
    let ws_dir = fixture_workspace();
    let report = Report::assemble(facts, Workspace::at(ws_dir.path()).chapters());
    (report, ws_dir)
}

/// The Ubuntu 24.04 learner's report names the AppArmor sysctl, the delegated-scope
/// command and the busybox package, and lists the chapters that cannot run.
#[test]
fn ubuntu_2404_learner_report() {
    let (report, ws_dir) = assemble(&ubuntu_2404_learner());
    let text = report.render(false).replace(&ws_dir.path().display().to_string(), "<workspace>");
    insta::assert_snapshot!("ubuntu_2404_learner", text);
}

/// blocking() lists each unmet need of each chapter, including the unknown one as a defect.
#[test]
fn ubuntu_2404_learner_blocking() {
    let (report, ws_dir) = assemble(&ubuntu_2404_learner());
    let blocked: Vec<(u32, String)> = report.blocking();
    let numbers: Vec<u32> = blocked.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [1, 1, 2, 3, 3, 3, 4, 6, 6, 7]);
    assert!(blocked[0]
        .1
        .starts_with("needs root-or-userns: not root, and unprivileged user namespaces do not work"));
    assert!(blocked[0].1.contains("sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0"));
    assert_eq!(
        blocked[1].1,
        "needs busybox: no busybox on PATH, /bin or /usr/bin; fix: sudo apt-get install busybox-static"
    );
    let defect = &report.defects[0];
    assert!(
        defect.starts_with(&ws_dir.path().join("chapters/07-networking/chapter.toml").display().to_string())
    );
    assert!(defect.contains("unknown need \"kvm\""));
    assert!(
        report.summary_line().ends_with("— 6 of 7 chapters cannot run here: 1, 2, 3, 4, 6, 7"),
        "{}",
        report.summary_line()
    );
}

/// A root machine with user namespaces off and a dynamic busybox: root-only chapters run,
/// the busybox chapter does not, and the fixes say what to install.
#[test]
fn root_with_dynamic_busybox() {
    let mut facts = ubuntu_2404_learner();
    facts.euid = 0;
    facts.userns_sysctls = UsernsSysctls { unprivileged_userns_clone: Some(0), ..UsernsSysctls::default() };
    facts.userns =
        Ok(UsernsVerdict::Refused(Attempt::Failed { step: "unshare(CLONE_NEWUSER)", errno: Errno::EPERM }));
    facts.namespaces.iter_mut().for_each(|n| {
        n.direct = Ok(Attempt::Worked);
        n.in_userns = None;
    });
    if let Ok(Cgroups { v2: Some(tree), .. }) = &mut facts.cgroups {
        tree.delegated = true; // root may write anywhere in a read-write cgroup tree
    }
    facts.overlay_mount = Ok(Attempt::Worked);
    facts.pivot_root = Ok(Attempt::Worked);
    facts.busybox = Ok(Some(Busybox {
        path: "/usr/bin/busybox".into(),
        linkage: Linkage::Dynamic { interpreter: "/lib64/ld-linux-x86-64.so.2".into() },
        version: None,
    }));
    let (report, _ws) = assemble(&facts);
    let userns = report.checks.iter().find(|c| c.name == "userns").unwrap();
    assert_eq!(userns.status, Status::Warn);
    assert_eq!(userns.fix, "sudo sysctl kernel.unprivileged_userns_clone=1, or run the chapters with sudo");
    let blocked: Vec<(u32, String)> = report.blocking();
    let numbers: Vec<u32> = blocked.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [1, 6, 7]);
    assert!(blocked[0].1.contains("dynamically linked"));
    assert!(report.machine.busybox.is_none());
}

/// A workspace whose chapters cannot be read is a defect, not a crash.
#[test]
fn unreadable_workspace_is_a_defect() {
    let empty = tempfile::tempdir().unwrap();
    let report = Report::assemble(&ubuntu_2404_learner(), Workspace::at(empty.path()).chapters());
    assert!(report.chapters.is_empty());
    assert!(report.defects[0].starts_with("cannot read the chapters: cannot read "));
    assert!(report.summary_line().ends_with("the chapters could not be read (see defects)"));
}

/// Against this workspace (chapters 1 to 6 written), a learner without busybox, runc and
/// the later chapters' tools is told to install busybox first and runc, in one line; the
/// tools of chapters still being written are named as such and left out of the line.
#[test]
fn the_install_line_names_what_written_chapters_need() {
    let report = Report::assemble(&ubuntu_2404_learner(), Workspace::at(workspace_root()).chapters());
    assert_eq!(report.install, ["busybox-static", "runc"]);
    assert_eq!(report.install_line().as_deref(), Some("sudo apt-get install busybox-static runc"));
    let last = report.chapters.iter().map(|c| c.number).max().unwrap();
    for name in ["umoci", "skopeo", "etcd"] {
        let check = report.checks.iter().find(|c| c.name == name).unwrap();
        assert_eq!(check.status, Status::Later, "{check:?} (chapters here end at {last})");
        assert!(check.found.ends_with("which is being written"), "{check:?}");
        assert!(check.fix.is_empty(), "{check:?}");
    }
    assert!(report.render(false).contains("in one line:\n    sudo apt-get install busybox-static runc\n"));
}
