"""Sessions and polling: MSTICPy's ``anomalous_sequence`` and ``polling_detection``.

Cut events into sessions per user, score each session by its least likely window of
commands under a Markov model of all sessions, and find groups of events that recur
at a fixed interval (beaconing). The functions take and return pandas DataFrames with
MSTICPy's column names; the work runs in Rust, on all cores, without the GIL.

Example::

    import huntbook
    sessions = huntbook.sessionize(exchange_df, user_columns=["UserId", "ClientIP"],
                                   time_column="TimeGenerated", max_session_minutes=20,
                                   max_gap_minutes=2, event_column="Operation")
    scored = huntbook.score_sessions(sessions, session_column="Operation_list", window_length=3)
    scored.sort_values("rarest_window3_likelihood").head()
    beacons = huntbook.detect_polling(flows, time_column="TimeGenerated",
                                      group_by=["SourceIP", "DestinationIP"])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Set, Union

import numpy as np
import pandas as pd
import pyarrow as pa

from huntbook import _huntbook
from huntbook._tables import to_batch, to_frame

__all__ = ["Cmd", "sessionize", "score_sessions", "detect_polling", "polling_groups"]

@dataclass
class Cmd:
    """A command with its parameters: a set of parameter names, or a dict of names to
    values (MSTICPy's ``Cmd``; MSTICPy's own ``Cmd`` objects are accepted too).

    Example::

        >>> huntbook.Cmd("Set-Mailbox", {"Identity": "bob", "ForwardingSmtpAddress": "x@evil.com"})
    """

    name: str
    params: Union[Set[str], Dict[str, Any]]


def sessionize(
    data: pd.DataFrame,
    user_columns: Optional[Sequence[str]] = None,
    time_column: Optional[str] = None,
    max_session_minutes: Optional[float] = None,
    max_gap_minutes: Optional[float] = None,
    event_column: Optional[str] = None,
    **msticpy_names: Any,
) -> pd.DataFrame:
    """One row per session, as MSTICPy's ``sessionize_data``.

    Events are ordered by user and time; a session ends when a user column changes,
    when two events are more than ``max_gap_minutes`` apart, or when it would last
    more than ``max_session_minutes``. The result has the user columns,
    ``<time>_min``, ``<time>_max``, ``<event>_list`` (the events, in time order),
    ``duration`` and ``number_events``. MSTICPy's keyword names
    (``user_identifier_cols``, ``time_col``, ``max_session_time_mins``,
    ``max_event_separation_mins``, ``event_col``) work too.

    Example::

        >>> sessions = huntbook.sessionize(exchange_df, user_columns=["UserId", "ClientIP"],
        ...     time_column="TimeGenerated", max_session_minutes=20, max_gap_minutes=2,
        ...     event_column="Operation")
        >>> sessions[["UserId", "Operation_list", "duration"]].head()
    """
    given = dict(
        user_columns=user_columns,
        time_column=time_column,
        max_session_minutes=max_session_minutes,
        max_gap_minutes=max_gap_minutes,
        event_column=event_column,
    )
    aliases = {
        "user_identifier_cols": "user_columns",
        "time_col": "time_column",
        "max_session_time_mins": "max_session_minutes",
        "max_event_separation_mins": "max_gap_minutes",
        "event_col": "event_column",
    }
    for name, value in msticpy_names.items():
        if name not in aliases:
            raise TypeError(f"sessionize() got an unexpected keyword argument {name!r}")
        given[aliases[name]] = value
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise ValueError(f"sessionize needs {', '.join(missing)}")
    users = [str(c) for c in given["user_columns"]]
    time_column, event_column = str(given["time_column"]), str(given["event_column"])
    for name in [*users, time_column, event_column]:
        if name not in data.columns:
            raise ValueError(
                f"no column {name!r} in the DataFrame; its columns are: "
                + ", ".join(map(str, data.columns))
            )

    times = data[time_column]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        times = pd.to_datetime(times)
    frame = pd.DataFrame({c: data[c] for c in users})
    frame[time_column] = times
    events = data[event_column]
    try:
        frame[event_column] = events
        batch = to_batch(frame.reset_index(drop=True))
        objects = None
    except ValueError:
        # Events Arrow cannot hold (say, Cmd objects) travel as row positions.
        frame[event_column] = np.arange(len(frame), dtype=np.int64)
        batch = to_batch(frame.reset_index(drop=True))
        objects = events.to_numpy(dtype=object)

    result = _huntbook.sessionize(
        batch,
        users,
        time_column,
        event_column,
        float(given["max_session_minutes"]),
        float(given["max_gap_minutes"]),
    )
    arrow = pa.record_batch(result)
    out = to_frame(arrow)
    lists = arrow.column(f"{event_column}_list").to_pylist()
    if objects is not None:
        lists = [[objects[i] for i in positions] for positions in lists]
    out[f"{event_column}_list"] = pd.Series(lists, index=out.index, dtype=object)
    for suffix in ("min", "max"):
        out[f"{time_column}_{suffix}"] = out[f"{time_column}_{suffix}"].astype(times.dtype)
    out["duration"] = out["duration"].astype(f"timedelta64[{times.dt.unit}]")
    return out


def score_sessions(
    data: pd.DataFrame,
    session_column: str,
    window_length: int,
    *,
    use_start_end_tokens: bool = True,
    use_geo_mean: bool = False,
) -> pd.DataFrame:
    """Score sessions by their rarest window, as MSTICPy's ``score_sessions``.

    A Markov model (with start, end and unknown tokens and Laplace smoothing) is
    trained on all the sessions; each session's least likely window of
    ``window_length`` consecutive commands is added as ``rarest_window{N}`` and its
    likelihood as ``rarest_window{N}_likelihood`` (NaN when the session, with the end
    token, is shorter than a window). Sessions are lists of command names, or lists of
    :class:`Cmd` with a set of parameter names, or with a dict of parameter values.
    ``use_start_end_tokens`` and ``use_geo_mean`` are MSTICPy's
    ``Model.compute_rarest_windows`` options (``score_sessions`` uses their defaults).

    Example::

        >>> df = pd.DataFrame({"cmds": [["Get-User", "Set-Mailbox"], ["Get-User"]] * 50
        ...                            + [["Set-Mailbox", "New-InboxRule", "Remove-MailboxPermission"]]})
        >>> scored = huntbook.score_sessions(df, "cmds", window_length=2)
        >>> scored.sort_values("rarest_window2_likelihood").iloc[0]["rarest_window2"]
        ['New-InboxRule', 'Remove-MailboxPermission']
    """
    if session_column not in data.columns:
        raise ValueError(
            f"no column {session_column!r} in the DataFrame; its columns are: "
            + ", ".join(map(str, data.columns))
        )
    likelihoods, windows = _huntbook.score_sessions(
        data[session_column].tolist(), int(window_length), use_start_end_tokens, use_geo_mean
    )
    out = data.copy()
    out[f"rarest_window{window_length}_likelihood"] = np.array(likelihoods, dtype=float)
    out[f"rarest_window{window_length}"] = pd.Series(windows, index=out.index, dtype=object)
    return out


def _group_list(groupby: Union[str, Sequence[str], None]) -> List[str]:
    if groupby is None:
        return []
    return [groupby] if isinstance(groupby, str) else [str(g) for g in groupby]


def _polling_batch(data: pd.DataFrame, time_column: str, groups: List[str]) -> pa.RecordBatch:
    for name in [time_column, *groups]:
        if name not in data.columns:
            raise ValueError(
                f"no column {name!r} in the DataFrame; its columns are: "
                + ", ".join(map(str, data.columns))
            )
    return to_batch(data, dict.fromkeys([time_column, *groups]))


def detect_polling(
    data: pd.DataFrame,
    time_column: str,
    groupby: Union[str, Sequence[str], None] = None,
    *,
    group_by: Union[str, Sequence[str], None] = None,
) -> pd.DataFrame:
    """Find polling (beaconing), as MSTICPy's ``PeriodogramPollingDetector.detect_polling``.

    Per group (``groupby``/``group_by`` columns; none: all rows), the events are
    counted per second, and Fisher's g test on the periodogram of the counts gives
    ``p_value`` (small: strongly periodic), ``dominant_frequency`` and
    ``dominant_interval`` (seconds), added to every row. Rows with a missing group
    value are dropped and the index is reset, as in MSTICPy. Times may be integer
    seconds (as MSTICPy takes them) or timestamps (read to the second).

    Example::

        >>> beacons = huntbook.detect_polling(flows, "TimeGenerated",
        ...                                   group_by=["SourceIP", "DestinationIP"])
        >>> beacons[beacons["p_value"] < 0.01].drop_duplicates(["SourceIP", "DestinationIP"])
    """
    groups = _group_list(group_by if group_by is not None else groupby)
    batch = _polling_batch(data, time_column, groups)
    found = pa.record_batch(_huntbook.polling_rows(batch, time_column, groups))
    rows = found.column("row").to_numpy()
    # Without groups MSTICPy adds the columns in place; with groups its merge drops
    # the rows without a group and renumbers the rest.
    if not groups:
        out = data.copy()
    elif len(rows) == len(data):
        out = data.reset_index(drop=True)
    else:
        out = data.iloc[rows].reset_index(drop=True)
    for name in ("p_value", "dominant_frequency", "dominant_interval"):
        out[name] = found.column(name).to_numpy()
    return out


def polling_groups(
    data: pd.DataFrame,
    time_column: str,
    group_by: Union[str, Sequence[str], None] = None,
) -> pd.DataFrame:
    """One row per group with its polling results, most significant first: the group
    columns, ``event_count``, ``p_value``, ``dominant_frequency``,
    ``dominant_interval`` (seconds), ``first_time`` and ``last_time``.

    Example::

        >>> huntbook.polling_groups(flows, "TimeGenerated", ["SourceIP", "DestinationIP"]).head(3)
    """
    groups = _group_list(group_by)
    batch = _polling_batch(data, time_column, groups)
    return to_frame(_huntbook.polling_groups(batch, time_column, groups))
