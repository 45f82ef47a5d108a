//! Tor exit nodes: is an IP address one?
//!
//! The list is the Tor Project's `exit-addresses` document (blocks of `ExitNode`,
//! `Published`, `LastStatus` and one or more `ExitAddress` lines), fetched when the
//! copy in memory, or in the list file, is older than the maximum age (a day by
//! default). When a refresh fails an older list is used rather than none; with no
//! list at all every answer says why. An exit node is a warning, as in MSTICPy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use huntbook_http::HttpClient;
use reqwest::Url;
use serde_json::json;
use tokio::sync::Mutex;

use super::model::{Answer, Observable, Severity, Status};
use super::provider::{BoxFuture, TiProvider};
use super::TiError;

/// Where the list comes from and how long it is good for.
#[derive(Debug, Clone)]
pub struct TorSettings {
    pub url: Url,
    pub max_age: Duration,
    pub timeout: Duration,
    /// A copy kept on disk, so that a new process does not fetch it again.
    pub list_file: Option<PathBuf>,
}

impl Default for TorSettings {
    fn default() -> TorSettings {
        TorSettings {
            url: Url::parse("https://check.torproject.org/exit-addresses")
                .expect("the default URL is valid"),
            max_age: Duration::from_secs(86_400),
            timeout: Duration::from_secs(30),
            list_file: None,
        }
    }
}

/// One exit node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitNode {
    pub node_id: String,
    pub published: String,
    pub last_status: String,
}

#[derive(Debug)]
struct ExitList {
    fetched_at: SystemTime,
    nodes: HashMap<IpAddr, ExitNode>,
}

/// The Tor exit-node provider.
pub struct TorProvider {
    name: String,
    settings: TorSettings,
    client: HttpClient,
    list: Mutex<Option<ExitList>>,
}

impl TorProvider {
    pub fn new(name: &str, settings: TorSettings) -> Result<TorProvider, TiError> {
        let client = HttpClient::builder(format!("{name} (Tor exit list)"))
            .timeout(settings.timeout)
            .build()
            .map_err(|e| TiError::Setup {
                provider: name.to_string(),
                reason: e.to_string(),
            })?;
        Ok(TorProvider {
            name: name.to_string(),
            settings,
            client,
            list: Mutex::new(None),
        })
    }

    fn fresh(&self, fetched_at: SystemTime) -> bool {
        SystemTime::now()
            .duration_since(fetched_at)
            .map_or(true, |age| age < self.settings.max_age)
    }

    /// A current list in `slot`, or why there is none; a stale list is kept when a
    /// refresh fails.
    async fn ensure_list(&self, slot: &mut Option<ExitList>) -> Result<(), String> {
        if slot.as_ref().is_some_and(|l| self.fresh(l.fetched_at)) {
            return Ok(());
        }
        if let Some(from_file) = self.read_list_file() {
            if self.fresh(from_file.fetched_at) {
                *slot = Some(from_file);
                return Ok(());
            }
            slot.get_or_insert(from_file);
        }
        match self.download().await {
            Ok(text) => {
                self.write_list_file(&text);
                *slot = Some(ExitList {
                    fetched_at: SystemTime::now(),
                    nodes: parse_exit_addresses(&text),
                });
                Ok(())
            }
            Err(_) if slot.is_some() => Ok(()),
            Err(reason) => Err(reason),
        }
    }

    async fn download(&self) -> Result<String, String> {
        let response = self
            .client
            .send(self.client.get(self.settings.url.clone()))
            .await
            .map_err(|e| e.to_string())?;
        response
            .text()
            .await
            .map_err(|e| format!("reading the Tor exit list failed: {e}"))
    }

    fn read_list_file(&self) -> Option<ExitList> {
        let path = self.settings.list_file.as_ref()?;
        let fetched_at = std::fs::metadata(path).ok()?.modified().ok()?;
        let text = std::fs::read_to_string(path).ok()?;
        Some(ExitList {
            fetched_at,
            nodes: parse_exit_addresses(&text),
        })
    }

