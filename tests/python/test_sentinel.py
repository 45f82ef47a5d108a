"""huntbook.MicrosoftSentinel against the fake Sentinel management API and fake Entra ID
of the Rust testkit (the `fake_sentinel` example), which check tokens, api-version,
paths and bodies as the service documents them."""

from __future__ import annotations

import pandas as pd
import pytest

import huntbook
from conftest import StaticCredential, fake_service

# A fake with three incidents, serving lists in pages of two.
fake = fake_service("huntbook-sentinel", "fake_sentinel", "--page-size", "2")


def settings(fake) -> dict:
    return {
        "SubscriptionId": fake["subscription_id"],
        "ResourceGroup": fake["resource_group"],
        "WorkspaceName": fake["workspace_name"],
        "TenantId": fake["tenant_id"],
    }


@pytest.fixture
def sentinel(fake) -> huntbook.MicrosoftSentinel:
    client = huntbook.MicrosoftSentinel(settings(fake), base_url=fake["arm"], credential=StaticCredential(fake["token"]))
    client.connect()
    return client


def test_list_incidents_follows_pages_into_msticpy_columns(sentinel, fake):
    incidents = sentinel.list_incidents()
    assert len(incidents) == 3  # two pages of two and one
    for column in ["id", "name", "etag", "type", "properties.title", "properties.severity",
                   "properties.status", "properties.incidentNumber", "properties.createdTimeUtc"]:
        assert column in incidents.columns, column
    assert list(incidents["name"]) == fake["incidents"]
    assert list(incidents["properties.severity"]) == ["High", "Medium", "Informational"]
    assert incidents.loc[1, "properties.owner.assignedTo"] == "Bob SOC"


def test_filter_order_and_top(sentinel):
    open_ones = sentinel.list_incidents(filter="properties/status ne 'Closed'", orderby="properties/title")
    assert list(open_ones["properties.title"]) == ["Impossible travel for alice", "Suspicious PowerShell on ws1"]
    # MSTICPy's params dict works too.
    assert len(sentinel.list_incidents(params={"$top": 1})) == 1
    assert sentinel.get_incidents is not None


def test_create_update_and_comment(sentinel):
    created = sentinel.create_incident(
        title="Beaconing from ws1", severity="medium", description="every 60 s", labels=["huntbook"],
        first_activity_time=pd.Timestamp("2024-03-01T10:00:00Z").to_pydatetime(),
    )
    assert created["properties"]["severity"] == "Medium"
    assert created["properties"]["status"] == "New"
    assert created["properties"]["labels"] == [{"labelName": "huntbook", "labelType": "User"}]
    assert created["properties"]["firstActivityTimeUtc"].startswith("2024-03-01T10:00:00")
    assert len(sentinel.list_incidents()) == 4

    comment = sentinel.post_comment(created["name"], "Checked with the owner.")
    assert comment["properties"]["message"] == "Checked with the owner."

    closed = sentinel.update_incident(created["name"], {"status": "closed"}, classification="BenignPositive")
    assert closed["properties"]["status"] == "Closed"
    assert closed["properties"]["classification"] == "BenignPositive"
    assert closed["properties"]["description"] == "every 60 s", "unchanged properties are kept"
    assert closed["etag"] != created["etag"]

    row = sentinel.get_incident(created["name"], comments=True)
    assert row.loc[0, "properties.status"] == "Closed"
    assert [c["properties"]["message"] for c in row.loc[0, "Comments"]] == ["Checked with the owner."]


def test_entities_and_alerts_of_an_incident(sentinel, fake):
    first = fake["incidents"][0]
    entities = sentinel.get_entities(first)
    assert sorted(e["Type"] for e in entities) == ["account", "host", "ip"]
    host = next(e for e in entities if e["Type"] == "host")
    assert host["HostName"] == "ws1"
    alerts = sentinel.get_incident_alerts(first)
    assert [a["properties"]["alertDisplayName"] for a in alerts] == [
        "Encoded PowerShell", "Outbound connection to rare domain"]
    row = sentinel.get_incident(first, entities=True, alerts=True)
    assert len(row.loc[0, "Entities"]) == 3 and len(row.loc[0, "Alerts"]) == 2


def test_errors_name_the_problem(sentinel, fake):
    with pytest.raises(huntbook.SentinelNotFoundError, match="incident 00000000-0000-0000-0000-000000000000 was not found"):
        sentinel.get_incident("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ValueError, match="incident severity \"Critical\" is not valid"):
        sentinel.create_incident(title="x", severity="Critical")
    with pytest.raises(ValueError, match="Critical"):
        sentinel.update_incident(fake["incidents"][0], severity="Critical")
    with pytest.raises(ValueError, match="incident id"):
        sentinel.get_incident("../bookmarks")
    # A 400 from the service carries its code and message.
    with pytest.raises(huntbook.SentinelError, match="BadRequest: Classification is required"):
        sentinel.update_incident(fake["incidents"][0], status="Closed")


