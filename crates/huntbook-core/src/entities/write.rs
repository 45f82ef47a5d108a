//! Writing an [`EntityGraph`] back as Sentinel `Entities` JSON.
//!
//! Each entity is written in full once, where it was read (top level, or inline in
//! the property it came in), and as `{"$ref": "<id>"}` everywhere else, so a graph
//! read from Sentinel JSON writes back the same JSON. Entities added by code, or
//! whose place was merged away by [`EntityGraph::dedupe`], are written in full at
//! their first mention. An entity gets a `$id` if it was read with one or is
//! mentioned more than once.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::graph::{child_path, next_free_id, placeholder, EntityGraph, Home};
use super::{Entity, EntityId};

impl EntityGraph {
    /// The graph as a Sentinel `Entities` array.
    pub fn to_json(&self) -> Value {
        self.to_json_of(&self.roots)
    }

    /// Some of the graph's entities as a Sentinel `Entities` array, with the entities
    /// they link to: the entities of one alert after several were gathered and
    /// deduplicated, or `&[id]` for one entity. Ids not of this graph are skipped.
    pub fn to_json_of(&self, ids: &[EntityId]) -> Value {
        let ids: Vec<EntityId> = ids
            .iter()
            .copied()
            .filter(|id| id.0 < self.nodes.len())
            .collect();
        Writer::new(self, &ids).write()
    }

    /// Entities with the entities they link to written inline, at every mention,
    /// as a program walking them wants them (no `$id`s or `$ref`s to resolve). Each
    /// object has `Type` (its kind's Sentinel tag, or the type as read for an unknown
    /// kind) and `"$kind"`, its [`Kind::name`](super::Kind::name). A link back to an
    /// entity already being written (a cycle) is that entity's description.
    pub fn to_nested_of(&self, ids: &[EntityId]) -> Value {
        let mut open = Vec::new();
        Value::Array(
            ids.iter()
                .filter(|id| id.0 < self.nodes.len())
                .map(|id| self.nested(*id, &mut open))
                .collect(),
        )
    }

    fn nested(&self, id: EntityId, open: &mut Vec<EntityId>) -> Value {
        let entity = &self[id];
        open.push(id);
        let mut map = Map::new();
        map.insert("$kind".into(), Value::from(entity.kind().name()));
        let tag = match entity {
            Entity::Unknown(unknown) => unknown.type_name.clone(),
            known => Some(known.kind().tag().to_string()),
        };
        if let Some(tag) = tag {
            map.insert("Type".into(), Value::String(tag));
        }
        for (key, mut value) in entity.to_map() {
            self.expand(&mut value, open);
            map.insert(key, value);
        }
        open.pop();
        Value::Object(map)
    }

    fn expand(&self, value: &mut Value, open: &mut Vec<EntityId>) {
        if let Some(target) = placeholder(value) {
            *value = match self.get(target) {
                Some(linked) if open.contains(&target) => Value::String(linked.description(self)),
                Some(_) => self.nested(target, open),
                None => Value::Null,
            };
            return;
        }
        match value {
            Value::Array(items) => items.iter_mut().for_each(|item| self.expand(item, open)),
            Value::Object(map) => map.values_mut().for_each(|item| self.expand(item, open)),
            _ => {}
        }
    }

    /// The graph as the text of a Sentinel `Entities` column.
    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum At<'p> {
    Root,
    Inside(EntityId, &'p str),
}

struct Writer<'g> {
    graph: &'g EntityGraph,
    roots: &'g [EntityId],
    properties: Vec<Map<String, Value>>,
    ids: Vec<Option<String>>,
    /// Whether the entity's recorded home is still a place where it is mentioned.
    home_stands: Vec<bool>,
    written: Vec<bool>,
}

impl<'g> Writer<'g> {
    fn new(graph: &'g EntityGraph, roots: &'g [EntityId]) -> Writer<'g> {
        let count = graph.nodes.len();
        let properties: Vec<_> = graph.nodes.iter().map(|n| n.entity.to_map()).collect();

