"""Showing things in a notebook: styled text, alerts and incidents as HTML.

Example::

    import huntbook
    huntbook.md("Findings", "large, bold")
    huntbook.display_alert(alerts.iloc[0])
"""

from __future__ import annotations

import html
import json
from typing import Any, List, Mapping, Union

import pandas as pd

__all__ = ["md", "md_html", "alert_html", "incident_html", "display_alert", "display_incident"]

_STYLES = {
    "bold": "font-weight:bold",
    "italic": "font-style:italic",
    "underline": "text-decoration:underline",
    "small": "font-size:85%",
    "large": "font-size:130%",
    "x-large": "font-size:160%",
    "heading": "font-size:160%;font-weight:bold",
}

_SEVERITY_COLOUR = {"high": "#D55E00", "medium": "#E69F00", "low": "#0072B2", "informational": "#555555"}

# Alert fields shown first, in this order, when the alert has them.
_ALERT_FIELDS = [
    "AlertName", "DisplayName", "AlertSeverity", "Severity", "StartTimeUtc", "EndTimeUtc", "TimeGenerated",
    "CompromisedEntity", "ProviderName", "ProductName", "Tactics", "Description", "SystemAlertId",
]
_INCIDENT_FIELDS = [
    "Title", "title", "Severity", "severity", "Status", "status", "IncidentNumber", "CreatedTimeUtc",
    "FirstActivityTimeUtc", "LastActivityTimeUtc", "Owner", "Description", "description", "IncidentName", "name",
]

Record = Union[pd.Series, Mapping[str, Any]]


def md_html(text: str, styles: Union[str, List[str]] = "") -> str:
    """The HTML :func:`md` shows."""
    names = [s.strip() for s in (styles.split(",") if isinstance(styles, str) else styles) if s.strip()]
    # Anything else is taken as a colour name (red, green, #0072B2...).
    css = ";".join(_STYLES.get(n, f"color:{n}") for n in names if n.replace("#", "").replace("-", "").isalnum())
    return f"<p style='{html.escape(css)}'>{html.escape(text)}</p>"


def md(text: str, styles: Union[str, List[str]] = "") -> None:
    """Show ``text`` styled: any of bold, italic, underline, small, large, x-large,
    heading, and colour names, comma-separated (MSTICPy's ``md``).

    Example::

        >>> huntbook.md("Findings", "large, bold")
        >>> huntbook.md("3 hosts talk to the C2 address", "bold, red")
    """
    from IPython.display import HTML, display

    display(HTML(md_html(text, styles)))


def _entities_html(value: Any) -> str:
    """An ``Entities`` field (JSON text or a list) as entity cards; nothing when it
    is empty or not entity JSON (the record is still shown)."""
    if value is None or isinstance(value, float) or (isinstance(value, str) and not value.strip()):
        return ""
    from huntbook import _huntbook

    text = value if isinstance(value, str) else json.dumps(list(value), default=str)
    try:
        return _huntbook.entity_html(text)
    except ValueError:
        return ""


def _record_html(record: Record, fields: List[str], title_keys: List[str], kind: str) -> str:
    get = record.get
    title = next((str(get(k)) for k in title_keys if get(k) not in (None, "")), kind)
    severity = next((str(get(k)) for k in ("AlertSeverity", "Severity", "severity") if get(k)), "")
    colour = _SEVERITY_COLOUR.get(severity.lower(), "#555555")
    rows = "".join(
        f"<tr><th style='text-align:left;padding-right:1em;vertical-align:top'>{html.escape(k)}</th>"
        f"<td>{html.escape(str(get(k)))}</td></tr>"
        for k in fields
        if k in record and get(k) is not None and not (isinstance(get(k), float) and pd.isna(get(k)))
    )
    entities = _entities_html(get("Entities"))
    return (
        f"<div class='hb-record' style='border-left:4px solid {colour};padding-left:8px'>"
        f"<h3 style='margin:4px 0'>{html.escape(title)}"
        + (f" <span style='color:{colour}'>({html.escape(severity)})</span>" if severity else "")
        + f"</h3><table>{rows}</table>"
        + (f"<div><b>Entities</b>{entities}</div>" if "hb-entity'" in entities else "")
        + "</div>"
    )


def alert_html(alert: Record) -> str:
    """An alert (a row of SecurityAlert, or a dict) as HTML: its main fields, its
    severity in colour and its entities."""
    return _record_html(alert, _ALERT_FIELDS, ["AlertName", "DisplayName", "AlertDisplayName"], "Alert")


def incident_html(incident: Record) -> str:
    """An incident (a row of SecurityIncident or Sentinel's API, or a dict) as HTML."""
    return _record_html(incident, _INCIDENT_FIELDS, ["Title", "title"], "Incident")


def display_alert(alert: Record) -> None:
    """Show an alert's details and entities.

    Example::

        >>> huntbook.display_alert(alerts.iloc[0])
    """
    from IPython.display import HTML, display

    display(HTML(alert_html(alert)))


def display_incident(incident: Record) -> None:
    """Show an incident's details and entities.

    Example::

        >>> huntbook.display_incident(sentinel.list_incidents().iloc[0])
    """
    from IPython.display import HTML, display

    display(HTML(incident_html(incident)))
