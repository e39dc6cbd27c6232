//! Writing config.json's `mounts` back out. Chapter 6. The entries are chapter 3's
//! [`Mount`] (read mount(8) and config.md "Mounts" of the OCI runtime specification);
//! this file only decides how an entry looks in JSON.
//!
//! Chapter 3's `Mount` always writes `type`, `source` and `options`, even empty. The
//! runtime-spec marks all three optional and `runc spec` leaves empty ones out (its
//! `/proc` entry has no `options`), so `bang-oci spec` would not match it byte for
//! value. Rather than copy the type to change three attributes, this writes it through
//! a borrowed view that skips empty fields.

use std::path::Path;

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;

use crate::rootfs::Mount;

/// A borrowed `Mount` as config.json writes it.
#[derive(Serialize)]
struct MountView<'a> {
    destination: &'a Path,
    #[serde(rename = "type", skip_serializing_if = "str::is_empty")]
    kind: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    source: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    options: &'a [String],
}

/// `serialize_with` for `Spec::mounts`.
pub fn serialize<S: Serializer>(mounts: &[Mount], serializer: S) -> Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(mounts.len()))?;
    for mount in mounts {
        seq.serialize_element(&MountView {
            destination: &mount.destination,
            kind: &mount.kind,
            source: &mount.source,
            options: &mount.options,
        })?;
    }
    seq.end()
}
