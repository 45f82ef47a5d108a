"""Notebooklets: packaged investigations of an IP address, a host, an account or alerts.

Each notebooklet runs the queries that apply to its subject, enriches what they return
(GeoIP, whois, threat intelligence), runs huntbook's detections over it, and returns a
:class:`NotebookletResult`: the tables as attributes (empty frames when nothing was
found), charts, a list of :class:`Finding` objects and a short text summary. The
scoring and matching happen in the Rust-backed functions they call
(:mod:`huntbook.detect`, :func:`huntbook.risky_commands`, :class:`huntbook.TILookup`
...); this module is the glue.

Data comes from a :class:`huntbook.QueryProvider`: LocalData over ``data_paths=``, or
over the configured ``DataProviders.LocalData.data_paths``, or over ``./data``; or the
provider passed as ``provider=`` (e.g. Microsoft Sentinel: the query names are
MSTICPy's, so the same notebooklet runs there). A query or a lookup that fails or is not
configured leaves an empty table and a note in ``result.notes``, never an exception.

Example::

    import huntbook as hb
    qt = hb.widgets.QueryTime(units="day", before=7)
    s = hb.notebooklets.ip_address_summary("203.0.113.66", timespan=qt)
    s.summary; s.findings; s.ti_results; s.timeline
    s.glue()            # scraps finding, finding_desc, severity, entities (+ the tables)
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import pandas as pd

__all__ = [
    "Finding",
    "NotebookletResult",
    "ip_address_summary",
    "host_summary",
    "account_summary",
    "alert_triage",
]

#: Microsoft Sentinel's incident severities, lowest first.
SEVERITIES = ("Informational", "Low", "Medium", "High")

#: TI and rule severities on Sentinel's scale (TI "information" is no finding).
_SEVERITY_NAMES = {"high": "High", "warning": "Medium", "medium": "Medium", "low": "Low", "informational": "Informational"}

#: Office 365 operations that create or change mailbox rules and forwarding.
_MAILBOX_RULE_OPERATIONS = {"New-InboxRule", "Set-InboxRule", "UpdateInboxRules", "Set-Mailbox", "New-TransportRule"}

#: How a result names its notebooklet in a heading.
_TITLES = {
    "ip_address_summary": "IP address summary",
    "host_summary": "Host summary",
    "account_summary": "Account summary",
    "alert_triage": "Alert triage",
}

#: Per table, the column a timeline shows for each event.
_TIMELINE_DETAIL = {
    "alerts": "AlertName",
    "related_alerts": "AlertName",
    "processes": "CommandLine",
    "logons": "Account",
    "host_flows": "DestinationIP",
    "signins": "IPAddress",
    "office_activity": "Operation",
    "syslog": "SyslogMessage",
    "linux_processes": "cmdline",
}

Progress = Optional[Callable[[int, int], Any]]
TimeSpan = Any  # a QueryTime or Lookback widget, or a (start, end) pair
PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class Finding:
    """Something a notebooklet found: what, how bad (``Informational``, ``Low``,
    ``Medium``, ``High``), why, and the entities involved (Sentinel ``Entities`` JSON
    objects). ``evidence`` holds the rows behind it."""

    title: str
    severity: str
    description: str
    entities: List[Dict[str, Any]] = field(default_factory=list)
    evidence: Optional[pd.DataFrame] = field(default=None, repr=False)

    def to_dict(self) -> Dict[str, Any]:
        return {"title": self.title, "severity": self.severity, "description": self.description, "entities": self.entities}


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


class NotebookletResult:
    """What a notebooklet found. Tables, charts and details are attributes
    (``s.geoip``, ``s.timeline``, ``s.ip_type``); ``tables``, ``charts`` and
    ``details`` hold them by name. Shows itself as HTML in a notebook.

    Attributes:
        notebooklet: which notebooklet made it (``"ip_address_summary"``...).
        subject: what was investigated.
        start, end: the time range the queries covered.
        findings: the :class:`Finding` list, most severe first.
        notes: what was skipped or failed (a lookup not configured, a query error).
    """

    def __init__(self, notebooklet: str, subject: str, start: pd.Timestamp, end: pd.Timestamp) -> None:
        self.notebooklet = notebooklet
        self.subject = subject
        self.start = start
        self.end = end
        self.tables: Dict[str, pd.DataFrame] = {}
        self.charts: Dict[str, Any] = {}
        self.details: Dict[str, Any] = {}
        self.findings: List[Finding] = []
        self.notes: List[str] = []

    def __getattr__(self, name: str) -> Any:
        for store in ("tables", "charts", "details"):
            values = self.__dict__.get(store, {})
            if name in values:
                return values[name]
        raise AttributeError(
            f"{self.__dict__.get('notebooklet', 'notebooklet')} result has no {name!r}; it has "
            + ", ".join(sorted(self._names()))
        )

    def _names(self) -> List[str]:
        return [*self.tables, *self.charts, *self.details]

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._names()))

    @property
    def severity(self) -> str:
        """The highest severity of the findings (``Informational`` when none)."""
        return max((f.severity for f in self.findings), key=_rank, default="Informational")

    @property
    def entities(self) -> List[Dict[str, Any]]:
        """The findings' entities, each once, numbered with ``$id`` as Sentinel does."""
        seen: Dict[str, Dict[str, Any]] = {}
        for finding in self.findings:
            for entity in finding.entities:
                seen.setdefault(json.dumps(entity, sort_keys=True), entity)
        return [{"$id": str(i), **e} for i, e in enumerate(seen.values(), start=1)]

    @property
    def finding_desc(self) -> str:
        """The findings, one line each (empty when none)."""
        return "\n".join(f"[{f.severity}] {f.title}: {f.description}" for f in self.findings)

    @property
    def summary(self) -> str:
        span = f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"
        counts = ", ".join(f"{len(t)} {name.replace('_', ' ')}" for name, t in self.tables.items() if len(t))
        head = f"{self.subject} ({span}): " + (counts or "no events")
        if not self.findings:
            return head + ". No findings."
        found = "; ".join(f"{f.title} ({f.severity})" for f in self.findings)
        return f"{head}. {len(self.findings)} finding(s), highest {self.severity}: {found}."

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.findings.sort(key=lambda f: -_rank(f.severity))

    def glue(self, tables: bool = True) -> None:
        """Record the result as scraps of the running notebook: ``finding`` (whether
        there is one), ``finding_desc``, ``severity``, ``entities``, ``findings``,
        ``summary``, ``notes`` and, with ``tables``, each non-empty table by its name."""
        from huntbook.scraps import glue

        glue("finding", bool(self.findings))
        glue("finding_desc", self.finding_desc)
        glue("severity", self.severity)
        glue("entities", self.entities)
        glue("findings", [f.to_dict() for f in self.findings])
        glue("summary", self.summary)
        glue("notes", list(self.notes))
        if tables:
            for name, table in self.tables.items():
                if len(table):
                    glue(name, _plain(table))

    def __repr__(self) -> str:
        return f"<{self.notebooklet}: {self.summary}>"

    def _repr_html_(self) -> str:
        from huntbook.display import md_html

        title = _TITLES.get(self.notebooklet, self.notebooklet)
        parts = [md_html(f"{title}: {self.subject}", "heading"), f"<p>{html.escape(self.summary)}</p>"]
        if self.findings:
            rows = "".join(
                f"<tr><td><b>{html.escape(f.severity)}</b></td><td>{html.escape(f.title)}</td><td>{html.escape(f.description)}</td></tr>"
                for f in self.findings
            )
            parts.append(f"<table><tr><th>Severity</th><th>Finding</th><th>Why</th></tr>{rows}</table>")
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        for name, table in self.tables.items():
            if len(table):
                parts.append(
                    f"<details><summary>{html.escape(name)} ({len(table)} rows)</summary>{table.head(10).to_html(max_cols=12)}</details>"
                )
        if self.charts:
            parts.append("<p>Charts: " + ", ".join(html.escape(n) for n in self.charts) + "</p>")
        return "<div class='hb-notebooklet'>" + "".join(parts) + "</div>"


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """The table with nested values (dicts, lists) as JSON text, so it stores as Parquet."""
    table = table.copy()
    for name in table.columns:
        if table[name].dtype == object and table[name].map(lambda v: isinstance(v, (dict, list, tuple))).any():
            table[name] = table[name].map(lambda v: json.dumps(v, default=str) if isinstance(v, (dict, list, tuple)) else v)
    return table


