//! Network graphs, as MSTICPy draws them: who talks to whom, and which entities
//! alerts share.
//!
//! * [`network`]: a node per distinct value of a source and a target column (IPs,
//!   hosts, accounts), an edge per pair seen, carrying the number of rows and the
//!   distinct values of the edge columns; nodes carry the distinct values of their
//!   attribute columns (MSTICPy's `plot_nx_graph` of `df_to_networkx`).
//! * [`incident_graph`]: a node per alert (or incident) of a table and per entity in
//!   their Sentinel `Entities` JSON, read with the entity model of huntbook-core:
//!   `$ref`s resolved, the same host or account seen by several alerts merged into
//!   one node that joins them, and links between entities (a process's image file
//!   and host) drawn as edges (MSTICPy's `EntityGraph`).
//!
//! Both are laid out here ([`crate::layout`]) and drawn by `js/network.js`: node
//! size by degree, colour by kind with a legend, labels where there is room,
//! tooltips on nodes and edges, wheel zoom, drag pan and neighbours highlighted on
//! hover.

use std::collections::{HashMap, HashSet};

use arrow_array::RecordBatch;
use huntbook_analysis::columns;
use huntbook_core::entities::{Entity, EntityGraph, EntityId};
use serde_json::{json, Map, Value};

use crate::chart::Chart;
use crate::columns::{coded, Labels};
use crate::layout::force_layout;
use crate::VisError;

const SCRIPT: &str = include_str!("../js/network.js");

/// Named text columns: one value per node or edge.
type TextColumns = Vec<(String, Vec<Option<String>>)>;

/// Distinct values listed in a tooltip before the rest are counted.
const SHOWN_VALUES: usize = 10;

/// How a graph is drawn, for both kinds of graph.
#[derive(Debug, Clone)]
pub struct GraphStyle {
    pub title: Option<String>,
    pub width: u32,
    pub height: u32,
    /// Diameter in pixels of the best-connected node; the others are smaller.
    pub node_size: u32,
    /// Label size in pixels.
    pub font_size: u32,
    /// The layout's seed: another seed, another (equally good) arrangement.
    pub seed: u64,
}

impl Default for GraphStyle {
    fn default() -> Self {
        GraphStyle {
            title: None,
            width: 900,
            height: 700,
            node_size: 25,
            font_size: 10,
            seed: 1,
        }
    }
}

/// What [`network`] draws. MSTICPy's names: `source_col`, `target_col`,
/// `source_attrs`, `target_attrs`, `edge_attrs`, `graph_type` (`directed`).
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    pub source_col: String,
    pub target_col: String,
    /// Columns whose values describe a node where it is the source.
    pub source_attrs: Vec<String>,
    /// Columns whose values describe a node where it is the target.
    pub target_attrs: Vec<String>,
    /// Columns whose values describe an edge.
    pub edge_attrs: Vec<String>,
    /// `a -> b` and `b -> a` are two edges (drawn with arrows), not one.
    pub directed: bool,
    pub style: GraphStyle,
}

impl NetworkOptions {
    pub fn new(source_col: &str, target_col: &str) -> Self {
        NetworkOptions {
            source_col: source_col.into(),
            target_col: target_col.into(),
            source_attrs: Vec::new(),
            target_attrs: Vec::new(),
            edge_attrs: Vec::new(),
            directed: false,
            style: GraphStyle::default(),
        }
    }
}

