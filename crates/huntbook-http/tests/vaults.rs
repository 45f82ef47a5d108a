//! Vault clients against fake Azure Key Vault and HashiCorp Vault servers on loopback.

use std::sync::Arc;

use huntbook_http::azure::{Authority, ClientSecretCredential};
use huntbook_http::testkit::{
    FakeEntraId, FakeEntraIdConfig, FakeHashiVault, FakeKeyVault, IssuedTokens,
};
use huntbook_http::vault::{Blocking, HashiVaultClient, KeyVaultClient, VaultError};
use huntbook_http::{AccessToken, HttpError, Scope, Secret, TokenError, TokenSource};
use serde_json::json;

/// A token source that always gives the same token, to test the vault on its own.
struct FixedToken(&'static str);

impl TokenSource for FixedToken {
    fn token<'a>(
        &'a self,
        _scope: &'a Scope,
    ) -> huntbook_http::token::BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            Ok(AccessToken {
                token: Secret::new(self.0),
                expires_at: std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
            })
        })
    }
}

async fn key_vault_with(token: &'static str) -> (FakeKeyVault, KeyVaultClient) {
    let issued = IssuedTokens::default();
    issued.insert("good-token", "https://vault.azure.net");
    issued.insert("graph-token", "https://graph.microsoft.com");
    let vault = FakeKeyVault::start(issued, &[("vt-api-key", "0123abcd")]).await;
    let client = KeyVaultClient::new(Arc::new(FixedToken(token))).unwrap();
    (vault, client)
}

#[tokio::test]
async fn key_vault_secret_with_a_client_secret_token() {
    let entra = FakeEntraId::start(FakeEntraIdConfig {
        client_secret: Some("app-secret".into()),
        ..FakeEntraIdConfig::default()
    })
    .await;
    let vault = FakeKeyVault::start(entra.issued(), &[("vt-api-key", "0123abcd")]).await;
    let config = FakeEntraIdConfig::default();
    let credential = ClientSecretCredential::new(
        Authority::custom(&entra.authority()).unwrap(),
        &config.tenant,
        &config.client_id,
        Secret::new("app-secret"),
    )
    .unwrap();
    let client = KeyVaultClient::new(Arc::new(credential)).unwrap();
    assert_eq!(
        client
            .get_secret(&vault.url(), "vt-api-key")
            .await
            .unwrap()
            .expose(),
        "0123abcd"
    );
    assert_eq!(
        client
            .get_secret_version(
                &vault.url(),
                "vt-api-key",
                Some("4387e9f3d6e14c459867679a90fd0f79")
            )
            .await
            .unwrap()
            .expose(),
        "0123abcd"
    );
    let requests = vault.requests();
    assert_eq!(requests[0].path, "/secrets/vt-api-key");
    assert_eq!(requests[0].query_param("api-version"), Some("7.4"));
    assert!(requests[0]
        .header("authorization")
        .unwrap()
        .starts_with("Bearer fake-access-token-"));
    assert_eq!(
        requests[1].path,
        "/secrets/vt-api-key/4387e9f3d6e14c459867679a90fd0f79"
    );
    // One sign-in for both reads.
    assert_eq!(entra.requests().len(), 1);
    assert_eq!(
        entra.requests()[0].form_value("scope").as_deref(),
        Some("https://vault.azure.net/.default")
    );
}

#[tokio::test]
async fn key_vault_wrong_token_is_401() {
    let (vault, client) = key_vault_with("forged-token").await;
    let err = client
        .get_secret(&vault.url(), "vt-api-key")
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Http(HttpError::Unauthorized { .. })),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("Azure Key Vault rejected the credentials (401"),
        "{text}"
    );
    assert!(text.contains("AKV10032"), "{text}");
    assert!(!text.contains("forged-token"), "{text}");
}

#[tokio::test]
async fn key_vault_token_for_another_resource_is_401() {
    let (vault, client) = key_vault_with("graph-token").await;
    let text = client
        .get_secret(&vault.url(), "vt-api-key")
        .await
        .unwrap_err()
        .to_string();
    assert!(text.contains("AKV10022: Invalid audience"), "{text}");
}

