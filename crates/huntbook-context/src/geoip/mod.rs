//! Where an IP address is: country, region, city and coordinates, with MSTICPy's
//! `GeoLocation` fields.
//!
//! Two sources give a [`GeoLocation`]:
//! - [`GeoLiteLookup`] reads MaxMind DB (`.mmdb`) files: a City or Country database
//!   (GeoLite2 or GeoIP2) for the location and, when there is one, an ASN database for
//!   `Asn` and `AsnOrg`. [`GeoLiteSettings`] takes the folder and the MaxMind account
//!   from `OtherProviders.GeoIPLite` in the configuration, and
//!   [`GeoLiteSettings::ensure_database`] downloads GeoLite2-City when it is missing
//!   or more than 30 days old (only with an account id and licence key configured).
//! - [`IpStackLookup`] asks the IPStack web service, many addresses per request.
//!
//! Addresses that are not public (private, loopback, multicast...) are not looked
//! up: they get MSTICPy's placeholder, `CountryOrRegionName` "Private address" (or
//! "Loopback address", ...) and `City` "location unknown". An address a database
//! does not hold gets no location. [`locations_batch`] and [`join_locations`] turn
//! the answers into Arrow columns: one row per address, or new columns on the input
//! rows.
//!
//! [`MmdbWriter`] writes `.mmdb` files, for databases of one's own networks and for
//! tests.
//!
//! ```
//! use huntbook_context::geoip::{GeoLiteLookup, MmdbWriter};
//! use serde_json::json;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut db = MmdbWriter::new("GeoLite2-City");
//! db.insert("81.2.69.0/24", json!({
//!     "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
//!     "city": {"names": {"en": "London"}},
//!     "location": {"latitude": 51.5142, "longitude": -0.0931},
//! })).unwrap();
//! db.write(&dir.path().join("GeoLite2-City.mmdb")).unwrap();
//!
//! let geo = GeoLiteLookup::from_folder(dir.path()).unwrap();
//! let london = geo.lookup("81.2.69.160").unwrap().unwrap();
//! assert_eq!(london.city.as_deref(), Some("London"));
//! let private = geo.lookup("10.0.0.1").unwrap().unwrap();
//! assert_eq!(private.country_name.as_deref(), Some("Private address"));
//! assert!(geo.lookup("8.8.8.8").unwrap().is_none());
//! ```

mod download;
mod ipstack;
mod maxmind;
mod settings;
mod table;
mod writer;

pub use download::{Refresh, CITY_FILE};
pub use ipstack::{IpStackLookup, IPSTACK_BATCH};
pub use maxmind::{DatabaseKind, GeoLiteLookup, MaxMindDb};
pub use settings::{GeoLiteSettings, IpStackSettings, MAXMIND_DOWNLOAD, MAX_AGE};
pub use table::{join_locations, locations_batch, LOCATION_COLUMNS};
pub use writer::{MmdbWriter, WriteError};

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use huntbook_http::HttpError;

use crate::ip::{ip_type, IpType};

/// The location of one address, MSTICPy's `GeoLocation` plus the address itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeoLocation {
    /// The address as given (`IpAddress`).
    pub ip: String,
    pub country_code: Option<String>,
    /// `CountryOrRegionName`.
    pub country_name: Option<String>,
    /// The first subdivision (state, province, English region...).
    pub state: Option<String>,
    pub city: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    /// The autonomous system number, from an ASN database or IPStack.
    pub asn: Option<u32>,
    /// The autonomous system's organisation.
    pub asn_org: Option<String>,
}

impl GeoLocation {
    /// MSTICPy's stand-in for an address that has no place on the map: "Private
    /// address", "Loopback address"... and "location unknown".
    pub fn placeholder(ip: &str, label: &str) -> GeoLocation {
        GeoLocation {
            ip: ip.to_string(),
            country_name: Some(format!("{label} address")),
            city: Some("location unknown".to_string()),
            ..GeoLocation::default()
        }
    }
}

/// The address to look up, or the label of the placeholder answer when there is
/// nothing to look up: a non-public address ("Private"...), or a text that is not an
/// address at all ("Invalid IP").
pub(crate) fn public_or_placeholder(text: &str) -> Result<IpAddr, &'static str> {
    match crate::ip::parse_ip(text) {
        Err(_) => Err("Invalid IP"),
        Ok(ip) => match ip_type(ip) {
            IpType::Public => Ok(ip),
            other => Err(other.name()),
        },
    }
}

/// Why a location could not be found.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("cannot open the MaxMind database {}: {reason}", path.display())]
    Database { path: PathBuf, reason: String },
    #[error("no MaxMind database in {}: put GeoLite2-City.mmdb there, or set OtherProviders.GeoIPLite.Args.AccountID and AuthKey (a MaxMind licence key) so huntbook can download it", folder.display())]
    NoDatabase { folder: PathBuf },
    #[error("the MaxMind download is not a GeoLite2-City archive: {problem}")]
    BadArchive { problem: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("IPStack refused the request: {kind} (code {code}): {info}")]
    IpStack {
        code: i64,
        kind: String,
        info: String,
    },
    #[error("{setting}: {problem}")]
    Config { setting: String, problem: String },
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place, so a
/// reader never sees half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&folder)?;
    let name = path
        .file_name()
        .map_or_else(|| "database".into(), |n| n.to_string_lossy().into_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temp = folder.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_get_msticpys_placeholder() {
        let placeholder =
            |text: &str| GeoLocation::placeholder(text, public_or_placeholder(text).unwrap_err());
        let p = placeholder("192.168.1.1");
        assert_eq!(p.country_name.as_deref(), Some("Private address"));
        assert_eq!(p.city.as_deref(), Some("location unknown"));
        assert_eq!(p.country_code, None);
        let p = placeholder("127.0.0.1");
        assert_eq!(p.country_name.as_deref(), Some("Loopback address"));
        let p = placeholder("not-an-ip");
        assert_eq!(p.country_name.as_deref(), Some("Invalid IP address"));
        assert_eq!(p.ip, "not-an-ip");
        assert!(public_or_placeholder(" 8.8.8.8").is_ok());
    }

    #[test]
    fn atomic_writes_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/x.mmdb");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.mmdb"]);
    }
}