/// The graph of `source_col` -> `target_col` in `data`: one node per distinct value,
/// one edge per pair with its row count. Rows missing either end are left out.
pub fn network(data: &RecordBatch, options: &NetworkOptions) -> Result<Chart, VisError> {
    let sources = columns::texts(data, &options.source_col)?;
    let targets = columns::texts(data, &options.target_col)?;
    let read = |names: &[String]| -> Result<TextColumns, VisError> {
        names
            .iter()
            .map(|n| Ok((n.clone(), columns::texts(data, n)?)))
            .collect()
    };
    let (source_attrs, target_attrs) = (read(&options.source_attrs)?, read(&options.target_attrs)?);
    let edge_attrs = read(&options.edge_attrs)?;

    // Node attribute columns: the source ones, then target ones not already listed.
    let mut attr_names: Vec<String> = options.source_attrs.clone();
    for name in &options.target_attrs {
        if !attr_names.contains(name) {
            attr_names.push(name.clone());
        }
    }
    let attr_index = |name: &str| attr_names.iter().position(|n| n == name).expect("listed");

    let mut graph = Graph::default();
    let mut roles: Vec<u8> = Vec::new();
    let mut node_values: Vec<Vec<Distinct>> = Vec::new();
    let mut edge_of: HashMap<(usize, usize), usize> = HashMap::new();
    let mut edge_values: Vec<Vec<Distinct>> = Vec::new();
    let mut dropped = 0usize;
    for row in 0..data.num_rows() {
        let (Some(source), Some(target)) = (&sources[row], &targets[row]) else {
            dropped += 1;
            continue;
        };
        let mut ends = [0usize; 2];
        for (end, (name, role, attrs)) in
            [(source, 1u8, &source_attrs), (target, 2u8, &target_attrs)]
                .into_iter()
                .enumerate()
        {
            let node = graph.node(name);
            if node == roles.len() {
                roles.push(0);
                node_values.push((0..attr_names.len()).map(|_| Distinct::default()).collect());
            }
            roles[node] |= role;
            for (column, values) in attrs {
                if let Some(v) = &values[row] {
                    node_values[node][attr_index(column)].add(v);
                }
            }
            ends[end] = node;
        }
        let key = if options.directed || ends[0] <= ends[1] {
            (ends[0], ends[1])
        } else {
            (ends[1], ends[0])
        };
        let edge = *edge_of.entry(key).or_insert_with(|| {
            graph.edges.push(Edge {
                ends: key,
                count: 0,
            });
            edge_values.push((0..edge_attrs.len()).map(|_| Distinct::default()).collect());
            graph.edges.len() - 1
        });
        graph.edges[edge].count += 1;
        for (i, (_, values)) in edge_attrs.iter().enumerate() {
            if let Some(v) = &values[row] {
                edge_values[edge][i].add(v);
            }
        }
    }

    // A node's kind is the column it came from, or both.
    let kinds = [
        options.source_col.clone(),
        options.target_col.clone(),
        format!("{} and {}", options.source_col, options.target_col),
    ];
    graph.kinds = roles.iter().map(|r| u32::from(r - 1)).collect();
    graph.kind_names = kinds.to_vec();
    graph.node_tips = columns_of(&attr_names, &node_values);
    graph.edge_tips = columns_of(&options.edge_attrs, &edge_values);

    let mut spec = graph.spec(&options.style, options.directed);
    spec.insert("mode".into(), "network".into());
    spec.insert("dropped".into(), dropped.into());
    let title = options
        .style
        .title
        .clone()
        .unwrap_or_else(|| format!("{} to {}", options.source_col, options.target_col));
    Ok(Chart::new("network", SCRIPT, title, spec))
}

/// What [`incident_graph`] reads from the alerts (or incidents) table.
#[derive(Debug, Clone)]
pub struct IncidentGraphOptions {
    /// The Sentinel entity JSON of each row.
    pub entities_column: String,
    /// The row's name on the chart; by default the first of `AlertName`,
    /// `DisplayName`, `AlertDisplayName`, `Title`, `title` that the table has.
    pub name_column: Option<String>,
    /// Columns shown when hovering an alert or incident (those of them each table
    /// has); by default every column but the entities and `ExtendedProperties`.
    pub alert_columns: Option<Vec<String>>,
    /// The alerts of the incidents in the table: each incident is linked to the
    /// alerts whose `SystemAlertId` its `AlertIds` (a JSON list) names, and each
    /// alert to its entities. The incidents' own entities, if they have an entities
    /// column, are linked too.
    pub alerts: Option<RecordBatch>,
    pub style: GraphStyle,
}

impl Default for IncidentGraphOptions {
    fn default() -> Self {
        IncidentGraphOptions {
            entities_column: "Entities".into(),
            name_column: None,
            alert_columns: None,
            alerts: None,
            style: GraphStyle::default(),
        }
    }
}

/// Names an alert table has for an alert, in order of preference.
const ALERT_NAMES: [&str; 3] = ["AlertName", "DisplayName", "AlertDisplayName"];
/// Names an incident table has for an incident.
const INCIDENT_NAMES: [&str; 3] = ["Title", "title", "IncidentName"];
/// The column of an incident listing its alerts, and the alerts' id column.
const ALERT_IDS: &str = "AlertIds";
const ALERT_ID: &str = "SystemAlertId";

