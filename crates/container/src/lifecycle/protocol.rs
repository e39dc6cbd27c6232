//! The init protocol (chapter 6): what the runtime (`create`, `exec`) and its init
//! (`bang-oci init`) say to each other over the socketpair the init inherits, one
//! JSON object per line: the request, then messages both ways. The types, one
//! [`send`], one [`receive`], and how the init is started with its end of the socket.
//! Read unix(7) (socketpair, SOCK_STREAM), recv(2) (MSG_PEEK) and youki's
//! `process/channel.rs` and `message.rs`, a model for this file.
//!
//! ```text
//!   create ── CreateRequest ──▶ stage 0 ── Pid ──▶ create
//!   create ── Continue ───────▶ container init ── Ready | Error ──▶ create
//!   exec   ── ExecRequest ────▶ stage 0 ── Pid ──▶ exec; the process ── Error | EOF ──▶ exec
//! ```

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use nix::errno::Errno;
use nix::sys::socket::MsgFlags;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::{LifecycleError, ProtocolError};
use super::init_error::InitError;
use super::plan::InitPlan;
use super::state::{InitProcess, State};
use crate::security::seal::{fd_path, sealed_overlay};
use crate::security::Prepared;
use crate::spec::{Process, Spec};

/// The descriptor number the init socket is given in `bang-oci init`.
pub const INIT_FD: RawFd = 3;

/// What the runtime asks of `bang-oci init`, the first line on its socket: to be a
/// new container's init (`create`), or to start a process in a running one (`exec`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InitRequest {
    // Boxed: both are large, and the enum is only ever passed along.
    Create(Box<CreateRequest>),
    Exec(Box<ExecRequest>),
}

impl InitRequest {
    /// The inherited socket to `--console-socket`, if the process has a terminal.
    pub fn console_socket(&self) -> Option<RawFd> {
        match self {
            InitRequest::Create(create) => create.console_socket,
            InitRequest::Exec(exec) => exec.console_socket,
        }
    }
}

/// What `create` sends the init: everything it needs, already validated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    /// config.json, for what the plan leaves as it is (hostname, sysctls, hooks, the
    /// process's arguments and environment).
    pub spec: Spec,
    /// What `create` derived from it: used as it is, never derived again.
    pub plan: InitPlan,
    /// The exec fifo in the container's state directory.
    pub fifo: PathBuf,
    /// The inherited socket to `--console-socket`, when process.terminal is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_socket: Option<RawFd>,
    /// Descriptors 3 .. 3+N are the caller's, for the container's process.
    #[serde(default)]
    pub preserve_fds: u32,
    /// `--no-new-keyring`: keep the session keyring the runtime was started with.
    #[serde(default)]
    pub no_new_keyring: bool,
}

/// What `exec` sends stage 0 of the init.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecRequest {
    /// The id, for messages.
    pub id: String,
    /// The container's init, whose namespaces and root to join.
    pub init: InitProcess,
    /// The process to run (args, env, terminal, console size, umask).
    pub process: Process,
    /// Its security profile, prepared by `exec` (the container's seccomp filter
    /// compiled there): the process applies it as it is.
    pub security: Prepared,
    /// The inherited socket to `--console-socket`, when the process has a terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_socket: Option<RawFd>,
    /// Descriptors 3 .. 3+N go to the process.
    #[serde(default)]
    pub preserve_fds: u32,
}

/// What follows the request, one JSON object per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InitMessage {
    /// From stage 0: the container init's (or the exec'd process's) pid on the host.
    Pid(i32),
    /// From the runtime, after the createRuntime hooks: go on; the state is what the
    /// createContainer and startContainer hooks read.
    Continue(State),
    /// From the container init: set up, waiting on the exec fifo.
    Ready,
    /// From the init or the process: what failed, as a value the runtime matches.
    Error(InitError),
}

// ANCHOR: send
/// Writes `message` (a request or an [`InitMessage`]) as one JSON line.
pub fn send<T: Serialize>(socket: &UnixStream, message: &T) -> Result<(), ProtocolError> {
    let mut line = serde_json::to_vec(message).expect("the protocol's types always serialize");
    line.push(b'\n');
    (&*socket).write_all(&line).map_err(|source| ProtocolError::Pipe { source })
}
// ANCHOR_END: send

/// Reads the next request or message, or `None` at end-of-file (every writer closed
/// its end).
pub fn receive<T: DeserializeOwned>(socket: &UnixStream) -> Result<Option<T>, ProtocolError> {
    let Some(line) = read_line(socket)? else { return Ok(None) };
    serde_json::from_slice(&line).map(Some).map_err(|err| ProtocolError::Broken {
        what: format!("bad message {:?}: {err}", String::from_utf8_lossy(&line)),
    })
}

