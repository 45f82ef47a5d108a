//! Kernelspec discovery: which `kernel.json` a kernel name (or a language) refers to.
//!
//! Kernels live in `<data dir>/kernels/<name>/kernel.json`. The data directories are
//! searched in this order, the first spec of a name winning:
//!
//! 1. the prefix of the Python interpreter or venv named in [`Discovery::python`]
//!    (`<prefix>/share/jupyter`), because naming an interpreter is the most specific
//!    choice a user can make;
//! 2. each entry of `$JUPYTER_PATH`;
//! 3. `$VIRTUAL_ENV/share/jupyter`, the venv the user has activated;
//! 4. the user data directory: `$JUPYTER_DATA_DIR`, else `$XDG_DATA_HOME/jupyter`, else
//!    `~/.local/share/jupyter`;
//! 5. the system directories `/usr/local/share/jupyter` and `/usr/share/jupyter`.
//!
//! A spec whose `argv[0]` is a bare `python` or `python3` is rewritten to the named
//! interpreter (or, for a Python kernel with no interpreter named, to the active
//! `$VIRTUAL_ENV`'s), as jupyter_client swaps in its own `sys.executable`. Without this,
//! a venv kernel would run whatever `python3` comes first on `PATH`, which usually lacks
//! ipykernel (papermill issues #251 and #761).

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::KernelError;

/// How to interrupt a kernel, from the spec's `interrupt_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InterruptMode {
    /// Send SIGINT to the kernel's process group (the default).
    #[default]
    Signal,
    /// Send an `interrupt_request` on the control channel.
    Message,
}

/// A kernel's launch recipe, read from its `kernel.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelSpec {
    /// The directory name, which is the kernel's name (lower case).
    pub name: String,
    /// The human name shown in notebook UIs.
    pub display_name: String,
    /// The language, e.g. `python`.
    pub language: String,
    /// The command; `{connection_file}` and `{resource_dir}` are substituted at launch.
    pub argv: Vec<String>,
    /// Extra environment for the kernel; `${VAR}` in a value expands to our environment.
    pub env: BTreeMap<String, String>,
    /// How to interrupt it.
    pub interrupt_mode: InterruptMode,
    /// The directory holding `kernel.json` (and logos).
    pub resource_dir: PathBuf,
}

impl KernelSpec {
    /// Reads `<dir>/kernel.json`; the kernel's name is the directory's name.
    pub fn from_dir(dir: &Path) -> Result<KernelSpec, KernelError> {
        let path = dir.join("kernel.json");
        let bad = |reason: String| KernelError::BadKernelSpec {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| KernelError::io(format!("cannot read {}", path.display()), e))?;
        let json: Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON ({e})")))?;
        let argv: Vec<String> = match json.get("argv") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| bad("\"argv\" must be a list of strings".into()))?,
            _ => return Err(bad("\"argv\" is missing or not a list".into())),
        };
        if argv.is_empty() {
            return Err(bad("\"argv\" is empty".into()));
        }
        let mut env = BTreeMap::new();
        match json.get("env") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    let value = value
                        .as_str()
                        .ok_or_else(|| bad(format!("\"env\".{key} must be a string")))?;
                    env.insert(key.clone(), value.to_string());
                }
            }
            Some(_) => return Err(bad("\"env\" must be an object".into())),
        }
        let interrupt_mode = match json.get("interrupt_mode").and_then(Value::as_str) {
            None | Some("signal") => InterruptMode::Signal,
            Some("message") => InterruptMode::Message,
            Some(other) => {
                return Err(bad(format!(
                    "\"interrupt_mode\" is {other:?}; expected \"signal\" or \"message\""
                )))
            }
        };
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let text_field = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_string);
        Ok(KernelSpec {
            display_name: text_field("display_name").unwrap_or_else(|| name.clone()),
            language: text_field("language").unwrap_or_default(),
            name,
            argv,
            env,
            interrupt_mode,
            resource_dir: dir.to_path_buf(),
        })
    }
}

