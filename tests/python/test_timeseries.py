"""huntbook's time-series anomalies against statsmodels 0.15 STL and MSTICPy 3.0.2.

Both anchors are imported unconditionally: a comparison that cannot run fails the
suite. Every test runs the same series through huntbook and the anchor and compares
the results: STL components to 1e-9 of the data's scale, MSTICPy's frames, periods and
KQL text exactly (scores to rounding).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.seasonal import STL

import huntbook

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from msticpy.analysis import timeseries as m_ts


def hourly_bytes(hours: int, seed: int, spikes=(), dips=(), start="2024-03-01") -> pd.DataFrame:
    """Hourly byte counts with a daily cycle, a weekly wobble, a slow trend and noise;
    ``spikes`` and ``dips`` are hours pushed far up or down."""
    rng = np.random.default_rng(seed)
    t = np.arange(hours)
    values = (
        20_000
        + 8_000 * np.sin(2 * np.pi * t / 24)
        + 1_500 * np.sin(2 * np.pi * t / 168)
        + 15 * t
        + rng.normal(0, 600, hours)
    )
    for h in spikes:
        values[h] += 15_000
    for h in dips:
        values[h] -= 18_000
    return pd.DataFrame(
        {
            "TimeGenerated": pd.date_range(start, periods=hours, freq="h"),
            "TotalBytesSent": values.round(),
        }
    )


def assert_components_match(y: np.ndarray, **settings):
    fit_args = {k: settings.pop(k) for k in ("inner_iter", "outer_iter") if k in settings}
    want = STL(y, **settings).fit(**fit_args)
    got = huntbook.stl_decompose(pd.Series(y), **settings, **fit_args)
    scale = max(1.0, float(np.abs(y).max()))
    for ours, theirs in [
        ("seasonal", want.seasonal),
        ("trend", want.trend),
        ("resid", want.resid),
        ("weights", want.weights),
    ]:
        error = np.abs(got[ours].to_numpy() - np.asarray(theirs)).max()
        assert error <= 1e-9 * scale, f"{ours}: off by {error} with {settings} {fit_args}"


SERIES = [
    (24 * 21, 24, 7),  # three weeks, even length
    (24 * 21 + 5, 24, 7),  # odd length, a partial last day
    (24 * 14 + 1, 24, 13),
    (24 * 10, 24, 3),
    (24 * 30, 168, 7),  # weekly season
    (24 * 9 + 7, 12, 9),
    (24 * 2 + 11, 24, 7),  # shorter than three periods
]
# Under two periods most cycle-subseries have one point, so the fit is exact and the
# residuals are rounding noise: robustness weights computed from them are noise too
# (in statsmodels as here), so those series are compared without robustness.
EXACT_FITS = [
    (30, 24, 7),  # barely more than one period
    (24, 24, 7),  # exactly one period
]


@pytest.mark.parametrize(
    "hours, period, seasonal, robust",
    [case + (robust,) for case in SERIES for robust in (False, True)]
    + [case + (False,) for case in EXACT_FITS],
)
def test_stl_components_match_statsmodels(hours, period, seasonal, robust):
    spikes = [h for h in (30, 77, 200, 401) if h < hours]
    dips = [h for h in (50, 310) if h < hours]
    y = hourly_bytes(hours, seed=hours + period, spikes=spikes, dips=dips)["TotalBytesSent"].to_numpy()
    assert_components_match(y, period=period, seasonal=seasonal, robust=robust)


@pytest.mark.parametrize(
    "settings",
    [
        dict(period=24, seasonal=11, trend=61, low_pass=27),
        dict(period=24, seasonal_deg=0, trend_deg=0, low_pass_deg=0),
        dict(period=24, seasonal_deg=0, robust=True),
        dict(period=24, seasonal_jump=2, trend_jump=5, low_pass_jump=3),
        dict(period=24, seasonal=9, seasonal_jump=3, trend_jump=4, low_pass_jump=7, robust=True),
        dict(period=24, seasonal_jump=100, trend_jump=1000, low_pass_jump=1000),
        dict(period=7, seasonal=5, trend=1001),  # trend wider than the series
        dict(period=24, inner_iter=1, outer_iter=3),
        dict(period=24, robust=True, inner_iter=4, outer_iter=2),
    ],
)
def test_every_stl_setting_matches_statsmodels(settings):
    y = hourly_bytes(24 * 12 + 3, seed=7, spikes=[40, 41, 150], dips=[100])["TotalBytesSent"].to_numpy()
    assert_components_match(y, **settings)


def test_stl_rejects_what_statsmodels_rejects():
    y = pd.Series(np.arange(100.0))
    for bad, word in [
        (dict(period=1), "period"),
        (dict(period=24, seasonal=8), "seasonal"),
        (dict(period=24, trend=23), "trend"),
        (dict(period=24, low_pass=24), "low_pass"),
        (dict(period=24, seasonal_jump=0), "seasonal_jump"),
    ]:
        with pytest.raises(ValueError):
            STL(y.to_numpy(), **bad)
        with pytest.raises(ValueError, match=word):
            huntbook.stl_decompose(y, **bad)


def msticpy_anomalies(frame: pd.DataFrame, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return m_ts.timeseries_anomalies_stl(frame, **kwargs)


def assert_same_scores(ours: pd.DataFrame, theirs: pd.DataFrame):
    pd.testing.assert_frame_equal(ours.drop(columns="score"), theirs.drop(columns="score"))
    np.testing.assert_allclose(ours["score"], theirs["score"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(score_threshold=2.0),
        dict(period=24, seasonal=13, score_threshold=2.5),
        dict(period=168, seasonal=7),
    ],
)
def test_anomalies_match_msticpy_with_spikes_and_dips(kwargs):
    data = hourly_bytes(24 * 28, seed=3, spikes=[30, 77, 200, 401, 555, 620], dips=[50, 310, 600])
    ours = huntbook.timeseries_anomalies(
        data, time_column="TimeGenerated", value_column="TotalBytesSent", **kwargs
    )
    theirs = msticpy_anomalies(data, time_column="TimeGenerated", data_column="TotalBytesSent", **kwargs)
    assert_same_scores(ours, theirs)
    assert set(ours["anomalies"]) == {-1, 0, 1}, "the data should give spikes of both kinds"
    assert list(ours.columns) == [
        "TimeGenerated", "TotalBytesSent", "residual", "trend", "seasonal", "weights",
        "baseline", "score", "anomalies",
    ]


def test_unsorted_rows_are_decomposed_as_given_and_returned_in_time_order():
    data = hourly_bytes(24 * 10, seed=11, spikes=[20, 130])
    shuffled = data.sample(frac=1.0, random_state=5).reset_index(drop=True)
    ours = huntbook.timeseries_anomalies(shuffled, time_column="TimeGenerated", data_column="TotalBytesSent")
    theirs = msticpy_anomalies(shuffled, time_column="TimeGenerated", data_column="TotalBytesSent")
    assert_same_scores(ours, theirs)
    assert not ours.index.equals(pd.RangeIndex(len(ours)))


def test_time_index_zones_and_default_columns_as_msticpy():
    data = hourly_bytes(24 * 8 + 3, seed=2, spikes=[100])
    data["TimeGenerated"] = data["TimeGenerated"].dt.tz_localize("UTC")
    data["Other"] = 1
    indexed = data.set_index("TimeGenerated")
    assert_same_scores(huntbook.timeseries_anomalies(indexed), msticpy_anomalies(indexed))
    # The first other column is the value column when none is named.
    assert_same_scores(
        huntbook.timeseries_anomalies(data, time_column="TimeGenerated"),
        msticpy_anomalies(data, time_column="TimeGenerated"),
    )


def scored(seed=3):
    data = hourly_bytes(24 * 28, seed=seed, spikes=[30, 31, 34, 77, 200, 203, 401, 555], dips=[50, 310, 600])
    return huntbook.timeseries_anomalies(
        data, time_column="TimeGenerated", value_column="TotalBytesSent", score_threshold=2.0
    )


@pytest.mark.parametrize("period", ["1h", "2h", "30min", "3h", "1D"])
@pytest.mark.parametrize("pos_only", [True, False])
@pytest.mark.parametrize("zone", [None, "UTC"])
def test_periods_and_kql_match_msticpy(period, pos_only, zone):
    ts = scored()
    if zone:
        ts["TimeGenerated"] = ts["TimeGenerated"].dt.tz_localize(zone)
    ts["TimeGenerated"] += pd.Timedelta(minutes=17)  # off the bin edges
    ours = huntbook.anomaly_periods(ts, period=period, pos_only=pos_only)
    theirs = m_ts.extract_anomaly_periods(ts, period=period, pos_only=pos_only)
    assert ours == theirs
    assert len(ours) >= 2
    assert huntbook.anomaly_kql_filter(ours) == m_ts.create_time_period_kqlfilter(theirs)
    assert huntbook.anomaly_kql_filter(ts, period=period, pos_only=pos_only) == (
        m_ts.create_time_period_kqlfilter(theirs)
    )


def test_no_anomalies_give_no_periods_and_msticpy_empty_filter():
    ts = scored()
    ts["anomalies"] = 0
    assert huntbook.anomaly_periods(ts) == m_ts.extract_anomaly_periods(ts) == {}
    assert huntbook.anomaly_kql_filter({}) == m_ts.create_time_period_kqlfilter({})


@pytest.mark.parametrize("threshold, low", [(2.5, None), (2.0, 1.0), (3.0, 0.0), (1.5, 4.0)])
def test_rethreshold_matches_msticpy(threshold, low):
    ts = scored()
    ours = huntbook.set_new_anomaly_threshold(ts, threshold=threshold, threshold_low=low)
    theirs = m_ts.set_new_anomaly_threshold(ts, threshold=threshold, threshold_low=low)
    pd.testing.assert_frame_equal(ours, theirs)
    assert (ours["anomalies"] == -1).any() or low == 4.0


def test_bad_input_names_the_problem():
    data = hourly_bytes(24 * 3, seed=1)
    with pytest.raises(ValueError, match="'Bytes'.*TotalBytesSent"):
        huntbook.timeseries_anomalies(data, time_column="TimeGenerated", value_column="Bytes")
    with pytest.raises(ValueError, match="'When'"):
        huntbook.timeseries_anomalies(data, time_column="When", value_column="TotalBytesSent")
    gappy = data.copy()
    gappy.loc[5, "TotalBytesSent"] = np.nan
    with pytest.raises(ValueError, match="TotalBytesSent.*missing"):
        huntbook.timeseries_anomalies(gappy, time_column="TimeGenerated", value_column="TotalBytesSent")
    with pytest.raises(ValueError, match="seasonal"):
        huntbook.timeseries_anomalies(data, time_column="TimeGenerated", seasonal=6)
    with pytest.raises(ValueError, match="fixed length"):
        huntbook.anomaly_periods(scored(), period="1W")