/// The runtime's side: the init's next message, with its [`InitMessage::Error`]
/// turned into the error it is and end-of-file into [`ProtocolError::Silent`] (`who`
/// died without a word).
pub fn reply(socket: &UnixStream, who: &'static str) -> Result<InitMessage, LifecycleError> {
    match receive(socket)? {
        Some(InitMessage::Error(err)) => Err(err.into()),
        Some(message) => Ok(message),
        None => Err(ProtocolError::Silent { who }.into()),
    }
}

/// A message that came when another was due.
pub fn unexpected(expected: &str, got: &InitMessage) -> ProtocolError {
    ProtocolError::Broken { what: format!("expected {expected}, got {got:?}") }
}

/// How much of the socket one look takes: a State with megabytes of annotations
/// then costs a few dozen system calls, not one per byte.
const CHUNK: usize = 64 * 1024;

// ANCHOR: read_line
/// One line off the socket, without its `\n`, and not a byte more: `None` at
/// end-of-file before any byte.
///
/// The socket is shared by processes that each read their own messages (stage 0
/// the request, the container init the `Continue` after it), so a buffered reader,
/// which reads ahead and keeps what it read in its own memory, could take bytes
/// meant for another reader. Reading one byte per recv(2) kept the boundaries but
/// cost a system call per byte (0.55 s per MB of annotations). Here recv(2) with
/// MSG_PEEK looks at up to [`CHUNK`] bytes without taking them, and a read then
/// takes exactly the bytes up to the newline (all of them when there is none yet):
/// two calls per chunk, and whatever follows the line stays in the socket. The init
/// socket carries no descriptors (they are inherited by number; the terminal's
/// master goes over the console socket, SCM_RIGHTS); a descriptor sent on it would
/// be dropped by this read as by the one before, which passes no control buffer.
fn read_line(socket: &UnixStream) -> Result<Option<Vec<u8>>, ProtocolError> {
    let mut line = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let peeked = match nix::sys::socket::recv(socket.as_raw_fd(), &mut chunk, MsgFlags::MSG_PEEK) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(ProtocolError::Pipe { source: errno.into() }),
        };
        if peeked == 0 {
            if line.is_empty() {
                return Ok(None);
            }
            return Err(ProtocolError::Broken { what: "a message was cut short".into() });
        }
        let newline = chunk[..peeked].iter().position(|&b| b == b'\n');
        let take = newline.map_or(peeked, |at| at + 1);
        // The bytes are in the socket (just peeked), and only this process reads
        // it now: the read returns them all, in one call.
        (&*socket).read_exact(&mut chunk[..take]).map_err(|source| ProtocolError::Pipe { source })?;
        match newline {
            Some(at) => {
                line.extend_from_slice(&chunk[..at]);
                return Ok(Some(line));
            }
            None => line.extend_from_slice(&chunk[..take]),
        }
    }
}
// ANCHOR_END: read_line

// ANCHOR: spawn_init
/// Starts `runtime init --fd N`, a fresh single-threaded copy of the runtime, with
/// the descriptors `fds` (here, number in the init) placed at their numbers; the
/// first is the socket and N its number. All else the runtime holds is
/// close-on-exec and stays behind.
pub fn spawn_init(runtime: &Path, fds: &[(RawFd, RawFd)]) -> Result<Child, ProtocolError> {
    spawn_sealed_init(runtime, None, fds)
}