/// Where to look for kernels, and which interpreter Python kernels should run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// A Python interpreter, or a venv/prefix directory holding `bin/python`. Its
    /// prefix is searched first and it replaces a bare `python`/`python3` in `argv[0]`.
    pub python: Option<PathBuf>,
}

impl Discovery {
    /// Discovery with a named interpreter or venv.
    pub fn with_python(python: impl Into<PathBuf>) -> Discovery {
        Discovery {
            python: Some(python.into()),
        }
    }

    /// The `kernels` directories searched, in order, without duplicates.
    pub fn search_dirs(&self) -> Result<Vec<PathBuf>, KernelError> {
        Ok(self.resolve(&ProcessEnv)?.dirs)
    }

    fn resolve(&self, env: &dyn Env) -> Result<Resolved, KernelError> {
        let named = match &self.python {
            Some(path) => Some(Interpreter::locate(path)?),
            None => None,
        };
        let venv = env
            .var("VIRTUAL_ENV")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);

        let mut data_dirs = Vec::new();
        if let Some(python) = &named {
            data_dirs.push(python.prefix.join("share/jupyter"));
        }
        if let Some(paths) = env.var("JUPYTER_PATH") {
            data_dirs.extend(std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty()));
        }
        if let Some(venv) = &venv {
            data_dirs.push(venv.join("share/jupyter"));
        }
        if let Some(user) = user_data_dir(env) {
            data_dirs.push(user);
        }
        data_dirs.push(PathBuf::from("/usr/local/share/jupyter"));
        data_dirs.push(PathBuf::from("/usr/share/jupyter"));

        let mut seen = HashSet::new();
        let dirs = data_dirs
            .into_iter()
            .map(|d| d.join("kernels"))
            .filter(|d| seen.insert(d.clone()))
            .collect();
        let venv_python = venv.map(|v| v.join("bin/python")).filter(|p| p.exists());
        Ok(Resolved {
            dirs,
            named_python: named.map(|i| i.executable),
            venv_python,
        })
    }
}

/// The result of applying a [`Discovery`] to an environment.
struct Resolved {
    dirs: Vec<PathBuf>,
    named_python: Option<PathBuf>,
    venv_python: Option<PathBuf>,
}

impl Resolved {
    /// Every readable spec, first of each name wins, in search order then name order.
    /// Unreadable specs are returned separately so that `find` can report them.
    fn scan(&self) -> (Vec<KernelSpec>, Vec<(String, KernelError)>) {
        let mut specs = Vec::new();
        let mut broken = Vec::new();
        let mut seen = HashSet::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut subdirs: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.join("kernel.json").is_file())
                .collect();
            subdirs.sort();
            for sub in subdirs {
                let name = sub
                    .file_name()
                    .map(|n| n.to_string_lossy().to_lowercase())
                    .unwrap_or_default();
                if !seen.insert(name.clone()) {
                    continue;
                }
                match KernelSpec::from_dir(&sub) {
                    Ok(spec) => specs.push(self.rewrite(spec)),
                    Err(err) => broken.push((name, err)),
                }
            }
        }
        (specs, broken)
    }

    /// Points a bare `python`/`python3` at the chosen interpreter.
    fn rewrite(&self, mut spec: KernelSpec) -> KernelSpec {
        let interpreter = match (&self.named_python, &self.venv_python) {
            (Some(named), _) => Some(named),
            (None, Some(venv)) if spec.language.eq_ignore_ascii_case("python") => Some(venv),
            _ => None,
        };
        if let Some(interpreter) = interpreter {
            if matches!(spec.argv[0].as_str(), "python" | "python3") {
                spec.argv[0] = interpreter.to_string_lossy().into_owned();
            }
        }
        spec
    }

    fn not_found(&self, specs: &[KernelSpec]) -> (Vec<(String, PathBuf)>, Vec<PathBuf>) {
        let found = specs
            .iter()
            .map(|s| (s.name.clone(), s.resource_dir.clone()))
            .collect();
        (found, self.dirs.clone())
    }
}

