"""Time-series anomalies with STL, with MSTICPy's functions, keywords and columns.

:func:`timeseries_anomalies` decomposes a series (seasonal + trend + residual, as
statsmodels' ``STL`` computes them) and scores each point by the z-score of its
residual, as ``msticpy.analysis.timeseries.timeseries_anomalies_stl`` does; the
periods, KQL filter and re-thresholding helpers take its output. The work runs in
Rust without the GIL.

Example::

    import huntbook
    ts = huntbook.timeseries_anomalies(bytes_df, time_column="TimeGenerated",
                                       value_column="TotalBytesSent", period=24)
    ts[ts["anomalies"] != 0]
    huntbook.anomaly_periods(ts)        # {start: end, ...}
    huntbook.anomaly_kql_filter(ts)     # '| where TimeGenerated between (...)'
    huntbook.set_new_anomaly_threshold(ts, threshold=2.5)
"""

from __future__ import annotations

from datetime import datetime
from typing import Dict, Mapping, Optional, Union

import pandas as pd

from huntbook import _huntbook
from huntbook._tables import to_batch, to_frame

__all__ = [
    "timeseries_anomalies",
    "timeseries_anomalies_stl",
    "ts_anomalies_stl",
    "stl_decompose",
    "anomaly_periods",
    "extract_anomaly_periods",
    "anomaly_kql_filter",
    "create_time_period_kqlfilter",
    "set_new_anomaly_threshold",
]


def _stl_settings(
    period: int,
    seasonal: int,
    trend: Optional[int],
    low_pass: Optional[int],
    seasonal_deg: int,
    trend_deg: int,
    low_pass_deg: int,
    robust: bool,
    seasonal_jump: int,
    trend_jump: int,
    low_pass_jump: int,
    inner_iter: Optional[int],
    outer_iter: Optional[int],
) -> dict:
    settings = dict(locals())
    for name, value in settings.items():
        if value is not None and not isinstance(value, bool) and int(value) != value:
            raise ValueError(f"{name} must be a whole number, not {value!r}")
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise ValueError(f"{name} must not be negative, not {value!r}")
    return {k: (v if v is None or isinstance(v, bool) else int(v)) for k, v in settings.items()}


def stl_decompose(
    data: Union[pd.Series, pd.DataFrame],
    period: int,
    seasonal: int = 7,
    trend: Optional[int] = None,
    low_pass: Optional[int] = None,
    seasonal_deg: int = 1,
    trend_deg: int = 1,
    low_pass_deg: int = 1,
    robust: bool = False,
    seasonal_jump: int = 1,
    trend_jump: int = 1,
    low_pass_jump: int = 1,
    inner_iter: Optional[int] = None,
    outer_iter: Optional[int] = None,
    *,
    column: Optional[str] = None,
) -> pd.DataFrame:
    """Seasonal-trend decomposition by loess, as ``statsmodels.tsa.seasonal.STL``.

    Args:
        data: the series (equally spaced, in time order, no gaps), or a DataFrame and
            ``column``.
        period, seasonal, trend, low_pass, seasonal_deg, trend_deg, low_pass_deg,
            robust, seasonal_jump, trend_jump, low_pass_jump: ``STL``'s settings, with
            its defaults.
        inner_iter, outer_iter: ``STL.fit``'s iterations (default 5 and 0, or 2 and 15
            when robust).

    Returns:
        A DataFrame on the data's index with ``seasonal``, ``trend``, ``resid`` and
        ``weights`` (the robustness weights).

    Example::

        >>> parts = huntbook.stl_decompose(hourly["Total"], period=24, robust=True)
        >>> parts["resid"].abs().idxmax()
    """
    if isinstance(data, pd.DataFrame):
        if column is None:
            raise ValueError("pass column= to say which column of the DataFrame to decompose")
        series = data[column]
    else:
        series = data
    settings = _stl_settings(
        period, seasonal, trend, low_pass, seasonal_deg, trend_deg, low_pass_deg,
        robust, seasonal_jump, trend_jump, low_pass_jump, inner_iter, outer_iter,
    )
    name = str(series.name) if series.name is not None else "value"
    batch = to_batch(pd.DataFrame({name: series.to_numpy()}))
    parts = to_frame(_huntbook.stl_decompose(batch, name, settings))
    parts.index = series.index
    return parts


