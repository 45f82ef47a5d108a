//! Providers from the configuration: each `TIProviders` entry names its kind with
//! `Provider:` (else its own name) and takes `Args`:
//!
//! | Arg | for | meaning |
//! |---|---|---|
//! | `AuthKey`, `ApiID` | web services | credentials, any credential form (`{EnvironmentVar: ...}`, `{KeyVault: ...}`...) |
//! | `Instance` | web services | the instance in URLs that have one |
//! | `BaseUrl` | web services | replaces the service's address (a proxy, a mirror, a test server) |
//! | `RateLimit` | web services | `10/s`, `4/min`, `500/h`, `1000/d` |
//! | `Concurrency` | web services | requests in flight at once (default 8) |
//! | `MaxRetries` | web services | retries of a throttled or failed request (default 4) |
//! | `Timeout` | web services, Tor | per request: `30s`, `2m` (default 30 s) |
//! | `CacheTtl` | web services | how long answers are reused: `12h`, `7d` (default 1 day) |
//! | `Url`, `MaxAge` | Tor | the exit list (default the Tor Project's) and when to fetch it again (default `1d`) |
//! | `Paths`, `Severity` | LocalFeeds | feed files or folders, and the severity of a listed observable |
//! | `DataEnvironment` | AzSTI | where the threat-intel table is queried: `MSSentinel` (default) or any query environment, e.g. `LocalData` |
//! | `WorkspaceID`, `TenantID`, `Workspace` | AzSTI | the Sentinel workspace (by id, or by its name in `AzureSentinel.Workspaces`; default the configured default workspace) |
//! | `DataPaths` | AzSTI on LocalData | the folders holding `ti_indicators.parquet` (or `.csv`...) |
//! | `Lookback` | AzSTI | how far back indicators count: `30d` (default), `12h` |
//!
//! A provider whose credentials are missing or cannot be resolved is not loaded, and
//! says why in `provider_status` (as MSTICPy warns and goes on); malformed `Args` are
//! errors. The `TICache` section places the answer cache (`Path:`, default
//! `~/.huntbook/ti-cache.sqlite`; `Enabled: false` turns it off).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use huntbook_core::config::{Config, Kind, ProviderSettings, Value};
use huntbook_core::secret::{Secret, SecretResolver};
use huntbook_data::driver::{Driver, QueryProvider};
use huntbook_data::remote::connect::{connect, Connect};
use huntbook_data::{Environment, LocalData};
use huntbook_http::client::RateLimit;
use reqwest::Url;

use super::http::{HttpProvider, HttpSettings, Service, SERVICES};
use super::lookup::{ProviderStatus, TiLookup};
use super::model::Severity;
use super::sentinel::SentinelTiProvider;
use super::tor::{TorProvider, TorSettings};
use super::TiError;
use crate::cache::Cache;
use crate::feeds::{Feed, FeedProvider};

/// The provider kinds a `Provider:` key may name.
pub fn available_providers() -> Vec<&'static str> {
    let mut all: Vec<&str> = SERVICES.iter().map(|s| s.key).collect();
    all.extend(["Tor", "LocalFeeds", "AzSTI"]);
    all
}

/// MSTICPy providers huntbook does not have (yet); their entries are listed as not
/// loaded rather than refused.
const NOT_AVAILABLE: [&str; 5] = [
    "RiskIQ",
    "IntSights",
    "BinaryEdge",
    "Cyberint",
    "VirusTotalV3",
];

impl TiLookup {
    /// The providers of the `TIProviders` section, with secrets resolved through
    /// `resolver`, and the cache of the `TICache` section.
    pub fn from_config(config: &Config, resolver: &SecretResolver) -> Result<TiLookup, TiError> {
        let entries = config
            .providers("TIProviders")
            .map_err(|p| config_error(p.key, p.origin.map(|o| o.to_string()), p.message))?;
        let mut lookup = TiLookup::new();
        for entry in &entries {
            let not_loaded = |reason: String| ProviderStatus {
                name: entry.name.clone(),
                kind: entry.provider.clone(),
                primary: entry.primary,
                loaded: false,
                enabled: false,
                detail: reason,
            };
            let args = Args { config, entry };
            let kind = entry.provider.as_str();
            let provider: Arc<dyn super::TiProvider> = if let Some(service) = Service::find(kind) {
                match http_settings(&args, resolver, service)? {
                    Ok(settings) => Arc::new(HttpProvider::new(service, settings)?),
                    Err(reason) => {
                        lookup.note_not_loaded(not_loaded(reason));
                        continue;
                    }
                }
            } else if kind.eq_ignore_ascii_case("tor") {
                Arc::new(TorProvider::new(&entry.name, tor_settings(&args)?)?)
            } else if kind.eq_ignore_ascii_case("localfeeds")
                || kind.eq_ignore_ascii_case("localfeed")
            {
                Arc::new(FeedProvider::load(&entry.name, &feeds(&args)?)?)
            } else if kind.eq_ignore_ascii_case("azsti")
                || kind.eq_ignore_ascii_case("azuresentinel")
            {
                match sentinel_queries(&args, resolver)? {
                    Ok(queries) => Arc::new(SentinelTiProvider::new(
                        &entry.name,
                        queries,
                        args.parsed("Lookback", parse_duration)?
                            .unwrap_or(DEFAULT_LOOKBACK),
                    )),
                    Err(reason) => {
                        lookup.note_not_loaded(not_loaded(reason));
                        continue;
                    }
                }
            } else if NOT_AVAILABLE.iter().any(|k| k.eq_ignore_ascii_case(kind)) {
                lookup.note_not_loaded(not_loaded(format!("huntbook has no {kind} provider yet")));
                continue;
            } else {
                return Err(config_error(
                    format!("TIProviders.{}.Provider", entry.name),
                    origin_of(config.get(&format!("TIProviders.{}", entry.name))),
                    format!(
                        "unknown provider {kind}; known: {}",
                        available_providers().join(", ")
                    ),
                ));
            };
            let kind = Service::find(kind).map_or(kind, |s| s.key);
            lookup.add_provider_of_kind(provider, entry.primary, kind);
        }
        lookup.set_cache(open_cache(config)?);
        Ok(lookup)
    }
}

