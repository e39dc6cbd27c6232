//! `cargo workshop watch`: notices when the learner saves a file under `exercises/`.
//!
//! inotify(7) through `nix`, one watch per folder (inotify is not recursive).
//! Where the editor writes from another machine's side of a shared folder (WSL's
//! Windows drives, 9p, virtiofs, SMB/NFS, VirtualBox shares) the kernel sees no
//! change, so the watcher polls modification times every second instead. A burst
//! of saves (format-on-save, "save all") is debounced into one change.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime};

use bigbang_container::mountinfo;
use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// How long the files must stay quiet before a burst of saves counts as one change.
pub const QUIET: Duration = Duration::from_millis(300);
/// How often polling compares modification times.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// What went wrong while watching.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch {path}: {source}; try `cargo workshop watch --poll`")]
    Inotify { path: PathBuf, source: Errno },
    #[error("cannot read the folder {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

/// How the watcher learns about changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchMode {
    Inotify,
    /// Comparing modification times every second, and why.
    Poll {
        reason: String,
    },
}

enum Backend {
    Inotify { inotify: Inotify, dirs: HashMap<WatchDescriptor, PathBuf> },
    Poll { seen: BTreeMap<PathBuf, (SystemTime, u64)> },
}

/// Watches the `.rs` files under one folder, recursively.
pub struct Watcher {
    dir: PathBuf,
    mode: WatchMode,
    backend: Backend,
}

impl Watcher {
    /// Watches `dir`: with inotify, unless `force_poll` is set, `dir` sits on a
    /// file system where inotify misses changes, or inotify cannot start.
    pub fn new(dir: &Path, force_poll: bool) -> Result<Self, WatchError> {
        let reason = if force_poll {
            Some("--poll was given".to_owned())
        } else {
            shared_fs_type(dir).map(|fs| {
                format!("{} is on a {fs} file system, where file events may not arrive", dir.display())
            })
        };
        if reason.is_none() {
            match Self::with_inotify(dir) {
                Ok(watcher) => return Ok(watcher),
                Err(WatchError::Inotify { source, .. })
                    if source == Errno::ENOSPC || source == Errno::EMFILE =>
                {
                    return Self::with_polling(dir, format!("inotify has no watches left ({source})"));
                }
                Err(e) => return Err(e),
            }
        }
        Self::with_polling(dir, reason.unwrap_or_default())
    }

