//! GeoIP, whois and IP types (`huntbook_context`): the calls behind `huntbook.geoip`,
//! `huntbook.whois`, `huntbook.ip_type` and `huntbook.write_mmdb`. The address column
//! comes in as an Arrow batch; the answer columns go back aligned with its rows. The
//! lookups run with the GIL released.
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use huntbook_context::columns;
use huntbook_context::geoip::{
    self, GeoLiteLookup, GeoLiteSettings, GeoLocation, IpStackLookup, IpStackSettings, MmdbWriter,
};
use huntbook_context::ip;
use huntbook_context::whois::{self, WhoisLookup, WhoisResult, WhoisSettings};
use huntbook_core::config::{Config, ConfigSearch};
use huntbook_http::vault::resolver;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::arrow::{batch_from_py, PyBatch};

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn runtime() -> PyResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(value_error)
}

/// MSTICPy's type of one address ("Public", "Private", "Link Local"...).
#[pyfunction]
fn ip_type(address: &str) -> PyResult<String> {
    let parsed = ip::parse_ip(address).map_err(value_error)?;
    Ok(ip::ip_type(parsed).name().to_string())
}

/// Whether the address is globally routable (what lookups accept).
#[pyfunction]
fn is_global_ip(address: &str) -> PyResult<bool> {
    Ok(ip::is_global(ip::parse_ip(address).map_err(value_error)?))
}

/// The locations for `column` of `batch`: the batch with the location columns added.
/// `databases` replace the configured folder; `provider` is "maxmind" or "ipstack";
/// `service_url` points the download (maxmind) or the service (ipstack) elsewhere.
#[pyfunction]
#[pyo3(signature = (batch, column, provider="maxmind", databases=Vec::new(), download=true, service_url=None))]
fn geoip_lookup(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    column: &str,
    provider: &str,
    databases: Vec<PathBuf>,
    download: bool,
    service_url: Option<&str>,
) -> PyResult<PyBatch> {
    let batch = batch_from_py(batch)?;
    let service_url = service_url
        .map(reqwest::Url::parse)
        .transpose()
        .map_err(|e| value_error(format!("service_url: {e}")))?;
    py.detach(|| {
        let values = columns::text_values(&batch, column).map_err(value_error)?;
        let ips = columns::distinct(&values);
        let found = match provider {
            "maxmind" => maxmind(&databases, download, service_url, &ips)?,
            "ipstack" => ipstack(service_url, &ips)?,
            other => {
                return Err(value_error(format!(
                    "unknown GeoIP provider '{other}'; use 'maxmind' or 'ipstack'"
                )))
            }
        };
        let by_ip: HashMap<String, GeoLocation> = ips
            .into_iter()
            .zip(found)
            .filter_map(|(ip, f)| f.map(|f| (ip, f)))
            .collect();
        geoip::join_locations(&batch, column, &by_ip)
            .map(PyBatch::from)
            .map_err(value_error)
    })
}

fn config() -> PyResult<Config> {
    Config::load(&ConfigSearch::from_process()).map_err(value_error)
}

fn maxmind(
    databases: &[PathBuf],
    download: bool,
    download_url: Option<reqwest::Url>,
    ips: &[String],
) -> PyResult<Vec<Option<GeoLocation>>> {
    let lookup = if databases.is_empty() {
        let config = config()?;
        let mut settings =
            GeoLiteSettings::from_config(&config, &resolver(&config)).map_err(value_error)?;
        if let Some(url) = download_url {
            settings.download_url = url;
        }
        runtime()?
            .block_on(settings.open(download))
            .map_err(value_error)?
            .0
    } else {
        GeoLiteLookup::open(databases).map_err(value_error)?
    };
    lookup.lookup_all(ips).map_err(value_error)
}

fn ipstack(base_url: Option<reqwest::Url>, ips: &[String]) -> PyResult<Vec<Option<GeoLocation>>> {
    let config = config()?;
    let mut settings = IpStackSettings::from_config(&config, &resolver(&config))
        .map_err(value_error)?
        .ok_or_else(|| {
            value_error("IPStack is not configured: add OtherProviders.IPStack.Args.AuthKey to huntbook.yaml or msticpyconfig.yaml")
        })?;
    if let Some(url) = base_url {
        settings.base_url = url;
    }
    let lookup = IpStackLookup::from_settings(settings).map_err(value_error)?;
    runtime()?.block_on(lookup.lookup(ips)).map_err(value_error)
}

/// Whois for `column` of `batch`: the batch with `AsnDescription` and the whois
/// columns added.
#[pyfunction]
#[pyo3(signature = (batch, column, rdap_bootstrap=None, cymru_server=None, rate=4, concurrency=8, timeout=30.0))]
#[allow(clippy::too_many_arguments)]
fn whois_lookup(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    column: &str,
    rdap_bootstrap: Option<&str>,
    cymru_server: Option<String>,
    rate: u32,
    concurrency: usize,
    timeout: f64,
) -> PyResult<PyBatch> {
    let batch = batch_from_py(batch)?;
    let mut settings = WhoisSettings {
        requests_per_second: rate,
        concurrency,
        timeout: Duration::try_from_secs_f64(timeout)
            .map_err(|e| value_error(format!("timeout: {e}")))?,
        ..WhoisSettings::default()
    };
    if let Some(url) = rdap_bootstrap {
        settings.bootstrap_url =
            reqwest::Url::parse(url).map_err(|e| value_error(format!("rdap_bootstrap: {e}")))?;
    }
    if let Some(server) = cymru_server {
        settings.cymru_server = server;
    }
    py.detach(|| {
        let values = columns::text_values(&batch, column).map_err(value_error)?;
        let ips = columns::distinct(&values);
        let lookup = WhoisLookup::new(settings).map_err(value_error)?;
        let results = runtime()?.block_on(lookup.lookup(&ips));
        let by_ip: HashMap<String, WhoisResult> =
            results.into_iter().map(|r| (r.query.clone(), r)).collect();
        whois::join_whois(&batch, column, &by_ip)
            .map(PyBatch::from)
            .map_err(value_error)
    })
}

/// Writes a MaxMind DB of `networks` (CIDR, record as JSON text).
#[pyfunction]
#[pyo3(signature = (path, networks, database_type, description=String::new()))]
fn write_mmdb(
    path: PathBuf,
    networks: Vec<(String, String)>,
    database_type: &str,
    description: String,
) -> PyResult<()> {
    let mut db = MmdbWriter::new(database_type).description(description);
    for (network, record) in networks {
        let record: serde_json::Value = serde_json::from_str(&record)
            .map_err(|e| value_error(format!("the record of {network} is not JSON: {e}")))?;
        db.insert(&network, record).map_err(value_error)?;
    }
    db.write(&path).map_err(value_error)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ip_type, m)?)?;
    m.add_function(wrap_pyfunction!(is_global_ip, m)?)?;
    m.add_function(wrap_pyfunction!(geoip_lookup, m)?)?;
    m.add_function(wrap_pyfunction!(whois_lookup, m)?)?;
    m.add_function(wrap_pyfunction!(write_mmdb, m)?)?;
    Ok(())
}
