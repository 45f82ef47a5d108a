//! Tables cross between Python and Rust as Arrow record batches, through the Arrow
//! PyCapsule interface (`__arrow_c_array__`): no copy of the column buffers, and no
//! binding to one pyarrow version. The Python side turns a pandas DataFrame into a
//! `pyarrow.RecordBatch` and back; this module only moves the batch across.
use arrow_array::ffi::{from_ffi, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{Array, RecordBatch, StructArray};
use pyo3::exceptions::{PyTypeError, PyValueError};
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