    fn with_inotify(dir: &Path) -> Result<Self, WatchError> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map_err(|source| WatchError::Inotify { path: dir.to_owned(), source })?;
        let mut watcher = Self {
            dir: dir.to_owned(),
            mode: WatchMode::Inotify,
            backend: Backend::Inotify { inotify, dirs: HashMap::new() },
        };
        for folder in folders(dir)? {
            watcher.add_watch(&folder)?;
        }
        Ok(watcher)
    }

    fn with_polling(dir: &Path, reason: String) -> Result<Self, WatchError> {
        Ok(Self {
            dir: dir.to_owned(),
            mode: WatchMode::Poll { reason },
            backend: Backend::Poll { seen: snapshot(dir)? },
        })
    }

    fn add_watch(&mut self, folder: &Path) -> Result<(), WatchError> {
        if let Backend::Inotify { inotify, dirs } = &mut self.backend {
            let flags = AddWatchFlags::IN_CLOSE_WRITE
                | AddWatchFlags::IN_MOVED_TO
                | AddWatchFlags::IN_CREATE
                | AddWatchFlags::IN_DELETE;
            let wd = inotify
                .add_watch(folder, flags)
                .map_err(|source| WatchError::Inotify { path: folder.to_owned(), source })?;
            dirs.insert(wd, folder.to_owned());
        }
        Ok(())
    }

    /// How this watcher learns about changes.
    pub fn mode(&self) -> &WatchMode {
        &self.mode
    }

    /// Blocks until some `.rs` file under the folder changes, then until the
    /// files have been quiet for [`QUIET`]; returns the changed files.
    pub fn wait(&mut self) -> Result<BTreeSet<PathBuf>, WatchError> {
        let mut changed = BTreeSet::new();
        let mut last_change: Option<Instant> = None;
        loop {
            let found = self.changes()?;
            if !found.is_empty() {
                changed.extend(found);
                last_change = Some(Instant::now());
            }
            match last_change {
                Some(at) if at.elapsed() >= QUIET => return Ok(changed),
                Some(_) => sleep(Duration::from_millis(50)),
                None if matches!(self.backend, Backend::Poll { .. }) => sleep(POLL_EVERY),
                None => sleep(Duration::from_millis(100)),
            }
        }
    }

    /// The `.rs` files changed since the last call.
    fn changes(&mut self) -> Result<BTreeSet<PathBuf>, WatchError> {
        let mut changed = BTreeSet::new();
        let mut new_dirs = Vec::new();
        match &mut self.backend {
            Backend::Inotify { inotify, dirs } => loop {
                let events = match inotify.read_events() {
                    Ok(events) => events,
                    Err(Errno::EAGAIN) => break,
                    Err(source) => return Err(WatchError::Inotify { path: self.dir.clone(), source }),
                };
                for event in events {
                    let (Some(dir), Some(name)) = (dirs.get(&event.wd), event.name) else { continue };
                    let path = dir.join(name);
                    if event.mask.contains(AddWatchFlags::IN_ISDIR) {
                        if event.mask.contains(AddWatchFlags::IN_CREATE) {
                            new_dirs.push(path);
                        }
                    } else if is_source(&path) {
                        changed.insert(path);
                    }
                }
            },
            Backend::Poll { seen } => {
                let now = snapshot(&self.dir)?;
                for (path, stamp) in &now {
                    if seen.get(path) != Some(stamp) {
                        changed.insert(path.clone());
                    }
                }
                changed.extend(seen.keys().filter(|p| !now.contains_key(*p)).cloned());
                *seen = now;
            }
        }
        for dir in new_dirs {
            for folder in folders(&dir)? {
                self.add_watch(&folder)?;
            }
        }
        Ok(changed)
    }
}

/// A learner's source file, not an editor's swap or backup file.
fn is_source(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.ends_with(".rs") && !name.starts_with('.')
}

/// `dir` and every folder below it.
fn folders(dir: &Path) -> Result<Vec<PathBuf>, WatchError> {
    let mut out = vec![dir.to_owned()];
    let mut i = 0;
    while i < out.len() {
        let entries =
            fs::read_dir(&out[i]).map_err(|source| WatchError::Read { path: out[i].clone(), source })?;
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(entry.path());
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Modification time and length of every source file under `dir`.
fn snapshot(dir: &Path) -> Result<BTreeMap<PathBuf, (SystemTime, u64)>, WatchError> {
    let mut out = BTreeMap::new();
    for folder in folders(dir)? {
        let Ok(entries) = fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if !is_source(&path) {
                continue;
            }
            match entry.metadata() {
                Ok(meta) if meta.is_file() => {
                    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    out.insert(path, (modified, meta.len()));
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// The type of the file system `dir` lives on, when it is one that is shared
/// with another machine (where inotify misses the other side's writes).
fn shared_fs_type(dir: &Path) -> Option<String> {
    let dir = fs::canonicalize(dir).ok()?;
    let text = fs::read_to_string(mountinfo::SELF).ok()?;
    // The mount whose mount point is the longest prefix of `dir` (the last of those
    // stacked there); a line the parser cannot read is skipped, never an error here.
    let fs_type = mountinfo::entries(&text)
        .filter_map(Result::ok)
        .filter(|m| dir.starts_with(&m.mount_point))
        .max_by_key(|m| m.mount_point.as_os_str().len())?
        .fstype;
    let shared = matches!(
        fs_type.as_str(),
        "9p" | "drvfs" | "virtiofs" | "cifs" | "smb3" | "smbfs" | "nfs" | "nfs4" | "vboxsf" | "prl_fs"
    ) || fs_type.starts_with("fuse.");
    shared.then_some(fs_type)
}
