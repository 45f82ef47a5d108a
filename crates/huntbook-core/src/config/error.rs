use std::path::PathBuf;

/// Why the configuration could not be loaded at all. Mistakes inside a file that
/// loaded are [`Problem`](super::Problem)s instead, so one run reports them all.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{} (given by {given_by}) does not exist; check the path or unset it", path.display())]
    NotFound { path: PathBuf, given_by: String },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: invalid YAML: {message}", path.display())]
    Yaml {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: the file must be a YAML mapping of sections (AzureSentinel:, TIProviders: ...), not {found}", path.display())]
    NotAMapping { path: PathBuf, found: &'static str },
}
