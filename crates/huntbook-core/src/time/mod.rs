//! Time expressions, spans and periods, in MSTICPy's grammar.
//!
//! A query's `start=`/`end=` argument and the CLI's `--start`/`--end` are
//! [`TimeExpr`]s, parsed once and resolved against an explicit `now`:
//!
//! | text | meaning |
//! |---|---|
//! | `now` | the `now` given to [`TimeExpr::resolve`] |
//! | `2024-05-01`, `2024-05-01T13:30:00`, `2024-05-01 13:30:00.25+02:00` | that instant; no zone means UTC |
//! | `-3d`, `+2h`, `-30m`, `-45s`, `-1w`, `-2mon`, `-1y` | an offset from now (units are case-insensitive and may be spelled out: `-3days`) |
//! | `-3d@d`, `-2h@h`, `+1d@d` | an offset rounded to the unit after `@` (`y`, `mon`, `d`, `h`, `m`, `s`): down for offsets written with `-`, otherwise up |
//! | `-3`, `-0.5` | a number of days from now |
//!
//! Where this differs from MSTICPy, it is to report mistakes MSTICPy passes over:
//! MSTICPy reads `-1mon` and `-1month` as minutes and ignores text after a valid
//! prefix (`-3d2h` is three days there); here `mon` is months and the whole text must
//! match. Fractions of fixed units (`-1.5h`) are exact rather than truncated to whole
//! days.
//!
//! A [`TimeSpan`] is a checked `start <= end` pair; [`TimeSpan::split`] cuts it into
//! consecutive [`Period`]s for `split_by="1D"`.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use huntbook_core::time::{Period, TimeSpan};
//!
//! let now: DateTime<Utc> = "2024-03-31T14:25:36Z".parse().unwrap();
//! let span = TimeSpan::parse("-2d@d", "now", now).unwrap();
//! let days: Vec<String> = span
//!     .split(Period::parse("1D").unwrap())
//!     .map(|day| day.to_string())
//!     .collect();
//! assert_eq!(days, [
//!     "2024-03-29T00:00:00+00:00 .. 2024-03-30T00:00:00+00:00",
//!     "2024-03-30T00:00:00+00:00 .. 2024-03-31T00:00:00+00:00",
//!     "2024-03-31T00:00:00+00:00 .. 2024-03-31T14:25:36+00:00",
//! ]);
//! ```

mod amount;
mod datetime;
mod error;
mod expr;
mod period;
mod span;

pub use error::TimeError;
pub use expr::{parse_time, RoundUnit, Rounding, Shift, TimeExpr};
pub use period::Period;
pub use span::{Split, TimeSpan};
