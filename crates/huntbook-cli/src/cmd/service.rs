//! What the service commands share: reading the `Service` and `Notebooks` sections
//! of the configuration, opening the job store it names (`serve`, `token`), and a
//! client of the service's HTTP API (`submit`, `runs`).

use std::path::PathBuf;

use huntbook_core::config::{Config, ConfigSearch};
use huntbook_http::HttpClient;
use huntbook_runner::{JobStore, ServiceConfig};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

/// The configuration file option every service command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArg {
    /// The huntbook.yaml to use instead of searching for one
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    /// The whole configuration and its service part; the error lists every problem.
    pub fn load(&self) -> Result<(Config, ServiceConfig), String> {
        let search = ConfigSearch {
            huntbook_file: self.config.clone(),
            ..ConfigSearch::from_process()
        };
        let config = Config::load(&search)
            .map_err(|e| format!("{e}\n(fix the file, or name another with --config)"))?;
        let service = ServiceConfig::from_config(&config).map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            format!(
                "the service configuration has problems:\n{}",
                lines.join("\n")
            )
        })?;
        Ok((config, service))
    }
}

/// Open the store the configuration names (creating its tables on first use).
pub async fn open_store(service: &ServiceConfig) -> Result<JobStore, String> {
    JobStore::open(&service.store, service.store_options())
        .await
        .map_err(|e| format!("cannot open the job store {}: {e}", service.store))
}

/// Where the API is and the token to show it, for the commands that use it.
#[derive(clap::Args, Debug, Clone)]
pub struct ClientArgs {
    /// The service's URL [default: from the configuration's Service.listen]
    #[arg(long, value_name = "URL", env = "HUNTBOOK_URL")]
    pub url: Option<String>,
    /// An API token (`huntbook token create`)
    #[arg(
        long,
        value_name = "TOKEN",
        env = "HUNTBOOK_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// A client of the service's API.
pub struct ApiClient {
    http: HttpClient,
    base: Url,
    token: String,
}

impl ApiClient {
    /// The client `args` describe: the URL given, else the configured listen address.
    pub fn new(args: &ClientArgs) -> Result<ApiClient, String> {
        let token = args.token.clone().ok_or(
            "no API token: pass --token or set HUNTBOOK_TOKEN (`huntbook token create --scope run` makes one)",
        )?;
        let url = match &args.url {
            Some(url) => url.clone(),
            None => {
                let (_, service) = args.config.load().map_err(|e| {
                    format!("{e}\n(or give the service's address with --url / HUNTBOOK_URL)")
                })?;
                let mut listen = service.listen;
                // A server listening on every address is reached on this machine's own.
                if listen.ip().is_unspecified() {
                    listen.set_ip([127, 0, 0, 1].into());
                }
                format!("http://{listen}")
            }
        };
        let base = Url::parse(&url).map_err(|e| format!("--url {url:?}: {e}"))?;
        let http = HttpClient::builder("the huntbook service")
            .build()
            .map_err(|e| e.to_string())?;
        Ok(ApiClient { http, base, token })
    }

    /// The URL of the API path `segments` (each encoded as one segment) with `query`.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has a path")
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Call the API; the JSON answer, or the service's refusal as a message.
    pub async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), String> {
        let mut request = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = self
            .http
            .send_allowing_client_errors(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("reading the service's answer: {e}"))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status.is_success() {
            Ok((status, value))
        } else {
            let reason = value["error"]
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            Err(format!(
                "the service refused the request (HTTP {}): {reason}",
                status.as_u16()
            ))
        }
    }

    /// `GET` the API path `segments` with `query`.
    pub async fn get(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Value, String> {
        Ok(self
            .call(Method::GET, self.url(segments, query), None)
            .await?
            .1)
    }
}

/// A current-thread runtime for a command's async part.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// One job or run as a line: id, state, notebook, when, why.
pub fn summary(value: &Value) -> String {
    let text = |key: &str| value[key].as_str().unwrap_or("-").to_owned();
    let when = value["finished_at"]
        .as_str()
        .or(value["started_at"].as_str())
        .or(value["created_at"].as_str())
        .unwrap_or("-");
    let mut line = format!(
        "{}  {:<10} {:<20} {when}",
        text("id"),
        text("state"),
        text("notebook")
    );
    if let Some(reason) = value["reason"].as_str() {
        line.push_str(&format!("  ({reason})"));
    }
    line
}
