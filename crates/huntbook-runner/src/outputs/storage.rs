//! Where outputs are kept: a folder on this machine, or S3, Azure Blob Storage or
//! Google Cloud Storage, all through the `object_store` crate.
//!
//! A folder store writes each object to a staging file beside it and renames it into
//! place, so a reader never sees half a notebook. Cloud stores take their
//! credentials from the environment as each cloud's tools do (`AWS_ACCESS_KEY_ID`,
//! `AZURE_STORAGE_ACCOUNT_KEY`, `GOOGLE_SERVICE_ACCOUNT`, ...) and their other
//! settings (`aws_endpoint`, `region`, `azure_storage_use_emulator`, ...) from
//! `Service.outputs.options`; an unknown option is an error, not ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use reqwest::Url;

use super::settings::Location;
use super::OutputsError;

/// One stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its path below the output root.
    pub path: Path,
    /// When it was last written.
    pub modified: DateTime<Utc>,
}

/// An output root: an object store and the prefix the outputs live under.
#[derive(Clone)]
pub struct OutputStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    /// How stored objects are named to readers: a folder, or `scheme://bucket/prefix`.
    base: String,
}

impl fmt::Debug for OutputStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputStore")
            .field("base", &self.base)
            .finish()
    }
}

impl OutputStore {
    /// The store at `location`, configured with `options`.
    pub fn open(
        location: &Location,
        options: &BTreeMap<String, String>,
    ) -> Result<OutputStore, OutputsError> {
        match location {
            Location::Folder(folder) => {
                let unusable = |e: &dyn fmt::Display| OutputsError::Storage {
                    location: folder.display().to_string(),
                    message: e.to_string(),
                };
                std::fs::create_dir_all(folder).map_err(|e| unusable(&e))?;
                let folder = folder.canonicalize().map_err(|e| unusable(&e))?;
                let store = LocalFileSystem::new_with_prefix(&folder).map_err(|e| unusable(&e))?;
                Ok(OutputStore {
                    store: Arc::new(store),
                    prefix: Path::default(),
                    base: folder.display().to_string(),
                })
            }
            Location::Cloud(url) => {
                let parsed = Url::parse(url).map_err(|e| OutputsError::Storage {
                    location: url.clone(),
                    message: e.to_string(),
                })?;
                let (store, prefix) = super::cloud::open(&parsed, options)?;
                Ok(OutputStore {
                    store,
                    prefix,
                    base: url.trim_end_matches('/').to_owned(),
                })
            }
        }
    }

    fn full(&self, path: &Path) -> Path {
        self.prefix.parts().chain(path.parts()).collect()
    }

    /// The name readers get for `path`: a file path, or the object's URL.
    pub fn locate(&self, path: &Path) -> String {
        format!("{}/{}", self.base, path)
    }

    /// The path of a name [`OutputStore::locate`] gave, if it is one of this store's:
    /// how the API reads back a run's recorded outputs.
    pub fn path_of(&self, located: &str) -> Option<Path> {
        let rest = located.strip_prefix(&self.base)?.strip_prefix('/')?;
        Path::parse(rest).ok()
    }

    fn failed(&self, error: object_store::Error) -> OutputsError {
        OutputsError::Storage {
            location: self.base.clone(),
            message: error.to_string(),
        }
    }

    /// Store `bytes` at `path` (replacing what was there); where it went.
    pub async fn put(&self, path: &Path, bytes: Vec<u8>) -> Result<String, OutputsError> {
        self.store
            .put(&self.full(path), PutPayload::from(bytes))
            .await
            .map_err(|e| self.failed(e))?;
        Ok(self.locate(path))
    }

    /// The bytes at `path`.
    pub async fn get(&self, path: &Path) -> Result<Vec<u8>, OutputsError> {
        let result = self
            .store
            .get(&self.full(path))
            .await
            .map_err(|e| self.failed(e))?;
        Ok(result.bytes().await.map_err(|e| self.failed(e))?.to_vec())
    }

    /// Every stored object.
    pub async fn list(&self) -> Result<Vec<StoredObject>, OutputsError> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let depth = self.prefix.parts().count();
        let metas: Vec<_> = self
            .store
            .list(prefix)
            .try_collect()
            .await
            .map_err(|e| self.failed(e))?;
        Ok(metas
            .into_iter()
            .map(|meta| StoredObject {
                path: meta.location.parts().skip(depth).collect(),
                modified: meta.last_modified,
            })
            .collect())
    }

    /// Delete the object at `path`.
    pub async fn delete(&self, path: &Path) -> Result<(), OutputsError> {
        self.store
            .delete(&self.full(path))
            .await
            .map_err(|e| self.failed(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_folder_store_writes_lists_and_deletes() {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path().join("outputs");
        let store = OutputStore::open(&Location::Folder(root.clone()), &BTreeMap::new()).unwrap();
        let path = Path::from("2026/11/29/a.ipynb");
        let location = store.put(&path, b"{}".to_vec()).await.unwrap();
        assert_eq!(
            location,
            root.canonicalize()
                .unwrap()
                .join("2026/11/29/a.ipynb")
                .display()
                .to_string()
        );
        assert_eq!(std::fs::read(&location).unwrap(), b"{}");
        assert_eq!(store.path_of(&location), Some(path.clone()));
        assert_eq!(store.path_of("/elsewhere/2026/a.ipynb"), None);
        // Replaced whole: no staging file is left beside it.
        store.put(&path, b"{\"v\": 2}".to_vec()).await.unwrap();
        assert_eq!(store.get(&path).await.unwrap(), b"{\"v\": 2}");
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].path, path);
        store.delete(&path).await.unwrap();
        assert!(store.list().await.unwrap().is_empty());
    }
}
