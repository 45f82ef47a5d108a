//! `huntbook config check|init` end to end: the real binary in a temporary folder
//! that is both its current folder and (below it) its home, with the configuration
//! environment variables cleared, so only the files each test writes are found.

mod common;

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{wait_for, Outcome};

const LIMIT: Duration = Duration::from_secs(60);
const WORKSPACE: &str = "c1e9ab1f-5a3e-4a7b-9a1d-0d2d7e3b6f10";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

struct Sandbox {
    _root: tempfile::TempDir,
    cwd: PathBuf,
    home: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::Builder::new()
            .prefix("huntbook-config-")
            .tempdir()
            .unwrap();
        let cwd = root.path().join("work");
        let home = root.path().join("home");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        Sandbox {
            _root: root,
            cwd,
            home,
        }
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.cwd.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `huntbook ARGS` here with only these configuration-related variables set.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        let mut stdout = tempfile::tempfile().unwrap();
        let mut stderr = tempfile::tempfile().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_huntbook"));
        cmd.current_dir(&self.cwd)
            .args(args)
            .env("HOME", &self.home)
            .env_remove("MSTICPYCONFIG")
            .env_remove("HUNTBOOK_CONFIG")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::null())
            .stdout(stdout.try_clone().unwrap())
            .stderr(stderr.try_clone().unwrap());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let line = format!("huntbook {}", args.join(" "));
        let started = Instant::now();
        let mut child = cmd.spawn().expect("starting the huntbook binary");
        let Some(status) = wait_for(LIMIT, || child.try_wait().expect("waiting for huntbook"))
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{line}` still running after {LIMIT:?}: killed it");
        };
        let read = |file: &mut std::fs::File| {
            let mut bytes = Vec::new();
            file.rewind().unwrap();
            file.read_to_end(&mut bytes).unwrap();
            bytes
        };
        Outcome {
            status,
            code: status.code(),
            stdout: read(&mut stdout),
            stderr: String::from_utf8_lossy(&read(&mut stderr)).into_owned(),
            elapsed: started.elapsed(),
            line,
        }
    }
}

fn stdout(out: &Outcome) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_has(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn init_writes_a_starting_file_that_checks_clean_and_refuses_to_overwrite() {
    let s = Sandbox::new();
    let out = s.run(&["config", "init"], &[]);
    out.expect_code(0);
    let written = std::fs::read_to_string(s.cwd.join("huntbook.yaml")).unwrap();
    for form in [
        "EnvironmentVar:",
        "KeyVault:",
        "HashiCorpVault:",
        "File:",
        "AuthKey: 0123abcd",
    ] {
        assert!(written.contains(form), "template lacks {form}");
    }
    assert_eq!(files_in(&s.cwd), ["huntbook.yaml"]);

    let check = s.run(&["config", "check"], &[]);
    check.expect_code(0);
    assert_has(
        &stdout(&check),
        &[
            "huntbook.yaml (current folder): used",
            "0 errors, 0 warnings",
        ],
    );

    std::fs::write(s.cwd.join("huntbook.yaml"), "mine: true\n").unwrap();
    let again = s.run(&["config", "init"], &[]);
    again.expect_code(2);
    assert_has(&again.stderr, &["huntbook.yaml already exists", "--force"]);
    assert_eq!(
        std::fs::read_to_string(s.cwd.join("huntbook.yaml")).unwrap(),
        "mine: true\n"
    );

    s.run(&["config", "init", "--force"], &[]).expect_code(0);
    assert_eq!(
        std::fs::read_to_string(s.cwd.join("huntbook.yaml")).unwrap(),
        written
    );

    s.run(&["config", "init", "-o", "conf/team.yaml"], &[])
        .expect_code(2);
    std::fs::create_dir(s.cwd.join("conf")).unwrap();
    s.run(&["config", "init", "-o", "conf/team.yaml"], &[])
        .expect_code(0);
    assert_eq!(files_in(&s.cwd.join("conf")), ["team.yaml"]);
}

#[test]
fn check_lists_files_settings_and_origins_without_secret_values() {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.home.join(".msticpy")).unwrap();
    std::fs::write(
        s.home.join(".msticpy/msticpyconfig.yaml"),
        format!(
            "AzureSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: {WORKSPACE}\n      TenantId: {TENANT}\nTIProviders:\n  OTX:\n    Args:\n      AuthKey: literal-otx-value\n    Primary: True\n"
        ),
    )
    .unwrap();
    s.write(
        "huntbook.yaml",
        "TIProviders:\n  VirusTotal:\n    Args:\n      AuthKey: {EnvironmentVar: VT_KEY_FOR_TEST}\n",
    );
    let out = s.run(&["config", "check"], &[]);
    out.expect_code(0);
    let text = stdout(&out);
    let home_file = s.home.join(".msticpy/msticpyconfig.yaml");
    let cwd_file = s.cwd.join("huntbook.yaml");
    assert_has(
        &text,
        &[
            &format!("{} (home): used", home_file.display()),
            &format!("{} (current folder): not found", s.cwd.join("msticpyconfig.yaml").display()),
            &format!("{} (current folder): used", cwd_file.display()),
            &format!("AzureSentinel.Workspaces.Default.WorkspaceId = {WORKSPACE}  ({}:4)", home_file.display()),
            &format!("TIProviders.OTX.Args.AuthKey = [secret: literal]  ({}:9)", home_file.display()),
            &format!(
                "TIProviders.VirusTotal.Args.AuthKey = [secret: EnvironmentVar VT_KEY_FOR_TEST]  ({}:4)",
                cwd_file.display()
            ),
            "Azure.cloud = global  (built-in default)",
            "Warnings:\n  TIProviders.OTX.Args.AuthKey",
            "0 errors, 1 warnings",
        ],
    );
    // The msticpyconfig files are listed before huntbook.yaml, in search order.
    assert!(text.find("msticpyconfig.yaml\n").unwrap() < text.find("  huntbook.yaml\n").unwrap());
    assert!(!text.contains("literal-otx-value") && !out.stderr.contains("literal-otx-value"));
}

#[test]
fn errors_name_key_file_and_line_and_exit_2() {
    let s = Sandbox::new();
    let file = s.write(
        "huntbook.yaml",
        &format!(
            "AzureSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: not-a-guid\n      TenantId: {TENANT}\nTIProviders:\n  OTX:\n    Args:\n      AuthKey: {{Vault: x}}\n"
        ),
    );
    let out = s.run(&["config", "check"], &[]);
    out.expect_code(2);
    assert_has(
        &stdout(&out),
        &[
            "Errors:",
            &format!(
                "AzureSentinel.Workspaces.Default.WorkspaceId ({}:4): `not-a-guid` is not a GUID",
                file.display()
            ),
            &format!(
                "TIProviders.OTX.Args.AuthKey ({}:9): unknown credential form",
                file.display()
            ),
            "2 errors",
        ],
    );
    assert_has(
        &out.stderr,
        &["huntbook: error: the configuration has 2 errors"],
    );
}

#[test]
fn resolve_reports_ok_and_missing_without_values() {
    let s = Sandbox::new();
    s.write("secrets/vt", "file-secret-value\n");
    s.write(
        "huntbook.yaml",
        "TIProviders:\n  OTX:\n    Args:\n      AuthKey: {EnvironmentVar: OTX_FOR_TEST}\n  VirusTotal:\n    Args:\n      AuthKey: {File: secrets/vt}\n  GreyNoise:\n    Args:\n      AuthKey: {HashiCorpVault: {Path: huntbook/ti, Key: greynoise}}\nHashiCorpVault:\n  Url: https://vault.invalid:8200\n",
    );
    let ok = s.run(
        &["config", "check", "--resolve"],
        &[
            ("OTX_FOR_TEST", "env-secret-value"),
            ("VAULT_TOKEN", "vault-token-value"),
        ],
    );
    ok.expect_code(0);
    let text = stdout(&ok);
    assert_has(
        &text,
        &[
            "Credentials:",
            "TIProviders.OTX.Args.AuthKey (EnvironmentVar OTX_FOR_TEST): ok",
            &format!("TIProviders.VirusTotal.Args.AuthKey (File {}): ok", s.cwd.join("secrets/vt").display()),
            "TIProviders.GreyNoise.Args.AuthKey (HashiCorpVault huntbook/ti#greynoise): not checked",
            "HashiCorpVault.Token (EnvironmentVar VAULT_TOKEN): ok",
        ],
    );
    for value in ["env-secret-value", "file-secret-value", "vault-token-value"] {
        assert!(!text.contains(value) && !ok.stderr.contains(value));
    }

    std::fs::remove_file(s.cwd.join("secrets/vt")).unwrap();
    let missing = s.run(&["config", "check", "--resolve"], &[]);
    missing.expect_code(2);
    assert_has(
        &stdout(&missing),
        &[
            "TIProviders.OTX.Args.AuthKey (EnvironmentVar OTX_FOR_TEST): missing: environment variable OTX_FOR_TEST is not set",
            "TIProviders.VirusTotal.Args.AuthKey (File",
            "missing: cannot read secret file",
            "HashiCorpVault.Token (EnvironmentVar VAULT_TOKEN): missing",
        ],
    );
    // Without --resolve nothing is read, so nothing is missing.
    s.run(&["config", "check"], &[]).expect_code(0);
}

#[test]
fn environment_and_options_choose_the_files() {
    let s = Sandbox::new();
    s.write("huntbook.yaml", "Source:\n  name: current-folder\n");
    let team = s.write("team/huntbook.yaml", "Source:\n  name: team\n");
    let by_env = s.run(
        &["config", "check"],
        &[("HUNTBOOK_CONFIG", team.to_str().unwrap())],
    );
    by_env.expect_code(0);
    assert_has(
        &stdout(&by_env),
        &[
            &format!("{} (HUNTBOOK_CONFIG): used", team.display()),
            "(current folder): not used: an earlier file was found",
            "Source.name = team",
        ],
    );

    let by_option = s.run(
        &["config", "check", "--config", "huntbook.yaml"],
        &[("HUNTBOOK_CONFIG", team.to_str().unwrap())],
    );
    by_option.expect_code(0);
    assert_has(
        &stdout(&by_option),
        &["(--config): used", "Source.name = current-folder"],
    );

    let gone = s.run(&["config", "check", "--msticpy", "nowhere.yaml"], &[]);
    gone.expect_code(2);
    assert_has(
        &gone.stderr,
        &["nowhere.yaml (given by --msticpy) does not exist"],
    );
    assert!(gone.stdout.is_empty());

    let stale_env = s.run(
        &["config", "check"],
        &[("MSTICPYCONFIG", "/nonexistent/msticpyconfig.yaml")],
    );
    stale_env.expect_code(0);
    assert_has(
        &stdout(&stale_env),
        &["MSTICPYCONFIG: points to /nonexistent/msticpyconfig.yaml, which does not exist"],
    );
}

#[test]
fn malformed_yaml_is_an_error_naming_the_file_and_line() {
    let s = Sandbox::new();
    let file = s.write(
        "msticpyconfig.yaml",
        "TIProviders:\n  OTX: [unclosed\n  VT: 1\n",
    );
    let out = s.run(&["config", "check"], &[]);
    out.expect_code(2);
    assert_has(
        &out.stderr,
        &[
            &format!("huntbook: error: {}:", file.display()),
            "invalid YAML",
        ],
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn help_has_examples() {
    let s = Sandbox::new();
    for command in ["check", "init"] {
        let out = s.run(&["config", command, "--help"], &[]);
        out.expect_code(0);
        assert_has(
            &stdout(&out),
            &["Examples:", &format!("huntbook config {command}")],
        );
    }
}
