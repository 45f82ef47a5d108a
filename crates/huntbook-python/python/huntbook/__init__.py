"""huntbook: security operations and threat hunting with Jupyter notebooks.

The package is a thin face over huntbook's Rust core (``huntbook._huntbook``).

Running notebooks unattended (papermill's names)::

    import huntbook
    nb = huntbook.execute_notebook("triage.ipynb", "out.ipynb", parameters={"ip_address": "1.2.3.4"})
    huntbook.inspect_notebook("triage.ipynb")       # the parameters it declares

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

Clustering events and finding outliers (MSTICPy's eventcluster and outliers)::

    feats = huntbook.add_process_features(procs)
    clusters = huntbook.cluster_events(feats, ["commandlineTokensFull", "pathScore"])
    odd = huntbook.outliers(feats, ["commandlineLen", "pathScore"])
"""

from huntbook import detect, plot
from huntbook._huntbook import __version__
from huntbook.clustering import add_process_features, cluster_events, cluster_labels, identify_outliers, outliers
from huntbook.data import QueryProvider, write_sample_data
from huntbook.display import display_alert, display_incident, md
from huntbook.errors import (
    DeadKernelError,
    ExecutionError,
    ExecutionTimeout,
    KernelStartError,
    NotebookRunError,
)
from huntbook.execute import execute_notebook, inspect_notebook
from huntbook.init import NotebookStatus, init_notebook
from huntbook.geo import geoip, ip_type, is_global_ip, whois, write_mmdb
from huntbook.notebooks import Notebook, NotebookError, Scrapbook, read_notebook, read_notebooks
from huntbook.proctree import ProcessTreeAccessor, build_process_tree
from huntbook.sentinel import MicrosoftSentinel, SentinelConflictError, SentinelError, SentinelNotFoundError
from huntbook.sessions import Cmd, detect_polling, polling_groups, score_sessions, sessionize
from huntbook.scraps import Scrap, Scraps, ScrapWarning, glue
from huntbook.ti import TILookup
from huntbook.timeseries import (
    anomaly_kql_filter,
    anomaly_periods,
    set_new_anomaly_threshold,
    stl_decompose,
    timeseries_anomalies,
)
from huntbook.transforms import (
    AuditdWarning,
    cmd_speed,
    extract_iocs,
    file_hash_type,
    ioc_type,
    mask,
    parse_auditd,
    risky_commands,
    unpack_base64,
    validate_ioc,
)

__all__ = [
    "__version__",
    "DeadKernelError",
    "ExecutionError",
    "ExecutionTimeout",
    "KernelStartError",
    "NotebookRunError",
    "execute_notebook",
    "inspect_notebook",
    "Notebook",
    "NotebookError",
    "Scrap",
    "ScrapWarning",
    "Scrapbook",
    "Scraps",
    "glue",
    "read_notebook",
    "read_notebooks",
    "QueryProvider",
    "write_sample_data",
    "add_process_features",
    "cluster_events",
    "cluster_labels",
    "outliers",
    "identify_outliers",
    "AuditdWarning",
    "ProcessTreeAccessor",
    "build_process_tree",
    "extract_iocs",
    "file_hash_type",
    "ioc_type",
    "mask",
    "parse_auditd",
    "risky_commands",
    "cmd_speed",
    "unpack_base64",
    "validate_ioc",
    "geoip",
    "whois",
    "ip_type",
    "is_global_ip",
    "write_mmdb",
    "MicrosoftSentinel",
    "SentinelConflictError",
    "SentinelError",
    "SentinelNotFoundError",
    "TILookup",
    "detect",
    "plot",
    "widgets",
    "init_notebook",
    "NotebookStatus",
    "md",
    "display_alert",
    "display_incident",
    "timeseries_anomalies",
    "stl_decompose",
    "anomaly_periods",
    "anomaly_kql_filter",
    "set_new_anomaly_threshold",
    "Cmd",
    "sessionize",
    "score_sessions",
    "detect_polling",
    "polling_groups",
]


def __getattr__(name: str):
    # Widgets need ipywidgets, which takes a while to import: load them on first use.
    if name == "widgets":
        import importlib

        return importlib.import_module("huntbook.widgets")
    raise AttributeError(f"module 'huntbook' has no attribute {name!r}")