# --- Running: queries and lookups that never raise -------------------------------------


class _Run:
    """One notebooklet's run: its provider and time range, and progress; queries and
    lookups that fail leave an empty frame and a note instead of raising."""

    def __init__(self, result: NotebookletResult, provider: Any, steps: int, progress: Progress) -> None:
        self.result = result
        self.provider = provider
        self.steps = steps
        self.done = 0
        self.progress = progress

    def step(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done, self.steps), self.steps)

    def query(self, table: str, qualified: str, **params: Any) -> pd.DataFrame:
        """Runs ``Family.query`` over the time range and keeps its rows as ``table``."""
        frame = pd.DataFrame()
        node: Any = self.provider
        for part in qualified.split("."):
            node = getattr(node, part, None)
        if node is None:
            self.result.notes.append(f"{table}: the {self.provider.environment} query library has no {qualified}")
        else:
            try:
                frame = node(start=self.result.start, end=self.result.end, **params)
            except Exception as err:  # noqa: BLE001 - a failed query is a note, not the end
                self.result.notes.append(f"{table}: {qualified} failed: {err}")
        self.result.tables[table] = frame
        return frame

    def attempt(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``call(*args, **kwargs)``, or None with a note when it fails."""
        try:
            return call(*args, **kwargs)
        except Exception as err:  # noqa: BLE001
            self.result.notes.append(f"{what}: {err}")
            return None


def _time_range(timespan: TimeSpan, start: Any, end: Any) -> Tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` from a widget with ``.start``/``.end``, a pair, or ``start=``/
    ``end=`` (datetimes or MSTICPy's grammar: ``"-7d"``, ``"now"``); default the last 7 days."""
    from huntbook.widgets import _instant

    if timespan is not None:
        if start is not None or end is not None:
            raise TypeError("give timespan= or start=/end=, not both")
        if hasattr(timespan, "start") and hasattr(timespan, "end"):
            start, end = timespan.start, timespan.end
        else:
            try:
                start, end = timespan
            except (TypeError, ValueError):
                raise TypeError("timespan= takes a QueryTime or Lookback widget, or a (start, end) pair") from None
    now = pd.Timestamp.now(tz="UTC")
    first = _instant("-7d" if start is None else start, "start", now)
    last = _instant("now" if end is None else end, "end", now)
    if first > last:
        raise ValueError(f"the time range starts ({first}) after it ends ({last})")
    return first, last


def _provider(provider: Any, data_paths: Union[PathLike, Sequence[PathLike], None]) -> Any:
    """The query provider: the one given (connected if it was not), else LocalData over
    ``data_paths``, the configured folders, or ``./data``."""
    if provider is not None:
        if data_paths is not None:
            raise TypeError("give provider= or data_paths=, not both")
        if not provider.connected:
            provider.connect()
        return provider
    from huntbook.data import QueryProvider

    if data_paths is not None:
        paths = [data_paths] if isinstance(data_paths, (str, os.PathLike)) else list(data_paths)
        return QueryProvider("LocalData", data_paths=paths)
    local = QueryProvider("LocalData")
    if local.data_paths == ["."] and os.path.isdir("data"):
        return QueryProvider("LocalData", data_paths=["data"])
    return local


def _start(
    name: str, subject: str, timespan: TimeSpan, start: Any, end: Any, provider: Any, data_paths: Any, steps: int, progress: Progress
) -> _Run:
    first, last = _time_range(timespan, start, end)
    result = NotebookletResult(name, subject, first, last)
    run = _Run(result, _provider(provider, data_paths), steps, progress)
    result.details["environment"] = run.provider.environment
    return run


# --- Entities --------------------------------------------------------------------------


def _entity(kind: str, value: str) -> Dict[str, Any]:
    """A Sentinel ``Entities`` JSON object for an IP address, a host or an account."""
    if kind == "ip":
        return {"Type": "ip", "Address": value}
    if kind == "host":
        short, _, domain = value.partition(".")
        return {"Type": "host", "HostName": short, **({"DnsDomain": domain} if domain else {})}
    if "@" in value:
        name, _, suffix = value.partition("@")
        return {"Type": "account", "Name": name, "UPNSuffix": suffix}
    domain, _, name = value.rpartition("\\")
    return {"Type": "account", "Name": name, **({"NTDomain": domain} if domain else {})}


def _alert_entities(alert: Mapping[str, Any]) -> List[Tuple[str, str]]:
    """``(kind, value)`` of an alert's entities (parsed by huntbook.entities): an IP's
    address, a host's full name, an account's name; other kinds are left out."""
    from huntbook.entities import Account, Host, IpAddress, from_alert

    found = []
    for entity in from_alert(alert):
        if isinstance(entity, IpAddress) and entity.Address:
            found.append(("ip", str(entity.Address)))
        elif isinstance(entity, Host) and entity.HostName:
            found.append(("host", entity.description))
        elif isinstance(entity, Account) and entity.Name:
            found.append(("account", str(entity.Name)))
    return found


def _alerts_naming(alerts: pd.DataFrame, kind: str, names: Iterable[str]) -> pd.DataFrame:
    """The alerts one of whose entities is of ``kind`` and named one of ``names``
    (case aside; a host also by its short name)."""
    if alerts.empty or "Entities" not in alerts.columns:
        return alerts
    wanted = {n.lower() for n in names}

    def named(row: Mapping[str, Any]) -> bool:
        for k, value in _alert_entities(row):
            if k == kind and (value.lower() in wanted or (kind == "host" and value.split(".")[0].lower() in wanted)):
                return True
        return False

    return alerts[[named(row) for _, row in alerts.iterrows()]]


# --- Shared steps ----------------------------------------------------------------------


#: The threat-intel table's query per observable type.
_INDICATOR_QUERIES = {
    "ipv4": "list_indicators_by_ip",
    "ipv6": "list_indicators_by_ip",
    "dns": "list_indicators_by_domain",
    "url": "list_indicators_by_url",
    "md5_hash": "list_indicators_by_hash",
    "sha1_hash": "list_indicators_by_hash",
    "sha256_hash": "list_indicators_by_hash",
}


def _ti_lookup(run: _Run, observables: Sequence[str]) -> pd.DataFrame:
    """TI on ``observables``: the threat-intel table of the data environment
    (Sentinel's ``ThreatIntelligenceIndicator``; the sample's ``ti_indicators``), and
    the configured TI providers (``TIProviders``) for the global addresses and the
    other observables they accept. One frame with MSTICPy's TI columns."""
    from huntbook.ti import TILookup, indicator_hits
    from huntbook.transforms import ioc_type

    observables = sorted(set(observables))
    frames = []
    by_type: Dict[str, List[str]] = {}
    for value in observables:
        kind = run.attempt("TI lookup", ioc_type, value)
        if kind in _INDICATOR_QUERIES:
            by_type.setdefault(_INDICATOR_QUERIES[kind], []).append(value)
    # MSTICPy's providers look up global addresses only; the table takes any.
    addresses = by_type.get(_INDICATOR_QUERIES["ipv4"], [])
    global_addresses = set(_public(addresses))
    for_providers = [o for o in observables if o in global_addresses or o not in addresses]
    for query, values in by_type.items():
        rows = run.query("_indicators", f"ThreatIntelligence.{query}", observables=values)
        frames.append(indicator_hits(rows, values, reference=f"ThreatIntelligence.{query}"))
    run.result.tables.pop("_indicators", None)
    ti = run.attempt("TI lookup", TILookup) if for_providers else None
    if ti is not None and ti.loaded_providers:
        answers = run.attempt("TI lookup", ti.lookup_iocs, for_providers)
        if answers is not None:
            frames.append(answers)
    elif for_providers:
        run.result.notes.append("TI providers skipped: none is configured (TIProviders); the data's threat-intel table was searched")
    frames = [f for f in frames if not f.empty]
    run.result.tables["ti_results"] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return run.result.tables["ti_results"]


def _ti_findings(run: _Run, ti_results: pd.DataFrame, context: str) -> None:
    """A finding per observable a provider rates high or warning."""
    if ti_results.empty:
        return
    for ioc, rows in ti_results.groupby("Ioc", sort=True):
        levels = [_SEVERITY_NAMES.get(str(s).lower()) for s in rows["Severity"]]
        levels = [s for s in levels if s and s != "Informational"]
        if not levels:
            continue
        severity = max(levels, key=_rank)
        providers = ", ".join(sorted(set(rows.loc[rows["Severity"].str.lower().isin(["high", "warning"]), "Provider"].astype(str))))
        details = [d for d in rows["Details"] if isinstance(d, dict)]
        what = "; ".join(
            ", ".join(f"{k} {'/'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in d.items()
                      if k in ("ThreatType", "Description", "ConfidenceScore"))
            for d in details
        )
        kind = str(rows["IocType"].iloc[0])
        entity = _entity("ip", ioc) if kind.startswith("ipv") else {"Type": "url" if kind == "url" else kind, "Value": ioc}
        run.result.add(Finding(
            f"Threat intelligence: {ioc} is known bad",
            severity,
            f"{providers} rate {ioc} {severity.lower()}" + (f" ({what})" if what else "") + context,
            [entity],
            rows,
        ))


def _detection_findings(run: _Run, found: Optional[pd.DataFrame], entities: Callable[[pd.DataFrame], List[Dict[str, Any]]]) -> None:
    """A finding per detection (rows sharing a ``FindingId``)."""
    if found is None or found.empty:
        return
    for _, rows in found.groupby("FindingId", sort=True):
        first = rows.iloc[0]
        run.result.add(Finding(str(first["Detection"]).capitalize(), str(first["Severity"]), str(first["Reason"]), entities(rows), rows))


def _distinct(frame: pd.DataFrame, column: str) -> List[str]:
    if frame.empty or column not in frame.columns:
        return []
    return sorted({str(v) for v in frame[column].dropna() if str(v)})


def _column_entities(kind: str, *columns: str) -> Callable[[pd.DataFrame], List[Dict[str, Any]]]:
    """The entities of ``kind`` named in ``columns`` of a detection's rows."""
    def pick(rows: pd.DataFrame) -> List[Dict[str, Any]]:
        return [_entity(kind, v) for c in columns for v in _distinct(rows, c)]

    return pick


def _both(*pickers: Callable[[pd.DataFrame], List[Dict[str, Any]]]) -> Callable[[pd.DataFrame], List[Dict[str, Any]]]:
    return lambda rows: [e for pick in pickers for e in pick(rows)]


def _alert_findings(run: _Run, alerts: pd.DataFrame, subject: str) -> None:
    """One finding for the High-severity alerts that name the subject (the others stay
    in the ``alerts`` table: triaging them is :func:`alert_triage`'s work)."""
    if alerts.empty or "AlertSeverity" not in alerts.columns:
        return
    high = alerts[alerts["AlertSeverity"].astype(str) == "High"]
    if high.empty:
        return
    names = sorted(set(high["AlertName"].astype(str)))
    entities = [_entity(k, v) for _, row in high.iterrows() for k, v in _alert_entities(row)]
    run.result.add(Finding(f"{len(high)} High alert(s) involve {subject}", "High", "; ".join(names), entities, high))


def _public(addresses: Iterable[str]) -> List[str]:
    from huntbook.geo import is_global_ip

    public = []
    for address in addresses:
        try:
            if is_global_ip(address):
                public.append(address)
        except ValueError:
            continue  # not an address (a name in an address column)
    return public


def _timeline(run: _Run, title: str) -> None:
    """One chart of every table's events, a lane per table."""
    from huntbook import plot

    lanes = []
    for name, table in run.result.tables.items():
        detail = _TIMELINE_DETAIL.get(name)
        if table.empty or detail not in table.columns or "TimeGenerated" not in table.columns:
            continue
        lanes.append(pd.DataFrame({"TimeGenerated": table["TimeGenerated"], "Source": name, "Detail": table[detail].astype(str)}))
    if lanes:
        events = pd.concat(lanes, ignore_index=True).sort_values("TimeGenerated")
        chart = run.attempt("timeline", plot.timeline, events, group_by="Source", source_columns=["Detail"], title=title)
        if chart is not None:
            run.result.charts["timeline"] = chart


# --- IP address ------------------------------------------------------------------------


def ip_address_summary(
    ip_address: str,
    timespan: TimeSpan = None,
    *,
    start: Any = None,
    end: Any = None,
    provider: Any = None,
    data_paths: Union[PathLike, Sequence[PathLike], None] = None,
    whois: bool = False,
    geoip_databases: Optional[Sequence[PathLike]] = None,
    progress: Progress = None,
) -> NotebookletResult:
    """What is known about an IP address: its type, location (GeoIP) and owner (whois),
    threat intelligence, the alerts naming it, the network flows to it, the sign-ins,
    logons and Office activity from it, and a timeline of all of them.

    Findings: TI rating it high or warning; beaconing to it; brute force or password
    spraying from it (logons and sign-ins); High-severity alerts naming it.

    Args:
        ip_address: the address.
        timespan: a ``QueryTime``/``Lookback`` widget or a ``(start, end)`` pair; or
            ``start``/``end`` (datetimes or ``"-7d"``, ``"now"``). Default: the last 7 days.
        provider: a :class:`huntbook.QueryProvider` (default LocalData over
            ``data_paths``, the configured folders, or ``./data``).
        whois: look the owner up (RDAP and Team Cymru, on the network); off by default.
        geoip_databases: ``.mmdb`` files instead of the configured GeoIP folder.
        progress: ``progress(done, total)`` after each step.

    Tables: ``geoip``, ``whois``, ``ti_results``, ``alerts``, ``host_flows``,
    ``signins``, ``logons``, ``office_activity``; details: ``ip_type``, ``hosts``
    (those that talked to it); charts: ``timeline``.

    Example::

        >>> s = huntbook.notebooklets.ip_address_summary("203.0.113.66", start="-7d", end="now")
        >>> [f.title for f in s.findings]      # on the sample data
        ['Threat intelligence: 203.0.113.66 is known bad', '1 High alert(s) involve 203.0.113.66', 'Beaconing']
    """
    from huntbook import detect
    from huntbook.geo import geoip as geo_lookup, ip_type as classify, whois as whois_lookup

    run = _start("ip_address_summary", ip_address, timespan, start, end, provider, data_paths, 8, progress)
    result = run.result
    kind = run.attempt("ip_type", classify, ip_address)
    if kind is None:
        raise ValueError(f"ip_address {ip_address!r} is not an IP address")
    result.details["ip_type"] = kind
    public = bool(_public([ip_address]))
    run.step()

    result.tables["geoip"] = pd.DataFrame()
    result.tables["whois"] = pd.DataFrame()
    if not public:
        result.notes.append(f"GeoIP and whois skipped: {ip_address} is a {kind} address")
    else:
        located = run.attempt("GeoIP skipped", geo_lookup, [ip_address], databases=geoip_databases, download=False)
        result.tables["geoip"] = pd.DataFrame() if located is None else located
        if whois:
            owner = run.attempt("whois skipped", whois_lookup, [ip_address], timeout=10.0)
            result.tables["whois"] = pd.DataFrame() if owner is None else owner
            # One address failing is an answer with the reason, not an error.
            result.notes += [f"whois: {why}" for why in _distinct(result.tables["whois"], "whois_error")]
        else:
            result.notes.append("whois skipped: pass whois=True to look the owner up (RDAP and Team Cymru, on the network)")
    run.step()

    ti_results = _ti_lookup(run, [ip_address])
    _ti_findings(run, ti_results, "")
    run.step()

    alerts = run.query("alerts", "SecurityAlert.list_alerts_for_ip", ip_address_list=[ip_address])
    result.tables["alerts"] = alerts = _alerts_naming(alerts, "ip", [ip_address])
    _alert_findings(run, alerts, ip_address)
    run.step()

    flows = run.query("host_flows", "Network.list_network_flows_by_ip", ip_address_list=[ip_address])
    result.details["hosts"] = _distinct(flows, "DeviceName")
    if not flows.empty:
        _detection_findings(run, run.attempt("beaconing", detect.beaconing, flows), _both(
            _column_entities("ip", "DestinationIP"), _column_entities("host", "DeviceName")))
    run.step()

    signins = run.query("signins", "Azure.list_aad_signins_for_ip", ip_address_list=[ip_address])
    logons = run.query("logons", "WindowsSecurity.list_logon_attempts_by_ip", ip_address=ip_address)
    for table, accounts, target in ((signins, "UserPrincipalName", None), (logons, "TargetUserName", "Computer")):
        if not table.empty:
            pickers = [_column_entities("ip", "IPAddress", "IpAddress"), _column_entities("account", accounts)]
            if target:
                pickers.append(_column_entities("host", target))
            _detection_findings(run, run.attempt("brute force", detect.brute_force, table), _both(*pickers))
    run.step()

    run.query("office_activity", "Office365.list_activity_for_ip", ip_address_list=[ip_address])
    run.step()
    _timeline(run, f"Events involving {ip_address}")
    run.step()
    return result


# --- Host ------------------------------------------------------------------------------


def _linux_processes(run: _Run, auditd: pd.DataFrame) -> pd.DataFrame:
    """auditd rows (one record each) as process events with their command lines: the
    records are parsed once to read each one's event serial, then each event's records
    are parsed together."""
    from huntbook.transforms import parse_auditd

    column = "RawData" if "RawData" in auditd.columns else "AuditdMessage"
    if auditd.empty or column not in auditd.columns:
        return pd.DataFrame()
    records = run.attempt("auditd", parse_auditd, auditd, input_column=column)
    if records is None or "mssg_id" not in records.columns or len(records) != len(auditd):
        return pd.DataFrame()
    events = auditd.assign(_event=records["mssg_id"].to_numpy()).groupby("_event", sort=False).agg(
        TimeGenerated=("TimeGenerated", "first"), Computer=("Computer", "first"), **{column: (column, "\n".join)}
    ).reset_index(drop=True)
    parsed = run.attempt("auditd", parse_auditd, events, input_column=column, event_type="SYSCALL_EXECVE")
    return pd.DataFrame() if parsed is None else parsed


def _ssh_logons(syslog: pd.DataFrame) -> pd.DataFrame:
    """sshd's password and key messages as logons: ``Outcome`` (Failed, Accepted),
    ``User``, ``SourceIP``."""
    if syslog.empty or "SyslogMessage" not in syslog.columns:
        return pd.DataFrame()
    parts = syslog["SyslogMessage"].astype(str).str.extract(
        r"^(?P<Outcome>Failed|Accepted) \S+ for (?:invalid user )?(?P<User>\S+) from (?P<SourceIP>\S+)"
    )
    return pd.concat([syslog, parts], axis=1).dropna(subset=["Outcome"])


def _host_query(run: _Run, table: str, qualified: str, host_name: str, **params: Any) -> pd.DataFrame:
    """A host's rows by its full name, else by its short name (Linux hosts log short names)."""
    frame = run.query(table, qualified, host_name=host_name, **params)
    if frame.empty and "." in host_name:
        frame = run.query(table, qualified, host_name=host_name.split(".")[0], **params)
    return frame


def _risky_findings(run: _Run, hits: pd.DataFrame, host_name: str) -> None:
    """A finding per risky-command rule that matched."""
    if hits.empty:
        return
    for rule, rows in hits.groupby("RuleName", sort=True):
        severity = max((_SEVERITY_NAMES.get(str(s).lower(), "Low") for s in rows["Severity"]), key=_rank)
        commands = list(dict.fromkeys(rows["Command"].astype(str)))
        shown = "; ".join(c if len(c) <= 120 else c[:117] + "..." for c in commands[:3])
        more = f" (+{len(commands) - 3} more)" if len(commands) > 3 else ""
        run.result.add(Finding(f"{rule} on {host_name}", severity, f"{len(commands)} command(s): {shown}{more}",
                               [_entity("host", host_name)], rows))


def host_summary(
    host_name: str,
    timespan: TimeSpan = None,
    *,
    start: Any = None,
    end: Any = None,
    provider: Any = None,
    data_paths: Union[PathLike, Sequence[PathLike], None] = None,
    progress: Progress = None,
) -> NotebookletResult:
    """What a host did: its processes (Windows 4688 and Linux auditd) with a process
    tree, logons, syslog, network flows, alerts, TI on the addresses and URLs it
    reached, and a timeline.

    Findings: risky command lines (encoded PowerShell, certutil downloads, LSASS
    dumps, download-and-execute ... as :func:`huntbook.risky_commands` rates them);
    brute force against it (Windows logons, SSH); beaconing from it; TI on the
    addresses it reached and the addresses, URLs and domains in its command lines; High-severity
    alerts on it.

    Args:
        host_name: the host's name (fully qualified for Windows tables; Linux tables
            are also searched by its short name).
        timespan, start, end, provider, data_paths, progress: as
            :func:`ip_address_summary`.

    Tables: ``processes``, ``linux_processes``, ``risky_commands``, ``logons``,
    ``syslog``, ``host_flows``, ``alerts``, ``iocs``, ``ti_results``; charts:
    ``process_tree``, ``timeline``.

    Example::

        >>> s = huntbook.notebooklets.host_summary("WORKSTATION-07.contoso.local", start="-7d", end="now")
        >>> s.process_tree        # a chart
    """
    from huntbook import detect, plot
    from huntbook.proctree import build_process_tree
    from huntbook.transforms import extract_iocs, risky_commands

    run = _start("host_summary", host_name, timespan, start, end, provider, data_paths, 8, progress)
    result = run.result
    processes = run.query("processes", "WindowsSecurity.list_host_processes", host_name=host_name)
    if not processes.empty:
        tree = run.attempt("process tree", build_process_tree, processes)
        if tree is not None and not tree.empty:
            chart = run.attempt("process tree", plot.process_tree, tree, legend_col="SubjectUserName"
                                if "SubjectUserName" in tree.columns else None, title=f"Processes on {host_name}")
            if chart is not None:
                result.charts["process_tree"] = chart
    run.step()

    auditd = _host_query(run, "auditd", "LinuxSyslog.list_auditd_events", host_name)
    result.tables.pop("auditd", None)  # raw records: kept as the parsed processes below
    linux = _linux_processes(run, auditd)
    result.tables["linux_processes"] = linux
    run.step()

    hits = [h for h in (
        run.attempt("risky commands", risky_commands, processes, "CommandLine") if len(processes) else None,
        run.attempt("risky commands", risky_commands, linux, "cmdline") if len(linux) else None,
    ) if h is not None and not h.empty]
    result.tables["risky_commands"] = pd.concat(hits, ignore_index=True) if hits else pd.DataFrame()
    _risky_findings(run, result.tables["risky_commands"], host_name)
    run.step()

    logons = run.query("logons", "WindowsSecurity.list_host_logons", host_name=host_name)
    syslog = _host_query(run, "syslog", "LinuxSyslog.all_syslog", host_name)
    ssh = _ssh_logons(syslog)
    for table, pickers in (
        (logons, [_column_entities("ip", "IpAddress"), _column_entities("account", "TargetUserName")]),
        (ssh, [_column_entities("ip", "SourceIP"), _column_entities("account", "User")]),
    ):
        if table.empty:
            continue
        options = {"source_column": "SourceIP", "account_column": "User", "result_column": "Outcome",
                   "success_values": ["Accepted"], "failure_values": ["Failed"]} if table is ssh else {}
        found = run.attempt("brute force", detect.brute_force, table, **options)
        _detection_findings(run, found, _both(lambda _: [_entity("host", host_name)], *pickers))
    run.step()

    flows = run.query("host_flows", "Network.list_network_flows_by_host", host_name=host_name)
    if not flows.empty:
        _detection_findings(run, run.attempt("beaconing", detect.beaconing, flows), _both(
            lambda _: [_entity("host", host_name)], _column_entities("ip", "DestinationIP")))
    run.step()

    commands = [t for t in (processes[["CommandLine"]] if len(processes) else None,
                            linux[["cmdline"]].rename(columns={"cmdline": "CommandLine"}) if len(linux) else None)
                if t is not None]
    iocs = None
    if commands:
        iocs = run.attempt("IoC extraction", extract_iocs, pd.concat(commands, ignore_index=True), columns=["CommandLine"])
    result.tables["iocs"] = pd.DataFrame() if iocs is None else iocs
    observables = _distinct(flows, "DestinationIP")
    if iocs is not None and not iocs.empty:
        observables += _distinct(iocs[iocs["IoCType"].isin(["ipv4", "ipv6", "url", "dns"])], "Observable")
    ti_results = _ti_lookup(run, observables)
    _ti_findings(run, ti_results, f", reached by {host_name}")
    run.step()

    alerts = run.query("alerts", "SecurityAlert.list_alerts_for_host", host_name=host_name.split(".")[0])
    result.tables["alerts"] = alerts = _alerts_naming(alerts, "host", [host_name, host_name.split(".")[0]])
    _alert_findings(run, alerts, host_name)
    run.step()
    _timeline(run, f"Events on {host_name}")
    run.step()
    return result


# --- Account ---------------------------------------------------------------------------


def account_summary(
    account_name: str,
    timespan: TimeSpan = None,
    *,
    start: Any = None,
    end: Any = None,
    provider: Any = None,
    data_paths: Union[PathLike, Sequence[PathLike], None] = None,
    progress: Progress = None,
) -> NotebookletResult:
    """What an account did: Entra ID sign-ins (with a map), Office 365 activity, Windows
    logons, alerts naming it, TI on the addresses it came from, and a timeline.

    Findings: impossible travel between sign-ins; brute force or spraying against it;
    mailbox rules and forwarding set up (``New-InboxRule``, ``Set-InboxRule``,
    ``Set-Mailbox``...); TI on its sign-in and Office addresses; High-severity
    alerts naming it.

    Args:
        account_name: a user principal name (``carol@contoso.com``), ``DOMAIN\\user`` or
            a bare account name.
        timespan, start, end, provider, data_paths, progress: as
            :func:`ip_address_summary`.

    Tables: ``signins``, ``office_activity``, ``mailbox_rules``, ``logons``,
    ``alerts``, ``ti_results``; charts: ``timeline``, ``map``.

    Example::

        >>> s = huntbook.notebooklets.account_summary("carol@contoso.com", start="-7d", end="now")
        >>> [f.title for f in s.findings]
    """
    from huntbook import detect, plot

    run = _start("account_summary", account_name, timespan, start, end, provider, data_paths, 6, progress)
    result = run.result
    short = account_name.split("@")[0].rpartition("\\")[2]
    account_entity = [_entity("account", account_name)]
    signins = run.query("signins", "Azure.list_aad_signins_for_account", account_name=account_name)
    if not signins.empty:
        travel = run.attempt("impossible travel", detect.impossible_travel, signins)
        _detection_findings(run, travel, _both(lambda _: account_entity, _column_entities("ip", "IPAddress")))
        spray = run.attempt("brute force", detect.brute_force, signins)
        _detection_findings(run, spray, _both(lambda _: account_entity, _column_entities("ip", "IPAddress")))
        if {"Latitude", "Longitude"} <= set(signins.columns):
            located = signins.assign(
                Latitude=pd.to_numeric(signins["Latitude"], errors="coerce"),
                Longitude=pd.to_numeric(signins["Longitude"], errors="coerce"),
            ).dropna(subset=["Latitude", "Longitude"])
            if not located.empty:
                chart = run.attempt("map", plot.plot_map, located, lat_column="Latitude", long_column="Longitude",
                                    tooltip_columns=["IPAddress", "TimeGenerated"], title=f"Sign-ins of {account_name}")
                if chart is not None:
                    result.charts["map"] = chart
    run.step()

    office = run.query("office_activity", "Office365.list_activity_for_account", account_name=account_name)
    rules = office[office["Operation"].isin(_MAILBOX_RULE_OPERATIONS)] if "Operation" in office.columns else pd.DataFrame()
    result.tables["mailbox_rules"] = rules
    if not rules.empty:
        forwards = rules.astype(str).apply(lambda row: "forward" in " ".join(row).lower(), axis=1)
        where = _distinct(rules, "ClientIP")
        result.add(Finding(
            f"Mailbox rule {'forwarding mail ' if forwards.any() else ''}set by {account_name}",
            "Medium" if forwards.any() else "Low",
            f"{len(rules)} change(s): " + "; ".join(sorted(set(rules["Operation"].astype(str))))
            + (f" from {', '.join(where)}" if where else "")
            + (": " + "; ".join(_distinct(rules[forwards], "OfficeObjectId")[:3]) if forwards.any() else ""),
            account_entity + [_entity("ip", a) for a in where],
            rules,
        ))
    run.step()

    logons = run.query("logons", "WindowsSecurity.list_logon_attempts_by_account", account_name=short)
    if not logons.empty:
        found = run.attempt("brute force", detect.brute_force, logons)
        _detection_findings(run, found, _both(lambda _: account_entity, _column_entities("ip", "IpAddress"),
                                              _column_entities("host", "Computer")))
    run.step()

    alerts = run.query("alerts", "SecurityAlert.list_alerts")
    result.tables["alerts"] = alerts = _alerts_naming(alerts, "account", [short, account_name])
    _alert_findings(run, alerts, account_name)
    run.step()

    ti_results = _ti_lookup(run, _distinct(signins, "IPAddress") + _distinct(office, "ClientIP"))
    _ti_findings(run, ti_results, f", used by {account_name}")
    run.step()
    _timeline(run, f"Activity of {account_name}")
    run.step()
    return result


# --- Alerts ----------------------------------------------------------------------------


def _as_alerts(alerts: Any, run: _Run) -> pd.DataFrame:
    """The alerts to triage as a frame: a frame, one row (Series or dict), or an alert
    id looked up with ``SecurityAlert.get_alert``."""
    if isinstance(alerts, pd.DataFrame):
        return alerts
    if isinstance(alerts, pd.Series):
        return alerts.to_frame().T
    if isinstance(alerts, Mapping):
        return pd.DataFrame([dict(alerts)])
    if isinstance(alerts, str):
        return run.query("triaged", "SecurityAlert.get_alert", system_alert_id=alerts)
    raise TypeError("alert_triage() takes a DataFrame of alerts, one alert row (Series or dict), or an alert id")


def alert_triage(
    alerts: Any,
    timespan: TimeSpan = None,
    *,
    start: Any = None,
    end: Any = None,
    provider: Any = None,
    data_paths: Union[PathLike, Sequence[PathLike], None] = None,
    host_summaries: bool = True,
    progress: Progress = None,
) -> NotebookletResult:
    """Triage alerts: for each, its entities, the other alerts sharing them, TI on its
    IP addresses, and a :func:`host_summary` of each host it names.

    Findings: TI rating one of the alerts' addresses high or warning; other alerts of
    High severity sharing an entity; each host summary's findings. An alert alone, with
    nothing behind it, is no finding.

    Args:
        alerts: a DataFrame of alerts (``SecurityAlert`` columns: ``SystemAlertId``,
            ``AlertName``, ``AlertSeverity``, ``Entities``...), one alert row, or an
            alert id (looked up with ``SecurityAlert.get_alert`` in the range).
        timespan, start, end: the range searched for related alerts and host activity;
            default one day either side of the alerts (an id is looked up in the
            last 7 days).
        host_summaries: run :func:`host_summary` on the alerts' hosts.
        provider, data_paths, progress: as :func:`ip_address_summary`.

    Tables: ``alerts`` (those triaged), ``alert_entities``, ``related_alerts``,
    ``ti_results``; details: ``host_summaries`` (host name -> result); charts:
    ``timeline``.

    Example::

        >>> alerts = qp.SecurityAlert.list_alerts_by_severity(start="-7d", end="now")
        >>> triage = huntbook.notebooklets.alert_triage(alerts.iloc[0])
    """
    explicit = timespan is not None or start is not None or end is not None
    run = _start("alert_triage", "alerts", timespan, start, end, provider, data_paths, 5, progress)
    result = run.result
    triaged = _as_alerts(alerts, run).reset_index(drop=True)
    result.tables.pop("triaged", None)
    if triaged.empty:
        raise ValueError(f"alert_triage: no alert to triage ({'; '.join(result.notes) or 'the alerts are empty'})")
    for column in ("SystemAlertId", "Entities"):
        if column not in triaged.columns:
            raise ValueError(f"alert_triage: the alerts have no {column!r} column (Sentinel's SecurityAlert columns are needed)")
    if not explicit and "TimeGenerated" in triaged.columns:
        times = pd.to_datetime(triaged["TimeGenerated"], utc=True)
        result.start, result.end = times.min() - pd.Timedelta(days=1), times.max() + pd.Timedelta(days=1)
    names = triaged["AlertName"].astype(str).tolist() if "AlertName" in triaged.columns else []
    result.subject = names[0] if len(names) == 1 else f"{len(triaged)} alerts"
    result.tables["alerts"] = triaged
    result.tables["alert_entities"] = pd.DataFrame(
        [{"SystemAlertId": row["SystemAlertId"], "Type": kind, "Value": value}
         for _, row in triaged.iterrows() for kind, value in _alert_entities(row)],
        columns=["SystemAlertId", "Type", "Value"],
    )
    entities = result.tables["alert_entities"]
    run.step()

    everything = run.query("related_alerts", "SecurityAlert.list_alerts")
    others = everything
    if "SystemAlertId" in everything.columns:
        others = everything[~everything["SystemAlertId"].isin(triaged["SystemAlertId"])]
    related = [_alerts_naming(others, kind, rows["Value"]) for kind, rows in entities.groupby("Type")]
    related = pd.concat(related) if related else pd.DataFrame()
    if "SystemAlertId" in related.columns:
        related = related.drop_duplicates("SystemAlertId")
    result.tables["related_alerts"] = related
    if not related.empty and "AlertSeverity" in related.columns:
        high = related[related["AlertSeverity"].astype(str) == "High"]
        if not high.empty:
            result.add(Finding(
                f"{len(high)} other High alert(s) share the alerts' entities",
                "High",
                "; ".join(sorted(set(high["AlertName"].astype(str)))),
                [_entity(k, v) for _, row in high.iterrows() for k, v in _alert_entities(row)],
                high,
            ))
    run.step()

    _ti_findings(run, _ti_lookup(run, entities.loc[entities["Type"] == "ip", "Value"]), ", named by the alert")
    run.step()

    hosts = sorted(set(entities.loc[entities["Type"] == "host", "Value"]))
    summaries: Dict[str, NotebookletResult] = {}
    if host_summaries:
        for host in hosts:
            summary = host_summary(host, (result.start, result.end), provider=run.provider)
            summaries[host] = summary
            result.notes += [f"{host}: {note}" for note in summary.notes]
            for finding in summary.findings:
                result.add(finding)
    result.details["host_summaries"] = summaries
    run.step()
    _timeline(run, f"Alerts around {result.subject}")
    run.step()
    return result
