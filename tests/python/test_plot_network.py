"""Network and incident (entity) graphs in the browser: huntbook.plot.network and
huntbook.plot.incident_graph drawn from the sample flows and alerts, checked against
counts computed here from the same frames, and against MSTICPy's graph of the same
flows (df_to_networkx)."""

import json
import pathlib

import collections
import contextlib
import io

import pandas as pd
import pytest

import huntbook
from msticpy.transform.network import df_to_networkx
from msticpy.vis.entity_graph_tools import EntityGraph

HEIGHT = 860  # the chart (700 px) with its title, legend and note


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(folder)
    return folder


@pytest.fixture(scope="module")
def flows(sample) -> pd.DataFrame:
    return pd.read_parquet(sample / "network.parquet")


@pytest.fixture(scope="module")
def alerts(sample) -> pd.DataFrame:
    return pd.read_parquet(sample / "alerts.parquet")


def open_chart(chromium, chart, tmp_path, name="chart"):
    path = tmp_path / f"{name}.html"
    chart.save(path)
    page = chromium.open(path, height=HEIGHT)
    page.eval("() => document.querySelector('.hb-chart canvas').scrollIntoView()")
    return page


def api(page, call):
    return page.eval(f"() => document.querySelector('.hb-chart').hbChart.{call}")


def dataset(page):
    return page.eval("() => Object.assign({}, document.querySelector('.hb-chart').dataset)")


def to_viewport(page, point):
    """A point in canvas pixels as viewport pixels, for the mouse."""
    rect = page.eval("() => { const r = document.querySelector('.hb-chart canvas').getBoundingClientRect(); return [r.left, r.top]; }")
    return point[0] + rect[0], point[1] + rect[1]


def tip_text(page) -> str:
    return page.eval("() => { const t = document.querySelector('.hb-tip'); return t.style.display === 'block' ? t.textContent : ''; }")


def in_view(spec, view, size):
    """Indexes of the nodes whose centre is on the canvas, computed here from the
    layout in the spec and the chart's view."""
    xs, ys = spec["nodes"]["x"], spec["nodes"]["y"]
    w, h = size
    return {
        i for i, (x, y) in enumerate(zip(xs, ys))
        if 0 <= x * view["k"] + view["tx"] <= w and 0 <= y * view["k"] + view["ty"] <= h
    }


def network_chart(flows):
    return flows.hb.network(
        source_col="SourceIP",
        target_col="DestinationIP",
        source_attrs=["DeviceName"],
        target_attrs=["DestinationHostName"],
        edge_attrs=["DestinationPort", "Protocol"],
    )


def test_nodes_and_edges_match_msticpy_graph_of_the_same_flows(flows):
    chart = network_chart(flows)
    spec = chart.spec
    graph = df_to_networkx(flows, "SourceIP", "DestinationIP", source_attrs=["DeviceName"],
                           target_attrs=["DestinationHostName"], edge_attrs=["DestinationPort"])
    assert set(spec["nodes"]["label"]) == set(graph.nodes)
    labels = spec["nodes"]["label"]
    ours = {frozenset((labels[s], labels[t])) for s, t in zip(spec["edges"]["s"], spec["edges"]["t"])}
    assert ours == {frozenset(e) for e in graph.edges}
    # Counts per pair, as rows of the frame.
    pairs = flows.apply(lambda r: frozenset((r.SourceIP, r.DestinationIP)), axis=1).value_counts()
    counts = {frozenset((labels[s], labels[t])): c for s, t, c in zip(spec["edges"]["s"], spec["edges"]["t"], spec["edges"]["count"])}
    assert counts == pairs.to_dict()
    # Degrees: distinct neighbours other than the node itself (a flow from an address
    # to itself is an edge but not a neighbour).
    assert spec["nodes"]["degree"] == [len(set(graph.neighbors(label)) - {label}) for label in labels]


def test_network_loads_clean_and_draws_every_endpoint(chromium, flows, tmp_path):
    chart = network_chart(flows)
    page = open_chart(chromium, chart, tmp_path)
    page.assert_clean()
    state = dataset(page)
    endpoints = set(flows.SourceIP) | set(flows.DestinationIP)
    # At the fit every node is in view, so every distinct endpoint is drawn.
    assert int(state["marks"]) == len(endpoints)
    pairs = {frozenset(p) for p in zip(flows.SourceIP, flows.DestinationIP)}
    assert int(state["edges"]) == len(pairs)
    assert int(state["labels"]) > 0
    page.screenshot("plot_network")


