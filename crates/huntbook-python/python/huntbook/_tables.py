"""DataFrames to Arrow record batches and back, for the Rust transforms.

Batches cross into Rust through the Arrow PyCapsule interface, so the column buffers
are shared, not copied. Only the columns a transform reads are sent.

Conversions allocate from the system allocator, not pyarrow's default mimalloc pool:
mimalloc reserves memory in large segments and keeps it, so converting a few thousand
rows would leave several megabytes resident for the rest of the session.
"""

from __future__ import annotations

import decimal
import json
from typing import Iterable, List, Optional, Union

import numpy as np
import pandas as pd
import pyarrow as pa

from huntbook import _huntbook

__all__ = ["to_batch", "to_frame", "frame_columns", "text_batch", "read_pickle"]


Table = Union[pd.DataFrame, pa.Table, pa.RecordBatch]

_POOL = pa.system_memory_pool()
# pandas' `str` dtype (the default from pandas 3): text stays in its Arrow buffers.
_STR = pd.StringDtype("pyarrow", na_value=float("nan"))
_TEXT_DTYPES = {pa.string(): _STR, pa.large_string(): _STR, pa.string_view(): _STR}
# The field metadata key under which Rust notes a column's source type (huntbook-data).
_TYPE_KEY = b"huntbook.type"
_READ_CELL = {b"dynamic": json.loads, b"decimal": decimal.Decimal}


def to_batch(
    data: Table, columns: Optional[Iterable[str]] = None, *, dictionary: bool = False
) -> pa.RecordBatch:
    """``data`` (or just ``columns`` of it) as one record batch, index dropped.

    A pyarrow Table or RecordBatch (say, straight from ``pyarrow.parquet.read_table``)
    goes across as it is, without a detour through pandas. ``dictionary``: object text
    columns whose values repeat come as dictionary arrays, for transforms that look
    values up (see ``text_cells`` in the extension)."""
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        if columns is not None:
            data = data.select(list(columns))
        if isinstance(data, pa.Table):
            batches = data.combine_chunks(memory_pool=_POOL).to_batches()
            return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=data.schema)
        return data
    # Column by column: data[columns] would copy every column it selects first.
    names = list(data.columns if columns is None else columns)
    arrays = []
    for name in names:
        column = data[name]
        text = _object_text(column, dictionary)
        if text is not None:
            arrays.append(text)
            continue
        try:
            array = pa.array(column, from_pandas=True, memory_pool=_POOL)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise ValueError(
                f"column {name!r} cannot be converted to an Arrow column ({err}); "
                f"convert it to one type first, e.g. df[{name!r}] = df[{name!r}].astype(str)"
            ) from err
        # Arrow-backed columns (pandas' str dtype) come in chunks after a concat.
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks(memory_pool=_POOL)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=[str(c) for c in names])


def text_batch(data: pd.DataFrame, columns: Iterable[str]) -> pa.RecordBatch:
    """``columns`` of ``data`` as text (nulls kept), for transforms that scan text."""
    columns = list(columns)
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise KeyError(
            f"column {missing[0]!r} is not in the DataFrame; the columns are: "
            + ", ".join(map(str, data.columns))
        )
    arrays = [_text_array(data[c]) for c in columns]
    return pa.RecordBatch.from_arrays(arrays, names=[str(c) for c in columns])


def to_frame(batch: object) -> pd.DataFrame:
    """A batch coming back from Rust as a DataFrame.

    Text columns come back as pandas' ``str`` dtype (missing values are NaN, cells read
    as Python ``str``): making every cell a Python object would cost more time and
    memory than the transform itself. A query's ``dynamic`` (JSON) and ``decimal``
    columns, which Rust marks in their field metadata, come back as Python objects
    (dicts, lists, numbers; ``Decimal``), as MSTICPy returns them."""
    batch = pa.record_batch(batch)
    # Columns by position, then named: a query may select a column twice.
    frame = pd.DataFrame(
        dict(enumerate(frame_columns(batch))), index=pd.RangeIndex(batch.num_rows), copy=False
    )
    frame.columns = batch.schema.names
    return frame


def frame_columns(batch: pa.RecordBatch) -> List[object]:
    """The batch's columns as pandas arrays, read as :func:`to_frame` reads them.

    Column by column rather than ``RecordBatch.to_pandas``: that call spends about half a
    millisecond on each column however short, which weighs on wide results such as a
    process tree's 30 columns."""
    columns: List[object] = []
    for field, column in zip(batch.schema, batch.columns):
        read = _READ_CELL.get((field.metadata or {}).get(_TYPE_KEY))
        if read is not None:
            # A Series, not np.array: a list of lists would become a 2-D array.
            cells = [None if c is None else read(c) for c in column.to_pylist()]
            columns.append(pd.Series(cells, dtype=object))
        elif field.type in _TEXT_DTYPES:
            if pa.types.is_string_view(field.type):
                column = column.cast(pa.large_string(), memory_pool=_POOL)
            columns.append(pd.array(column, dtype=_STR))
        else:
            columns.append(column.to_pandas(memory_pool=_POOL))
    return columns


def read_pickle(path: str) -> pa.RecordBatch:
    """A pickled DataFrame (LocalData's ``.pkl`` files) as a record batch. Loading a
    pickle runs code from the file, as in MSTICPy: keep only trusted pickles in the
    data folders."""
    frame = pd.read_pickle(path)
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"the pickle holds a {type(frame).__name__}, not a DataFrame")
    return to_batch(frame)


def _object_text(column: pd.Series, dictionary: bool = False) -> Optional[pa.Array]:
    """An object column of ``str`` (and missing values) read by the extension, which
    is several times faster than pyarrow at it; None for any other column."""
    if column.dtype != object:
        return None
    batch = _huntbook.text_cells(np.ascontiguousarray(column.to_numpy()), dictionary)
    return None if batch is None else pa.record_batch(batch).column(0)


def _text_array(column: pd.Series) -> pa.Array:
    # Object columns of text are read by the extension; anything else (numbers, mixed
    # cells) is turned into text first, as str() would show it.
    text = _object_text(column)
    if text is not None:
        return text
    try:
        array = pa.array(column, from_pandas=True, memory_pool=_POOL)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _as_text(column)
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array
    if pa.types.is_string_view(array.type):
        return array.cast(pa.large_string(), memory_pool=_POOL)
    return _as_text(column)


def _as_text(column: pd.Series) -> pa.Array:
    return pa.array(column.astype("string"), from_pandas=True, memory_pool=_POOL)
