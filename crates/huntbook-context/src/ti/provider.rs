//! The [`TiProvider`] trait: one implementation per family of providers.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use huntbook_transform::ioc::IocType;

use super::model::{query_key, Answer, Observable};

/// A boxed future that can move between threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of threat intelligence.
///
/// [`TiLookup`](super::TiLookup) asks a provider only about observables whose query
/// key it [answers](TiProvider::query_keys) (a hash type also by a `file_hash`
/// query), in slices of at most
/// [`max_batch`](TiProvider::max_batch), with at most
/// [`concurrency`](TiProvider::concurrency) slices in flight. A provider never
/// fails as a whole: each observable gets an [`Answer`], a failed one carrying the
/// HTTP status or [`Status::QueryFailed`](super::Status::QueryFailed).
pub trait TiProvider: Send + Sync {
    /// The name in the `Provider` column (the configuration entry's name).
    fn name(&self) -> &str;

    /// The query keys answered, MSTICPy's `ipv4`, `ipv4-passivedns`, `file_hash`...
    fn query_keys(&self) -> Vec<String>;

    /// The most observables one call of [`lookup`](TiProvider::lookup) takes.
    fn max_batch(&self) -> usize {
        1
    }

    /// Calls of [`lookup`](TiProvider::lookup) that may run at once.
    fn concurrency(&self) -> usize {
        8
    }

    /// How long answers stay in the cache; `None` keeps them out (a local feed is
    /// faster than the cache).
    fn cache_ttl(&self) -> Option<Duration> {
        None
    }

    /// One answer per observable, in order.
    fn lookup<'a>(&'a self, items: &'a [Observable]) -> BoxFuture<'a, Vec<Answer>>;
}

/// Whether a provider with query `keys` answers `ioc_type` with `subtype`; a hash
/// type is also answered by a `file_hash` query.
pub(crate) fn supported(keys: &HashSet<String>, ioc_type: &IocType, subtype: Option<&str>) -> bool {
    keys.contains(&query_key(ioc_type, subtype))
        || (is_hash(ioc_type) && keys.contains(&file_hash_key(subtype)))
}

/// The key MSTICPy uses for a query about any of the three hashes.
pub(crate) fn file_hash_key(subtype: Option<&str>) -> String {
    match subtype {
        Some(sub) => format!("file_hash-{sub}"),
        None => "file_hash".to_string(),
    }
}

pub(crate) fn is_hash(ioc_type: &IocType) -> bool {
    matches!(
        ioc_type,
        IocType::Md5Hash | IocType::Sha1Hash | IocType::Sha256Hash
    )
}
