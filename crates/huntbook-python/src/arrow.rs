//! Tables cross between Python and Rust as Arrow record batches, through the Arrow
//! PyCapsule interface (`__arrow_c_array__`): no copy of the column buffers, and no
//! binding to one pyarrow version. The Python side turns a pandas DataFrame into a
//! `pyarrow.RecordBatch` and back; this module moves the batch across, and reads the
//! one kind of column pyarrow converts slowly: pandas' object columns of `str`.
use std::sync::Arc;

use arrow_array::ffi::{from_ffi, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use std::collections::HashMap;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, GenericStringArray, Int32Array, OffsetSizeTrait, RecordBatch,
    StringArray, StructArray,
};
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

/// Reads any object that exports `__arrow_c_array__` (a `pyarrow.RecordBatch`, a
/// polars or arro3 batch) as a record batch.
pub fn batch_from_py(obj: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
    if !obj.hasattr("__arrow_c_array__")? {
        return Err(PyTypeError::new_err(format!(
            "expected an Arrow record batch (an object with __arrow_c_array__), got {}",
            obj.get_type().name()?
        )));
    }
    let pair = obj.call_method0("__arrow_c_array__")?;
    let pair = pair.cast::<PyTuple>()?;
    let schema_capsule = pair.get_item(0)?;
    let array_capsule = pair.get_item(1)?;
    let schema_capsule = schema_capsule.cast::<PyCapsule>()?;
    let array_capsule = array_capsule.cast::<PyCapsule>()?;
    let schema_ptr = schema_capsule
        .pointer_checked(Some(c"arrow_schema"))?
        .cast::<FFI_ArrowSchema>();
    let array_ptr = array_capsule
        .pointer_checked(Some(c"arrow_array"))?
        .cast::<FFI_ArrowArray>();
    // SAFETY: the capsule names promise these layouts (Arrow C data interface). The
    // array is moved out of its capsule (its release callback is left null there, so
    // the capsule's destructor does nothing); the schema is only borrowed.
    let data = unsafe {
        let array = FFI_ArrowArray::from_raw(array_ptr.as_ptr());
        from_ffi(array, schema_ptr.as_ref())
    }
    .map_err(|e| PyValueError::new_err(format!("reading the Arrow batch: {e}")))?;
    let columns = StructArray::from(data);
    if columns.null_count() > 0 {
        return Err(PyValueError::new_err(
            "the Arrow batch has null rows at the top level; pass a table-shaped batch",
        ));
    }
    Ok(RecordBatch::from(columns))
}

/// A record batch on its way to Python. `pyarrow.record_batch(batch)` takes it over
/// through `__arrow_c_array__`; the Python side then calls `to_pandas()`.
#[pyclass(name = "ArrowBatch", module = "huntbook._huntbook", frozen)]
pub struct PyBatch {
    batch: RecordBatch,
}

impl From<RecordBatch> for PyBatch {
    fn from(batch: RecordBatch) -> Self {
        PyBatch { batch }
    }
}

#[pymethods]
impl PyBatch {
    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        // The batch is always exported as it is; a consumer that wants other types
        // casts afterwards, as the protocol allows.
        let _ = requested_schema;
        let data = StructArray::from(self.batch.clone()).into_data();
        let (array, schema) = to_ffi(&data)
            .map_err(|e| PyValueError::new_err(format!("exporting the Arrow batch: {e}")))?;
        let schema = PyCapsule::new_with_value(py, schema, c"arrow_schema")?;
        let array = PyCapsule::new_with_value(py, array, c"arrow_array")?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }
}

/// The cells of a pandas object column as one Arrow text column, wrapped in a
/// one-column batch named `text`; or `None` when a cell is neither `str` nor missing
/// (`None`, NaN) or no cell is text, so that the caller lets pyarrow convert the column
/// with its rules for other types. `cells` is a one-dimensional, contiguous NumPy array
/// of objects (what `Series.to_numpy()` gives for an object column).
///
/// pyarrow spends about 100 ns on each object cell whatever its length, most of it
/// waiting for memory: the cells are objects scattered over the heap. This reads the
/// array's pointers in place and each `str` once, copying its UTF-8 (its own data for
/// ASCII strings) while it is in the cache.
///
/// `dictionary`: read the column as a dictionary of its distinct objects, when they
/// repeat (pandas keeps one object per distinct value of a column read from Arrow or
/// Parquet): each is copied once, and a consumer that looks values up does so once per
/// distinct value. Columns of mostly distinct objects are read plainly.
#[pyfunction]
#[pyo3(signature = (cells, dictionary=false))]
fn text_cells(cells: &Bound<'_, PyAny>, dictionary: bool) -> PyResult<Option<PyBatch>> {
    let pointers = object_pointers(cells)?;
    let encoded = if dictionary {
        read_dictionary(pointers)
    } else {
        Dictionary::Plain
    };
    // Text of up to 2 GiB takes 32-bit offsets, as pyarrow gives; more takes 64.
    let column: ArrayRef = match encoded {
        Dictionary::Encoded(array) => Arc::new(array),
        Dictionary::NotText => return Ok(None),
        Dictionary::Plain => match read_text::<i32>(pointers) {
            Read::Text(array) => Arc::new(array),
            Read::NotText => return Ok(None),
            Read::TooLong => match read_text::<i64>(pointers) {
                Read::Text(array) => Arc::new(array),
                _ => return Ok(None),
            },
        },
    };
    let batch = RecordBatch::try_from_iter([("text", column)])
        .map_err(|e| PyValueError::new_err(format!("building the text column: {e}")))?;
    Ok(Some(batch.into()))
}

