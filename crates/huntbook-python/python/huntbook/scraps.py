"""Scraps: named values a notebook records in its outputs, in scrapbook's format.

``glue(name, value)`` in a notebook cell records ``value`` as a ``display_data``
output with the MIME type ``application/scrapbook.scrap.<encoder>+json``, exactly as
scrapbook writes it, so scrapbook, papermill-era tools and huntbook all read it back.
Reading happens in Rust (see :func:`huntbook.read_notebook`); this module holds the
Python side: choosing an encoder, encoding DataFrames to Parquet and back, and the
:class:`Scrap` / :class:`Scraps` containers.

Example (in a notebook cell)::

    import huntbook
    huntbook.glue("hits", 12)
    huntbook.glue("alerts", alerts_df)              # stored as base64 Parquet
    huntbook.glue("summary", "3 hosts", display=True)  # data *and* a visible display
"""

from __future__ import annotations

import base64
import io
import json
import sys
import warnings
from collections import OrderedDict
from typing import Any, Dict, List, NamedTuple, Optional, Union

__all__ = ["Scrap", "Scraps", "ScrapWarning", "glue", "ENCODERS"]

#: The encoders huntbook writes and decodes, in the order ``glue`` tries them.
ENCODERS = ("text", "json", "display", "pandas")

_SCRAP_MIME = "application/scrapbook.scrap.{encoder}+json"
_SCRAP_VERSION = 1


class ScrapWarning(UserWarning):
    """A scrap that could not be read or recorded as asked (the rest still are)."""


class Scrap(NamedTuple):
    """One recorded value.

    ``data`` is the decoded value (``None`` for a display-only scrap), ``encoder`` how
    it was stored (``text``, ``json``, ``pandas``, ``display``), and ``display`` the
    display output recorded under the same name (a dict ``{output_type, data,
    metadata}`` whose ``data`` is the MIME bundle), or ``None``.

    >>> Scrap("hits", 12, "json")
    Scrap(name='hits', data=12, encoder='json', display=None)
    """

    name: str
    data: Any
    encoder: str
    display: Optional[Dict[str, Any]] = None


class Scraps(OrderedDict):
    """The scraps of a notebook (or several), name to :class:`Scrap`, in order.

    >>> s = Scraps([("hits", Scrap("hits", 12, "json")), ("chart", Scrap("chart", None, "display", {"data": {}}))])
    >>> s.data_dict
    {'hits': 12}
    >>> list(s.display_dict)
    ['chart']
    """

    @property
    def data_scraps(self) -> "OrderedDict[str, Scrap]":
        """The scraps that hold data."""
        return OrderedDict((k, v) for k, v in self.items() if v.data is not None)

    @property
    def data_dict(self) -> Dict[str, Any]:
        """``{name: data}`` for every scrap that holds data."""
        return {name: scrap.data for name, scrap in self.data_scraps.items()}

    @property
    def display_scraps(self) -> "OrderedDict[str, Scrap]":
        """The scraps that have a display."""
        return OrderedDict((k, v) for k, v in self.items() if v.display is not None)

    @property
    def display_dict(self) -> Dict[str, Dict[str, Any]]:
        """``{name: display output}`` for every scrap that has a display."""
        return {name: scrap.display for name, scrap in self.display_scraps.items()}

    @property
    def dataframe(self):
        """A pandas DataFrame with the columns ``name, data, encoder, display``."""
        import pandas as pd

        return pd.DataFrame(
            [[s.name, s.data, s.encoder, s.display] for s in self.values()],
            columns=["name", "data", "encoder", "display"],
        )


def decode(name: str, data: Any, encoder: str, display: Optional[dict]) -> Scrap:
    """Turns a scrap as stored (JSON, already parsed by Rust) into its Python value.

    A ``pandas`` scrap whose Parquet cannot be read keeps its base64 text, with a
    :class:`ScrapWarning`, so that one damaged scrap does not hide the others.
    """
    if data is not None:
        if encoder == "text" and not isinstance(data, str):
            data = str(data)
        elif encoder == "pandas":
            try:
                data = _parquet_to_frame(data)
            except Exception as e:  # pyarrow raises several unrelated types
                warnings.warn(
                    f"scrap {name!r}: its pandas data is not readable base64 Parquet ({e}); "
                    "it is kept as the stored text",
                    ScrapWarning,
                    stacklevel=3,
                )
    return Scrap(name, data, encoder, display)


def _parquet_to_frame(text: str):
    import pandas as pd

    if not isinstance(text, str):
        raise TypeError(f"expected base64 text, found {type(text).__name__}")
    return pd.read_parquet(io.BytesIO(base64.b64decode(text)), engine="pyarrow")


def _frame_to_parquet(frame) -> str:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _is_dataframe(value: Any) -> bool:
    # A value can only be a DataFrame if pandas was imported; this keeps glue of
    # plain values from paying for the pandas import.
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _is_display_object(value: Any) -> bool:
    display = sys.modules.get("IPython.display")
    return display is not None and isinstance(value, display.DisplayObject)


