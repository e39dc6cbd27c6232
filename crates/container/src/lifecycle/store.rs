//! The state directory (chapter 6): one directory per container under a root
//! (`/run/bang-oci`, runc's is `/run/runc`), holding `state.json`, a lock file and,
//! between `create` and `start`, the exec fifo. Writes are atomic (rename(2)), and
//! every change holds flock(2) on the container's lock file. Read rename(2),
//! flock(2), fsync(2) and the runtime-spec's runtime.md ("State").

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, RenameFlags, AT_FDCWD};

use super::state::ContainerRecord;

/// Where `bang-oci` keeps its state unless `--root` says otherwise. /run is a tmpfs:
/// after a reboot no container survives, and neither should its state.
pub const DEFAULT_ROOT: &str = "/run/bang-oci";

/// The runtime's record of a container, in its directory.
pub const STATE_FILE: &str = "state.json";

/// The file whose flock(2) serializes the `bang-oci` processes working on one container.
pub const LOCK_FILE: &str = "lock";

/// The fifo the init blocks on between `create` and `start` (see `super::fifo`).
pub const EXEC_FIFO: &str = "exec.fifo";

/// The longest id accepted. runc has no limit of its own, but a file name is capped at
/// 255 bytes (NAME_MAX) and `create` first writes the directory under a temporary
/// name that adds about 30 bytes to the id: longer ids would fail at mkdir, with an
/// error about the file system instead of the id.
pub const MAX_ID_LEN: usize = 200;

/// What can go wrong in the state directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid container id {id:?}: {reason}; use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    InvalidId { id: String, reason: &'static str },
    #[error("cannot create the state root {path}: {source}; pass another one with --root, or run as root")]
    CreateRoot { path: PathBuf, source: io::Error },
    #[error(
        "a container with id {id} already exists in {root}; pick another id, or `bang-oci delete {id}` first"
    )]
    Duplicate { id: String, root: PathBuf },
    #[error("no container with id {id} in {root}; `bang-oci list` shows the containers, and --root must match the one given to create")]
    UnknownId { id: String, root: PathBuf },
    #[error("{path} is not a directory; something other than bang-oci wrote into the state root: remove it by hand")]
    NotADirectory { path: PathBuf },
    #[error("the state file {path} is missing; the container was half created or half deleted: check that none of its processes runs, then remove its directory by hand")]
    MissingStateFile { path: PathBuf },
    #[error("the state file {path} is corrupt ({source}); check that none of the container's processes runs, then remove its directory by hand")]
    Corrupt { path: PathBuf, source: serde_json::Error },
    #[error(
        "the state file {path} belongs to container {found:?}, not {expected}; remove the directory by hand"
    )]
    IdMismatch { path: PathBuf, expected: String, found: String },
    #[error("cannot lock {path}: {source}")]
    Lock { path: PathBuf, source: Errno },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}; is the state root's filesystem full or read-only?")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot serialize the state of container {id}: {source}")]
    Serialize { id: String, source: serde_json::Error },
    #[error("cannot remove {path}: {source}")]
    Remove { path: PathBuf, source: io::Error },
    #[error("{path} still holds files bang-oci did not create ({source}); they were left alone: look at them and remove the directory by hand")]
    ForeignFiles { path: PathBuf, source: io::Error },
}

// ANCHOR: validate_id
/// Checks a container id before it becomes a path: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at
/// most [`MAX_ID_LEN`] bytes. The id is joined to the state root, so `..`, `/` or an
/// empty id would let a caller read, lock or delete outside it.
pub fn validate_id(id: &str) -> Result<(), StoreError> {
    let invalid = |reason| Err(StoreError::InvalidId { id: shorten(id), reason });
    let Some(first) = id.bytes().next() else {
        return invalid("it is empty");
    };
    if id.len() > MAX_ID_LEN {
        return invalid("it is longer than 200 bytes");
    }
    if !first.is_ascii_alphanumeric() {
        // This also rejects "." and "..", and names that look like options ("-x").
        return invalid("it does not start with a letter or digit");
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return invalid("it contains a character other than letters, digits, '_', '.' and '-'");
    }
    Ok(())
}
// ANCHOR_END: validate_id

