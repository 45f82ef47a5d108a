//! Entities for people and for pivots: a one-line description, a flat map of
//! properties for tables, and the observable an enrichment looks up.

use std::collections::BTreeMap;

use serde_json::Value;

use super::graph::{placeholder, EntityGraph};
use super::identity::text;
use super::{Entity, EntityId, Kind};

impl Entity {
    /// A one-line name for the entity: `CONTOSO\alice` or `alice@contoso.com` for an
    /// account, the FQDN for a host, `cmd.exe (4242)` for a process, the path for a
    /// file, the address for an IP. Linked entities are looked up in `links` (pass
    /// an empty graph for an entity on its own). Falls back to the `Type`.
    pub fn description(&self, links: &EntityGraph) -> String {
        self.describe(links).unwrap_or_else(|| match self {
            Entity::Unknown(unknown) => unknown
                .type_name
                .clone()
                .unwrap_or_else(|| Kind::Unknown.tag().to_string()),
            known => known.kind().tag().to_string(),
        })
    }

    /// The value to look the entity up by (threat intelligence, GeoIP, pivots): the
    /// IP address, URL, domain, hash (a file's strongest: SHA256, then SHA1, then
    /// MD5), host FQDN, account UPN (or qualified name), mailbox address, resource
    /// id, command line, registry key or malware name. `None` for kinds with no
    /// single observable (a location, a connection).
    pub fn observable(&self, links: &EntityGraph) -> Option<String> {
        let found = match self {
            Entity::IpAddress(ip) => ip.address.clone(),
            Entity::Url(url) => url.url.clone(),
            Entity::Dns(dns) => dns.domain_name.clone(),
            Entity::FileHash(hash) => hash.value.clone(),
            Entity::File(file) => strongest_hash(file, links),
            Entity::Host(_)
            | Entity::RegistryKey(_)
            | Entity::RegistryValue(_)
            | Entity::AzureResource(_) => self.describe(links),
            Entity::Account(account) => account_upn(account).or_else(|| self.describe(links)),
            Entity::Mailbox(mailbox) => mailbox.mailbox_primary_address.clone(),
            Entity::Malware(malware) => malware.name.clone(),
            Entity::Process(process) => process.command_line.clone(),
            Entity::CloudApplication(app) => app.name.clone(),
            Entity::MailMessage(message) => message.network_message_id.clone(),
            Entity::SubmissionMail(mail) => mail.network_message_id.clone(),
            _ => None,
        };
        found.filter(|value| !value.trim().is_empty())
    }

