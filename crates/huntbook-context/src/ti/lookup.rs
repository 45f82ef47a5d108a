//! [`TiLookup`]: the providers, and lookups across them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::model::{Answer, LookupRow, Observable, Status};
use super::preprocess::{self, Refusal};
use super::provider::{supported, TiProvider};
use super::TiError;
use crate::cache::Cache;

/// One observable to look up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LookupItem {
    pub ioc: String,
    /// A type name or alias; worked out from the text when absent.
    pub ioc_type: Option<String>,
    /// A query subtype such as `passivedns`.
    pub subtype: Option<String>,
}

impl LookupItem {
    pub fn new(ioc: impl Into<String>) -> LookupItem {
        LookupItem {
            ioc: ioc.into(),
            ioc_type: None,
            subtype: None,
        }
    }

    pub fn typed(ioc: impl Into<String>, ioc_type: impl Into<String>) -> LookupItem {
        LookupItem {
            ioc_type: Some(ioc_type.into()),
            ..LookupItem::new(ioc)
        }
    }

    pub fn with_subtype(mut self, subtype: impl Into<String>) -> LookupItem {
        self.subtype = Some(subtype.into());
        self
    }
}

/// Which providers to ask when none are named, MSTICPy's `prov_scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    Primary,
    Secondary,
    All,
}

/// Called with (done, total) as (observable, provider) pairs are answered.
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// How to look up.
#[derive(Clone, Default)]
pub struct LookupOptions {
    /// Ask these providers (by name) rather than those of `scope`.
    pub providers: Option<Vec<String>>,
    pub scope: Scope,
    /// Keep rows of observables a provider does not support (status 1).
    pub show_not_supported: bool,
    /// Keep rows of observables that failed the checks (status 2).
    pub show_bad_items: bool,
    pub progress: Option<Progress>,
}

/// One provider as `provider_status` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStatus {
    pub name: String,
    /// The provider kind (`VirusTotal`, `Tor`, `LocalFeeds`...).
    pub kind: String,
    pub primary: bool,
    pub loaded: bool,
    pub enabled: bool,
    /// Why a configured provider was not loaded, or the query keys of a loaded one.
    pub detail: String,
}

struct Registered {
    provider: Arc<dyn TiProvider>,
    kind: String,
    primary: bool,
    enabled: bool,
}

/// Threat-intel providers and lookups across them.
#[derive(Default)]
pub struct TiLookup {
    providers: Vec<Registered>,
    not_loaded: Vec<ProviderStatus>,
    cache: Option<Arc<Cache>>,
}

impl TiLookup {
    pub fn new() -> TiLookup {
        TiLookup::default()
    }

    /// Add a provider; a primary one is asked by default.
    pub fn add_provider(&mut self, provider: Arc<dyn TiProvider>, primary: bool) {
        self.add_provider_of_kind(provider, primary, "custom");
    }

    pub(crate) fn add_provider_of_kind(
        &mut self,
        provider: Arc<dyn TiProvider>,
        primary: bool,
        kind: &str,
    ) {
        self.providers
            .retain(|r| r.provider.name() != provider.name());
        self.providers.push(Registered {
            provider,
            kind: kind.to_string(),
            primary,
            enabled: true,
        });
    }

    pub(crate) fn note_not_loaded(&mut self, status: ProviderStatus) {
        self.not_loaded.push(status);
    }

    /// Keep answers in `cache` and take repeated lookups from it.
    pub fn set_cache(&mut self, cache: Option<Arc<Cache>>) {
        self.cache = cache;
    }

    pub fn cache(&self) -> Option<&Arc<Cache>> {
        self.cache.as_ref()
    }

    /// Turn a loaded provider on or off.
    pub fn set_provider_state(&mut self, name: &str, enabled: bool) -> Result<(), TiError> {
        let loaded = self.loaded_names();
        let found = self
            .providers
            .iter_mut()
            .find(|r| r.provider.name().eq_ignore_ascii_case(name))
            .ok_or(TiError::UnknownProvider {
                name: name.to_string(),
                loaded,
            })?;
        found.enabled = enabled;
        Ok(())
    }

    /// The names of the loaded providers.
    pub fn loaded_providers(&self) -> Vec<String> {
        self.providers
            .iter()
            .map(|r| r.provider.name().to_string())
            .collect()
    }

