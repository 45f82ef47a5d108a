//! The `huntbook._huntbook` extension module: the Rust core behind the Python package.
use pyo3::prelude::*;

mod params;

#[pymodule]
fn _huntbook(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    params::register(m)?;
    Ok(())
}
