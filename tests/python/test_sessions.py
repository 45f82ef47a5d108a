"""huntbook's sessions, anomalous-session scoring and polling detection against
MSTICPy 3.0.2 on the same inputs.

msticpy is imported unconditionally: a comparison that cannot run fails the suite.
"""

import random
import warnings

import numpy as np
import pandas as pd
import pytest

import huntbook

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from msticpy.analysis.anomalous_sequence import anomalous as m_anomalous
    from msticpy.analysis.anomalous_sequence.model import Model as MModel
    from msticpy.analysis.anomalous_sequence.sessionize import sessionize_data
    from msticpy.analysis.anomalous_sequence.utils.data_structures import Cmd as MCmd
    from msticpy.analysis.polling_detection import PeriodogramPollingDetector


# ---------------------------------------------------------------- sessionize

OPERATIONS = ["Set-Mailbox", "Get-Mailbox", "New-InboxRule", "Set-User", "Add-MailboxPermission",
              "Get-User", "Remove-MailboxPermission", "New-TransportRule", "Set-InboxRule"]


def exchange_events(seed: int = 3, users: int = 6, rows: int = 600) -> pd.DataFrame:
    """Office/Exchange-like admin events: several users and client IPs, bursts with
    short gaps, long runs past the session limit, long pauses, equal timestamps."""
    rng = random.Random(seed)
    start = pd.Timestamp("2026-11-20T08:00:00Z")
    records = []
    for u in range(users):
        user = f"admin{u}@contoso.com"
        ips = [f"10.0.{u}.{k}" for k in range(2)] + ([None] if u == 2 else [])
        t = start + pd.Timedelta(minutes=rng.randint(0, 60))
        ip = ips[0]
        for _ in range(rows // users):
            if rng.random() < 0.08:
                ip = rng.choice(ips)
            # Mostly quick steps, sometimes a gap just over or under 2 minutes, or a pause.
            step = rng.choice([5, 20, 45, 90, 110, 119, 121, 130, 600, 3600])
            if rng.random() < 0.05:
                step = 0
            t = t + pd.Timedelta(seconds=step)
            records.append({
                "TimeGenerated": t,
                "UserId": user,
                "ClientIP": ip,
                "Operation": rng.choice(OPERATIONS),
                "ResultStatus": "Succeeded",
            })
    frame = pd.DataFrame(records)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _cells(series: pd.Series) -> list:
    return [None if (not isinstance(v, list) and pd.isna(v)) else v for v in series.astype(object)]


def assert_same_sessions(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.columns) == list(theirs.columns)
    assert len(ours) == len(theirs)
    for col in theirs.columns:
        if pd.api.types.is_datetime64_any_dtype(theirs[col]) or pd.api.types.is_timedelta64_dtype(theirs[col]):
            pd.testing.assert_series_equal(ours[col], theirs[col], check_names=True)
        else:
            assert _cells(ours[col]) == _cells(theirs[col]), col


@pytest.mark.parametrize("limits", [(20, 2), (5, 1), (60, 10)])
def test_sessionize_matches_msticpy(limits):
    events = exchange_events()
    max_session, max_gap = limits
    theirs = sessionize_data(events, ["UserId", "ClientIP"], "TimeGenerated", max_session, max_gap, "Operation")
    ours = huntbook.sessionize(events, user_columns=["UserId", "ClientIP"], time_column="TimeGenerated",
                               max_session_minutes=max_session, max_gap_minutes=max_gap,
                               event_column="Operation")
    assert_same_sessions(ours, theirs)
    # The data exercises every rule: several sessions per user, long and single ones.
    assert theirs["number_events"].max() > 5 and (theirs["number_events"] == 1).any()
    assert theirs.groupby("UserId").size().min() > 1


def test_sessionize_takes_msticpys_names_naive_times_and_object_events():
    events = exchange_events(seed=5, users=3, rows=150)
    events["TimeGenerated"] = events["TimeGenerated"].dt.tz_localize(None)
    events["Cmd"] = [MCmd(op, {"Identity"}) for op in events["Operation"]]
    theirs = sessionize_data(events, ["UserId"], "TimeGenerated", 20, 2, "Cmd")
    ours = huntbook.sessionize(events, user_identifier_cols=["UserId"], time_col="TimeGenerated",
                               max_session_time_mins=20, max_event_separation_mins=2, event_col="Cmd")
    assert list(ours.columns) == list(theirs.columns)
    pd.testing.assert_series_equal(ours["TimeGenerated_min"], theirs["TimeGenerated_min"])
    pd.testing.assert_series_equal(ours["duration"], theirs["duration"])
    # The very Cmd objects come back, in the same sessions.
    for a, b in zip(ours["Cmd_list"], theirs["Cmd_list"]):
        assert len(a) == len(b) and all(x is y for x, y in zip(a, b))


def test_sessionize_names_a_missing_column():
    with pytest.raises(ValueError, match="'Nope'"):
        huntbook.sessionize(exchange_events(users=1, rows=5), user_columns=["Nope"], time_column="TimeGenerated",
                            max_session_minutes=20, max_gap_minutes=2, event_column="Operation")


# ---------------------------------------------------------------- Markov model

def command_sessions(seed: int, count: int = 300) -> list:
    """Sessions from a small Markov chain over Exchange commands, with rare detours."""
    rng = random.Random(seed)
    common = {
        "Get-User": ["Get-Mailbox", "Set-User", "Get-User"],
        "Get-Mailbox": ["Set-Mailbox", "Get-User"],
        "Set-User": ["Get-User", "Set-Mailbox"],
        "Set-Mailbox": ["Get-Mailbox", "Set-User"],
    }
    rare = ["New-InboxRule", "Add-MailboxPermission", "New-TransportRule"]
    sessions = []
    for _ in range(count):
        cmd = rng.choice(list(common))
        session = [cmd]
        for _ in range(rng.randint(0, 9)):
            cmd = rng.choice(rare) if rng.random() < 0.03 else rng.choice(common.get(cmd, list(common)))
            session.append(cmd)
        sessions.append(session)
    return sessions


PARAMS = {
    "Set-Mailbox": ["Identity", "ForwardingSmtpAddress", "DeliverToMailboxAndForward", "AuditEnabled"],
    "Get-Mailbox": ["Identity", "ResultSize"],
    "Set-User": ["Identity", "Title", "Department"],
    "Get-User": ["Identity", "Filter"],
    "New-InboxRule": ["Name", "ForwardTo", "DeleteMessage"],
    "Add-MailboxPermission": ["Identity", "User", "AccessRights"],
    "New-TransportRule": ["Name", "BlindCopyTo"],
}


def cmd_sessions(seed: int, with_values: bool, make=MCmd) -> list:
    rng = random.Random(seed + 1)
    sessions = []
    for names in command_sessions(seed):
        session = []
        for name in names:
            params = [p for p in PARAMS[name] if p == "Identity" or rng.random() < 0.4]
            if not with_values:
                session.append(make(name, set(params)))
            elif rng.random() < 0.03:
                # A command logged without values, among commands with them.
                session.append(make(name, set(params)))
            else:
                values = {}
                for p in params:
                    if p in ("AuditEnabled", "DeliverToMailboxAndForward", "DeleteMessage"):
                        values[p] = rng.choice(["True", "False", ""])  # few values: modelled
                    elif p == "AccessRights":
                        values[p] = rng.choice(["FullAccess", "ReadPermission", None])
                    else:
                        values[p] = f"{p.lower()}-{rng.randint(0, 400)}"  # many values: not modelled
                session.append(make(name, values))
        sessions.append(session)
    return sessions


def msticpy_windows(sessions, window, tokens, geo):
    model = MModel(sessions=sessions)
    model.train()
    model.compute_rarest_windows(window_len=window, use_geo_mean=geo, use_start_end_tokens=tokens)
    if geo:
        return model.rare_windows_geo[window], model.rare_window_likelihoods_geo[window], model
    return model.rare_windows[window], model.rare_window_likelihoods[window], model


MODES = {
    "commands": lambda: command_sessions(11),
    "param_sets": lambda: cmd_sessions(12, with_values=False),
    "param_values": lambda: cmd_sessions(13, with_values=True),
}


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("window", [2, 3])
@pytest.mark.parametrize("tokens", [True, False])
@pytest.mark.parametrize("geo", [False, True])
def test_rarest_windows_match_msticpy(mode, window, tokens, geo):
    sessions = MODES[mode]()
    windows, likelihoods, model = msticpy_windows(sessions, window, tokens, geo)
    if mode == "param_values":
        # The data has both modelled and unmodelled parameters.
        assert {"AuditEnabled", "DeliverToMailboxAndForward"} <= model.modellable_params
        assert "Identity" not in model.modellable_params
    frame = pd.DataFrame({"session": sessions, "user": range(len(sessions))})
    scored = huntbook.score_sessions(frame, "session", window, use_start_end_tokens=tokens, use_geo_mean=geo)
    ours = scored[f"rarest_window{window}_likelihood"].to_numpy()
    np.testing.assert_allclose(ours, np.array(likelihoods, dtype=float), rtol=1e-9, atol=0)
    assert np.isnan(ours).any() == any(np.isnan(likelihoods))
    for mine, theirs in zip(scored[f"rarest_window{window}"], windows):
        assert len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs))
    assert list(scored.columns) == ["session", "user", f"rarest_window{window}_likelihood", f"rarest_window{window}"]


