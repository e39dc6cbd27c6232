//! An OCI bundle for a test (runtime-spec, bundle.md): a busybox rootfs in a directory
//! of its own and the config.json a runtime's `spec` verb writes, then edited the way
//! runc's documentation says: no terminal, the test's payload, this rootfs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::rootfs::BusyboxRootfs;
use crate::runtime::bang_oci_path;

/// A bundle: a busybox rootfs and a config.json, both removed on drop.
pub struct Bundle {
    dir: tempfile::TempDir,
    rootfs: BusyboxRootfs,
}

impl Bundle {
    /// A bundle from `bang-oci spec` running `args`, without a terminal.
    pub fn new<S: AsRef<str>>(args: &[S]) -> Bundle {
        Bundle::spec_by(&bang_oci_path(), args)
    }

    /// A bundle whose config.json is what `<program> spec` writes (bang-oci, chapter
    /// 6's runtime or runc), with no terminal, `args` and our rootfs.
    pub fn spec_by<S: AsRef<str>>(program: &Path, args: &[S]) -> Bundle {
        let dir = tempfile::Builder::new().prefix("bigbang-bundle-").tempdir().expect("bundle tempdir");
        let rootfs = BusyboxRootfs::new().expect("busybox rootfs (is busybox-static installed?)");
        let output = Command::new(program)
            .args(["spec", "--bundle"])
            .arg(dir.path())
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", program.display()));
        assert!(
            output.status.success(),
            "{} spec failed: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let bundle = Bundle { dir, rootfs };
        bundle.edit(|config| {
            config["process"]["terminal"] = Value::Bool(false);
            config["process"]["args"] = args.iter().map(|a| Value::from(a.as_ref())).collect();
        });
        bundle
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.json")
    }

    /// The rootfs directory on the host (`root.path` points at it).
    pub fn rootfs(&self) -> &Path {
        self.rootfs.path()
    }

    /// A file of the container's root filesystem, seen from the host.
    pub fn file(&self, name: &str) -> PathBuf {
        self.rootfs.path().join(name)
    }

    pub fn config(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(self.config_path()).unwrap()).unwrap()
    }

    /// Changes config.json; `root.path` always names this bundle's rootfs.
    pub fn edit(&self, change: impl FnOnce(&mut Value)) {
        let mut config = self.config();
        config["root"]["path"] = Value::from(self.rootfs.path().to_str().unwrap());
        change(&mut config);
        fs::write(self.config_path(), serde_json::to_string_pretty(&config).unwrap()).unwrap();
    }

    /// Replaces the payload.
    pub fn set_args<S: AsRef<str>>(&self, args: &[S]) {
        self.edit(|c| c["process"]["args"] = args.iter().map(|a| Value::from(a.as_ref())).collect());
    }

    /// Makes the root filesystem writable (runc's default mounts it read-only), for
    /// payloads that leave a file in it for the test to read from the host.
    pub fn writable(&self) -> &Self {
        self.edit(|c| c["root"]["readonly"] = Value::Bool(false));
        self
    }

    /// The paths a leftover of this bundle's containers would mention.
    pub fn paths(&self) -> Vec<PathBuf> {
        vec![self.path().to_path_buf(), self.rootfs().to_path_buf()]
    }
}
