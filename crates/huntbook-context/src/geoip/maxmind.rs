//! Locations from MaxMind DB files, read with the `maxminddb` crate.
//!
//! Only the fields a [`GeoLocation`] needs are decoded (English names, the first
//! subdivision, coordinates), borrowing the text from the database, so a lookup does
//! not build the whole record.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use serde::Deserialize;

use super::{public_or_placeholder, GeoError, GeoLocation};

/// What a database holds, from its `database_type` metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// City or Country (GeoLite2, GeoIP2, DBIP...): countries, maybe cities.
    Location,
    /// Autonomous systems (GeoLite2-ASN).
    Asn,
}

/// One open `.mmdb` file.
pub struct MaxMindDb {
    path: PathBuf,
    kind: DatabaseKind,
    database_type: String,
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for MaxMindDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaxMindDb")
            .field("path", &self.path)
            .field("database_type", &self.database_type)
            .finish()
    }
}

impl MaxMindDb {
    /// Reads the file into memory and checks its metadata.
    pub fn open(path: &Path) -> Result<MaxMindDb, GeoError> {
        let bytes = std::fs::read(path).map_err(|e| GeoError::Database {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        MaxMindDb::from_bytes(path, bytes)
    }

    /// A database already in memory; `path` names it in errors.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<MaxMindDb, GeoError> {
        let reader = Reader::from_source(bytes).map_err(|e| GeoError::Database {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let database_type = reader.metadata().database_type.clone();
        let kind = if database_type.to_ascii_uppercase().contains("ASN") {
            DatabaseKind::Asn
        } else {
            DatabaseKind::Location
        };
        Ok(MaxMindDb {
            path: path.to_path_buf(),
            kind,
            database_type,
            reader,
        })
    }

    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The `database_type` of the metadata (`GeoLite2-City`...).
    pub fn database_type(&self) -> &str {
        &self.database_type
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When the database was built.
    pub fn build_time(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.reader.metadata().build_epoch)
    }

    fn record<'a, T: Deserialize<'a>>(&'a self, ip: IpAddr) -> Result<Option<T>, GeoError> {
        let corrupt = |e: maxminddb::MaxMindDbError| GeoError::Database {
            path: self.path.clone(),
            reason: format!("looking up {ip}: {e}"),
        };
        self.reader
            .lookup(ip)
            .map_err(corrupt)?
            .decode()
            .map_err(corrupt)
    }
}

#[derive(Deserialize)]
struct LocationRecord<'a> {
    #[serde(borrow)]
    country: Option<Place<'a>>,
    #[serde(borrow)]
    city: Option<Place<'a>>,
    #[serde(borrow)]
    subdivisions: Option<Vec<Place<'a>>>,
    location: Option<Coordinates>,
}

#[derive(Deserialize)]
struct Place<'a> {
    iso_code: Option<&'a str>,
    #[serde(borrow)]
    names: Option<Names<'a>>,
}

impl Place<'_> {
    fn english(&self) -> Option<String> {
        self.names.as_ref()?.en.map(str::to_string)
    }
}

#[derive(Deserialize)]
struct Names<'a> {
    en: Option<&'a str>,
}

#[derive(Deserialize)]
struct Coordinates {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize)]
struct AsnRecord<'a> {
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<&'a str>,
}

/// Locations from a City or Country database, with AS numbers from an ASN database
/// when one is given.
#[derive(Debug)]
pub struct GeoLiteLookup {
    location: Option<MaxMindDb>,
    asn: Option<MaxMindDb>,
}

/// Location databases looked for in a folder, best first.
const LOCATION_FILES: [&str; 4] = [
    "GeoLite2-City.mmdb",
    "GeoIP2-City.mmdb",
    "GeoLite2-Country.mmdb",
    "GeoIP2-Country.mmdb",
];

/// The ASN database looked for in a folder.
const ASN_FILE: &str = "GeoLite2-ASN.mmdb";

impl GeoLiteLookup {
    /// Opens the databases at `paths`; each file's metadata says whether it gives
    /// locations or AS numbers. At most one of each.
    pub fn open(paths: &[PathBuf]) -> Result<GeoLiteLookup, GeoError> {
        let mut lookup = GeoLiteLookup {
            location: None,
            asn: None,
        };
        for path in paths {
            let db = MaxMindDb::open(path)?;
            let slot = match db.kind {
                DatabaseKind::Location => &mut lookup.location,
                DatabaseKind::Asn => &mut lookup.asn,
            };
            if let Some(earlier) = slot {
                return Err(GeoError::Config {
                    setting: "GeoIP databases".into(),
                    problem: format!(
                        "{} and {} are both {:?} databases; give one of each kind at most",
                        earlier.path.display(),
                        path.display(),
                        db.kind
                    ),
                });
            }
            *slot = Some(db);
        }
        if lookup.location.is_none() && lookup.asn.is_none() {
            return Err(GeoError::Config {
                setting: "GeoIP databases".into(),
                problem: "no database given".into(),
            });
        }
        Ok(lookup)
    }

    /// The databases found in `folder`: the first of GeoLite2-City, GeoIP2-City,
    /// GeoLite2-Country and GeoIP2-Country, and GeoLite2-ASN if present.
    pub fn from_folder(folder: &Path) -> Result<GeoLiteLookup, GeoError> {
        let location = LOCATION_FILES
            .iter()
            .map(|name| folder.join(name))
            .find(|p| p.is_file())
            .ok_or_else(|| GeoError::NoDatabase {
                folder: folder.to_path_buf(),
            })?;
        let mut paths = vec![location];
        let asn = folder.join(ASN_FILE);
        if asn.is_file() {
            paths.push(asn);
        }
        GeoLiteLookup::open(&paths)
    }

