//! Azure Key Vault secrets.
//!
//! Follows "Get Secret" of the Key Vault REST API (7.4): `GET {vault}/secrets/{name}
//! [/{version}]?api-version=7.4` with `Authorization: Bearer` for the Key Vault
//! resource, answering `{"value": ...}`.

use std::sync::Arc;

use reqwest::Url;
use serde::Deserialize;

use crate::client::HttpClient;
use crate::token::{Scope, TokenSource};
use crate::vault::VaultError;
use crate::Secret;

const SERVICE: &str = "Azure Key Vault";
const API_VERSION: &str = "7.4";

/// A client for Key Vault secrets, in any vault the token source's identity may read.
pub struct KeyVaultClient {
    tokens: Arc<dyn TokenSource>,
    http: HttpClient,
    suffix: String,
}

/// The host suffix of vaults in Azure's public cloud.
const PUBLIC_SUFFIX: &str = "vault.azure.net";

impl std::fmt::Debug for KeyVaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVaultClient").finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct SecretBundle {
    value: String,
}

impl KeyVaultClient {
    /// A client signing in with tokens from `tokens`.
    pub fn new(tokens: Arc<dyn TokenSource>) -> Result<KeyVaultClient, VaultError> {
        Ok(KeyVaultClient {
            tokens,
            http: HttpClient::builder(SERVICE).build()?,
            suffix: PUBLIC_SUFFIX.to_string(),
        })
    }

    /// Vaults given by name are in this cloud: `vault.usgovcloudapi.net` (Azure
    /// Government), `vault.azure.cn` (China); `vault.azure.net` by default.
    pub fn with_vault_suffix(mut self, suffix: &str) -> Result<KeyVaultClient, VaultError> {
        let ok = suffix.contains('.')
            && !suffix.starts_with('.')
            && !suffix.contains("..")
            && suffix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !ok {
            return Err(VaultError::BadName {
                what: "Key Vault host suffix",
                value: suffix.to_string(),
                rule: "a DNS name such as vault.usgovcloudapi.net",
            });
        }
        self.suffix = suffix.to_string();
        Ok(self)
    }

    /// Use this client (timeouts, retries, proxy) for the vaults.
    pub fn with_http(mut self, http: HttpClient) -> KeyVaultClient {
        self.http = http;
        self
    }

    /// The current version of the secret `name` in `vault`: a vault name
    /// (`contoso-kv`, meaning `https://contoso-kv.vault.azure.net/` in the public
    /// cloud) or the vault's URL.
    pub async fn get_secret(&self, vault: &str, name: &str) -> Result<Secret, VaultError> {
        self.get_secret_version(vault, name, None).await
    }

    /// A given version of the secret (the current one when `None`).
    pub async fn get_secret_version(
        &self,
        vault: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Secret, VaultError> {
        let mut url = vault_url(vault, &self.suffix)?;
        check_secret_name(name)?;
        if let Some(version) = version {
            check_version(version)?;
        }
        let scope = Scope::new(resource_for(&url));
        url.path_segments_mut()
            .map_err(|_| VaultError::Setup {
                service: SERVICE,
                problem: "the vault URL cannot have a path".into(),
            })?
            .pop_if_empty()
            .push("secrets")
            .push(name)
            .extend(version);
        url.query_pairs_mut()
            .append_pair("api-version", API_VERSION);
        let token = self.tokens.token(&scope).await?;
        let bundle: SecretBundle = self
            .http
            .get_json(self.http.get(url).bearer_auth(token.token.expose()))
            .await?;
        Ok(Secret::new(bundle.value))
    }
}

/// A vault name or URL as a URL ending in `/`.
fn vault_url(vault: &str, suffix: &str) -> Result<Url, VaultError> {
    let bad = |rule| VaultError::BadName {
        what: "Key Vault",
        value: vault.to_string(),
        rule,
    };
    if vault.contains("://") {
        let mut url = Url::parse(vault)
            .map_err(|_| bad("a vault URL such as https://contoso-kv.vault.azure.net/"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad(
                "a vault URL such as https://contoso-kv.vault.azure.net/",
            ));
        }
        url.set_query(None);
        url.set_fragment(None);
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        return Ok(url);
    }
    // Vault names: 3-24 letters, digits and dashes, starting with a letter.
    let ok = (3..=24).contains(&vault.len())
        && vault.starts_with(|c: char| c.is_ascii_alphabetic())
        && vault.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(bad(
            "a vault name has 3-24 letters, digits and dashes and starts with a letter",
        ));
    }
    Url::parse(&format!("https://{vault}.{suffix}/"))
        .map_err(|_| bad("a vault name that makes a host name"))
}

/// The token audience for a vault: each sovereign cloud has its own Key Vault
/// resource; other hosts (private endpoints, test servers) use the public one.
fn resource_for(vault: &Url) -> &'static str {
    let host = vault.host_str().unwrap_or_default();
    if host.ends_with(".vault.usgovcloudapi.net") {
        "https://vault.usgovcloudapi.net"
    } else if host.ends_with(".vault.azure.cn") {
        "https://vault.azure.cn"
    } else {
        "https://vault.azure.net"
    }
}

/// Secret names are 1-127 letters, digits and dashes: checked so that a name cannot
/// reach another path of the vault.
fn check_secret_name(name: &str) -> Result<(), VaultError> {
    let ok = (1..=127).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(VaultError::BadName {
            what: "Key Vault secret name",
            value: name.to_string(),
            rule: "1-127 letters, digits and dashes",
        })
    }
}

fn check_version(version: &str) -> Result<(), VaultError> {
    let ok =
        (1..=64).contains(&version.len()) && version.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(VaultError::BadName {
            what: "Key Vault secret version",
            value: version.to_string(),
            rule: "letters and digits (a 32-character id)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_names_and_urls() {
        assert_eq!(
            vault_url("contoso-kv", PUBLIC_SUFFIX).unwrap().as_str(),
            "https://contoso-kv.vault.azure.net/"
        );
        assert_eq!(
            vault_url("contoso-kv", "vault.azure.cn").unwrap().as_str(),
            "https://contoso-kv.vault.azure.cn/"
        );
        assert_eq!(
            vault_url("https://contoso-kv.vault.usgovcloudapi.net", PUBLIC_SUFFIX)
                .unwrap()
                .as_str(),
            "https://contoso-kv.vault.usgovcloudapi.net/"
        );
        for bad in ["kv", "1abc", "a.b.c", "ftp://x/", "contoso kv"] {
            assert!(vault_url(bad, PUBLIC_SUFFIX).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn each_cloud_has_its_resource() {
        let r = |u: &str| resource_for(&Url::parse(u).unwrap());
        assert_eq!(r("https://a.vault.azure.net/"), "https://vault.azure.net");
        assert_eq!(
            r("https://a.vault.usgovcloudapi.net/"),
            "https://vault.usgovcloudapi.net"
        );
        assert_eq!(r("https://a.vault.azure.cn/"), "https://vault.azure.cn");
        assert_eq!(r("http://127.0.0.1:4000/"), "https://vault.azure.net");
    }

    #[test]
    fn names_that_could_leave_the_secrets_path_are_refused() {
        for bad in ["", "../keys/k", "a/b", "a%2Fb", "a?x=1", &"x".repeat(128)] {
            assert!(check_secret_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_secret_name("VT-api-key-2").is_ok());
        assert!(check_version("../x").is_err());
    }
}
