//! What the fake holds: incidents, comments, bookmarks, watchlists and their items,
//! checked on the way in against the documented request bodies and completed with
//! the fields the service sets (ids, etags, times, incident numbers).

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::{arm_error, odata, RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME};

const SEVERITIES: [&str; 4] = ["High", "Medium", "Low", "Informational"];
const STATUSES: [&str; 3] = ["New", "Active", "Closed"];
const CLASSIFICATIONS: [&str; 4] = [
    "Undetermined",
    "TruePositive",
    "BenignPositive",
    "FalsePositive",
];
const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Incident,
    Comment,
    Bookmark,
    Watchlist,
    WatchlistItem,
}

impl Kind {
    pub(crate) fn from_segment(segment: &str) -> Option<Kind> {
        [
            Kind::Incident,
            Kind::Comment,
            Kind::Bookmark,
            Kind::Watchlist,
            Kind::WatchlistItem,
        ]
        .into_iter()
        .find(|k| k.segment() == segment)
    }

    fn segment(self) -> &'static str {
        match self {
            Kind::Incident => "incidents",
            Kind::Comment => "comments",
            Kind::Bookmark => "bookmarks",
            Kind::Watchlist => "watchlists",
            Kind::WatchlistItem => "watchlistItems",
        }
    }

    /// The kind this one lives under, if any.
    pub(crate) fn parent(self) -> Option<Kind> {
        match self {
            Kind::Comment => Some(Kind::Incident),
            Kind::WatchlistItem => Some(Kind::Watchlist),
            _ => None,
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Incident => "Incident",
            Kind::Comment => "Comment",
            Kind::Bookmark => "Bookmark",
            Kind::Watchlist => "Watchlist",
            Kind::WatchlistItem => "Watchlist item",
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Kind::Incident => "Microsoft.SecurityInsights/Incidents",
            Kind::Comment => "Microsoft.SecurityInsights/Incidents/Comments",
            Kind::Bookmark => "Microsoft.SecurityInsights/Bookmarks",
            Kind::Watchlist => "Microsoft.SecurityInsights/Watchlists",
            Kind::WatchlistItem => "Microsoft.SecurityInsights/Watchlists/WatchlistItems",
        }
    }
}

struct Stored {
    kind: Kind,
    parent: Option<String>,
    id: String,
    item: Value,
}

pub(crate) struct Store {
    pub(crate) page_size: usize,
    items: Vec<Stored>,
    pub(crate) alerts: HashMap<String, Vec<Value>>,
    pub(crate) entities: HashMap<String, Vec<Value>>,
    next_number: i64,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn new_etag() -> String {
    format!("\"{}\"", uuid::Uuid::new_v4())
}

fn bad_request(message: &str) -> Response {
    arm_error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

fn required_text(properties: &Map<String, Value>, field: &str) -> Result<String, Response> {
    match properties.get(field) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        Some(Value::String(_)) => Err(bad_request(&format!(
            "The '{field}' property must not be empty. Path 'properties.{field}'."
        ))),
        Some(other) => Err(bad_request(&format!(
            "Error converting value {other} to type 'String'. Path 'properties.{field}'."
        ))),
        None => Err(bad_request(&format!(
            "Required property '{field}' not found in JSON. Path 'properties'."
        ))),
    }
}

fn one_of(
    properties: &Map<String, Value>,
    field: &str,
    type_name: &str,
    allowed: &[&str],
    required: bool,
) -> Result<(), Response> {
    match properties.get(field) {
        None | Some(Value::Null) if !required => Ok(()),
        Some(Value::String(value)) if allowed.contains(&value.as_str()) => Ok(()),
        Some(value) => Err(bad_request(&format!(
            "Error converting value {value} to type '{type_name}'. Path 'properties.{field}'."
        ))),
        None => Err(bad_request(&format!(
            "Required property '{field}' not found in JSON. Path 'properties'."
        ))),
    }
}

impl Store {
    pub(crate) fn new(page_size: usize) -> Store {
        Store {
            page_size,
            items: Vec::new(),
            alerts: HashMap::new(),
            entities: HashMap::new(),
            next_number: 1,
        }
    }

