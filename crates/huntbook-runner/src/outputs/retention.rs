//! Retention: outputs older than `Service.outputs.retention` are deleted.
//!
//! Age is the object's last write in the store, so a retention rule reads the same
//! on a folder and in a bucket; whatever the path template, every object under the
//! output root is judged by it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::path::Path;

use super::storage::OutputStore;
use super::OutputsError;

/// Delete every output last written before `now - keep`; the paths deleted.
pub async fn delete_expired(
    store: &OutputStore,
    keep: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Path>, OutputsError> {
    let cutoff = now - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
    let mut deleted = Vec::new();
    for object in store.list().await? {
        if object.modified < cutoff {
            store.delete(&object.path).await?;
            deleted.push(object.path);
        }
    }
    deleted.sort();
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::outputs::settings::Location;

    #[tokio::test]
    async fn only_outputs_older_than_the_setting_are_deleted() {
        let folder = tempfile::tempdir().unwrap();
        let store =
            OutputStore::open(&Location::Folder(folder.path().into()), &BTreeMap::new()).unwrap();
        let old = Path::from("2026/08/01/old.ipynb");
        let new = Path::from("2026/11/29/new.ipynb");
        store.put(&old, b"{}".to_vec()).await.unwrap();
        store.put(&new, b"{}".to_vec()).await.unwrap();
        // Age the old one by its modification time, as the store reports it.
        let file = std::fs::File::options()
            .write(true)
            .open(folder.path().join(old.as_ref()))
            .unwrap();
        let long_ago = std::time::SystemTime::now() - Duration::from_secs(100 * 86400);
        file.set_modified(long_ago).unwrap();

        let keep = Duration::from_secs(90 * 86400);
        assert_eq!(
            delete_expired(&store, keep, Utc::now()).await.unwrap(),
            [old]
        );
        let left: Vec<Path> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.path)
            .collect();
        assert_eq!(left, [new]);
        assert!(delete_expired(&store, keep, Utc::now())
            .await
            .unwrap()
            .is_empty());
    }
}
