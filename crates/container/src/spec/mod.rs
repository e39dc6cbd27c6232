//! The OCI runtime configuration, a bundle's `config.json` (chapter 6): its types,
//! the defaults `runc spec` writes, the checks a runtime makes before it creates
//! anything, and its mapping onto the pieces chapters 2 to 5 built.
//!
//! A bundle is a directory with a `config.json` and (usually) the root filesystem it
//! names. Read the OCI runtime specification: config.md, config-linux.md, runtime.md
//! and features.md (github.com/opencontainers/runtime-spec), and runc(8) `spec`.
//!
//! # Layout
//! - this file: [`Spec`] and [`Root`], loading and saving, the module's one error type.
//! - `process`: `process` (args, env, cwd, user, capabilities, rlimits).
//! - `linux`: `linux` (namespaces, id maps, resources, devices, seccomp, paths).
//! - `mounts`: how `mounts` entries (chapter 3's [`Mount`]) are written back.
//! - `hooks`: `hooks`.
//! - `validate`: the checks, each naming the JSON path of the field it rejects.
//! - `defaults`: what `runc spec` and `runc spec --rootless` write.
//! - `convert`: config.json → namespaces, rootfs, cgroup and security configurations.
//! - `devices`: the default device rules, and `linux.devices` as binds of host nodes.
//! - `features`: what this runtime implements, as `runc features` reports it.
//!
//! # Types shared with chapters 2 to 5
//! The leaves of config.json were already modelled, under the same JSON names, by
//! the chapters that use them, and are reused here rather than defined twice:
//! [`IdMap`] (`linux.uidMappings`), [`Mount`] (`mounts`), the limits of
//! `linux.resources` (chapter 4's [`Memory`](crate::cgroups::Memory),
//! [`Cpu`](crate::cgroups::Cpu), [`Pids`](crate::cgroups::Pids)), and chapter 5's
//! [`LinuxCapabilities`], [`PosixRlimit`], [`LinuxSeccomp`] and [`User`](crate::security::User).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cgroups::{CgroupError, ValidResources};
use crate::namespaces::NamespaceError;
use crate::rootfs::{Mount, RootfsError};
use crate::security::SecurityError;

pub mod convert;
pub mod defaults;
pub mod devices;
pub mod features;
pub mod hooks;
pub mod linux;
pub mod mounts;
pub mod process;
pub mod validate;

pub use crate::namespaces::IdMap;
pub use crate::security::capabilities::LinuxCapabilities;
pub use crate::security::rlimits::PosixRlimit;
pub use crate::security::seccomp::LinuxSeccomp;
pub use convert::NamespacePlan;
pub use features::Features;
pub use hooks::{Hook, Hooks};
pub use linux::{Linux, LinuxDevice, LinuxDeviceCgroup, LinuxNamespace, LinuxResources};
pub use process::{ConsoleSize, Process, ProcessUser};

/// The name of the configuration file in a bundle.
pub const CONFIG_FILE: &str = "config.json";

/// What can go wrong while reading, checking, writing or converting a config.json.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read {path}: {source}; a bundle is a directory holding config.json (`bang-oci spec` writes one)")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}:{line}:{column}: not valid JSON: {message}")]
    Syntax { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}:{line}:{column}: {message}; see config.md of the OCI runtime specification for the field's type")]
    Type { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{}{field}: {problem}", file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default())]
    Invalid { file: Option<PathBuf>, field: String, problem: String },
    #[error("{field}: {what} is not supported by this runtime; {advice}")]
    Unsupported { field: String, what: String, advice: &'static str },
    #[error("{path} already exists; remove it, or give another bundle directory (runc spec refuses too)")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Security(#[from] SecurityError),
}

impl SpecError {
    /// An invalid value at `field` (a JSON path such as `linux.namespaces[2].type`).
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        SpecError::Invalid { file: None, field: field.into(), problem: problem.into() }
    }

    /// The same error, naming the file it came from.
    fn in_file(self, path: &Path) -> Self {
        match self {
            SpecError::Invalid { file: None, field, problem } => {
                SpecError::Invalid { file: Some(path.to_owned()), field, problem }
            }
            other => other,
        }
    }
}

// ANCHOR: spec
/// A whole config.json. Fields this runtime does not know are accepted and dropped
/// (the specification asks runtimes to tolerate them); `annotations` are kept as
/// given, since other tools read them back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// The specification version the file follows, e.g. `1.0.2-dev`.
    #[serde(default)]
    pub oci_version: String,
    /// What to run. Optional until `start`: `create` needs only the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    /// The root filesystem; required on Linux.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<Root>,
    /// Absent or `""`: the new UTS namespace keeps the name it starts with (runc's
    /// reading: Go cannot tell an empty string from a missing field).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "empty_as_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "empty_as_none")]
    pub domainname: Option<String>,
    /// Mounts in order, after the root; chapter 3's type.
    #[serde(default, skip_serializing_if = "Vec::is_empty", serialize_with = "mounts::serialize")]
    pub mounts: Vec<Mount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<Hooks>,
    /// Free-form metadata (`io.podman.annotations.*`, `org.opencontainers.image.*`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linux: Option<Linux>,
}
// ANCHOR_END: spec

