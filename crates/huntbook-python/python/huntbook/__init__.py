"""huntbook: security operations and threat hunting with Jupyter notebooks.

The package is a thin face over huntbook's Rust core (``huntbook._huntbook``).

Running notebooks unattended (papermill's names)::

    import huntbook
    nb = huntbook.execute_notebook("examples/ip_triage.ipynb", "out.ipynb", parameters={"ip_address": "1.2.3.4"})
    huntbook.inspect_notebook("examples/ip_triage.ipynb")   # the parameters it declares

Recording and reading findings (scrapbook-compatible)::

    import huntbook
    huntbook.glue("hits", 12)                       # in a notebook cell
    nb = huntbook.read_notebook("out.ipynb")        # later, anywhere
    nb.scraps["hits"].data                          # 12

Querying security data (MSTICPy's query files and names)::

    qp = huntbook.QueryProvider("LocalData", data_paths=["data"])
    alerts = qp.SecurityAlert.list_alerts(start="-7d", end="now")

Security transforms on DataFrames (MSTICPy's columns)::

    iocs = huntbook.extract_iocs(events, columns=["CommandLine"])
    decoded = huntbook.unpack_base64(events, column="CommandLine")
    tree = huntbook.build_process_tree(procs)
    tree.hb_tree.summary()

Where addresses are and who holds them (MSTICPy's columns)::

    signins = huntbook.geoip(signins, ip_column="SourceIP")
    signins = huntbook.whois(signins, ip_column="SourceIP")
    huntbook.ip_type("10.1.2.3")                    # 'Private'

Microsoft Sentinel incidents, bookmarks and watchlists (MSTICPy's names)::

    sentinel = huntbook.MicrosoftSentinel(); sentinel.connect()
    sentinel.list_incidents()
    sentinel.create_incident(title="Beaconing from ws1", severity="Medium")

Time-series anomalies by STL (MSTICPy's ``timeseries_anomalies_stl``)::

    ts = huntbook.timeseries_anomalies(bytes_df, time_column="TimeGenerated", value_column="TotalBytesSent")
    huntbook.anomaly_kql_filter(ts)                 # '| where TimeGenerated between (...)'
Sessions, anomalous command sequences and beaconing (MSTICPy's analysis names)::

    sessions = huntbook.sessionize(events, user_columns=["UserId"], time_column="TimeGenerated",
                                   max_session_minutes=20, max_gap_minutes=2, event_column="Operation")
    scored = huntbook.score_sessions(sessions, session_column="Operation_list", window_length=3)
    beacons = huntbook.detect_polling(flows, time_column="TimeGenerated", group_by=["SourceIP", "DestinationIP"])

Threat intelligence across providers (MSTICPy's TILookup)::

    ti = huntbook.TILookup()
    ti.lookup_ioc("38.75.137.9")
    ti.lookup_iocs(df, column="Observable", providers=["OTX", "VirusTotal"])

Detections of classic attacks, with their evidence rows and a severity::

    huntbook.detect.brute_force(logons)
    huntbook.detect.impossible_travel(signins)

Charts as self-contained interactive HTML (no CDN, work offline)::

    huntbook.plot.timeline(events, group_by="Operation", source_columns=["UserId"])
    events.hb.timeline(group_by="Computer").save("timeline.html")

Notebook widgets that never block (defaults from injected parameters), styled text,
alerts and incidents::

    ip_text = huntbook.widgets.GetText(prompt="IP address to investigate", value=ip_address)
    qt = huntbook.widgets.QueryTime(units="day", before=1, after=0)
    huntbook.md("Findings", "large, bold"); huntbook.display_alert(alerts.iloc[0])
    huntbook.init_notebook()                        # what is configured, ready, missing

Packaged investigations of an IP address, a host, an account or alerts, with findings
to glue for unattended runs::

    s = huntbook.notebooklets.ip_address_summary("203.0.113.66", timespan=qt)
    s.summary; s.findings; s.ti_results; s.timeline; s.glue()

Entities and pivots: the functions that apply to an IP, a host, an account...
(MSTICPy's entity classes and pivot functions)::

    ip = huntbook.IpAddress("38.75.137.9")          # an HTML card in a notebook
    huntbook.IpAddress.ti.lookup_ipv4(ip)
    huntbook.Host.LocalData.list_host_processes(hosts_df, column="Computer", join="left")
    df.hb_pivot.run(huntbook.IpAddress.util.whois, column="IP", join="left").hb_pivot.sort("IP")

Clustering events and finding outliers (MSTICPy's eventcluster and outliers)::

    feats = huntbook.add_process_features(procs)
    clusters = huntbook.cluster_events(feats, ["commandlineTokensFull", "pathScore"])
    odd = huntbook.outliers(feats, ["commandlineLen", "pathScore"])
"""

