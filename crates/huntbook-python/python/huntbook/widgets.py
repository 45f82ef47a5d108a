"""Notebook widgets that never block: each takes its default from an injected
parameter, and a run with no one watching (``huntbook run``, papermill) simply goes on
with the defaults.

Every widget shows itself twice over: as the live control (an ipywidgets view, for
Jupyter and VS Code) and as static text (``text/html``), which is what an unattended
run's output notebook and its exported report show. Values are read from properties
(``.value``, ``.start``...), never waited for.

Example::

    import huntbook
    ip_text = huntbook.widgets.GetText(prompt="IP address to investigate", value=ip_address)
    qt = huntbook.widgets.QueryTime(units="day", before=1, after=0)
    qp.SecurityAlert.list_alerts(start=qt.start, end=qt.end)
    alert = huntbook.widgets.SelectAlert(alerts_df)
"""

from __future__ import annotations

import datetime as dt
import html
import math
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import pandas as pd

from huntbook import _huntbook

__all__ = ["GetText", "QueryTime", "Lookback", "SelectItem", "SelectAlert", "SelectSubset", "OptionButtons"]

#: An instant: a datetime, a pandas Timestamp, or MSTICPy's time grammar ("-7d@d", "now").
Instant = Union[dt.datetime, pd.Timestamp, str]

_UNITS = {
    "second": pd.Timedelta(seconds=1),
    "minute": pd.Timedelta(minutes=1),
    "hour": pd.Timedelta(hours=1),
    "day": pd.Timedelta(days=1),
    "week": pd.Timedelta(weeks=1),
}


def _ipywidgets():
    # Imported on first use: `import huntbook` stays quick when no widget is made.
    import ipywidgets

    return ipywidgets


def _unit(units: str) -> pd.Timedelta:
    key = units.lower().rstrip("s")
    if key not in _UNITS:
        raise ValueError(f"units {units!r}: use one of {', '.join(_UNITS)}")
    return _UNITS[key]


def _instant(value: Instant, what: str, now: pd.Timestamp) -> pd.Timestamp:
    """A UTC timestamp from a datetime or from the time grammar, resolved at `now`."""
    if isinstance(value, str):
        try:
            ns, _ = _huntbook.time_span(value, value, int(now.value))
        except ValueError as err:
            raise ValueError(f"{what}: {err}") from None
        return pd.Timestamp(ns, tz="UTC")
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