    fn position(&self, kind: Kind, parent: Option<&str>, id: &str) -> Option<usize> {
        self.items.iter().position(|s| {
            s.kind == kind && s.parent.as_deref() == parent && s.id.eq_ignore_ascii_case(id)
        })
    }

    pub(crate) fn get(&self, kind: Kind, parent: Option<&str>, id: &str) -> Option<&Value> {
        self.position(kind, parent, id).map(|i| &self.items[i].item)
    }

    pub(crate) fn all(&self, kind: Kind, parent: Option<&str>) -> Vec<Value> {
        self.items
            .iter()
            .filter(|s| s.kind == kind && s.parent.as_deref() == parent)
            .map(|s| s.item.clone())
            .collect()
    }

    /// Deletes an object and what lives under it; whether it was there.
    pub(crate) fn delete(&mut self, kind: Kind, id: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|s| {
            let is_it = s.kind == kind && s.id.eq_ignore_ascii_case(id);
            let under_it = s.kind.parent() == Some(kind)
                && s.parent
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(id));
            !(is_it || under_it)
        });
        self.items.len() != before
    }

    pub(crate) fn touch(&mut self, incident_id: &str) {
        if let Some(i) = self.position(Kind::Incident, None, incident_id) {
            let item = &mut self.items[i].item;
            item["etag"] = json!(new_etag());
            item["properties"]["lastModifiedTimeUtc"] = json!(now());
        }
    }

    pub(crate) fn filtered_incidents(
        &self,
        query: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let mut incidents = self.all(Kind::Incident, None);
        if let Some(filter) = huntbook_http::testkit::query_value(query, "$filter") {
            let clauses = odata::parse_filter(filter)?;
            incidents.retain(|i| odata::matches(i, &clauses));
        }
        if let Some(orderby) = huntbook_http::testkit::query_value(query, "$orderby") {
            let (path, descending) = odata::parse_orderby(orderby)?;
            incidents.sort_by(|a, b| {
                let order = odata::order(a, b, &path);
                if descending {
                    order.reverse()
                } else {
                    order
                }
            });
        }
        Ok(incidents)
    }

    /// The answer of "Incidents - List Entities": the entities and a count per kind.
    pub(crate) fn entities_answer(&self, incident_id: &str) -> Value {
        let entities = self.entities.get(incident_id).cloned().unwrap_or_default();
        let mut counts: Vec<(String, usize)> = Vec::new();
        for kind in entities.iter().filter_map(|e| e["kind"].as_str()) {
            match counts.iter_mut().find(|(k, _)| k == kind) {
                Some((_, n)) => *n += 1,
                None => counts.push((kind.to_string(), 1)),
            }
        }
        let meta: Vec<Value> = counts
            .into_iter()
            .map(|(kind, count)| json!({"entityKind": kind, "count": count}))
            .collect();
        json!({ "entities": entities, "metaData": meta })
    }

    /// A PUT: checks the body, the parent and the etag, and stores the object as the
    /// service would return it. `Ok((created, object))`.
    pub(crate) fn put(
        &mut self,
        kind: Kind,
        parent: Option<&str>,
        id: &str,
        body: Value,
    ) -> Result<(bool, Value), Response> {
        if let (Some(parent_kind), Some(parent_id)) = (kind.parent(), parent) {
            if self.get(parent_kind, None, parent_id).is_none() {
                return Err(arm_error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("{} '{parent_id}' was not found.", parent_kind.noun()),
                ));
            }
        }
        let Some(Value::Object(mut properties)) = body.get("properties").cloned() else {
            return Err(bad_request(
                "Required property 'properties' not found in JSON. Path ''.",
            ));
        };
        let existing = self.position(kind, parent, id);
        if let (Some(sent), Some(i)) = (body.get("etag"), existing) {
            if Some(sent) != self.items[i].item.get("etag") {
                return Err(arm_error(
                    StatusCode::CONFLICT,
                    "Conflict",
                    &format!("{} '{id}' was modified since it was read: the etag sent does not match the current one.", kind.noun()),
                ));
            }
        }
        let old = existing.map(|i| self.items[i].item["properties"].clone());
        let kept = |field: &str| {
            old.as_ref()
                .and_then(|o| o.get(field).cloned())
                .unwrap_or_else(|| json!(now()))
        };
        let stamp = now();
        match kind {
            Kind::Incident => {
                required_text(&properties, "title")?;
                one_of(
                    &properties,
                    "severity",
                    "IncidentSeverity",
                    &SEVERITIES,
                    true,
                )?;
                one_of(&properties, "status", "IncidentStatus", &STATUSES, true)?;
                one_of(
                    &properties,
                    "classification",
                    "IncidentClassification",
                    &CLASSIFICATIONS,
                    false,
                )?;
                if properties["status"] == "Closed" && properties.get("classification").is_none() {
                    return Err(bad_request(
                        "Classification is required when closing an incident. Path 'properties.classification'.",
                    ));
                }
                if let Some(labels) = properties.get("labels") {
                    let ok = labels
                        .as_array()
                        .is_some_and(|labels| labels.iter().all(|l| l["labelName"].is_string()));
                    if !ok {
                        return Err(bad_request(
                            "Each label needs a 'labelName' string. Path 'properties.labels'.",
                        ));
                    }
                } else {
                    properties.insert("labels".into(), json!([]));
                }
                let number = match old.as_ref().and_then(|o| o.get("incidentNumber")) {
                    Some(n) => n.clone(),
                    None => {
                        self.next_number += 1;
                        json!(self.next_number - 1)
                    }
                };
                let comments = self.all(Kind::Comment, Some(id)).len();
                let alerts = self.alerts.get(id).map_or(0, Vec::len);
                properties.insert("incidentNumber".into(), number.clone());
                properties.insert("providerIncidentId".into(), json!(number.to_string()));
                properties.insert("providerName".into(), json!("Azure Sentinel"));
                properties.insert("createdTimeUtc".into(), kept("createdTimeUtc"));
                properties.insert("lastModifiedTimeUtc".into(), json!(stamp));
                properties.insert("relatedAnalyticRuleIds".into(), json!([]));
                properties.insert(
                    "additionalData".into(),
                    json!({"alertsCount": alerts, "bookmarksCount": 0, "commentsCount": comments, "alertProductNames": [], "tactics": []}),
                );
                properties.insert(
                    "incidentUrl".into(),
                    json!(format!("https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident{}", resource_id(kind, parent, id))),
                );
            }
            Kind::Comment => {
                required_text(&properties, "message")?;
                properties.insert("createdTimeUtc".into(), kept("createdTimeUtc"));
                properties.insert("lastModifiedTimeUtc".into(), json!(stamp));
                properties.insert(
                    "author".into(),
                    json!({"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "name": "huntbook-tests", "userPrincipalName": null, "email": null}),
                );
            }
            Kind::Bookmark => {
                required_text(&properties, "displayName")?;
                required_text(&properties, "query")?;
                let by = json!({"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "name": "huntbook-tests"});
                properties.insert("created".into(), kept("created"));
                properties.insert("updated".into(), json!(stamp));
                properties.insert("createdBy".into(), by.clone());
                properties.insert("updatedBy".into(), by);
            }
            Kind::Watchlist => {
                required_text(&properties, "displayName")?;
                required_text(&properties, "provider")?;
                let key = required_text(&properties, "itemsSearchKey")?;
                if let Some(raw) = properties.remove("rawContent") {
                    let Some(csv) = raw.as_str() else {
                        return Err(bad_request(
                            "'rawContent' must be a string. Path 'properties.rawContent'.",
                        ));
                    };
                    if properties.get("contentType").and_then(Value::as_str) != Some("text/csv") {
                        return Err(bad_request("'contentType' must be 'text/csv' when 'rawContent' is given. Path 'properties.contentType'."));
                    }
                    let skip = properties
                        .get("numberOfLinesToSkip")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    let rows = csv_rows(csv, skip as usize, &key)?;
                    // The watchlist is stored first so that its items have a parent.
                    self.delete(Kind::Watchlist, id);
                    self.store(kind, parent, id, &properties);
                    for row in rows {
                        let item_id = uuid::Uuid::new_v4().to_string();
                        let body = json!({"properties": {"itemsKeyValue": row}});
                        self.put(Kind::WatchlistItem, Some(id), &item_id, body)?;
                    }
                    properties.insert("uploadStatus".into(), json!("Complete"));
                }
                properties.insert("watchlistAlias".into(), json!(id));
                properties.insert(
                    "watchlistId".into(),
                    old.as_ref()
                        .and_then(|o| o.get("watchlistId").cloned())
                        .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string())),
                );
                properties.insert("created".into(), kept("created"));
                properties.insert("updated".into(), json!(stamp));
                properties.insert("isDeleted".into(), json!(false));
                properties.insert("tenantId".into(), json!(TENANT_ID));
            }
            Kind::WatchlistItem => {
                if !properties
                    .get("itemsKeyValue")
                    .is_some_and(Value::is_object)
                {
                    return Err(bad_request(
                        "Required property 'itemsKeyValue' not found in JSON or not an object. Path 'properties'.",
                    ));
                }
                properties.insert("watchlistItemId".into(), json!(id));
                properties.insert("watchlistItemType".into(), json!("watchlist-item"));
                properties.insert("created".into(), kept("created"));
                properties.insert("updated".into(), json!(stamp));
                properties.insert("isDeleted".into(), json!(false));
                properties.insert("tenantId".into(), json!(TENANT_ID));
            }
        }
        let created = self.position(kind, parent, id).is_none();
        let item = self.store(kind, parent, id, &properties);
        Ok((created, item))
    }

    /// Stores (or replaces) an object with a new etag.
    fn store(
        &mut self,
        kind: Kind,
        parent: Option<&str>,
        id: &str,
        properties: &Map<String, Value>,
    ) -> Value {
        let item = json!({
            "id": resource_id(kind, parent, id),
            "name": id,
            "etag": new_etag(),
            "type": kind.type_name(),
            "properties": properties,
        });
        match self.position(kind, parent, id) {
            Some(i) => self.items[i].item = item.clone(),
            None => self.items.push(Stored {
                kind,
                parent: parent.map(str::to_string),
                id: id.to_string(),
                item: item.clone(),
            }),
        }
        item
    }
}