/// The graph of the alerts (or incidents) in `data` and their entities: an edge
/// from each alert to each of its entities, and from an entity to the entities it
/// refers to. Equivalent entities of different alerts are one node.
pub fn incident_graph(
    data: &RecordBatch,
    options: &IncidentGraphOptions,
) -> Result<Chart, VisError> {
    let shown = options.alert_columns.as_deref();
    let entities_column = options.entities_column.as_str();
    let mut tables = vec![Rows::read(
        data,
        options.name_column.as_deref(),
        (entities_column, options.alerts.is_none()),
        shown,
        options.alerts.as_ref().map(|_| "Incident"),
    )?];
    if let Some(alerts) = &options.alerts {
        let mut rows = Rows::read(alerts, None, (entities_column, true), shown, Some("Alert"))
            .map_err(|e| VisError::Invalid(format!("alerts: {e}")))?;
        rows.which = "alerts: ";
        tables.push(rows);
    }

    // Every row's entities in one graph, so that equivalent ones can be merged.
    let mut entities = EntityGraph::new();
    let mut row_roots: Vec<Vec<EntityId>> = Vec::new();
    for table in &tables {
        for (row, text) in table.entities.iter().enumerate() {
            let text = text.as_deref().map(str::trim).unwrap_or("");
            if text.is_empty() || text == "null" {
                row_roots.push(Vec::new());
                continue;
            }
            let parsed = EntityGraph::parse(text).map_err(|e| {
                VisError::Invalid(format!(
                    "{}column '{entities_column}', row {row}: {e}; the column should hold a JSON array of Sentinel entities",
                    table.which
                ))
            })?;
            let roots: Vec<usize> = parsed.roots().iter().map(|id| id.index()).collect();
            let moved = entities.extend(parsed);
            row_roots.push(roots.into_iter().map(|i| moved[i]).collect());
        }
    }
    let moved = entities.dedupe_mapped();

    let mut graph = Graph::default();
    let mut kind_names = Labels::default();
    let mut tips: Vec<HashMap<String, String>> = Vec::new();
    for table in &tables {
        let code = kind_names.code(table.kind);
        // Rows are nodes of their own even when two share a name.
        graph.labels.extend(table.names.iter().cloned());
        graph
            .kinds
            .extend(std::iter::repeat_n(code, table.names.len()));
        tips.extend(table.tips.iter().cloned());
    }
    let first_entity = graph.labels.len();
    for (_, entity) in entities.iter() {
        graph.labels.push(entity.description(&entities));
        graph.kinds.push(kind_names.code(&kind_name(entity)));
        tips.push(entity.to_flat(&entities).into_iter().collect());
    }
    let mut relations: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut link = |graph: &mut Graph, a: usize, b: usize, relation: &str| {
        if a != b && seen.insert((a.min(b), a.max(b))) {
            graph.edges.push(Edge {
                ends: (a, b),
                count: 1,
            });
            relations.push(relation.to_string());
        }
    };
    if let Some(alerts) = &options.alerts {
        let first_alert = tables[0].names.len();
        for (incident, alert) in incident_alerts(data, alerts)? {
            link(&mut graph, incident, first_alert + alert, "has alert");
        }
    }
    for (row, roots) in row_roots.iter().enumerate() {
        for root in roots {
            let entity = first_entity + moved[root.index()].index();
            link(&mut graph, row, entity, "has entity");
        }
    }
    for (id, entity) in entities.iter() {
        for (property, target) in entity.links() {
            let (a, b) = (first_entity + id.index(), first_entity + target.index());
            link(&mut graph, a, b, &property);
        }
    }

    let title = options
        .style
        .title
        .clone()
        .unwrap_or_else(|| format!("{} entity graph", tables[0].kind));
    graph.kind_names = kind_names.into_values();
    graph.node_tips = tip_columns(&tips);
    graph.edge_tips = vec![(
        "Relation".to_string(),
        relations.into_iter().map(Some).collect(),
    )];
    let mut spec = graph.spec(&options.style, false);
    spec.insert("mode".into(), "entities".into());
    Ok(Chart::new("network", SCRIPT, title, spec))
}

/// The rows of one table as nodes of an incident graph.
struct Rows {
    /// `Alert` or `Incident`.
    kind: &'static str,
    /// Where an error is (`""` for the main table, `"alerts: "` for the alerts).
    which: &'static str,
    names: Vec<String>,
    tips: Vec<HashMap<String, String>>,
    /// Each row's entity JSON (none when the table has no entities column and
    /// need not have one).
    entities: Vec<Option<String>>,
}