    /// The entity's properties as text for a table row: `Type`, then each property
    /// by its Sentinel name; linked entities appear as their description, lists of
    /// them joined by `, `, other nested values as JSON.
    pub fn to_flat(&self, links: &EntityGraph) -> BTreeMap<String, String> {
        let mut flat = BTreeMap::new();
        let tag = match self {
            Entity::Unknown(unknown) => unknown.type_name.clone(),
            known => Some(known.kind().tag().to_string()),
        };
        if let Some(tag) = tag {
            flat.insert("Type".to_string(), tag);
        }
        for (key, mut value) in self.to_map() {
            if value.is_null() {
                continue;
            }
            let shown = match &value {
                Value::String(text) => text.clone(),
                Value::Array(items)
                    if !items.is_empty() && items.iter().all(|i| placeholder(i).is_some()) =>
                {
                    items
                        .iter()
                        .filter_map(placeholder)
                        .map(|id| linked_description(id, links))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
                _ => match placeholder(&value) {
                    Some(id) => linked_description(id, links),
                    None => {
                        describe_links(&mut value, links);
                        value.to_string()
                    }
                },
            };
            flat.insert(key, shown);
        }
        flat
    }

    /// The description, if the entity has anything to describe it by.
    pub(crate) fn describe(&self, links: &EntityGraph) -> Option<String> {
        // Only the kind a property is for is described: those kinds describe
        // themselves without links, so a malformed graph cannot make this loop.
        let linked = |id: Option<EntityId>, kind: Kind| {
            id.and_then(|id| links.get(id).filter(|e| e.kind() == kind)?.describe(links))
        };
        let text = match self {
            Entity::Account(account) => {
                let name = account.name.as_deref();
                match (name, &account.nt_domain, &account.upn_suffix) {
                    (Some(name), Some(domain), _) => Some(format!("{domain}\\{name}")),
                    (Some(name), None, Some(suffix)) => Some(format!("{name}@{suffix}")),
                    (Some(name), None, None) => Some(match linked(account.host, Kind::Host) {
                        Some(host) => format!("{host}\\{name}"),
                        None => name.to_string(),
                    }),
                    (None, ..) => first([
                        &account.upn,
                        &account.display_name,
                        &account.aad_user_id,
                        &account.sid,
                    ]),
                }
            }
            Entity::Host(host) => match (&host.fqdn, &host.host_name, &host.dns_domain) {
                (Some(fqdn), ..) => Some(fqdn.clone()),
                (None, Some(name), Some(domain)) if !name.contains('.') => {
                    Some(format!("{name}.{domain}"))
                }
                (None, Some(name), _) => Some(name.clone()),
                (None, None, _) => host.net_bios_name.clone(),
            },
            Entity::IpAddress(ip) => ip.address.clone(),
            Entity::Url(url) => url.url.clone(),
            Entity::Dns(dns) => dns.domain_name.clone(),
            Entity::File(file) => match (&file.directory, &file.name) {
                (Some(directory), Some(name)) => {
                    // Sentinel splits the path; join it with the separator it uses.
                    let separator = if directory.contains('/') && !directory.contains('\\') {
                        '/'
                    } else {
                        '\\'
                    };
                    let directory = directory.trim_end_matches(separator);
                    Some(format!("{directory}{separator}{name}"))
                }
                (directory, name) => name.clone().or_else(|| directory.clone()),
            },
            Entity::FileHash(hash) => match (text(&hash.algorithm), &hash.value) {
                (Some(algorithm), Some(value)) => Some(format!("{algorithm}: {value}")),
                (None, value) => value.clone(),
                (Some(_), None) => None,
            },
            Entity::GeoLocation(geo) => {
                let country = geo.country_code.as_ref().or(geo.country_name.as_ref());
                let parts: Vec<&str> = [geo.city.as_ref(), geo.state.as_ref(), country]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .filter(|part| !part.is_empty())
                    .collect();
                match (parts.is_empty(), text(&geo.latitude), text(&geo.longitude)) {
                    (false, ..) => Some(parts.join(", ")),
                    (true, Some(latitude), Some(longitude)) => {
                        Some(format!("{latitude}, {longitude}"))
                    }
                    _ => None,
                }
            }
            Entity::Malware(malware) => match (&malware.name, &malware.category) {
                (Some(name), Some(category)) => Some(format!("{name} ({category})")),
                (name, _) => name.clone(),
            },
            Entity::Process(process) => {
                let image = process.image_file.and_then(|id| match links.get(id)? {
                    Entity::File(file) => file.name.clone().or_else(|| file.directory.clone()),
                    _ => None,
                });
                match (image, &process.process_id) {
                    (Some(image), Some(pid)) => Some(format!("{image} ({pid})")),
                    (Some(image), None) => Some(image),
                    (None, Some(pid)) => Some(format!("process ({pid})")),
                    (None, None) => process.command_line.clone(),
                }
            }
            Entity::RegistryKey(key) => match (text(&key.hive), &key.key) {
                (Some(hive), Some(key)) => Some(format!("{hive}\\{key}")),
                (None, key) => key.clone(),
                (hive, None) => hive,
            },
            Entity::RegistryValue(value) => {
                match (linked(value.key, Kind::RegistryKey), &value.name) {
                    (Some(key), Some(name)) => Some(format!("{key}\\{name}")),
                    (key, name) => name.clone().or(key),
                }
            }
            Entity::SecurityGroup(group) => {
                first([&group.distinguished_name, &group.sid, &group.object_guid])
            }
            Entity::CloudApplication(app) => app.name.clone().or_else(|| text(&app.app_id)),
            Entity::AzureResource(resource) => resource.resource_id.clone(),
            Entity::Mailbox(mailbox) => first([
                &mailbox.mailbox_primary_address,
                &mailbox.display_name,
                &mailbox.upn,
            ]),
            Entity::MailCluster(cluster) => cluster.query.clone(),
            Entity::MailMessage(message) => first([
                &message.subject,
                &message.internet_message_id,
                &message.network_message_id,
            ]),
            Entity::SubmissionMail(mail) => first([&mail.subject, &mail.submission_id]),
            Entity::NetworkConnection(connection) => {
                let end = |address: Option<EntityId>, port: &Option<Value>| {
                    let address =
                        linked(address, Kind::IpAddress).unwrap_or_else(|| "?".to_string());
                    match text(port) {
                        Some(port) => format!("{address}:{port}"),
                        None => address,
                    }
                };
                let mut line = format!(
                    "{} -> {}",
                    end(connection.source_address, &connection.source_port),
                    end(connection.destination_address, &connection.destination_port)
                );
                if let Some(protocol) = text(&connection.protocol) {
                    line.push_str(&format!(" ({protocol})"));
                }
                Some(line)
            }
            Entity::HostLogonSession(session) => match (
                linked(session.account, Kind::Account),
                linked(session.host, Kind::Host),
            ) {
                (Some(account), Some(host)) => Some(format!("{account} on {host}")),
                (account, host) => account.or(host).or_else(|| session.session_id.clone()),
            },
            Entity::Threatintelligence(ti) => {
                first([&ti.threat_name, &ti.threat_type, &ti.provider_name])
            }
            Entity::IoTDevice(device) => first([&device.device_name, &device.device_id]),
            Entity::Alert(alert) => first([
                &alert.alert_display_name,
                &alert.display_name,
                &alert.system_alert_id,
            ]),
            Entity::Incident(incident) => first([
                &incident.title,
                &incident.display_name,
                &incident.incident_id,
            ]),
            Entity::Unknown(_) => None,
        };
        text.filter(|text| !text.trim().is_empty())
    }
}

fn first<const N: usize>(candidates: [&Option<String>; N]) -> Option<String> {
    candidates
        .into_iter()
        .flatten()
        .find(|value| !value.trim().is_empty())
        .cloned()
}

fn account_upn(account: &super::Account) -> Option<String> {
    account
        .upn
        .clone()
        .or_else(|| match (&account.name, &account.upn_suffix) {
            (Some(name), Some(suffix)) => Some(format!("{name}@{suffix}")),
            _ => None,
        })
}

fn strongest_hash(file: &super::File, links: &EntityGraph) -> Option<String> {
    const ORDER: [&str; 4] = ["SHA256", "SHA1", "MD5", "SHA256AC"];
    let mut best: Option<(usize, String)> = None;
    for hash in &file.file_hashes {
        let Some(Entity::FileHash(hash)) = links.get(*hash) else {
            continue;
        };
        let (Some(algorithm), Some(value)) = (text(&hash.algorithm), &hash.value) else {
            continue;
        };
        let rank = ORDER
            .iter()
            .position(|known| known.eq_ignore_ascii_case(&algorithm))
            .unwrap_or(ORDER.len());
        if best.as_ref().is_none_or(|(best_rank, _)| rank < *best_rank) {
            best = Some((rank, value.clone()));
        }
    }
    first([&file.sha256, &file.sha1, &file.md5, &file.sha256_ac]).or(best.map(|(_, value)| value))
}

fn linked_description(id: EntityId, links: &EntityGraph) -> String {
    links.get(id).map_or_else(
        || format!("#{}", id.index()),
        |entity| entity.description(links),
    )
}

/// Replaces links nested in `value` by the linked entity's description.
fn describe_links(value: &mut Value, links: &EntityGraph) {
    if let Some(id) = placeholder(value) {
        *value = Value::String(linked_description(id, links));
        return;
    }
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| describe_links(item, links)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| describe_links(item, links)),
        _ => {}
    }
}