/// The object pointers of a contiguous one-dimensional NumPy object array, borrowed
/// for as long as the array is.
fn object_pointers<'a>(array: &'a Bound<'_, PyAny>) -> PyResult<&'a [*mut ffi::PyObject]> {
    let interface = array.getattr("__array_interface__")?;
    let typestr: String = interface.get_item("typestr")?.extract()?;
    let shape: Vec<usize> = interface.get_item("shape")?.extract()?;
    let strides = interface.get_item("strides")?;
    let (address, _read_only): (usize, bool) = interface.get_item("data")?.extract()?;
    let [len] = shape[..] else {
        return Err(PyValueError::new_err(format!(
            "expected a one-dimensional array, got shape {shape:?}"
        )));
    };
    if typestr != "|O" || !strides.is_none() {
        return Err(PyValueError::new_err(format!(
            "expected a contiguous array of objects, got typestr {typestr} and strides {strides}"
        )));
    }
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: the array interface promises `len` contiguous object pointers at
    // `address`, owned by the array, which the borrow of `array` keeps alive.
    Ok(unsafe { std::slice::from_raw_parts(address as *const *mut ffi::PyObject, len) })
}

enum Read<O: OffsetSizeTrait> {
    Text(GenericStringArray<O>),
    /// A cell is neither text nor missing, or no cell is text.
    NotText,
    /// The text does not fit offsets of this width.
    TooLong,
}

fn read_text<O: OffsetSizeTrait>(cells: &[*mut ffi::PyObject]) -> Read<O> {
    let mut offsets: Vec<O> = Vec::with_capacity(cells.len() + 1);
    offsets.push(O::zero());
    let mut values: Vec<u8> = Vec::new();
    let mut nulls = Nulls::default();
    let mut any_text = false;
    // Where the text of recently read objects was copied, by address. Columns that
    // pandas made from Arrow or a file hold the same `str` object in many cells; a
    // repeat is copied from its first copy without the C API calls, which cost more.
    let mut recent = [(std::ptr::null_mut::<ffi::PyObject>(), 0, 0); RECENT_SLOTS];
    for (i, &cell) in cells.iter().enumerate() {
        if let Some(&ahead) = cells.get(i + PREFETCH_DISTANCE) {
            prefetch(ahead);
        }
        let slot = &mut recent[(cell as usize >> 4) % RECENT_SLOTS];
        if slot.0 == cell {
            values.extend_from_within(slot.1..slot.2);
            let Some(end) = O::from_usize(values.len()) else {
                return Read::TooLong;
            };
            offsets.push(end);
            continue;
        }
        // SAFETY: the pointers are the live cells of the array (see `object_pointers`);
        // the GIL is held and nothing here runs Python code, so they stay alive and
        // unchanged while read (a `str` is immutable, so one address is one text).
        match unsafe { read_cell(cell) } {
            Cell::Text(text) => {
                let start = values.len();
                values.extend_from_slice(text);
                *slot = (cell, start, values.len());
                any_text = true;
            }
            Cell::Missing => nulls.add(i),
            Cell::Other => return Read::NotText,
        }
        let Some(end) = O::from_usize(values.len()) else {
            return Read::TooLong;
        };
        offsets.push(end);
    }
    if !any_text {
        return Read::NotText;
    }
    values.shrink_to_fit();
    // SAFETY: the offsets start at 0 and grow with each cell's UTF-8, which
    // `PyUnicode_AsUTF8AndSize` guarantees to be valid.
    Read::Text(unsafe {
        GenericStringArray::new_unchecked(
            OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
            Buffer::from_vec(values),
            nulls.finish(cells.len()),
        )
    })
}

/// The positions of the missing cells, made into a validity bitmap at the end: most
/// columns have none, and a builder call per cell costs more than the rest of a
/// repeated cell's work.
#[derive(Default)]
struct Nulls(Vec<usize>);

impl Nulls {
    fn add(&mut self, at: usize) {
        self.0.push(at);
    }

    fn finish(self, len: usize) -> Option<NullBuffer> {
        if self.0.is_empty() {
            return None;
        }
        let mut valid = BooleanBufferBuilder::new(len);
        valid.append_n(len, true);
        for at in self.0 {
            valid.set_bit(at, false);
        }
        Some(NullBuffer::new(valid.finish()))
    }
}