def timeseries_anomalies(
    data: pd.DataFrame,
    time_column: Optional[str] = None,
    value_column: Optional[str] = None,
    *,
    data_column: Optional[str] = None,
    period: int = 24,
    seasonal: int = 7,
    score_threshold: float = 3.0,
    trend: Optional[int] = None,
    low_pass: Optional[int] = None,
    seasonal_deg: int = 1,
    trend_deg: int = 1,
    low_pass_deg: int = 1,
    robust: bool = False,
    seasonal_jump: int = 1,
    trend_jump: int = 1,
    low_pass_jump: int = 1,
    inner_iter: Optional[int] = None,
    outer_iter: Optional[int] = None,
) -> pd.DataFrame:
    """Anomalies in a time series by STL, as MSTICPy's ``timeseries_anomalies_stl``.

    The series is decomposed in the rows' order; the result holds the time and value
    columns and ``residual, trend, seasonal, weights, baseline`` (as whole numbers,
    as MSTICPy casts them), ``score`` (z-score of the residual) and ``anomalies``:
    1 where the score passes ``score_threshold`` with a positive seasonal part, -1
    where it passes it with a negative seasonal part (a high value at a quiet time),
    0 elsewhere. Rows are sorted by time.

    Args:
        data: one row per time step.
        time_column: the time column; default: the index.
        value_column: the numbers to score (MSTICPy's ``data_column`` is an alias);
            default: the first other column.
        period: points per season (24 for hourly data with a daily cycle).
        seasonal: the seasonal smoother's width (odd, >= 3).
        score_threshold: the z-score a point must pass.
        trend, low_pass, ..., outer_iter: further ``STL`` settings (statsmodels'
            defaults; MSTICPy leaves them at those).

    Example::

        >>> ts = huntbook.timeseries_anomalies(bytes_df, time_column="TimeGenerated",
        ...                                    value_column="TotalBytesSent")
        >>> ts.loc[ts["anomalies"] == 1, ["TimeGenerated", "TotalBytesSent", "score"]]
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame with a time column (or index) and values")
    if value_column is not None and data_column is not None and value_column != data_column:
        raise ValueError("pass value_column or its alias data_column, not both")
    value_column = value_column or data_column
    if time_column is None:
        time_column = data.index.name or "index"
        frame = data.reset_index()
    else:
        if time_column not in data.columns:
            raise ValueError(
                f"no column {time_column!r} in the data; its columns are: "
                + ", ".join(map(str, data.columns))
            )
        frame = data
    if value_column is None:
        others = [c for c in frame.columns if c != time_column]
        if not others:
            raise ValueError("the data has no column of values besides the time column")
        value_column = others[0]
    if value_column not in frame.columns:
        raise ValueError(
            f"no column {value_column!r} in the data; its columns are: "
            + ", ".join(map(str, frame.columns))
        )
    settings = _stl_settings(
        period, seasonal, trend, low_pass, seasonal_deg, trend_deg, low_pass_deg,
        robust, seasonal_jump, trend_jump, low_pass_jump, inner_iter, outer_iter,
    )
    batch = to_batch(frame, [time_column, value_column])
    scored, order = _huntbook.score_timeseries(
        batch, str(time_column), str(value_column), settings, float(score_threshold)
    )
    return to_frame(scored).iloc[order]


timeseries_anomalies_stl = timeseries_anomalies
ts_anomalies_stl = timeseries_anomalies


def _period_nanos(period: str) -> int:
    offset = pd.tseries.frequencies.to_offset(period)
    if not isinstance(offset, pd.offsets.Tick):
        raise ValueError(
            f"period {period!r} is not a fixed length of time; use one such as '1h', '30min' or '1D'"
        )
    return int(pd.Timedelta(offset).value)


def anomaly_periods(
    data: pd.DataFrame,
    time_column: str = "TimeGenerated",
    period: str = "1h",
    pos_only: bool = True,
    anomalies_column: str = "anomalies",
) -> Dict[datetime, datetime]:
    """The anomalous periods, as MSTICPy's ``extract_anomaly_periods``.

    Flagged rows are grouped into ``period`` bins; each bin gives a period from one
    ``period`` before it to one after, and bins within two periods of each other
    merge into one.

    Returns:
        ``{start: end}`` as pandas Timestamps (in the time column's zone).

    Example::

        >>> huntbook.anomaly_periods(ts, period="1h")
        {Timestamp('2024-01-03 04:00:00'): Timestamp('2024-01-03 06:00:00')}
    """
    for name in (time_column, anomalies_column):
        if name not in data.columns:
            raise ValueError(
                f"no column {name!r} in the data; its columns are: " + ", ".join(map(str, data.columns))
            )
    batch = to_batch(data, [time_column, anomalies_column])
    pairs = _huntbook.anomaly_periods(
        batch, time_column, anomalies_column, _period_nanos(period), bool(pos_only)
    )
    dtype = data[time_column].dtype
    zone = dtype.tz if isinstance(dtype, pd.DatetimeTZDtype) else None

    def stamp(nanos: int) -> pd.Timestamp:
        return pd.Timestamp(nanos, tz="UTC").tz_convert(zone) if zone else pd.Timestamp(nanos)

    return {stamp(start): stamp(end) for start, end in pairs}


extract_anomaly_periods = anomaly_periods


def anomaly_kql_filter(
    periods: Union[Mapping[datetime, datetime], pd.DataFrame], **kwargs
) -> str:
    """A KQL ``where`` clause on ``TimeGenerated`` for anomalous periods, as MSTICPy's
    ``create_time_period_kqlfilter``.

    Args:
        periods: ``{start: end}`` from :func:`anomaly_periods`, or the output of
            :func:`timeseries_anomalies` (then ``kwargs`` go to :func:`anomaly_periods`).

    Example::

        >>> huntbook.anomaly_kql_filter(ts)
        '| where TimeGenerated between (datetime(2024-01-03 04:00:00) .. datetime(2024-01-03 06:00:00))'
    """
    if isinstance(periods, pd.DataFrame):
        periods = anomaly_periods(periods, **kwargs)
    elif kwargs:
        raise ValueError("keyword arguments apply only when a DataFrame is passed")
    pairs = []
    zoned = False
    for start, end in periods.items():
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        for t in (start, end):
            if t.tz is not None and t.utcoffset() != pd.Timedelta(0):
                raise ValueError(f"time {t} is not in UTC; convert the periods with tz_convert('UTC') first")
        zoned = zoned or start.tz is not None
        pairs.append((start.value, end.value))
    return _huntbook.kql_time_filter(pairs, zoned)


create_time_period_kqlfilter = anomaly_kql_filter


def set_new_anomaly_threshold(
    data: pd.DataFrame,
    threshold: float,
    threshold_low: Optional[float] = None,
    anomalies_column: str = "anomalies",
) -> pd.DataFrame:
    """``data`` with ``anomalies_column`` recomputed from ``score``, as MSTICPy's
    ``set_new_anomaly_threshold``: 1 at or above ``threshold``, -1 at or below minus
    ``threshold_low`` (default: ``threshold``), else 0. The column moves to the end.

    Example::

        >>> calmer = huntbook.set_new_anomaly_threshold(ts, threshold=4.0)
        >>> (calmer["anomalies"] != 0).sum()
    """
    if "score" not in data.columns:
        raise ValueError("no 'score' column in the data; pass the output of timeseries_anomalies")
    marks = to_frame(
        _huntbook.rethreshold(
            to_batch(data, ["score"]), "score", float(threshold),
            None if threshold_low is None else float(threshold_low),
        )
    )["anomalies"]
    out = data.drop(columns=[anomalies_column])
    out[anomalies_column] = marks.to_numpy()
    return out
