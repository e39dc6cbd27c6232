//! bigbang-container: a container is a process, and this crate builds one piece
//! by piece, a chapter at a time.
//!
//! # Layout
//! - `process`: run a command with another root directory (chroot), stdio passed
//!   through, its exit status reported as a shell would (chapter 1).
//! - `namespaces`: UTS, PID, mount, IPC, network, user and cgroup namespaces; id maps;
//!   an init that reaps orphans and forwards signals (chapter 2).
//! - `rootfs`: the container's mount tree: private propagation, bind mounts,
//!   pivot_root, /proc, /dev, /sys, masked and read-only paths, overlayfs (chapter 3).
//! - `cgroups`: one interface, a v1 and a v2 driver: memory, cpu, pids, stats (chapter 4).
//! - `security`: capabilities, no_new_privs, seccomp-bpf, rlimits, fd hygiene, a
//!   sealed runtime binary (chapter 5).
//!
//! - `spec`: the OCI runtime configuration (config.json): types, defaults, validation,
//!   and its mapping onto the pieces above (chapter 6).
//! - `lifecycle`: container state and the create/start/kill/delete state machine (chapter 6).
//! - `mountinfo`: `/proc/<pid>/mountinfo` parsed, every field, for rootfs, cgroups and tests.
//!
//! Networking (chapter 7) joins as its chapter is written.

pub mod cgroups;
pub mod lifecycle;
pub mod mountinfo;
pub mod namespaces;
pub mod process;
pub mod rootfs;
pub mod security;
pub mod spec;