/// Objects remembered by [`read_text`]; 64 holds the values of most low-cardinality
/// columns (hosts, users, event names).
const RECENT_SLOTS: usize = 64;

enum Dictionary {
    Encoded(DictionaryArray<Int32Type>),
    NotText,
    /// Mostly distinct objects, or more text than 32-bit offsets hold: read it plainly.
    Plain,
}

/// The cells as a dictionary of their distinct `str` objects (see [`text_cells`]).
fn read_dictionary(cells: &[*mut ffi::PyObject]) -> Dictionary {
    /// After this many cells, a column with more distinct objects than half of them is
    /// read plainly: a dictionary would only add the look-ups.
    const PROBE: usize = 4096;
    let mut number: HashMap<usize, i32, foldhash::fast::FixedState> = HashMap::default();
    let mut keys: Vec<i32> = Vec::with_capacity(cells.len());
    let mut nulls = Nulls::default();
    let mut offsets: Vec<i32> = vec![0];
    let mut values: Vec<u8> = Vec::new();
    let mut recent = [(std::ptr::null_mut::<ffi::PyObject>(), 0i32); RECENT_SLOTS];
    for (i, &cell) in cells.iter().enumerate() {
        if i == PROBE && number.len() > PROBE / 2 {
            return Dictionary::Plain;
        }
        let slot = &mut recent[(cell as usize >> 4) % RECENT_SLOTS];
        if slot.0 == cell {
            keys.push(slot.1);
            continue;
        }
        if let Some(&key) = number.get(&(cell as usize)) {
            *slot = (cell, key);
            keys.push(key);
            continue;
        }
        // SAFETY: as in `read_text`.
        match unsafe { read_cell(cell) } {
            Cell::Text(text) => {
                values.extend_from_slice(text);
                let Ok(end) = i32::try_from(values.len()) else {
                    return Dictionary::Plain;
                };
                let key = number.len() as i32;
                offsets.push(end);
                number.insert(cell as usize, key);
                *slot = (cell, key);
                keys.push(key);
            }
            Cell::Missing => {
                nulls.add(keys.len());
                keys.push(0);
            }
            Cell::Other => return Dictionary::NotText,
        }
    }
    if number.is_empty() {
        return Dictionary::NotText;
    }
    // SAFETY: the offsets start at 0 and grow with each distinct string's UTF-8.
    let distinct = unsafe {
        StringArray::new_unchecked(
            OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
            Buffer::from_vec(values),
            None,
        )
    };
    let keys = Int32Array::new(ScalarBuffer::from(keys), nulls.finish(cells.len()));
    // SAFETY: every key is below the number of distinct strings it was given from.
    Dictionary::Encoded(unsafe { DictionaryArray::new_unchecked(keys, Arc::new(distinct)) })
}

/// How many cells ahead to ask the memory for: the cells are objects scattered over
/// the heap, and waiting for each in turn is most of the time a cell takes.
const PREFETCH_DISTANCE: usize = 16;

/// Starts loading an object's first two cache lines (its header, and a short string's
/// text). A hint only: it reads nothing and cannot fault.
#[inline(always)]
fn prefetch(object: *mut ffi::PyObject) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint that never dereferences the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(object.cast::<i8>());
        _mm_prefetch::<_MM_HINT_T0>(object.cast::<i8>().wrapping_add(64));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = object;
}

enum Cell<'a> {
    Text(&'a [u8]),
    /// pandas' missing values in an object column, as pyarrow reads them with
    /// `from_pandas=True`: `None` and float NaN.
    Missing,
    Other,
}

/// One cell, read through the C API directly: PyO3's safe wrappers take a reference to
/// each object and check its type through more calls, which costs as much again.
///
/// # Safety
/// `cell` must be a live object, with the GIL held, for as long as the result is used.
/// For ASCII strings the UTF-8 is the string's own data; for others, a copy the string
/// keeps.
unsafe fn read_cell<'a>(cell: *mut ffi::PyObject) -> Cell<'a> {
    if ffi::PyUnicode_Check(cell) != 0 {
        let mut size: ffi::Py_ssize_t = 0;
        let data = ffi::PyUnicode_AsUTF8AndSize(cell, &mut size);
        if data.is_null() {
            // A `str` with lone surrogates has no UTF-8; pyarrow reports it.
            ffi::PyErr_Clear();
            return Cell::Other;
        }
        Cell::Text(std::slice::from_raw_parts(data.cast::<u8>(), size as usize))
    } else if cell == ffi::Py_None()
        || (ffi::PyFloat_Check(cell) != 0 && ffi::PyFloat_AsDouble(cell).is_nan())
    {
        Cell::Missing
    } else {
        Cell::Other
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(text_cells, m)?)
}