/// An id fit for an error message: a hostile 1 MB id must not become a 1 MB message.
fn shorten(id: &str) -> String {
    match id.char_indices().nth(64) {
        Some((end, _)) => format!("{}… ({} bytes)", &id[..end], id.len()),
        None => id.to_string(),
    }
}

/// The containers of a store, and the entries that could not be read.
#[derive(Debug, Default)]
pub struct Listing {
    /// Readable containers, sorted by id.
    pub containers: Vec<ContainerRecord>,
    /// Entries of the root that are not readable containers, sorted by name, with why.
    pub broken: Vec<(String, StoreError)>,
}

/// The state root: one directory per container.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// The store rooted at `root`, created (mode 0700, with parents) if missing: the
    /// state holds pids and paths other users have no business reading.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(|source| StoreError::CreateRoot { path: root.to_path_buf(), source })?;
        Ok(Store { root: root.to_path_buf() })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of container `id` (validated; it may not exist).
    pub fn container_dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        validate_id(id)?;
        Ok(self.root.join(id))
    }

    // ANCHOR: create
    /// Records a new container, and returns it locked: the directory appears in the
    /// root complete (lock file and state.json) or not at all, and a duplicate id is
    /// refused without touching the existing container.
    ///
    /// Why not mkdir then write: between the two, another `bang-oci` would find a
    /// directory without state.json and call it corrupt; and a crash there leaves an
    /// empty directory that blocks the id. So the directory is built under a hidden
    /// name (ids cannot start with '.') and renamed into place with RENAME_NOREPLACE,
    /// which fails with EEXIST if the id is taken — plain rename(2) would silently
    /// replace an empty directory.
    pub fn create(&self, record: &ContainerRecord) -> Result<ContainerLock, StoreError> {
        let dir = self.container_dir(&record.id)?;
        if dir.symlink_metadata().is_ok() {
            return Err(StoreError::Duplicate { id: record.id.clone(), root: self.root.clone() });
        }
        let staging = self.root.join(format!(".{}.creating-{}", record.id, unique_suffix()));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&staging)
            .map_err(|source| StoreError::Write { path: staging.clone(), source })?;
        let built = (|| {
            let lock_path = staging.join(LOCK_FILE);
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&lock_path)
                .map_err(|source| StoreError::Write { path: lock_path.clone(), source })?;
            let flock = Flock::lock(file, FlockArg::LockExclusive)
                .map_err(|(_, source)| StoreError::Lock { path: lock_path, source })?;
            write_atomically(&staging, record)?;
            match nix::fcntl::renameat2(AT_FDCWD, &staging, AT_FDCWD, &dir, RenameFlags::RENAME_NOREPLACE) {
                Ok(()) => Ok(flock),
                Err(Errno::EEXIST | Errno::ENOTEMPTY) => {
                    Err(StoreError::Duplicate { id: record.id.clone(), root: self.root.clone() })
                }
                Err(e) => Err(StoreError::Write { path: dir.clone(), source: e.into() }),
            }
        })();
        match built {
            Ok(flock) => Ok(ContainerLock { id: record.id.clone(), dir, _flock: flock }),
            Err(e) => {
                // Nothing left behind: the staging directory holds only what we wrote.
                let _ = fs::remove_dir_all(&staging);
                Err(e)
            }
        }
    }
    // ANCHOR_END: create

    // ANCHOR: lock
    /// Locks container `id` against other `bang-oci` processes until the returned
    /// guard is dropped; blocks while another holds it.
    ///
    /// Why flock(2) on a file, not a Mutex: each `bang-oci` verb is a separate,
    /// short-lived process (podman runs one per operation) and there is no daemon to
    /// hold a lock in memory. The kernel holds a flock for the open file description
    /// and drops it when the holder exits, even by SIGKILL — a lock file created with
    /// O_EXCL would outlive a crash and block the container forever. fcntl(2) record
    /// locks were rejected too: they belong to the process, so two threads (or two
    /// opens in one process) do not exclude each other, and closing any descriptor of
    /// the file releases them.
    pub fn lock(&self, id: &str) -> Result<ContainerLock, StoreError> {
        let dir = self.existing_dir(id)?;
        let lock_path = dir.join(LOCK_FILE);
        loop {
            // Not O_CREAT: creating the lock file in a directory being deleted would
            // make its rmdir fail. `create` made it; if it is gone, so is the container.
            let file = match File::open(&lock_path) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(self.unknown(id)),
                Err(source) => return Err(StoreError::Read { path: lock_path, source }),
            };
            let flock = Flock::lock(file, FlockArg::LockExclusive)
                .map_err(|(_, source)| StoreError::Lock { path: lock_path.clone(), source })?;
            // While we waited, the holder may have deleted the container (and someone
            // may have created it anew): a lock on an unlinked file protects nothing.
            // Keep it only if the path still names the file we locked.
            let locked =
                flock.metadata().map_err(|source| StoreError::Read { path: lock_path.clone(), source })?;
            match fs::metadata(&lock_path) {
                Ok(now) if now.dev() == locked.dev() && now.ino() == locked.ino() => {
                    return Ok(ContainerLock { id: id.to_string(), dir, _flock: flock });
                }
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(self.unknown(id)),
                Err(source) => return Err(StoreError::Read { path: lock_path, source }),
            }
        }
    }
    // ANCHOR_END: lock

    /// Reads container `id`'s record without locking it. Safe because every write
    /// replaces state.json whole by rename(2): a reader sees the old or the new file,
    /// never half of one. (It may of course be stale a moment later.)
    pub fn load(&self, id: &str) -> Result<ContainerRecord, StoreError> {
        let dir = self.existing_dir(id)?;
        read_record(&dir, id)
    }

    /// All containers, sorted by id. An entry that cannot be read is reported in
    /// [`Listing::broken`] rather than failing the list: one corrupt container must
    /// not hide the others from `bang-oci list` (and from the user who must clean up).
    /// Hidden entries (staging directories of a `create` in progress) are skipped.
    pub fn list(&self) -> Result<Listing, StoreError> {
        let mut listing = Listing::default();
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(listing),
            Err(source) => return Err(StoreError::Read { path: self.root.clone(), source }),
        };
        for entry in entries {
            let entry = entry.map_err(|source| StoreError::Read { path: self.root.clone(), source })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            match self.load(&name) {
                Ok(record) => listing.containers.push(record),
                Err(e) => listing.broken.push((name, e)),
            }
        }
        listing.containers.sort_by(|a, b| a.id.cmp(&b.id));
        listing.broken.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(listing)
    }

    /// The directory of an existing container, refusing symlinks and plain files.
    fn existing_dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        let dir = self.container_dir(id)?;
        match dir.symlink_metadata() {
            Ok(meta) if meta.is_dir() => Ok(dir),
            Ok(_) => Err(StoreError::NotADirectory { path: dir }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.unknown(id)),
            Err(source) => Err(StoreError::Read { path: dir, source }),
        }
    }

    fn unknown(&self, id: &str) -> StoreError {
        StoreError::UnknownId { id: id.to_string(), root: self.root.clone() }
    }
}