/// How far back the threat-intel table is searched unless `Lookback` says otherwise.
const DEFAULT_LOOKBACK: Duration = Duration::from_secs(30 * 24 * 3600);

/// The query provider an AzSTI entry looks up through; `Ok(Err(reason))` when it cannot
/// connect (no workspace, no credentials), so the entry is listed as not loaded.
fn sentinel_queries(
    args: &Args,
    resolver: &SecretResolver,
) -> Result<Result<QueryProvider, String>, TiError> {
    let environment = Environment::parse(
        &args
            .text("DataEnvironment")?
            .unwrap_or_else(|| "MSSentinel".into()),
    );
    let driver: Box<dyn Driver> = if environment == Environment::LocalData {
        let paths = args.paths(
            "DataPaths",
            "AzSTI on LocalData needs DataPaths: the folders of the indicator table",
        )?;
        match LocalData::new(paths) {
            Ok(local) => Box::new(local),
            Err(e) => return Err(args.error("DataPaths", e.to_string())),
        }
    } else {
        // MSTICPy's AzSTI Args, as the connect() keywords they stand for.
        let mut given = Connect::default();
        for (arg, keyword) in [
            ("WorkspaceID", "workspace_id"),
            ("TenantID", "tenant_id"),
            ("Workspace", "workspace"),
        ] {
            if let Some(value) = args.text(arg)? {
                given.args.push((keyword.to_string(), value));
            }
        }
        match connect(&environment, args.config, resolver, &given) {
            Ok(Some(driver)) => driver,
            Ok(None) => return Err(args.error("DataEnvironment", format!("{environment} cannot be queried for threat intelligence; use MSSentinel or LocalData"))),
            Err(e) => return Ok(Err(e.to_string())),
        }
    };
    Ok(QueryProvider::connected(driver, &[]).map_err(|e| e.to_string()))
}

fn open_cache(config: &Config) -> Result<Option<Arc<Cache>>, TiError> {
    if config
        .get("TICache.Enabled")
        .and_then(Value::as_bool)
        .is_some_and(|on| !on)
    {
        return Ok(None);
    }
    let path = match config.get("TICache.Path") {
        Some(value) => config.path(value),
        None => home().map(|h| h.join(".huntbook").join("ti-cache.sqlite")),
    };
    match path {
        Some(path) => Ok(Some(Arc::new(Cache::open(&path)?))),
        None => Ok(None),
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
}

struct Args<'a> {
    config: &'a Config,
    entry: &'a ProviderSettings,
}

impl Args<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.entry.arg(name).filter(|v| !v.is_null())
    }

    fn error(&self, name: &str, message: String) -> TiError {
        config_error(
            self.entry.arg_path(name),
            origin_of(self.get(name)),
            message,
        )
    }

    fn text(&self, name: &str) -> Result<Option<String>, TiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .scalar_text()
                .map(Some)
                .ok_or_else(|| self.error(name, format!("expected text, found {}", v.type_name()))),
        }
    }

    fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, TiError> {
        match self.text(name)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).map_err(|m| self.error(name, m)),
        }
    }

    /// One path or a list of them (relative to the file that gives them); an error
    /// saying `missing` when there is none.
    fn paths(&self, name: &str, missing: &str) -> Result<Vec<PathBuf>, TiError> {
        match self.get(name) {
            None => Err(self.error(name, missing.into())),
            Some(Value {
                kind: Kind::List(items),
                ..
            }) => Ok(items.iter().filter_map(|v| self.config.path(v)).collect()),
            Some(one) => Ok(self.config.path(one).into_iter().collect()),
        }
    }

    /// A credential, `Err(reason)` when it cannot be had.
    fn secret(&self, name: &str, resolver: &SecretResolver) -> Result<Option<Secret>, String> {
        let reference = self
            .config
            .secret(&self.entry.arg_path(name))
            .map_err(|p| p.to_string())?;
        match reference {
            None => Ok(None),
            Some(r) => resolver
                .resolve(&r)
                .map(Some)
                .map_err(|e| format!("{}: {e}", self.entry.arg_path(name))),
        }
    }
}

