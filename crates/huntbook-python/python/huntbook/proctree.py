"""Process trees from process-creation events, with MSTICPy's columns and navigation.

:func:`build_process_tree` returns MSTICPy's frame: indexed by ``proc_key``, with
``parent_key``, ``path``, ``IsRoot``, ``IsLeaf``, ``IsBranch`` and the other columns
MSTICPy adds, sorted by ``path``, so code written for MSTICPy keeps working. The frame
carries a navigation index built in Rust, reached through the ``hb_tree`` accessor.

Example::

    import huntbook
    tree = huntbook.build_process_tree(procs)          # schema inferred from the columns
    tree.hb_tree.summary()
    tree.hb_tree.roots()
    tree.hb_tree.descendants("cmd.exe|0x1a4c")         # a proc_key or name|pid
    print(tree.hb_tree.to_text("cmd.exe|0x1a4c"))      # that process's whole tree
    tree.plot(legend_col="SubjectUserName")            # the interactive tree chart
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

import pandas as pd
import pyarrow as pa
from pandas.plotting import PlotAccessor

from huntbook import _huntbook
from huntbook._tables import frame_columns, to_batch

if TYPE_CHECKING:
    from huntbook.plot import Chart

__all__ = ["build_process_tree", "ProcessTreeAccessor"]

#: A process: its ``proc_key`` (or a ``name|pid`` query), its row, or its position.
Source = Union[str, pd.Series, int]


def build_process_tree(
    data: Union[pd.DataFrame, pa.Table, pa.RecordBatch],
    schema: Union[str, Dict[str, str], None] = None,
    *,
    show_summary: bool = False,
) -> pd.DataFrame:
    """Link each process event to its parent and return the tree as a DataFrame.

    Parents are matched by process id (and parent name where the schema has one),
    backwards in time and within a host, so pid reuse is handled; processes whose
    parent is not in the data get an inferred parent row.

    Args:
        data: process-creation events (Windows 4688, Sysmon event 1, Defender
            ``DeviceProcessEvents``, Linux auditd ``SYSCALL_EXECVE``, OSQuery, ...), as
            a DataFrame or a pyarrow Table (``pyarrow.parquet.read_table(path)`` is
            read without a detour through pandas).
        schema: a built-in schema name (``"windows"``, ``"sysmon"``, ``"linux"``,
            ``"mde"``, ``"mde_internal"``, ``"osquery"``, ``"hx"``) or a dict mapping
            ``process_name``, ``process_id``, ``parent_id``, ``time_stamp`` (and
            optionally ``host_name_column``, ``parent_name``, ``logon_id``,
            ``target_logon_id``, ``user_name``, ``cmd_line``, ``event_id_column``,
            ``event_id_identifier``) to column names. Default: inferred from the columns.
        show_summary: print the summary, as MSTICPy does.

    Example::

        >>> tree = huntbook.build_process_tree(procs, schema="sysmon")
        >>> tree.hb_tree.summary()["RootProcesses"]
        12
    """
    names = [str(c) for c in data.columns] if isinstance(data, pd.DataFrame) else data.schema.names
    kept = _kept_back(data, names, schema)
    sent = [c for c in data.columns if c not in kept] if kept else None
    # Repeated texts (names, hosts, logon ids) arrive as dictionaries, so that the
    # builder looks each distinct value up once.
    batch = to_batch(data, sent, dictionary=True)
    others = (lambda rows: to_batch(data.iloc[rows], kept)) if kept else None
    tree = _huntbook.build_process_tree(batch, schema, others)
    table = pa.record_batch(tree.table())
    columns = dict(zip(table.schema.names, frame_columns(table)))
    added = tree.added_columns()
    # Input columns named like an added one are replaced by it, as in the Rust table.
    inputs = [c for c in names if c not in added and c != "proc_key"]
    if kept:
        source = pa.record_batch(tree.source()).column(0).to_numpy()
        for label in kept:
            if str(label) in inputs:
                # NaN on inferred parents' rows, as MSTICPy's merge leaves them.
                values = data[label].to_numpy()
                columns[str(label)] = pd.api.extensions.take(values, source, allow_fill=True)
    frame = pd.DataFrame({c: columns[c] for c in inputs + added}, copy=False)
    # The key column becomes the index in place: set_index would copy every column.
    frame.index = pd.Index(columns["proc_key"], name="proc_key")
    ProcessTreeAccessor(frame)._attach(tree)
    if show_summary:
        print(pd.Series(tree.summary()).to_string())
    return frame


def _kept_back(
    data: Union[pd.DataFrame, pa.Table, pa.RecordBatch], names: List[str], schema: Any
) -> List[str]:
    """The DataFrame's columns (labels) of Python objects that the builder does not read.

    Converting Python text to Arrow is the costliest part of a call, so these columns
    stay as they are and are laid out by the tree's source rows (the builder sees them
    only for rows that may be exact duplicates). Like MSTICPy, which turns only numeric
    schema columns into text, they keep their values as they are."""
    if not isinstance(data, pd.DataFrame):
        return []
    reads = set(_huntbook.process_tree_reads(names, schema))
    return [c for c, name in zip(data.columns, names) if name not in reads and data[c].dtype == object]


class ProcessTreeAccessor:
    """Navigation over a frame made by :func:`build_process_tree` (``df.hb_tree``).

    A process (``source``) is given as its ``proc_key``, a ``name|pid`` query such as
    ``"cmd.exe|0x1a4c"`` (the first match), its row (a Series from the frame) or its
    position. Methods return rows of the frame in tree order.

    Example::

        >>> kids = tree.hb_tree.children("explorer.exe|0x10", include_source=False)
        >>> tree.hb_tree.ancestors(kids.iloc[0])["NewProcessName"].tolist()
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._tree: Optional[object] = None

    def _attach(self, tree: object) -> None:
        # pandas keeps one accessor object per frame, so the index lives with it.
        object.__setattr__(self._frame, "hb_tree", self)
        object.__setattr__(self._frame, "plot", _TreePlot(self._frame))
        self._tree = tree

    @property
    def _index(self):
        if self._tree is None:
            raise AttributeError(
                "this DataFrame has no process tree index (a copy or a slice of a tree "
                "does not keep it): build one with huntbook.build_process_tree(events)"
            )
        return self._tree

    def _row(self, source: Source) -> int:
        if isinstance(source, bool):
            raise TypeError("a process is a proc_key, a row of the tree or a position")
        if isinstance(source, int):
            if not 0 <= source < len(self._frame):
                raise KeyError(f"position {source} is not in the tree ({len(self._frame)} rows)")
            return source
        if isinstance(source, pd.Series):
            matches = (self._frame.index == source.name).nonzero()[0]
            if "source_index" in source.index and len(matches) > 1:
                same = self._frame["source_index"].to_numpy()[matches] == source["source_index"]
                matches = matches[same]
            if len(matches) == 0:
                raise KeyError(f"no process with key {source.name!r} in the tree")
            return int(matches[0])
        if isinstance(source, str):
            return self._index.find(source)[0]
        raise TypeError(
            f"a process is a proc_key, a row of the tree or a position, not {type(source).__name__}"
        )

    def _rows(self, rows: List[int]) -> pd.DataFrame:
        return self._frame.iloc[rows]

    def roots(self) -> pd.DataFrame:
        """The root processes (no parent)."""
        return self._rows(self._index.roots())

    def parent(self, source: Source) -> Optional[pd.Series]:
        """The parent process, or ``None`` for a root."""
        row = self._index.parent(self._row(source))
        return None if row is None else self._frame.iloc[row]

    def children(self, source: Source, include_source: bool = True) -> pd.DataFrame:
        """The direct children (with the process itself first by default, as MSTICPy)."""
        return self._rows(self._index.children(self._row(source), include_source))

    def descendants(
        self, source: Source, include_source: bool = True, max_levels: int = -1
    ) -> pd.DataFrame:
        """Every process below, at most ``max_levels`` levels down (-1: all)."""
        levels = None if max_levels < 0 else max_levels
        return self._rows(self._index.descendants(self._row(source), include_source, levels))

    def ancestors(self, source: Source, include_source: bool = True) -> pd.DataFrame:
        """The chain from the root down to the process."""
        return self._rows(self._index.ancestors(self._row(source), include_source))

    def siblings(self, source: Source, include_source: bool = True) -> pd.DataFrame:
        """The processes with the same parent."""
        return self._rows(self._index.siblings(self._row(source), include_source))

    def root_of(self, source: Source) -> pd.Series:
        """The root of the tree holding the process."""
        return self._frame.iloc[self._index.root_of(self._row(source))]

    def root_tree(self, source: Source) -> pd.DataFrame:
        """The whole tree holding the process."""
        return self._rows(self._index.root_tree(self._row(source)))

    def summary(self) -> Dict[str, int]:
        """MSTICPy's summary: ``Processes, RootProcesses, LeafProcesses,
        BranchProcesses, IsolatedProcesses, LargestTreeDepth``."""
        return dict(self._index.summary())

    def to_text(
        self, source: Optional[Source] = None, *, wrap: int = 80, details: bool = True
    ) -> str:
        """The tree as indented text: the whole frame, or the tree holding ``source``.

        Example::

            >>> print(tree.hb_tree.to_text("cmd.exe|0x1a4c"))
            + Process: c:\\windows\\explorer.exe  PID: 0x10
               +-- Process: C:\\Windows\\System32\\cmd.exe  PID: 0x1a4c
        """
        rows = None if source is None else self._index.root_tree(self._row(source))
        missing = self._index.text_columns_missing()
        more = to_batch(self._frame, missing) if missing else None
        return self._index.to_text(rows, wrap=wrap, details=details, more=more)

    def plot(self, **kwargs: Any) -> "Chart":
        """The tree as an interactive chart: :func:`huntbook.plot.process_tree`.

        Example::

            >>> tree.hb_tree.plot(legend_col="SubjectUserName").save("tree.html")
        """
        from huntbook.plot import process_tree

        return process_tree(self._frame, **kwargs)


class _TreePlot(PlotAccessor):
    """``tree.plot`` on a frame from :func:`build_process_tree`: called with no plot kind
    and only process-tree keywords (``legend_col``, ``title``, ...) it draws the process
    tree; ``tree.plot.bar()``, ``tree.plot(kind="hist")`` and every other use are
    pandas' own plots.

    Example::

        >>> tree.plot(legend_col="SubjectUserName")        # the process tree
        >>> tree["IsLeaf"].value_counts().plot.bar()        # pandas, as always
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from huntbook.plot import PROCESS_TREE_KEYWORDS, process_tree

        if args or "kind" in kwargs or not set(kwargs) <= PROCESS_TREE_KEYWORDS:
            return super().__call__(*args, **kwargs)
        return process_tree(self._parent, **kwargs)
