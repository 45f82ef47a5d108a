//! `huntbook export` (being written).

/// Not yet available.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> u8 {
    super::fail("`huntbook export` is not available yet")
}
