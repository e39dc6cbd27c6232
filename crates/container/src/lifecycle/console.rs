//! A container's terminal (chapter 6): with `process.terminal` true the process gets
//! a new pseudo-terminal from the container's own devpts as its standard streams, and
//! the master side goes to whoever called the runtime, over the unix socket named by
//! `--console-socket`, as an SCM_RIGHTS message. Read pty(7), pts(4), tty_ioctl(4)
//! (TIOCSCTTY, TIOCSWINSZ, TIOCGPTPEER), unix(7) (SCM_RIGHTS), the runtime-spec's
//! config.md ("terminal") and runc's docs/terminals.md.
//!
//! Why the pty is made inside the container and not by the runtime on the host: the
//! slave must be a /dev/pts/N of the container's devpts (its `tty` names it, and
//! /dev/console is bound to it), and a host pty's slave would be a host device node
//! the container could not even see. Why the runtime connects and the init sends:
//! the socket path is on the host, which the container init can no longer reach
//! after pivot_root; a connected descriptor, inherited, crosses that boundary.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use nix::sys::stat::Mode;

use crate::spec::ConsoleSize;

/// The container's pty multiplexer: the `ptmx` of the devpts instance mounted on
/// /dev/pts (with `newinstance`); /dev/ptmx is only a symbolic link to it.
pub const PTMX: &str = "/dev/pts/ptmx";

/// What the runtime sends along with the master descriptor. conmon and runc's
/// `recvtty` read the bytes as the descriptor's name and otherwise ignore them; a
/// stream socket needs at least one byte of data for the control message to travel.
pub const MASTER_NAME: &str = "/dev/ptmx";

/// devpts' magic number in statfs(2), from linux/magic.h.
const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;

/// What can go wrong with a process's terminal.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("process.terminal is true but no --console-socket was given: the terminal's master side needs a receiver; pass --console-socket PATH (a unix socket you listen on), or set terminal to false")]
    TerminalWithoutConsoleSocket,
    #[error("a terminal for a process this runtime waits for in the foreground is not supported; pass --detach and --console-socket PATH, or set terminal to false (drop --tty)")]
    TerminalInForeground,
    #[error("--console-socket {path} was given but the process has no terminal; drop the flag, or set process.terminal to true (exec: --tty)")]
    ConsoleSocketWithoutTerminal { path: PathBuf },
    #[error("--console-socket {path} needs --detach: the runtime sends the terminal away and returns, as runc does")]
    ConsoleSocketInForeground { path: PathBuf },
    #[error("cannot connect to the console socket {path}: {source}; the caller must listen on it (a unix stream socket)")]
    ConsoleSocket { path: PathBuf, source: std::io::Error },
    #[error("cannot set up the process's terminal: {step}: {source}; the container needs a devpts on /dev/pts (newinstance, ptmxmode=0666)")]
    Console { step: &'static str, source: Errno },
}

// ANCHOR: check_terminal
/// runc's rules for a terminal and a console socket: a process with a terminal,
/// started by a runtime that returns at once (`create`, `exec --detach`), needs a
/// socket to send the master to; a socket without a terminal, or with a runtime
/// that stays in the foreground, is a mistake. (runc, in the foreground, relays
/// its own terminal; this runtime does not.)
pub fn check_terminal(
    terminal: bool,
    console_socket: Option<&Path>,
    detach: bool,
) -> Result<(), ConsoleError> {
    match (terminal, console_socket, detach) {
        (true, None, true) => Err(ConsoleError::TerminalWithoutConsoleSocket),
        (true, None, false) => Err(ConsoleError::TerminalInForeground),
        (false, Some(path), _) => {
            Err(ConsoleError::ConsoleSocketWithoutTerminal { path: path.to_path_buf() })
        }
        (true, Some(path), false) => {
            Err(ConsoleError::ConsoleSocketInForeground { path: path.to_path_buf() })
        }
        _ => Ok(()),
    }
}
// ANCHOR_END: check_terminal

