//! The `huntbook._huntbook` extension module: the Rust core behind the Python package.
//!
//! Each submodule registers its functions here; the `huntbook` package (under
//! `python/huntbook`) wraps them in a Pythonic API with type hints and docstrings.
use pyo3::prelude::*;

mod arrow;
mod azure;
mod clustering;
mod config;
mod detect;
mod entities;
mod execute;
mod geo;
mod notebooks;
mod params;
mod query;
mod sentinel;
mod sessions;
mod ti;
mod time;
mod timeseries;
mod transforms;
mod vis;

#[pymodule]
fn _huntbook(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    arrow::register(m)?;
    params::register(m)?;
    notebooks::register(m)?;
    execute::register(m)?;
    transforms::register(m)?;
    query::register(m)?;
    sentinel::register(m)?;
    geo::register(m)?;
    ti::register(m)?;
    detect::register(m)?;
    entities::register(m)?;
    clustering::register(m)?;
    timeseries::register(m)?;
    sessions::register(m)?;
    vis::register(m)?;
    time::register(m)?;
    config::register(m)?;
    Ok(())
}
