"""Detections of classic attacks on security tables, each returning its evidence.

Each function returns the input rows behind what it found (the DataFrame's index
kept, a row repeated if two findings share it) with four columns added:
``FindingId`` (0, 1, ... in time order), ``Detection`` (e.g. ``"password spray"``),
``Severity`` (Microsoft Sentinel's scale: ``Informational``, ``Low``, ``Medium``,
``High``) and ``Reason`` (one line for the analyst). No finding: an empty frame.
The work runs in Rust without the GIL.

Example::

    import huntbook
    spray = huntbook.detect.brute_force(logons)
    spray.groupby(["FindingId", "Severity", "Reason"]).size()
    travel = huntbook.detect.impossible_travel(signins)
    beacons = huntbook.detect.beaconing(flows)
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Union

import pandas as pd

from huntbook import _huntbook
from huntbook._tables import to_batch, to_frame

__all__ = ["brute_force", "impossible_travel", "beaconing"]

#: Where detections look for a sign-in's address when they need its location.
_IP_COLUMNS = ("IPAddress", "IpAddress", "SourceIP", "ClientIP")


def _evidence(data: pd.DataFrame, found: "tuple[object, list[int]]") -> pd.DataFrame:
    batch, rows = found
    frame = to_frame(batch)
    frame.index = data.index[rows]
    return frame


def brute_force(
    logons: pd.DataFrame,
    *,
    time_column: str = "TimeGenerated",
    source_column: Optional[str] = None,
    account_column: Optional[str] = None,
    target_column: Optional[str] = None,
    result_column: Optional[str] = None,
    success_values: Optional[Sequence[str]] = None,
    failure_values: Optional[Sequence[str]] = None,
    max_gap_minutes: float = 10.0,
    min_failures: int = 20,
    spray_accounts: int = 5,
) -> pd.DataFrame:
    """Bursts of failed logons from one source: brute force, or password spraying
    when the burst tries ``spray_accounts`` accounts or more.

    Failures from a source further apart than ``max_gap_minutes`` start a new burst; a
    burst of ``min_failures`` or more is a finding (Medium). A successful logon from
    the same source as one of the tried accounts, during the burst or up to
    ``max_gap_minutes`` after it, joins the evidence and makes the finding High.

    Windows logon events (``EventID`` 4625 failure, 4624 success, other events
    ignored) and Entra ID sign-ins (``ResultType`` "0" success, any other value a
    failure) are read as they are; the source (``IpAddress``, ``IPAddress``,
    ``SourceIP``, ``ClientIP``), account (``TargetUserName``, ``UserPrincipalName``,
    ``UserId``, ``Account``) and target (``Computer``, ``AppDisplayName``) columns are
    found by these names unless given.

    Example::

        >>> found = huntbook.detect.brute_force(logons)
        >>> found.drop_duplicates("FindingId")[["Detection", "Severity", "Reason"]]
              Detection Severity                                             Reason
        812  password spray     High  240 failed logons for 8 accounts (admin, ...
    """
    return _evidence(
        logons,
        _huntbook.brute_force(
            to_batch(logons),
            time_column,
            source_column,
            account_column,
            target_column,
            result_column,
            None if success_values is None else [str(v) for v in success_values],
            None if failure_values is None else [str(v) for v in failure_values],
            float(max_gap_minutes),
            int(min_failures),
            int(spray_accounts),
        ),
    )


def impossible_travel(
    signins: pd.DataFrame,
    *,
    time_column: str = "TimeGenerated",
    user_column: Optional[str] = None,
    ip_column: Optional[str] = None,
    latitude_column: str = "Latitude",
    longitude_column: str = "Longitude",
    place_column: Optional[str] = None,
    result_column: Optional[str] = None,
    success_values: Sequence[str] = ("0",),
    max_speed_km_h: float = 1000.0,
    min_distance_km: float = 500.0,
    window_hours: float = 24.0,
    geoip_databases: Optional[Sequence[Union[str, os.PathLike]]] = None,
) -> pd.DataFrame:
    """Consecutive sign-ins of one user too far apart for the time between them.

    Each user's successful sign-ins (``ResultType`` in ``success_values`` when the
    table has that column) are taken in time order; two consecutive ones at least
    ``min_distance_km`` apart at more than ``max_speed_km_h`` are a hop. Hops of one
    user within ``window_hours`` of each other are one finding, whose evidence is the
    user's sign-ins from the first hop's start to the last hop's end: Medium for one
    hop, High when the account went back and forth.

    Coordinates come from ``latitude_column`` and ``longitude_column``; where the
    table has none (or some are missing), they are looked up with :func:`huntbook.geoip`
    from the address column (``ip_column``, else the first of ``IPAddress``,
    ``IpAddress``, ``SourceIP``, ``ClientIP``), with ``geoip_databases`` if given.
    The evidence carries the coordinates used.

    Example::

        >>> found = huntbook.detect.impossible_travel(signins)
        >>> found.Reason.iloc[0]
        'carol@contoso.com: London -> Sydney, 16994 km in 40m 0s (25491 km/h); ...'
    """
    located = _located(signins, ip_column, latitude_column, longitude_column, geoip_databases)
    return _evidence(
        located,
        _huntbook.impossible_travel(
            to_batch(located),
            time_column,
            user_column,
            latitude_column,
            longitude_column,
            place_column,
            result_column,
            [str(v) for v in success_values],
            float(max_speed_km_h),
            float(min_distance_km),
            float(window_hours),
        ),
    )


def beaconing(
    flows: pd.DataFrame,
    *,
    time_column: str = "TimeGenerated",
    group_by: Optional[Sequence[str]] = None,
    min_events: int = 20,
    max_p_value: float = 1e-6,
    max_interval_secs: float = 3600.0,
) -> pd.DataFrame:
    """Flows from one source to one destination on a timer.

    Flows are grouped by ``group_by`` (default: those of ``SourceIP``,
    ``DestinationIP``, ``DestinationPort`` the table has); each group's periodicity
    is measured as :func:`huntbook.detect_polling` measures it. A group is a finding
    when it has ``min_events`` flows or more, its p-value is below ``max_p_value``,
    and its gaps are regular (80% within 20% or 2 s of their median, the interval
    reported, which is at most ``max_interval_secs``). High when it kept going for an
    hour or more, else Medium.

    Example::

        >>> found = huntbook.detect.beaconing(flows)
        >>> found.Reason.iloc[0]
        'SourceIP 10.0.1.57, DestinationIP 203.0.113.66, DestinationPort 443: 355 connections every 60 s over 5h 56m (p-value ...)'
    """
    return _evidence(
        flows,
        _huntbook.beaconing(
            to_batch(flows),
            time_column,
            None if group_by is None else [str(c) for c in group_by],
            int(min_events),
            float(max_p_value),
            float(max_interval_secs),
        ),
    )


def _located(
    data: pd.DataFrame,
    ip_column: Optional[str],
    latitude: str,
    longitude: str,
    databases: Optional[Sequence[Union[str, os.PathLike]]],
) -> pd.DataFrame:
    """``data`` with every coordinate it lacks filled from GeoIP."""
    have = [c for c in (latitude, longitude) if c in data.columns]
    if len(have) == 2 and not data[have].isna().any().any():
        return data
    if ip_column is None:
        ip_column = next((c for c in _IP_COLUMNS if c in data.columns), None)
    if ip_column is None:
        raise ValueError(
            f"the sign-ins have no {latitude!r}/{longitude!r} coordinates and no address "
            f"column ({', '.join(_IP_COLUMNS)}) to look them up from; pass ip_column="
        )
    from huntbook.geo import geoip

    found = geoip(data[[ip_column]].reset_index(drop=True), ip_column=ip_column, databases=databases)
    data = data.copy()
    for column, geo in ((latitude, "Latitude"), (longitude, "Longitude")):
        looked_up = pd.to_numeric(found[geo], errors="coerce").to_numpy()
        filled = pd.Series(looked_up, index=data.index)
        data[column] = pd.to_numeric(data[column], errors="coerce").fillna(filled) if column in data.columns else filled
    return data