/// `root`: the container's root filesystem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    /// A path on the host, absolute or relative to the bundle.
    #[serde(default)]
    pub path: PathBuf,
    /// Remount the root read-only as the last step (chapter 5).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub readonly: bool,
}

impl Spec {
    /// Reads and validates `<bundle>/config.json`. Errors name the file, and the line
    /// and column for malformed JSON and wrong types, or the JSON path of an invalid value.
    pub fn load(bundle: &Path) -> Result<Spec, SpecError> {
        Self::load_validated(bundle).map(|(spec, _)| spec)
    }

    /// [`Spec::load`], which also returns what validating the file made of its
    /// `linux.resources`: the limits, validated ([`Spec::validate`]). `create` takes
    /// them from here, so that one create validates its limits once.
    pub fn load_validated(bundle: &Path) -> Result<(Spec, ValidResources), SpecError> {
        let path = bundle.join(CONFIG_FILE);
        let text =
            fs::read_to_string(&path).map_err(|source| SpecError::Read { path: path.clone(), source })?;
        Self::parse_validated(&text, &path)
    }

    /// Parses and validates config.json text; `path` is for the messages.
    pub fn parse(text: &str, path: &Path) -> Result<Spec, SpecError> {
        Self::parse_validated(text, path).map(|(spec, _)| spec)
    }

    /// [`Spec::parse`], with the validated limits (see [`Spec::load_validated`]).
    pub fn parse_validated(text: &str, path: &Path) -> Result<(Spec, ValidResources), SpecError> {
        let position = |err: &serde_json::Error| (err.line(), err.column(), strip_position(err));
        // First the syntax, and that the file is an object: serde would read a struct
        // from an array too (`[]` as a Spec with every field missing).
        let value: serde_json::Value = serde_json::from_str(text).map_err(|err| {
            let (line, column, message) = position(&err);
            SpecError::Syntax { path: path.to_owned(), line, column, message }
        })?;
        if !value.is_object() {
            let message = "the configuration must be a JSON object, {\"ociVersion\": …}".to_owned();
            return Err(SpecError::Type { path: path.to_owned(), line: 1, column: 1, message });
        }
        // Then the types, from the text again so that errors keep their line and column.
        // Why not serde_path_to_error: it would add a dependency to name the path of a
        // wrong type, where the line and column already point at it; invalid values,
        // the common mistake, get their path from the validation pass below. (Inside
        // `process.user`, which is flattened, the position is the end of that object.)
        let spec: Spec = serde_json::from_str(text).map_err(|err| {
            let (line, column, message) = position(&err);
            SpecError::Type { path: path.to_owned(), line, column, message }
        })?;
        let limits = spec.validate().map_err(|err| err.in_file(path))?;
        Ok((spec, limits))
    }

    /// The JSON `runc spec` would write for this spec: tab-indented, keys in runc's
    /// order, and (as runc's) no final newline.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        self.serialize(&mut serializer).expect("a Spec always serializes: its maps have string keys");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Writes `<bundle>/config.json`, refusing to replace an existing one.
    pub fn save(&self, bundle: &Path) -> Result<PathBuf, SpecError> {
        let path = bundle.join(CONFIG_FILE);
        // create_new, not an exists() check first: nothing can slip in between.
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|source| {
            if source.kind() == io::ErrorKind::AlreadyExists {
                SpecError::Exists { path: path.clone() }
            } else {
                SpecError::Write { path: path.clone(), source }
            }
        })?;
        if let Err(source) = file.write_all(self.to_json().as_bytes()) {
            // A half-written config.json would be refused later with a confusing
            // syntax error; leave nothing instead.
            let _ = fs::remove_file(&path);
            return Err(SpecError::Write { path, source });
        }
        Ok(path)
    }
}

/// An empty string as no value at all (see [`Spec::hostname`]); without it, `""`
/// would reach sethostname(2) as a request for an empty name.
fn empty_as_none<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()))
}

/// serde_json's message without its trailing " at line L column C", which the error
/// says in its own way.
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `"hostname": ""` is no hostname, as runc reads it, not a request for an empty one.
    #[test]
    fn empty_hostname_and_domainname_are_absent() {
        let mut value: serde_json::Value = serde_json::from_str(&Spec::runc_default().to_json()).unwrap();
        value["hostname"] = "".into();
        value["domainname"] = "".into();
        let spec = Spec::parse(&value.to_string(), Path::new("config.json")).unwrap();
        assert_eq!((spec.hostname, spec.domainname), (None, None));
        value["hostname"] = "box1".into();
        let spec = Spec::parse(&value.to_string(), Path::new("config.json")).unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("box1"));
    }
}