def test_score_sessions_matches_msticpys_function_with_huntbook_cmds():
    sessions = command_sessions(21)
    frame = pd.DataFrame({"cmds": sessions})
    theirs = m_anomalous.score_sessions(frame, "cmds", 3)
    ours = huntbook.score_sessions(frame, session_column="cmds", window_length=3)
    np.testing.assert_allclose(ours["rarest_window3_likelihood"], theirs["rarest_window3_likelihood"], rtol=1e-9)
    assert ours["rarest_window3"].tolist() == theirs["rarest_window3"].tolist()
    # huntbook.Cmd builds the same sessions as MSTICPy's Cmd.
    ours = huntbook.score_sessions(pd.DataFrame({"s": cmd_sessions(22, True, huntbook.Cmd)}), "s", 3)
    theirs = m_anomalous.score_sessions(pd.DataFrame({"s": cmd_sessions(22, True, MCmd)}), "s", 3)
    np.testing.assert_allclose(ours["rarest_window3_likelihood"], theirs["rarest_window3_likelihood"], rtol=1e-9)
    for a, b in zip(ours["rarest_window3"], theirs["rarest_window3"]):
        assert [(c.name, c.params) for c in a] == [(c.name, c.params) for c in b]


def test_bad_sessions_are_named():
    with pytest.raises(ValueError, match="row 1"):
        huntbook.score_sessions(pd.DataFrame({"s": [["a"], []]}), "s", 2)
    with pytest.raises(ValueError, match="'t'"):
        huntbook.score_sessions(pd.DataFrame({"s": [["a"]]}), "t", 2)
    with pytest.raises(ValueError, match="window_length"):
        huntbook.score_sessions(pd.DataFrame({"s": [["a"]]}), "s", 0)


