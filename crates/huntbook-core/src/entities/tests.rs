//! Reading, writing, comparing and merging whole alerts' entities.

use serde_json::{json, Value};

use super::*;

const MDE: &str = include_str!("../../tests/data/mde_alert_entities.json");
const AAD: &str = include_str!("../../tests/data/aad_identity_protection_entities.json");
const NETWORK: &str = include_str!("../../tests/data/network_alert_entities.json");

fn value(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn only<'g>(graph: &'g EntityGraph, tag: &str) -> (EntityId, &'g Entity) {
    let found: Vec<_> = graph.of_kind(tag).collect();
    assert_eq!(found.len(), 1, "{tag}: {found:?}");
    found[0]
}

#[test]
fn samples_write_back_the_json_they_were_read_from() {
    for (name, text) in [("mde", MDE), ("aad", AAD), ("network", NETWORK)] {
        let graph = EntityGraph::parse(text).unwrap();
        assert_eq!(graph.to_json(), value(text), "{name}");
        let reread = EntityGraph::parse(&graph.to_json_string()).unwrap();
        assert_eq!(reread.to_json(), value(text), "{name}, read twice");
    }
}

#[test]
fn defender_alert_process_tree_and_hashes_are_linked() {
    let graph = EntityGraph::parse(MDE).unwrap();
    assert_eq!(graph.roots().len(), 8);
    assert_eq!(graph.of_kind("filehash").count(), 5);
    assert_eq!(graph.of_kind("process").count(), 2);

    let host = graph.by_sentinel_id("2").unwrap();
    let account = graph.by_sentinel_id("3").unwrap();
    let process_id = graph.by_sentinel_id("4").unwrap();
    let Entity::Process(process) = &graph[process_id] else {
        panic!("not a process: {:?}", graph[process_id])
    };
    assert_eq!(process.host, Some(host));
    assert_eq!(process.account, Some(account));
    assert_eq!(
        graph[process_id].description(&graph),
        "powershell.exe (7312)"
    );

    let Entity::Process(parent) = &graph[process.parent_process.unwrap()] else {
        panic!("parent is not a process")
    };
    assert_eq!(parent.host, Some(host), "the parent's $ref to the host");
    let parent_image = &graph[parent.image_file.unwrap()];
    assert_eq!(
        parent_image.description(&graph),
        r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE"
    );

    // The top-level {"$ref": "5"} is the process's image file, not a copy.
    let image = process.image_file.unwrap();
    assert_eq!(graph.roots()[3], image);
    let Entity::File(file) = &graph[image] else {
        panic!("image is not a file")
    };
    assert_eq!(file.file_hashes.len(), 3);
    assert_eq!(
        graph[image].observable(&graph).as_deref(),
        Some("de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c"),
        "a file's observable is its SHA256"
    );
    assert_eq!(graph[account].description(&graph), r"CORP\alice");
    assert_eq!(
        graph[account].observable(&graph).as_deref(),
        Some("alice@corp.contoso.com")
    );
    assert_eq!(
        graph[host].observable(&graph).as_deref(),
        Some("ws-0142.corp.contoso.com")
    );

    // Unknown properties are kept, typed ones are typed.
    let Entity::Host(h) = &graph[host] else {
        panic!()
    };
    assert_eq!(
        h.mdatp_device_id.as_deref(),
        Some("8b5f9e7c1d2a3b4c5d6e7f8091a2b3c4d5e6f708")
    );
    assert_eq!(h.extra["RiskScore"], json!("High"));

    let (_, malware) = only(&graph, "malware");
    assert_eq!(
        malware.description(&graph),
        "TrojanDownloader:O97M/Obfuse.SK!MTB (Trojan)"
    );
    let flat = malware.to_flat(&graph);
    assert_eq!(flat["Files"], r"C:\Users\alice\Downloads\invoice_0423.docm");
    assert_eq!(flat["Type"], "malware");
}

