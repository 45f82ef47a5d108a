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
