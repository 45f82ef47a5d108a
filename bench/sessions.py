#!/usr/bin/env python3
"""Benchmark: session scoring and polling detection, huntbook against MSTICPy 3.0.2.

Run it from the repo root with the huntbook package and MSTICPy in the venv:

    python bench/sessions.py [--sessions 10000] [--flows 1000000] [--groups 300] [--repeats 3]
                             [--only scoring|polling]

The data is built here, seeded, the same on every machine:

- sessions: --sessions sessions of 1 to 12 Exchange admin commands from a small Markov
  chain with rare detours, as plain command names (commands mode) and as MSTICPy
  ``Cmd`` objects with sets of parameter names (params mode). The calls:
  ``huntbook.score_sessions(df, "session", 3)`` against MSTICPy's
  ``anomalous.score_sessions(df, "session", 3)`` (train the model, then the rarest
  window of 3 of every session);
- polling: --flows flows in --groups (source, destination) groups over six hours,
  integer seconds; a tenth of the groups beacon every 60 s with jitter, the rest are
  random. The calls: ``huntbook.detect_polling(df, "TimeGenerated", group_by=[...])``
  against ``PeriodogramPollingDetector(df).detect_polling("TimeGenerated", [...])``.

huntbook's figure is the best of --repeats calls, MSTICPy's one call (it is slow);
both on the same DataFrame, after one warm-up call on a few rows.
"""

from __future__ import annotations

import argparse
import random
import time
import warnings

import numpy as np
import pandas as pd

import huntbook

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from msticpy.analysis.anomalous_sequence import anomalous
    from msticpy.analysis.anomalous_sequence.utils.data_structures import Cmd
    from msticpy.analysis.polling_detection import PeriodogramPollingDetector

COMMON = {
    "Get-User": ["Get-Mailbox", "Set-User", "Get-User"],
    "Get-Mailbox": ["Set-Mailbox", "Get-User", "Get-MailboxStatistics"],
    "Get-MailboxStatistics": ["Get-Mailbox", "Get-User"],
    "Set-User": ["Get-User", "Set-Mailbox"],
    "Set-Mailbox": ["Get-Mailbox", "Set-User"],
}
RARE = ["New-InboxRule", "Add-MailboxPermission", "New-TransportRule", "Set-InboxRule"]
PARAMS = ["Identity", "ResultSize", "Filter", "Title", "ForwardingSmtpAddress", "AuditEnabled", "Name"]


def sessions(count: int, seed: int = 1):
    rng = random.Random(seed)
    commands, with_params = [], []
    for _ in range(count):
        cmd = rng.choice(list(COMMON))
        session = [cmd]
        for _ in range(rng.randint(0, 11)):
            cmd = rng.choice(RARE) if rng.random() < 0.02 else rng.choice(COMMON.get(cmd, list(COMMON)))
            session.append(cmd)
        commands.append(session)
        with_params.append([Cmd(c, {p for p in PARAMS if p == "Identity" or rng.random() < 0.3}) for c in session])
    return pd.DataFrame({"session": commands}), pd.DataFrame({"session": with_params})


def flows(count: int, groups: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t0, span = 1_790_000_000, 6 * 3600
    per_group = count // groups
    src, dst, times = [], [], []
    for g in range(groups):
        if g % 10 == 0:
            t = t0 + np.cumsum(60 + rng.integers(-5, 6, size=span // 60))
        else:
            t = t0 + rng.integers(0, span, size=per_group)
        src.append(np.full(len(t), f"10.{g // 250}.{g % 250}.7"))
        dst.append(np.full(len(t), f"203.0.{g % 7}.{g % 113}"))
        times.append(t)
    frame = pd.DataFrame({
        "SourceIP": np.concatenate(src),
        "DestinationIP": np.concatenate(dst),
        "TimeGenerated": np.concatenate(times),
    })
    frame["Bytes"] = rng.integers(200, 20_000, size=len(frame))
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def best(repeats, run):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def once(run):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run()
    return time.perf_counter() - start


def report(name, ours, theirs):
    print(f"{name:<34} huntbook {ours:8.3f} s   MSTICPy {theirs:8.3f} s   {theirs / ours:6.1f}x", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["scoring", "polling"], help="run one of the two benchmarks")
    args = parser.parse_args()

    if args.only != "polling":
        score(args)
    if args.only != "scoring":
        poll(args)


def score(args):
    commands, with_params = sessions(args.sessions)
    for name, frame in (("commands", commands), ("params", with_params)):
        huntbook.score_sessions(frame.head(50), "session", 3)
        ours = best(args.repeats, lambda: huntbook.score_sessions(frame, "session", 3))
        theirs = once(lambda: anomalous.score_sessions(frame, "session", 3))
        report(f"score {len(frame):,} sessions ({name})", ours, theirs)


def poll(args):
    data = flows(args.flows, args.groups)
    groups = ["SourceIP", "DestinationIP"]
    huntbook.detect_polling(data.head(1000), "TimeGenerated", group_by=groups)
    ours = best(args.repeats, lambda: huntbook.detect_polling(data, "TimeGenerated", group_by=groups))
    theirs = once(lambda: PeriodogramPollingDetector(data.copy()).detect_polling("TimeGenerated", groups))
    report(f"polling {len(data):,} flows, {args.groups} groups", ours, theirs)


if __name__ == "__main__":
    main()
