//! Client credentials with a certificate: a signed JWT instead of a secret.
//!
//! Follows "Microsoft identity platform application authentication certificate
//! credentials" and the client credentials flow's second case: the app signs a JWT
//! (RS256) with the certificate's private key; its header names the certificate by
//! SHA-1 (`x5t`) and SHA-256 (`x5t#S256`) thumbprint, its claims say who (`iss`, `sub`:
//! the client id), for whom (`aud`: the token endpoint) and when (`nbf`, `exp`, `iat`),
//! and a `jti` makes it single-use. It is sent as `client_assertion` with
//! `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
//!
//! Signing uses `ring`, which the TLS stack already builds, rather than the `rsa`
//! crate: no extra build time, and `rsa` has an open timing side-channel advisory
//! (RUSTSEC-2023-0071).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Url;
use ring::digest;
use ring::rand::SystemRandom;
use ring::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

use crate::azure::{entra_client, request_token, Authority, Tenant};
use crate::client::HttpClient;
use crate::token::{AccessToken, BoxFuture, Scope, TokenCache, TokenError, TokenSource};

const SOURCE: &str = "Azure certificate credential";

/// The `client_assertion_type` for a JWT assertion (RFC 7523).
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid. Entra ID accepts up to a few hours; ten minutes
/// is the value in Microsoft's examples and limits the use of a leaked assertion.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// A certificate and its RSA private key, as in a PEM file holding both.
pub struct ClientCertificate {
    key: RsaKeyPair,
    x5t: String,
    x5t_s256: String,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

fn setup(problem: impl Into<String>) -> TokenError {
    TokenError::Setup {
        source_name: SOURCE,
        problem: problem.into(),
    }
}

impl ClientCertificate {
    /// Read a PEM file with a `CERTIFICATE` block and an unencrypted RSA private key
    /// (`PRIVATE KEY` or `RSA PRIVATE KEY`).
    pub fn from_pem_file(path: &Path) -> Result<ClientCertificate, TokenError> {
        let pem = std::fs::read(path)
            .map_err(|e| setup(format!("cannot read {}: {e}", path.display())))?;
        ClientCertificate::from_pem(&pem)
            .map_err(|e| setup(format!("{}: {}", path.display(), setup_problem(e))))
    }

    /// The same from PEM text.
    pub fn from_pem(pem: &[u8]) -> Result<ClientCertificate, TokenError> {
        let cert = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or_else(|| setup("the PEM has no CERTIFICATE block"))?
            .map_err(|e| setup(format!("the CERTIFICATE block cannot be read ({e})")))?;
        let key = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(PrivateKeyDer::Pkcs8(der)) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            Ok(PrivateKeyDer::Pkcs1(der)) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            Ok(_) => return Err(setup(
                "the private key is not an RSA key; Entra ID certificate sign-in here uses RS256",
            )),
            Err(_) => {
                return Err(setup(
                    "the PEM has no unencrypted PRIVATE KEY or RSA PRIVATE KEY block \
                     (decrypt it first, e.g. `openssl pkey -in key.pem -out plain.pem`)",
                ))
            }
        }
        .map_err(|e| setup(format!("the RSA private key is not usable ({e})")))?;
        // An X.509 certificate holds its RSA public key as this very DER sequence,
        // so looking for it tells whether key and certificate belong together.
        let public = key.public_key().as_ref();
        if !cert.windows(public.len()).any(|w| w == public) {
            return Err(setup("the private key does not belong to the certificate"));
        }
        Ok(ClientCertificate {
            x5t: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &cert)),
            x5t_s256: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &cert)),
            key,
        })
    }

    /// The certificate's SHA-1 thumbprint, base64url-encoded, as the `x5t` header.
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// A signed client assertion for `client_id` to present at `audience`.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &Url,
        now: SystemTime,
    ) -> Result<String, TokenError> {
        let header = json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
        });
        let issued = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims = json!({
            "aud": audience.as_str(),
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": issued,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME.as_secs(),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| setup("signing the client assertion failed"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

fn setup_problem(e: TokenError) -> String {
    match e {
        TokenError::Setup { problem, .. } => problem,
        other => other.to_string(),
    }
}

/// An app registration signing in with a certificate.
#[derive(Debug)]
pub struct ClientCertificateCredential {
    authority: Authority,
    tenant: Tenant,
    client_id: String,
    certificate: ClientCertificate,
    http: HttpClient,
    cache: TokenCache,
}

impl ClientCertificateCredential {
    pub fn new(
        authority: Authority,
        tenant: &str,
        client_id: &str,
        certificate: ClientCertificate,
    ) -> Result<ClientCertificateCredential, TokenError> {
        Ok(ClientCertificateCredential {
            authority,
            tenant: Tenant::new(tenant, SOURCE)?,
            client_id: client_id.to_string(),
            certificate,
            http: entra_client()?,
            cache: TokenCache::new(),
        })
    }

    /// Use this client (timeouts, retries, proxy) for the token endpoint.
    pub fn with_http(mut self, http: HttpClient) -> ClientCertificateCredential {
        self.http = http;
        self
    }

    async fn fetch(&self, scope: &Scope) -> Result<AccessToken, TokenError> {
        let url = self.authority.endpoint(&self.tenant, "token");
        let assertion = self
            .certificate
            .assertion(&self.client_id, &url, SystemTime::now())?;
        let scope = scope.as_scope();
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
            ("scope", scope.as_str()),
            ("grant_type", "client_credentials"),
        ];
        request_token(&self.http, url, &form).await
    }
}

impl TokenSource for ClientCertificateCredential {
    fn token<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(self.cache.get_or_fetch(scope, || self.fetch(scope)))
    }
}
