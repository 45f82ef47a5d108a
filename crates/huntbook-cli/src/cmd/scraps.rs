//! `huntbook scraps` (being written).

/// Not yet available.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> u8 {
    super::fail("`huntbook scraps` is not available yet")
}
