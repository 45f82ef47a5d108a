//! Signing in to Microsoft services from Python: a sign-in method's name (`"env"`,
//! `"cli"`, `"msi"`) or any azure-identity credential object, as `credential=` takes
//! them in `MicrosoftSentinel` and `QueryProvider.connect`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huntbook_http::azure::{
    Authority, AzureCliCredential, ClientSecretCredential, ManagedIdentityCredential,
};
use huntbook_http::token::BoxFuture;
use huntbook_http::{AccessToken, Scope, Secret, TokenError, TokenSource};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A token from a Python object with azure-identity's `get_token(*scopes)` (any
/// `azure.identity` credential): its answer has `token` and `expires_on` (epoch
/// seconds).
struct PythonCredential(Py<PyAny>);

impl TokenSource for PythonCredential {
    fn token<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        let answer = Python::attach(|py| -> PyResult<(String, Option<u64>)> {
            let token = self
                .0
                .bind(py)
                .call_method1("get_token", (scope.as_scope(),))?;
            let text: String = token.getattr("token")?.extract()?;
            let expires_on = token.getattr("expires_on").and_then(|e| e.extract()).ok();
            Ok((text, expires_on))
        });
        Box::pin(async move {
            let (text, expires_on) = answer.map_err(|e| TokenError::Refused {
                source_name: "the credential object",
                problem: format!("its get_token() raised {e}"),
                hint: "check the credential passed as credential=",
            })?;
            let expires_at = match expires_on {
                Some(seconds) => UNIX_EPOCH + Duration::from_secs(seconds),
                // Without an expiry the token is asked for again on each call.
                None => SystemTime::now(),
            };
            Ok(AccessToken {
                token: Secret::new(text),
                expires_at,
            })
        })
    }
}

/// The token source for `credential=`: a sign-in method's name or a credential
/// object. By default an app's client secret when `AZURE_CLIENT_SECRET` is set (as
/// azure-identity's environment credential reads it), else the Azure CLI.
pub(crate) fn credential(
    credential: Option<&Bound<'_, PyAny>>,
    tenant: &str,
) -> PyResult<Arc<dyn TokenSource>> {
    let method = match credential {
        Some(object) if !object.is_instance_of::<pyo3::types::PyString>() => {
            if !object.hasattr("get_token")? {
                return Err(PyValueError::new_err(
                    "credential= takes 'env', 'cli', 'msi' or an object with get_token(*scopes), such as an azure.identity credential",
                ));
            }
            return Ok(Arc::new(PythonCredential(object.clone().unbind())));
        }
        Some(name) => name.extract::<String>()?.to_ascii_lowercase(),
        None if std::env::var_os("AZURE_CLIENT_SECRET").is_some() => "env".to_string(),
        None => "cli".to_string(),
    };
    let setup = |e: TokenError| PyValueError::new_err(e.to_string());
    match method.as_str() {
        "env" | "clientsecret" => {
            let var = |name: &str| {
                std::env::var(name)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        PyValueError::new_err(format!(
                            "credential='{method}' reads {name}, which is not set"
                        ))
                    })
            };
            let authority = match std::env::var("AZURE_AUTHORITY_HOST") {
                Ok(host) if !host.is_empty() => Authority::custom(&host).map_err(setup)?,
                _ => Authority::public(),
            };
            let tenant = var("AZURE_TENANT_ID").or_else(|e| match tenant {
                "" => Err(e),
                tenant => Ok(tenant.to_string()),
            })?;
            let source = ClientSecretCredential::new(
                authority,
                &tenant,
                &var("AZURE_CLIENT_ID")?,
                Secret::new(var("AZURE_CLIENT_SECRET")?),
            )
            .map_err(setup)?;
            Ok(Arc::new(source))
        }
        "cli" => {
            let source = AzureCliCredential::new();
            let source = match tenant {
                "" => source,
                tenant => source.with_tenant(tenant).map_err(setup)?,
            };
            Ok(Arc::new(source))
        }
        "msi" => Ok(Arc::new(ManagedIdentityCredential::from_env().map_err(setup)?)),
        other => Err(PyValueError::new_err(format!(
            "unknown credential {other:?}: use 'env', 'cli', 'msi' or an azure.identity credential object"
        ))),
    }
}
