//! `bang-oci`, the OCI runtime of chapter 6 (see `oci_cli.rs` for its command line).

use std::process::ExitCode;

use bigbang_container::{lifecycle, spec};

#[path = "../oci_cli.rs"]
mod oci_cli;

fn main() -> ExitCode {
    oci_cli::main()
}
