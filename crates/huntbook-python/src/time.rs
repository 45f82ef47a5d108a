//! MSTICPy's time grammar (`huntbook_core::time`) for the Python widgets: a start and
//! an end such as `"-7d@d"` and `"now"`, resolved at one instant.
use chrono::{DateTime, Utc};
use huntbook_core::time::TimeSpan;
use pyo3::prelude::*;

use crate::transforms::value_error;

/// `(start, end)` in nanoseconds since the epoch, both resolved at `now_ns` (the
/// current time when `None`); an error names the expression that is wrong.
#[pyfunction]
#[pyo3(signature = (start, end, now_ns=None))]
fn time_span(start: &str, end: &str, now_ns: Option<i64>) -> PyResult<(i64, i64)> {
    let now = now_ns.map_or_else(Utc::now, DateTime::from_timestamp_nanos);
    let span = TimeSpan::parse(start, end, now).map_err(value_error)?;
    let nanos = |t: DateTime<Utc>| {
        t.timestamp_nanos_opt()
            .ok_or_else(|| value_error(format!("{t} is outside the range of nanosecond times")))
    };
    Ok((nanos(span.start())?, nanos(span.end())?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(time_span, m)?)?;
    Ok(())
}