#[test]
fn identity_protection_alert_account_ip_and_location() {
    let graph = EntityGraph::parse(AAD).unwrap();
    let (_, account) = only(&graph, "account");
    assert_eq!(account.description(&graph), "bob@contoso.com");
    assert_eq!(
        account.observable(&graph).as_deref(),
        Some("bob@contoso.com")
    );

    let (_, ip) = only(&graph, "ipaddress");
    let Entity::IpAddress(address) = ip else {
        panic!()
    };
    let location = &graph[address.location.unwrap()];
    assert_eq!(
        location.kind(),
        Kind::GeoLocation,
        "typed by the property it is in"
    );
    assert_eq!(location.description(&graph), "Frankfurt am Main, Hesse, DE");
    assert_eq!(
        ip.to_flat(&graph)["Location"],
        "Frankfurt am Main, Hesse, DE"
    );
    assert_eq!(location.observable(&graph), None);

    let (_, app) = only(&graph, "cloud-application");
    assert_eq!(app.to_flat(&graph)["AppId"], "11161");
}

#[test]
fn network_alert_connection_between_addresses() {
    let graph = EntityGraph::parse(NETWORK).unwrap();
    let (_, connection) = only(&graph, "network-connection");
    assert_eq!(
        connection.description(&graph),
        "45.155.205.233:49152 -> 10.1.0.4:3389 (Tcp)"
    );
    let (_, dns) = only(&graph, "dns");
    let Entity::Dns(dns) = dns else { panic!() };
    assert_eq!(
        graph[dns.ip_addresses[0]].observable(&graph).as_deref(),
        Some("45.155.205.233")
    );
    assert_eq!(
        graph[dns.dns_server_ip.unwrap()].description(&graph),
        "168.63.129.16"
    );
    assert_eq!(graph.of_kind("ip").count(), 3);
    assert_eq!(graph.of_kind("location").count(), 1);
}

#[test]
fn entities_column_of_a_security_alert_row() {
    // SecurityAlert keeps Entities as JSON text inside the row.
    let row = json!({
        "AlertName": "Unfamiliar sign-in properties",
        "ProviderName": "IPC",
        "Entities": AAD,
    });
    let graph = EntityGraph::parse(row["Entities"].as_str().unwrap()).unwrap();
    assert_eq!(graph.roots().len(), 3);
}

#[test]
fn a_reference_may_come_before_its_entity() {
    let graph = EntityGraph::parse(
        r#"[{"$id": "1", "Name": "alice", "Host": {"$ref": "2"}, "Type": "account"},
            {"$id": "2", "HostName": "ws1", "Type": "host"}]"#,
    )
    .unwrap();
    let Entity::Account(account) = &graph[graph.roots()[0]] else {
        panic!()
    };
    assert_eq!(account.host, Some(graph.roots()[1]));
    assert_eq!(graph[graph.roots()[0]].description(&graph), r"ws1\alice");
}

#[test]
fn references_in_unknown_properties_and_unknown_kinds_are_resolved() {
    let text = r#"[
        {"$id": "1", "HostName": "ws1", "Type": "host"},
        {"$id": "2", "Name": "container-7", "Type": "blob-container",
         "Owner": {"Machine": {"$ref": "1"}}, "Child": {"$id": "3", "Note": "x"}}
    ]"#;
    let graph = EntityGraph::parse(text).unwrap();
    let (_, blob) = only(&graph, "blob-container");
    let Entity::Unknown(unknown) = blob else {
        panic!()
    };
    assert_eq!(unknown.type_name.as_deref(), Some("blob-container"));
    assert_eq!(blob.to_flat(&graph)["Owner"], r#"{"Machine":"ws1"}"#);
    assert_eq!(graph.len(), 3);
    assert_eq!(graph.to_json(), value(text));
}

fn error(text: &str) -> String {
    EntityGraph::parse(text).unwrap_err().to_string()
}

