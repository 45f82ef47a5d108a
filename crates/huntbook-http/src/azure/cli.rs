//! The Azure CLI's signed-in account: `az account get-access-token`.
//!
//! Runs `az account get-access-token --scope {scope} --output json` (with `--tenant`
//! when one is set) and reads `accessToken` and its expiry: `expires_on` (Unix seconds,
//! Azure CLI 2.54 and later) or else `expiresOn` (local time, `2024-01-31
//! 21:59:10.000000`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{Local, NaiveDateTime, TimeZone};
use serde::Deserialize;

use crate::azure::{Seconds, Tenant};
use crate::token::{AccessToken, BoxFuture, Scope, TokenCache, TokenError, TokenSource};
use crate::Secret;

const SOURCE: &str = "Azure CLI credential";

/// `az` may have to refresh its own token first, which can take a while.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest part of `az`'s error output repeated in an error.
const MAX_STDERR: usize = 300;

/// Tokens from the Azure CLI's signed-in account.
#[derive(Debug)]
pub struct AzureCliCredential {
    program: PathBuf,
    tenant: Option<Tenant>,
    timeout: Duration,
    cache: TokenCache,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliToken {
    access_token: String,
    #[serde(rename = "expires_on")]
    expires_on_unix: Option<Seconds>,
    expires_on: Option<String>,
}

impl Default for AzureCliCredential {
    fn default() -> Self {
        AzureCliCredential::new()
    }
}

impl AzureCliCredential {
    /// Runs `az` found on `PATH`.
    pub fn new() -> AzureCliCredential {
        // On Windows the CLI is a batch file, which is only found by its full name.
        let program = if cfg!(windows) { "az.cmd" } else { "az" };
        AzureCliCredential {
            program: PathBuf::from(program),
            tenant: None,
            timeout: DEFAULT_TIMEOUT,
            cache: TokenCache::new(),
        }
    }

    /// Ask for a token from this tenant rather than the account's default.
    pub fn with_tenant(mut self, tenant: &str) -> Result<AzureCliCredential, TokenError> {
        self.tenant = Some(Tenant::new(tenant, SOURCE)?);
        Ok(self)
    }

    /// Run this program instead of `az`.
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> AzureCliCredential {
        self.program = program.into();
        self
    }

    /// The longest wait for `az` to answer (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> AzureCliCredential {
        self.timeout = timeout;
        self
    }

    async fn fetch(&self, scope: &Scope) -> Result<AccessToken, TokenError> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(["account", "get-access-token", "--output", "json", "--scope"])
            .arg(scope.as_scope());
        if let Some(tenant) = &self.tenant {
            command.arg("--tenant").arg(&tenant.0);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let program = self.program.display();
        let child = command.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => TokenError::Setup {
                source_name: SOURCE,
                problem: format!(
                    "`{program}` is not on PATH; install the Azure CLI or choose another credential"
                ),
            },
            _ => TokenError::Setup {
                source_name: SOURCE,
                problem: format!("cannot run `{program}`: {e}"),
            },
        })?;
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| TokenError::Refused {
                source_name: SOURCE,
                problem: format!(
                    "`{program} account get-access-token` did not finish within {:?}",
                    self.timeout
                ),
                hint: "check that `az account get-access-token` works in a terminal",
            })?
            .map_err(|e| TokenError::Setup {
                source_name: SOURCE,
                problem: format!("cannot read the output of `{program}`: {e}"),
            })?;
        if !output.status.success() {
            return Err(refusal(&String::from_utf8_lossy(&output.stderr)));
        }
        // The output holds the token, so a parse error names the problem, not the text.
        let token: CliToken = serde_json::from_slice(&output.stdout).map_err(|e| TokenError::Refused {
            source_name: SOURCE,
            problem: format!("`{program} account get-access-token` printed something other than its token JSON ({e})"),
            hint: "check the Azure CLI version (`az version`)",
        })?;
        let expires_at = match (token.expires_on_unix, token.expires_on.as_deref()) {
            (Some(unix), _) => UNIX_EPOCH + Duration::from_secs(unix.0),
            (None, Some(local)) => local_time(local).ok_or_else(|| TokenError::Refused {
                source_name: SOURCE,
                problem: format!("the token's expiresOn {local:?} is not a date"),
                hint: "check the Azure CLI version (`az version`)",
            })?,
            (None, None) => {
                return Err(TokenError::Refused {
                    source_name: SOURCE,
                    problem: "the token has no expiry (expires_on or expiresOn)".into(),
                    hint: "check the Azure CLI version (`az version`)",
                })
            }
        };
        Ok(AccessToken {
            token: Secret::new(token.access_token),
            expires_at,
        })
    }
}

/// `az` failed: say why, from its error output, and what to do.
fn refusal(stderr: &str) -> TokenError {
    let problem = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("it exited with an error and printed nothing");
    let mut problem = problem.to_string();
    if problem.len() > MAX_STDERR {
        let mut end = MAX_STDERR;
        while !problem.is_char_boundary(end) {
            end -= 1;
        }
        problem.truncate(end);
    }
    let hint = if stderr.contains("az login") {
        "run `az login` (with `--tenant` for another tenant) and try again"
    } else {
        "check that `az account get-access-token` works in a terminal"
    };
    TokenError::Refused {
        source_name: SOURCE,
        problem: format!("`az account get-access-token` failed: {problem}"),
        hint,
    }
}

/// `expiresOn`: the machine's local time, with or without fractional seconds.
fn local_time(text: &str) -> Option<SystemTime> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let local = Local.from_local_datetime(&naive).earliest()?;
    Some(SystemTime::from(local))
}

impl TokenSource for AzureCliCredential {
    fn token<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(self.cache.get_or_fetch(scope, || self.fetch(scope)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_on_in_local_time() {
        let t = local_time("2030-01-31 21:59:10.000000").unwrap();
        let back = chrono::DateTime::<Local>::from(t);
        assert_eq!(
            back.format("%Y-%m-%d %H:%M:%S").to_string(),
            "2030-01-31 21:59:10"
        );
        assert!(local_time("2030-01-31 21:59:10").is_some());
        assert!(local_time("tomorrow").is_none());
    }

    #[test]
    fn not_logged_in_says_to_run_az_login() {
        let e = refusal("ERROR: Please run 'az login' to setup account.\n");
        let text = e.to_string();
        assert!(text.contains("Please run 'az login'"), "{text}");
        assert!(text.contains("run `az login`"), "{text}");
    }
}
