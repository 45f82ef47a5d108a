"""Reading executed notebooks: their scraps, parameters and papermill metadata.

:func:`read_notebook` returns a :class:`Notebook`; :func:`read_notebooks` returns a
:class:`Scrapbook`, a mapping of notebooks keyed by file stem. They mirror scrapbook's
``read_notebook`` / ``read_notebooks`` (same attribute names), with the file read,
upgraded and searched in Rust. Differences from scrapbook:

- a scrap glued with ``display=True`` keeps its data as well as its display;
- ``papermill_dataframe`` works with pandas 2 and later;
- ``scraps_report()`` returns Markdown text instead of displaying it;
- malformed scraps are skipped with a :class:`~huntbook.scraps.ScrapWarning` instead
  of failing the whole read.

Example::

    import huntbook
    nb = huntbook.read_notebook("runs/triage-host1.ipynb")
    nb.parameters            # {'host': 'host1', ...}
    nb.scraps.data_dict      # {'hits': 12, 'alerts': <DataFrame>}

    book = huntbook.read_notebooks("runs/")
    book.scraps_report()
"""

from __future__ import annotations

import collections.abc
import fnmatch
import os
import warnings
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from huntbook import _huntbook
from huntbook.scraps import Scrap, Scraps, ScrapWarning, decode

__all__ = ["Notebook", "Scrapbook", "read_notebook", "read_notebooks", "NotebookError"]

NotebookError = _huntbook.NotebookError

PathLike = Union[str, "os.PathLike[str]"]


class Notebook:
    """An executed notebook, read from ``path``.

    Raises ``FileNotFoundError`` when the file does not exist and
    :class:`huntbook.NotebookError` (a ``ValueError``) when it is not a readable
    nbformat 4 notebook. Malformed scraps are skipped with a ``ScrapWarning``.

    >>> nb = Notebook("out.ipynb")          # doctest: +SKIP
    >>> nb.scraps["hits"].data              # doctest: +SKIP
    12
    """

    def __init__(self, path: PathLike):
        self.path: str = os.fspath(path)
        raw = _huntbook._read_notebook(self.path)
        for message in raw["warnings"]:
            warnings.warn(message, ScrapWarning, stacklevel=3)
        self.metadata: Dict[str, Any] = raw["metadata"]
        self._raw_scraps = raw["scraps"]
        self._execution_counts: List[Optional[int]] = raw["execution_counts"]
        self._cell_timing: List[Optional[float]] = raw["cell_timing"]
        self._scraps: Optional[Scraps] = None

    def __repr__(self) -> str:
        return f"<huntbook.Notebook {self.path!r}: {len(self._raw_scraps)} scraps>"

    @property
    def filename(self) -> str:
        """The file name, e.g. ``out.ipynb``."""
        return os.path.basename(self.path)

    @property
    def directory(self) -> str:
        """The folder the notebook is in."""
        return os.path.dirname(self.path)

    @property
    def scraps(self) -> Scraps:
        """The notebook's scraps, name to :class:`~huntbook.scraps.Scrap`, in order.

        ``pandas`` scraps become DataFrames the first time this is read.
        """
        if self._scraps is None:
            self._scraps = Scraps((name, decode(name, data, encoder, display)) for name, data, encoder, display in self._raw_scraps)
        return self._scraps

    @property
    def papermill_metadata(self) -> Dict[str, Any]:
        """``metadata.papermill``: parameters, start and end time, duration, exception..."""
        value = self.metadata.get("papermill")
        return value if isinstance(value, dict) else {}

    @property
    def parameters(self) -> Dict[str, Any]:
        """The parameters papermill or huntbook injected (``metadata.papermill.parameters``)."""
        value = self.papermill_metadata.get("parameters")
        return value if isinstance(value, dict) else {}

    @property
    def execution_counts(self) -> List[Optional[int]]:
        """Each cell's execution count (``None`` for cells that did not run or are not code)."""
        return list(self._execution_counts)

    @property
    def cell_timing(self) -> List[Optional[float]]:
        """Each cell's papermill duration in seconds; ``None`` for cells that did not run."""
        return list(self._cell_timing)

    @property
    def metrics(self):
        """A DataFrame of cell timings: columns ``filename, cell, value, type``."""
        import pandas as pd

        rows = [
            [self.filename, f"Out [{count}]", timing, "time (s)"]
            for count, timing in zip(self._execution_counts, self._cell_timing)
            if count
        ]
        return pd.DataFrame(rows, columns=["filename", "cell", "value", "type"])

    @property
    def parameter_dataframe(self):
        """A DataFrame of parameters: columns ``name, value, type, filename``."""
        import pandas as pd

        params = self.parameters
        return pd.DataFrame(
            [[name, params[name], "parameter", self.filename] for name in sorted(params)],
            columns=["name", "value", "type", "filename"],
        )

    @property
    def scrap_dataframe(self):
        """:attr:`Scraps.dataframe` with a ``filename`` column."""
        frame = self.scraps.dataframe
        frame["filename"] = self.filename
        return frame

    @property
    def papermill_record_dataframe(self):
        """A DataFrame of data scraps: columns ``name, value, type, filename``."""
        import pandas as pd

        scraps = self.scraps
        return pd.DataFrame(
            [[name, scraps[name].data, "record", self.filename] for name in sorted(scraps) if scraps[name].data is not None],
            columns=["name", "value", "type", "filename"],
        )

    @property
    def papermill_dataframe(self):
        """Parameters then data scraps, as papermill's old ``dataframe`` listed them."""
        return _concat([self.parameter_dataframe, self.papermill_record_dataframe], ["name", "value", "type", "filename"])