impl Rows {
    /// Reads `data`'s rows: their names (`name_column`, or the first usual name
    /// column the table has), kind (`kind`, or told by the name column), tooltip
    /// columns (`shown`, or all but the entities and `ExtendedProperties`) and
    /// entities (the column is an error to miss when `required`).
    fn read(
        data: &RecordBatch,
        name_column: Option<&str>,
        (entities_column, required): (&str, bool),
        shown: Option<&[String]>,
        kind: Option<&'static str>,
    ) -> Result<Rows, VisError> {
        let has = |name: &str| data.column_by_name(name).is_some();
        let name_column = match name_column {
            Some(name) => Some(name),
            None => ALERT_NAMES
                .iter()
                .chain(&INCIDENT_NAMES)
                .copied()
                .find(|n| has(n)),
        };
        // Incident tables name rows by title and number them; alert tables do not.
        let kind = kind.unwrap_or(match name_column {
            Some(n) if INCIDENT_NAMES.contains(&n) => "Incident",
            _ if has("IncidentNumber") && !ALERT_NAMES.iter().any(|n| has(n)) => "Incident",
            _ => "Alert",
        });
        let entities = if required || has(entities_column) {
            columns::texts(data, entities_column).map_err(|e| {
                VisError::Invalid(format!(
                    "{e}; incident_graph reads each row's Sentinel entity JSON from it: pass entities_column= with the column that holds it"
                ))
            })?
        } else {
            vec![None; data.num_rows()]
        };
        let names = name_column.map(|n| columns::texts(data, n)).transpose()?;
        let shown: Vec<String> = match shown {
            Some(list) => list.iter().filter(|c| has(c)).cloned().collect(),
            None => data
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|n| n != entities_column && n != "ExtendedProperties")
                .collect(),
        };
        let values = shown
            .iter()
            .map(|n| columns::texts(data, n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Rows {
            kind,
            which: "",
            names: (0..data.num_rows())
                .map(|row| {
                    names
                        .as_ref()
                        .and_then(|n| n[row].clone())
                        .unwrap_or_else(|| format!("{kind} {row}"))
                })
                .collect(),
            tips: (0..data.num_rows())
                .map(|row| {
                    shown
                        .iter()
                        .zip(&values)
                        .filter_map(|(n, v)| Some((n.clone(), v[row].clone()?)))
                        .collect()
                })
                .collect(),
            entities,
        })
    }
}

/// The (incident row, alert row) pairs where the incident's `AlertIds` lists the
/// alert's `SystemAlertId`; ids of alerts not in the table are skipped.
fn incident_alerts(
    incidents: &RecordBatch,
    alerts: &RecordBatch,
) -> Result<Vec<(usize, usize)>, VisError> {
    let lists = columns::texts(incidents, ALERT_IDS).map_err(|e| {
        VisError::Invalid(format!(
            "{e}; with alerts, each incident is linked to the alerts its {ALERT_IDS} lists"
        ))
    })?;
    let ids = columns::texts(alerts, ALERT_ID).map_err(|e| {
        VisError::Invalid(format!("alerts: {e}; alerts are found by their {ALERT_ID}"))
    })?;
    let mut row_of: HashMap<&str, usize> = HashMap::new();
    for (row, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            row_of.entry(id.as_str()).or_insert(row);
        }
    }
    let mut pairs = Vec::new();
    for (incident, list) in lists.iter().enumerate() {
        let Some(list) = list.as_deref().map(str::trim).filter(|l| !l.is_empty()) else {
            continue;
        };
        let listed: Vec<String> = serde_json::from_str(list).map_err(|e| {
            VisError::Invalid(format!(
                "column '{ALERT_IDS}', row {incident}: {e}; it should hold a JSON list of alert ids"
            ))
        })?;
        pairs.extend(
            listed
                .iter()
                .filter_map(|id| row_of.get(id.as_str()))
                .map(|&alert| (incident, alert)),
        );
    }
    Ok(pairs)
}

/// The legend name of an entity's kind: the model's type name (`IpAddress`,
/// `Process`), or for types the model does not know, the JSON's own `Type`.
fn kind_name(entity: &Entity) -> String {
    match entity {
        Entity::Unknown(unknown) => unknown
            .type_name
            .clone()
            .unwrap_or_else(|| "Unknown".to_string()),
        // The variant names are the entity type names Sentinel documents.
        known => format!("{:?}", known.kind()),
    }
}

