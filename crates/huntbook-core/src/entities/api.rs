//! Reading the entities of Sentinel's management API (`incidents/{id}/entities`,
//! `entities/{id}/expand`), which describe the same entities in another shape:
//! `{"kind": "Process", "properties": {"processId": "4242", "imageFileEntityId":
//! "<resource id>"}}`. Property names are camelCase versions of the `Entities` JSON
//! names, with a few renamed (`accountName` is `Name`, `hashValue` is `Value`), and
//! links are `...EntityId(s)` properties holding other entities' resource ids.
//!
//! Each entity is rewritten into `Entities` JSON form (`Type`, Sentinel's property
//! names, `$id` and `$ref`) and read by the same reader, so both forms give the
//! same graph and the same errors.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::json_type;
use super::{EntityError, EntityGraph, Kind};

/// API names that are not the `Entities` JSON name with its first letter capitalised.
const RENAMED: &[(Kind, &str, &str)] = &[
    (Kind::Account, "accountName", "Name"),
    (Kind::Account, "ntDomain", "NTDomain"),
    (Kind::Account, "upnSuffix", "UPNSuffix"),
    (Kind::Account, "puid", "PUID"),
    (Kind::Host, "ntDomain", "NTDomain"),
    (Kind::Host, "omsAgentID", "OMSAgentID"),
    (Kind::Host, "osFamily", "OSFamily"),
    (Kind::Host, "osVersion", "OSVersion"),
    (Kind::File, "fileName", "Name"),
    (Kind::FileHash, "hashValue", "Value"),
    (Kind::CloudApplication, "appName", "Name"),
    (Kind::Malware, "malwareName", "Name"),
    (Kind::RegistryValue, "valueName", "Name"),
    (Kind::RegistryValue, "valueData", "Value"),
    (Kind::SecurityGroup, "sid", "SID"),
];

/// Link properties whose `Entities` JSON name is not the API name without
/// `EntityId(s)`.
const RENAMED_LINKS: &[(&str, &str)] = &[
    ("fileHashEntityIds", "FileHashes"),
    ("ipAddressEntityIds", "IpAddresses"),
    ("fileEntityIds", "Files"),
    ("processEntityIds", "Processes"),
    ("hostLogonSessionEntityId", "LogonSession"),
    ("iotHubEntityId", "IoTHub"),
];

impl EntityGraph {
    /// Reads entities as the management API returns them: the response of
    /// `incidents/{id}/entities` (`{"entities": [...]}`), a `{"value": [...]}` page,
    /// or a bare array of `{"id", "kind", "properties"}` objects.
    pub fn from_api_entities(response: Value) -> Result<EntityGraph, EntityError> {
        let items = match response {
            Value::Array(items) => items,
            Value::Object(mut map) => {
                match map.remove("entities").or_else(|| map.remove("value")) {
                    Some(Value::Array(items)) => items,
                    _ => {
                        return Err(EntityError::NotAnArray {
                            found: "an object without an `entities` or `value` array",
                        })
                    }
                }
            }
            other => {
                return Err(EntityError::NotAnArray {
                    found: json_type(&other),
                })
            }
        };

        // Entities are numbered in order; links name them by resource id (or name).
        let mut number = HashMap::new();
        for (index, item) in items.iter().enumerate() {
            for key in ["id", "name"] {
                if let Some(id) = item.get(key).and_then(Value::as_str) {
                    number.entry(id.to_string()).or_insert(index + 1);
                }
            }
        }

        let entities = items
            .into_iter()
            .enumerate()
            .map(|(index, item)| rewrite(item, index, &number))
            .collect::<Result<Vec<_>, _>>()?;
        EntityGraph::from_value(Value::Array(entities))
    }
}

/// One API entity in `Entities` JSON form.
fn rewrite(
    item: Value,
    index: usize,
    number: &HashMap<String, usize>,
) -> Result<Value, EntityError> {
    let at = format!("element {index} of the API entities");
    let Value::Object(mut item) = item else {
        return Err(EntityError::NotAnObject {
            at,
            found: json_type(&item),
        });
    };
    let tag = match item.remove("kind") {
        Some(Value::String(kind)) => kind,
        other => {
            return Err(EntityError::BadType {
                at: format!("{at}: `kind`"),
                found: other.map_or_else(|| "nothing".to_string(), |kind| kind.to_string()),
            })
        }
    };
    let kind = Kind::from_tag(&tag);
    let properties = match item.remove("properties") {
        None => Map::new(),
        Some(Value::Object(properties)) => properties,
        Some(other) => {
            return Err(EntityError::NotAnObject {
                at: format!("`properties` of {at}"),
                found: json_type(&other),
            })
        }
    };

    let mut entity = Map::new();
    entity.insert("$id".into(), Value::String((index + 1).to_string()));
    let type_name = if kind == Kind::Unknown {
        tag.clone()
    } else {
        kind.tag().to_string()
    };
    entity.insert("Type".into(), Value::String(type_name));
    for (key, value) in properties {
        let (name, value) = match link_name(&key) {
            Some(name) => {
                let place = format!("`{key}` of the {tag} entity at {at}");
                (name, link_value(value, number, &place)?)
            }
            None => {
                let name = property_name(kind, &key);
                // Entities nested in a property (an IP's `location`) are written with
                // camelCase names too; other nested data (`additionalData`) is kept.
                let holds_entities = kind.links().iter().any(|(link, _)| *link == name);
                let value = if holds_entities {
                    capitalise_keys(value)
                } else {
                    value
                };
                (name, value)
            }
        };
        entity.insert(name, value);
    }
    Ok(Value::Object(entity))
}

