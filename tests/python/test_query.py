"""huntbook.QueryProvider over the sample SOC dataset: attribute navigation, parameters
that filter rows, MSTICPy's time grammar, help and print, split_by, exec_query."""

import pandas as pd
import pytest

import huntbook

ANCHOR = "2024-06-01T12:00:00Z"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    written = huntbook.write_sample_data(folder, rows=500, seed=7, anchor=ANCHOR)
    assert (written["rows"] > 0).all()
    return folder


@pytest.fixture(scope="module")
def qp(data):
    provider = huntbook.QueryProvider("LocalData", data_paths=[data])
    provider.connect()
    return provider


def test_queries_are_attributes_by_family(qp):
    assert qp.environment == "LocalData"
    assert "SecurityAlert.list_alerts" in qp.list_queries()
    assert "WindowsSecurity.list_host_logons" in qp.list_queries("logon")
    assert callable(qp.SecurityAlert.list_alerts)
    assert "list_alerts" in repr(qp.SecurityAlert)
    assert set(qp.browse_queries().columns) == {"family", "query", "description", "parameters"}


def test_time_parameters_filter_rows(qp):
    week = qp.SecurityAlert.list_alerts(start="2024-05-25T12:00:00Z", end=ANCHOR)
    assert len(week) > 0
    assert str(week["TimeGenerated"].dtype).endswith("UTC]")
    day = qp.SecurityAlert.list_alerts(start=pd.Timestamp("2024-05-31T12:00:00"), end=ANCHOR)
    assert 0 < len(day) < len(week)
    assert day["TimeGenerated"].min() >= pd.Timestamp("2024-05-31T12:00:00Z")
    # MSTICPy's grammar, relative to now: the sample covers a week before the anchor.
    assert len(qp.SecurityAlert.list_alerts(start="-1d", end="now")) == 0


def test_equality_parameter_filters_and_unknown_parameter_is_an_error(qp):
    procs = qp.WindowsSecurity.list_host_processes(
        start="2024-05-25", end=ANCHOR, host_name="no-such-host"
    )
    assert len(procs) == 0
    with pytest.raises(ValueError, match="has no parameter 'hostnme'"):
        qp.WindowsSecurity.list_host_processes(start="2024-05-25", end=ANCHOR, hostnme="x")
    with pytest.raises(ValueError, match="required parameters were not set: start, end"):
        qp.SecurityAlert.list_alerts()
    with pytest.raises(ValueError, match="could not read `yesterday` as a time"):
        qp.SecurityAlert.list_alerts(start="yesterday", end="now")


def test_help_print_and_exec_query(qp, capsys):
    assert qp.SecurityAlert.list_alerts("help") is None
    assert "start (datetime) required" in capsys.readouterr().out
    assert qp.SecurityAlert.list_alerts(start="-7d", end="now", print=True) == "alerts.parquet"
    assert len(qp.exec_query("alerts.parquet")) == len(
        qp.SecurityAlert.list_alerts(start="2000-01-01", end="2100-01-01")
    )


def test_split_by_gives_the_same_rows_with_progress(qp):
    whole = qp.SecurityAlert.list_alerts(start="2024-05-25T12:00:00Z", end=ANCHOR)
    seen = []
    split = qp.SecurityAlert.list_alerts(
        start="2024-05-25T12:00:00Z", end=ANCHOR, split_by="1D",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert sorted(seen) == [(k, 7) for k in range(1, 8)]
    key = ["TimeGenerated", "SystemAlertId"]
    pd.testing.assert_frame_equal(
        split.sort_values(key).reset_index(drop=True), whole.sort_values(key).reset_index(drop=True)
    )


def test_a_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        huntbook.QueryProvider("LocalData", data_paths=[tmp_path / "absent"])


def test_pickles_are_read_by_pandas_and_filtered(tmp_path):
    data = tmp_path / "data"
    huntbook.write_sample_data(data, rows=300, seed=3, anchor=ANCHOR)
    alerts = pd.read_parquet(data / "alerts.parquet")
    alerts.to_pickle(data / "old_alerts.pkl")
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "archive.yaml").write_text(
        "metadata:\n  version: 1\n  description: archived alerts\n  data_environments: [LocalData]\n"
        "  data_families: [Archive]\nsources:\n  old_alerts:\n    description: alerts kept in a pickle\n"
        "    args:\n      query: old_alerts.pkl\n    parameters:\n      start:\n        description: from\n"
        "        type: datetime\n        column: TimeGenerated\n        op: ge\n"
    )
    qp = huntbook.QueryProvider("LocalData", data_paths=[data], query_paths=[queries])
    assert qp.exec_query("old_alerts.pkl").shape == alerts.shape
    assert qp.schema["old_alerts.pkl"]["TimeGenerated"] == "datetime"
    assert qp.schema["alerts.parquet"]["AlertName"] == "string"
    since = pd.Timestamp(ANCHOR) - pd.Timedelta(days=2)
    recent = qp.Archive.old_alerts(start=since)
    assert len(recent) == (alerts["TimeGenerated"] >= since).sum()
    assert 0 < len(recent) < len(alerts)

    pd.Series([1, 2]).to_pickle(data / "not_a_frame.pkl")
    with pytest.raises(ValueError, match="holds a Series, not a DataFrame"):
        huntbook.QueryProvider("LocalData", data_paths=[data]).exec_query("not_a_frame.pkl")