def _choose_encoder(name: str, value: Any, display: Any) -> str:
    """scrapbook's order: text, json, display, pandas."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple, dict, int, float, bool)):
        return "json"
    if _is_display_object(value):
        return "display"
    if _is_dataframe(value):
        return "pandas"
    if display:
        # Not storable as data, but its rendering can still be recorded.
        return "display"
    raise TypeError(
        f"huntbook.glue cannot store scrap {name!r} of type {type(value).__module__}.{type(value).__qualname__}: "
        "supported values are str, list, tuple, dict, int, float, bool, pandas.DataFrame and IPython "
        "display objects. Convert it first, or pass display=True to record only how it displays."
    )


def _encode(name: str, value: Any, encoder: str) -> Any:
    """The JSON data stored for ``value`` with ``encoder`` (never for ``display``)."""
    if encoder == "text":
        return value if isinstance(value, str) else str(value)
    if encoder == "json":
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as e:
                raise ValueError(f"huntbook.glue: scrap {name!r} has encoder='json' but its string is not JSON: {e}") from None
        try:
            # Round-trip so tuples become lists and non-JSON content fails here, not in the kernel.
            return json.loads(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError) as e:
            raise TypeError(f"huntbook.glue: scrap {name!r} cannot be stored as JSON: {e}") from None
    if encoder == "pandas":
        if not _is_dataframe(value):
            raise TypeError(f"huntbook.glue: scrap {name!r} has encoder='pandas' but is a {type(value).__name__}, not a pandas.DataFrame")
        return _frame_to_parquet(value)
    raise ValueError(f"huntbook.glue: unknown encoder {encoder!r} for scrap {name!r}; use one of {', '.join(ENCODERS)}")


def _kernel_shell():
    """The IPython shell when running in a Jupyter kernel (whose outputs are recorded)."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return shell


_warned_outside_kernel = False


def glue(
    name: str,
    value: Any,
    encoder: Optional[str] = None,
    display: Union[bool, List[str], tuple, Dict[str, Any]] = False,
) -> None:
    """Records ``value`` under ``name`` in the running notebook's outputs.

    The output is the one ``scrapbook.glue`` writes, so ``scrapbook.read_notebook``,
    ``huntbook.read_notebook`` and ``huntbook scraps`` all read it.

    Parameters
    ----------
    name:
        The scrap's name. A later glue of the same name replaces the earlier one.
    value:
        What to record. Must not be ``None``.
    encoder:
        How to store it; by default chosen as scrapbook does: ``text`` for ``str``,
        ``json`` for list/tuple/dict/int/float/bool, ``display`` for IPython display
        objects (their rendering only), ``pandas`` for DataFrames (base64 Parquet).
        ``encoder="json"`` with a ``str`` parses the string as JSON.
    display:
        Also record the value's rendering (its MIME bundle), shown in the notebook.
        A list or tuple of MIME types keeps only those; a dict is passed to IPython's
        formatter (``include`` / ``exclude``). huntbook keeps both the data and the
        display of such a scrap when reading (scrapbook keeps only the display).

    Outside a Jupyter kernel nothing is recorded; huntbook warns once (scrapbook stays
    silent).

    Examples
    --------
    >>> import huntbook
    >>> huntbook.glue("hits", 12)                       # doctest: +SKIP
    >>> huntbook.glue("alerts", df)                     # doctest: +SKIP
    >>> huntbook.glue("summary", "ok", display=True)    # doctest: +SKIP
    >>> huntbook.glue("table", df, display=["text/html"])  # doctest: +SKIP
    """
    global _warned_outside_kernel
    if not isinstance(name, str):
        raise TypeError(f"huntbook.glue: the scrap name must be a str, not {type(name).__name__}")
    if value is None:
        raise TypeError(
            f"huntbook.glue: scrap {name!r} is None, which scraps cannot hold (scrapbook's format "
            "forbids null); record a value such as an empty string or list instead"
        )
    if encoder is None:
        encoder = _choose_encoder(name, value, display)
    data = None if encoder == "display" else _encode(name, value, encoder)

    shell = _kernel_shell()
    if shell is None:
        if not _warned_outside_kernel:
            _warned_outside_kernel = True
            warnings.warn(
                f"huntbook.glue({name!r}): not running in a Jupyter kernel, so scraps are not "
                "recorded in any notebook (this warning is shown once)",
                ScrapWarning,
                stacklevel=2,
            )
        return

    from IPython.display import display as ip_display

    if data is not None:
        payload = {"name": name, "data": data, "encoder": encoder, "version": _SCRAP_VERSION}
        ip_display(
            {_SCRAP_MIME.format(encoder=encoder): payload},
            metadata={"scrapbook": {"name": name, "data": True, "display": False}},
            raw=True,
        )
    if display or encoder == "display":
        options: Dict[str, Any] = {}
        if isinstance(display, (list, tuple)):
            options = {"include": list(display)}
        elif isinstance(display, dict):
            options = dict(display)
        bundle, metadata = shell.display_formatter.format(value, **options)
        metadata = dict(metadata or {})
        metadata["scrapbook"] = {"name": name, "data": False, "display": True}
        ip_display(bundle, metadata=metadata, raw=True)