    /// Each loaded provider with the query keys it answers (`ipv4`, `dns`,
    /// `file_hash`...), which decide the lookups offered per observable type.
    pub fn provider_query_keys(&self) -> Vec<(String, Vec<String>)> {
        self.providers
            .iter()
            .map(|r| (r.provider.name().to_string(), r.provider.query_keys()))
            .collect()
    }

    /// Every configured provider, loaded or not, with why not.
    pub fn provider_status(&self) -> Vec<ProviderStatus> {
        let loaded = self.providers.iter().map(|r| ProviderStatus {
            name: r.provider.name().to_string(),
            kind: r.kind.clone(),
            primary: r.primary,
            loaded: true,
            enabled: r.enabled,
            detail: format!("supports {}", r.provider.query_keys().join(", ")),
        });
        loaded.chain(self.not_loaded.iter().cloned()).collect()
    }

    fn loaded_names(&self) -> String {
        let names = self.loaded_providers();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    fn chosen(&self, options: &LookupOptions) -> Result<Vec<&Registered>, TiError> {
        let chosen: Vec<&Registered> = match &options.providers {
            Some(names) => names
                .iter()
                .map(|name| {
                    if let Some(r) = self
                        .providers
                        .iter()
                        .find(|r| r.provider.name().eq_ignore_ascii_case(name))
                    {
                        return Ok(r);
                    }
                    match self
                        .not_loaded
                        .iter()
                        .find(|s| s.name.eq_ignore_ascii_case(name))
                    {
                        Some(s) => Err(TiError::NotLoaded {
                            name: s.name.clone(),
                            reason: s.detail.clone(),
                        }),
                        None => Err(TiError::UnknownProvider {
                            name: name.clone(),
                            loaded: self.loaded_names(),
                        }),
                    }
                })
                .collect::<Result<_, _>>()?,
            None => self
                .providers
                .iter()
                .filter(|r| r.enabled)
                .filter(|r| match options.scope {
                    Scope::Primary => r.primary,
                    Scope::Secondary => !r.primary,
                    Scope::All => true,
                })
                .collect(),
        };
        if chosen.is_empty() {
            let why = if self.providers.is_empty() {
                "none are loaded; add TIProviders entries to the configuration".to_string()
            } else {
                format!(
                    "none in scope {:?} is enabled (loaded: {})",
                    options.scope,
                    self.loaded_names()
                )
            };
            return Err(TiError::NoProviders(why));
        }
        Ok(chosen)
    }

    /// Look `items` up. Rows come grouped by provider, in the order providers were
    /// added, then in the order of the items (repeated items are looked up once).
    pub async fn lookup(
        &self,
        items: &[LookupItem],
        options: &LookupOptions,
    ) -> Result<Vec<LookupRow>, TiError> {
        let providers = self.chosen(options)?;
        let mut unique: Vec<&LookupItem> = Vec::with_capacity(items.len());
        let mut seen = HashSet::with_capacity(items.len());
        for item in items {
            if seen.insert(item) {
                unique.push(item);
            }
        }
        let prepared: Vec<Result<Observable, Refusal>> = unique
            .iter()
            .map(|i| preprocess::prepare(&i.ioc, i.ioc_type.as_deref(), i.subtype.as_deref()))
            .collect();

        // Per provider: each item's answer slot, and what still has to be asked.
        let mut answers: Vec<Vec<Option<Answer>>> = Vec::with_capacity(providers.len());
        let mut to_ask: Vec<Vec<usize>> = Vec::with_capacity(providers.len());
        let mut from_cache = 0;
        for registered in &providers {
            let provider = &registered.provider;
            let keys: HashSet<String> = provider.query_keys().into_iter().collect();
            let mut slots: Vec<Option<Answer>> = vec![None; unique.len()];
            let mut ask = Vec::new();
            for (i, prep) in prepared.iter().enumerate() {
                match prep {
                    Err(refusal) => {
                        slots[i] = Some(Answer::failed(refusal.status, refusal.reason.clone(), ""))
                    }
                    Ok(obs) if !supported(&keys, &obs.ioc_type, obs.subtype.as_deref()) => {
                        slots[i] = Some(Answer::failed(
                            Status::NotSupported,
                            format!("{} does not support {}", provider.name(), obs.query_key()),
                            "",
                        ))
                    }
                    Ok(_) => ask.push(i),
                }
            }
            if let (Some(cache), Some(ttl)) = (&self.cache, provider.cache_ttl()) {
                let wanted: Vec<&Observable> = ask
                    .iter()
                    .map(|&i| prepared[i].as_ref().expect("only prepared items are asked"))
                    .collect();
                let hits = cache.get_many(provider.name(), &wanted, ttl)?;
                let mut still = Vec::with_capacity(ask.len());
                for (i, hit) in ask.into_iter().zip(hits) {
                    match hit {
                        Some(answer) => {
                            slots[i] = Some(answer);
                            from_cache += 1;
                        }
                        None => still.push(i),
                    }
                }
                ask = still;
            }
            answers.push(slots);
            to_ask.push(ask);
        }

        let total = from_cache + to_ask.iter().map(Vec::len).sum::<usize>();
        // Counted and reported under one lock, so that reports never go backwards.
        let done = Arc::new(Mutex::new(from_cache));
        if let Some(progress) = &options.progress {
            progress(from_cache, total);
        }

        let mut tasks = JoinSet::new();
        let mut pending: HashMap<tokio::task::Id, (usize, Vec<usize>)> = HashMap::new();
        for (p, registered) in providers.iter().enumerate() {
            let provider = registered.provider.clone();
            let permits = Arc::new(Semaphore::new(provider.concurrency().max(1)));
            for chunk in to_ask[p].chunks(provider.max_batch().max(1)) {
                let batch: Vec<Observable> = chunk
                    .iter()
                    .map(|&i| prepared[i].clone().expect("only prepared items are asked"))
                    .collect();
                let provider = provider.clone();
                let permits = permits.clone();
                let done = done.clone();
                let progress = options.progress.clone();
                let handle = tasks.spawn(async move {
                    let _permit = permits
                        .acquire_owned()
                        .await
                        .expect("the semaphore stays open");
                    let answers = provider.lookup(&batch).await;
                    let mut count = done.lock().unwrap_or_else(|p| p.into_inner());
                    *count += batch.len();
                    if let Some(progress) = progress {
                        progress(*count, total);
                    }
                    drop(count);
                    (batch, answers)
                });
                pending.insert(handle.id(), (p, chunk.to_vec()));
            }
        }

        while let Some(joined) = tasks.join_next_with_id().await {
            let (id, outcome) = match joined {
                Ok((id, outcome)) => (id, Ok(outcome)),
                Err(e) => (e.id(), Err(e.to_string())),
            };
            let (p, chunk) = pending.remove(&id).expect("every task was recorded");
            let provider = &providers[p].provider;
            let results: Vec<Answer> = match outcome {
                Ok((batch, mut got)) => {
                    // A provider owes one answer per observable; fill any gap.
                    got.resize_with(batch.len(), || {
                        Answer::failed(
                            Status::Other,
                            format!("{} gave no answer", provider.name()),
                            "",
                        )
                    });
                    if let (Some(cache), Some(_)) = (&self.cache, provider.cache_ttl()) {
                        let keep: Vec<(&Observable, &Answer)> = batch
                            .iter()
                            .zip(&got)
                            .filter(|(_, a)| a.status.is_answer())
                            .collect();
                        cache.put_many(provider.name(), &keep)?;
                    }
                    got
                }
                Err(reason) => vec![
                    Answer::failed(
                        Status::QueryFailed,
                        format!("{} failed: {reason}", provider.name()),
                        ""
                    );
                    chunk.len()
                ],
            };
            for (i, answer) in chunk.into_iter().zip(results) {
                answers[p][i] = Some(answer);
            }
        }

        let mut rows = Vec::new();
        for (p, slots) in answers.into_iter().enumerate() {
            let provider = providers[p].provider.name();
            for (i, answer) in slots.into_iter().enumerate() {
                let answer = answer.expect("every item has an answer");
                let keep = match answer.status {
                    Status::NotSupported => options.show_not_supported,
                    Status::BadFormat => options.show_bad_items,
                    _ => true,
                };
                if !keep {
                    continue;
                }
                let item = unique[i];
                let (ioc_type, safe_ioc) = match &prepared[i] {
                    Ok(obs) => (obs.ioc_type.name().to_string(), obs.safe_ioc.clone()),
                    Err(refusal) => (
                        refusal
                            .ioc_type
                            .as_ref()
                            .map(|t| t.name().to_string())
                            .or_else(|| item.ioc_type.clone())
                            .unwrap_or_else(|| "unknown".into()),
                        item.ioc.trim().to_string(),
                    ),
                };
                rows.push(LookupRow {
                    ioc: item.ioc.clone(),
                    ioc_type,
                    safe_ioc,
                    query_subtype: item.subtype.clone(),
                    provider: provider.to_string(),
                    answer,
                });
            }
        }
        Ok(rows)
    }
}