def test_hovering_a_node_shows_its_name_and_attributes(chromium, flows, tmp_path):
    chart = network_chart(flows)
    spec = chart.spec
    page = open_chart(chromium, chart, tmp_path)
    # The busiest destination: many sources, one host name.
    node = max(range(len(spec["nodes"]["label"])), key=lambda i: spec["nodes"]["degree"][i])
    name = spec["nodes"]["label"][node]
    page.hover(*to_viewport(page, api(page, f"nodeAt({node})")))
    text = tip_text(page)
    assert f"Name: {name}" in text
    hosts = flows.loc[flows.DestinationIP == name, "DestinationHostName"].unique()
    assert f"DestinationHostName: {', '.join(hosts)}" in text
    neighbours = set(flows.loc[flows.DestinationIP == name, "SourceIP"]) | set(flows.loc[flows.SourceIP == name, "DestinationIP"])
    assert f"Connections: {len(neighbours - {name})}" in text
    page.screenshot("plot_network_hover")


def test_hovering_an_edge_shows_its_count(chromium, flows, tmp_path):
    chart = network_chart(flows)
    spec = chart.spec
    page = open_chart(chromium, chart, tmp_path)
    labels, edges = spec["nodes"]["label"], spec["edges"]
    # The longest edge on screen, hovered at its middle, far from both ends.
    def length(e):
        a, b = api(page, f"nodeAt({edges['s'][e]})"), api(page, f"nodeAt({edges['t'][e]})")
        return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2
    edge = max(range(len(edges["s"])), key=length)
    page.hover(*to_viewport(page, api(page, f"edgeAt({edge})")))
    text = tip_text(page)
    a, b = labels[edges["s"][edge]], labels[edges["t"][edge]]
    rows = flows[((flows.SourceIP == a) & (flows.DestinationIP == b)) | ((flows.SourceIP == b) & (flows.DestinationIP == a))]
    assert f"Edge: {a} – {b}" in text
    assert f"Count: {len(rows)}" in text
    ports = ", ".join(str(p) for p in rows.DestinationPort.unique())
    assert f"DestinationPort: {ports}" in text


def test_zoom_shows_the_nodes_in_the_view(chromium, flows, tmp_path):
    chart = network_chart(flows)
    spec = chart.spec
    page = open_chart(chromium, chart, tmp_path)
    size = api(page, "size()")
    node = spec["nodes"]["degree"].index(max(spec["nodes"]["degree"]))
    x, y = api(page, f"nodeAt({node})")
    # Zoom in 6x around the busiest node: only its surroundings stay in view.
    vx, vy = to_viewport(page, (x, y))
    for _ in range(10):
        page.page.mouse.move(vx, vy)
        page.page.mouse.wheel(0, -100)
    page.hover(vx, vy)
    view = api(page, "view()")
    assert view["k"] > view["fit"] * 5
    expected = in_view(spec, view, size)
    assert node in expected and 0 < len(expected) < len(spec["nodes"]["label"])
    assert set(api(page, "visibleNodes()")) == expected
    assert int(dataset(page)["marks"]) == len(expected)
    page.screenshot("plot_network_zoomed")
    # Drag pans: the view moves with the mouse, and what is in view follows.
    page.page.mouse.move(vx, vy)
    page.page.mouse.down()
    page.page.mouse.move(vx + 200, vy + 100, steps=4)
    page.page.mouse.up()
    moved = api(page, "view()")
    assert moved["tx"] == pytest.approx(view["tx"] + 200) and moved["ty"] == pytest.approx(view["ty"] + 100)
    assert int(dataset(page)["marks"]) == len(in_view(spec, moved, size))
    page.page.mouse.dblclick(*to_viewport(page, (5, 5)))
    assert int(dataset(page)["marks"]) == len(spec["nodes"]["label"])
    # zoom(k, cx, cy) keeps the point under (cx, cy) in place.
    before = api(page, f"nodeAt({node})")
    api(page, f"zoom(3, {before[0]}, {before[1]})")
    assert api(page, f"nodeAt({node})") == pytest.approx(before)
    assert int(dataset(page)["marks"]) == len(in_view(spec, api(page, "view()"), size))


