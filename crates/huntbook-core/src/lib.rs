//! The shared vocabulary of huntbook: pure, no network, no async.
//!
//! * [`time`] reads MSTICPy's time grammar (`now`, ISO dates, `-3d@d`, day counts)
//!   into instants, checked [`time::TimeSpan`]s and the [`time::Period`]s a query is
//!   split by.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use huntbook_core::time::parse_time;
//!
//! let now: DateTime<Utc> = "2024-03-31T14:25:36Z".parse().unwrap();
//! assert_eq!(parse_time("-3d@d", now).unwrap().to_rfc3339(), "2024-03-28T00:00:00+00:00");
//! ```

pub mod time;
