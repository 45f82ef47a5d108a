//! Where configuration files are looked for.
//!
//! For each of the two files the first candidate that exists is used:
//!
//! | file | 1. option | 2. environment | 3. current folder | 4. home |
//! |---|---|---|---|---|
//! | `msticpyconfig.yaml` | `--msticpy FILE` | `MSTICPYCONFIG` | `./msticpyconfig.yaml` | `~/.msticpy/msticpyconfig.yaml` |
//! | `huntbook.yaml` | `--config FILE` | `HUNTBOOK_CONFIG` | `./huntbook.yaml` | `$XDG_CONFIG_HOME/huntbook/huntbook.yaml`, by default `~/.config/huntbook/huntbook.yaml` |
//!
//! The msticpyconfig order is MSTICPy's own (`pkg_config.py`), so a notebook server
//! set up for MSTICPy is read unchanged. A file named by an option must exist; one
//! named by an environment variable that does not exist is passed over, as MSTICPy
//! does, and `config check` says so.

use std::fmt;
use std::path::{Path, PathBuf};

/// Which of the two configuration files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Msticpy,
    Huntbook,
}

impl FileKind {
    pub fn file_name(self) -> &'static str {
        match self {
            FileKind::Msticpy => "msticpyconfig.yaml",
            FileKind::Huntbook => "huntbook.yaml",
        }
    }

    pub fn env_var(self) -> &'static str {
        match self {
            FileKind::Msticpy => "MSTICPYCONFIG",
            FileKind::Huntbook => "HUNTBOOK_CONFIG",
        }
    }
}

/// Why a path was a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    Option,
    EnvVar,
    CurrentDir,
    Home,
}

/// What happened to a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Used,
    NotFound,
    /// It exists, but an earlier candidate of the same kind was used.
    Shadowed,
}

/// One place a configuration file was looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: FileKind,
    pub path: PathBuf,
    pub found_by: FoundBy,
    pub status: Status,
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let by = match self.found_by {
            FoundBy::Option => match self.kind {
                FileKind::Msticpy => "--msticpy",
                FileKind::Huntbook => "--config",
            },
            FoundBy::EnvVar => self.kind.env_var(),
            FoundBy::CurrentDir => "current folder",
            FoundBy::Home => "home",
        };
        let status = match self.status {
            Status::Used => "used",
            Status::NotFound => "not found",
            Status::Shadowed => "not used: an earlier file was found",
        };
        write!(f, "{} ({by}): {status}", self.path.display())
    }
}

/// The inputs of the search, gathered once so tests can set them.
#[derive(Debug, Clone, Default)]
pub struct ConfigSearch {
    /// `--msticpy FILE`.
    pub msticpy_file: Option<PathBuf>,
    /// `--config FILE`.
    pub huntbook_file: Option<PathBuf>,
    /// The value of `MSTICPYCONFIG`.
    pub msticpy_env: Option<PathBuf>,
    /// The value of `HUNTBOOK_CONFIG`.
    pub huntbook_env: Option<PathBuf>,
    pub current_dir: PathBuf,
    pub home: Option<PathBuf>,
    /// The value of `XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<PathBuf>,
}

impl ConfigSearch {
    /// The search this process would do, with no options given.
    pub fn from_process() -> ConfigSearch {
        let env_path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        ConfigSearch {
            msticpy_file: None,
            huntbook_file: None,
            msticpy_env: env_path(FileKind::Msticpy.env_var()),
            huntbook_env: env_path(FileKind::Huntbook.env_var()),
            current_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            home: env_path("HOME").or_else(|| env_path("USERPROFILE")),
            xdg_config_home: env_path("XDG_CONFIG_HOME"),
        }
    }

    /// Every candidate in search order (msticpyconfig first, since huntbook.yaml is
    /// laid over it), with its status.
    pub fn candidates(&self) -> Vec<Candidate> {
        let mut all = self.candidates_for(FileKind::Msticpy);
        all.extend(self.candidates_for(FileKind::Huntbook));
        all
    }

    fn candidates_for(&self, kind: FileKind) -> Vec<Candidate> {
        let (option, env) = match kind {
            FileKind::Msticpy => (&self.msticpy_file, &self.msticpy_env),
            FileKind::Huntbook => (&self.huntbook_file, &self.huntbook_env),
        };
        // An explicit option replaces the search rather than heading it.
        if let Some(path) = option {
            let path = self.absolute(path);
            let status = if path.is_file() {
                Status::Used
            } else {
                Status::NotFound
            };
            return vec![Candidate {
                kind,
                path,
                found_by: FoundBy::Option,
                status,
            }];
        }
        let home_file = match kind {
            FileKind::Msticpy => self
                .home
                .as_ref()
                .map(|h| h.join(".msticpy").join(kind.file_name())),
            FileKind::Huntbook => self
                .xdg_config_home
                .clone()
                .or_else(|| self.home.as_ref().map(|h| h.join(".config")))
                .map(|dir| dir.join("huntbook").join(kind.file_name())),
        };
        let mut paths = Vec::new();
        if let Some(path) = env {
            paths.push((self.absolute(path), FoundBy::EnvVar));
        }
        paths.push((self.current_dir.join(kind.file_name()), FoundBy::CurrentDir));
        if let Some(path) = home_file {
            paths.push((path, FoundBy::Home));
        }
        let mut used = false;
        paths
            .into_iter()
            .map(|(path, found_by)| {
                let status = match (used, path.is_file()) {
                    (_, false) => Status::NotFound,
                    (true, true) => Status::Shadowed,
                    (false, true) => {
                        used = true;
                        Status::Used
                    }
                };
                Candidate {
                    kind,
                    path,
                    found_by,
                    status,
                }
            })
            .collect()
    }