def python_entities(alerts):
    """Distinct entities of the alerts, parsed here: hosts by name and domain,
    accounts by domain and name, IPs by address (the sample's only types)."""
    keys = set()
    for text in alerts.Entities:
        for entity in json.loads(text):
            kind = entity["Type"]
            if kind == "host":
                keys.add(("host", entity["HostName"].lower(), (entity.get("DnsDomain") or "").lower()))
            elif kind == "account":
                keys.add(("account", (entity.get("NTDomain") or "").lower(), entity["Name"].lower()))
            elif kind == "ip":
                keys.add(("ip", entity["Address"]))
            else:
                raise AssertionError(f"the sample has a {kind} entity: extend this parse")
    return keys


def test_incident_graph_nodes_are_the_alerts_and_their_entities(chromium, alerts, tmp_path):
    chart = huntbook.plot.incident_graph(alerts)
    spec = chart.spec
    entities = python_entities(alerts)
    assert len(spec["nodes"]["label"]) == len(alerts) + len(entities)
    kinds = [spec["kinds"][k] for k in spec["nodes"]["kind"]]
    assert kinds.count("Alert") == len(alerts)
    assert kinds.count("Host") == len({k for k in entities if k[0] == "host"})
    assert kinds.count("IpAddress") == len({k for k in entities if k[0] == "ip"})
    # One edge per alert and entity it names (the sample's entities have no links).
    links = sum(len(json.loads(t)) for t in alerts.Entities)
    assert len(spec["edges"]["s"]) == links
    # A host named by several alerts is one node joined to each of them.
    degree = dict(zip(spec["nodes"]["label"], spec["nodes"]["degree"]))
    host_alerts = {}
    for text in alerts.Entities:
        for entity in json.loads(text):
            if entity["Type"] == "host":
                name = f"{entity['HostName']}.{entity['DnsDomain']}"
                host_alerts[name] = host_alerts.get(name, 0) + 1
    for name, count in host_alerts.items():
        assert degree[name] == count

    page = open_chart(chromium, chart, tmp_path, "incident")
    page.assert_clean()
    assert int(dataset(page)["marks"]) == len(spec["nodes"]["label"])
    legend = page.eval("() => document.querySelector('.hb-legend').textContent")
    for kind in ("Alert", "Host", "Account", "IpAddress"):
        assert kind in legend
    # Hover the busiest host: its name and properties.
    host = max((i for i, k in enumerate(kinds) if k == "Host"), key=lambda i: spec["nodes"]["degree"][i])
    page.hover(*to_viewport(page, api(page, f"nodeAt({host})")))
    text = tip_text(page)
    assert f"Name: {spec['nodes']['label'][host]}" in text and "Kind: Host" in text and "Type: host" in text
    page.screenshot("plot_incident_graph")
    # Hover an alert: its name and severity from the frame.
    first = 0
    page.hover(*to_viewport(page, api(page, f"nodeAt({first})")))
    text = tip_text(page)
    assert f"AlertName: {alerts.AlertName.iloc[0]}" in text
    assert f"AlertSeverity: {alerts.AlertSeverity.iloc[0]}" in text


def test_incident_graph_entities_match_msticpy_entity_graph(alerts):
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = EntityGraph(alerts).graph
    # MSTICPy keys alert nodes by their display name (so alerts merge); compare the
    # entities: the same number of each type after merging those several alerts share.
    their_types = collections.Counter(
        data["Type"] for _, data in theirs.nodes(data=True) if data.get("Type") != "alert"
    )
    spec = huntbook.plot.incident_graph(alerts).spec
    names = {"Host": "host", "Account": "account", "IpAddress": "ip"}
    ours = collections.Counter(names[spec["kinds"][k]] for k in spec["nodes"]["kind"] if spec["kinds"][k] != "Alert")
    assert ours == their_types
    assert sum(ours.values()) > 0