#[tokio::test]
async fn key_vault_denied_and_missing() {
    let (vault, client) = key_vault_with("good-token").await;
    let err = client
        .get_secret(&vault.url(), "no-such-secret")
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Http(HttpError::NotFound { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("SecretNotFound: A secret with (name/id) no-such-secret was not found"),
        "{err}"
    );
    vault.deny("good-token");
    let err = client
        .get_secret(&vault.url(), "vt-api-key")
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Http(HttpError::Forbidden { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("Caller is not authorized"),
        "{err}"
    );
}

#[tokio::test]
async fn key_vault_names_are_checked_before_any_request() {
    let (vault, client) = key_vault_with("good-token").await;
    let err = client
        .get_secret(&vault.url(), "../keys/master")
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::BadName { .. }), "{err:?}");
    assert!(
        err.to_string().contains("1-127 letters, digits and dashes"),
        "{err}"
    );
    assert!(vault.requests().is_empty());
}

async fn hashi() -> FakeHashiVault {
    FakeHashiVault::start(
        "hvs.test-token",
        None,
        &[(
            "secret",
            "huntbook/ti",
            json!({"virustotal": "vt-key-1", "otx": "otx-key-2", "port": 8443}),
        )],
    )
    .await
}

#[tokio::test]
async fn hashicorp_kv2_reads_a_key() {
    let vault = hashi().await;
    let client = HashiVaultClient::new(&vault.addr(), Secret::new("hvs.test-token")).unwrap();
    assert_eq!(
        client
            .read_kv2("secret", "huntbook/ti", "virustotal")
            .await
            .unwrap()
            .expose(),
        "vt-key-1"
    );
    assert_eq!(
        client
            .read_kv2("secret", "/huntbook/ti/", "port")
            .await
            .unwrap()
            .expose(),
        "8443"
    );
    let request = &vault.requests()[0];
    assert_eq!(request.path, "/v1/secret/data/huntbook/ti");
    assert_eq!(request.header("x-vault-token"), Some("hvs.test-token"));
    assert_eq!(request.header("x-vault-namespace"), None);
}

#[tokio::test]
async fn hashicorp_wrong_token_is_denied_without_showing_it() {
    let vault = hashi().await;
    let client = HashiVaultClient::new(&vault.addr(), Secret::new("hvs.stolen")).unwrap();
    let err = client
        .read_kv2("secret", "huntbook/ti", "virustotal")
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Http(HttpError::Forbidden { .. })),
        "{err:?}"
    );
    let text = format!("{err} {err:?} {client:?}");
    assert!(text.contains("permission denied"), "{text}");
    assert!(!text.contains("hvs.stolen"), "{text}");
}

#[tokio::test]
async fn hashicorp_missing_key_path_and_mount() {
    let vault = hashi().await;
    let client = HashiVaultClient::new(&vault.addr(), Secret::new("hvs.test-token")).unwrap();
    let err = client
        .read_kv2("secret", "huntbook/ti", "shodan")
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(err, "the secret at secret/huntbook/ti has no key \"shodan\"; its keys are: otx, port, virustotal");
    assert!(!err.contains("vt-key-1"));
    let err = client
        .read_kv2("secret", "huntbook/none", "x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Http(HttpError::NotFound { .. })),
        "{err:?}"
    );
    let err = client
        .read_kv2("kv", "huntbook/ti", "x")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no handler for route"), "{err}");
    let err = client
        .read_kv2("secret", "../../sys/seal-status", "x")
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::BadName { .. }), "{err:?}");
}

#[tokio::test]
async fn hashicorp_namespace_header() {
    let vault = FakeHashiVault::start(
        "hvs.ns-token",
        Some("soc/team1"),
        &[("kv", "feeds", json!({"key": "v"}))],
    )
    .await;
    let without = HashiVaultClient::new(&vault.addr(), Secret::new("hvs.ns-token")).unwrap();
    assert!(without.read_kv2("kv", "feeds", "key").await.is_err());
    let with = without.with_namespace("soc/team1");
    assert_eq!(
        with.read_kv2("kv", "feeds", "key").await.unwrap().expose(),
        "v"
    );
    assert_eq!(
        vault.requests()[1].header("x-vault-namespace"),
        Some("soc/team1")
    );
}

