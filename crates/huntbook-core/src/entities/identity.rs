//! When two entities are the same thing, and merging them.
//!
//! Each kind has identifying properties (after Sentinel's strong and weak
//! identifiers and MSTICPy's `ID_PROPERTIES`): a host's name and domains, an
//! account's name, domain, SID, Entra ID object id and UPN, an IP's address, a
//! file's name, folder and hashes. Two entities of a kind are equivalent when they
//! share at least one identifying property and none of those they share differ, so
//! `WS1` and `ws1.contoso.com` are one host, but `ws1.contoso.com` and
//! `ws1.fabrikam.com` are two. Names, domains and hashes compare without regard to
//! case; IP addresses compare as addresses (`::1` is `0:0::1`); URLs and command
//! lines compare exactly. Entities of unknown kinds are equivalent only when equal.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::DateTime;
use serde_json::{map::Entry, Value};

use super::graph::{EntityGraph, Node};
use super::{Entity, EntityError, EntityId, Kind};

type Identity = Vec<(&'static str, Key)>;

/// An identifying property: normalised text, or a linked entity, which matches an
/// equivalent one (a process on `ws1` is on `WS1.corp.example`).
#[derive(Debug, PartialEq)]
enum Key {
    Text(String),
    Link(EntityId),
}

impl Entity {
    /// Whether `self` and `other` are the same entity. Properties that link to other
    /// entities (a process's image file) need the graph: see
    /// [`EntityGraph::is_equivalent`].
    pub fn is_equivalent(&self, other: &Entity) -> bool {
        equivalent(self, other, &EntityGraph::new())
    }

    /// `self` with its missing properties filled from `other`; lists are joined.
    /// Fails if the two are not [equivalent](Entity::is_equivalent).
    pub fn merge(&self, other: &Entity) -> Result<Entity, EntityError> {
        merge(self, other, &EntityGraph::new())
    }
}

impl EntityGraph {
    /// Whether two entities of this graph are the same, comparing linked entities
    /// too (a process's image file and host, a connection's addresses).
    pub fn is_equivalent(&self, a: EntityId, b: EntityId) -> bool {
        match (self.get(a), self.get(b)) {
            (Some(a), Some(b)) => equivalent(a, b, self),
            _ => false,
        }
    }

    /// Merges equivalent entities into the first of them, points every link at the
    /// survivor and drops the rest. Returns how many entities were dropped.
    /// EntityIds taken before the call are invalid after it: see
    /// [`dedupe_mapped`](Self::dedupe_mapped) to follow them.
    pub fn dedupe(&mut self) -> usize {
        let before = self.nodes.len();
        self.dedupe_mapped();
        before - self.nodes.len()
    }

    /// [`dedupe`](Self::dedupe), returning where each entity of the graph before the
    /// call now is (indexed by the old [`EntityId::index`]): the survivor it was
    /// merged into, or itself at its new place. For callers that hold ids, such as
    /// the alerts each entity was read from.
    pub fn dedupe_mapped(&mut self) -> Vec<EntityId> {
        let count = self.nodes.len();
        let mut forward: Vec<EntityId> = (0..count).map(EntityId).collect();
        let mut alive = vec![true; count];
        // A merge can make an entity equivalent to one it was not before (it gained
        // a domain, say), so repeat until nothing merges.
        loop {
            let candidates = Candidates::new(self, &alive);
            let mut merged_any = false;
            for keep in 0..count {
                for other in candidates.of(keep) {
                    if !alive[keep] || !alive[other] {
                        continue;
                    }
                    let (a, b) = (&self.nodes[keep], &self.nodes[other]);
                    if !equivalent(&a.entity, &b.entity, self) {
                        continue;
                    }
                    let Ok(merged) = merge(&a.entity, &b.entity, self) else {
                        continue;
                    };
                    let dropped = self.nodes[other].clone();
                    absorb(&mut self.nodes[keep], merged, dropped);
                    alive[other] = false;
                    forward[other] = EntityId(keep);
                    merged_any = true;
                }
            }
            if !merged_any {
                break;
            }
        }
        for index in 0..count {
            let mut target = forward[index];
            while forward[target.0] != target {
                target = forward[target.0];
            }
            forward[index] = target;
        }
        self.compact(&forward, &alive)
    }
}

/// The pairs worth comparing. Equivalent entities share an identifying property,
/// so each entity is compared only with those sharing one of its textual
/// properties: a few candidates instead of every entity of its kind. Entities
/// identified by links alone (or by nothing) are compared with their whole kind.
struct Candidates {
    kinds: Vec<Kind>,
    /// Per entity, its textual identifying properties.
    keys: Vec<Vec<(Kind, &'static str, String)>>,
    by_key: HashMap<(Kind, &'static str, String), Vec<usize>>,
    by_kind: HashMap<Kind, Vec<usize>>,
    keyless_by_kind: HashMap<Kind, Vec<usize>>,
}

impl Candidates {
    fn new(graph: &EntityGraph, alive: &[bool]) -> Candidates {
        let mut candidates = Candidates {
            kinds: Vec::with_capacity(graph.nodes.len()),
            keys: Vec::with_capacity(graph.nodes.len()),
            by_key: HashMap::new(),
            by_kind: HashMap::new(),
            keyless_by_kind: HashMap::new(),
        };
        for (index, node) in graph.nodes.iter().enumerate() {
            let kind = node.entity.kind();
            let keys: Vec<_> = identity(&node.entity, graph)
                .into_iter()
                .filter_map(|(name, key)| match key {
                    Key::Text(text) => Some((kind, name, text)),
                    Key::Link(_) => None,
                })
                .collect();
            if alive[index] {
                candidates.by_kind.entry(kind).or_default().push(index);
                if keys.is_empty() {
                    candidates
                        .keyless_by_kind
                        .entry(kind)
                        .or_default()
                        .push(index);
                }
                for key in &keys {
                    candidates
                        .by_key
                        .entry(key.clone())
                        .or_default()
                        .push(index);
                }
            }
            candidates.kinds.push(kind);
            candidates.keys.push(keys);
        }
        candidates
    }

    /// The entities after `index` that may be equivalent to it, in order.
    fn of(&self, index: usize) -> Vec<usize> {
        let kind = self.kinds[index];
        let listed = |map: &HashMap<Kind, Vec<usize>>| map.get(&kind).cloned().unwrap_or_default();
        let mut found = if self.keys[index].is_empty() {
            listed(&self.by_kind)
        } else {
            let mut found = listed(&self.keyless_by_kind);
            for key in &self.keys[index] {
                found.extend(self.by_key.get(key).into_iter().flatten());
            }
            found
        };
        found.retain(|other| *other > index);
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Merges a list of entities that have no links between them (links are indexes
/// into a graph; use [`EntityGraph::dedupe`] for entities that have them), keeping
/// the first of each group of equivalent entities, filled from the others.
pub fn dedupe(entities: impl IntoIterator<Item = Entity>) -> Vec<Entity> {
    let mut graph = EntityGraph::new();
    for entity in entities {
        graph.add(entity);
    }
    graph.dedupe();
    graph.nodes.into_iter().map(|node| node.entity).collect()
}

/// `keep` takes `merged` as its entity and whatever identity `dropped` had that it
/// lacked.
fn absorb(keep: &mut Node, merged: Entity, dropped: Node) {
    keep.entity = merged;
    if keep.sentinel_id.is_none() {
        keep.sentinel_id = dropped.sentinel_id;
    }
    if keep.tag.is_none() {
        keep.tag = dropped.tag;
    }
    for (key, value) in dropped.kept_empty {
        keep.kept_empty.entry(key).or_insert(value);
    }
}

pub(crate) fn equivalent(a: &Entity, b: &Entity, links: &EntityGraph) -> bool {
    if a.kind() != b.kind() {
        return false;
    }
    if let (Entity::Unknown(a), Entity::Unknown(b)) = (a, b) {
        let same_type = match (&a.type_name, &b.type_name) {
            (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
            (x, y) => x == y,
        };
        return same_type && a.extra == b.extra;
    }
    let (left, right) = (identity(a, links), identity(b, links));
    if left.is_empty() && right.is_empty() {
        return a.to_map() == b.to_map();
    }
    let same = |x: &Key, y: &Key| match (x, y) {
        (Key::Link(x), Key::Link(y)) => {
            x == y
                || match (links.get(*x), links.get(*y)) {
                    (Some(x), Some(y)) => equivalent(x, y, links),
                    _ => false,
                }
        }
        (x, y) => x == y,
    };
    // A property may have several values (a file's hashes of an unnamed
    // algorithm): it agrees when the two share one.
    let mut shared = false;
    for (name, _) in &left {
        let (mine, theirs) = (values_of(&left, name), values_of(&right, name));
        if theirs.is_empty() {
            continue;
        }
        if !mine.iter().any(|x| theirs.iter().any(|y| same(x, y))) {
            return false;
        }
        shared = true;
    }
    shared
}

fn values_of<'i>(identity: &'i Identity, name: &str) -> Vec<&'i Key> {
    identity
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, key)| key)
        .collect()
}

pub(crate) fn merge(a: &Entity, b: &Entity, links: &EntityGraph) -> Result<Entity, EntityError> {
    if !equivalent(a, b, links) {
        return Err(EntityError::NotEquivalent {
            kind: a.kind().to_string(),
            left: a.description(links),
            other_kind: b.kind().to_string(),
            right: b.description(links),
        });
    }
    let mut properties = a.to_map();
    for (key, incoming) in b.to_map() {
        match properties.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(incoming);
            }
            Entry::Occupied(mut slot) => match (slot.get_mut(), incoming) {
                (current, incoming) if is_blank(current) => *current = incoming,
                (Value::Array(current), Value::Array(incoming)) => {
                    for item in incoming {
                        if !current.contains(&item) {
                            current.push(item);
                        }
                    }
                }
                _ => {}
            },
        }
    }
    let type_name = match a {
        Entity::Unknown(unknown) => unknown.type_name.clone(),
        _ => None,
    };
    Entity::from_map(a.kind(), &Value::Object(properties), type_name).map_err(|error| {
        EntityError::InvalidProperty {
            entity: format!("the merged {} entity", a.kind()),
            property: String::new(),
            message: error.to_string(),
        }
    })
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// The identifying properties of an entity, normalised for comparison.
fn identity(entity: &Entity, links: &EntityGraph) -> Identity {
    let mut id = Keys::default();
    match entity {
        Entity::Account(a) => {
            id.lower("name", &a.name);
            id.lower("ntdomain", &a.nt_domain);
            id.lower("dnsdomain", &a.dns_domain);
            let upn = a.upn.clone().or_else(|| match (&a.name, &a.upn_suffix) {
                (Some(name), Some(suffix)) => Some(format!("{name}@{suffix}")),
                _ => None,
            });
            id.lower("upn", &upn);
            id.lower("sid", &a.sid);
            id.lower("aaduserid", &a.aad_user_id);
            id.lower("puid", &a.puid);
            id.lower("objectguid", &a.object_guid);
            id.linked("host", a.host, Kind::Host, links);
        }
        Entity::Host(h) => {
            // A host name may arrive as an FQDN, in HostName or in FQDN.
            let full = h.host_name.as_deref().or(h.fqdn.as_deref()).unwrap_or("");
            let (name, domain) = match full.split_once('.') {
                Some((name, domain)) => (Some(name.to_string()), Some(domain.to_string())),
                None => (h.host_name.clone(), None),
            };
            id.lower("hostname", &name.or_else(|| h.net_bios_name.clone()));
            id.lower("dnsdomain", &h.dns_domain.clone().or(domain));
            id.lower("ntdomain", &h.nt_domain);
            id.lower("azureid", &h.azure_id);
            id.lower("omsagentid", &h.oms_agent_id);
            id.lower("mdatpdeviceid", &h.mdatp_device_id);
            id.lower("aaddeviceid", &h.aad_device_id);
        }
        Entity::IpAddress(ip) => {
            if let Some(address) = ip.address.as_deref().map(str::trim) {
                id.push(
                    "address",
                    address
                        .parse::<IpAddr>()
                        .map_or_else(|_| address.to_lowercase(), |ip| ip.to_string()),
                );
            }
            id.lower("scope", &ip.address_scope);
        }
        Entity::Url(url) => id.exact("url", &url.url),
        Entity::Dns(dns) => id.lower(
            "domain",
            &dns.domain_name
                .as_deref()
                .map(|name| name.trim_end_matches('.').to_string()),
        ),
        Entity::File(file) => {
            id.lower("name", &file.name);
            id.lower(
                "directory",
                &file
                    .directory
                    .as_deref()
                    .map(|dir| dir.trim_end_matches(['\\', '/']).to_string()),
            );
            id.lower("md5", &file.md5);
            id.lower("sha1", &file.sha1);
            id.lower("sha256", &file.sha256);
            id.lower("sha256ac", &file.sha256_ac);
            for hash in &file.file_hashes {
                if let Some(Entity::FileHash(hash)) = links.get(*hash) {
                    let algorithm = hash_key(hash.algorithm.as_ref());
                    id.lower(algorithm, &hash.value);
                }
            }
        }
        Entity::FileHash(hash) => {
            let algorithm = text(&hash.algorithm).map(|a| a.to_uppercase());
            if algorithm.as_deref() != Some("UNKNOWN") {
                id.optional("algorithm", algorithm);
            }
            id.lower("value", &hash.value);
        }
        Entity::GeoLocation(geo) => {
            id.lower("countrycode", &geo.country_code);
            id.lower("state", &geo.state);
            id.lower("city", &geo.city);
            id.optional("latitude", text(&geo.latitude));
            id.optional("longitude", text(&geo.longitude));
        }
        Entity::Malware(malware) => {
            id.lower("name", &malware.name);
            id.lower("category", &malware.category);
        }
        Entity::Process(process) => {
            id.exact("pid", &process.process_id);
            id.optional(
                "created",
                process.creation_time_utc.as_deref().map(|time| {
                    DateTime::parse_from_rfc3339(time).map_or_else(
                        |_| time.to_string(),
                        |t| t.timestamp_nanos_opt().unwrap_or_default().to_string(),
                    )
                }),
            );
            id.exact("commandline", &process.command_line);
            id.linked("image", process.image_file, Kind::File, links);
            id.linked("host", process.host, Kind::Host, links);
        }
        Entity::RegistryKey(key) => {
            id.optional("hive", text(&key.hive).map(|hive| hive.to_uppercase()));
            id.lower("key", &key.key);
        }
        Entity::RegistryValue(value) => {
            id.linked("key", value.key, Kind::RegistryKey, links);
            id.lower("name", &value.name);
            id.linked("host", value.host, Kind::Host, links);
        }
        Entity::SecurityGroup(group) => {
            id.lower("dn", &group.distinguished_name);
            id.lower("sid", &group.sid);
            id.lower("objectguid", &group.object_guid);
        }
        Entity::CloudApplication(app) => {
            id.optional("appid", text(&app.app_id));
            id.optional("saasid", text(&app.saas_id));
            id.lower("name", &app.name);
            id.lower("instance", &app.instance_name);
        }
        Entity::AzureResource(resource) => id.lower("resourceid", &resource.resource_id),
        Entity::Mailbox(mailbox) => {
            id.lower("address", &mailbox.mailbox_primary_address);
            id.lower("upn", &mailbox.upn);
            id.lower("objectid", &mailbox.external_directory_object_id);
        }
        Entity::MailCluster(cluster) => {
            id.exact("query", &cluster.query);
            id.lower("source", &cluster.source);
        }
        Entity::MailMessage(message) => {
            id.lower("networkmessageid", &message.network_message_id);
            id.lower("recipient", &message.recipient);
            id.exact("internetmessageid", &message.internet_message_id);
        }
        Entity::SubmissionMail(mail) => {
            id.lower("submissionid", &mail.submission_id);
            id.lower("networkmessageid", &mail.network_message_id);
            id.lower("recipient", &mail.recipient);
            id.lower("submitter", &mail.submitter);
        }
        Entity::IoTDevice(device) => {
            id.lower("deviceid", &device.device_id);
            id.linked("iothub", device.iot_hub, Kind::AzureResource, links);
        }
        Entity::NetworkConnection(connection) => {
            id.linked("source", connection.source_address, Kind::IpAddress, links);
            id.optional("sourceport", text(&connection.source_port));
            id.linked(
                "destination",
                connection.destination_address,
                Kind::IpAddress,
                links,
            );
            id.optional("destinationport", text(&connection.destination_port));
            id.optional(
                "protocol",
                text(&connection.protocol).map(|p| p.to_lowercase()),
            );
        }
        Entity::HostLogonSession(session) => {
            id.exact("sessionid", &session.session_id);
            id.linked("account", session.account, Kind::Account, links);
            id.linked("host", session.host, Kind::Host, links);
        }
        Entity::Threatintelligence(ti) => {
            id.lower("provider", &ti.provider_name);
            id.lower("threat", &ti.threat_name);
            id.exact("reportlink", &ti.report_link);
        }
        Entity::Alert(alert) => id.lower("systemalertid", &alert.system_alert_id),
        Entity::Incident(incident) => id.lower("incidentid", &incident.incident_id),
        Entity::Unknown(_) => {}
    }
    id.0
}

fn hash_key(algorithm: Option<&Value>) -> &'static str {
    match text(&algorithm.cloned())
        .map(|a| a.to_uppercase())
        .as_deref()
    {
        Some("MD5") => "md5",
        Some("SHA1") => "sha1",
        Some("SHA256") => "sha256",
        Some("SHA256AC") => "sha256ac",
        _ => "hash",
    }
}

/// A scalar JSON value as text (`"SHA256"`, `443`), if it is one and not empty.
pub(crate) fn text(value: &Option<Value>) -> Option<String> {
    match value.as_ref()? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_string()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[derive(Default)]
struct Keys(Identity);

impl Keys {
    fn push(&mut self, name: &'static str, value: String) {
        if !value.is_empty() {
            self.0.push((name, Key::Text(value)));
        }
    }

    fn optional(&mut self, name: &'static str, value: Option<String>) {
        if let Some(value) = value {
            self.push(name, value);
        }
    }

    fn exact(&mut self, name: &'static str, value: &Option<String>) {
        self.optional(name, value.as_deref().map(|v| v.trim().to_string()));
    }

    fn lower(&mut self, name: &'static str, value: &Option<String>) {
        self.optional(name, value.as_deref().map(|v| v.trim().to_lowercase()));
    }

    /// Links count only where the graph holds them (an entity on its own has
    /// indexes into a graph it is no longer in) and only to the kind the property
    /// is for. Kinds that identify by links (process, account) link only to kinds
    /// that do not (host, file), so comparing never loops, even on a malformed
    /// graph whose process names itself as its host.
    fn linked(
        &mut self,
        name: &'static str,
        link: Option<EntityId>,
        kind: Kind,
        links: &EntityGraph,
    ) {
        if let Some(id) = link.filter(|id| links.get(*id).is_some_and(|e| e.kind() == kind)) {
            self.0.push((name, Key::Link(id)));
        }
    }
}
