#![cfg(unix)]
//! The Azure CLI credential with a stand-in `az` on PATH. One test in its own binary,
//! because it changes the process's PATH.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huntbook_http::azure::AzureCliCredential;
use huntbook_http::{Scope, TokenSource};

/// Write the stand-in `az`: it records its arguments and then runs `body`.
fn stand_in(dir: &Path, body: &str) {
    let script = dir.join("az");
    let args_file = dir.join("args");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n{body}\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn recorded_args(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("args"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn azure_cli_token_from_a_stand_in_az_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::env::set_var("PATH", path);
    let vault = Scope::new("https://vault.azure.net");

    // Azure CLI 2.54+: expires_on in Unix seconds.
    let expires = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3000;
    stand_in(
        bin,
        &format!(
            r#"echo '{{"accessToken": "cli-token-1", "expiresOn": "2099-01-01 00:00:00.000000", "expires_on": {expires}, "subscription": "sub", "tenant": "t", "tokenType": "Bearer"}}'"#
        ),
    );
    let credential = AzureCliCredential::new()
        .with_tenant("contoso.onmicrosoft.com")
        .unwrap();
    let token = credential.token(&vault).await.unwrap();
    assert_eq!(token.token.expose(), "cli-token-1");
    assert_eq!(token.expires_at, UNIX_EPOCH + Duration::from_secs(expires));
    assert_eq!(
        recorded_args(bin),
        [
            "account",
            "get-access-token",
            "--output",
            "json",
            "--scope",
            "https://vault.azure.net/.default",
            "--tenant",
            "contoso.onmicrosoft.com"
        ]
    );

    // Older CLIs: only expiresOn, in local time.
    stand_in(
        bin,
        r#"echo '{"accessToken": "cli-token-2", "expiresOn": "2099-06-30 12:00:00.000000", "tokenType": "Bearer"}'"#,
    );
    let token = AzureCliCredential::new().token(&vault).await.unwrap();
    assert_eq!(token.token.expose(), "cli-token-2");
    let local = chrono::DateTime::<chrono::Local>::from(token.expires_at);
    assert_eq!(
        local.format("%Y-%m-%d %H:%M").to_string(),
        "2099-06-30 12:00"
    );

    // Not signed in.
    stand_in(
        bin,
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1",
    );
    let err = AzureCliCredential::new()
        .token(&vault)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Please run 'az login' to setup account."),
        "{err}"
    );
    assert!(
        err.ends_with("run `az login` (with `--tenant` for another tenant) and try again"),
        "{err}"
    );

    // Output that is not the token JSON: the error does not repeat it.
    stand_in(bin, r#"echo '{"accessToken": "leaked-token", "expires'"#);
    let err = AzureCliCredential::new()
        .token(&vault)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("printed something other than its token JSON"),
        "{err}"
    );
    assert!(!err.contains("leaked-token"), "{err}");

    // A CLI that hangs is given up on.
    stand_in(bin, "sleep 10");
    let err = AzureCliCredential::new()
        .with_timeout(Duration::from_millis(300))
        .token(&vault)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did not finish within 300ms"), "{err}");

    // No CLI at all.
    let err = AzureCliCredential::new()
        .with_program(bin.join("no-such-az"))
        .token(&vault)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is not on PATH; install the Azure CLI"),
        "{err}"
    );
}