fn resource_id(kind: Kind, parent: Option<&str>, id: &str) -> String {
    let under = match (kind.parent(), parent) {
        (Some(parent_kind), Some(parent_id)) => format!("{}/{parent_id}/", parent_kind.segment()),
        _ => String::new(),
    };
    format!(
        "/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.OperationalInsights/workspaces/{WORKSPACE_NAME}/providers/Microsoft.SecurityInsights/{under}{}/{id}",
        kind.segment()
    )
}

/// The rows of a simple CSV upload (no quoted commas), after `skip` lines, as
/// column-to-value objects; the search key must be a column.
fn csv_rows(csv: &str, skip: usize, key: &str) -> Result<Vec<Value>, Response> {
    let mut lines = csv.lines().skip(skip).filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| bad_request("'rawContent' has no header line."))?
        .split(',')
        .map(str::trim)
        .collect();
    if !header.contains(&key) {
        return Err(bad_request(&format!(
            "The itemsSearchKey '{key}' is not a column of 'rawContent'."
        )));
    }
    lines
        .enumerate()
        .map(|(n, line)| {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != header.len() {
                return Err(bad_request(&format!(
                    "Line {} of 'rawContent' has {} values, the header {}.",
                    n + 2 + skip,
                    cells.len(),
                    header.len()
                )));
            }
            Ok(Value::Object(
                header
                    .iter()
                    .zip(cells)
                    .map(|(h, c)| (h.to_string(), json!(c.trim())))
                    .collect(),
            ))
        })
        .collect()
}