/// Finds the kernel named `name` (case-insensitive).
pub fn find_kernelspec(name: &str, discovery: &Discovery) -> Result<KernelSpec, KernelError> {
    find_in(name, &discovery.resolve(&ProcessEnv)?)
}

fn find_in(name: &str, resolved: &Resolved) -> Result<KernelSpec, KernelError> {
    let wanted = name.to_lowercase();
    let (specs, broken) = resolved.scan();
    if let Some(spec) = specs.iter().find(|s| s.name == wanted) {
        return Ok(spec.clone());
    }
    if let Some((_, err)) = broken.into_iter().find(|(n, _)| *n == wanted) {
        return Err(err);
    }
    let (found, searched) = resolved.not_found(&specs);
    Err(KernelError::NoSuchKernel {
        name: name.to_string(),
        found,
        searched,
    })
}

/// Every usable kernel, first of each name wins, in search order. Broken specs are
/// left out (asking for one by name reports why it is broken).
pub fn list_kernelspecs(discovery: &Discovery) -> Result<Vec<KernelSpec>, KernelError> {
    Ok(discovery.resolve(&ProcessEnv)?.scan().0)
}

/// The first kernel (in search order) whose language is `language` (case-insensitive).
/// For Python, a kernel named `python3` is preferred when several exist.
pub fn kernelspec_for_language(
    language: &str,
    discovery: &Discovery,
) -> Result<KernelSpec, KernelError> {
    for_language_in(language, &discovery.resolve(&ProcessEnv)?)
}

fn for_language_in(language: &str, resolved: &Resolved) -> Result<KernelSpec, KernelError> {
    let (specs, _) = resolved.scan();
    let matching: Vec<&KernelSpec> = specs
        .iter()
        .filter(|s| s.language.eq_ignore_ascii_case(language))
        .collect();
    let preferred = matching
        .iter()
        .find(|s| s.name == "python3" && language.eq_ignore_ascii_case("python"))
        .or_else(|| matching.first());
    if let Some(spec) = preferred {
        return Ok((*spec).clone());
    }
    let (found, searched) = resolved.not_found(&specs);
    Err(KernelError::NoKernelForLanguage {
        language: language.to_string(),
        found,
        searched,
    })
}

/// A named Python interpreter and the prefix its kernels are installed under.
struct Interpreter {
    executable: PathBuf,
    prefix: PathBuf,
}

impl Interpreter {
    /// Accepts an interpreter (`.venv/bin/python`) or a prefix (`.venv`). The path is
    /// not canonicalised: a venv's `bin/python` is a symlink to the base interpreter,
    /// and following it would lose the venv.
    fn locate(path: &Path) -> Result<Interpreter, KernelError> {
        let path = if path.is_relative() {
            std::env::current_dir()
                .map(|cwd| cwd.join(path))
                .unwrap_or_else(|_| path.to_path_buf())
        } else {
            path.to_path_buf()
        };
        if path.is_dir() {
            let executable = ["bin/python", "bin/python3"]
                .iter()
                .map(|rel| path.join(rel))
                .find(|p| p.is_file())
                .ok_or_else(|| KernelError::PythonNotFound { path: path.clone() })?;
            return Ok(Interpreter {
                executable,
                prefix: path,
            });
        }
        if !path.is_file() {
            return Err(KernelError::PythonNotFound { path });
        }
        // <prefix>/bin/python: the prefix is two levels up.
        let prefix = path
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .ok_or_else(|| KernelError::PythonNotFound { path: path.clone() })?;
        Ok(Interpreter {
            executable: path,
            prefix,
        })
    }
}

