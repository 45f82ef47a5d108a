//! Object stores in the cloud: `s3://bucket/prefix` (Amazon S3 and compatible
//! servers), `az://container/prefix` (Azure Blob Storage) and `gs://bucket/prefix`
//! (Google Cloud Storage).
//!
//! Each builder starts from the environment (the variables each cloud's tools
//! read) and then takes `Service.outputs.options` by the builder's own key names;
//! a key it does not know is refused with the key named. TLS is rustls with ring.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path;
use object_store::ObjectStore;
use reqwest::Url;

use super::OutputsError;

/// Apply each option to `builder` through `with`, refusing keys `K` cannot name.
fn configure<B, K: FromStr>(
    mut builder: B,
    options: &BTreeMap<String, String>,
    location: &Url,
    with: impl Fn(B, K, &str) -> B,
) -> Result<B, OutputsError> {
    for (key, value) in options {
        let Ok(parsed) = key.to_ascii_lowercase().parse::<K>() else {
            return Err(OutputsError::Storage {
                location: location.to_string(),
                message: format!(
                    "Service.outputs.options.{key} is not a setting of this object store \
                     (see the object_store crate's configuration keys for {})",
                    location.scheme()
                ),
            });
        };
        builder = with(builder, parsed, value);
    }
    Ok(builder)
}

/// The store and prefix of a cloud location.
pub(super) fn open(
    url: &Url,
    options: &BTreeMap<String, String>,
) -> Result<(Arc<dyn ObjectStore>, Path), OutputsError> {
    // The HTTP client needs a TLS provider chosen once per process: ring's.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let failed = |e: &dyn std::fmt::Display| OutputsError::Storage {
        location: url.to_string(),
        message: e.to_string(),
    };
    let prefix = Path::parse(url.path().trim_matches('/')).map_err(|e| failed(&e))?;
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" => {
            let builder = AmazonS3Builder::from_env().with_url(url.as_str());
            let builder = configure(builder, options, url, |b, k, v| b.with_config(k, v))?;
            Arc::new(builder.build().map_err(|e| failed(&e))?)
        }
        "az" => {
            let builder = MicrosoftAzureBuilder::from_env().with_url(url.as_str());
            let builder = configure(builder, options, url, |b, k, v| b.with_config(k, v))?;
            Arc::new(builder.build().map_err(|e| failed(&e))?)
        }
        "gs" => {
            let builder = GoogleCloudStorageBuilder::from_env().with_url(url.as_str());
            let builder = configure(builder, options, url, |b, k, v| b.with_config(k, v))?;
            Arc::new(builder.build().map_err(|e| failed(&e))?)
        }
        other => {
            return Err(failed(&format!(
                "{other}:// is not an object store huntbook writes to (s3, az, gs)"
            )))
        }
    };
    Ok((store, prefix))
}

#[cfg(test)]
mod tests {
    //! Against local emulators that `scripts/setup --test` installs in `.emulators`
    //! (or `$HUNTBOOK_EMULATORS`): each test starts its own on a free loopback port.
    //! A missing emulator fails the test; it never skips.

    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    use chrono::Utc;
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;

    use super::*;
    use crate::outputs::settings::Location;
    use crate::outputs::OutputStore;

