//! `chapter-6`: bang-oci built on your lifecycle (`exercises/06-oci-runtime/`). The
//! command line is the product's (`crates/bang/src/oci_cli.rs`), so this binary
//! takes the same verbs and flags as `bang-oci` and runc:
//!
//! ```text
//! cargo run -p chapter-6 -- spec --bundle /tmp/b        # a config.json, as runc spec
//! sudo target/debug/chapter-6 run --bundle /tmp/b demo
//! ```

use std::process::ExitCode;

use chapter_6::{lifecycle, spec};

#[path = "../../../crates/bang/src/oci_cli.rs"]
mod oci_cli;

fn main() -> ExitCode {
    oci_cli::main()
}
