//! Entities as HTML cards: what a notebook shows for an IP, a host or an alert's
//! entities.
//!
//! A card has the entity's type and one-line description as its heading, a table of
//! its properties, and the entities it links to (a process's image file, parent and
//! host) as cards of their own, folded under the property that holds them. Every
//! text is escaped and there is no script, so a card is safe to show whatever the
//! entity holds. An entity linked from several places is unfolded once per card; a
//! link back to an entity already open above is shown by its description only, so
//! cycles end.
//!
//! ```
//! use huntbook_core::entities::EntityGraph;
//! use huntbook_vis::entities::entity_cards;
//!
//! let graph = EntityGraph::parse(r#"[{"Type": "host", "HostName": "ws<1>", "DnsDomain": "contoso.com"}]"#).unwrap();
//! let html = entity_cards(&graph, graph.roots());
//! assert!(html.contains("ws&lt;1&gt;.contoso.com"));
//! assert!(!html.contains("<script"));
//! ```

use std::collections::BTreeSet;
use std::fmt::Write;

use huntbook_core::entities::{Entity, EntityGraph, EntityId};

use crate::chart::escape_html;

/// How deep linked entities unfold under a card; deeper ones show their description.
const MAX_DEPTH: usize = 4;

/// The cards of the entities `ids` of `graph`, one after the other.
pub fn entity_cards(graph: &EntityGraph, ids: &[EntityId]) -> String {
    let mut html = String::from("<div class='hb-entities'>");
    for id in ids {
        card(graph, *id, &mut Vec::new(), &mut html);
    }
    html.push_str("</div>");
    html
}

/// The name a card's heading gives the entity's type.
fn type_name(entity: &Entity) -> String {
    match entity {
        Entity::Unknown(unknown) => unknown
            .type_name
            .clone()
            .unwrap_or_else(|| "Entity".to_string()),
        known => known.kind().name().to_string(),
    }
}

fn card(graph: &EntityGraph, id: EntityId, open: &mut Vec<EntityId>, html: &mut String) {
    let Some(entity) = graph.get(id) else {
        return;
    };
    open.push(id);
    let links = entity.links();
    let linking: BTreeSet<&str> = links.iter().map(|(key, _)| key.as_str()).collect();
    let _ = write!(
        html,
        "<div class='hb-entity' style='border:1px solid #bbb;border-left:4px solid #0072B2;\
         border-radius:3px;padding:4px 8px;margin:4px 0'>\
         <div class='hb-entity-head'><b>{}</b> {}</div>",
        escape_html(&type_name(entity)),
        escape_html(&entity.description(graph)),
    );
    let rows: Vec<(String, String)> = entity
        .to_flat(graph)
        .into_iter()
        .filter(|(key, _)| key != "Type" && !linking.contains(key.as_str()))
        .collect();
    if !rows.is_empty() {
        html.push_str("<table class='hb-entity-props' style='font-size:90%'>");
        for (key, value) in rows {
            let _ = write!(
                html,
                "<tr><th style='text-align:left;padding-right:1em;vertical-align:top'>{}</th><td>{}</td></tr>",
                escape_html(&key),
                escape_html(&value)
            );
        }
        html.push_str("</table>");
    }
    for (key, target) in links {
        let Some(linked) = graph.get(target) else {
            continue;
        };
        let summary = format!(
            "<span class='hb-entity-link'>{}: <b>{}</b> {}</span>",
            escape_html(&key),
            escape_html(&type_name(linked)),
            escape_html(&linked.description(graph))
        );
        if open.contains(&target) || open.len() >= MAX_DEPTH {
            let _ = write!(html, "<div style='margin-left:1em'>{summary}</div>");
        } else {
            let _ = write!(
                html,
                "<details style='margin-left:1em'><summary>{summary}</summary>"
            );
            card(graph, target, open, html);
            html.push_str("</details>");
        }
    }
    html.push_str("</div>");
    open.pop();
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROCESS: &str = r#"[
      {"$id": "1", "HostName": "WORKSTATION-07", "DnsDomain": "contoso.local", "Type": "host"},
      {"$id": "2", "ProcessId": "4242", "CommandLine": "powershell -enc <b>x</b>",
       "ImageFile": {"$id": "3", "Name": "powershell.exe", "Directory": "C:\\Windows", "Type": "file"},
       "ParentProcess": {"$id": "4", "ProcessId": "100", "ParentProcess": {"$ref": "2"}, "Type": "process"},
       "Host": {"$ref": "1"}, "Type": "process"},
      {"$id": "5", "Address": "38.75.137.9", "Type": "ip"}
    ]"#;

    #[test]
    fn a_card_shows_properties_and_linked_entities() {
        let graph = EntityGraph::parse(PROCESS).unwrap();
        let html = entity_cards(&graph, graph.roots());
        assert_eq!(
            html.matches("'hb-entity-head'><b>Process</b> powershell.exe (4242)</div>")
                .count(),
            1
        );
        assert!(html.contains("<b>IpAddress</b> 38.75.137.9"));
        assert!(html.contains("<b>Host</b> WORKSTATION-07.contoso.local"));
        // The process's links are folded cards under the property that holds them.
        assert!(html.contains("ImageFile: <b>File</b> C:\\Windows\\powershell.exe"));
        assert!(html.contains("Host: <b>Host</b> WORKSTATION-07.contoso.local</span></summary>"));
        assert!(html.contains("<th style='text-align:left;padding-right:1em;vertical-align:top'>ProcessId</th><td>4242</td>"));
        // Linking properties are not repeated in the table.
        assert!(!html.contains(">ImageFile</th>"));
    }

    #[test]
    fn text_is_escaped_and_there_is_no_script() {
        let graph = EntityGraph::parse(PROCESS).unwrap();
        let html = entity_cards(&graph, graph.roots());
        assert!(html.contains("powershell -enc &lt;b&gt;x&lt;/b&gt;"));
        assert!(!html.contains("<b>x</b>"));
        let hostile = r#"[{"Type": "<script>alert(1)</script>", "Name": "'\"&"}]"#;
        let graph = EntityGraph::parse(hostile).unwrap();
        let html = entity_cards(&graph, graph.roots());
        assert!(!html.contains("<script"));
        assert!(html.contains("&#39;&quot;&amp;"));
    }

    #[test]
    fn cycles_end_at_an_entity_already_open() {
        let graph = EntityGraph::parse(PROCESS).unwrap();
        let process = graph.roots()[1];
        let html = entity_cards(&graph, &[process]);
        // The parent's link back to the child is a line, not another card.
        assert!(html.contains(
            "<div style='margin-left:1em'><span class='hb-entity-link'>ParentProcess: <b>Process</b> powershell.exe (4242)</span></div>"
        ));
        assert_eq!(html.matches("class='hb-entity' ").count(), 4);
    }
}
