//! What a test may do as the user it runs as: the one check, and the one message, for
//! tests that create containers, cgroups or mounts and so need root. Read
//! credentials(7) and capabilities(7).

/// Fails the test with one line unless it runs as root: `{needs}: run `sudo -E env
/// PATH="$PATH" {command}``, where `needs` says what needs root ("chapter 6 creates
/// containers … and needs root") and `command` is the `cargo test` to run again.
pub fn require_root(needs: &str, command: &str) {
    assert!(crate::probe::is_root(), "{needs}: run `sudo -E env PATH=\"$PATH\" {command}`");
}