def test_a_wrong_token_gets_401_and_is_not_shown(fake):
    client = huntbook.MicrosoftSentinel(settings(fake), base_url=fake["arm"], credential=StaticCredential("expired-token-123"))
    client.connect()
    with pytest.raises(huntbook.SentinelError) as raised:
        client.list_incidents()
    assert "401" in str(raised.value)
    assert "InvalidAuthenticationToken" in str(raised.value)
    assert "expired-token-123" not in str(raised.value)


def test_signs_in_with_an_app_secret_from_the_environment(fake, monkeypatch):
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", fake["authority"])
    monkeypatch.setenv("AZURE_TENANT_ID", fake["tenant_id"])
    monkeypatch.setenv("AZURE_CLIENT_ID", fake["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", fake["client_secret"])
    client = huntbook.MicrosoftSentinel(settings(fake), base_url=fake["arm"], credential="env")
    client.connect()
    assert len(client.list_incidents()) == 3

    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong-secret")
    client.connect()
    with pytest.raises(huntbook.SentinelError, match="AADSTS"):
        client.list_bookmarks()


def test_workspace_from_msticpyconfig(fake, tmp_path):
    config = tmp_path / "msticpyconfig.yaml"
    config.write_text(
        "AzureSentinel:\n  Workspaces:\n    Default:\n"
        "      WorkspaceId: 52b1ab41-869e-4138-9e40-2a4457f09bf0\n"
        f"      TenantId: {fake['tenant_id']}\n"
        f"      SubscriptionId: {fake['subscription_id']}\n"
        f"      ResourceGroup: {fake['resource_group']}\n"
        f"      WorkspaceName: {fake['workspace_name']}\n"
        "    NoArm:\n"
        "      WorkspaceId: 52b1ab41-869e-4138-9e40-2a4457f09bf0\n"
        f"      TenantId: {fake['tenant_id']}\n"
    )
    sentinel = huntbook.MicrosoftSentinel(config=config, base_url=fake["arm"], credential=StaticCredential(fake["token"]))
    sentinel.connect()
    assert len(sentinel.list_incidents()) == 3
    with pytest.raises(ValueError, match="AzureSentinel.Workspaces.NoArm: SubscriptionId is missing"):
        sentinel.connect("NoArm")
    with pytest.raises(ValueError, match="no such workspace; configured: "):
        sentinel.connect("Nope")


def test_bookmarks(sentinel):
    assert sentinel.list_bookmarks().empty
    made = sentinel.create_bookmark("Rare parent", "SecurityEvent | where EventID == 4688", notes="three hosts",
                                    labels=["hunt-42"])
    marks = sentinel.list_bookmarks()
    assert list(marks["properties.displayName"]) == ["Rare parent"]
    assert marks.loc[0, "properties.labels"] == ["hunt-42"]
    sentinel.delete_bookmark(made["name"])
    assert sentinel.list_bookmarks().empty


def test_watchlists_from_dataframes(sentinel):
    hosts = pd.DataFrame({"Hostname": ["ws1", "dc1", "fs1"], "Owner": ["alice", "it-ops", "it-ops"]})
    made = sentinel.create_watchlist("hva", "High value assets", "Hostname", data=hosts)
    assert made["properties"]["itemsSearchKey"] == "Hostname"
    assert list(sentinel.list_watchlists()["name"]) == ["hva"]
    items = sentinel.list_watchlist_items("hva")
    assert list(items["properties.itemsKeyValue.Hostname"]) == ["ws1", "dc1", "fs1"]

    sentinel.add_watchlist_item("hva", {"Hostname": "ws9", "Owner": "bob"})
    sentinel.add_watchlist_item("hva", pd.Series({"Hostname": "ws10", "Owner": "carol"}))
    with pytest.raises(ValueError, match="already has an item"):
        sentinel.add_watchlist_item("hva", hosts.iloc[:1])
    replaced = sentinel.add_watchlist_item("hva", hosts.iloc[:1], overwrite=True)
    assert replaced[0]["name"] == items.loc[0, "name"]
    assert len(sentinel.list_watchlist_items("hva")) == 5
    with pytest.raises(huntbook.SentinelNotFoundError, match="watchlist nope"):
        sentinel.list_watchlist_items("nope")


def test_not_connected_says_so():
    with pytest.raises(RuntimeError, match="connect"):
        huntbook.MicrosoftSentinel().list_incidents()
