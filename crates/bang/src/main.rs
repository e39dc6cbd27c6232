//! `bang`: the command-line face of what the book builds. Its commands arrive
//! with their chapters: `bang run` (chapter 8), `bang build` (9),
//! `bang registry serve` (10), `bang push`/`pull` (11), `bang cluster up` (17).

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "bang",
    version,
    about = "Containers, images, a registry and a small Kubernetes, built from scratch"
)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    println!("bang has no commands yet: they arrive with chapters 8 to 17 of the book.");
    Ok(())
}