        // Count mentions of each entity reachable from the top level, and note where.
        let mut mentions = vec![0usize; count];
        let mut places = HashSet::new();
        let mut reached = vec![false; count];
        let mut pending = roots.to_vec();
        for root in roots {
            mentions[root.0] += 1;
        }
        while let Some(id) = pending.pop() {
            if std::mem::replace(&mut reached[id.0], true) {
                continue;
            }
            for (key, value) in &properties[id.0] {
                for_each_link(value, &child_path("", key), &mut |path, target| {
                    if target.0 >= count {
                        return;
                    }
                    mentions[target.0] += 1;
                    places.insert((id, path.to_string(), target));
                    pending.push(target);
                });
            }
        }

        let listed: HashSet<EntityId> = roots.iter().copied().collect();
        let home_stands = graph
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| match &node.home {
                Home::Root => listed.contains(&EntityId(index)),
                Home::Inside { owner, path } => {
                    reached[owner.0] && places.contains(&(*owner, path.clone(), EntityId(index)))
                }
                Home::FirstMention => false,
            })
            .collect();

        let mut next = next_free_id(graph.nodes.iter());
        let ids = graph
            .nodes
            .iter()
            .zip(&mentions)
            .map(|(node, mentions)| match &node.sentinel_id {
                Some(id) => Some(id.clone()),
                None if *mentions > 1 => {
                    next += 1;
                    Some((next - 1).to_string())
                }
                None => None,
            })
            .collect();

        Writer {
            graph,
            roots,
            properties,
            ids,
            home_stands,
            written: vec![false; count],
        }
    }

    fn write(mut self) -> Value {
        let roots = self.roots;
        Value::Array(roots.iter().map(|id| self.emit(*id, At::Root)).collect())
    }

    /// The entity in full if this is its place, else a reference to it.
    fn emit(&mut self, id: EntityId, at: At<'_>) -> Value {
        let node = &self.graph.nodes[id.0];
        let is_home = match (&node.home, at) {
            (Home::Root, At::Root) => true,
            (Home::Inside { owner, path }, At::Inside(here, here_path)) => {
                *owner == here && path == here_path
            }
            _ => false,
        };
        let elsewhere = self.written[id.0] || (self.home_stands[id.0] && !is_home);
        if let (true, Some(sentinel_id)) = (elsewhere, &self.ids[id.0]) {
            return serde_json::json!({ "$ref": sentinel_id });
        }
        self.written[id.0] = true;

        let mut properties = self.properties[id.0].clone();
        for (key, value) in properties.iter_mut() {
            self.expand(value, id, &child_path("", key));
        }
        for (key, value) in &node.kept_empty {
            properties
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        if let Some(sentinel_id) = &self.ids[id.0] {
            properties.insert("$id".into(), Value::String(sentinel_id.clone()));
        }
        if let Some(tag) = &node.tag {
            properties.insert("Type".into(), Value::String(tag.clone()));
        }
        Value::Object(properties)
    }

    fn expand(&mut self, value: &mut Value, owner: EntityId, path: &str) {
        // A link to an id from another graph is left as it is: there is nothing to
        // write in its place.
        if let Some(target) = placeholder(value) {
            if target.0 < self.graph.nodes.len() {
                *value = self.emit(target, At::Inside(owner, path));
            }
            return;
        }
        match value {
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    self.expand(item, owner, &child_path(path, &index.to_string()));
                }
            }
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    self.expand(item, owner, &child_path(path, key));
                }
            }
            _ => {}
        }
    }
}

/// Calls `found(path, target)` for each link inside `value`.
fn for_each_link(value: &Value, path: &str, found: &mut impl FnMut(&str, EntityId)) {
    if let Some(target) = placeholder(value) {
        found(path, target);
        return;
    }
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                for_each_link(item, &child_path(path, &index.to_string()), found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                for_each_link(item, &child_path(path, key), found);
            }
        }
        _ => {}
    }
}
