//! One module per subcommand.

pub mod analyse;
pub mod auditd;
pub mod b64;
pub mod config;
pub mod export;
pub mod geo;
pub mod ioc;
pub mod mask;
pub mod params;
pub mod plot;
pub mod proctree;
pub mod query;
pub mod run;
pub mod runs;
pub mod sample_data;
pub mod scraps;
pub mod serve;
pub mod service;
pub mod submit;
pub mod table_io;
pub mod ti;
pub mod token;

/// Prints an error for the user and returns the usage exit code.
pub fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("huntbook: error: {message}");
    crate::EXIT_USAGE
}