/// The `Entities` JSON name of a link property (`imageFileEntityId` is `ImageFile`).
fn link_name(key: &str) -> Option<String> {
    if let Some((_, name)) = RENAMED_LINKS.iter().find(|(api, _)| *api == key) {
        return Some(name.to_string());
    }
    let stem = key
        .strip_suffix("EntityIds")
        .or_else(|| key.strip_suffix("EntityId"))?;
    Some(capitalise(stem))
}

fn property_name(kind: Kind, key: &str) -> String {
    RENAMED
        .iter()
        .find(|(of, api, _)| *of == kind && *api == key)
        .map_or_else(|| capitalise(key), |(_, _, name)| name.to_string())
}

/// A resource id, or a list of them, as `$ref`s to the entities they name.
fn link_value(
    value: Value,
    number: &HashMap<String, usize>,
    at: &str,
) -> Result<Value, EntityError> {
    match value {
        Value::String(id) => {
            let target = number
                .get(&id)
                .or_else(|| id.rsplit('/').next().and_then(|name| number.get(name)));
            match target {
                Some(target) => Ok(serde_json::json!({ "$ref": target.to_string() })),
                None => Err(EntityError::DanglingRef {
                    id,
                    at: at.to_string(),
                }),
            }
        }
        Value::Array(ids) => ids
            .into_iter()
            .map(|id| link_value(id, number, at))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Err(EntityError::BadRef {
            at: at.to_string(),
            found: other.to_string(),
        }),
    }
}

/// `value` with the keys of its objects capitalised (`countryCode` is `CountryCode`).
fn capitalise_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (capitalise(&key), capitalise_keys(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(capitalise_keys).collect()),
        scalar => scalar,
    }
}

fn capitalise(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::entities::Entity;

    const API: &str = include_str!("../../tests/data/incident_entities_api_response.json");
    const MDE: &str = include_str!("../../tests/data/mde_alert_entities.json");

    fn api_graph() -> EntityGraph {
        EntityGraph::from_api_entities(serde_json::from_str(API).unwrap()).unwrap()
    }

    #[test]
    fn incident_entities_response_reads_as_entities_json() {
        let graph = api_graph();
        assert_eq!(graph.roots().len(), 6);
        let (process_id, process) = graph.of_kind("process").next().unwrap();
        assert_eq!(process.description(&graph), "powershell.exe (7312)");
        let Entity::Process(p) = process else {
            panic!()
        };
        assert_eq!(graph[p.account.unwrap()].description(&graph), r"CORP\alice");
        assert_eq!(
            graph[p.host.unwrap()].description(&graph),
            "WS-0142.corp.contoso.com"
        );
        assert_eq!(
            graph[p.image_file.unwrap()].observable(&graph).as_deref(),
            Some("de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c")
        );
        assert_eq!(p.extra["FriendlyName"], json!("powershell.exe"));
        assert_eq!(
            p.extra["AdditionalData"],
            json!({"someDetail": "kept as is"}),
            "only entity properties are renamed"
        );
        assert_eq!(graph.sentinel_id(process_id), Some("6"));

        let (_, ip) = graph.of_kind("ip").next().unwrap();
        assert_eq!(ip.to_flat(&graph)["Location"], "Seattle, Washington, US");
        let (_, hash) = graph.of_kind("filehash").next().unwrap();
        assert_eq!(
            hash.description(&graph),
            "SHA256: de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c"
        );
    }

    #[test]
    fn the_same_incident_from_the_alert_and_the_api_dedupes_to_one_set() {
        let mut graph = EntityGraph::parse(MDE).unwrap();
        let alert_entities = graph.len();
        graph.extend(api_graph());
        let dropped = graph.dedupe();
        assert_eq!(
            dropped, 6,
            "account, host, IP, hash, file and process were already known"
        );
        assert_eq!(graph.len(), alert_entities + 1, "plus the IP's location");
        let (_, ip) = graph.of_kind("ip").next().unwrap();
        assert_eq!(ip.to_flat(&graph)["Location"], "Seattle, Washington, US");
        let (_, host) = graph.of_kind("host").next().unwrap();
        let Entity::Host(host) = host else { panic!() };
        assert_eq!(
            host.oms_agent_id.as_deref(),
            Some("1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b")
        );
    }

    #[test]
    fn a_link_to_an_entity_not_in_the_response_names_the_property_and_id() {
        let response = json!({"entities": [
            {"id": "e/1", "kind": "Process", "properties": {"processId": "1", "imageFileEntityId": "e/404"}}
        ]});
        let message = EntityGraph::from_api_entities(response)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("`imageFileEntityId` of the Process entity at element 0"),
            "{message}"
        );
        assert!(message.contains(r#""e/404" names no entity"#), "{message}");
    }

    #[test]
    fn wrong_shapes_are_reported() {
        let error = |value| {
            EntityGraph::from_api_entities(value)
                .unwrap_err()
                .to_string()
        };
        assert!(error(json!({"items": []})).contains("without an `entities` or `value` array"));
        assert!(
            error(json!([{"properties": {}}])).contains("element 0 of the API entities: `kind`")
        );
        assert!(error(json!([{"kind": "Host", "properties": []}]))
            .contains("`properties` of element 0"));
        let message = error(json!([{"kind": "File", "properties": {"fileHashEntityIds": [3]}}]));
        assert!(message.contains("`fileHashEntityIds`"), "{message}");
    }
}