/// Connects to the caller's console socket, on the host, before the init leaves it.
pub fn connect(path: &Path) -> Result<OwnedFd, ConsoleError> {
    UnixStream::connect(path)
        .map(OwnedFd::from)
        .map_err(|source| ConsoleError::ConsoleSocket { path: path.to_path_buf(), source })
}

fn console_error(step: &'static str) -> impl FnOnce(Errno) -> ConsoleError {
    move |source| ConsoleError::Console { step, source }
}

/// An ioctl(2) with one pointer or integer argument, as nix's macros would generate
/// it, kept here so that each request reads as its tty_ioctl(4) name.
///
/// # Safety
/// `arg` must be what `request` expects: an integer, or a pointer to memory of the
/// right type that lives for the call.
unsafe fn ioctl(fd: RawFd, request: libc::Ioctl, arg: libc::c_ulong) -> Result<libc::c_int, Errno> {
    // SAFETY: forwarded to the caller's contract.
    let rc = unsafe { libc::ioctl(fd, request, arg) };
    Errno::result(rc)
}

/// A new pseudo-terminal pair from the container's devpts.
#[derive(Debug)]
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
    /// N of /dev/pts/N.
    pub number: u32,
}

// ANCHOR: open_pty
/// Opens a new pty pair in the current mount namespace: /dev/pts/ptmx (checked to be
/// on a devpts, so a rootfs cannot plant a file of its own there), unlockpt, and the
/// slave through TIOCGPTPEER, which names the pair's own peer rather than a path
/// someone could have replaced.
fn open_pty() -> Result<Pty, ConsoleError> {
    let master = open(PTMX, OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(console_error("open /dev/pts/ptmx"))?;
    let fs = nix::sys::statfs::fstatfs(&master).map_err(console_error("fstatfs /dev/pts/ptmx"))?;
    if fs.filesystem_type().0 as i64 != DEVPTS_SUPER_MAGIC {
        return Err(ConsoleError::Console { step: "check that /dev/pts is a devpts", source: Errno::EXDEV });
    }
    let fd = master.as_raw_fd();
    let unlock: libc::c_int = 0;
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCSPTLCK reads an int, TIOCGPTN writes an unsigned int, TIOCGPTPEER
    // takes open(2) flags and returns a new descriptor (pts(4), Linux 4.13).
    let slave = unsafe {
        ioctl(fd, libc::TIOCSPTLCK, &unlock as *const _ as libc::c_ulong)
            .map_err(console_error("unlockpt"))?;
        ioctl(fd, libc::TIOCGPTN, &mut number as *mut _ as libc::c_ulong)
            .map_err(console_error("ptsname (TIOCGPTN)"))?;
        let peer = (libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) as libc::c_ulong;
        OwnedFd::from_raw_fd(
            ioctl(fd, libc::TIOCGPTPEER, peer).map_err(console_error("open the slave (TIOCGPTPEER)"))?,
        )
    };
    Ok(Pty { master, slave, number })
}
// ANCHOR_END: open_pty

impl Pty {
    /// /dev/pts/N, the slave's path inside the container.
    pub fn slave_path(&self) -> PathBuf {
        PathBuf::from(format!("/dev/pts/{}", self.number))
    }
}

/// Sets the window size of the terminal `fd` (TIOCSWINSZ), in characters.
fn set_window_size(fd: RawFd, size: ConsoleSize) -> Result<(), ConsoleError> {
    let clamp = |n: u32| n.min(u32::from(u16::MAX)) as u16;
    let winsize =
        libc::winsize { ws_row: clamp(size.height), ws_col: clamp(size.width), ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads a struct winsize that lives for the call.
    unsafe { ioctl(fd, libc::TIOCSWINSZ, &winsize as *const _ as libc::c_ulong) }
        .map_err(console_error("set the window size (TIOCSWINSZ)"))?;
    Ok(())
}

// ANCHOR: bind_dev_console
/// Binds the slave onto /dev/console (created as an empty file first), as the
/// runtime-spec's config-linux.md asks when `terminal` is true: programs that write
/// to the console then reach the container's terminal, not the host's.
fn bind_dev_console(pty: &Pty) -> Result<(), ConsoleError> {
    let console = Path::new("/dev/console");
    if !console.exists() {
        let file = open(
            console,
            OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o666),
        )
        .map_err(console_error("create /dev/console"))?;
        drop(file);
    }
    nix::mount::mount(
        Some(&pty.slave_path()),
        console,
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(console_error("bind the terminal onto /dev/console"))
}
// ANCHOR_END: bind_dev_console

// ANCHOR: send_master
/// Sends the master to the caller: one SCM_RIGHTS message carrying the descriptor,
/// with its name as the data (what conmon's recvfd and runc's RecvFile expect).
fn send_master(socket: &OwnedFd, master: &OwnedFd) -> Result<(), ConsoleError> {
    let fds = [master.as_raw_fd()];
    let data = [IoSlice::new(MASTER_NAME.as_bytes())];
    let control = [ControlMessage::ScmRights(&fds)];
    loop {
        match sendmsg::<()>(socket.as_raw_fd(), &data, &control, MsgFlags::empty(), None) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(source) => {
                return Err(ConsoleError::Console { step: "send the master over --console-socket", source })
            }
        }
    }
}
// ANCHOR_END: send_master

// ANCHOR: take_terminal
/// Makes `pty`'s slave this process's controlling terminal and its standard streams:
/// a new session (setsid), TIOCSCTTY, then dup2 onto 0, 1 and 2. The caller must not
/// be a process group leader (a freshly cloned or forked child never is).
fn take_terminal(pty: &Pty) -> Result<(), ConsoleError> {
    nix::unistd::setsid().map_err(console_error("setsid"))?;
    let slave = pty.slave.as_raw_fd();
    // SAFETY: TIOCSCTTY takes an int (0: do not steal a terminal from another session).
    unsafe { ioctl(slave, libc::TIOCSCTTY, 0) }
        .map_err(console_error("make it the controlling terminal (TIOCSCTTY)"))?;
    for target in 0..=2 {
        // SAFETY: dup2 onto the standard descriptors, which this process owns.
        Errno::result(unsafe { libc::dup2(slave, target) })
            .map_err(console_error("dup2 the slave onto 0, 1, 2"))?;
    }
    Ok(())
}
// ANCHOR_END: take_terminal

// ANCHOR: set_up_terminal
/// The whole of a process's terminal, in the container (after its root is set up):
/// a new pty, its window size, /dev/console (for a container's init only), the
/// controlling terminal and standard streams, and the master sent over `socket`,
/// which is closed afterwards, as is this process's copy of the master.
pub fn set_up_terminal(
    socket: OwnedFd,
    size: Option<ConsoleSize>,
    dev_console: bool,
) -> Result<(), ConsoleError> {
    let pty = open_pty()?;
    if let Some(size) = size {
        set_window_size(pty.slave.as_raw_fd(), size)?;
    }
    if dev_console {
        bind_dev_console(&pty)?;
    }
    send_master(&socket, &pty.master)?;
    take_terminal(&pty)?;
    Ok(())
}
// ANCHOR_END: set_up_terminal

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_and_console_socket_go_together() {
        let socket = Some(Path::new("/run/console.sock"));
        assert!(check_terminal(true, socket, true).is_ok());
        assert!(check_terminal(false, None, true).is_ok());
        assert!(check_terminal(false, None, false).is_ok());
        assert!(matches!(check_terminal(true, None, true), Err(ConsoleError::TerminalWithoutConsoleSocket)));
        assert!(matches!(check_terminal(true, None, false), Err(ConsoleError::TerminalInForeground)));
        assert!(matches!(
            check_terminal(false, socket, true),
            Err(ConsoleError::ConsoleSocketWithoutTerminal { .. })
        ));
        assert!(matches!(
            check_terminal(true, socket, false),
            Err(ConsoleError::ConsoleSocketInForeground { .. })
        ));
    }
}
