//! The lookup cache: answers kept in one SQLite file so that a repeated lookup never
//! calls a service again while the answer is fresh.
//!
//! An answer is keyed by provider, IoC type, query subtype and the cleaned
//! observable, and stored with the time it was received; a lookup takes it only when
//! it is younger than the provider's time to live. Only real answers are kept (found,
//! not found, no data): failures such as 401, 429 or timeouts are asked again next
//! time. The file is opened in WAL mode so that several processes can share it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};

use crate::ti::{Answer, Observable};

/// What can go wrong with the cache file.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create the folder of the TI cache {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("TI cache {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// A cache file.
pub struct Cache {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("path", &self.path).finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ti_answers (
    provider TEXT NOT NULL,
    ioc_type TEXT NOT NULL,
    subtype TEXT NOT NULL,
    ioc TEXT NOT NULL,
    stored_at REAL NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (provider, ioc_type, subtype, ioc)
) WITHOUT ROWID;
";

impl Cache {
    /// Open (or create) the cache at `path`.
    pub fn open(path: &Path) -> Result<Cache, CacheError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|source| CacheError::Folder {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        let sqlite = |source| CacheError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let connection = Connection::open(path).map_err(sqlite)?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(sqlite)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        connection.execute_batch(SCHEMA).map_err(sqlite)?;
        Ok(Cache {
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, source: rusqlite::Error) -> CacheError {
        CacheError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// The fresh answers of `provider` for `items`, in order (`None` where there is
    /// none, or only a stale or unreadable one).
    pub fn get_many(
        &self,
        provider: &str,
        items: &[&Observable],
        ttl: Duration,
    ) -> Result<Vec<Option<Answer>>, CacheError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let oldest = now_seconds() - ttl.as_secs_f64();
        let connection = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        // One read transaction for all: otherwise every query takes and releases the
        // file's shared lock, which costs more than the query itself.
        let transaction = connection
            .unchecked_transaction()
            .map_err(|e| self.error(e))?;
        let mut statement = transaction
            .prepare_cached(
                "SELECT answer FROM ti_answers
                 WHERE provider = ?1 AND ioc_type = ?2 AND subtype = ?3 AND ioc = ?4 AND stored_at >= ?5",
            )
            .map_err(|e| self.error(e))?;
        let answers = items
            .iter()
            .map(|item| {
                let text: Option<String> = statement
                    .query_row(
                        params![
                            provider,
                            item.ioc_type.name(),
                            item.subtype.as_deref().unwrap_or(""),
                            item.safe_ioc,
                            oldest
                        ],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(|e| self.error(e))?;
                // An entry written by another version may not read; it is asked again.
                Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
            })
            .collect();
        drop(statement);
        transaction.commit().map_err(|e| self.error(e))?;
        answers
    }

    /// Keep `answers` of `provider`, replacing older ones.
    pub fn put_many(
        &self,
        provider: &str,
        answers: &[(&Observable, &Answer)],
    ) -> Result<(), CacheError> {
        if answers.is_empty() {
            return Ok(());
        }
        let now = now_seconds();
        let mut connection = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        let transaction = connection.transaction().map_err(|e| self.error(e))?;
        {
            let mut statement = transaction
                .prepare_cached(
                    "INSERT OR REPLACE INTO ti_answers (provider, ioc_type, subtype, ioc, stored_at, answer)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(|e| self.error(e))?;
            for (item, answer) in answers {
                let text = serde_json::to_string(answer).expect("answers serialise to JSON");
                statement
                    .execute(params![
                        provider,
                        item.ioc_type.name(),
                        item.subtype.as_deref().unwrap_or(""),
                        item.safe_ioc,
                        now,
                        text
                    ])
                    .map_err(|e| self.error(e))?;
            }
        }
        transaction.commit().map_err(|e| self.error(e))
    }

    /// Remove every answer older than `age`; returns how many went.
    pub fn purge_older_than(&self, age: Duration) -> Result<usize, CacheError> {
        let oldest = now_seconds() - age.as_secs_f64();
        let connection = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        connection
            .execute(
                "DELETE FROM ti_answers WHERE stored_at < ?1",
                params![oldest],
            )
            .map_err(|e| self.error(e))
    }
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ti::preprocess::prepare;
    use crate::ti::{Severity, Status};
    use serde_json::json;

    fn answer(severity: Severity) -> Answer {
        Answer {
            result: true,
            severity,
            details: json!({"pulse_count": 3}),
            raw: json!({"pulse_info": {"count": 3}}),
            reference: "https://otx.example/x".into(),
            status: Status::Ok,
        }
    }

    #[test]
    fn answers_come_back_until_they_are_stale() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("sub/ti.sqlite")).unwrap();
        let ip = prepare("38.75.137.9", None, None).unwrap();
        let dns = prepare("38.75.137.9", None, Some("passivedns")).unwrap();
        cache
            .put_many("OTX", &[(&ip, &answer(Severity::High))])
            .unwrap();

        let day = Duration::from_secs(86_400);
        let got = cache.get_many("OTX", &[&ip, &dns], day).unwrap();
        assert_eq!(got[0], Some(answer(Severity::High)));
        assert_eq!(got[1], None, "another subtype is another question");
        assert_eq!(
            cache.get_many("VirusTotal", &[&ip], day).unwrap(),
            vec![None]
        );

        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            cache
                .get_many("OTX", &[&ip], Duration::from_millis(10))
                .unwrap(),
            vec![None]
        );

        // A second handle on the same file sees the answer, and replacing works.
        let again = Cache::open(&dir.path().join("sub/ti.sqlite")).unwrap();
        again
            .put_many("OTX", &[(&ip, &answer(Severity::Warning))])
            .unwrap();
        assert_eq!(
            cache.get_many("OTX", &[&ip], day).unwrap()[0]
                .as_ref()
                .unwrap()
                .severity,
            Severity::Warning
        );
        assert_eq!(cache.purge_older_than(Duration::ZERO).unwrap(), 1);
    }

    #[test]
    fn an_unusable_path_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let err = Cache::open(&file.join("ti.sqlite")).unwrap_err();
        assert!(err.to_string().contains("plain-file"), "{err}");
    }
}
