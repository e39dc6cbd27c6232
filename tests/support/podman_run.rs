//! What tests/podman.rs and tests/podman_cgroups.rs share beyond support/podman.rs
//! (tests/podman_exec.rs needs neither): a payload run to its end in the foreground,
//! and a running container's cgroup directory. A binary that includes it includes
//! support/podman.rs as `mod support` too.

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use bigbang_testkit::cgroups;

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
    cgroups::v1_dir_of(inspect(name, "{{.State.Pid}}"), controller)
}