    fn emulator(relative: &str) -> PathBuf {
        let root = std::env::var_os("HUNTBOOK_EMULATORS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.emulators")
            });
        let program = root.join(relative);
        assert!(
            program.exists(),
            "the storage emulator {} is missing: run scripts/setup --test",
            program.display()
        );
        program
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// A running emulator, stopped when dropped.
    struct Running(Child);

    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    async fn start(mut command: Command, port: u16) -> Running {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let running = Running(child);
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return running;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{command:?} did not listen on port {port} within 30 s");
    }

    /// A plain HTTP client for the emulators' set-up requests.
    fn http() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    fn options(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// Put and read back below the location's prefix; with `full`, list and
    /// delete too.
    async fn round_trip(url: &str, options: BTreeMap<String, String>, full: bool) {
        let store = OutputStore::open(&Location::Cloud(url.into()), &options).unwrap();
        let path = Path::from("2026/11/29/hunt_10.0.0.5_r1.ipynb");
        let location = store.put(&path, b"{\"cells\": []}".to_vec()).await.unwrap();
        assert_eq!(location, format!("{url}/{path}"));
        assert_eq!(store.get(&path).await.unwrap(), b"{\"cells\": []}");
        if !full {
            return;
        }
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].path, path);
        assert!((Utc::now() - listed[0].modified).num_minutes().abs() < 5);
        store.delete(&path).await.unwrap();
        assert!(store.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn s3_on_moto() {
        let port = free_port();
        let mut command = Command::new(emulator("venv/bin/moto_server"));
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let _moto = start(command, port).await;
        let endpoint = format!("http://127.0.0.1:{port}");
        let created = http()
            .put(format!("{endpoint}/outputs"))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{created:?}");
        let settings = options(&[
            ("aws_endpoint", endpoint),
            ("aws_allow_http", "true".into()),
            ("aws_region", "us-east-1".into()),
            ("aws_access_key_id", "testing".into()),
            ("aws_secret_access_key", "testing".into()),
        ]);
        round_trip("s3://outputs/huntbook", settings, true).await;
    }

    /// Azurite's well-known development account.
    const AZURITE_ACCOUNT: &str = "devstoreaccount1";
    const AZURITE_KEY: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// Create a container with a Shared Key request (object stores cannot).
    async fn create_container(endpoint: &str, container: &str) {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let version = "2021-08-06";
        let canonical = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n\
             /{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{container}\nrestype:container"
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(&engine.decode(AZURITE_KEY).unwrap()).unwrap();
        mac.update(canonical.as_bytes());
        let signature = engine.encode(mac.finalize().into_bytes());
        let created = http()
            .put(format!("{endpoint}/{container}?restype=container"))
            .header("x-ms-date", date)
            .header("x-ms-version", version)
            .header(
                "Authorization",
                format!("SharedKey {AZURITE_ACCOUNT}:{signature}"),
            )
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{created:?}");
    }

    #[tokio::test]
    async fn azure_blob_on_azurite() {
        let port = free_port();
        let data = tempfile::tempdir().unwrap();
        let mut command = Command::new(emulator("node/node_modules/.bin/azurite-blob"));
        command.args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()]);
        command.args([
            "--silent",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--location",
        ]);
        command.arg(data.path());
        let _azurite = start(command, port).await;
        let endpoint = format!("http://127.0.0.1:{port}/{AZURITE_ACCOUNT}");
        create_container(&endpoint, "outputs").await;
        let settings = options(&[
            ("azure_storage_account_name", AZURITE_ACCOUNT.into()),
            ("azure_storage_account_key", AZURITE_KEY.into()),
            ("azure_storage_endpoint", endpoint),
            ("allow_http", "true".into()),
        ]);
        round_trip("az://outputs/huntbook", settings, true).await;
    }

    /// A loopback proxy in front of the GCS emulator that adds the headers Cloud
    /// Storage sends on XML API uploads and downloads and the emulator leaves out:
    /// `ETag` (the object's MD5, quoted) and, on downloads, `Last-Modified` (the
    /// object's `updated` time from the emulator's JSON API). Everything else passes
    /// unchanged.
    async fn etag_proxy(emulator: String) -> String {
        use axum::body::{to_bytes, Body};
        use axum::extract::Request;
        use axum::response::Response;
        use md5::{Digest, Md5};

        let client = http();
        let forward = move |request: Request| {
            let (client, emulator) = (client.clone(), emulator.clone());
            async move {
                let (parts, body) = request.into_parts();
                let body = to_bytes(body, usize::MAX).await.unwrap();
                let target = format!("{emulator}{}", parts.uri);
                let mut outgoing = client.request(parts.method.clone(), target);
                for (name, value) in &parts.headers {
                    if name != "host" {
                        outgoing = outgoing.header(name, value);
                    }
                }
                let answer = outgoing.body(body.clone()).send().await.unwrap();
                let status = answer.status();
                let headers = answer.headers().clone();
                let answered = answer.bytes().await.unwrap();
                let object = match parts.method.as_str() {
                    "PUT" => Some(&body),
                    "GET" if !parts.uri.path().starts_with("/storage/") => Some(&answered),
                    _ => None,
                };
                let mut response = Response::builder().status(status);
                for (name, value) in &headers {
                    response = response.header(name, value);
                }
                if let Some(object) = object.filter(|_| status.is_success()) {
                    if !headers.contains_key("etag") {
                        let md5 = hex::encode(Md5::digest(object));
                        response = response.header("etag", format!("\"{md5}\""));
                    }
                }
                if parts.method == "GET" && object.is_some() && status.is_success() {
                    let (bucket, name) = parts.uri.path()[1..].split_once('/').unwrap();
                    // The path's parts are already escaped; the name is one part here.
                    let name = name.replace('/', "%2F");
                    let meta: serde_json::Value = client
                        .get(format!("{emulator}/storage/v1/b/{bucket}/o/{name}"))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let updated =
                        chrono::DateTime::parse_from_rfc3339(meta["updated"].as_str().unwrap())
                            .unwrap()
                            .with_timezone(&Utc);
                    let http_date = updated.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
                    response = response.header("last-modified", http_date);
                }
                response.body(Body::from(answered)).unwrap()
            }
        };
        let app = axum::Router::new().fallback(forward);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    #[tokio::test]
    async fn gcs_on_its_emulator() {
        let port = free_port();
        let mut command = Command::new(emulator("venv/bin/gcp-storage-emulator"));
        command.args(["start", "--host", "127.0.0.1", "--port", &port.to_string()]);
        command.args(["--in-memory", "--default-bucket", "outputs"]);
        let _gcs = start(command, port).await;
        let proxy = etag_proxy(format!("http://127.0.0.1:{port}")).await;
        let settings = options(&[
            ("google_base_url", proxy),
            // The emulator takes any token; without one the client asks a metadata server.
            ("google_bearer_token", "emulator".into()),
        ]);
        // Neither GCS emulator answers the XML API's listing or deletion (501), which
        // object_store uses: those, and so retention, are not checked on GCS.
        round_trip("gs://outputs/huntbook", settings, false).await;
    }

    #[test]
    fn unknown_options_and_schemes_are_refused_by_name() {
        let url = Url::parse("s3://bucket/p").unwrap();
        let error = open(&url, &options(&[("aws_endpiont", "x".into())])).unwrap_err();
        assert!(error.to_string().contains("aws_endpiont"), "{error}");
        let error = open(&Url::parse("ftp://host/p").unwrap(), &BTreeMap::new()).unwrap_err();
        assert!(error.to_string().contains("ftp://"), "{error}");
    }
}
