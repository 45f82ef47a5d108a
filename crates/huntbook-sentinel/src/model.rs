//! The objects of the management API as typed structs that mirror its JSON.
//!
//! Every object is an Azure resource, [`Resource`]: `id` (the full resource id),
//! `name` (the object's own id), `etag`, `type` and `properties`. The properties have
//! one struct per kind ([`IncidentProperties`], [`CommentProperties`]...), with the
//! fields huntbook uses typed and every other field kept in `extra`, so an object
//! read and written back loses nothing the service added.
//!
//! Shapes follow the Microsoft Sentinel REST API reference, api-version 2024-03-01:
//! "Incidents - Create Or Update", "Incident Comments - Create Or Update",
//! "Bookmarks - Create Or Update", "Watchlists - Create Or Update" and
//! "Watchlist Items - Create Or Update".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::SentinelError;

/// An Azure resource of the Sentinel provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource<P> {
    /// The full resource id, `/subscriptions/.../incidents/{name}`.
    #[serde(default)]
    pub id: String,
    /// The object's own id: an incident's GUID, a watchlist's alias.
    #[serde(default)]
    pub name: String,
    /// The version the service last saved; sent back on writes so that a change made
    /// by someone else in between is refused rather than overwritten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub properties: P,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

pub type Incident = Resource<IncidentProperties>;
pub type Comment = Resource<CommentProperties>;
pub type Bookmark = Resource<BookmarkProperties>;
pub type Watchlist = Resource<WatchlistProperties>;
pub type WatchlistItem = Resource<WatchlistItemProperties>;

/// Writes a closed set of API values (severity, status) as the API spells them, and
/// reads them ignoring case, as MSTICPy does (`severity="medium"`).
macro_rules! api_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, $rule:literal, [$($variant:ident),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant)),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = SentinelError;

            fn from_str(text: &str) -> Result<$name, SentinelError> {
                $(if text.eq_ignore_ascii_case(stringify!($variant)) {
                    return Ok($name::$variant);
                })+
                Err(SentinelError::Invalid {
                    what: $what,
                    value: text.to_string(),
                    rule: $rule,
                })
            }
        }
    };
}

api_enum!(
    /// An incident's severity, Sentinel's scale.
    Severity,
    "incident severity",
    "one of High, Medium, Low, Informational",
    [High, Medium, Low, Informational]
);

api_enum!(
    /// Where an incident is in its handling.
    Status,
    "incident status",
    "one of New, Active, Closed",
    [New, Active, Closed]
);

/// The properties of an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentProperties {
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Undetermined`, `TruePositive`, `BenignPositive` or `FalsePositive`; the API
    /// requires one to close an incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification_comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_activity_time_utc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_time_utc: Option<String>,
    /// Set by the service: the number analysts see in the portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time_utc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_time_utc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_url: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The request body fields of "Incidents - Create Or Update"; the others are set by
/// the service and are not sent.
const INCIDENT_WRITABLE: [&str; 11] = [
    "title",
    "severity",
    "status",
    "description",
    "classification",
    "classificationReason",
    "classificationComment",
    "owner",
    "labels",
    "firstActivityTimeUtc",
    "lastActivityTimeUtc",
];

impl IncidentProperties {
    /// A new incident's properties: `New`, with everything else empty.
    pub fn new(title: impl Into<String>, severity: Severity) -> IncidentProperties {
        IncidentProperties {
            title: title.into(),
            severity,
            status: Status::New,
            description: None,
            classification: None,
            classification_reason: None,
            classification_comment: None,
            owner: None,
            labels: Vec::new(),
            first_activity_time_utc: None,
            last_activity_time_utc: None,
            incident_number: None,
            created_time_utc: None,
            last_modified_time_utc: None,
            incident_url: None,
            extra: Map::new(),
        }
    }

    /// Adds labels of type `User`, the type a person or script gives.
    pub fn with_labels<S: Into<String>>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.labels.extend(labels.into_iter().map(Label::user));
        self
    }

    /// Applies changes written as the API's property names (`{"status": "Closed",
    /// "classification": "FalsePositive"}`); a change of the wrong type or to an
    /// unknown severity or status is an error naming it.
    pub fn apply_json(&mut self, changes: &Map<String, Value>) -> Result<(), SentinelError> {
        let Value::Object(mut merged) =
            serde_json::to_value(&*self).expect("incident properties serialise")
        else {
            unreachable!("incident properties serialise as an object")
        };
        for (key, value) in changes {
            merged.insert(key.clone(), value.clone());
        }
        *self = serde_json::from_value(Value::Object(merged)).map_err(|e| {
            SentinelError::BadChange {
                what: "incident",
                problem: e.to_string(),
            }
        })?;
        Ok(())
    }

    /// The body properties of a create or update request.
    pub(crate) fn writable(&self) -> Value {
        let Value::Object(mut all) =
            serde_json::to_value(self).expect("incident properties serialise")
        else {
            unreachable!("incident properties serialise as an object")
        };
        all.retain(|key, _| INCIDENT_WRITABLE.contains(&key.as_str()));
        Value::Object(all)
    }
}

/// Who an incident is assigned to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An incident label; `labelType` is `User` or `AutoAssigned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    pub label_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_type: Option<String>,
}

impl Label {
    pub fn user(name: impl Into<String>) -> Label {
        Label {
            label_name: name.into(),
            label_type: Some("User".into()),
        }
    }
}

/// An incident comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentProperties {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time_utc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A hunting bookmark: a query and (some of) its results, kept for later.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookmarkProperties {
    pub display_name: String,
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BookmarkProperties {
    pub fn new(display_name: impl Into<String>, query: impl Into<String>) -> BookmarkProperties {
        BookmarkProperties {
            display_name: display_name.into(),
            query: query.into(),
            ..BookmarkProperties::default()
        }
    }
}