    /// The location database, if any.
    pub fn location_db(&self) -> Option<&MaxMindDb> {
        self.location.as_ref()
    }

    /// The ASN database, if any.
    pub fn asn_db(&self) -> Option<&MaxMindDb> {
        self.asn.as_ref()
    }

    /// The location of `text`: the placeholder for a non-public or invalid address,
    /// `None` when no database holds the address. Errors only for a damaged
    /// database.
    pub fn lookup(&self, text: &str) -> Result<Option<GeoLocation>, GeoError> {
        match public_or_placeholder(text) {
            Err(label) => Ok(Some(GeoLocation::placeholder(text, label))),
            Ok(ip) => self.lookup_public(text.trim(), ip),
        }
    }

    /// [`GeoLiteLookup::lookup`] for each address, in order.
    pub fn lookup_all(&self, ips: &[String]) -> Result<Vec<Option<GeoLocation>>, GeoError> {
        ips.iter().map(|ip| self.lookup(ip)).collect()
    }

    fn lookup_public(&self, text: &str, ip: IpAddr) -> Result<Option<GeoLocation>, GeoError> {
        let mut found = GeoLocation {
            ip: text.to_string(),
            ..GeoLocation::default()
        };
        let mut any = false;
        if let Some(db) = &self.location {
            if let Some(record) = db.record::<LocationRecord>(ip)? {
                any = true;
                if let Some(country) = &record.country {
                    found.country_code = country.iso_code.map(str::to_string);
                    found.country_name = country.english();
                }
                found.state = record
                    .subdivisions
                    .as_ref()
                    .and_then(|s| s.first())
                    .and_then(Place::english);
                found.city = record.city.as_ref().and_then(Place::english);
                if let Some(location) = &record.location {
                    found.latitude = location.latitude;
                    found.longitude = location.longitude;
                }
            }
        }
        if let Some(db) = &self.asn {
            if let Some(record) = db.record::<AsnRecord>(ip)? {
                any = true;
                found.asn = record.autonomous_system_number;
                found.asn_org = record.autonomous_system_organization.map(str::to_string);
            }
        }
        Ok(any.then_some(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geoip::MmdbWriter;
    use serde_json::json;

    fn write(dir: &Path, name: &str, kind: &str, networks: &[(&str, serde_json::Value)]) {
        let mut db = MmdbWriter::new(kind);
        for (net, record) in networks {
            db.insert(net, record.clone()).unwrap();
        }
        db.write(&dir.join(name)).unwrap();
    }

    #[test]
    fn city_and_asn_databases_together() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "GeoLite2-City.mmdb",
            "GeoLite2-City",
            &[(
                "2.125.160.216/29",
                json!({
                    "country": {"iso_code": "GB", "names": {"en": "United Kingdom", "de": "Vereinigtes Königreich"}},
                    "subdivisions": [{"names": {"en": "England"}}, {"names": {"en": "West Berkshire"}}],
                    "city": {"names": {"en": "Boxford"}},
                    "location": {"latitude": 51.75, "longitude": -1.25, "accuracy_radius": 100},
                }),
            )],
        );
        write(
            dir.path(),
            "GeoLite2-ASN.mmdb",
            "GeoLite2-ASN",
            &[
                (
                    "2.125.160.0/24",
                    json!({"autonomous_system_number": 6871, "autonomous_system_organization": "Plusnet"}),
                ),
                ("1.0.0.0/24", json!({"autonomous_system_number": 15169})),
            ],
        );
        let geo = GeoLiteLookup::from_folder(dir.path()).unwrap();
        assert_eq!(geo.location_db().unwrap().database_type(), "GeoLite2-City");
        assert_eq!(geo.asn_db().unwrap().kind(), DatabaseKind::Asn);
        let found = geo.lookup("2.125.160.217").unwrap().unwrap();
        assert_eq!(
            found,
            GeoLocation {
                ip: "2.125.160.217".into(),
                country_code: Some("GB".into()),
                country_name: Some("United Kingdom".into()),
                state: Some("England".into()),
                city: Some("Boxford".into()),
                longitude: Some(-1.25),
                latitude: Some(51.75),
                asn: Some(6871),
                asn_org: Some("Plusnet".into()),
            }
        );
        // Only the ASN database knows 1.0.0.1.
        let asn_only = geo.lookup("1.0.0.1").unwrap().unwrap();
        assert_eq!((asn_only.asn, asn_only.city), (Some(15169), None));
        assert_eq!(geo.lookup("9.9.9.9").unwrap(), None);
    }

    #[test]
    fn folder_without_a_database_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = GeoLiteLookup::from_folder(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("put GeoLite2-City.mmdb there"),
            "{err}"
        );
        std::fs::write(dir.path().join("GeoLite2-City.mmdb"), b"not a database").unwrap();
        let err = GeoLiteLookup::from_folder(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot open the MaxMind database"),
            "{err}"
        );
    }

    #[test]
    fn two_databases_of_one_kind_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "a.mmdb",
            "GeoLite2-City",
            &[("1.0.0.0/8", json!({}))],
        );
        write(
            dir.path(),
            "b.mmdb",
            "GeoIP2-Country",
            &[("1.0.0.0/8", json!({}))],
        );
        let err = GeoLiteLookup::open(&[dir.path().join("a.mmdb"), dir.path().join("b.mmdb")])
            .unwrap_err();
        assert!(
            err.to_string().contains("are both Location databases"),
            "{err}"
        );
    }
}
