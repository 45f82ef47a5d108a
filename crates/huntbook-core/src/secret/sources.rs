//! The sources that need no network: environment variables and files.

use std::io::ErrorKind;

use super::{Secret, SecretError, SecretKind, SecretRef, SecretSource};

/// Reads `{EnvironmentVar: NAME}` from this process's environment. An empty value
/// counts as missing, as MSTICPy's check reports it.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvSource;

impl SecretSource for EnvSource {
    fn kind(&self) -> SecretKind {
        SecretKind::EnvironmentVar
    }

    fn resolve(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
        let SecretRef::EnvironmentVar { name } = reference else {
            return Err(wrong_kind(self.kind(), reference));
        };
        let name = name.clone();
        match std::env::var(&name) {
            Ok(value) if value.is_empty() => Err(SecretError::EnvEmpty { name }),
            Ok(value) => Ok(Secret::new(value)),
            Err(std::env::VarError::NotPresent) => Err(SecretError::EnvNotSet { name }),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::EnvNotUnicode { name }),
        }
    }
}

/// Reads `{File: path}`: the whole file minus one trailing newline (`\n` or `\r\n`),
/// the way secret files mounted by Docker or Kubernetes are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileSource;

impl SecretSource for FileSource {
    fn kind(&self) -> SecretKind {
        SecretKind::File
    }

    fn resolve(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
        let SecretRef::File { path } = reference else {
            return Err(wrong_kind(self.kind(), reference));
        };
        let text = std::fs::read_to_string(path).map_err(|source| {
            let source = if source.kind() == ErrorKind::InvalidData {
                std::io::Error::new(ErrorKind::InvalidData, "the file is not UTF-8 text")
            } else {
                source
            };
            SecretError::FileUnreadable {
                path: path.clone(),
                source,
            }
        })?;
        let value = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text);
        if value.is_empty() {
            return Err(SecretError::FileEmpty { path: path.clone() });
        }
        Ok(Secret::new(value))
    }
}

fn wrong_kind(kind: SecretKind, reference: &SecretRef) -> SecretError {
    SecretError::Source {
        kind,
        reference: reference.to_string(),
        message: format!(
            "a {kind} source cannot resolve a {} reference",
            reference.kind()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> SecretRef {
        SecretRef::EnvironmentVar { name: name.into() }
    }

    #[test]
    fn environment_variables_are_read() {
        // Names unique to this test: the test threads share one environment.
        std::env::set_var("HUNTBOOK_TEST_SECRET_SET", "s3cret");
        std::env::set_var("HUNTBOOK_TEST_SECRET_EMPTY", "");
        assert_eq!(
            EnvSource
                .resolve(&env("HUNTBOOK_TEST_SECRET_SET"))
                .unwrap()
                .expose(),
            "s3cret"
        );
        assert!(matches!(
            EnvSource.resolve(&env("HUNTBOOK_TEST_SECRET_EMPTY")),
            Err(SecretError::EnvEmpty { .. })
        ));
        let err = EnvSource
            .resolve(&env("HUNTBOOK_TEST_SECRET_NEVER_SET"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable HUNTBOOK_TEST_SECRET_NEVER_SET is not set; export it or change the reference"
        );
    }

    #[test]
    fn files_lose_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        for (name, content, expected) in [
            ("lf", "abc\n", "abc"),
            ("crlf", "abc\r\n", "abc"),
            ("bare", "abc", "abc"),
            ("two", "abc\n\n", "abc\n"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            let secret = FileSource.resolve(&SecretRef::File { path }).unwrap();
            assert_eq!(secret.expose(), expected, "{name}");
        }
    }

    #[test]
    fn unreadable_and_empty_files_are_errors_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = FileSource
            .resolve(&SecretRef::File {
                path: missing.clone(),
            })
            .unwrap_err();
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        assert!(matches!(
            FileSource.resolve(&SecretRef::File { path: empty }),
            Err(SecretError::FileEmpty { .. })
        ));
        let binary = dir.path().join("binary");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        let err = FileSource
            .resolve(&SecretRef::File { path: binary })
            .unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn a_source_refuses_other_kinds() {
        let err = EnvSource
            .resolve(&SecretRef::File { path: "/x".into() })
            .unwrap_err();
        assert!(matches!(err, SecretError::Source { .. }));
    }
}
