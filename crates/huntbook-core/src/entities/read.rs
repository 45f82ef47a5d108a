//! Reading Sentinel's `Entities` JSON into an [`EntityGraph`].
//!
//! The JSON is written by Json.NET with reference preservation: each object carries
//! a `"$id"`, and an object seen before is written as `{"$ref": "<id>"}`. Entities
//! therefore appear at the top level, nested inline (a process's `ImageFile`), or as
//! references, in any property. Reading takes three passes: every entity object
//! (top-level, with a `$id`, with a known `Type`, or in a property that holds
//! entities, such as `IpAddress.Location`) becomes a node; then every `$ref` is
//! resolved, so a reference may come before the entity it names; then each node's
//! properties are read into its typed struct.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::error::json_type;
use super::graph::{child_path, placeholder_value, EntityGraph, Home, Node};
use super::{Entity, EntityError, EntityId, Kind};

impl EntityGraph {
    /// Reads an `Entities` JSON array, such as the text of the `Entities` column of
    /// `SecurityAlert`.
    pub fn parse(text: &str) -> Result<EntityGraph, EntityError> {
        EntityGraph::from_value(serde_json::from_str(text)?)
    }

    /// Reads an `Entities` array already parsed as JSON (as found in alert and
    /// incident API responses).
    pub fn from_value(value: Value) -> Result<EntityGraph, EntityError> {
        let Value::Array(items) = value else {
            return Err(EntityError::NotAnArray {
                found: json_type(&value),
            });
        };
        Reader::default().read(items)
    }
}

/// An entity object before its properties are typed.
struct Raw {
    map: Map<String, Value>,
    kind: Kind,
    tag: Option<String>,
    sentinel_id: Option<String>,
    home: Home,
    /// How errors name this entity.
    place: String,
}

enum RootItem {
    Entity(EntityId),
    Ref { id: String, at: String },
}

#[derive(Default)]
struct Reader {
    raws: Vec<Raw>,
    /// Each `$id` and its entity, for resolving `$ref`s.
    ids: HashMap<String, EntityId>,
}

impl Reader {
    fn read(mut self, items: Vec<Value>) -> Result<EntityGraph, EntityError> {
        let mut roots = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let at = format!("element {index} of the entities array");
            roots.push(match item {
                Value::Object(map) if map.contains_key("$ref") => RootItem::Ref {
                    id: ref_id(map, &at)?,
                    at,
                },
                Value::Object(map) => {
                    RootItem::Entity(self.add(map, Home::Root, Kind::Unknown, at)?)
                }
                other => {
                    return Err(EntityError::NotAnObject {
                        at,
                        found: json_type(&other),
                    })
                }
            });
        }

        let roots = roots
            .into_iter()
            .map(|item| match item {
                RootItem::Entity(id) => Ok(id),
                RootItem::Ref { id, at } => self.lookup(&id, at),
            })
            .collect::<Result<Vec<_>, _>>()?;

        let mut raws = std::mem::take(&mut self.raws);
        for raw in &mut raws {
            for (key, value) in raw.map.iter_mut() {
                self.resolve(value, &child_path("", key), &raw.place)?;
            }
        }

        let nodes = raws
            .into_iter()
            .map(type_node)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EntityGraph { nodes, roots })
    }

    /// Makes a node of an entity object; nested entities become nodes of their own.
    fn add(
        &mut self,
        mut map: Map<String, Value>,
        home: Home,
        expected: Kind,
        at: String,
    ) -> Result<EntityId, EntityError> {
        let sentinel_id = match map.remove("$id") {
            None => None,
            Some(Value::String(id)) => Some(id),
            Some(other) => {
                return Err(EntityError::BadId {
                    at,
                    found: other.to_string(),
                })
            }
        };
        let tag = match map.remove("Type") {
            None => None,
            Some(Value::String(tag)) => Some(tag),
            Some(other) => {
                return Err(EntityError::BadType {
                    at,
                    found: other.to_string(),
                })
            }
        };
        let kind = tag.as_deref().map_or(expected, Kind::from_tag);
        let kind_name = tag
            .as_deref()
            .or((expected != Kind::Unknown).then(|| expected.tag()));
        let place = describe_place(kind_name, sentinel_id.as_deref(), &at);
        let id = EntityId(self.raws.len());
        if let Some(sid) = &sentinel_id {
            if let Some(first) = self.ids.insert(sid.clone(), id) {
                return Err(EntityError::DuplicateId {
                    id: sid.clone(),
                    first: self.raws[first.0].place.clone(),
                    at: place,
                });
            }
        }
        self.raws.push(Raw {
            map: Map::new(),
            kind,
            tag,
            sentinel_id,
            home,
            place,
        });

        let links = kind.links();
        let mut properties = Map::with_capacity(map.len());
        for (key, value) in map {
            let path = child_path("", &key);
            let target = links
                .iter()
                .find(|(name, _)| *name == key)
                .map(|(_, target)| *target);
            let value = self.extract(value, id, &path, target)?;
            properties.insert(key, value);
        }
        self.raws[id.0].map = properties;
        Ok(id)
    }

    /// Replaces the entities inside `value` by links to new nodes. References stay
    /// `{"$ref": "<id>"}` (with a string id) until every `$id` is known.
    fn extract(
        &mut self,
        value: Value,
        owner: EntityId,
        path: &str,
        target: Option<Kind>,
    ) -> Result<Value, EntityError> {
        match value {
            Value::Object(map) if map.contains_key("$ref") => {
                let at = self.at(owner, path);
                Ok(serde_json::json!({ "$ref": ref_id(map, &at)? }))
            }
            Value::Object(map) if target.is_some() || is_entity(&map) => {
                let at = self.at(owner, path);
                let home = Home::Inside {
                    owner,
                    path: path.to_string(),
                };
                let child = self.add(map, home, target.unwrap_or(Kind::Unknown), at)?;
                Ok(placeholder_value(child))
            }
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (key, item) in map {
                    let item = self.extract(item, owner, &child_path(path, &key), None)?;
                    out.insert(key, item);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    self.extract(item, owner, &child_path(path, &index.to_string()), target)
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            scalar => Ok(scalar),
        }
    }

    /// Turns each `{"$ref": "<id>"}` inside `value` into a link.
    fn resolve(&self, value: &mut Value, path: &str, place: &str) -> Result<(), EntityError> {
        if let Some(Value::String(id)) = value.as_object().and_then(|map| map.get("$ref")) {
            let id = self.lookup(id, format!("{path} of {place}"))?;
            *value = placeholder_value(id);
            return Ok(());
        }
        match value {
            Value::Array(items) => items.iter_mut().enumerate().try_for_each(|(index, item)| {
                self.resolve(item, &child_path(path, &index.to_string()), place)
            }),
            Value::Object(map) => map
                .iter_mut()
                .try_for_each(|(key, item)| self.resolve(item, &child_path(path, key), place)),
            _ => Ok(()),
        }
    }

    fn lookup(&self, id: &str, at: String) -> Result<EntityId, EntityError> {
        self.ids
            .get(id)
            .copied()
            .ok_or_else(|| EntityError::DanglingRef {
                id: id.to_string(),
                at,
            })
    }

    fn at(&self, owner: EntityId, path: &str) -> String {
        format!("{path} of {}", self.raws[owner.0].place)
    }
}