# ---------------------------------------------------------------- polling

def flows(seed: int = 9) -> pd.DataFrame:
    """Integer-second flows: beacons every 60 s (jittered) over hours, a fast beacon
    over a short span (the exact g test), and random noise groups."""
    rng = random.Random(seed)
    rows = []

    def add(src, dst, times):
        rows.extend({"SourceIP": src, "DestinationIP": dst, "TimeGenerated": t, "Bytes": 300} for t in times)

    t0 = 1_790_000_000
    for b in range(3):
        times, t = [], t0 + rng.randint(0, 500)
        while t < t0 + (3 + b) * 3600:
            times.append(t)
            t += 60 + rng.randint(-5, 5)
        add(f"10.1.0.{b}", "203.0.113.66", times)
    times, t = [], t0
    while t < t0 + 1100:
        times.append(t)
        t += 10 + rng.randint(-1, 1)
    add("10.1.0.9", "198.51.100.7", times)
    for n in range(8):
        span = rng.choice([900, 1300, 4 * 3600])
        add(f"10.2.0.{n}", f"93.184.{n}.1", [t0 + rng.randint(0, span) for _ in range(rng.randint(20, 300))])
    add(None, "203.0.113.66", [t0 + 5, t0 + 65])
    frame = pd.DataFrame(rows)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def msticpy_polling(frame, groupby):
    detector = PeriodogramPollingDetector(frame.copy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detector.detect_polling("TimeGenerated", groupby)
    return detector.data


@pytest.mark.parametrize("groupby", [["SourceIP", "DestinationIP"], "DestinationIP", None])
def test_polling_matches_msticpy(groupby):
    frame = flows()
    if groupby is None:
        frame = frame[frame["SourceIP"] == "10.1.0.9"].reset_index(drop=True)
    theirs = msticpy_polling(frame, groupby)
    ours = huntbook.detect_polling(frame, time_column="TimeGenerated", group_by=groupby)
    assert list(ours.columns) == list(theirs.columns)
    pd.testing.assert_frame_equal(ours.drop(columns=["p_value"]), theirs.drop(columns=["p_value"]),
                                  check_exact=True)
    np.testing.assert_allclose(ours["p_value"].astype(float), theirs["p_value"].astype(float), rtol=1e-6, atol=0)


def test_planted_beacons_are_significant_and_noise_is_not():
    ours = huntbook.detect_polling(flows(), "TimeGenerated", groupby=["SourceIP", "DestinationIP"])
    per_group = ours.drop_duplicates(["SourceIP", "DestinationIP"]).set_index("SourceIP")
    beacons = [f"10.1.0.{b}" for b in range(3)]
    assert (per_group.loc[beacons, "p_value"] < 1e-6).all()
    assert np.allclose(per_group.loc[beacons, "dominant_interval"], 60, atol=2)
    noise = per_group[per_group.index.str.startswith("10.2.")]
    assert (noise["p_value"] > 1e-3).all()


def test_sample_network_beacon_is_the_significant_group(tmp_path):
    huntbook.write_sample_data(tmp_path, anchor="2026-11-28T00:00:00Z")
    network = pd.read_parquet(tmp_path / "network.parquet")
    groups = huntbook.polling_groups(network, "TimeGenerated", ["DeviceName", "DestinationIP", "DestinationPort"])
    top = groups.iloc[0]
    assert top["DeviceName"].startswith("WORKSTATION-07")
    assert (top["DestinationIP"], int(top["DestinationPort"])) == ("203.0.113.66", 443)
    assert top["p_value"] < 1e-6 and abs(top["dominant_interval"] - 60) < 2
    assert (groups["p_value"].iloc[1:].dropna() > 1e-3).all()
    assert {"event_count", "first_time", "last_time"} <= set(groups.columns)


def test_polling_errors_name_the_column():
    with pytest.raises(ValueError, match="'Nope'"):
        huntbook.detect_polling(flows(), "Nope")
    with pytest.raises(ValueError, match="whole seconds"):
        huntbook.detect_polling(pd.DataFrame({"t": [1.5, 2.0]}), "t")