import importlib
from typing import Any, Dict, List

from huntbook import _accessors

# What each public name is and where it lives. Nothing is imported until first used:
# most parts need pandas and pyarrow (about a second to import), and a notebook that
# only runs queries should not pay for ipywidgets or the chart code.
_MODULES: Dict[str, List[str]] = {
    "huntbook.errors": ["DeadKernelError", "ExecutionError", "ExecutionTimeout", "KernelStartError", "NotebookRunError"],
    "huntbook.execute": ["execute_notebook", "inspect_notebook"],
    "huntbook.notebooks": ["Notebook", "NotebookError", "Scrapbook", "read_notebook", "read_notebooks"],
    "huntbook.scraps": ["Scrap", "ScrapWarning", "Scraps", "glue"],
    "huntbook.data": ["QueryProvider", "write_sample_data"],
    "huntbook.clustering": ["add_process_features", "cluster_events", "cluster_labels", "outliers", "identify_outliers"],
    "huntbook.proctree": ["ProcessTreeAccessor", "build_process_tree"],
    "huntbook.transforms": [
        "AuditdWarning", "extract_iocs", "file_hash_type", "ioc_type", "mask", "parse_auditd",
        "risky_commands", "cmd_speed", "unpack_base64", "validate_ioc",
    ],
    "huntbook.geo": ["geoip", "whois", "ip_type", "is_global_ip", "write_mmdb"],
    "huntbook.sentinel": ["MicrosoftSentinel", "SentinelConflictError", "SentinelError", "SentinelNotFoundError"],
    "huntbook.ti": ["TILookup"],
    "huntbook.init": ["init_notebook", "NotebookStatus"],
    "huntbook.display": ["md", "display_alert", "display_incident"],
    "huntbook.timeseries": [
        "timeseries_anomalies", "stl_decompose", "anomaly_periods", "anomaly_kql_filter", "set_new_anomaly_threshold",
    ],
    "huntbook.sessions": ["Cmd", "sessionize", "score_sessions", "detect_polling", "polling_groups"],
    # One class per kind of the Rust entity model (tests/python/test_entities.py
    # checks that this list is the model's).
    "huntbook.entities": [
        "Entity", "Account", "AzureResource", "CloudApplication", "Dns", "File", "FileHash", "GeoLocation",
        "Host", "HostLogonSession", "IoTDevice", "IpAddress", "Mailbox", "MailCluster", "MailMessage",
        "Malware", "NetworkConnection", "Process", "RegistryKey", "RegistryValue", "SecurityGroup",
        "SubmissionMail", "Threatintelligence", "Url", "Alert", "Incident",
    ],
}
# Submodules reached as attributes (``huntbook.plot.timeline``).
_SUBMODULES = ["detect", "display", "entities", "notebooklets", "pivots", "plot", "widgets"]

_WHERE = {name: module for module, names in _MODULES.items() for name in names}

__all__ = ["__version__", *_WHERE, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = importlib.import_module("huntbook._huntbook").__version__
    elif name in _SUBMODULES:
        value = importlib.import_module(f"huntbook.{name}")
    elif name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'huntbook' has no attribute {name!r}")
    globals()[name] = value  # later uses are plain attribute reads
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))


_accessors.register_when_pandas_loads()
