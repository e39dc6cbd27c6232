// Your file for chapter 3: replace each todo!() with working code, then run
// `cargo workshop check 3`. Generated from crates/container/src/rootfs/overlay.rs by `cargo xtask exercises`;
// `cargo workshop reset 3` gives you a fresh copy.
//! An overlayfs root: read-only lower layers (an image's layers, top first), an upper
//! directory that takes every write, and a work directory the filesystem needs for
//! atomic copy-up. Chapter 3; chapter 8 stacks image layers with it. Read the kernel's
//! Documentation/filesystems/overlayfs.rst ("Multiple lower layers", "userxattr").

use std::fs;
use std::path::{Path, PathBuf};

use nix::mount::{mount, MsFlags};

use super::RootfsError;

/// The directories of an overlay mount.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Overlay {
    /// Read-only layers, the top one first (as `lowerdir=` lists them).
    pub lower: Vec<PathBuf>,
    /// Where writes go; without it the overlay is read-only.
    pub upper: Option<PathBuf>,
    /// An empty directory on the same filesystem as `upper`; required with it.
    pub work: Option<PathBuf>,
}

impl Overlay {
    /// Checks the directories before anything is mounted: every lower layer exists, upper
    /// and work come together, and no path holds the `,` or `:` that separate options.
    pub fn validate(&self) -> Result<(), RootfsError> {
        if self.lower.is_empty() {
            return Err(RootfsError::OverlayNoLower);
        }
        if self.upper.is_some() != self.work.is_some() {
            return Err(RootfsError::OverlayUpperWithoutWork);
        }
        let all = self.lower.iter().chain(self.upper.iter()).chain(self.work.iter());
        for dir in all {
            let text = dir.to_string_lossy();
            if text.contains(',') || text.contains(':') {
                return Err(RootfsError::OverlayBadPath { path: dir.clone() });
            }
            if !fs::metadata(dir).map(|m| m.is_dir()).unwrap_or(false) {
                return Err(RootfsError::OverlayDirMissing { path: dir.clone() });
            }
        }
        Ok(())
    }

    /// The mount data overlayfs takes: `lowerdir=A:B,upperdir=U,workdir=W`, plus
    /// `userxattr` in a user namespace, where overlayfs may not write its `trusted.*`
    /// extended attributes (whiteouts, opaque directories) and uses `user.overlay.*`.
    pub fn data(&self, userxattr: bool) -> String {
        todo!("Build the overlayfs option string: \"lowerdir=\" with the lower paths joined by ':', then \",upperdir=…,workdir=…\" when there is an upper, then \",userxattr\" when asked.");
    }

    /// Mounts the overlay on `target`.
    pub fn mount(&self, target: &Path, userxattr: bool) -> Result<(), RootfsError> {
        self.validate()?;
        let data = self.data(userxattr);
        mount(Some("overlay"), target, Some("overlay"), MsFlags::empty(), Some(data.as_str()))
            .map_err(|errno| RootfsError::OverlayMount { target: target.to_owned(), data, errno })
    }
}
