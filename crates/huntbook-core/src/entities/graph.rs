//! The arena that holds entities and the links between them.

use std::collections::BTreeMap;
use std::ops::Index;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{Entity, Kind};

/// An entity's place in its [`EntityGraph`]. Only meaningful in the graph it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(pub(crate) usize);

impl EntityId {
    pub fn index(self) -> usize {
        self.0
    }
}

/// How a link looks in an entity's JSON while it is in memory: `{"$ref": 3}` with
/// the arena index as a number. Sentinel's `$ref`s are strings, so the two never
/// mix; [`EntityGraph::to_json`] writes Sentinel's form back.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Placeholder {
    #[serde(rename = "$ref")]
    index: usize,
}

impl Serialize for EntityId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Placeholder { index: self.0 }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for EntityId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EntityId, D::Error> {
        Placeholder::deserialize(deserializer).map(|p| EntityId(p.index))
    }
}

/// The link a value stands for, if it is one (`{"$ref": <number>}`).
pub(crate) fn placeholder(value: &Value) -> Option<EntityId> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let index = map.get("$ref")?.as_u64()?;
    usize::try_from(index).ok().map(EntityId)
}

pub(crate) fn placeholder_value(id: EntityId) -> Value {
    serde_json::json!({ "$ref": id.0 })
}

impl Entity {
    /// The entities this one links to, each with the property that holds the link
    /// (`ImageFile`, `ParentProcess`, `Host`, `FileHashes`...), in property order; a
    /// list gives one pair per entity in it.
    pub fn links(&self) -> Vec<(String, EntityId)> {
        fn collect(value: &Value, key: &str, out: &mut Vec<(String, EntityId)>) {
            if let Some(id) = placeholder(value) {
                out.push((key.to_string(), id));
                return;
            }
            match value {
                Value::Array(items) => items.iter().for_each(|item| collect(item, key, out)),
                Value::Object(map) => map.values().for_each(|item| collect(item, key, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (key, value) in self.to_map() {
            collect(&value, &key, &mut out);
        }
        out
    }
}

/// Rewrites every link inside `value` through `to`.
pub(crate) fn remap_links(value: &mut Value, to: &impl Fn(EntityId) -> EntityId) {
    if let Some(id) = placeholder(value) {
        *value = placeholder_value(to(id));
        return;
    }
    match value {
        Value::Array(items) => items.iter_mut().for_each(|item| remap_links(item, to)),
        Value::Object(map) => map.values_mut().for_each(|item| remap_links(item, to)),
        _ => {}
    }
}

/// Where an entity's full JSON goes when the graph is written: where it was read,
/// so that writing gives back what came in, with `$ref`s everywhere else.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Home {
    /// In the top-level array.
    Root,
    /// Inside another entity, at a JSON path such as `/ImageFile` or `/FileHashes/0`.
    Inside { owner: EntityId, path: String },
    /// At its first mention (entities added by code, or whose home was merged away).
    FirstMention,
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) entity: Entity,
    /// The `$id` it was read with, kept so that written ids match the input.
    pub(crate) sentinel_id: Option<String>,
    /// The `Type` as spelled in the input (`None`: there was none, as for an
    /// `IpAddress.Location`).
    pub(crate) tag: Option<String>,
    pub(crate) home: Home,
    /// Properties read as `null` or `[]`, which the typed model drops; written back
    /// unless the entity has since gained a value for them.
    pub(crate) kept_empty: BTreeMap<String, Value>,
}

impl Node {
    fn new(entity: Entity, home: Home) -> Node {
        let tag = match &entity {
            Entity::Unknown(unknown) => unknown.type_name.clone(),
            known => Some(known.kind().tag().to_string()),
        };
        Node {
            entity,
            sentinel_id: None,
            tag,
            home,
            kept_empty: BTreeMap::new(),
        }
    }
}

/// Entities and their links: an arena indexed by [`EntityId`], plus the order of the
/// top-level `Entities` array.
///
/// Links (`Process.ParentProcess`, `File.FileHashes`, `$ref`s anywhere in an entity)
/// are `EntityId`s, so shared and even cyclic references need no `Rc`.
#[derive(Debug, Clone, Default)]
pub struct EntityGraph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) roots: Vec<EntityId>,
}

impl EntityGraph {
    pub fn new() -> EntityGraph {
        EntityGraph::default()
    }

    /// Adds `entity` to the top-level list.
    pub fn add(&mut self, entity: impl Into<Entity>) -> EntityId {
        let id = self.push(Node::new(entity.into(), Home::Root));
        self.roots.push(id);
        id
    }

    /// Adds `entity` without listing it at the top level: for an entity that is only
    /// reached through a link, such as a process's image file.
    pub fn insert(&mut self, entity: impl Into<Entity>) -> EntityId {
        self.push(Node::new(entity.into(), Home::FirstMention))
    }

    pub(crate) fn push(&mut self, node: Node) -> EntityId {
        self.nodes.push(node);
        EntityId(self.nodes.len() - 1)
    }

    pub fn get(&self, id: EntityId) -> Option<&Entity> {
        self.nodes.get(id.0).map(|node| &node.entity)
    }

    pub fn get_mut(&mut self, id: EntityId) -> Option<&mut Entity> {
        self.nodes.get_mut(id.0).map(|node| &mut node.entity)
    }

    /// The entities of the top-level array, in order.
    pub fn roots(&self) -> &[EntityId] {
        &self.roots
    }