/// A container held under its flock; dropping it releases the lock. Changes to a
/// container's record go through here, so they cannot interleave across processes.
#[derive(Debug)]
pub struct ContainerLock {
    id: String,
    dir: PathBuf,
    _flock: Flock<File>,
}

impl ContainerLock {
    /// The container's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The container's state directory (where the exec fifo goes).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the record.
    pub fn load(&self) -> Result<ContainerRecord, StoreError> {
        read_record(&self.dir, &self.id)
    }

    /// Replaces the record atomically. `record.id` must be this container's.
    pub fn save(&self, record: &ContainerRecord) -> Result<(), StoreError> {
        if record.id != self.id {
            return Err(StoreError::IdMismatch {
                path: self.dir.join(STATE_FILE),
                expected: self.id.clone(),
                found: record.id.clone(),
            });
        }
        write_atomically(&self.dir, record)
    }

    // ANCHOR: remove
    /// Removes the container's directory: only the files bang-oci creates in it
    /// (state.json, the exec fifo, the lock file), then the directory. Anything else
    /// found there is left alone and reported — never `rm -rf` a path in a state
    /// directory that another program may have written into.
    pub fn remove(self) -> Result<(), StoreError> {
        // state.json first: from here on, readers see "unknown id", not a half container.
        for name in [STATE_FILE, EXEC_FIFO, LOCK_FILE] {
            let path = self.dir.join(name);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError::Remove { path, source }),
            }
        }
        // Temporary files of a save that crashed between create and rename are ours too.
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&format!(".{STATE_FILE}.")) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        fs::remove_dir(&self.dir).map_err(|source| match source.raw_os_error() {
            Some(libc::ENOTEMPTY | libc::EEXIST) => {
                StoreError::ForeignFiles { path: self.dir.clone(), source }
            }
            _ => StoreError::Remove { path: self.dir.clone(), source },
        })?;
        // The lock is released when `self` is dropped here, after the directory is gone;
        // a waiter then finds its lock file unlinked and reports an unknown id.
        Ok(())
    }
    // ANCHOR_END: remove
}

