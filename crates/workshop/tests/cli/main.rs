//! The `cargo workshop` command line, run for real against a fixture workspace
//! (`fixture`): one test binary, so the fixture is compiled once and every part of
//! it is used by some test.

mod fixture;

mod book;
mod check;
mod files;
mod help;
mod progress;
