//! Azure token sources against the fake Microsoft identity platform on loopback.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use huntbook_http::azure::{
    Authority, ClientCertificate, ClientCertificateCredential, ClientSecretCredential,
    DeviceCodeCredential, ManagedIdentityCredential, ManagedIdentityEndpoint,
};
use huntbook_http::client::RetryPolicy;
use huntbook_http::testkit::{
    refuse_first, DevicePoll, FakeEntraId, FakeEntraIdConfig, FakeServer, RegisteredCertificate,
};
use huntbook_http::{HttpClient, HttpError, Scope, Secret, TokenError, TokenSource};

const SECRET: &str = "Xy7~app.secret-value";
/// The test certificate's SHA-1 thumbprint, base64url, as computed by OpenSSL
/// (see tests/data/README.md).
const X5T: &str = "7qxWbRTbkRjPaMAahtL-sCsFJNs";

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn vault_scope() -> Scope {
    Scope::new("https://vault.azure.net")
}

async fn entra(config: FakeEntraIdConfig) -> FakeEntraId {
    FakeEntraId::start(config).await
}

fn with_secret() -> FakeEntraIdConfig {
    FakeEntraIdConfig {
        client_secret: Some(SECRET.into()),
        ..FakeEntraIdConfig::default()
    }
}

fn secret_credential(entra: &FakeEntraId, secret: &str) -> ClientSecretCredential {
    let config = FakeEntraIdConfig::default();
    ClientSecretCredential::new(
        Authority::custom(&entra.authority()).unwrap(),
        &config.tenant,
        &config.client_id,
        Secret::new(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn client_secret_gets_a_token_and_caches_it() {
    let entra = entra(with_secret()).await;
    let credential = secret_credential(&entra, SECRET);
    let before = SystemTime::now();
    let token = credential.token(&vault_scope()).await.unwrap();
    assert_eq!(
        entra.issued().resource_of(token.token.expose()).as_deref(),
        Some("https://vault.azure.net")
    );
    let left = token.expires_at.duration_since(before).unwrap();
    assert!(
        left > Duration::from_secs(3500) && left <= Duration::from_secs(3600),
        "{left:?}"
    );

    let again = credential.token(&vault_scope()).await.unwrap();
    assert_eq!(again.token.expose(), token.token.expose());
    let requests = entra.requests();
    assert_eq!(
        requests.len(),
        1,
        "the second call is served from the cache"
    );
    let request = &requests[0];
    let config = FakeEntraIdConfig::default();
    assert_eq!(
        request.path,
        format!("/{}/oauth2/v2.0/token", config.tenant)
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        request.form_value("grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(
        request.form_value("scope").as_deref(),
        Some("https://vault.azure.net/.default")
    );
    assert_eq!(request.form_value("client_id"), Some(config.client_id));
    assert_eq!(request.form_value("client_secret").as_deref(), Some(SECRET));
}

#[tokio::test]
async fn short_lived_tokens_are_fetched_again() {
    let entra = entra(FakeEntraIdConfig {
        token_lifetime: Duration::from_secs(120),
        ..with_secret()
    })
    .await;
    let credential = secret_credential(&entra, SECRET);
    let first = credential.token(&vault_scope()).await.unwrap();
    let second = credential.token(&vault_scope()).await.unwrap();
    assert_ne!(first.token.expose(), second.token.expose());
    assert_eq!(entra.requests().len(), 2);
}

#[tokio::test]
async fn wrong_client_secret_is_a_clear_401_without_the_secret() {
    let entra = entra(with_secret()).await;
    let credential = secret_credential(&entra, "not-the-secret");
    let err = credential.token(&vault_scope()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, TokenError::Http(HttpError::Unauthorized { .. })),
        "{err:?}"
    );
    assert!(
        text.contains("Microsoft Entra ID rejected the credentials (401"),
        "{text}"
    );
    assert!(
        text.contains("AADSTS7000215: Invalid client secret provided."),
        "{text}"
    );
    assert!(
        !text.contains("Trace ID"),
        "only the first line of the description: {text}"
    );
    let shown = format!("{text} {err:?} {credential:?}");
    assert!(!shown.contains("not-the-secret"), "{shown}");
}

#[tokio::test]
async fn unknown_tenant_and_client_are_named() {
    let entra = entra(with_secret()).await;
    let authority = Authority::custom(&entra.authority()).unwrap();
    let config = FakeEntraIdConfig::default();
    let wrong_tenant = ClientSecretCredential::new(
        authority.clone(),
        "contoso.com",
        &config.client_id,
        Secret::new(SECRET),
    )
    .unwrap();
    let err = wrong_tenant
        .token(&vault_scope())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("400") && err.contains("AADSTS90002: Tenant 'contoso.com' not found"),
        "{err}"
    );
    let wrong_client = ClientSecretCredential::new(
        authority,
        &config.tenant,
        "00000000-0000-0000-0000-000000000000",
        Secret::new(SECRET),
    )
    .unwrap();
    let err = wrong_client
        .token(&vault_scope())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("AADSTS700016"), "{err}");
    let bad = ClientSecretCredential::new(Authority::public(), "../x", "id", Secret::new(SECRET))
        .unwrap_err();
    assert!(bad.to_string().contains("not a tenant id"), "{bad}");
}

#[tokio::test]
async fn throttled_token_endpoint_is_retried() {
    let entra = FakeEntraId::start_wrapped(with_secret(), |router| {
        refuse_first(router, 1, StatusCode::TOO_MANY_REQUESTS, Some("1"))
    })
    .await;
    let credential = secret_credential(&entra, SECRET);
    let started = Instant::now();
    credential.token(&vault_scope()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(entra.requests().len(), 2);
}

#[tokio::test]
async fn malformed_token_answer_is_reported() {
    let router = Router::new().route(
        "/{tenant}/oauth2/v2.0/token",
        post(|| async {
            (
                [("content-type", "application/json")],
                "{\"token_type\":\"Bearer\",\"expires_in\":3599}",
            )
        }),
    );
    let server = FakeServer::start(router).await;
    let credential = ClientSecretCredential::new(
        Authority::custom(server.base().as_str()).unwrap(),
        "contoso.com",
        "id",
        Secret::new(SECRET),
    )
    .unwrap();
    let err = credential
        .token(&vault_scope())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not what its API documents: missing field `access_token`"),
        "{err}"
    );
}

fn certificate_entra() -> FakeEntraIdConfig {
    FakeEntraIdConfig {
        certificate: Some(RegisteredCertificate {
            x5t: X5T.into(),
            rsa_public_key_der: std::fs::read(data("client-cert-rsa-public.der")).unwrap(),
        }),
        ..FakeEntraIdConfig::default()
    }
}

#[tokio::test]
async fn certificate_signs_an_assertion_entra_id_accepts() {
    let entra = entra(certificate_entra()).await;
    let config = FakeEntraIdConfig::default();
    for pem in ["client-cert.pem", "client-cert-pkcs1.pem"] {
        let certificate = ClientCertificate::from_pem_file(&data(pem)).unwrap();
        assert_eq!(certificate.x5t(), X5T);
        let credential = ClientCertificateCredential::new(
            Authority::custom(&entra.authority()).unwrap(),
            &config.tenant,
            &config.client_id,
            certificate,
        )
        .unwrap();
        let token = credential.token(&vault_scope()).await.unwrap();
        assert!(
            entra.issued().resource_of(token.token.expose()).is_some(),
            "{pem}"
        );
    }
    let request = &entra.requests()[0];
    assert_eq!(
        request.form_value("client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert_eq!(request.form_value("client_secret"), None);
}

#[tokio::test]
async fn unregistered_certificate_is_refused() {
    let mut config = certificate_entra();
    config.certificate.as_mut().unwrap().x5t = "c29tZS1vdGhlci1jZXJ0aWZpY2F0ZQ".into();
    let entra = entra(config.clone()).await;
    let credential = ClientCertificateCredential::new(
        Authority::custom(&entra.authority()).unwrap(),
        &config.tenant,
        &config.client_id,
        ClientCertificate::from_pem_file(&data("client-cert.pem")).unwrap(),
    )
    .unwrap();
    let err = credential
        .token(&vault_scope())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("401") && err.contains("AADSTS700027"), "{err}");
}

#[test]
fn bad_certificate_files_are_explained() {
    let err = ClientCertificate::from_pem_file(&data("mismatched.pem"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mismatched.pem") && err.contains("does not belong to the certificate"),
        "{err}"
    );
    let err =
        ClientCertificate::from_pem(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
            .unwrap_err()
            .to_string();
    assert!(err.contains("no unencrypted PRIVATE KEY"), "{err}");
    let err = ClientCertificate::from_pem(b"nothing here")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no CERTIFICATE block"), "{err}");
    let err = ClientCertificate::from_pem_file(&data("absent.pem"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot read") && err.contains("absent.pem"),
        "{err}"
    );
}

#[tokio::test]
async fn app_service_managed_identity() {
    let entra = entra(FakeEntraIdConfig::default()).await;
    let endpoint = ManagedIdentityEndpoint::AppService {
        endpoint: entra.server.url("/msi/token"),
        header: Secret::new("fake-identity-header"),
    };
    let credential = ManagedIdentityCredential::new(endpoint).unwrap();
    let before = SystemTime::now();
    let token = credential
        .token(&Scope::new("https://vault.azure.net/.default"))
        .await
        .unwrap();
    assert_eq!(
        entra.issued().resource_of(token.token.expose()).as_deref(),
        Some("https://vault.azure.net")
    );
    assert!(token.expires_at > before + Duration::from_secs(3500));
    let request = &entra.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.query_param("api-version"), Some("2019-08-01"));
    assert_eq!(
        request.query_param("resource"),
        Some("https://vault.azure.net")
    );
    assert_eq!(
        request.header("x-identity-header"),
        Some("fake-identity-header")
    );

    let wrong = ManagedIdentityCredential::new(ManagedIdentityEndpoint::AppService {
        endpoint: entra.server.url("/msi/token"),
        header: Secret::new("stale-header"),
    })
    .unwrap();
    let err = wrong.token(&vault_scope()).await.unwrap_err().to_string();
    assert!(
        err.contains("App Service managed identity endpoint answered 400"),
        "{err}"
    );
    assert!(!err.contains("stale-header"), "{err}");
}

#[tokio::test]
async fn imds_managed_identity_with_a_user_assigned_id() {
    let entra = entra(FakeEntraIdConfig::default()).await;
    let imds = || ManagedIdentityEndpoint::Imds {
        endpoint: entra.server.url("/metadata/identity/oauth2/token"),
    };
    let config = FakeEntraIdConfig::default();
    let credential = ManagedIdentityCredential::new(imds())
        .unwrap()
        .with_client_id(&config.client_id);
    let token = credential
        .token(&Scope::new("https://management.azure.com"))
        .await
        .unwrap();
    assert_eq!(
        entra.issued().resource_of(token.token.expose()).as_deref(),
        Some("https://management.azure.com")
    );
    let request = &entra.requests()[0];
    assert_eq!(request.header("metadata"), Some("true"));
    assert_eq!(request.query_param("api-version"), Some("2018-02-01"));
    assert_eq!(
        request.query_param("client_id"),
        Some(config.client_id.as_str())
    );

    let unknown = ManagedIdentityCredential::new(imds())
        .unwrap()
        .with_client_id("11111111-2222-3333-4444-555555555555");
    let err = unknown.token(&vault_scope()).await.unwrap_err().to_string();
    assert!(
        err.contains("404") && err.contains("Identity not found"),
        "{err}"
    );
}

#[tokio::test]
async fn imds_unreachable_is_a_connect_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = ManagedIdentityEndpoint::Imds {
        endpoint: format!("http://127.0.0.1:{port}/metadata/identity/oauth2/token")
            .parse()
            .unwrap(),
    };
    let http = HttpClient::builder("Azure Instance Metadata Service (IMDS)")
        .no_proxy()
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let credential = ManagedIdentityCredential::new(endpoint)
        .unwrap()
        .with_http(http);
    let err = credential
        .token(&vault_scope())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot connect to Azure Instance Metadata Service (IMDS)"),
        "{err}"
    );
}

fn device_credential(entra: &FakeEntraId, shown: Arc<Mutex<Vec<String>>>) -> DeviceCodeCredential {
    let config = FakeEntraIdConfig::default();
    DeviceCodeCredential::new(
        Authority::custom(&entra.authority()).unwrap(),
        &config.tenant,
        &config.client_id,
    )
    .unwrap()
    .with_prompt(move |prompt| shown.lock().unwrap().push(prompt.message.clone()))
}

#[tokio::test]
async fn device_code_polls_until_the_user_signs_in() {
    let entra = entra(FakeEntraIdConfig {
        device_polls: vec![DevicePoll::Pending, DevicePoll::Pending],
        ..FakeEntraIdConfig::default()
    })
    .await;
    let shown = Arc::new(Mutex::new(Vec::new()));
    let credential = device_credential(&entra, shown.clone());
    let token = credential.token(&vault_scope()).await.unwrap();
    assert_eq!(
        entra.issued().resource_of(token.token.expose()).as_deref(),
        Some("https://vault.azure.net")
    );
    assert_eq!(
        shown.lock().unwrap().as_slice(),
        ["To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKECODE1 to authenticate."]
    );
    let requests = entra.requests();
    assert_eq!(
        requests.len(),
        4,
        "devicecode, then two pending polls and the approved one"
    );
    assert!(requests[0].path.ends_with("/oauth2/v2.0/devicecode"));
    assert_eq!(
        requests[0].form_value("scope").as_deref(),
        Some("https://vault.azure.net/.default")
    );
    for poll in &requests[1..] {
        assert_eq!(
            poll.form_value("grant_type").as_deref(),
            Some("urn:ietf:params:oauth:grant-type:device_code")
        );
        assert_eq!(
            poll.form_value("device_code").as_deref(),
            Some("fake-device-code-DAQABAAEAAAD")
        );
    }
    // The server asked for 1 s between polls.
    for pair in requests[1..].windows(2) {
        assert!(pair[1].at - pair[0].at >= Duration::from_millis(950));
    }
}

#[tokio::test]
async fn device_code_slow_down_adds_five_seconds() {
    let entra = entra(FakeEntraIdConfig {
        device_polls: vec![DevicePoll::SlowDown],
        ..FakeEntraIdConfig::default()
    })
    .await;
    let credential = device_credential(&entra, Arc::default());
    credential.token(&vault_scope()).await.unwrap();
    let requests = entra.requests();
    assert_eq!(requests.len(), 3);
    let gap = requests[2].at - requests[1].at;
    assert!(
        gap >= Duration::from_millis(5950),
        "polled again after {gap:?}"
    );
}

#[tokio::test]
async fn device_code_declined_and_expired_stop_polling() {
    for (poll, expected) in [
        (DevicePoll::Declined, "the user declined the sign-in"),
        (
            DevicePoll::Expired,
            "the code expired (900 s) before sign-in finished",
        ),
    ] {
        let entra = entra(FakeEntraIdConfig {
            device_polls: vec![DevicePoll::Pending, poll],
            ..FakeEntraIdConfig::default()
        })
        .await;
        let credential = device_credential(&entra, Arc::default());
        let err = credential
            .token(&vault_scope())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
        assert_eq!(entra.requests().len(), 3);
    }
}

#[tokio::test]
async fn device_code_gives_up_when_its_time_is_over() {
    let entra = entra(FakeEntraIdConfig {
        device_polls: vec![DevicePoll::Pending; 10],
        device_expires_in: 2,
        ..FakeEntraIdConfig::default()
    })
    .await;
    let credential = device_credential(&entra, Arc::default());
    let err = credential
        .token(&vault_scope())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("the code expired (2 s)"), "{err}");
    assert!(
        entra.requests().len() <= 3,
        "no polling after the code expired"
    );
}