    /// Every entity, top-level or nested, in the order they were read or added.
    pub fn iter(&self) -> impl Iterator<Item = (EntityId, &Entity)> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(index, node)| (EntityId(index), &node.entity))
    }

    /// The entities of one kind, named by a `Type` string or alias (`"ip"`,
    /// `"ipaddress"`, `"account"`); for unknown kinds, by their exact `Type`.
    pub fn of_kind(&self, tag: &str) -> impl Iterator<Item = (EntityId, &Entity)> {
        let kind = Kind::from_tag(tag);
        let tag = tag.to_string();
        self.nodes
            .iter()
            .enumerate()
            .filter(move |(_, node)| match &node.entity {
                Entity::Unknown(unknown) => {
                    kind == Kind::Unknown
                        && unknown
                            .type_name
                            .as_deref()
                            .is_some_and(|name| name.eq_ignore_ascii_case(&tag))
                }
                known => known.kind() == kind,
            })
            .map(|(index, node)| (EntityId(index), &node.entity))
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The `$id` the entity was read with.
    pub fn sentinel_id(&self, id: EntityId) -> Option<&str> {
        self.nodes.get(id.0)?.sentinel_id.as_deref()
    }

    /// The entity read with `"$id": sentinel_id`.
    pub fn by_sentinel_id(&self, sentinel_id: &str) -> Option<EntityId> {
        self.nodes
            .iter()
            .position(|node| node.sentinel_id.as_deref() == Some(sentinel_id))
            .map(EntityId)
    }

    /// Moves every entity of `other` into this graph, after this graph's own: for
    /// collecting the entities of several alerts before [`dedupe`](Self::dedupe).
    /// Returns where `other`'s entities now are, in `other`'s order; `$id`s that
    /// clash with this graph's are renumbered.
    pub fn extend(&mut self, other: EntityGraph) -> Vec<EntityId> {
        let offset = self.nodes.len();
        let shift = |id: EntityId| EntityId(id.0 + offset);
        let mut used: std::collections::HashSet<String> = self
            .nodes
            .iter()
            .filter_map(|node| node.sentinel_id.clone())
            .collect();
        let mut next = next_free_id(self.nodes.iter().chain(&other.nodes));
        let mut moved = Vec::with_capacity(other.nodes.len());
        for mut node in other.nodes {
            node.entity = relink(&node.entity, &shift);
            if let Home::Inside { owner, .. } = &mut node.home {
                *owner = shift(*owner);
            }
            if let Some(id) = &node.sentinel_id {
                if !used.insert(id.clone()) {
                    node.sentinel_id = Some(next.to_string());
                    used.insert(next.to_string());
                    next += 1;
                }
            }
            moved.push(self.push(node));
        }
        self.roots.extend(other.roots.into_iter().map(shift));
        moved
    }

    /// Keeps only the entities `keep` says, rewriting links and the top-level list;
    /// `forward` maps every entity (kept or not) to the one that stands for it.
    /// Returns where each entity (kept or not) now is.
    pub(crate) fn compact(&mut self, forward: &[EntityId], keep: &[bool]) -> Vec<EntityId> {
        let mut new_index = vec![EntityId(usize::MAX); self.nodes.len()];
        let mut next = 0;
        for (index, kept) in keep.iter().enumerate() {
            if *kept {
                new_index[index] = EntityId(next);
                next += 1;
            }
        }
        // Ids from another graph are not this graph's to rewrite.
        let to = |id: EntityId| forward.get(id.0).map_or(id, |kept| new_index[kept.0]);
        let nodes = std::mem::take(&mut self.nodes);
        for (index, mut node) in nodes.into_iter().enumerate() {
            if !keep[index] {
                continue;
            }
            node.entity = relink(&node.entity, &to);
            if let Home::Inside { owner, .. } = &mut node.home {
                *owner = to(*owner);
            }
            self.nodes.push(node);
        }
        let mut seen = std::collections::HashSet::new();
        self.roots = std::mem::take(&mut self.roots)
            .into_iter()
            .map(to)
            .filter(|id| seen.insert(*id))
            .collect();
        forward.iter().map(|kept| new_index[kept.0]).collect()
    }
}

impl Index<EntityId> for EntityGraph {
    type Output = Entity;

    /// Panics if `id` is not from this graph.
    fn index(&self, id: EntityId) -> &Entity {
        &self.nodes[id.0].entity
    }
}

/// `entity` with each link rewritten through `to`.
fn relink(entity: &Entity, to: &impl Fn(EntityId) -> EntityId) -> Entity {
    let mut properties = Value::Object(entity.to_map());
    remap_links(&mut properties, to);
    let type_name = match entity {
        Entity::Unknown(unknown) => unknown.type_name.clone(),
        _ => None,
    };
    // The map came from an entity of this kind and only link numbers changed.
    Entity::from_map(entity.kind(), &properties, type_name).expect("a relinked entity reads back")
}

/// A numeric `$id` above every numeric one in use, for entities that need an id.
pub(crate) fn next_free_id<'a>(nodes: impl Iterator<Item = &'a Node>) -> u64 {
    nodes
        .filter_map(|node| node.sentinel_id.as_deref()?.parse::<u64>().ok())
        .max()
        .map_or(1, |max| max + 1)
}

/// The JSON pointer of `key` inside the value at `path` (`/FileHashes` + `0`).
pub(crate) fn child_path(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}