class _Widget:
    """What the widgets share: the live control and its static text."""

    _layout: Any

    @property
    def layout(self) -> Any:
        """The ipywidgets control (to place it in your own layout)."""
        return self._layout

    def _summary(self) -> List[Tuple[str, str]]:
        raise NotImplementedError

    def _static_html(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._summary()
        )
        return f"<table class='hb-widget'>{rows}</table>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Dict[str, Any]:
        bundle = dict(self._layout._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self._static_html()
        bundle["text/plain"] = "\n".join(f"{k}: {v}" for k, v in self._summary())
        return bundle

    def display(self) -> None:
        """Show the widget now (as the last line of a cell does)."""
        from IPython.display import display

        display(self)


class GetText(_Widget):
    """A text box whose default is usually an injected parameter.

    Example::

        >>> ip_text = GetText(prompt="IP address to investigate", value=ip_address)
        >>> ip_text.value
        '38.75.137.9'
    """

    def __init__(self, prompt: str = "Enter the value", value: str = "", *, description: Optional[str] = None) -> None:
        w = _ipywidgets()
        self.prompt = prompt
        self._text = w.Text(value=str(value), description=description or "", placeholder=prompt)
        self._layout = w.VBox([w.Label(prompt), self._text])

    @property
    def value(self) -> str:
        return self._text.value

    @value.setter
    def value(self, value: str) -> None:
        self._text.value = str(value)

    def _summary(self) -> List[Tuple[str, str]]:
        return [(self.prompt, self.value)]


class QueryTime(_Widget):
    """A query's start and end: an origin, a span before and after it, in units.

    ``start`` and ``end`` also accept MSTICPy's time grammar (``"-7d@d"``, ``"now"``)
    or datetimes; then the span is exactly that until a control is moved.

    Example::

        >>> qt = QueryTime(units="day", before=1, after=0)
        >>> qp.SecurityAlert.list_alerts(start=qt.start, end=qt.end)
        >>> QueryTime(start="-7d@d", end="now").timespan
    """

    def __init__(
        self,
        *,
        units: str = "day",
        before: int = 1,
        after: int = 0,
        origin_time: Optional[Instant] = None,
        start: Optional[Instant] = None,
        end: Optional[Instant] = None,
        max_before: Optional[int] = None,
        max_after: Optional[int] = None,
        label: str = "Set the query time window",
        description: str = "Query time",
    ) -> None:
        w = _ipywidgets()
        now = pd.Timestamp.now(tz="UTC")
        self.label = label
        step = _unit(units)
        self._exact: Optional[Tuple[pd.Timestamp, pd.Timestamp]] = None
        if (start is None) != (end is None):
            raise ValueError("QueryTime: give both start and end, or neither")
        if start is not None:
            if isinstance(start, str) and isinstance(end, str):
                try:
                    s_ns, e_ns = _huntbook.time_span(start, end, int(now.value))
                except ValueError as err:
                    raise ValueError(f"QueryTime start/end: {err}") from None
                first, last = pd.Timestamp(s_ns, tz="UTC"), pd.Timestamp(e_ns, tz="UTC")
            else:
                first, last = _instant(start, "start", now), _instant(end, "end", now)
            if first > last:
                raise ValueError(f"QueryTime: start {first} is after end {last}")
            self._exact = (first, last)
            origin = last
            before, after = math.ceil((last - first) / step), 0
        else:
            origin = now if origin_time is None else _instant(origin_time, "origin_time", now)
        if before < 0 or after < 0:
            raise ValueError("QueryTime: before and after are counts of units, 0 or more")
        self._origin = w.Text(value=origin.isoformat(), description="Origin (UTC)")
        self._units = w.Dropdown(options=list(_UNITS), value=units.lower().rstrip("s"), description="Units")
        self._before = w.IntSlider(value=before, min=0, max=max(max_before or 4 * before or 10, before), description="Before")
        self._after = w.IntSlider(value=after, min=0, max=max(max_after or 4 * after or 10, after), description="After")
        self._range = w.HTML()
        for control in (self._origin, self._units, self._before, self._after):
            control.observe(self._moved, names="value")
        self._layout = w.VBox([w.HTML(f"<b>{html.escape(description)}</b>: {html.escape(label)}"),
                               self._origin, self._units, w.HBox([self._before, self._after]), self._range])
        self._show_range()

    def _moved(self, _change: Any) -> None:
        self._exact = None
        self._show_range()

    def _show_range(self) -> None:
        start, end = self.timespan
        self._range.value = f"{start:%Y-%m-%d %H:%M:%S} to {end:%Y-%m-%d %H:%M:%S} UTC"

    @property
    def origin_time(self) -> pd.Timestamp:
        try:
            return _instant(self._origin.value, "origin", pd.Timestamp.now(tz="UTC"))
        except ValueError as err:
            raise ValueError(f"QueryTime origin {self._origin.value!r} is not a time: {err}") from None

    @property
    def units(self) -> str:
        return self._units.value

    @property
    def before(self) -> int:
        return self._before.value

    @property
    def after(self) -> int:
        return self._after.value

    @property
    def timespan(self) -> Tuple[pd.Timestamp, pd.Timestamp]:
        """``(start, end)`` as UTC timestamps."""
        if self._exact is not None:
            return self._exact
        step, origin = _unit(self.units), self.origin_time
        return origin - self.before * step, origin + self.after * step

    value = timespan

    @property
    def start(self) -> pd.Timestamp:
        return self.timespan[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.timespan[1]

    def _summary(self) -> List[Tuple[str, str]]:
        start, end = self.timespan
        return [("Query start", f"{start:%Y-%m-%d %H:%M:%S} UTC"), ("Query end", f"{end:%Y-%m-%d %H:%M:%S} UTC")]


class Lookback(_Widget):
    """How far back to look from now (or from ``origin_time``), in units.

    Example::

        >>> lb = Lookback(default=4, units="hour")
        >>> lb.start, lb.end
    """

    def __init__(
        self,
        default: int = 4,
        *,
        units: str = "hour",
        label: Optional[str] = None,
        origin_time: Optional[Instant] = None,
        min_value: int = 1,
        max_value: int = 240,
    ) -> None:
        w = _ipywidgets()
        if not min_value <= default <= max_value:
            raise ValueError(f"Lookback: default {default} is outside {min_value}..{max_value}")
        now = pd.Timestamp.now(tz="UTC")
        self._step = _unit(units)
        self.units = units
        self._origin = now if origin_time is None else _instant(origin_time, "origin_time", now)
        self.label = label or f"Time ({units}s) to look back"
        self._slider = w.IntSlider(value=default, min=min_value, max=max_value, description="Lookback")
        self._layout = w.VBox([w.Label(self.label), self._slider])

    @property
    def value(self) -> int:
        return self._slider.value

    @value.setter
    def value(self, value: int) -> None:
        self._slider.value = value

    @property
    def lookback(self) -> pd.Timedelta:
        return self.value * self._step

    @property
    def start(self) -> pd.Timestamp:
        return self._origin - self.lookback

    @property
    def end(self) -> pd.Timestamp:
        return self._origin

    def _summary(self) -> List[Tuple[str, str]]:
        return [(self.label, f"{self.value} ({self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC)")]


class SelectItem(_Widget):
    """Pick one item from a list or a dict (labels to values), with a filter box.

    ``action`` is called with the chosen value whenever the choice changes; what it
    returns is shown under the list.

    Example::

        >>> hosts = SelectItem(["WKS-HR-001", "WKS-FIN-002"], default=host_name, description="Host")
        >>> hosts.value
    """

    def __init__(
        self,
        items: Union[Sequence[Any], Mapping[str, Any]],
        *,
        default: Any = None,
        description: str = "Select an item",
        action: Optional[Callable[[Any], Any]] = None,
    ) -> None:
        w = _ipywidgets()
        self._items: Dict[str, Any] = dict(items) if isinstance(items, Mapping) else {str(i): i for i in items}
        if not self._items:
            raise ValueError("SelectItem: there are no items to choose from")
        labels = list(self._items)
        start = labels[0]
        if default is not None:
            matches = [k for k, v in self._items.items() if k == str(default) or v == default]
            if not matches:
                raise ValueError(f"SelectItem: the default {default!r} is not one of the items")
            start = matches[0]
        self.description = description
        self._action = action
        self._filter = w.Text(description="Filter")
        self._select = w.Select(options=labels, value=start, rows=min(10, len(labels)), description="")
        self._output = w.Output()
        self._filter.observe(self._filtered, names="value")
        self._select.observe(self._chosen, names="value")
        self._layout = w.VBox([w.Label(description), self._filter, self._select, self._output])

    def _filtered(self, change: Any) -> None:
        text = str(change["new"]).lower()
        current = self._select.value
        options = [k for k in self._items if text in k.lower()]
        self._select.options = options
        if current in options:
            self._select.value = current

    def _chosen(self, change: Any) -> None:
        if self._action is None or change["new"] is None:
            return
        self._output.clear_output()
        with self._output:
            result = self._action(self._items[change["new"]])
            if result is not None:
                from IPython.display import display

                display(result)

    @property
    def label(self) -> Optional[str]:
        return self._select.value

    @property
    def value(self) -> Any:
        return None if self._select.value is None else self._items[self._select.value]

    @value.setter
    def value(self, value: Any) -> None:
        labels = [k for k, v in self._items.items() if v == value or k == value]
        if not labels:
            raise ValueError(f"{value!r} is not one of the items")
        self._select.value = labels[0]

    def _summary(self) -> List[Tuple[str, str]]:
        return [(self.description, str(self.label))]


class SelectAlert(SelectItem):
    """Pick an alert from a frame of alerts (newest first) and see its details.

    Example::

        >>> alert = SelectAlert(alerts_df)
        >>> alert.selected_alert["AlertName"], alert.alert_id
    """

    def __init__(
        self,
        alerts: pd.DataFrame,
        *,
        default_alert: Optional[str] = None,
        columns: Optional[List[str]] = None,
        time_column: Optional[str] = None,
        id_column: str = "SystemAlertId",
        action: Optional[Callable[[pd.Series], Any]] = None,
    ) -> None:
        if alerts.empty:
            raise ValueError("SelectAlert: the alerts frame is empty")
        time_column = time_column or next(
            (c for c in ("StartTimeUtc", "TimeGenerated", "StartTime") if c in alerts.columns), None
        )
        if time_column is None:
            raise ValueError("SelectAlert: the alerts have no StartTimeUtc or TimeGenerated column; pass time_column")
        shown = [c for c in (columns or ["AlertName", "AlertSeverity", "CompromisedEntity"]) if c in alerts.columns]
        ordered = alerts.sort_values(time_column, ascending=False)
        self._alerts = ordered
        self.id_column = id_column
        labels = {}
        for pos, (_, row) in enumerate(ordered.iterrows()):
            text = "  ".join(str(row[c]) for c in [time_column, *shown])
            labels[f"{text}  [{row.get(id_column, pos)}]"] = pos
        default = None
        if default_alert is not None:
            if id_column not in ordered.columns or default_alert not in set(ordered[id_column]):
                raise ValueError(f"SelectAlert: no alert with {id_column} {default_alert!r}")
            default = int((ordered[id_column] == default_alert).to_numpy().nonzero()[0][0])
        user_action = action

        def show(pos: int) -> Any:
            from huntbook.display import alert_html
            from IPython.display import HTML, display

            display(HTML(alert_html(self._alerts.iloc[pos])))
            return None if user_action is None else user_action(self._alerts.iloc[pos])

        super().__init__(labels, default=default, description="Select an alert", action=show)

    @property
    def selected_alert(self) -> pd.Series:
        return self._alerts.iloc[super().value]

    value = selected_alert

    @property
    def alert_id(self) -> Any:
        return self.selected_alert.get(self.id_column)

    def _summary(self) -> List[Tuple[str, str]]:
        alert = self.selected_alert
        return [("Selected alert", str(self.label))] + [
            (c, str(alert[c])) for c in ("AlertName", "AlertSeverity", "CompromisedEntity") if c in alert.index
        ]


class SelectSubset(_Widget):
    """Choose several items: a source list, a selected list and buttons between.

    Example::

        >>> pick = SelectSubset(["4624", "4625", "4688"], default_selected=["4688"])
        >>> pick.selected_items
        ['4688']
    """

    def __init__(
        self,
        source_items: Union[Sequence[Any], Mapping[str, Any]],
        *,
        default_selected: Optional[Iterable[Any]] = None,
        description: str = "Select items",
    ) -> None:
        w = _ipywidgets()
        self._items: Dict[str, Any] = (
            dict(source_items) if isinstance(source_items, Mapping) else {str(i): i for i in source_items}
        )
        chosen = [str(i) for i in (default_selected or [])]
        unknown = [c for c in chosen if c not in self._items]
        if unknown:
            raise ValueError(f"SelectSubset: default_selected has items not in source_items: {unknown}")
        self.description = description
        self._source = w.SelectMultiple(options=list(self._items), description="Items")
        self._chosen = w.SelectMultiple(options=chosen, description="Selected")
        buttons = {name: w.Button(description=name) for name in ("Add >>", "<< Remove", "Add all", "Remove all")}
        buttons["Add >>"].on_click(lambda _: self._set(list(self._chosen.options) + list(self._source.value)))
        buttons["<< Remove"].on_click(lambda _: self._set([i for i in self._chosen.options if i not in self._chosen.value]))
        buttons["Add all"].on_click(lambda _: self._set(list(self._items)))
        buttons["Remove all"].on_click(lambda _: self._set([]))
        self._buttons = buttons
        self._layout = w.VBox([w.Label(description), w.HBox([self._source, w.VBox(list(buttons.values())), self._chosen])])

    def _set(self, labels: List[str]) -> None:
        order = list(self._items)
        self._chosen.options = sorted(set(labels), key=order.index)

    @property
    def selected_items(self) -> List[str]:
        return list(self._chosen.options)

    @property
    def selected_values(self) -> List[Any]:
        return [self._items[k] for k in self._chosen.options]

    value = selected_values

    def _summary(self) -> List[Tuple[str, str]]:
        return [(self.description, ", ".join(self.selected_items) or "(none)")]


class OptionButtons(_Widget):
    """A row of option buttons; ``value`` is the one pressed, the default until then.

    Nothing waits for a press: code that reads ``value`` gets the default in an
    unattended run.

    Example::

        >>> go = OptionButtons("Raise an incident?", buttons=["Yes", "No"], default="No")
        >>> go.value
        'No'
    """

    def __init__(self, description: str = "Select an option", buttons: Optional[List[str]] = None, default: Optional[str] = None) -> None:
        w = _ipywidgets()
        options = list(buttons or ["Yes", "No", "Cancel"])
        if default is not None and default not in options:
            raise ValueError(f"OptionButtons: the default {default!r} is not one of {options}")
        self.description = description
        self._toggle = w.ToggleButtons(options=options, value=default or options[0])
        self._layout = w.VBox([w.Label(description), self._toggle])

    @property
    def value(self) -> str:
        return self._toggle.value

    @value.setter
    def value(self, value: str) -> None:
        self._toggle.value = value

    def _summary(self) -> List[Tuple[str, str]]:
        return [(self.description, self.value)]