fn user_data_dir(env: &dyn Env) -> Option<PathBuf> {
    let non_empty = |key: &str| env.var(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = non_empty("JUPYTER_DATA_DIR") {
        return Some(dir);
    }
    if let Some(dir) = non_empty("XDG_DATA_HOME") {
        return Some(dir.join("jupyter"));
    }
    non_empty("HOME").map(|home| home.join(".local/share/jupyter"))
}

/// The environment variables discovery reads; a trait so tests need not mutate the
/// process environment, which other threads may be reading.
trait Env {
    fn var(&self, key: &str) -> Option<OsString>;
}

struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<OsString> {
        std::env::var_os(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct FakeEnv(HashMap<&'static str, OsString>);

    impl Env for FakeEnv {
        fn var(&self, key: &str) -> Option<OsString> {
            self.0.get(key).cloned()
        }
    }

    fn fake_env(pairs: &[(&'static str, &Path)]) -> FakeEnv {
        FakeEnv(
            pairs
                .iter()
                .map(|(k, v)| (*k, v.as_os_str().to_owned()))
                .collect(),
        )
    }

    fn write_spec(data_dir: &Path, name: &str, json: &str) -> PathBuf {
        let dir = data_dir.join("kernels").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kernel.json"), json).unwrap();
        dir
    }

    /// A fake venv: `<root>/bin/python` (an empty file is enough to be located).
    fn fake_venv(root: &Path) -> PathBuf {
        std::fs::create_dir_all(root.join("bin")).unwrap();
        let python = root.join("bin/python");
        std::fs::write(&python, "").unwrap();
        python
    }

    const PY_SPEC: &str = r#"{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}"#;

    #[test]
    fn search_order_and_first_name_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let jp = tmp.path().join("jp");
        let venv = tmp.path().join("venv");
        let home = tmp.path().join("home");
        write_spec(
            &jp,
            "shared",
            r#"{"argv": ["from-jupyter-path"], "language": "x"}"#,
        );
        write_spec(
            &venv.join("share/jupyter"),
            "shared",
            r#"{"argv": ["from-venv"]}"#,
        );
        write_spec(
            &home.join(".local/share/jupyter"),
            "mine",
            r#"{"argv": ["a"]}"#,
        );
        let env = fake_env(&[
            ("JUPYTER_PATH", &jp),
            ("VIRTUAL_ENV", &venv),
            ("HOME", &home),
        ]);
        let resolved = Discovery::default().resolve(&env).unwrap();
        assert_eq!(
            resolved.dirs[..3],
            [
                jp.join("kernels"),
                venv.join("share/jupyter/kernels"),
                home.join(".local/share/jupyter/kernels")
            ]
        );
        assert_eq!(
            resolved.dirs.last().unwrap(),
            Path::new("/usr/share/jupyter/kernels")
        );
        let shared = find_in("SHARED", &resolved).unwrap();
        assert_eq!(shared.argv, ["from-jupyter-path"]);
        assert_eq!(shared.display_name, "shared");
        assert!(find_in("mine", &resolved).is_ok());
    }

    #[test]
    fn user_dir_precedence() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        let env = fake_env(&[
            ("JUPYTER_DATA_DIR", &a),
            ("XDG_DATA_HOME", &b),
            ("HOME", tmp.path()),
        ]);
        assert_eq!(user_data_dir(&env), Some(a.clone()));
        let env = fake_env(&[("XDG_DATA_HOME", &b), ("HOME", tmp.path())]);
        assert_eq!(user_data_dir(&env), Some(b.join("jupyter")));
        let env = fake_env(&[("HOME", tmp.path())]);
        assert_eq!(
            user_data_dir(&env),
            Some(tmp.path().join(".local/share/jupyter"))
        );
    }

    #[test]
    fn named_python_is_searched_first_and_replaces_bare_python() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        let python = fake_venv(&venv);
        let jp = tmp.path().join("jp");
        write_spec(&jp, "python3", PY_SPEC);
        write_spec(&venv.join("share/jupyter"), "python3", PY_SPEC);
        let env = fake_env(&[("JUPYTER_PATH", &jp)]);

        for named in [python.clone(), venv.clone()] {
            let resolved = Discovery::with_python(&named).resolve(&env).unwrap();
            assert_eq!(resolved.dirs[0], venv.join("share/jupyter/kernels"));
            let spec = find_in("python3", &resolved).unwrap();
            assert_eq!(
                spec.resource_dir,
                venv.join("share/jupyter/kernels/python3")
            );
            assert_eq!(spec.argv[0], python.to_string_lossy());
        }
    }

    #[test]
    fn virtual_env_python_used_only_for_python_kernels() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        let python = fake_venv(&venv);
        let jp = tmp.path().join("jp");
        write_spec(&jp, "py", PY_SPEC);
        write_spec(
            &jp,
            "other",
            r#"{"argv": ["python", "-m", "x"], "language": "r"}"#,
        );
        write_spec(
            &jp,
            "abs",
            r#"{"argv": ["/opt/py/bin/python"], "language": "python"}"#,
        );
        let env = fake_env(&[("JUPYTER_PATH", &jp), ("VIRTUAL_ENV", &venv)]);
        let resolved = Discovery::default().resolve(&env).unwrap();
        assert_eq!(
            find_in("py", &resolved).unwrap().argv[0],
            python.to_string_lossy()
        );
        assert_eq!(find_in("other", &resolved).unwrap().argv[0], "python");
        assert_eq!(
            find_in("abs", &resolved).unwrap().argv[0],
            "/opt/py/bin/python"
        );

        // Without any interpreter the argv is left to PATH lookup.
        let resolved = Discovery::default()
            .resolve(&fake_env(&[("JUPYTER_PATH", &jp)]))
            .unwrap();
        assert_eq!(find_in("py", &resolved).unwrap().argv[0], "python");
    }

    #[test]
    fn missing_python_is_reported() {
        let err = Discovery::with_python("/nonexistent/bin/python")
            .resolve(&fake_env(&[]))
            .err()
            .unwrap();
        assert!(matches!(err, KernelError::PythonNotFound { .. }), "{err}");
    }

    #[test]
    fn not_found_lists_names_and_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        write_spec(tmp.path(), "python3", PY_SPEC);
        let env = fake_env(&[("JUPYTER_PATH", tmp.path())]);
        let resolved = Discovery::default().resolve(&env).unwrap();
        match find_in("julia", &resolved) {
            Err(KernelError::NoSuchKernel {
                found, searched, ..
            }) => {
                assert!(found.iter().any(|(n, _)| n == "python3"));
                assert_eq!(searched[0], tmp.path().join("kernels"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            for_language_in("julia", &resolved),
            Err(KernelError::NoKernelForLanguage { .. })
        ));
    }

    #[test]
    fn language_lookup_prefers_python3() {
        let tmp = tempfile::tempdir().unwrap();
        write_spec(tmp.path(), "a-python", PY_SPEC);
        write_spec(tmp.path(), "python3", PY_SPEC);
        let env = fake_env(&[("JUPYTER_PATH", tmp.path())]);
        let resolved = Discovery::default().resolve(&env).unwrap();
        assert_eq!(
            for_language_in("Python", &resolved).unwrap().name,
            "python3"
        );
    }

    #[test]
    fn broken_specs_are_reported_by_name_and_skipped_in_lists() {
        let tmp = tempfile::tempdir().unwrap();
        write_spec(tmp.path(), "broken", r#"{"argv": []}"#);
        write_spec(
            tmp.path(),
            "bad-mode",
            r#"{"argv": ["x"], "interrupt_mode": "nope"}"#,
        );
        write_spec(
            tmp.path(),
            "msg",
            r#"{"argv": ["x"], "interrupt_mode": "message", "env": {"A": "1"}}"#,
        );
        let env = fake_env(&[("JUPYTER_PATH", tmp.path())]);
        let resolved = Discovery::default().resolve(&env).unwrap();
        let err = find_in("broken", &resolved).unwrap_err();
        assert!(err.to_string().contains("\"argv\" is empty"), "{err}");
        assert!(find_in("bad-mode", &resolved)
            .unwrap_err()
            .to_string()
            .contains("interrupt_mode"));
        let msg = find_in("msg", &resolved).unwrap();
        assert_eq!(msg.interrupt_mode, InterruptMode::Message);
        assert_eq!(msg.env.get("A").map(String::as_str), Some("1"));
        let names: Vec<String> = resolved.scan().0.into_iter().map(|s| s.name).collect();
        assert!(names.contains(&"msg".to_string()) && !names.contains(&"broken".to_string()));
    }
}
