//! One module per subcommand.

pub mod export;
pub mod params;
pub mod run;
pub mod scraps;

/// Prints an error for the user and returns the usage exit code.
pub fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("huntbook: error: {message}");
    crate::EXIT_USAGE
}