/// Per-node `name -> value` maps as columns: every name seen, in order of first
/// sight, with `None` where a node has no value.
fn tip_columns(tips: &[HashMap<String, String>]) -> TextColumns {
    let mut names: Vec<String> = Vec::new();
    let mut known = HashSet::new();
    for tip in tips {
        let mut keys: Vec<&String> = tip.keys().collect();
        keys.sort();
        for key in keys {
            if known.insert(key.clone()) {
                names.push(key.clone());
            }
        }
    }
    // The entity type first: it says what the rest of the tooltip describes.
    names.sort_by_key(|n| n != "Type");
    names
        .into_iter()
        .map(|name| {
            let values = tips.iter().map(|t| t.get(&name).cloned()).collect();
            (name, values)
        })
        .collect()
}

/// The distinct values of a column seen for one node or edge, in order of first
/// sight; only the first few are kept as text, the rest are counted.
#[derive(Debug, Default)]
struct Distinct {
    seen: HashSet<String>,
    shown: Vec<String>,
}

impl Distinct {
    fn add(&mut self, value: &str) {
        if !self.seen.contains(value) {
            self.seen.insert(value.to_string());
            if self.shown.len() < SHOWN_VALUES {
                self.shown.push(value.to_string());
            }
        }
    }

    /// `a, b, c`, or `a, b, c … (+4 more)`; `None` when no value was seen.
    fn text(&self) -> Option<String> {
        if self.shown.is_empty() {
            return None;
        }
        let more = self.seen.len() - self.shown.len();
        let list = self.shown.join(", ");
        Some(if more > 0 {
            format!("{list} … (+{more} more)")
        } else {
            list
        })
    }
}

/// Columns `names` of per-item distinct values, as tooltip columns.
fn columns_of(names: &[String], values: &[Vec<Distinct>]) -> TextColumns {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.clone(), values.iter().map(|v| v[i].text()).collect()))
        .collect()
}

/// An edge and the rows (or links) it stands for.
#[derive(Debug)]
struct Edge {
    ends: (usize, usize),
    count: u64,
}

/// Nodes and edges ready to lay out and write.
#[derive(Debug, Default)]
struct Graph {
    labels: Vec<String>,
    index: HashMap<String, usize>,
    kinds: Vec<u32>,
    kind_names: Vec<String>,
    node_tips: TextColumns,
    edges: Vec<Edge>,
    edge_tips: TextColumns,
}

impl Graph {
    /// The node named `name`, added if new.
    fn node(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.labels.push(name.to_string());
        self.index.insert(name.to_string(), self.labels.len() - 1);
        self.labels.len() - 1
    }

    /// Lays the graph out and writes the spec `js/network.js` draws.
    fn spec(self, style: &GraphStyle, directed: bool) -> Map<String, Value> {
        let n = self.labels.len();
        let pairs: Vec<(usize, usize)> = self.edges.iter().map(|e| e.ends).collect();
        let positions = force_layout(n, &pairs, style.seed);
        let mut neighbours: Vec<HashSet<usize>> = vec![HashSet::new(); n];
        for &(a, b) in &pairs {
            if a != b {
                neighbours[a].insert(b);
                neighbours[b].insert(a);
            }
        }
        let all: Vec<usize> = (0..n).collect();
        let tips = |columns: &TextColumns, order: &[usize]| -> Value {
            Value::Array(
                columns
                    .iter()
                    .map(|(name, values)| {
                        let mut column = coded(values, order);
                        column["name"] = name.as_str().into();
                        column
                    })
                    .collect(),
            )
        };
        let round = |v: f64| (v * 100.0).round() / 100.0;
        let edge_order: Vec<usize> = (0..self.edges.len()).collect();
        let mut spec = Map::new();
        spec.insert("width".into(), style.width.into());
        spec.insert("height".into(), style.height.into());
        spec.insert("node_size".into(), style.node_size.into());
        spec.insert("font_size".into(), style.font_size.into());
        spec.insert("directed".into(), directed.into());
        spec.insert("kinds".into(), json!(self.kind_names));
        spec.insert(
            "nodes".into(),
            json!({
                "label": self.labels,
                "x": positions.iter().map(|p| round(p[0])).collect::<Vec<_>>(),
                "y": positions.iter().map(|p| round(p[1])).collect::<Vec<_>>(),
                "degree": neighbours.iter().map(HashSet::len).collect::<Vec<_>>(),
                "kind": self.kinds,
                "tips": tips(&self.node_tips, &all),
            }),
        );
        spec.insert(
            "edges".into(),
            json!({
                "s": self.edges.iter().map(|e| e.ends.0).collect::<Vec<_>>(),
                "t": self.edges.iter().map(|e| e.ends.1).collect::<Vec<_>>(),
                "count": self.edges.iter().map(|e| e.count).collect::<Vec<_>>(),
                "tips": tips(&self.edge_tips, &edge_order),
            }),
        );
        spec
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, StringArray};

