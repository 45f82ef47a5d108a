//! Keeping GeoLite2-City up to date, as MSTICPy does: when the database is missing or
//! more than 30 days old and a MaxMind account id and licence key are configured,
//! download it again.
//!
//! MaxMind's download (see "Directly downloading databases" in its developer docs)
//! is a GET with HTTP Basic authentication that answers with a redirect to the
//! archive, a `.tar.gz` holding `GeoLite2-City_YYYYMMDD/GeoLite2-City.mmdb` beside
//! the licence files. The database is checked by opening it before it replaces the
//! old one, and written to a temporary file that is renamed into place.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime};

use huntbook_http::HttpClient;

use super::{write_atomic, GeoError, GeoLiteLookup, GeoLiteSettings, MaxMindDb};

/// The file the download is saved as.
pub const CITY_FILE: &str = "GeoLite2-City.mmdb";

/// What [`GeoLiteSettings::ensure_database`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// The database is younger than the maximum age.
    Current,
    /// A new database was downloaded.
    Downloaded,
    /// The database is older than the maximum age and was kept: `reason` says why
    /// it was not replaced.
    Old { reason: String },
    /// There is no GeoLite2-City database and no credentials to download one.
    Absent,
}

impl Refresh {
    /// A line for the user about what happened, when there is something to say.
    pub fn note(&self, settings: &GeoLiteSettings) -> Option<String> {
        match self {
            Refresh::Downloaded => Some(format!(
                "downloaded GeoLite2-City into {}",
                settings.db_folder.display()
            )),
            Refresh::Old { reason } => Some(format!("using an old GeoLite2-City: {reason}")),
            Refresh::Current | Refresh::Absent => None,
        }
    }
}

impl GeoLiteSettings {
    /// The databases of the folder, after [`GeoLiteSettings::ensure_database`] when
    /// `download` is set (with a client of its own, patient enough for a large file).
    pub async fn open(&self, download: bool) -> Result<(GeoLiteLookup, Refresh), GeoError> {
        let refresh = if download {
            let client = HttpClient::builder("MaxMind")
                .timeout(Duration::from_secs(600))
                .build()?;
            self.ensure_database(&client).await?
        } else {
            Refresh::Current
        };
        Ok((GeoLiteLookup::from_folder(&self.db_folder)?, refresh))
    }

    /// Makes sure `GeoLite2-City.mmdb` in the database folder is current,
    /// downloading it when it is missing or too old and credentials are set. A failed
    /// download keeps an old database (and says why); without any database it is an
    /// error.
    pub async fn ensure_database(&self, client: &HttpClient) -> Result<Refresh, GeoError> {
        let path = self.db_folder.join(CITY_FILE);
        let age = file_age(&path);
        if age.is_some_and(|age| age <= self.max_age) {
            return Ok(Refresh::Current);
        }
        if !self.can_download() {
            return Ok(match age {
                Some(age) => Refresh::Old {
                    reason: format!(
                        "it is {} days old, and OtherProviders.GeoIPLite has no AccountID and AuthKey to download a newer one",
                        age.as_secs() / 86_400
                    ),
                },
                None => Refresh::Absent,
            });
        }
        match self.download(client, &path).await {
            Ok(()) => Ok(Refresh::Downloaded),
            Err(e) if age.is_some() => Ok(Refresh::Old {
                reason: format!("the download failed: {e}"),
            }),
            Err(e) => Err(e),
        }
    }

    /// Downloads GeoLite2-City to `path`, whatever its age.
    pub async fn download(&self, client: &HttpClient, path: &Path) -> Result<(), GeoError> {
        let (Some(account), Some(key)) = (&self.account_id, &self.license_key) else {
            return Err(GeoError::Config {
                setting: "OtherProviders.GeoIPLite.Args".into(),
                problem: "AccountID and AuthKey are both needed to download GeoLite2-City".into(),
            });
        };
        let request = client
            .get(self.download_url.clone())
            .basic_auth(account.expose(), Some(key.expose()));
        let response = client.send(request).await?;
        let archive = response.bytes().await.map_err(|e| GeoError::BadArchive {
            problem: format!("the download broke off: {e}"),
        })?;
        let database = city_database(&archive)?;
        MaxMindDb::from_bytes(path, database.clone()).map_err(|e| GeoError::BadArchive {
            problem: e.to_string(),
        })?;
        write_atomic(path, &database).map_err(|source| GeoError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// How long ago the file was last written, `None` when there is none.
fn file_age(path: &Path) -> Option<Duration> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(
        SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default(),
    )
}

/// The `GeoLite2-City.mmdb` inside a `.tar.gz` archive.
fn city_database(archive: &[u8]) -> Result<Vec<u8>, GeoError> {
    let bad = |problem: String| GeoError::BadArchive { problem };
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let entries = tar
        .entries()
        .map_err(|e| bad(format!("not a tar.gz archive: {e}")))?;
    let mut names = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("not a tar.gz archive: {e}")))?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if Path::new(&name).file_name().is_some_and(|n| n == CITY_FILE) {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| bad(format!("reading {name}: {e}")))?;
            return Ok(bytes);
        }
        names.push(name);
    }
    Err(bad(format!(
        "it has no {CITY_FILE} (it holds: {})",
        if names.is_empty() {
            "nothing".to_string()
        } else {
            names.join(", ")
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (name, bytes) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, *bytes).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn the_database_is_found_in_its_dated_folder() {
        let archive = tar_gz(&[
            ("GeoLite2-City_20261124/COPYRIGHT.txt", b"(c) MaxMind"),
            ("GeoLite2-City_20261124/GeoLite2-City.mmdb", b"db bytes"),
        ]);
        assert_eq!(city_database(&archive).unwrap(), b"db bytes");
    }

    #[test]
    fn other_archives_are_named_as_such() {
        let archive = tar_gz(&[("GeoLite2-ASN_20261124/GeoLite2-ASN.mmdb", b"x")]);
        let err = city_database(&archive).unwrap_err().to_string();
        assert!(
            err.contains(
                "it has no GeoLite2-City.mmdb (it holds: GeoLite2-ASN_20261124/GeoLite2-ASN.mmdb)"
            ),
            "{err}"
        );
        let err = city_database(b"<html>login</html>")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a tar.gz archive"), "{err}");
    }
}