/// As [`spawn_init`], but when `spare_dir` is given, executes `runtime` through a
/// read-only overlayfs view of it ([`sealed_overlay`], `spare_dir` its spare layer):
/// the init then runs sealed (CVE-2019-5736) without copying itself. Where the view
/// cannot be made, the init copies itself into a sealed memfd, as before.
pub fn spawn_sealed_init(
    runtime: &Path,
    spare_dir: Option<&Path>,
    fds: &[(RawFd, RawFd)],
) -> Result<Child, ProtocolError> {
    // Numbered 10 or above (SEALED_FD_MIN): no dup2 below can close it before execve.
    let sealed = spare_dir.and_then(|dir| sealed_overlay(runtime, dir).ok());
    // Each source is first duplicated above every target, so that placing one
    // descriptor can never overwrite another still to be placed (dup2 onto a number
    // that is also a source). The copies are close-on-exec and die with `staged`.
    let above = fds.iter().map(|&(_, to)| to).max().unwrap_or(2) + 1;
    let mut staged = Vec::new();
    for &(from, to) in fds {
        let copy = nix::fcntl::fcntl(
            // SAFETY: the caller's descriptor is open for the duration of this call.
            unsafe { std::os::fd::BorrowedFd::borrow_raw(from) },
            nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(above),
        )
        .map_err(|errno| ProtocolError::Pipe { source: errno.into() })?;
        // SAFETY: fcntl just made this descriptor; nothing else owns it.
        staged.push((unsafe { OwnedFd::from_raw_fd(copy) }, to));
    }
    let moves: Vec<(RawFd, RawFd)> = staged.iter().map(|(fd, to)| (fd.as_raw_fd(), *to)).collect();
    let mut command = Command::new(sealed.as_ref().map_or_else(|| runtime.to_path_buf(), fd_path));
    command.arg0(runtime).arg("init").arg("--fd").arg(fds[0].1.to_string());
    // SAFETY: dup2 is async-signal-safe, and `moves` was built before the fork.
    unsafe {
        command.pre_exec(move || {
            for &(from, to) in &moves {
                // dup2 onto another number leaves the copy without close-on-exec.
                if libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        })
    };
    command.spawn().map_err(|source| ProtocolError::Spawn { runtime: runtime.to_path_buf(), source })
}
// ANCHOR_END: spawn_init

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::init_error::FailureKind;

    /// A line is taken whole, however long (a megabyte, written while it is read),
    /// and not a byte past its newline: what follows stays in the socket for the
    /// next reader, as stage 0 leaves the `Continue` to the container init.
    #[test]
    fn read_line_takes_one_line_and_nothing_after_it() {
        let (mut writer, reader) = UnixStream::pair().unwrap();
        let long = "x".repeat(1 << 20);
        let sent = format!("short\n{long}\nleft for the next reader\n");
        let writing = std::thread::spawn(move || writer.write_all(sent.as_bytes()).unwrap());
        assert_eq!(read_line(&reader).unwrap().unwrap(), b"short");
        let got = read_line(&reader).unwrap().unwrap();
        assert!(got == long.as_bytes(), "the long line came back as {} bytes, not {}", got.len(), long.len());
        writing.join().unwrap();
        let mut rest = String::new();
        (&reader).read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "left for the next reader\n");
        assert_eq!(read_line(&reader).unwrap(), None, "end-of-file before a byte is None");
    }

    /// End-of-file inside a line is a protocol error, not a message.
    #[test]
    fn read_line_refuses_a_line_cut_short() {
        let (mut writer, reader) = UnixStream::pair().unwrap();
        writer.write_all(b"{\"pid\":4").unwrap();
        drop(writer);
        assert!(matches!(read_line(&reader), Err(ProtocolError::Broken { .. })));
    }

    /// What one end sends, the other receives, as the same value.
    #[test]
    fn messages_round_trip_as_json_lines() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let error = InitError::Failed { kind: FailureKind::Rootfs, message: "x".into() };
        for message in [InitMessage::Pid(42), InitMessage::Ready, InitMessage::Error(error)] {
            send(&ours, &message).unwrap();
            assert_eq!(receive::<InitMessage>(&theirs).unwrap(), Some(message));
        }
    }

    /// An error the init sends is the same variant on the runtime's side; silence
    /// is end-of-file.
    #[test]
    fn reply_turns_an_error_into_the_variant_it_was() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let sent = InitError::NoSuchProgram { name: "/no/such".into() };
        send(&theirs, &InitMessage::Error(sent.clone())).unwrap();
        match reply(&ours, "the container's init") {
            Err(LifecycleError::Init(got)) => assert_eq!(got, sent),
            other => panic!("{other:?}"),
        }
        drop(theirs);
        assert!(matches!(
            reply(&ours, "the container's init"),
            Err(LifecycleError::Protocol(ProtocolError::Silent { .. }))
        ));
    }

    #[test]
    fn exec_requests_round_trip() {
        let request = ExecRequest {
            id: "c1".into(),
            init: InitProcess { pid: 42, start_time: 7 },
            process: Spec::runc_default().process.unwrap(),
            security: crate::lifecycle::process::security_profile(&Spec::runc_default())
                .unwrap()
                .prepare()
                .unwrap(),
            console_socket: Some(4),
            preserve_fds: 0,
        };
        let line = serde_json::to_string(&InitRequest::Exec(Box::new(request))).unwrap();
        assert!(!line.contains('\n'));
        match serde_json::from_str::<InitRequest>(&line).unwrap() {
            InitRequest::Exec(back) => {
                assert_eq!(back.console_socket, Some(4));
                assert_eq!(
                    back.security.rlimits[0].name, "RLIMIT_NOFILE",
                    "the prepared profile crosses whole"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