/// A watchlist: a named table of items, joined with data in queries by
/// `itemsSearchKey`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchlistProperties {
    pub display_name: String,
    pub provider: String,
    pub items_search_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchlist_alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchlist_id: Option<String>,
    /// The items as CSV, uploaded with the watchlist (`contentType: text/csv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_lines_to_skip: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WatchlistProperties {
    pub fn new(
        display_name: impl Into<String>,
        provider: impl Into<String>,
        items_search_key: impl Into<String>,
    ) -> WatchlistProperties {
        WatchlistProperties {
            display_name: display_name.into(),
            provider: provider.into(),
            items_search_key: items_search_key.into(),
            ..WatchlistProperties::default()
        }
    }

    /// Items to upload with the watchlist, as CSV with a header line.
    pub fn with_csv(mut self, csv: impl Into<String>) -> Self {
        self.raw_content = Some(csv.into());
        self.content_type = Some("text/csv".into());
        self
    }
}

/// One row of a watchlist: column name to value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchlistItemProperties {
    pub items_key_value: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchlist_item_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn documented_incident() -> Value {
        json!({
            "id": "/subscriptions/d0cfe6b2-9ac0-4464-9919-dccaee2e48c0/resourceGroups/myRg/providers/Microsoft.OperationalInsights/workspaces/myWorkspace/providers/Microsoft.SecurityInsights/incidents/73e01a99-5cd7-4139-a149-9f2736ff2ab5",
            "name": "73e01a99-5cd7-4139-a149-9f2736ff2ab5",
            "etag": "\"0300bf09-0000-0000-0000-5c37296e0000\"",
            "type": "Microsoft.SecurityInsights/incidents",
            "properties": {
                "title": "My incident",
                "description": "This is a demo incident",
                "severity": "High",
                "status": "Closed",
                "classification": "FalsePositive",
                "classificationReason": "IncorrectAlertLogic",
                "classificationComment": "Not a malicious activity",
                "owner": {"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "email": "john.doe@contoso.com", "assignedTo": "john doe", "userPrincipalName": "john@contoso.com", "ownerType": "User"},
                "labels": [],
                "firstActivityTimeUtc": "2019-01-01T13:00:30Z",
                "lastActivityTimeUtc": "2019-01-01T13:05:30Z",
                "lastModifiedTimeUtc": "2019-01-01T13:15:30Z",
                "createdTimeUtc": "2019-01-01T13:15:30Z",
                "incidentNumber": 3177,
                "additionalData": {"alertsCount": 0, "bookmarksCount": 0, "commentsCount": 3, "alertProductNames": [], "tactics": ["InitialAccess", "Persistence"]},
                "relatedAnalyticRuleIds": [],
                "incidentUrl": "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/subscriptions/d0cfe6b2-9ac0-4464-9919-dccaee2e48c0/resourceGroups/myRg/providers/Microsoft.OperationalInsights/workspaces/myWorkspace/providers/Microsoft.SecurityInsights/Incidents/73e01a99-5cd7-4139-a149-9f2736ff2ab5",
                "providerName": "Azure Sentinel",
                "providerIncidentId": "3177"
            }
        })
    }

    #[test]
    fn an_incident_reads_and_writes_back_unchanged() {
        let json = documented_incident();
        let incident: Incident = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(incident.properties.severity, Severity::High);
        assert_eq!(incident.properties.incident_number, Some(3177));
        assert_eq!(
            incident.properties.owner.as_ref().unwrap().extra["ownerType"],
            "User"
        );
        assert_eq!(incident.properties.extra["providerName"], "Azure Sentinel");
        let mut again = serde_json::to_value(&incident).unwrap();
        // Empty label lists are left out when writing.
        again["properties"]["labels"] = json!([]);
        assert_eq!(again, json);
    }

    #[test]
    fn writes_send_only_the_documented_request_fields() {
        let incident: Incident = serde_json::from_value(documented_incident()).unwrap();
        let body = incident.properties.writable();
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "classification",
                "classificationComment",
                "classificationReason",
                "description",
                "firstActivityTimeUtc",
                "lastActivityTimeUtc",
                "owner",
                "severity",
                "status",
                "title"
            ]
        );
    }

    #[test]
    fn severity_and_status_read_any_case_and_name_bad_values() {
        assert_eq!("medium".parse::<Severity>().unwrap(), Severity::Medium);
        assert_eq!("CLOSED".parse::<Status>().unwrap(), Status::Closed);
        assert_eq!(
            "Critical".parse::<Severity>().unwrap_err().to_string(),
            "incident severity \"Critical\" is not valid: one of High, Medium, Low, Informational"
        );
    }

    #[test]
    fn changes_apply_by_api_name_and_bad_ones_are_refused() {
        let mut props = IncidentProperties::new("Beaconing from ws1", Severity::Low);
        let changes = json!({"status": "Closed", "classification": "FalsePositive", "labels": [{"labelName": "fp"}]});
        props.apply_json(changes.as_object().unwrap()).unwrap();
        assert_eq!(props.status, Status::Closed);
        assert_eq!(props.classification.as_deref(), Some("FalsePositive"));
        assert_eq!(props.labels[0].label_name, "fp");

        let bad = json!({"severity": "Critical"});
        let e = props.apply_json(bad.as_object().unwrap()).unwrap_err();
        assert!(e.to_string().contains("Critical"), "{e}");
        assert_eq!(
            props.status,
            Status::Closed,
            "a refused change leaves the incident as it was"
        );
    }
}