#[test]
fn blocking_facade_from_synchronous_code_and_from_inside_a_runtime() {
    // The servers run on their own runtime, as they would in another process.
    let servers = tokio::runtime::Runtime::new().unwrap();
    let vault = servers.block_on(hashi());
    let client = HashiVaultClient::new(&vault.addr(), Secret::new("hvs.test-token")).unwrap();
    let blocking = Blocking::new(client).unwrap();
    let value = blocking
        .run(|c| c.read_kv2("secret", "huntbook/ti", "otx"))
        .unwrap();
    assert_eq!(value.expose(), "otx-key-2");
    // Inside an async task the call moves to a helper thread instead of panicking.
    let inside = servers.block_on(async {
        blocking
            .run(|c| c.read_kv2("secret", "huntbook/ti", "virustotal"))
            .unwrap()
    });
    assert_eq!(inside.expose(), "vt-key-1");
}

#[test]
fn core_resolver_reads_vault_references() {
    use huntbook_core::secret::{SecretRef, SecretResolver};

    let servers = tokio::runtime::Runtime::new().unwrap();
    let (hashi, key_vault) = servers.block_on(async {
        let issued = IssuedTokens::default();
        issued.insert("good-token", "https://vault.azure.net");
        (
            hashi().await,
            FakeKeyVault::start(issued, &[("otx-key", "otx-from-kv")]).await,
        )
    });
    let resolver = SecretResolver::local()
        .with_source(
            Blocking::new(KeyVaultClient::new(Arc::new(FixedToken("good-token"))).unwrap())
                .unwrap(),
        )
        .with_source(
            Blocking::new(
                HashiVaultClient::new(&hashi.addr(), Secret::new("hvs.test-token")).unwrap(),
            )
            .unwrap(),
        );
    let kv = SecretRef::KeyVault {
        vault: key_vault.url(),
        name: "otx-key".into(),
    };
    assert_eq!(resolver.resolve(&kv).unwrap().expose(), "otx-from-kv");
    let hv = SecretRef::HashiCorpVault {
        mount: None,
        path: "huntbook/ti".into(),
        key: "virustotal".into(),
    };
    assert_eq!(resolver.resolve(&hv).unwrap().expose(), "vt-key-1");
    assert_eq!(hashi.requests()[0].path, "/v1/secret/data/huntbook/ti");

    let missing = SecretRef::KeyVault {
        vault: key_vault.url(),
        name: "absent".into(),
    };
    let err = resolver.resolve(&missing).unwrap_err().to_string();
    assert!(err.contains("SecretNotFound"), "{err}");
}

#[test]
fn key_vault_suffix_must_be_a_dns_name() {
    let client = || KeyVaultClient::new(Arc::new(FixedToken("t"))).unwrap();
    for bad in ["evil.com/x", ".vault.azure.net", "localhost", "a..b"] {
        assert!(client().with_vault_suffix(bad).is_err(), "{bad:?} accepted");
    }
    assert!(client()
        .with_vault_suffix("vault.usgovcloudapi.net")
        .is_ok());
}

#[test]
fn the_configured_resolver_reads_hashicorp_vault_references() {
    use huntbook_core::config::Config;
    use huntbook_core::secret::SecretRef;

    let servers = tokio::runtime::Runtime::new().unwrap();
    let vault = servers.block_on(hashi());
    let yaml = format!(
        "HashiCorpVault:\n  Url: {}\n  Token: hvs.test-token\nTIProviders:\n  VirusTotal:\n    Args:\n      AuthKey:\n        HashiCorpVault: {{Path: huntbook/ti, Key: virustotal}}\n",
        vault.addr()
    );
    let config = Config::from_yaml(&[(std::path::Path::new("huntbook.yaml"), &yaml)]).unwrap();
    let reference: SecretRef = config
        .secret("TIProviders.VirusTotal.Args.AuthKey")
        .unwrap()
        .unwrap();
    let resolver = huntbook_http::vault::resolver(&config);
    assert_eq!(resolver.resolve(&reference).unwrap().expose(), "vt-key-1");

    // Without the section, the same reference says what is missing.
    let bare = Config::from_yaml(&[]).unwrap();
    let e = huntbook_http::vault::resolver(&bare)
        .resolve(&reference)
        .unwrap_err()
        .to_string();
    assert!(e.contains("HashiCorp"), "{e}");
}
