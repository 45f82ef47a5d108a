use chrono::{DateTime, Utc};

/// The forms a time expression may take, quoted in every parse error so the reader
/// knows what to type instead.
pub(crate) const TIME_FORMS: &str = "`now`, an ISO 8601 date or date-time \
(2024-05-01, 2024-05-01T13:30:00Z, 2024-05-01 13:30:00+02:00), an offset such as -3d, +2h, \
-30m, -45s, -1w, -2mon or -1y, optionally rounded with @y, @mon, @d, @h, @m or @s \
(-3d@d), or a number of days (-3, -0.5)";

/// The forms a period (`split_by`) may take.
pub(crate) const PERIOD_FORMS: &str = "a positive duration such as 1D, 12H, 30min, 1h30m, \
90s, 1W, `1 day, 2:00:00` or `01:30:00`";

/// Why a time expression, time span or period could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("empty time expression; expected {TIME_FORMS}")]
    Empty,
    #[error("could not read `{text}` as a time; expected {TIME_FORMS}")]
    Unrecognised { text: String },
    #[error(
        "`{text}`: unknown offset unit `{unit}`; use y, mon, w, d, h, m or s (or none for days)"
    )]
    UnknownUnit { text: String, unit: String },
    #[error("`{text}`: unknown rounding unit `@{unit}`; use @y, @mon, @d, @h, @m or @s")]
    UnknownRounding { text: String, unit: String },
    #[error(
        "`{text}`: months and years have no fixed length, so their count must be a whole number"
    )]
    FractionalCalendarUnit { text: String },
    #[error("`{text}` is not a valid date-time: {reason}")]
    InvalidDate { text: String, reason: String },
    #[error("`{text}` is outside the range of dates that can be represented")]
    OutOfRange { text: String },
    #[error("the time span starts ({start}) after it ends ({end}); swap start and end")]
    StartAfterEnd {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    #[error("could not read `{text}` as a period: {reason}; expected {PERIOD_FORMS}")]
    BadPeriod { text: String, reason: String },
}
