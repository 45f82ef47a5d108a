//! The Microsoft Sentinel entity model: accounts, hosts, IPs, files, processes and
//! the rest, as found in the `Entities` JSON of alerts and incidents.
//!
//! [`EntityGraph::parse`] reads an `Entities` array (the `Entities` column of
//! `SecurityAlert` is this JSON as text) into an arena of [`Entity`] values, one
//! Rust struct per Sentinel `Type` ([`Account`], [`Host`], [`IpAddress`],
//! [`Process`]...; [`Unknown`] keeps the JSON of any other). Sentinel writes each
//! object once with a `"$id"` and refers to it elsewhere with `{"$ref": "<id>"}`;
//! here every reference is resolved to an [`EntityId`], so a process's
//! `ParentProcess`, `ImageFile` and `Host` are indexes into the same graph. A
//! reference to an id that is not there is an error naming the id and the property.
//! [`EntityGraph::from_api_entities`] reads the management API's shape of the same
//! entities (`{"kind": "Process", "properties": {"imageFileEntityId": ...}}`).
//!
//! Properties keep their Sentinel names, and properties the model does not know are
//! kept in each struct's `extra` map, so [`EntityGraph::to_json`] writes back the
//! JSON that was read, `$id`s and `$ref`s included.
//!
//! Two entities are [equivalent](Entity::is_equivalent) when their identifying
//! properties agree (a host by name and domain, an account by name and domain, SID,
//! Entra ID object id or UPN, an IP by address, a file by path or hashes);
//! [`Entity::merge`] fills one from the other and [`EntityGraph::dedupe`] does so
//! across a graph, for example the entities of several alerts gathered with
//! [`EntityGraph::extend`]. [`Entity::description`], [`Entity::to_flat`] and
//! [`Entity::observable`] give the entity for display and for lookups.
//!
//! ```
//! use huntbook_core::entities::{Entity, EntityGraph};
//!
//! let json = r#"[
//!   {"$id": "2", "HostName": "ws1", "DnsDomain": "contoso.com", "Type": "host"},
//!   {"$id": "3", "ProcessId": "4242", "CommandLine": "cmd.exe /c whoami",
//!    "ImageFile": {"$id": "4", "Directory": "C:\\Windows\\System32", "Name": "cmd.exe",
//!                  "Type": "file"},
//!    "Host": {"$ref": "2"}, "Type": "process"},
//!   {"$id": "5", "Address": "203.0.113.7", "Type": "ip"}
//! ]"#;
//! let graph = EntityGraph::parse(json).unwrap();
//!
//! let process = graph.roots()[1];
//! let Entity::Process(p) = &graph[process] else { unreachable!() };
//! assert_eq!(graph[p.host.unwrap()].description(&graph), "ws1.contoso.com");
//! assert_eq!(graph[process].description(&graph), "cmd.exe (4242)");
//!
//! let ips: Vec<_> = graph
//!     .of_kind("ip")
//!     .filter_map(|(_, ip)| ip.observable(&graph))
//!     .collect();
//! assert_eq!(ips, ["203.0.113.7"]);
//!
//! let again: serde_json::Value = serde_json::from_str(json).unwrap();
//! assert_eq!(graph.to_json(), again);
//! ```

mod api;
mod display;
mod error;
mod graph;
mod identity;
mod pivot;
mod read;
mod types;
mod write;

#[cfg(test)]
mod tests;

pub use error::{json_type, EntityError};
pub use graph::{EntityGraph, EntityId};
pub use identity::dedupe;
pub use pivot::{param_anchors, pivot_params};
pub use types::{
    Account, Alert, AzureResource, CloudApplication, Dns, Entity, File, FileHash, GeoLocation,
    Host, HostLogonSession, Incident, IoTDevice, IpAddress, Kind, MailCluster, MailMessage,
    Mailbox, Malware, NetworkConnection, Process, RegistryKey, RegistryValue, SecurityGroup,
    SubmissionMail, Threatintelligence, Unknown, Url,
};
