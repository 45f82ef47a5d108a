"""Process features, event clustering and outliers on DataFrames (MSTICPy's
``eventcluster`` and ``outliers``).

:func:`add_process_features` derives MSTICPy's numeric features from process events,
:func:`cluster_events` collapses repetitive events into one row per cluster with
DBSCAN (the labels are scikit-learn's), :func:`cluster_labels` gives each event its
cluster, and :func:`outliers` scores rows with an isolation forest. The work runs in
Rust, on all cores, without the GIL.

Example::

    import huntbook
    feats = huntbook.add_process_features(procs)
    clusters = huntbook.cluster_events(
        feats, columns=["commandlineTokensFull", "pathScore", "isSystemSession"],
        time_column="TimeGenerated")
    clusters.sort_values("ClusterSize")          # the rare patterns first
    odd = huntbook.outliers(feats, columns=["commandlineLen", "pathScore"])
    odd[odd.IsOutlier]
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd
import pyarrow as pa

from huntbook import _huntbook
from huntbook._tables import to_batch, to_frame

__all__ = [
    "add_process_features",
    "cluster_events",
    "cluster_labels",
    "outliers",
    "identify_outliers",
]

# The columns add_process_features reads, and those it writes (it reads a feature the
# table already has instead of recomputing it).
_SOURCES = ["NewProcessName", "CommandLine", "SubjectLogonId"]
_FEATURES = [
    "processName",
    "pathScore",
    "pathLogScore",
    "pathHash",
    "commandlineLen",
    "commandlineLogLen",
    "commandlineTokensFull",
    "commandlineScore",
    "commandlineTokensHash",
    "isSystemSession",
]
_SUMMARY = ["Clustered", "ClusterId", "ClusterSize", "TimeGenerated", "FirstEventTime", "LastEventTime"]

Size = Optional[Union[int, float, str]]


def add_process_features(
    input_frame: pd.DataFrame, path_separator: Optional[str] = None, force: bool = False
) -> pd.DataFrame:
    """A copy of ``input_frame`` with MSTICPy's numeric process features added.

    The columns and their rules are those of
    ``msticpy.analysis.eventcluster.add_process_features``: from ``NewProcessName``,
    ``processName`` (last path element), ``pathScore`` (sum of code points),
    ``pathLogScore`` (its log10), ``pathHash`` (CRC-32); from ``CommandLine``,
    ``commandlineLen``, ``commandlineLogLen``, ``commandlineTokensFull`` (count of
    delimiter characters), ``commandlineScore``, ``commandlineTokensHash``; from
    ``SubjectLogonId``, ``isSystemSession`` (``"0x3e7"`` or ``"-1"``). A group is added
    only when its source column exists; existing feature columns are kept unless
    ``force``. When both ``NewProcessName`` and ``CommandLine`` exist, their missing
    values become ``""``.

    Args:
        input_frame: process events (Windows 4688 or Linux exec events).
        path_separator: the separator in ``NewProcessName``; by default ``/`` if one
            of the first 10 paths contains one, else ``\\``.
        force: recompute feature columns that already exist.

    Example::

        >>> procs = pd.DataFrame({"NewProcessName": ["C:\\\\Windows\\\\cmd.exe"],
        ...                       "CommandLine": ["cmd /c whoami"], "SubjectLogonId": ["0x3e7"]})
        >>> huntbook.add_process_features(procs)[["processName", "commandlineTokensFull", "isSystemSession"]]
          processName  commandlineTokensFull  isSystemSession
        0     cmd.exe                      3             True
    """
    sent = [c for c in _SOURCES + _FEATURES if c in input_frame.columns]
    result = to_frame(
        _huntbook.add_process_features(to_batch(input_frame, sent), path_separator, force)
    )
    output = input_frame.copy()
    # The path and command line come back filled only when both are there.
    filled = {"NewProcessName", "CommandLine"} <= set(input_frame.columns)
    for name in result.columns:
        if name in _SOURCES:
            if not filled or name == "SubjectLogonId":
                continue
        elif name in input_frame.columns and not force:
            continue  # an existing feature, kept as it was
        column = result[name]
        # Text as Python strings (object dtype), as MSTICPy's columns are.
        if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
            column = column.astype(object)
        output[name] = column.to_numpy()
    return output


def cluster_events(
    data: pd.DataFrame,
    columns: Sequence[str],
    *,
    max_distance: float = 0.01,
    min_samples: int = 2,
    time_column: str = "TimeCreatedUtc",
    normalize: bool = True,
) -> pd.DataFrame:
    """Cluster events on numeric feature columns with DBSCAN and summarise them, as
    MSTICPy's ``dbcluster_events`` does.

    Each row's features are scaled to unit length (scikit-learn's ``Normalizer``)
    unless ``normalize=False``; DBSCAN then runs with Euclidean distance, ``eps =
    max_distance`` and ``min_samples``, and its labels equal scikit-learn's. The result
    has every noise row (``ClusterId`` -1, ``Clustered`` False, ``ClusterSize`` 1)
    followed by the first row of each cluster, with ``ClusterId``, ``ClusterSize``,
    ``Clustered``, and ``FirstEventTime``/``LastEventTime`` from ``time_column``
    (``TimeGenerated`` is set to the first time, as MSTICPy sets it; noise rows carry
    the span of all noise). Index labels are those of the input rows. MSTICPy's
    ``cluster_columns``, ``max_cluster_distance`` and ``min_cluster_samples`` are
    ``columns``, ``max_distance`` and ``min_samples`` here; for each row's label use
    :func:`cluster_labels`.

    Example::

        >>> feats = huntbook.add_process_features(procs)
        >>> huntbook.cluster_events(feats, ["commandlineTokensFull", "pathScore", "isSystemSession"],
        ...                         time_column="TimeGenerated")[["processName", "ClusterSize"]]
    """
    columns = _names(columns)
    sent = list(dict.fromkeys(columns + [time_column]))
    _check_columns(data, sent)
    summary, rows = _huntbook.cluster_events(
        to_batch(data, sent), columns, time_column, float(max_distance), int(min_samples), normalize
    )
    added = to_frame(summary)[_SUMMARY]
    output = data.iloc[rows].copy()
    for name in _SUMMARY:
        output[name] = added[name].to_numpy()
    return output


def cluster_labels(
    data: pd.DataFrame,
    columns: Sequence[str],
    *,
    max_distance: float = 0.01,
    min_samples: int = 2,
    normalize: bool = True,
) -> pd.Series:
    """Each row's DBSCAN cluster (``-1`` for noise), as :func:`cluster_events` finds
    it; equal to scikit-learn's ``DBSCAN(...).fit(X).labels_`` (MSTICPy's
    ``dbcluster_events(...)[1].labels_``).

    Example::

        >>> feats["ClusterId"] = huntbook.cluster_labels(feats, ["pathScore", "commandlineTokensFull"])
    """
    columns = _names(columns)
    _check_columns(data, columns)
    labels = _huntbook.cluster_labels(
        to_batch(data, columns), columns, float(max_distance), int(min_samples), normalize
    )
    return pd.Series(np.asarray(labels, dtype=np.int64), index=data.index, name="ClusterId")


def outliers(
    data: pd.DataFrame,
    columns: Sequence[str],
    *,
    contamination: Union[float, str] = 0.05,
    max_samples: Size = None,
    max_features: Optional[Union[int, float]] = None,
    n_estimators: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """A copy of ``data`` with an isolation forest's verdict on each row.

    The forest is scikit-learn's ``IsolationForest`` model, grown on the numeric
    ``columns`` of all rows: ``n_estimators`` trees, each on ``max_samples`` rows
    (``None``/``"auto"``: min(256, rows); an int: that many; a float: that share) and
    ``max_features`` features (``None``: all; an int or a share). Added columns:

    - ``OutlierScore``: the anomaly score in (0, 1], higher is stranger; the quantity
      scikit-learn reports as ``-IsolationForest.score_samples(X)``.
    - ``IsOutlier``: whether the score is above the cut that leaves ``contamination``
      of the rows above it (``"auto"``: above 0.5); scikit-learn's
      ``IsolationForest.predict(X) == -1``.

    The trees are random, as scikit-learn's are, but drawn from another generator: the
    same ``seed`` gives the same answer on every run, and the outliers found agree
    with scikit-learn's for any seed up to the rows near the cut.

    Example::

        >>> odd = huntbook.outliers(feats, ["commandlineLen", "pathScore"], contamination=0.01)
        >>> odd[odd.IsOutlier].sort_values("OutlierScore", ascending=False)
    """
    columns = _names(columns)
    _check_columns(data, columns)
    if isinstance(contamination, str):
        if contamination != "auto":
            raise ValueError(f"contamination must be a fraction or 'auto', got {contamination!r}")
        contamination = None
    if max_samples == "auto":
        max_samples = None
    result = to_frame(
        _huntbook.outliers(
            to_batch(data, columns),
            columns,
            contamination,
            max_samples,
            max_features,
            int(n_estimators),
            int(seed),
        )
    )
    output = data.copy()
    output["OutlierScore"] = result["OutlierScore"].to_numpy()
    output["IsOutlier"] = result["IsOutlier"].to_numpy()
    return output


def identify_outliers(
    x: np.ndarray,
    x_predict: np.ndarray,
    contamination: float = 0.05,
    max_features: Optional[Union[int, float]] = None,
    max_samples: Optional[Union[int, float]] = None,
    seed: int = 42,
) -> Tuple[np.ndarray, np.ndarray]:
    """MSTICPy's ``identify_outliers`` without the scikit-learn model: grow an
    isolation forest on ``x`` and judge the rows of ``x_predict``.

    MSTICPy's defaults apply: ``max_samples`` None is min(100, rows), a float below 1
    a share of the rows; ``max_features`` None is floor(sqrt(columns)).

    Returns:
        ``(x_outliers, y_pred)``: the rows of ``x_predict`` judged outliers, and for
        each row 1 (inlier) or -1 (outlier), as MSTICPy's last two items.

    Example::

        >>> x = np.random.default_rng(0).normal(size=(1000, 3))
        >>> x_outliers, y_pred = huntbook.identify_outliers(x, x)
    """
    x = np.asarray(x, dtype=np.float64)
    x_predict = np.asarray(x_predict, dtype=np.float64)
    if x.ndim != 2 or x_predict.ndim != 2:
        raise ValueError("x and x_predict must be 2-dimensional arrays (rows x features)")
    rows, cols = x.shape
    if max_samples is None:
        samples: Union[int, float] = min(100, rows)
    elif isinstance(max_samples, float) and 0 < max_samples < 1:
        samples = int(max_samples * rows)
    else:
        samples = int(min(max_samples, rows))
    features = max_features or math.floor(math.sqrt(cols))
    flags = _huntbook.isolation_forest_predict(
        _matrix_batch(x), _matrix_batch(x_predict), contamination, samples, features, 100, int(seed)
    )
    flags = np.asarray(flags, dtype=bool)
    return x_predict[flags], np.where(flags, -1, 1)


def _matrix_batch(x: np.ndarray) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array(np.ascontiguousarray(x[:, j])) for j in range(x.shape[1])],
        names=[str(j) for j in range(x.shape[1])],
    )


def _names(columns: Union[str, Sequence[str]]) -> List[str]:
    return [columns] if isinstance(columns, str) else list(columns)


def _check_columns(data: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"column {missing[0]!r} is not in the DataFrame; the columns are: "
            + ", ".join(map(str, data.columns))
        )