fn read_record(dir: &Path, id: &str) -> Result<ContainerRecord, StoreError> {
    let path = dir.join(STATE_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A `remove` in progress, or a directory someone made by hand.
            return Err(StoreError::MissingStateFile { path });
        }
        Err(source) => return Err(StoreError::Read { path, source }),
    };
    let record: ContainerRecord = serde_json::from_slice(&bytes)
        .map_err(|source| StoreError::Corrupt { path: path.clone(), source })?;
    if record.id != id {
        return Err(StoreError::IdMismatch { path, expected: id.to_string(), found: record.id });
    }
    Ok(record)
}

/// A suffix no other writer uses at the same time: pid + a per-process counter.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

// ANCHOR: write_atomically
/// Writes `record` as `dir/state.json` so that no reader, and no crash of a
/// `bang-oci`, ever sees a torn file: write a temporary file in the same directory
/// (rename(2) is atomic only within one filesystem) and rename it over state.json.
///
/// No fsync(2), as runc has none: it would only make the record outlast a power
/// cut, after which no container it describes is alive. On a tmpfs /run it costs
/// nothing; on a disk-backed /run the five fsyncs of a `create` and two of a
/// `start` took milliseconds (book/src/06-oci-runtime/speed.md).
fn write_atomically(dir: &Path, record: &ContainerRecord) -> Result<(), StoreError> {
    let json = serde_json::to_vec_pretty(record)
        .map_err(|source| StoreError::Serialize { id: record.id.clone(), source })?;
    let target = dir.join(STATE_FILE);
    let temp = dir.join(format!(".{STATE_FILE}.{}", unique_suffix()));
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
        file.write_all(&json)?;
        fs::rename(&temp, &target)
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&temp);
        return Err(StoreError::Write { path: target, source });
    }
    Ok(())
}
// ANCHOR_END: write_atomically

// ANCHOR: pid_file
/// Writes `pid` to `path` (podman's `--pid-file`) the way the reader expects to find
/// it: whole or not at all. conmon reads the file as soon as `create` returns, so it
/// is written to a hidden temporary file in the same directory and renamed into
/// place, as runc does. The contents are the decimal pid without a newline (runc's).
pub fn write_pid_file(path: &Path, pid: i32) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| StoreError::Write {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "the pid file path has no file name"),
    })?;
    let temp = dir.join(format!(".{}.{}", name.to_string_lossy(), unique_suffix()));
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(0o644).open(&temp)?;
        file.write_all(pid.to_string().as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&temp);
        return Err(StoreError::Write { path: path.to_path_buf(), source });
    }
    Ok(())
}
// ANCHOR_END: pid_file
