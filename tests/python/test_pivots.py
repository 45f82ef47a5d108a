"""Pivot functions on the sample dataset: queries attached to entities by parameter
name (the same names as MSTICPy's table), value / list / DataFrame / entity inputs
giving the query's own rows, the four joins, util and TI pivots (TI against a local
VirusTotal), the df.hb_pivot accessor and YAML pipelines."""

import pandas as pd
import pytest

import huntbook
from huntbook import pivots
from test_geo import CITY, whois_services  # noqa: F401 (fixtures are used by name)
from test_ti import _config, vt_server  # noqa: F401

ANCHOR = "2024-06-01T12:00:00Z"
START, END = "2024-05-20T00:00:00Z", ANCHOR
HOST = "WORKSTATION-07.contoso.local"


@pytest.fixture(scope="module")
def qp(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(folder, rows=500, seed=7, anchor=ANCHOR)
    return huntbook.QueryProvider("LocalData", data_paths=[folder])


def _queries_with(qp, param):
    catalogue = qp.browse_queries()
    has = catalogue["parameters"].map(lambda p: param in [x.strip() for x in p.split(",")])
    return set(catalogue[has]["query"])


def test_queries_attach_by_parameter_name(qp):
    for param, entity in [("host_name", huntbook.Host), ("account_name", huntbook.Account),
                          ("ip_address_list", huntbook.IpAddress), ("domain_list", huntbook.Dns),
                          ("url_list", huntbook.Url)]:
        expected = _queries_with(qp, param)
        assert expected, param
        attached = set(pivots.list_pivots(entity)["LocalData"])
        assert expected <= attached, (param, expected - attached)
    assert "list_host_processes" in dir(huntbook.Host.LocalData)
    assert "LocalData" in dir(huntbook.Host) and "LocalData" in huntbook.Host.pivots()
    # No query takes a registry key: the kind has no LocalData container.
    with pytest.raises(AttributeError, match="no attribute or pivot container 'LocalData'"):
        huntbook.RegistryKey.LocalData


def test_the_same_parameter_table_as_msticpy():
    from msticpy.init.pivot_init.pivot_data_queries import PARAM_ENTITY_MAP

    ours = {}
    for param, kind, prop in huntbook._huntbook.pivot_params():
        ours.setdefault(param, []).append((kind, prop))
    shared = set(ours) & set(PARAM_ENTITY_MAP)
    assert {"host_name", "account_name", "ip_address", "ip_address_list", "domain", "url", "file_hash",
            "process_id", "commandline", "logon_session_id", "resource_id", "user", "cmd_line"} <= shared
    for param in shared:
        theirs = PARAM_ENTITY_MAP[param]
        # MSTICPy also maps logon_session_id to Process.LogonSession, a link we do not pivot on.
        theirs = [(e.__name__, a) for e, a in theirs if (e.__name__, a) != ("Process", "LogonSession")]
        assert [k for k, _ in ours[param]] == [e for e, _ in theirs], param
        for (_, ours_attr), (_, their_attr) in zip(ours[param], theirs):
            # MSTICPy names computed attributes (fqdn, file_hash); ours are properties.
            expected = {"fqdn": "FQDN", "file_hash": "Sha256"}.get(their_attr, their_attr)
            assert ours_attr == expected, param


def test_value_list_frame_and_entity_inputs_give_the_querys_rows(qp):
    direct = qp.WindowsSecurity.list_host_processes(host_name=HOST, start=START, end=END)
    assert len(direct) > 0
    pivot = huntbook.Host.LocalData.list_host_processes
    by_keyword = pivot(host_name=HOST, start=START, end=END)
    by_value = pivot(HOST, start=START, end=END)
    by_entity = pivot(huntbook.Host(HostName="WORKSTATION-07", DnsDomain="contoso.local"), start=START, end=END)
    pd.testing.assert_frame_equal(by_keyword, direct)
    pd.testing.assert_frame_equal(by_value, direct)
    pd.testing.assert_frame_equal(by_entity, direct)

    other = "WORKSTATION-03.contoso.local"
    both = pd.concat([direct, qp.WindowsSecurity.list_host_processes(host_name=other, start=START, end=END)],
                     ignore_index=True)
    pd.testing.assert_frame_equal(pivot([HOST, other, HOST], start=START, end=END), both)
    hosts = pd.DataFrame({"Computer": [HOST, other, None]})
    pd.testing.assert_frame_equal(pivot(hosts, column="Computer", start=START, end=END), both)
    # MSTICPy's form: the query parameter names the column.
    pd.testing.assert_frame_equal(pivot(hosts, host_name="Computer", start=START, end=END), both)

    # A list parameter takes every value in one query.
    ips = ["203.0.113.66", "10.0.2.53"]
    pd.testing.assert_frame_equal(
        huntbook.IpAddress.LocalData.list_logons_by_ip(ips, start=START, end=END),
        qp.WindowsSecurity.list_logons_by_ip(ip_address_list=ips, start=START, end=END),
    )
    with pytest.raises(KeyError, match="'Nope' is not in the DataFrame"):
        pivot(hosts, column="Nope", start=START, end=END)
    with pytest.raises(TypeError, match="needs its input"):
        pivot(start=START, end=END)


def test_joins_put_results_beside_their_input_rows(qp):
    pivot = huntbook.Host.LocalData.list_host_processes
    hosts = pd.DataFrame({"Computer": [HOST, "nowhere.contoso.local"], "Owner": ["bob", "nobody"]})
    found = len(qp.WindowsSecurity.list_host_processes(host_name=HOST, start=START, end=END))
    inner = pivot(hosts, column="Computer", join="inner", start=START, end=END)
    assert len(inner) == found and set(inner["Owner"]) == {"bob"}
    assert (inner["Computer"] == HOST).all()
    # The input's Computer column clashes with the query's: the query's is renamed.
    assert "Computer_list_host_processes" in inner.columns
    left = pivot(hosts, column="Computer", join="left", start=START, end=END)
    assert len(left) == found + 1
    assert left[left["Owner"] == "nobody"]["CommandLine"].isna().all()
    right = pivot(hosts, column="Computer", join="right", start=START, end=END)
    assert len(right) == found
    outer = pivot(hosts, column="Computer", join="outer", start=START, end=END)
    assert len(outer) == found + 1
    with pytest.raises(ValueError, match="join='sideways': use one of inner, left, right, outer"):
        pivot(hosts, column="Computer", join="sideways", start=START, end=END)


def test_util_pivots():
    types = huntbook.IpAddress.util.ip_type(["10.0.0.1", "8.8.8.8", "10.0.0.1"])
    assert types.to_dict("list") == {"ip": ["10.0.0.1", "8.8.8.8"], "result": ["Private", "Public"]}
    df = pd.DataFrame({"SourceIP": ["8.8.8.8", "127.0.0.1", "8.8.8.8"]})
    joined = huntbook.IpAddress.util.ip_type(df, column="SourceIP", join="left")
    assert joined["result"].tolist() == ["Public", "Loopback", "Public"]

    cmd = ("powershell -enc dwBoAG8AYQBtAGkAIAAvAGEAbABsADsAIABHAGUAdAAtAFAAcgBvAGMAZQBzAHMAIAB8ACAATwB1AHQALQBG"
           "AGkAbABlACAAQwA6AC8AdABlAG0AcAAvAHAALgB0AHgAdAA=")
    decoded = huntbook.Process.util.b64decode(pd.DataFrame({"cmd": ["dir", cmd]}), column="cmd", join="left")
    assert decoded["cmd"].tolist() == ["dir", cmd]
    assert decoded["decoded_string"].tolist()[1] == "whoami /all; Get-Process | Out-File C:/temp/p.txt"
    assert pd.isna(decoded["decoded_string"].tolist()[0])
    iocs = huntbook.Process.util.ioc_extract(pd.DataFrame({"cmd": ["curl http://evil.example.com/x"]}),
                                             column="cmd", join="inner")
    assert "http://evil.example.com/x" in iocs["Observable"].tolist()
    assert {"util"} <= set(huntbook.Process.pivots()) and "ti" not in huntbook.Process.pivots()


def test_geoloc_and_whois_pivots_join_back_to_rows(tmp_path, whois_services):  # noqa: F811
    huntbook.write_mmdb(tmp_path / "GeoLite2-City.mmdb", CITY)
    signins = pd.DataFrame({"User": ["ann", "bob", "cy"], "SourceIP": ["81.2.69.160", "10.0.0.7", "81.2.69.160"]})
    located = huntbook.IpAddress.util.geoloc(signins, column="SourceIP", join="left",
                                             databases=[tmp_path / "GeoLite2-City.mmdb"])
    assert located["User"].tolist() == ["ann", "bob", "cy"]
    assert located["City"].tolist() == ["London", "location unknown", "London"]
    alone = huntbook.IpAddress.util.geoloc(signins["SourceIP"], databases=[tmp_path / "GeoLite2-City.mmdb"])
    assert alone["IpAddress"].tolist() == ["81.2.69.160", "10.0.0.7"]

    bootstrap, cymru = whois_services
    owners = huntbook.IpAddress.util.whois(pd.Series(["13.107.4.50", "13.107.4.50"]),
                                           rdap_bootstrap=bootstrap, cymru_server=cymru)
    assert owners[["IpAddress", "asn"]].values.tolist() == [["13.107.4.50", "8068"]]


def test_ti_pivots_by_type_and_provider(tmp_path, monkeypatch, vt_server):  # noqa: F811
    monkeypatch.setenv("HUNTBOOK_CONFIG", _config(tmp_path, monkeypatch, vt_server))
    pivots.set_ti_lookup(None)  # made from the configuration on first use
    try:
        box = huntbook.IpAddress.ti
        assert {"lookup_ip", "lookup_ipv4", "lookup_ipv6", "lookup_ipv4_VirusTotal"} <= set(dir(box))
        result = huntbook.IpAddress.ti.lookup_ipv4("38.75.137.9")
        assert result[["Ioc", "Provider", "Severity"]].values.tolist() == [["38.75.137.9", "VirusTotal", "high"]]
        df = pd.DataFrame({"IP": ["38.75.137.9", "45.33.32.156", "38.75.137.9"], "n": [1, 2, 3]})
        joined = df.hb_pivot.run(huntbook.IpAddress.ti.lookup_ipv4_VirusTotal, column="IP", join="left")
        assert joined["n"].tolist() == [1, 2, 3]
        assert joined["Severity"].tolist()[0] == joined["Severity"].tolist()[2] == "high"
        assert joined["Status"].tolist()[1] == 404
        assert huntbook.Dns.ti.lookup_dns("evil-site.com")["Severity"].tolist() == ["high"]
    finally:
        pivots.set_ti_lookup(None)


def test_the_accessor_chains_steps(qp, capsys):
    df = qp.WindowsSecurity.list_host_processes(host_name=HOST, start=START, end=END)
    out = (df.hb_pivot.tee(var_name="procs_seen", clobber=True)
             .hb_pivot.filter("powershell")
             .hb_pivot.sort("TimeGenerated:desc"))
    import __main__

    assert __main__.procs_seen is df
    texts = df.select_dtypes(include=["object", "string"])
    mentions = texts.apply(lambda col: col.astype("string").str.contains("powershell", case=False, na=False))
    assert sorted(out.index) == sorted(df.index[mentions.any(axis=1)]) and len(out) < len(df)
    assert out["TimeGenerated"].is_monotonic_decreasing
    assert list(df.hb_pivot.filter_cols(["Time*", "commandline"]).columns) == ["TimeGenerated", "CommandLine"]
    assert list(df.hb_pivot.filter_cols("^(Process|New)").columns) == ["NewProcessId", "NewProcessName", "ProcessId"]
    assert df.hb_pivot.tee_exec("head", 2) is df
    assert df.hb_pivot.display(title="Processes", cols=["CommandLine"], head=2) is df
    with pytest.raises(ValueError, match="'Nope' names no column"):
        df.hb_pivot.sort("Nope")
    with pytest.raises(ValueError, match="no column matches"):
        df.hb_pivot.filter_cols("Nope")


PIPELINE = """
pipelines:
  host_hunt:
    description: Processes of alerted hosts, then their public addresses
    steps:
      - name: processes
        step_type: pivot
        entity: Host
        function: LocalData.list_host_processes
        comment: every process of each alerted host
        params:
          column: CompromisedEntity
          join: inner
          start: "2024-05-20T00:00:00Z"
          end: "2024-06-01T12:00:00Z"
      - name: keep
        step_type: pivot_tee
        params: {var_name: hunt_processes, clobber: true}
      - name: powershell
        step_type: pd_accessor
        function: hb_pivot.filter
        pos_params: [powershell]
      - name: newest_first
        step_type: pd_accessor
        function: mp_pivot.sort
        params: {cols: "TimeGenerated:desc"}
      - name: peek
        step_type: pivot_tee_exec
        function: head
        pos_params: [3]
"""


def test_a_yaml_pipeline_runs_end_to_end(qp):
    alerts = qp.SecurityAlert.list_alerts(start=START, end=END)
    alerted = alerts[alerts["CompromisedEntity"] == HOST].head(1)
    pipeline = pivots.Pipeline.from_yaml(PIPELINE)
    assert [s.name for s in pipeline.steps] == ["processes", "keep", "powershell", "newest_first", "peek"]
    result = pipeline.run(data=alerted)

    procs = qp.WindowsSecurity.list_host_processes(host_name=HOST, start=START, end=END)
    mentions = procs.select_dtypes(include=["object", "string"]).apply(
        lambda col: col.astype("string").str.contains("powershell", case=False, na=False))
    expected = procs[mentions.any(axis=1)]
    assert len(result) == len(expected) > 0
    assert sorted(result["CommandLine"]) == sorted(expected["CommandLine"])
    assert result["TimeGenerated"].is_monotonic_decreasing
    assert (result["AlertName"] == alerted["AlertName"].iloc[0]).all()
    import __main__

    assert len(__main__.hunt_processes) == len(procs)


def test_bad_pipelines_name_pipeline_step_and_line(tmp_path):
    bad = PIPELINE.replace("step_type: pivot_tee\n", "step_type: pivot_teee\n")
    with pytest.raises(ValueError, match=r"pipeline 'host_hunt', step 'keep' \(pipeline text:16\): unknown step_type 'pivot_teee'"):
        pivots.Pipeline.from_yaml(bad)
    path = tmp_path / "p.yaml"
    path.write_text("pipelines:\n  p:\n    steps: [\n")
    with pytest.raises(ValueError, match=r"p.yaml: invalid YAML at line 4"):
        pivots.Pipeline.from_yaml(str(path))
    failing = pivots.Pipeline.from_yaml(
        "pipelines:\n  p:\n    steps:\n      - {name: s, step_type: pd_accessor, function: no_such_method}\n")
    with pytest.raises(ValueError, match=r"pipeline 'p', step 's' \(line 4\): .*no method or accessor 'no_such_method'"):
        failing.run(data=pd.DataFrame({"a": [1]}))
    two = PIPELINE + "  other:\n    steps: []\n"
    with pytest.raises(ValueError, match="has 2 pipelines"):
        pivots.Pipeline.from_yaml(two)
    assert pivots.Pipeline.from_yaml(two, name="other").steps == []
