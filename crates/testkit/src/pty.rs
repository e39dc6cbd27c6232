//! A program (podman, docker, a shell) on a pseudo-terminal whose master the test
//! holds, as a person's terminal would be: what `-it` needs to be tested as it is
//! used. Read pty(7) and setsid(2).

use std::os::fd::OwnedFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A program (podman, docker) whose standard streams are the slave of a pty whose master
/// this test holds, as a person's terminal would be: what `-it` needs to be tested
/// as it is used. The session is killed on drop if it is still running.
pub struct PtySession {
    master: OwnedFd,
    child: Child,
    printed: Vec<u8>,
}

impl PtySession {
    /// Starts `command` on a new pty of `rows` x `cols`, in a session of its own (so
    /// the test's own signals and terminal stay out of it).
    pub fn spawn(mut command: Command, rows: u16, cols: u16) -> PtySession {
        use std::os::unix::process::CommandExt;
        let size = nix::pty::Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
        let pty = nix::pty::openpty(Some(&size), None).expect("openpty");
        let slave = pty.slave;
        command
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid(2) is async-signal-safe.
        unsafe { command.pre_exec(|| nix::unistd::setsid().map(drop).map_err(std::io::Error::from)) };
        let child = command.spawn().expect("spawning a program on the pty");
        // The command holds the slave's copies until dropped: EIO needs them closed.
        drop(command);
        PtySession { master: pty.master, child, printed: Vec::new() }
    }

    /// Everything the terminal printed so far.
    pub fn printed(&self) -> String {
        String::from_utf8_lossy(&self.printed).into_owned()
    }

    /// Reads what arrives within `wait`: how many bytes, or `None` once the terminal
    /// is closed (EIO: no process holds the slave any more).
    fn read_some(&mut self, wait: Duration) -> Option<usize> {
        use std::os::fd::AsFd;
        let timeout = nix::poll::PollTimeout::try_from(wait.as_millis() as i32).unwrap();
        let mut fds = [nix::poll::PollFd::new(self.master.as_fd(), nix::poll::PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, timeout) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => return Some(0),
            Ok(_) => {}
            Err(err) => panic!("poll on the pty: {err}"),
        }
        let mut buf = [0u8; 4096];
        match nix::unistd::read(&self.master, &mut buf) {
            Ok(0) | Err(nix::errno::Errno::EIO) => None,
            Ok(n) => {
                self.printed.extend_from_slice(&buf[..n]);
                Some(n)
            }
            Err(nix::errno::Errno::EINTR) => Some(0),
            Err(err) => panic!("reading the pty: {err}"),
        }
    }

    /// Reads until the terminal has printed `expected` (at most 60 s, then fails).
    pub fn wait_for(&mut self, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.printed().contains(expected) {
            assert!(
                Instant::now() < deadline,
                "the terminal never printed {expected:?}:\n{}",
                self.printed()
            );
            let read = self.read_some(Duration::from_millis(200));
            assert!(read.is_some(), "the terminal closed:\n{}", self.printed());
        }
    }

    /// Types `input` (a line ends with \r, as the Enter key sends it).
    pub fn send(&mut self, input: &str) {
        nix::unistd::write(&self.master, input.as_bytes()).expect("writing to the pty");
    }

    /// Reads until the program has exited and the terminal has nothing more to say
    /// (at most 60 s, then fails); returns what it printed, as lines without \r,
    /// and the program's status.
    pub fn finish(mut self) -> (Vec<String>, ExitStatus) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the program never exited:\n{}", self.printed());
            if self.read_some(Duration::from_millis(200)).is_none() {
                // Closed already: nothing to poll for, only the exit to wait for.
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        // What is still buffered in the pty.
        while let Some(n) = self.read_some(Duration::from_millis(200)) {
            if n == 0 {
                break;
            }
        }
        let lines = self.printed().lines().map(|l| l.trim_end_matches('\r').to_string()).collect();
        (lines, status)
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