    fn absolute(&self, path: &Path) -> PathBuf {
        if let (Ok(rest), Some(home)) = (path.strip_prefix("~"), &self.home) {
            return home.join(rest);
        }
        self.current_dir.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dirs {
        _root: tempfile::TempDir,
        cwd: PathBuf,
        home: PathBuf,
    }

    fn dirs() -> Dirs {
        let root = tempfile::tempdir().unwrap();
        let cwd = root.path().join("work");
        let home = root.path().join("home");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(home.join(".msticpy")).unwrap();
        std::fs::create_dir_all(home.join(".config/huntbook")).unwrap();
        Dirs {
            _root: root,
            cwd,
            home,
        }
    }

    fn search(d: &Dirs) -> ConfigSearch {
        ConfigSearch {
            current_dir: d.cwd.clone(),
            home: Some(d.home.clone()),
            ..Default::default()
        }
    }

    fn used(candidates: &[Candidate], kind: FileKind) -> Option<PathBuf> {
        candidates
            .iter()
            .find(|c| c.kind == kind && c.status == Status::Used)
            .map(|c| c.path.clone())
    }

    #[test]
    fn home_files_are_the_last_resort() {
        let d = dirs();
        let mp_home = d.home.join(".msticpy/msticpyconfig.yaml");
        let hb_home = d.home.join(".config/huntbook/huntbook.yaml");
        std::fs::write(&mp_home, "").unwrap();
        std::fs::write(&hb_home, "").unwrap();
        let found = search(&d).candidates();
        assert_eq!(used(&found, FileKind::Msticpy), Some(mp_home));
        assert_eq!(used(&found, FileKind::Huntbook), Some(hb_home));
        assert_eq!(found.len(), 4);
    }

    #[test]
    fn the_current_folder_shadows_home() {
        let d = dirs();
        std::fs::write(d.home.join(".msticpy/msticpyconfig.yaml"), "").unwrap();
        std::fs::write(d.cwd.join("msticpyconfig.yaml"), "").unwrap();
        let found = search(&d).candidates();
        assert_eq!(
            used(&found, FileKind::Msticpy),
            Some(d.cwd.join("msticpyconfig.yaml"))
        );
        assert_eq!(found[1].status, Status::Shadowed);
        assert_eq!(used(&found, FileKind::Huntbook), None);
    }

    #[test]
    fn environment_variables_come_before_the_current_folder() {
        let d = dirs();
        let elsewhere = d.home.join("team.yaml");
        std::fs::write(&elsewhere, "").unwrap();
        std::fs::write(d.cwd.join("huntbook.yaml"), "").unwrap();
        let mut s = search(&d);
        s.huntbook_env = Some(elsewhere.clone());
        s.msticpy_env = Some(PathBuf::from("missing.yaml"));
        let found = s.candidates();
        assert_eq!(used(&found, FileKind::Huntbook), Some(elsewhere));
        let missing_env = &found[0];
        assert_eq!(missing_env.found_by, FoundBy::EnvVar);
        assert_eq!(missing_env.status, Status::NotFound);
        assert_eq!(missing_env.path, d.cwd.join("missing.yaml"));
    }

    #[test]
    fn an_option_replaces_the_search() {
        let d = dirs();
        std::fs::write(d.cwd.join("huntbook.yaml"), "").unwrap();
        let mut s = search(&d);
        s.huntbook_file = Some(PathBuf::from("other.yaml"));
        let found = s.candidates();
        let hb: Vec<_> = found
            .iter()
            .filter(|c| c.kind == FileKind::Huntbook)
            .collect();
        assert_eq!(hb.len(), 1);
        assert_eq!(hb[0].status, Status::NotFound);
        assert_eq!(
            hb[0].to_string(),
            format!(
                "{} (--config): not found",
                d.cwd.join("other.yaml").display()
            )
        );
    }

    #[test]
    fn xdg_config_home_moves_the_huntbook_home_file() {
        let d = dirs();
        let xdg = d.home.join("xdg");
        std::fs::create_dir_all(xdg.join("huntbook")).unwrap();
        std::fs::write(xdg.join("huntbook/huntbook.yaml"), "").unwrap();
        let mut s = search(&d);
        s.xdg_config_home = Some(xdg.clone());
        assert_eq!(
            used(&s.candidates(), FileKind::Huntbook),
            Some(xdg.join("huntbook/huntbook.yaml"))
        );
    }
}
