"""huntbook's entity classes: made from the Rust model's kinds, built from values,
keywords and DataFrame rows, read from alerts' Entities JSON, described and shown as
HTML cards; compared with MSTICPy's entities on the sample alerts."""

import json

import pandas as pd
import pytest

import huntbook
from huntbook import _huntbook

ANCHOR = "2024-06-01T12:00:00Z"


@pytest.fixture(scope="module")
def alerts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(folder, rows=500, seed=7, anchor=ANCHOR)
    qp = huntbook.QueryProvider("LocalData", data_paths=[folder])
    return qp.SecurityAlert.list_alerts(start="2024-05-20T00:00:00Z", end=ANCHOR)


def test_one_class_per_kind_of_the_model_at_the_top_level():
    kinds = [k[0] for k in _huntbook.entity_kinds()]
    listed = huntbook._MODULES["huntbook.entities"]
    assert sorted(kinds) == sorted(n for n in listed if n != "Entity")
    for name in kinds:
        cls = getattr(huntbook, name)
        assert cls.__name__ == name and issubclass(cls, huntbook.Entity)
    assert huntbook.IpAddress._tag == "ip" and huntbook.IpAddress._key == "Address"


def test_values_keywords_and_rows_make_entities():
    ip = huntbook.IpAddress("38.75.137.9")
    assert ip == huntbook.IpAddress(Address="38.75.137.9") == huntbook.IpAddress(address="38.75.137.9")
    assert ip.Address == ip["Address"] == "38.75.137.9" and ip.AddressScope is None
    assert repr(ip) == "IpAddress(Address='38.75.137.9')"
    host = huntbook.Host(HostName="WORKSTATION-07", DnsDomain="contoso.local")
    assert str(host) == host.description == "WORKSTATION-07.contoso.local"
    assert host.observable == "WORKSTATION-07.contoso.local"
    account = huntbook.Account(pd.Series({"Name": "bob", "NTDomain": "CONTOSO", "Extra": float("nan")}))
    assert account.description == "CONTOSO\\bob" and "Extra" not in account.properties
    process = huntbook.Process(CommandLine="cmd /c whoami", ProcessId="42",
                               ImageFile={"Name": "cmd.exe", "Directory": "C:\\Windows"}, Host=host)
    assert isinstance(process.ImageFile, huntbook.File)
    assert process.description == "cmd.exe (42)"
    assert process.to_json()["Host"]["HostName"] == "WORKSTATION-07"
    with pytest.raises(AttributeError, match="no property 'Adress'"):
        ip.Adress
    with pytest.raises(TypeError, match="no single identifying property"):
        huntbook.NetworkConnection("10.0.0.1")


def test_from_frame_maps_columns_to_properties():
    df = pd.DataFrame({"Computer": ["ws1.contoso.local", "ws2.contoso.local"], "OS": ["Windows", "Linux"]})
    hosts = huntbook.Host.from_frame(df, HostName="Computer", OSFamily="OS")
    assert [h.HostName for h in hosts] == ["ws1.contoso.local", "ws2.contoso.local"]
    assert hosts[1].OSFamily == "Linux"
    named = huntbook.IpAddress.from_frame(pd.DataFrame({"Address": ["10.0.0.1"]}))
    assert named == [huntbook.IpAddress("10.0.0.1")]
    with pytest.raises(KeyError, match="'Host' are not in the DataFrame"):
        huntbook.Host.from_frame(df, HostName="Host")
    with pytest.raises(ValueError, match="no column of the DataFrame is named like a Host property"):
        huntbook.Host.from_frame(df)


def test_from_alert_reads_the_planted_host_account_and_ip(alerts):
    row = alerts[alerts["AlertName"] == "Suspicious encoded PowerShell command line"].iloc[0]
    found = huntbook.entities.from_alert(row)
    by_kind = {type(e).__name__: e for e in found}
    assert set(by_kind) == {"Host", "Account", "IpAddress"}
    assert by_kind["Host"].description == "WORKSTATION-07.contoso.local"
    assert by_kind["Account"].description == "CONTOSO\\bob"
    assert by_kind["IpAddress"].Address == "203.0.113.66"
    assert huntbook.entities.from_alert({"Entities": None}) == []


def test_linked_entities_are_nested_and_cycles_end():
    text = json.dumps([
        {"$id": "1", "HostName": "ws1", "Type": "host"},
        {"$id": "2", "ProcessId": "7", "Host": {"$ref": "1"}, "Type": "process",
         "ImageFile": {"$id": "3", "Name": "evil.exe", "Type": "file"},
         "ParentProcess": {"$id": "4", "ProcessId": "1", "ParentProcess": {"$ref": "2"}, "Type": "process"}},
        {"$id": "5", "Type": "blob-container", "Name": "x"},
    ])
    host, process, blob = huntbook.entities.from_json(text)
    assert process.Host == host and process.ImageFile.Name == "evil.exe"
    assert process.ParentProcess.ParentProcess == "evil.exe (7)"
    assert type(blob) is huntbook.Entity and blob.properties["Type"] == "blob-container"
    with pytest.raises(ValueError, match="the reference \"9\" names no entity"):
        huntbook.entities.from_json('[{"$ref": "9"}]')


def test_entity_html_shows_the_alerts_host_and_ip_escaped(alerts):
    row = alerts[alerts["AlertName"] == "Suspicious encoded PowerShell command line"].iloc[0]
    cards = "".join(e._repr_html_() for e in huntbook.entities.from_alert(row))
    assert "<b>Host</b> WORKSTATION-07.contoso.local" in cards
    assert "<b>IpAddress</b> 203.0.113.66" in cards
    from huntbook.display import alert_html

    shown = alert_html(row)
    assert "<b>Host</b> WORKSTATION-07.contoso.local" in shown and "203.0.113.66" in shown
    hostile = huntbook.Host(HostName="<img src=x onerror=alert(1)>")
    assert "<img" not in hostile._repr_html_() and "&lt;img" in hostile._repr_html_()
    process = huntbook.Process(ProcessId="1", Host=huntbook.Host(HostName="ws9"))
    assert "Host: <b>Host</b> ws9" in process._repr_html_()


def test_the_same_alert_entities_as_msticpy(alerts):
    from msticpy.datamodel import entities as mp

    compared = 0
    for text in alerts["Entities"].drop_duplicates():
        ours = huntbook.entities.from_json(text)
        theirs = [mp.Entity.instantiate_entity(e) for e in json.loads(text)]
        assert [type(e).__name__ for e in ours] == [type(e).__name__ for e in theirs]
        for a, b in zip(ours, theirs):
            if isinstance(a, huntbook.Host):
                assert a.description == b.fqdn
            elif isinstance(a, huntbook.IpAddress):
                assert a.Address == b.Address
            elif isinstance(a, huntbook.Account):
                assert (a.Name, a.NTDomain) == (b.Name, b.NTDomain)
            compared += 1
    assert compared > 20


def test_from_alerts_reads_every_row_in_one_pass(alerts):
    per_row = huntbook.entities.from_alerts(alerts)
    assert len(per_row) == len(alerts)
    assert per_row == [huntbook.entities.from_alert(row) for _, row in alerts.iterrows()]
    hosts = {e.description for row in per_row for e in row if isinstance(e, huntbook.Host)}
    assert "WORKSTATION-07.contoso.local" in hosts
    broken = pd.DataFrame({"Entities": ["[]", None, "[{"]})
    with pytest.raises(ValueError, match="entities of row 2: "):
        huntbook.entities.from_alerts(broken)
    assert huntbook.entities.from_alerts(broken.head(2)) == [[], []]
