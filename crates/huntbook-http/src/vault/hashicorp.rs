//! HashiCorp Vault, KV version 2 secrets engine.
//!
//! Follows "KV - Secrets Engines - HTTP API" (version 2), "Read secret version":
//! `GET {VAULT_ADDR}/v1/{mount}/data/{path}` with `X-Vault-Token` (and
//! `X-Vault-Namespace` for a Vault Enterprise namespace); the key/value pairs are at
//! `data.data`. The address, token and namespace come from `VAULT_ADDR`, `VAULT_TOKEN`
//! (else the `~/.vault-token` file the `vault login` command writes) and
//! `VAULT_NAMESPACE`, as for the `vault` command.

use std::path::PathBuf;

use reqwest::Url;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::HttpClient;
use crate::vault::VaultError;
use crate::Secret;

const SERVICE: &str = "HashiCorp Vault";

/// A client for one Vault server.
#[derive(Debug)]
pub struct HashiVaultClient {
    addr: Url,
    token: Secret,
    namespace: Option<String>,
    default_mount: String,
    http: HttpClient,
}

/// The KV v2 mount of a Vault dev server, and MSTICPy's default.
const DEFAULT_MOUNT: &str = "secret";

#[derive(Deserialize)]
struct ReadResponse {
    data: KvData,
}

#[derive(Deserialize)]
struct KvData {
    data: Option<Map<String, Value>>,
    metadata: Option<KvMetadata>,
}

#[derive(Deserialize)]
struct KvMetadata {
    #[serde(default)]
    version: u64,
}

fn setup(problem: impl Into<String>) -> VaultError {
    VaultError::Setup {
        service: SERVICE,
        problem: problem.into(),
    }
}

impl HashiVaultClient {
    /// A client for the server at `addr` (`https://vault.example.com:8200`).
    pub fn new(addr: &str, token: Secret) -> Result<HashiVaultClient, VaultError> {
        let mut url = Url::parse(addr)
            .map_err(|e| setup(format!("the address {addr:?} is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(setup(format!(
                "the address {addr:?} is not an http(s) URL with a host"
            )));
        }
        url.set_query(None);
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(HashiVaultClient {
            addr: url,
            token,
            namespace: None,
            default_mount: DEFAULT_MOUNT.to_string(),
            http: HttpClient::builder(SERVICE).build()?,
        })
    }

    /// Address, token and namespace from `VAULT_ADDR`, `VAULT_TOKEN` (or
    /// `~/.vault-token`) and `VAULT_NAMESPACE`.
    pub fn from_env() -> Result<HashiVaultClient, VaultError> {
        let addr = std::env::var("VAULT_ADDR")
            .map_err(|_| setup("VAULT_ADDR is not set; set it to the Vault server's address"))?;
        let token = match std::env::var("VAULT_TOKEN") {
            Ok(token) => token,
            Err(_) => read_token_file()?,
        };
        let client = HashiVaultClient::new(&addr, Secret::new(token.trim()))?;
        Ok(match std::env::var("VAULT_NAMESPACE") {
            Ok(ns) if !ns.is_empty() => client.with_namespace(&ns),
            _ => client,
        })
    }

    /// Send requests in this Vault Enterprise namespace.
    pub fn with_namespace(mut self, namespace: &str) -> HashiVaultClient {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// The mount used for references that name none (default `secret`).
    pub fn with_default_mount(mut self, mount: &str) -> HashiVaultClient {
        self.default_mount = mount.to_string();
        self
    }

    pub fn default_mount(&self) -> &str {
        &self.default_mount
    }

    /// Use this client (timeouts, retries, proxy) for the server.
    pub fn with_http(mut self, http: HttpClient) -> HashiVaultClient {
        self.http = http;
        self
    }

    /// The value of `key` in the KV v2 secret at `path` under the engine mounted at
    /// `mount` (`secret` by default in a dev server). Values that are not text are
    /// given as their JSON.
    pub async fn read_kv2(&self, mount: &str, path: &str, key: &str) -> Result<Secret, VaultError> {
        let mount_segments = segments("Vault mount", mount)?;
        let path_segments = segments("Vault secret path", path)?;
        let mut url = self.addr.clone();
        url.path_segments_mut()
            .map_err(|_| setup("the address cannot have a path"))?
            .pop_if_empty()
            .push("v1")
            .extend(&mount_segments)
            .push("data")
            .extend(&path_segments);
        let mut request = self
            .http
            .get(url)
            .header("X-Vault-Token", self.token.expose());
        if let Some(ns) = &self.namespace {
            request = request.header("X-Vault-Namespace", ns);
        }
        let response: ReadResponse = self.http.get_json(request).await?;
        let shown_path = format!("{}/{}", mount_segments.join("/"), path_segments.join("/"));
        let Some(mut data) = response.data.data else {
            return Err(VaultError::Deleted {
                path: shown_path,
                version: response.data.metadata.map_or(0, |m| m.version),
            });
        };
        match data.remove(key) {
            Some(Value::String(text)) => Ok(Secret::new(text)),
            Some(other) => Ok(Secret::new(other.to_string())),
            None => Err(VaultError::MissingKey {
                path: shown_path,
                key: key.to_string(),
                available: data.keys().cloned().collect(),
            }),
        }
    }
}

/// `~/.vault-token`, where `vault login` keeps the token.
fn read_token_file() -> Result<String, VaultError> {
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .ok_or_else(|| {
            setup("VAULT_TOKEN is not set and there is no home folder for ~/.vault-token")
        })?;
    let file = PathBuf::from(home).join(".vault-token");
    std::fs::read_to_string(&file).map_err(|_| {
        setup(format!(
            "VAULT_TOKEN is not set and {} cannot be read; set VAULT_TOKEN or run `vault login`",
            file.display()
        ))
    })
}

/// A mount or secret path split into URL path segments, refusing empty, `.` and `..`
/// segments and characters that would change the URL, so that the request stays under
/// `/v1/{mount}/data/`.
fn segments(what: &'static str, text: &str) -> Result<Vec<String>, VaultError> {
    let parts: Vec<String> = text
        .trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let bad = |rule| VaultError::BadName {
        what,
        value: text.to_string(),
        rule,
    };
    if parts.iter().any(|p| p.is_empty() || p == "." || p == "..") {
        return Err(bad(
            "segments separated by single '/', none empty, '.' or '..'",
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() || matches!(c, '?' | '#' | '%' | '\\'))
    {
        return Err(bad("no control characters, '?', '#', '%' or '\\'"));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_mount() {
        for bad in [
            "",
            "/",
            "a//b",
            "../sys/seal",
            "a/./b",
            "a?b",
            "a#b",
            "a%2e%2e",
            "a\\b",
        ] {
            assert!(segments("path", bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(segments("path", "/team/vt/").unwrap(), vec!["team", "vt"]);
    }

    #[test]
    fn address_must_be_http() {
        assert!(HashiVaultClient::new("vault:8200", Secret::new("t")).is_err());
        assert!(HashiVaultClient::new("not a url", Secret::new("t")).is_err());
        let client = HashiVaultClient::new("http://127.0.0.1:8200", Secret::new("s.abc")).unwrap();
        assert!(!format!("{client:?}").contains("s.abc"));
    }
}
