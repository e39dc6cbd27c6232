//! What tests/podman.rs and tests/podman_cgroups.rs share beyond support/podman.rs
//! (tests/podman_exec.rs needs neither): a payload run to its end in the foreground,
//! and a running container's cgroup directory. A binary that includes it includes
//! support/podman.rs as `mod support` too.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{inspect, Fixture};

impl Fixture {
    /// `podman run --rm <flags> <image> <cmd>`, in the foreground; the container's id
    /// is kept (through --cidfile) for the leftover checks.
    pub fn run_rm(&mut self, flags: &[&str], cmd: &[&str]) -> Output {
        let name = self.container(&format!("rm{}", self.containers.len()));
        let cidfile = self.scratch.path().join(&name);
        let output = self
            .podman_run()
            .args(["--rm", "--name", &name, "--cidfile"])
            .arg(&cidfile)
            .args(flags)
            .arg(&self.name)
            .args(cmd)
            .output()
            .expect("running podman run");
        if let Ok(id) = fs::read_to_string(&cidfile) {
            self.ids.push(id.trim().to_string());
        }
        output
    }
}

/// The directory of the running container `name` in cgroup v1 hierarchy `controller`,
/// as the kernel reports it in /proc/<pid>/cgroup.
pub fn cgroup_dir(name: &str, controller: &str) -> PathBuf {
    let pid = inspect(name, "{{.State.Pid}}");
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let path = cgroups
        .lines()
        .find_map(|l| {
            let mut fields = l.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            controllers.split(',').any(|c| c == controller).then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("pid {pid} of {name} is in no {controller} cgroup:\n{cgroups}"));
    Path::new("/sys/fs/cgroup").join(controller).join(path.trim_start_matches('/'))
}