#[test]
fn a_dangling_reference_names_the_id_and_where_it_is() {
    let message = error(
        r#"[{"$id": "4", "ProcessId": "1", "ParentProcess": {"$ref": "99"}, "Type": "process"}]"#,
    );
    assert!(
        message.contains(r#"reference "99" names no entity"#),
        "{message}"
    );
    assert!(message.contains("/ParentProcess"), "{message}");
    assert!(
        message.contains(r#"process entity with $id "4""#),
        "{message}"
    );

    let message = error(r#"[{"$ref": "7"}]"#);
    assert!(
        message.contains("element 0 of the entities array"),
        "{message}"
    );
}

#[test]
fn malformed_json_is_reported_with_line_and_column() {
    let err = EntityGraph::parse(
        "[\n  {\"$id\": \"1\",\n   \"Type\": \"host\" \"HostName\": \"ws1\"}\n]",
    )
    .unwrap_err();
    let EntityError::Json { line, column, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *column), (3, 19));
    assert!(err.to_string().contains("line 3, column 19"), "{err}");
}

#[test]
fn wrong_shapes_are_reported_with_their_place() {
    assert!(error(r#"{"Type": "host"}"#).contains("must be an array"));
    assert!(error(r#"[{"Type": "host"}, 5]"#).contains("element 1"));
    let message = error(r#"[{"$id": "1", "Type": "host"}, {"$id": "1", "Type": "ip"}]"#);
    assert!(
        message.contains(r#"`$id` "1" is already used by the host entity"#),
        "{message}"
    );
    let message = error(r#"[{"$id": "1", "Host": {"$ref": 2}, "Type": "account"}]"#);
    assert!(message.contains("/Host of the account entity"), "{message}");
    assert!(message.contains("with a string id"), "{message}");
    assert!(error(r#"[{"Type": 3}]"#).contains("`Type` must be a string"));

    let err =
        EntityGraph::parse(r#"[{"$id": "1", "ProcessId": 4242, "Type": "process"}]"#).unwrap_err();
    let EntityError::InvalidProperty {
        property, message, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(property, "ProcessId");
    assert!(message.contains("expected a string"), "{message}");

    let message = error(r#"[{"$id": "1", "Host": "ws1", "Type": "account"}]"#);
    assert!(
        message.contains("property `Host`: expected an entity object"),
        "{message}"
    );
}

fn host(name: &str, domain: Option<&str>) -> Entity {
    Host {
        host_name: Some(name.into()),
        dns_domain: domain.map(Into::into),
        ..Host::default()
    }
    .into()
}

fn account(name: Option<&str>, domain: Option<&str>, sid: Option<&str>) -> Entity {
    Account {
        name: name.map(Into::into),
        nt_domain: domain.map(Into::into),
        sid: sid.map(Into::into),
        ..Account::default()
    }
    .into()
}

#[test]
fn equivalence_follows_each_kinds_identifying_properties() {
    assert!(host("WS1", None).is_equivalent(&host("ws1", Some("contoso.com"))));
    assert!(host("ws1.CONTOSO.com", None).is_equivalent(&host("ws1", Some("contoso.com"))));
    assert!(!host("ws1", Some("contoso.com")).is_equivalent(&host("ws1", Some("fabrikam.com"))));
    assert!(!host("ws1", None).is_equivalent(&host("ws2", None)));

    let sid = "S-1-5-21-1-2-3-1105";
    assert!(
        account(Some("alice"), Some("CORP"), None).is_equivalent(&account(
            Some("Alice"),
            Some("corp"),
            Some(sid)
        ))
    );
    assert!(account(None, None, Some(sid)).is_equivalent(&account(Some("alice"), None, Some(sid))));
    assert!(
        !account(Some("alice"), Some("CORP"), None).is_equivalent(&account(
            Some("alice"),
            Some("LAB"),
            None
        ))
    );
    assert!(
        !account(Some("alice"), None, Some(sid)).is_equivalent(&account(
            Some("alice"),
            None,
            Some("S-1-5-21-9")
        ))
    );
    assert!(!account(Some("alice"), None, None).is_equivalent(&host("alice", None)));

    let ip = |address: &str| -> Entity {
        IpAddress {
            address: Some(address.into()),
            ..IpAddress::default()
        }
        .into()
    };
    assert!(ip("2001:db8::1").is_equivalent(&ip("2001:DB8:0:0::1")));
    assert!(!ip("10.0.0.1").is_equivalent(&ip("10.0.0.2")));

    let hash = |algorithm: &str, value: &str| -> Entity {
        FileHash {
            algorithm: Some(json!(algorithm)),
            value: Some(value.into()),
            ..FileHash::default()
        }
        .into()
    };
    assert!(hash("SHA256", "ABCDEF").is_equivalent(&hash("sha256", "abcdef")));
    assert!(!hash("SHA256", "abcdef").is_equivalent(&hash("MD5", "abcdef")));

    let file = |directory: Option<&str>, name: &str, sha256: Option<&str>| -> Entity {
        File {
            directory: directory.map(Into::into),
            name: Some(name.into()),
            sha256: sha256.map(Into::into),
            ..File::default()
        }
        .into()
    };
    assert!(file(Some(r"C:\Temp\"), "A.EXE", None).is_equivalent(&file(
        Some(r"c:\temp"),
        "a.exe",
        None
    )));
    assert!(file(None, "a.exe", Some("AA")).is_equivalent(&file(
        Some(r"C:\x"),
        "a.exe",
        Some("aa")
    )));
    assert!(!file(Some(r"C:\x"), "a.exe", None).is_equivalent(&file(Some(r"C:\y"), "a.exe", None)));

    let url = |url: &str| -> Entity {
        Url {
            url: Some(url.into()),
            ..Url::default()
        }
        .into()
    };
    assert!(url("https://example.com/a").is_equivalent(&url("https://example.com/a")));
    assert!(!url("https://example.com/a").is_equivalent(&url("https://example.com/A")));

    let unknown = |note: &str| -> Entity {
        Unknown {
            type_name: Some("blob".into()),
            extra: [("Note".to_string(), json!(note))].into(),
        }
        .into()
    };
    assert!(unknown("x").is_equivalent(&unknown("x")));
    assert!(!unknown("x").is_equivalent(&unknown("y")));
}

#[test]
fn processes_compare_by_their_linked_image_file_and_host() {
    let graph = EntityGraph::parse(
        r#"[{"$id": "1", "HostName": "ws1", "Type": "host"},
            {"$id": "2", "HostName": "ws2", "Type": "host"},
            {"$id": "3", "ProcessId": "42", "Host": {"$ref": "1"}, "Type": "process"},
            {"$id": "4", "ProcessId": "42", "Host": {"$ref": "2"}, "Type": "process"},
            {"$id": "5", "ProcessId": "42", "Host": {"$id": "6", "HostName": "WS1", "DnsDomain": "corp.example", "Type": "host"},
             "Type": "process"}]"#,
    )
    .unwrap();
    let [_, _, a, b, c] = [0, 1, 2, 3, 4].map(|i| graph.roots()[i]);
    assert!(!graph.is_equivalent(a, b), "same pid on two hosts");
    assert!(
        graph.is_equivalent(a, c),
        "ws1 and WS1.corp.example are one host"
    );
}

#[test]
fn merge_fills_missing_properties_and_refuses_different_entities() {
    let mut sparse = Account {
        name: Some("alice".into()),
        nt_domain: Some("CORP".into()),
        ..Account::default()
    };
    sparse.extra.insert("Tags".into(), json!(["vip"]));
    let mut full = Account {
        name: Some("alice".into()),
        sid: Some("S-1-5-21-1-2-3-1105".into()),
        upn_suffix: Some("corp.contoso.com".into()),
        nt_domain: Some("corp".into()),
        ..Account::default()
    };
    full.extra.insert("Tags".into(), json!(["vip", "admin"]));

    let merged = Entity::from(sparse).merge(&full.clone().into()).unwrap();
    let Entity::Account(merged) = merged else {
        panic!()
    };
    assert_eq!(merged.nt_domain.as_deref(), Some("CORP"), "own values win");
    assert_eq!(merged.sid, full.sid, "missing values are filled");
    assert_eq!(merged.upn_suffix, full.upn_suffix);
    assert_eq!(
        merged.extra["Tags"],
        json!(["vip", "admin"]),
        "lists are joined"
    );

    let err = host("ws1", Some("contoso.com"))
        .merge(&host("ws1", Some("fabrikam.com")))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot merge host `ws1.contoso.com` with host `ws1.fabrikam.com`: they are not the same \
         entity (an identifying property differs)"
    );
    assert!(host("ws1", None)
        .merge(&account(Some("ws1"), None, None))
        .is_err());
}

#[test]
fn dedupe_keeps_the_first_of_each_equivalent_group() {
    let deduped = dedupe([
        host("ws1", None),
        account(Some("alice"), Some("CORP"), None),
        host("WS1", Some("contoso.com")),
        host("ws2", None),
        account(Some("alice"), None, Some("S-1")),
    ]);
    assert_eq!(deduped.len(), 3);
    let Entity::Host(first) = &deduped[0] else {
        panic!()
    };
    assert_eq!(first.host_name.as_deref(), Some("ws1"));
    assert_eq!(first.dns_domain.as_deref(), Some("contoso.com"));
    let Entity::Account(alice) = &deduped[1] else {
        panic!()
    };
    assert_eq!(alice.sid.as_deref(), Some("S-1"));
}

#[test]
fn entities_of_two_alerts_are_gathered_and_deduplicated() {
    let mut graph = EntityGraph::parse(MDE).unwrap();
    let second = EntityGraph::parse(
        r#"[{"$id": "2", "HostName": "WS-0142", "NTDomain": "CORP", "Type": "host"},
            {"$id": "3", "ProcessId": "9001", "CommandLine": "whoami.exe",
             "Host": {"$ref": "2"}, "Type": "process"},
            {"$id": "4", "Address": "203.0.113.77", "Location": {"CountryCode": "US"}, "Type": "ip"}]"#,
    )
    .unwrap();
    let before = graph.len();
    let moved = graph.extend(second);
    assert_eq!(graph.len(), before + 4);
    assert_eq!(moved.len(), 4);
    assert_ne!(
        graph.sentinel_id(moved[0]),
        Some("2"),
        "clashing $ids are renumbered"
    );

    let dropped = graph.dedupe();
    assert_eq!(dropped, 2, "the host and the IP were already known");
    assert_eq!(graph.of_kind("host").count(), 1);
    let (host_id, host) = only(&graph, "host");
    let Entity::Host(h) = host else { panic!() };
    assert_eq!(
        h.nt_domain.as_deref(),
        Some("CORP"),
        "filled from the second alert"
    );

    let whoami = graph
        .of_kind("process")
        .find(|(_, p)| p.observable(&graph).as_deref() == Some("whoami.exe"))
        .unwrap()
        .1;
    let Entity::Process(whoami) = whoami else {
        panic!()
    };
    assert_eq!(
        whoami.host,
        Some(host_id),
        "links follow the surviving entity"
    );
    let (_, ip) = only(&graph, "ip");
    let Entity::IpAddress(ip) = ip else { panic!() };
    assert!(
        ip.location.is_some(),
        "the IP gained the second alert's location"
    );

    // What is written reads back, with every $ref resolvable and each $id once.
    let written = graph.to_json();
    let reread = EntityGraph::parse(&written.to_string()).unwrap();
    assert_eq!(reread.len(), graph.len());
    assert_eq!(reread.to_json(), written);
}

#[test]
fn a_graph_built_in_code_writes_ids_only_for_shared_entities() {
    let mut graph = EntityGraph::new();
    let host = graph.add(Host {
        host_name: Some("ws1".into()),
        ..Host::default()
    });
    let image = graph.insert(File {
        name: Some("cmd.exe".into()),
        ..File::default()
    });
    graph.add(Process {
        process_id: Some("1".into()),
        image_file: Some(image),
        host: Some(host),
        ..Process::default()
    });
    assert_eq!(
        graph.to_json(),
        json!([
            {"$id": "1", "HostName": "ws1", "Type": "host"},
            {"ProcessId": "1", "Host": {"$ref": "1"},
             "ImageFile": {"Name": "cmd.exe", "Type": "file"}, "Type": "process"}
        ])
    );
}

#[test]
fn a_link_cycle_does_not_recurse_without_end() {
    let graph = EntityGraph::parse(
        r#"[{"$id": "1", "ProcessId": "1", "Host": {"$ref": "1"}, "Type": "process"},
            {"$id": "2", "ProcessId": "1", "Host": {"$ref": "2"}, "Type": "process"}]"#,
    )
    .unwrap();
    // The self-links are not hosts, so only the pids compare.
    assert!(graph.is_equivalent(graph.roots()[0], graph.roots()[1]));
    assert_eq!(graph.to_json()[0]["Host"], json!({"$ref": "1"}));
}

#[test]
fn links_to_the_wrong_kind_are_not_followed() {
    let graph = EntityGraph::parse(
        r#"[{"$id": "1", "Name": "alice", "Host": {"$ref": "1"}, "Type": "account"},
            {"$id": "2", "ProcessId": "7", "ImageFile": {"$ref": "2"}, "Type": "process"}]"#,
    )
    .unwrap();
    assert_eq!(graph[graph.roots()[0]].description(&graph), "alice");
    assert_eq!(graph[graph.roots()[1]].description(&graph), "process (7)");
    assert!(graph.is_equivalent(graph.roots()[0], graph.roots()[0]));
}

#[test]
fn one_entity_is_written_with_the_entities_it_links_to() {
    let graph = EntityGraph::parse(MDE).unwrap();
    let parent = graph.by_sentinel_id("9").unwrap();
    let written = graph.to_json_of(&[parent]);
    let Value::Array(items) = &written else {
        panic!("{written}")
    };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["ImageFile"]["Name"], json!("WINWORD.EXE"));
    assert_eq!(
        items[0]["Host"]["HostName"],
        json!("ws-0142"),
        "the host is written in full"
    );
    let alone = EntityGraph::from_value(written).unwrap();
    assert_eq!(
        alone.len(),
        5,
        "process, image file, its hash, account and host"
    );
    assert_eq!(
        alone[alone.roots()[0]].description(&alone),
        "WINWORD.EXE (5120)"
    );
}

#[test]
fn entities_identified_only_by_links_are_deduplicated_too() {
    let mut graph = EntityGraph::parse(
        r#"[{"$id": "1", "HostName": "ws1", "Type": "host"},
            {"$id": "2", "Name": "alice", "Type": "account"},
            {"$id": "3", "Account": {"$ref": "2"}, "Host": {"$ref": "1"}, "Type": "host-logon-session"},
            {"$id": "4", "SessionId": "0x3e7", "Account": {"$ref": "2"}, "Host": {"$ref": "1"},
             "Type": "host-logon-session"},
            {"$id": "5", "Account": {"$ref": "2"}, "Host": {"$id": "6", "HostName": "ws2", "Type": "host"},
             "Type": "host-logon-session"}]"#,
    )
    .unwrap();
    assert_eq!(graph.dedupe(), 1);
    let sessions: Vec<_> = graph
        .of_kind("host-logon-session")
        .map(|(_, session)| session.description(&graph))
        .collect();
    assert_eq!(sessions, ["alice on ws1", "alice on ws2"]);
    let (_, first) = graph.of_kind("host-logon-session").next().unwrap();
    assert_eq!(first.to_flat(&graph)["SessionId"], "0x3e7");
}

#[test]
fn a_link_to_another_graphs_entity_does_not_break_writing_or_deduping() {
    let other = EntityGraph::parse(MDE).unwrap();
    let foreign = other.by_sentinel_id("17").unwrap();
    let mut graph = EntityGraph::new();
    graph.add(Process {
        process_id: Some("1".into()),
        parent_process: Some(foreign),
        ..Process::default()
    });
    graph.add(host("ws1", None));
    graph.add(host("WS1", None));
    assert_eq!(
        graph.to_json()[0]["ParentProcess"],
        json!({"$ref": foreign.index()})
    );
    assert_eq!(graph.to_json_of(&[foreign]), json!([]));
    assert_eq!(graph.dedupe(), 1);
    assert_eq!(graph[graph.roots()[0]].description(&graph), "process (1)");
}

#[test]
fn a_file_with_several_hashes_matches_one_that_shares_any_of_them() {
    let graph = EntityGraph::parse(
        r#"[{"$id": "1", "Name": "a.bin", "FileHashes": [
              {"$id": "2", "Algorithm": "Unknown", "Value": "aa11", "Type": "filehash"},
              {"$id": "3", "Algorithm": "Unknown", "Value": "bb22", "Type": "filehash"}], "Type": "file"},
            {"$id": "4", "Name": "a.bin", "FileHashes": [
              {"$id": "5", "Algorithm": "Unknown", "Value": "BB22", "Type": "filehash"}], "Type": "file"},
            {"$id": "6", "Name": "a.bin", "FileHashes": [
              {"$id": "7", "Algorithm": "Unknown", "Value": "cc33", "Type": "filehash"}], "Type": "file"}]"#,
    )
    .unwrap();
    let [a, b, c] = [0, 1, 2].map(|i| graph.roots()[i]);
    assert!(graph.is_equivalent(a, b));
    assert!(!graph.is_equivalent(a, c));
}

#[test]
fn links_name_the_property_and_the_entity() {
    let graph = EntityGraph::parse(
        r#"[{"$id": "2", "HostName": "ws1", "Type": "host"},
            {"$id": "3", "ProcessId": "1", "Host": {"$ref": "2"},
             "ImageFile": {"$id": "4", "Name": "cmd.exe", "Type": "file",
                           "FileHashes": [{"$id": "5", "Algorithm": "MD5", "Value": "aa", "Type": "filehash"},
                                          {"$id": "6", "Algorithm": "SHA1", "Value": "bb", "Type": "filehash"}]},
             "Type": "process"}]"#,
    )
    .unwrap();
    let process = graph.roots()[1];
    let names: Vec<_> = graph[process]
        .links()
        .into_iter()
        .map(|(key, id)| (key, graph[id].kind().tag()))
        .collect();
    assert_eq!(
        names,
        [
            ("Host".to_string(), "host"),
            ("ImageFile".to_string(), "file")
        ]
    );
    let file = graph.by_sentinel_id("4").unwrap();
    let hashes: Vec<_> = graph[file].links().into_iter().map(|(k, _)| k).collect();
    assert_eq!(hashes, ["FileHashes", "FileHashes"]);
    assert!(graph[graph.roots()[0]].links().is_empty());
}

#[test]
fn dedupe_mapped_says_where_every_entity_went() {
    let mut graph = EntityGraph::parse(
        r#"[{"$id": "1", "Address": "10.0.0.1", "Type": "ip"},
            {"$id": "2", "HostName": "ws1", "Type": "host"},
            {"$id": "3", "Address": "10.0.0.1", "Type": "ip"},
            {"$id": "4", "HostName": "ws2", "Type": "host"}]"#,
    )
    .unwrap();
    let moved = graph.dedupe_mapped();
    assert_eq!(graph.len(), 3);
    let at: Vec<_> = moved.iter().map(|id| id.index()).collect();
    assert_eq!(at, [0, 1, 0, 2]);
    assert_eq!(graph[moved[3]].description(&graph), "ws2");
}

#[test]
fn nested_form_inlines_links_at_every_mention_and_ends_cycles() {
    let json = r#"[
      {"$id": "1", "HostName": "ws1", "Type": "host"},
      {"$id": "2", "ProcessId": "7", "Host": {"$ref": "1"},
       "ParentProcess": {"$id": "3", "ProcessId": "1", "ParentProcess": {"$ref": "2"}, "Host": {"$ref": "1"}, "Type": "process"},
       "Type": "process"},
      {"$id": "4", "Type": "blob", "Owner": {"$ref": "1"}}
    ]"#;
    let graph = EntityGraph::parse(json).unwrap();
    let nested = graph.to_nested_of(graph.roots());
    assert_eq!(
        nested[0],
        serde_json::json!({"$kind": "Host", "Type": "host", "HostName": "ws1"})
    );
    let process = &nested[1];
    assert_eq!(process["$kind"], "Process");
    assert_eq!(process["Host"]["HostName"], "ws1");
    assert_eq!(process["ParentProcess"]["Host"]["HostName"], "ws1");
    // The parent's link back to the child is the child's description.
    assert_eq!(process["ParentProcess"]["ParentProcess"], "process (7)");
    assert_eq!(nested[2]["$kind"], "Unknown");
    assert_eq!(nested[2]["Type"], "blob");
    assert_eq!(nested[2]["Owner"]["HostName"], "ws1");
    // Without a cycle, the nested form reads back as the same entities.
    let acyclic = json!([nested[0].clone(), nested[2].clone()]);
    let again = EntityGraph::from_value(acyclic.clone()).unwrap();
    assert_eq!(again.to_nested_of(again.roots()), acyclic);
}