    use super::*;

    fn flows() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "SourceIP",
                Arc::new(StringArray::from(vec![
                    Some("10.0.0.1"),
                    Some("10.0.0.1"),
                    Some("10.0.0.2"),
                    Some("10.0.0.9"),
                    None,
                    Some("8.8.8.8"),
                ])) as ArrayRef,
            ),
            (
                "DestinationIP",
                Arc::new(StringArray::from(vec![
                    "8.8.8.8", "8.8.8.8", "8.8.8.8", "1.1.1.1", "1.1.1.1", "10.0.0.1",
                ])),
            ),
            (
                "DestinationPort",
                Arc::new(Int64Array::from(vec![53, 443, 53, 53, 53, 5000])),
            ),
            (
                "Device",
                Arc::new(StringArray::from(vec![
                    "ws1", "ws1", "ws2", "ws9", "x", "dns",
                ])),
            ),
        ])
        .unwrap()
    }

    fn options() -> NetworkOptions {
        let mut o = NetworkOptions::new("SourceIP", "DestinationIP");
        o.source_attrs = vec!["Device".into()];
        o.edge_attrs = vec!["DestinationPort".into()];
        o
    }

    fn column<'a>(spec: &'a Value, name: &str) -> &'a Value {
        spec.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn text(column: &Value, i: usize) -> Option<String> {
        let code = column["codes"][i].as_i64().unwrap();
        (code >= 0).then(|| column["dict"][code as usize].as_str().unwrap().to_string())
    }

    #[test]
    fn nodes_are_the_distinct_ends_and_edges_count_rows_per_pair() {
        let chart = network(&flows(), &options()).unwrap();
        let spec = Value::Object(chart.spec().clone());
        assert_eq!(
            spec["nodes"]["label"],
            json!(["10.0.0.1", "8.8.8.8", "10.0.0.2", "10.0.0.9", "1.1.1.1"])
        );
        // Undirected: 8.8.8.8 -> 10.0.0.1 joins 10.0.0.1 -> 8.8.8.8.
        assert_eq!(spec["edges"]["s"], json!([0, 1, 3]));
        assert_eq!(spec["edges"]["t"], json!([1, 2, 4]));
        assert_eq!(spec["edges"]["count"], json!([3, 1, 1]));
        let ports = column(&spec["edges"]["tips"], "DestinationPort");
        assert_eq!(text(ports, 0).as_deref(), Some("53, 443, 5000"));
        assert_eq!(spec["nodes"]["degree"], json!([1, 2, 1, 1, 1]));
        // Kinds: source only, target only, or both.
        assert_eq!(spec["nodes"]["kind"], json!([2, 2, 0, 0, 1]));
        assert_eq!(spec["kinds"][2], "SourceIP and DestinationIP");
        assert_eq!(spec["dropped"], 1);
        let device = column(&spec["nodes"]["tips"], "Device");
        assert_eq!(text(device, 0).as_deref(), Some("ws1"));
        assert_eq!(text(device, 1).as_deref(), Some("dns"));
        assert_eq!(text(device, 4), None, "1.1.1.1 is never a source");
        assert_eq!(chart.title(), "SourceIP to DestinationIP");
    }

    #[test]
    fn directed_graphs_keep_both_directions() {
        let mut o = options();
        o.directed = true;
        let spec = network(&flows(), &o).unwrap().spec().clone();
        assert_eq!(spec["edges"]["count"], json!([2, 1, 1, 1]));
        assert_eq!(spec["directed"], true);
    }

    #[test]
    fn target_attributes_describe_targets_only() {
        let mut o = options();
        o.source_attrs.clear();
        o.target_attrs = vec!["DestinationPort".into()];
        let spec = network(&flows(), &o).unwrap().spec().clone();
        let ports = column(&spec["nodes"]["tips"], "DestinationPort");
        assert_eq!(text(ports, 1).as_deref(), Some("53, 443"));
        assert_eq!(text(ports, 0).as_deref(), Some("5000"));
        assert_eq!(text(ports, 2), None);
    }

    #[test]
    fn many_values_are_listed_then_counted() {
        let mut d = Distinct::default();
        for i in 0..15 {
            d.add(&format!("v{i}"));
            d.add("v0");
        }
        let text = d.text().unwrap();
        assert!(
            text.starts_with("v0, v1,") && text.ends_with("v9 … (+5 more)"),
            "{text}"
        );
        assert_eq!(Distinct::default().text(), None);
    }

    #[test]
    fn positions_are_finite_and_distinct() {
        let spec = network(&flows(), &options()).unwrap().spec().clone();
        let xs = spec["nodes"]["x"].as_array().unwrap();
        let ys = spec["nodes"]["y"].as_array().unwrap();
        let points: HashSet<String> = xs.iter().zip(ys).map(|(x, y)| format!("{x},{y}")).collect();
        assert_eq!(points.len(), 5);
    }

    #[test]
    fn missing_columns_are_named() {
        let mut o = options();
        o.target_col = "DstIP".into();
        let e = network(&flows(), &o).unwrap_err().to_string();
        assert!(e.contains("'DstIP'") && e.contains("DestinationIP"), "{e}");
        let mut o = options();
        o.edge_attrs = vec!["Bytes".into()];
        let e = network(&flows(), &o).unwrap_err().to_string();
        assert!(e.contains("'Bytes'"), "{e}");
    }

    fn alerts(entities: Vec<Option<&str>>) -> RecordBatch {
        let n = entities.len();
        RecordBatch::try_from_iter([
            (
                "AlertName",
                Arc::new(StringArray::from(
                    (0..n).map(|i| format!("alert {i}")).collect::<Vec<_>>(),
                )) as ArrayRef,
            ),
            (
                "AlertSeverity",
                Arc::new(StringArray::from(vec!["High"; n])),
            ),
            ("Entities", Arc::new(StringArray::from(entities))),
        ])
        .unwrap()
    }

    const FIRST: &str = r#"[
        {"$id": "2", "HostName": "ws1", "DnsDomain": "contoso.com", "Type": "host"},
        {"$id": "3", "ProcessId": "42", "CommandLine": "cmd.exe /c whoami",
         "ImageFile": {"$id": "4", "Name": "cmd.exe", "Directory": "C:\\Windows", "Type": "file"},
         "Host": {"$ref": "2"}, "Type": "process"},
        {"$id": "5", "Address": "203.0.113.7", "Type": "ip"}]"#;
    const SECOND: &str = r#"[
        {"$id": "2", "HostName": "WS1", "DnsDomain": "contoso.com", "Type": "host"},
        {"$id": "3", "Name": "alice", "NTDomain": "CONTOSO", "Type": "account"}]"#;

    #[test]
    fn alerts_link_to_their_entities_and_shared_entities_join_them() {
        let data = alerts(vec![Some(FIRST), Some(SECOND), None]);
        let chart = incident_graph(&data, &IncidentGraphOptions::default()).unwrap();
        let spec = Value::Object(chart.spec().clone());
        let labels: Vec<&str> = spec["nodes"]["label"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        // Three alerts; one host for both; the process, its file, the IP, the account.
        assert_eq!(labels.len(), 3 + 5, "{labels:?}");
        assert_eq!(&labels[..3], ["alert 0", "alert 1", "alert 2"]);
        let kinds: Vec<&str> = spec["nodes"]["kind"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                spec["kinds"][k.as_u64().unwrap() as usize]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(kinds.iter().filter(|k| **k == "Host").count(), 1);
        assert_eq!(kinds[0], "Alert");
        for k in ["Process", "File", "IpAddress", "Account"] {
            assert!(kinds.contains(&k), "{k} in {kinds:?}");
        }
        let host = kinds.iter().position(|k| *k == "Host").unwrap();
        let process = kinds.iter().position(|k| *k == "Process").unwrap();
        let file = kinds.iter().position(|k| *k == "File").unwrap();
        let edges: Vec<(usize, usize)> = spec["edges"]["s"]
            .as_array()
            .unwrap()
            .iter()
            .zip(spec["edges"]["t"].as_array().unwrap())
            .map(|(s, t)| (s.as_u64().unwrap() as usize, t.as_u64().unwrap() as usize))
            .collect();
        let relation = column(&spec["edges"]["tips"], "Relation");
        let find = |a: usize, b: usize| edges.iter().position(|&e| e == (a, b) || e == (b, a));
        // The host joins both alerts; the process links to its host and image file.
        assert!(find(0, host).is_some() && find(1, host).is_some());
        assert!(find(2, host).is_none());
        assert_eq!(
            text(relation, find(process, file).unwrap()).as_deref(),
            Some("ImageFile")
        );
        assert_eq!(
            text(relation, find(process, host).unwrap()).as_deref(),
            Some("Host")
        );
        assert_eq!(
            text(relation, find(0, process).unwrap()).as_deref(),
            Some("has entity")
        );
        // Tooltips: the alert's columns, the entity's properties.
        let severity = column(&spec["nodes"]["tips"], "AlertSeverity");
        assert_eq!(text(severity, 0).as_deref(), Some("High"));
        assert_eq!(text(severity, host), None);
        let ty = column(&spec["nodes"]["tips"], "Type");
        assert_eq!(text(ty, host).as_deref(), Some("host"));
        assert_eq!(spec["nodes"]["tips"][0]["name"], "Type");
        assert_eq!(chart.title(), "Alert entity graph");
    }

    #[test]
    fn incident_tables_are_named_as_incidents() {
        let data = RecordBatch::try_from_iter([
            (
                "Title",
                Arc::new(StringArray::from(vec!["Ransomware on ws1"])) as ArrayRef,
            ),
            ("Entities", Arc::new(StringArray::from(vec![SECOND]))),
        ])
        .unwrap();
        let spec = incident_graph(&data, &IncidentGraphOptions::default())
            .unwrap()
            .spec()
            .clone();
        assert_eq!(spec["kinds"][0], "Incident");
        assert_eq!(spec["nodes"]["label"][0], "Ransomware on ws1");
    }

    #[test]
    fn incidents_link_to_their_alerts_and_the_alerts_to_entities() {
        let incidents = RecordBatch::try_from_iter([
            (
                "Title",
                Arc::new(StringArray::from(vec!["Intrusion", "Quiet"])) as ArrayRef,
            ),
            (
                "AlertIds",
                Arc::new(StringArray::from(vec![
                    Some(r#"["a1", "a2", "gone"]"#),
                    None,
                ])),
            ),
        ])
        .unwrap();
        let alerts = RecordBatch::try_from_iter([
            (
                "AlertName",
                Arc::new(StringArray::from(vec!["first", "second"])) as ArrayRef,
            ),
            (
                "SystemAlertId",
                Arc::new(StringArray::from(vec!["a2", "a1"])),
            ),
            ("Entities", Arc::new(StringArray::from(vec![FIRST, SECOND]))),
        ])
        .unwrap();
        let o = IncidentGraphOptions {
            alerts: Some(alerts),
            ..Default::default()
        };
        let chart = incident_graph(&incidents, &o).unwrap();
        let spec = chart.spec();
        assert_eq!(spec["kinds"][0], "Incident");
        assert_eq!(spec["kinds"][1], "Alert");
        assert_eq!(
            spec["nodes"]["label"].as_array().unwrap()[..4],
            [
                json!("Intrusion"),
                json!("Quiet"),
                json!("first"),
                json!("second")
            ]
        );
        // Intrusion has both alerts ("gone" is not in the table); Quiet has none.
        let relation = column(&spec["edges"]["tips"], "Relation");
        let has_alert: Vec<(u64, u64)> = (0..spec["edges"]["s"].as_array().unwrap().len())
            .filter(|&e| text(relation, e).as_deref() == Some("has alert"))
            .map(|e| {
                (
                    spec["edges"]["s"][e].as_u64().unwrap(),
                    spec["edges"]["t"][e].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(has_alert, [(0, 3), (0, 2)]);
        // Both alerts share the host.
        assert_eq!(spec["nodes"]["label"].as_array().unwrap().len(), 4 + 5);
        assert_eq!(chart.title(), "Incident entity graph");

        let mut o = o;
        o.alerts = Some(incidents.clone());
        let e = incident_graph(&incidents, &o).unwrap_err().to_string();
        assert!(e.starts_with("alerts: ") && e.contains("'Entities'"), "{e}");
    }

    #[test]
    fn bad_entity_json_names_the_column_and_row() {
        let data = alerts(vec![Some(FIRST), Some("[{\"$ref\": \"9\"}]")]);
        let e = incident_graph(&data, &IncidentGraphOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("column 'Entities', row 1"), "{e}");
        let o = IncidentGraphOptions {
            entities_column: "Ents".into(),
            ..Default::default()
        };
        let e = incident_graph(&data, &o).unwrap_err().to_string();
        assert!(e.contains("'Ents'") && e.contains("entities_column"), "{e}");
    }
}