def test_incidents_link_to_their_alerts(chromium, alerts, tmp_path):
    ids = alerts.SystemAlertId.tolist()
    incidents = pd.DataFrame({
        "Title": ["Brute force then logon", "Service installs"],
        "IncidentNumber": [7, 8],
        "AlertIds": [json.dumps(ids[:3]), json.dumps(ids[3:5] + ["not-in-the-alerts"])],
    })
    chart = incidents.hb.incident_graph(alerts=alerts.head(10))
    spec = chart.spec
    labels, kinds = spec["nodes"]["label"], [spec["kinds"][k] for k in spec["nodes"]["kind"]]
    assert kinds[:2] == ["Incident", "Incident"] and kinds[2:12] == ["Alert"] * 10
    assert labels[:2] == incidents.Title.tolist()
    assert len(labels) == 2 + 10 + len(python_entities(alerts.head(10)))
    relation = spec["edges"]["tips"][0]
    has_alert = sorted(
        (s, t) for i, (s, t) in enumerate(zip(spec["edges"]["s"], spec["edges"]["t"]))
        if relation["dict"][relation["codes"][i]] == "has alert"
    )
    assert has_alert == [(0, 2), (0, 3), (0, 4), (1, 5), (1, 6)]
    assert chart.title == "Incident entity graph"
    page = open_chart(chromium, chart, tmp_path, "incidents")
    page.assert_clean()
    assert int(dataset(page)["marks"]) == len(labels)
    page.screenshot("plot_incident_graph_incidents")


def test_incident_graph_links_entities_to_each_other(alerts):
    process_alert = pd.DataFrame({
        "AlertName": ["Suspicious process"],
        "Entities": [[
            {"$id": "2", "HostName": "ws1", "DnsDomain": "contoso.local", "Type": "host"},
            {"$id": "3", "ProcessId": "42", "CommandLine": "cmd.exe /c whoami", "Host": {"$ref": "2"},
             "ImageFile": {"$id": "4", "Name": "cmd.exe", "Directory": "C:\\Windows", "Type": "file"},
             "Type": "process"},
        ]],
    })
    spec = huntbook.plot.incident_graph(process_alert).spec
    labels = spec["nodes"]["label"]
    relation = spec["edges"]["tips"][0]
    assert relation["name"] == "Relation"
    found = {
        (labels[s], labels[t]): relation["dict"][relation["codes"][i]]
        for i, (s, t) in enumerate(zip(spec["edges"]["s"], spec["edges"]["t"]))
    }
    assert found[("Suspicious process", "ws1.contoso.local")] == "has entity"
    assert found[("cmd.exe (42)", "ws1.contoso.local")] == "Host"
    assert found[("cmd.exe (42)", "C:\\Windows\\cmd.exe")] == "ImageFile"


def test_directed_and_empty_graphs_draw(chromium, flows, tmp_path):
    chart = huntbook.plot.network(flows, "DeviceName", "DestinationPort", graph_type="digraph")
    spec = chart.spec
    assert spec["directed"] is True
    assert len(spec["edges"]["s"]) == len(set(zip(flows.DeviceName, flows.DestinationPort)))
    page = open_chart(chromium, chart, tmp_path, "directed")
    page.assert_clean()
    assert int(dataset(page)["marks"]) == flows.DeviceName.nunique() + flows.DestinationPort.nunique()
    page.screenshot("plot_network_directed")
    empty = huntbook.plot.network(flows.head(0), "SourceIP", "DestinationIP")
    page = open_chart(chromium, empty, tmp_path, "empty")
    page.assert_clean()
    assert int(dataset(page)["marks"]) == 0


def test_bad_input_is_a_value_error_naming_what_to_fix(flows, alerts):
    with pytest.raises(ValueError, match="'DstIP'"):
        huntbook.plot.network(flows, "SourceIP", "DstIP")
    with pytest.raises(ValueError, match="graph_type"):
        huntbook.plot.network(flows, "SourceIP", "DestinationIP", graph_type="multigraph")
    with pytest.raises(ValueError, match="layout"):
        huntbook.plot.network(flows, "SourceIP", "DestinationIP", layout="circular")
    broken = alerts.head(2).assign(Entities=["[]", "not json"])
    with pytest.raises(ValueError, match="column 'Entities', row 1"):
        huntbook.plot.incident_graph(broken)
    with pytest.raises(ValueError, match="entities_column"):
        huntbook.plot.incident_graph(alerts.drop(columns="Entities"))