fn origin_of(value: Option<&Value>) -> Option<String> {
    value.map(|v| v.origin.to_string())
}

fn config_error(key: String, origin: Option<String>, message: String) -> TiError {
    TiError::Config {
        key,
        origin: origin.unwrap_or_else(|| "configuration".into()),
        message,
    }
}

/// Settings for a web service; `Ok(Err(reason))` when its credentials are missing.
fn http_settings(
    args: &Args,
    resolver: &SecretResolver,
    service: &'static Service,
) -> Result<Result<HttpSettings, String>, TiError> {
    let mut settings = HttpSettings::new(&args.entry.name);
    settings.base_url = args.parsed("BaseUrl", |t| {
        Url::parse(t).map_err(|e| format!("`{t}` is not a URL: {e}"))
    })?;
    settings.instance = args.text("Instance")?;
    settings.rate_limit = args.parsed("RateLimit", parse_rate)?;
    if let Some(n) = args.parsed("Concurrency", |t| {
        t.parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("`{t}` is not a positive whole number"))
    })? {
        settings.concurrency = n;
    }
    if let Some(t) = args.parsed("Timeout", parse_duration)? {
        settings.timeout = t;
    }
    if let Some(n) = args.parsed("MaxRetries", |t| {
        t.parse::<u32>()
            .map_err(|_| format!("`{t}` is not a whole number"))
    })? {
        settings.retry.max_retries = n;
    }
    if let Some(t) = args.parsed("CacheTtl", parse_duration)? {
        settings.cache_ttl = t;
    }
    let credentials = args
        .secret("AuthKey", resolver)
        .and_then(|key| Ok((key, args.secret("ApiID", resolver)?)));
    let (auth_key, api_id) = match credentials {
        Ok(found) => found,
        Err(reason) => return Ok(Err(reason)),
    };
    if auth_key.is_none() {
        return Ok(Err(format!(
            "{} is not set",
            args.entry.arg_path("AuthKey")
        )));
    }
    if service.auth == super::http::Auth::Basic && api_id.is_none() {
        return Ok(Err(format!("{} is not set", args.entry.arg_path("ApiID"))));
    }
    settings.auth_key = auth_key;
    settings.api_id = api_id;
    Ok(Ok(settings))
}

fn tor_settings(args: &Args) -> Result<TorSettings, TiError> {
    let mut settings = TorSettings::default();
    if let Some(url) = args.parsed("Url", |t| {
        Url::parse(t).map_err(|e| format!("`{t}` is not a URL: {e}"))
    })? {
        settings.url = url;
    }
    if let Some(age) = args.parsed("MaxAge", parse_duration)? {
        settings.max_age = age;
    }
    if let Some(t) = args.parsed("Timeout", parse_duration)? {
        settings.timeout = t;
    }
    settings.list_file = home().map(|h| h.join(".huntbook").join("tor-exit-addresses.txt"));
    Ok(settings)
}

fn feeds(args: &Args) -> Result<Vec<Feed>, TiError> {
    let severity = args.parsed("Severity", |t| {
        Severity::parse(t)
            .ok_or_else(|| format!("`{t}` is not a severity (unknown, information, warning, high)"))
    })?;
    let paths = args.paths("Paths", "LocalFeeds needs Paths: the feed files or folders")?;
    Ok(paths
        .into_iter()
        .map(|path| Feed {
            severity,
            ..Feed::path(path)
        })
        .collect())
}

/// `10/s`, `4/min`, `500/h`, `1000/d` (also `10/second`, `4/minute`...).
pub fn parse_rate(text: &str) -> Result<RateLimit, String> {
    let bad = || format!("`{text}` is not a rate; write it as 10/s, 4/min, 500/h or 1000/d");
    let (count, unit) = text.split_once('/').ok_or_else(bad)?;
    let count: u32 = count
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(bad)?;
    let per = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        "d" | "day" => Duration::from_secs(86_400),
        _ => return Err(bad()),
    };
    Ok(RateLimit::new(count, per))
}

/// `30s`, `2m`, `12h`, `7d`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration; write it as 30s, 10m, 12h or 7d");
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(number * seconds).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_durations_read_as_written() {
        assert_eq!(
            parse_rate("10/s").unwrap(),
            RateLimit::new(10, Duration::from_secs(1))
        );
        assert_eq!(
            parse_rate("4/min").unwrap(),
            RateLimit::new(4, Duration::from_secs(60))
        );
        assert!(parse_rate("fast").unwrap_err().contains("10/s"));
        assert!(parse_rate("0/s").is_err());
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
    }
}