class Scrapbook(collections.abc.MutableMapping):
    """Notebooks keyed by name, usually made by :func:`read_notebooks`.

    Setting a key to a path reads that notebook.

    >>> book = read_notebooks("runs/")      # doctest: +SKIP
    >>> book["triage-host1"].scraps         # doctest: +SKIP
    >>> book.scraps.data_dict               # doctest: +SKIP
    """

    def __init__(self, notebooks: Optional[Iterable[tuple]] = None):
        self._notebooks: "OrderedDict[str, Notebook]" = OrderedDict()
        for key, value in notebooks or ():
            self[key] = value

    def __setitem__(self, key: str, value: Union[Notebook, PathLike]) -> None:
        if not isinstance(value, Notebook):
            value = Notebook(value)
        self._notebooks[key] = value

    def __getitem__(self, key: str) -> Notebook:
        return self._notebooks[key]

    def __delitem__(self, key: str) -> None:
        del self._notebooks[key]

    def __iter__(self):
        return iter(self._notebooks)

    def __len__(self) -> int:
        return len(self._notebooks)

    def __repr__(self) -> str:
        return f"<huntbook.Scrapbook {list(self._notebooks)}>"

    @property
    def notebooks(self) -> List[Notebook]:
        """The notebooks, in key order."""
        return list(self._notebooks.values())

    @property
    def notebook_scraps(self) -> "OrderedDict[str, Scraps]":
        """Each notebook's scraps, by key."""
        return OrderedDict((key, nb.scraps) for key, nb in self._notebooks.items())

    @property
    def scraps(self) -> Scraps:
        """All scraps merged; for a name in several notebooks, the last notebook wins."""
        merged = Scraps()
        for nb in self._notebooks.values():
            merged.update(nb.scraps)
        return merged

    @property
    def metrics(self):
        """Every notebook's :attr:`Notebook.metrics`, with a ``key`` column."""
        return _concat([nb.metrics.assign(key=key) for key, nb in self._notebooks.items()], ["filename", "cell", "value", "type", "key"])

    @property
    def papermill_dataframe(self):
        """Every notebook's :attr:`Notebook.papermill_dataframe`, with a ``key`` column."""
        return _concat(
            [nb.papermill_dataframe.assign(key=key) for key, nb in self._notebooks.items()],
            ["name", "value", "type", "filename", "key"],
        )

    def scraps_report(
        self,
        scrap_names: Union[str, Iterable[str], None] = None,
        notebook_names: Union[str, Iterable[str], None] = None,
        include_data: bool = False,
        headers: bool = True,
    ) -> str:
        """A Markdown report of the scraps, notebook by notebook.

        By default it lists every scrap that has a display (its ``text/plain``
        rendering); ``include_data`` adds data-only scraps, ``scrap_names`` and
        ``notebook_names`` restrict it. Show it in Jupyter with
        ``IPython.display.Markdown(book.scraps_report())``.

        >>> print(book.scraps_report(include_data=True))   # doctest: +SKIP
        ### triage-host1
        #### hits
        12
        """
        if isinstance(scrap_names, str):
            scrap_names = [scrap_names]
        wanted = list(scrap_names or [])
        if notebook_names is None:
            notebook_names = list(self._notebooks)
        elif isinstance(notebook_names, str):
            notebook_names = [notebook_names]

        blocks: List[str] = []
        for i, key in enumerate(notebook_names):
            scraps = self[key].scraps
            if headers:
                if i > 0:
                    blocks.append("---")
                blocks.append(f"### {key}")
            for name in wanted or list(scraps.display_scraps):
                scrap = scraps.get(name)
                if headers:
                    blocks.append(f"#### {name}")
                if scrap is None:
                    blocks.append(f"No scrap found with name {name!r} in this notebook")
                elif scrap.display is not None:
                    blocks.append(_display_text(scrap))
                else:
                    blocks.append(_trim_repr(scrap.data))
            if include_data and not wanted:
                for name, scrap in scraps.data_scraps.items():
                    if scrap.display is not None:
                        continue
                    if headers:
                        blocks.append(f"#### {name}")
                        blocks.append(_trim_repr(scrap.data))
                    else:
                        blocks.append(f"{name}: {_trim_repr(scrap.data)}")
        return "\n\n".join(blocks) + ("\n" if blocks else "")