    /// Keep a copy on disk; without one the list is fetched once per process, so a
    /// failure to write is not worth failing a lookup for.
    fn write_list_file(&self, text: &str) {
        let Some(path) = &self.settings.list_file else {
            return;
        };
        if let Some(folder) = path.parent() {
            let _ = std::fs::create_dir_all(folder);
        }
        let temporary = path.with_extension("tmp");
        if std::fs::write(&temporary, text).is_ok() {
            let _ = std::fs::rename(&temporary, path);
        }
    }
}

/// The exit addresses in an `exit-addresses` document.
pub fn parse_exit_addresses(text: &str) -> HashMap<IpAddr, ExitNode> {
    let mut nodes = HashMap::new();
    let mut current = ExitNode {
        node_id: String::new(),
        published: String::new(),
        last_status: String::new(),
    };
    for line in text.lines() {
        let (keyword, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        match keyword {
            "ExitNode" => {
                current = ExitNode {
                    node_id: rest.trim().to_string(),
                    published: String::new(),
                    last_status: String::new(),
                }
            }
            "Published" => current.published = rest.trim().to_string(),
            "LastStatus" => current.last_status = rest.trim().to_string(),
            "ExitAddress" => {
                if let Some(Ok(ip)) = rest.split_whitespace().next().map(str::parse::<IpAddr>) {
                    nodes.insert(ip, current.clone());
                }
            }
            _ => {}
        }
    }
    nodes
}

impl TiProvider for TorProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn query_keys(&self) -> Vec<String> {
        vec!["ipv4".into(), "ipv6".into()]
    }

    fn max_batch(&self) -> usize {
        // The list is in memory: one call answers any number.
        usize::MAX
    }

    fn lookup<'a>(&'a self, items: &'a [Observable]) -> BoxFuture<'a, Vec<Answer>> {
        Box::pin(async move {
            let reference = self.settings.url.to_string();
            let mut slot = self.list.lock().await;
            if let Err(reason) = self.ensure_list(&mut slot).await {
                return vec![Answer::failed(Status::QueryFailed, reason, reference); items.len()];
            }
            let list = slot.as_ref().expect("ensure_list leaves a list");
            items
                .iter()
                .map(|item| {
                    let node = item.safe_ioc.parse::<IpAddr>().ok().and_then(|ip| list.nodes.get(&ip));
                    match node {
                        Some(node) => Answer {
                            result: true,
                            severity: Severity::Warning,
                            details: json!({"NodeID": node.node_id, "LastStatus": node.last_status}),
                            raw: json!({
                                "ExitNode": node.node_id,
                                "Published": node.published,
                                "LastStatus": node.last_status,
                                "ExitAddress": item.safe_ioc,
                            }),
                            reference: reference.clone(),
                            status: Status::Ok,
                        },
                        None => Answer {
                            result: false,
                            severity: Severity::Information,
                            details: json!("Not found."),
                            raw: serde_json::Value::Null,
                            reference: reference.clone(),
                            status: Status::Ok,
                        },
                    }
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_addresses_document_is_read() {
        let text = "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nPublished 2026-11-27 10:02:13\nLastStatus 2026-11-27 11:00:00\nExitAddress 162.247.74.201 2026-11-27 11:04:35\nExitNode 0111BA9B604669E636FFD5B503F382A4B7AD6E80\nPublished 2026-11-27 09:00:00\nLastStatus 2026-11-27 10:00:00\nExitAddress 176.10.99.200 2026-11-27 10:13:01\nExitAddress 2a0b:f4c2::1 2026-11-27 10:13:01\n";
        let nodes = parse_exit_addresses(text);
        assert_eq!(nodes.len(), 3);
        let node = &nodes[&"176.10.99.200".parse::<IpAddr>().unwrap()];
        assert_eq!(node.node_id, "0111BA9B604669E636FFD5B503F382A4B7AD6E80");
        assert_eq!(node.last_status, "2026-11-27 10:00:00");
        assert!(nodes.contains_key(&"2a0b:f4c2::1".parse::<IpAddr>().unwrap()));
    }
}
