"""DataFrames to Arrow record batches and back, for the Rust transforms.

Batches cross into Rust through the Arrow PyCapsule interface, so the column buffers
are shared, not copied. Only the columns a transform reads are sent.
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

import pandas as pd
import pyarrow as pa

__all__ = ["to_batch", "to_frame", "text_batch"]


Table = Union[pd.DataFrame, pa.Table, pa.RecordBatch]


def to_batch(data: Table, columns: Optional[Iterable[str]] = None) -> pa.RecordBatch:
    """``data`` (or just ``columns`` of it) as one record batch, index dropped.

    A pyarrow Table or RecordBatch (say, straight from ``pyarrow.parquet.read_table``)
    goes across as it is, without a detour through pandas."""
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        if columns is not None:
            data = data.select(list(columns))
        if isinstance(data, pa.Table):
            batches = data.combine_chunks().to_batches()
            return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=data.schema)
        return data
    frame = data if columns is None else data[list(columns)]
    try:
        return pa.RecordBatch.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        bad = _mixed_column(frame)
        where = f"column {bad!r}" if bad else "the DataFrame"
        raise ValueError(
            f"{where} cannot be converted to an Arrow column ({err}); "
            "convert it to one type first, e.g. df[col] = df[col].astype(str)"
        ) from err


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
    """A batch coming back from Rust as a DataFrame."""
    return pa.record_batch(batch).to_pandas()


def _text_array(column: pd.Series) -> pa.Array:
    # pyarrow converts an all-text object column in C; anything else (numbers, mixed
    # cells) is turned into text first, as str() would show it.
    try:
        array = pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(column.astype("string"), from_pandas=True)
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array
    if pa.types.is_string_view(array.type):
        return array.cast(pa.large_string())
    return pa.array(column.astype("string"), from_pandas=True)


def _mixed_column(frame: pd.DataFrame) -> Optional[str]:
    for name in frame.columns:
        try:
            pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return str(name)
    return None