def read_notebook(path: PathLike) -> Notebook:
    """Reads an executed notebook.

    >>> nb = huntbook.read_notebook("out.ipynb")   # doctest: +SKIP
    >>> nb.scraps.data_dict                         # doctest: +SKIP
    {'hits': 12}
    """
    return Notebook(path)


def read_notebooks(
    folder: PathLike,
    path_filter: Union[str, Callable[[str], bool], None] = None,
) -> Scrapbook:
    """Reads every ``.ipynb`` file directly in ``folder``, keyed by file stem, sorted.

    ``path_filter`` keeps only some files: a glob pattern matched against the file name
    (``"triage-*.ipynb"``) or a function given the file's path that returns True to
    keep it.

    >>> book = huntbook.read_notebooks("runs/", path_filter="triage-*")   # doctest: +SKIP
    >>> list(book)                                                         # doctest: +SKIP
    ['triage-host1', 'triage-host2']
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise NotADirectoryError(f"huntbook.read_notebooks: {folder!r} is not a folder of notebooks")
    paths = sorted(
        os.path.join(folder, entry)
        for entry in os.listdir(folder)
        if entry.endswith(".ipynb") and os.path.isfile(os.path.join(folder, entry))
    )
    if isinstance(path_filter, str):
        pattern = path_filter
        paths = [p for p in paths if fnmatch.fnmatch(os.path.basename(p), pattern)]
    elif path_filter is not None:
        paths = [p for p in paths if path_filter(p)]
    book = Scrapbook()
    for path in paths:
        book[os.path.splitext(os.path.basename(path))[0]] = Notebook(path)
    return book


def _concat(frames: list, columns: List[str]):
    """``pd.concat`` that tolerates no frames or only empty ones (pandas 2 warns on those)."""
    import pandas as pd

    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def _trim_repr(data: Any) -> str:
    text = data if isinstance(data, str) else repr(data)
    return text if len(text) <= 102 else text[:100] + "..."


def _display_text(scrap: Scrap) -> str:
    bundle = (scrap.display or {}).get("data") or {}
    plain = bundle.get("text/plain")
    if isinstance(plain, list):
        plain = "".join(plain)
    if isinstance(plain, str):
        return plain
    return f"(display: {', '.join(sorted(bundle)) or 'empty'})"