/// How an entity is named in errors: `the process entity with $id "4"`.
fn describe_place(kind_tag: Option<&str>, sentinel_id: Option<&str>, at: &str) -> String {
    let kind = kind_tag.unwrap_or("untyped");
    match sentinel_id {
        Some(id) => format!("the {kind} entity with $id \"{id}\" ({at})"),
        None => format!("the {kind} entity at {at}"),
    }
}

/// An object nested in an entity is an entity itself when Json.NET gave it an id or
/// it names a `Type` this model knows.
fn is_entity(map: &Map<String, Value>) -> bool {
    map.contains_key("$id")
        || map
            .get("Type")
            .and_then(Value::as_str)
            .is_some_and(|tag| Kind::from_tag(tag) != Kind::Unknown)
}

/// The id a `{"$ref": "<id>"}` object names.
fn ref_id(map: Map<String, Value>, at: &str) -> Result<String, EntityError> {
    match map.get("$ref") {
        Some(Value::String(id)) if map.len() == 1 => Ok(id.clone()),
        _ => Err(EntityError::BadRef {
            at: at.to_string(),
            found: Value::Object(map).to_string(),
        }),
    }
}

/// Reads a node's properties into its typed struct.
fn type_node(raw: Raw) -> Result<Node, EntityError> {
    let type_name = (raw.kind == Kind::Unknown)
        .then(|| raw.tag.clone())
        .flatten();
    let properties = Value::Object(raw.map);
    let entity = Entity::from_map(raw.kind, &properties, type_name)
        .map_err(|error| property_error(raw.kind, &properties, &raw.place, error))?;
    // Only `null`s and `[]`s can be dropped by typing; keep them to write back.
    let Value::Object(map) = properties else {
        unreachable!("built as an object")
    };
    let mut empty = map
        .into_iter()
        .filter(|(_, value)| value.is_null() || value.as_array().is_some_and(Vec::is_empty))
        .peekable();
    let kept_empty = match empty.peek() {
        None => BTreeMap::new(),
        Some(_) => {
            let written = entity.to_map();
            empty
                .filter(|(key, _)| !written.contains_key(key))
                .collect()
        }
    };
    Ok(Node {
        entity,
        sentinel_id: raw.sentinel_id,
        tag: raw.tag,
        home: raw.home,
        kept_empty,
    })
}

/// Finds which property made typing fail: serde's message does not say.
fn property_error(
    kind: Kind,
    properties: &Value,
    place: &str,
    error: serde_json::Error,
) -> EntityError {
    let links = kind.links();
    for (key, value) in properties.as_object().into_iter().flatten() {
        let single = Value::Object(Map::from_iter([(key.clone(), value.clone())]));
        if let Err(error) = Entity::from_map(kind, &single, None) {
            let message = if links.iter().any(|(name, _)| name == key) {
                format!(
                    "expected an entity object or a {{\"$ref\": \"<id>\"}} reference, found {}",
                    json_type(value)
                )
            } else {
                error.to_string()
            };
            return EntityError::InvalidProperty {
                entity: place.to_string(),
                property: key.clone(),
                message,
            };
        }
    }
    EntityError::InvalidProperty {
        entity: place.to_string(),
        property: String::new(),
        message: error.to_string(),
    }
}
