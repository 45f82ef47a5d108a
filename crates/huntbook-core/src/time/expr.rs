//! MSTICPy's time expressions: `now`, dates, offsets such as `-3d@d`, and numbers of
//! days.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Months, TimeDelta, Timelike, Utc};

use super::amount::{
    delta_from_nanos, write_length, Decimal, NANOS_PER_DAY, NANOS_PER_HOUR, NANOS_PER_MINUTE,
    NANOS_PER_SECOND, NANOS_PER_WEEK,
};
use super::datetime::parse_datetime;
use super::TimeError;

/// A parsed time expression, resolved against a `now` later (so a query's default
/// `start: -7d` means seven days before each run, and tests can fix `now`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeExpr {
    /// `now`.
    Now,
    /// A date or date-time, converted to UTC.
    At(DateTime<Utc>),
    /// An offset from now, optionally rounded (`-3d@d`).
    Offset {
        shift: Shift,
        rounding: Option<Rounding>,
    },
}

/// How far an offset moves from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    /// Weeks, days, hours, minutes and seconds: a fixed length.
    Fixed(TimeDelta),
    /// Months and years (12 months): calendar arithmetic, so `-1mon` from 31 March is
    /// the last day of February.
    Months(i32),
}

/// `@unit` rounding of an offset: the result is truncated to the unit, and for an
/// offset written without a leading `-` moved on by one unit, as MSTICPy does
/// (`-3d@d` is midnight three days ago, `+1d@d` the end of tomorrow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rounding {
    pub unit: RoundUnit,
    pub up: bool,
}

/// The unit an offset is rounded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundUnit {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

impl TimeExpr {
    /// Parses a time expression; see the [module docs](super) for the grammar.
    pub fn parse(text: &str) -> Result<TimeExpr, TimeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TimeError::Empty);
        }
        if text.eq_ignore_ascii_case("now") {
            return Ok(TimeExpr::Now);
        }
        if let Some(offset) = parse_offset(text)? {
            return Ok(offset);
        }
        match parse_datetime(text)? {
            Some(at) => Ok(TimeExpr::At(at)),
            None => Err(TimeError::Unrecognised {
                text: text.to_string(),
            }),
        }
    }

    /// The instant this expression names when the time is `now`.
    pub fn resolve(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, TimeError> {
        let (shift, rounding) = match self {
            TimeExpr::Now => return Ok(now),
            TimeExpr::At(at) => return Ok(*at),
            TimeExpr::Offset { shift, rounding } => (shift, rounding),
        };
        let out_of_range = || TimeError::OutOfRange {
            text: format!("{self} from {}", now.to_rfc3339()),
        };
        let shifted = match *shift {
            Shift::Fixed(delta) => now.checked_add_signed(delta),
            Shift::Months(months) if months < 0 => {
                now.checked_sub_months(Months::new(months.unsigned_abs()))
            }
            Shift::Months(months) => now.checked_add_months(Months::new(months as u32)),
        }
        .ok_or_else(out_of_range)?;
        match rounding {
            Some(rounding) => rounding.apply(shifted).ok_or_else(out_of_range),
            None => Ok(shifted),
        }
    }
}

impl FromStr for TimeExpr {
    type Err = TimeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TimeExpr::parse(text)
    }
}

/// Writes the expression back in the grammar, so that parsing the text gives the same
/// expression (`-3d@d`, `+90m`, `-1y`, `2024-05-01T00:00:00+00:00`).
impl fmt::Display for TimeExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (shift, rounding) = match self {
            TimeExpr::Now => return f.write_str("now"),
            TimeExpr::At(at) => return f.write_str(&at.to_rfc3339()),
            TimeExpr::Offset { shift, rounding } => (shift, rounding),
        };
        // The sign carries the rounding direction, so `-0d@d` keeps its minus.
        let negative = match (rounding, shift) {
            (Some(rounding), _) => !rounding.up,
            (None, Shift::Fixed(delta)) => *delta < TimeDelta::zero(),
            (None, Shift::Months(months)) => *months < 0,
        };
        f.write_str(if negative { "-" } else { "+" })?;
        match *shift {
            Shift::Months(months) if months % 12 == 0 => write!(f, "{}y", months.abs() / 12)?,
            Shift::Months(months) => write!(f, "{}mon", months.abs())?,
            Shift::Fixed(delta) => write_length(f, delta.abs())?,
        }
        if let Some(rounding) = rounding {
            let unit = match rounding.unit {
                RoundUnit::Year => "y",
                RoundUnit::Month => "mon",
                RoundUnit::Day => "d",
                RoundUnit::Hour => "h",
                RoundUnit::Minute => "m",
                RoundUnit::Second => "s",
            };
            write!(f, "@{unit}")?;
        }
        Ok(())
    }
}

/// Parses `text` as an expression and resolves it at `now` in one step.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, TimeError> {
    TimeExpr::parse(text)?.resolve(now)
}

impl Rounding {
    fn apply(self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let date = at.date_naive();
        let truncated = match self.unit {
            RoundUnit::Year => date.with_day(1)?.with_month(1)?.and_hms_opt(0, 0, 0)?,
            RoundUnit::Month => date.with_day(1)?.and_hms_opt(0, 0, 0)?,
            RoundUnit::Day => date.and_hms_opt(0, 0, 0)?,
            RoundUnit::Hour => date.and_hms_opt(at.hour(), 0, 0)?,
            RoundUnit::Minute => date.and_hms_opt(at.hour(), at.minute(), 0)?,
            RoundUnit::Second => date.and_hms_opt(at.hour(), at.minute(), at.second())?,
        }
        .and_utc();
        if !self.up {
            return Some(truncated);
        }
        match self.unit {
            RoundUnit::Year => truncated.checked_add_months(Months::new(12)),
            RoundUnit::Month => truncated.checked_add_months(Months::new(1)),
            RoundUnit::Day => truncated.checked_add_signed(TimeDelta::days(1)),
            RoundUnit::Hour => truncated.checked_add_signed(TimeDelta::hours(1)),
            RoundUnit::Minute => truncated.checked_add_signed(TimeDelta::minutes(1)),
            RoundUnit::Second => truncated.checked_add_signed(TimeDelta::seconds(1)),
        }
    }
}

/// The units an offset may use; `None` is a calendar unit (months).
fn offset_unit(unit: &str) -> Option<(Option<i128>, i32)> {
    // (fixed length in nanoseconds, or None with a number of months per unit)
    Some(match unit {
        "" | "d" | "day" | "days" => (Some(NANOS_PER_DAY), 0),
        "y" | "yr" | "yrs" | "year" | "years" => (None, 12),
        "mon" | "month" | "months" => (None, 1),
        "w" | "wk" | "week" | "weeks" => (Some(NANOS_PER_WEEK), 0),
        "h" | "hr" | "hrs" | "hour" | "hours" => (Some(NANOS_PER_HOUR), 0),
        "m" | "min" | "mins" | "minute" | "minutes" => (Some(NANOS_PER_MINUTE), 0),
        "s" | "sec" | "secs" | "second" | "seconds" => (Some(NANOS_PER_SECOND), 0),
        _ => return None,
    })
}

fn round_unit(unit: &str) -> Option<RoundUnit> {
    Some(match unit {
        "y" | "yr" | "year" => RoundUnit::Year,
        "mon" | "month" => RoundUnit::Month,
        "d" | "day" => RoundUnit::Day,
        "h" | "hr" | "hour" => RoundUnit::Hour,
        "m" | "min" | "minute" => RoundUnit::Minute,
        "s" | "sec" | "second" => RoundUnit::Second,
        _ => return None,
    })
}

/// `[+-] N[.N] [unit] [@unit]`, spaces allowed between the parts as MSTICPy allows.
/// `Ok(None)` when the text does not have that shape (it may be a date).
fn parse_offset(text: &str) -> Result<Option<TimeExpr>, TimeError> {
    let (negative, rest) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let Some((amount, rest)) = Decimal::take(rest.trim_start()) else {
        return Ok(None);
    };
    let rest = rest.trim_start();
    let (unit, rest) = rest.split_at(rest.bytes().take_while(u8::is_ascii_alphabetic).count());
    let rest = rest.trim();
    let rounding_unit = match rest.strip_prefix('@') {
        Some(unit) => Some(unit.trim()),
        None if rest.is_empty() => None,
        None => return Ok(None),
    };

    let owned = || text.to_string();
    let unit = unit.to_ascii_lowercase();
    let (unit_nanos, months_per_unit) =
        offset_unit(&unit).ok_or_else(|| TimeError::UnknownUnit {
            text: owned(),
            unit: unit.clone(),
        })?;
    let shift = match unit_nanos {
        Some(unit_nanos) => {
            let nanos = amount
                .nanos(unit_nanos)
                .and_then(|n| delta_from_nanos(if negative { -n } else { n }))
                .ok_or_else(|| TimeError::OutOfRange { text: owned() })?;
            Shift::Fixed(nanos)
        }
        None => {
            if !amount.is_whole() {
                return Err(TimeError::FractionalCalendarUnit { text: owned() });
            }
            let months = amount
                .whole_number()
                .and_then(|n| n.checked_mul(months_per_unit.into()))
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| TimeError::OutOfRange { text: owned() })?;
            Shift::Months(if negative { -months } else { months })
        }
    };
    let rounding = match rounding_unit {
        None => None,
        Some(name) => {
            let unit = round_unit(&name.to_ascii_lowercase()).ok_or_else(|| {
                TimeError::UnknownRounding {
                    text: owned(),
                    unit: name.to_string(),
                }
            })?;
            Some(Rounding {
                unit,
                up: !negative,
            })
        }
    };
    Ok(Some(TimeExpr::Offset { shift, rounding }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A fixed, awkward `now`: mid-month, mid-day, with sub-second digits.
    fn now() -> DateTime<Utc> {
        utc("2024-03-31T14:25:36.789Z")
    }

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text, now()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn now_is_now() {
        assert_eq!(at("now"), now());
        assert_eq!(at("  NOW "), now());
    }

    #[test]
    fn offsets_in_every_unit() {
        assert_eq!(at("-3d"), utc("2024-03-28T14:25:36.789Z"));
        assert_eq!(at("+2h"), utc("2024-03-31T16:25:36.789Z"));
        assert_eq!(at("-30m"), utc("2024-03-31T13:55:36.789Z"));
        assert_eq!(at("-45s"), utc("2024-03-31T14:24:51.789Z"));
        assert_eq!(at("-1w"), utc("2024-03-24T14:25:36.789Z"));
        assert_eq!(at("2d"), utc("2024-04-02T14:25:36.789Z"));
    }

    #[test]
    fn months_and_years_follow_the_calendar() {
        // 31 March minus one month clamps to the last day of February (leap year).
        assert_eq!(at("-1mon"), utc("2024-02-29T14:25:36.789Z"));
        assert_eq!(at("-1y"), utc("2023-03-31T14:25:36.789Z"));
        assert_eq!(at("+1months"), utc("2024-04-30T14:25:36.789Z"));
    }

    #[test]
    fn units_are_case_insensitive_and_may_be_spelled_out() {
        assert_eq!(at("-3D"), at("-3d"));
        assert_eq!(at("-3days"), at("-3d"));
        assert_eq!(at("- 3 d"), at("-3d"));
        assert_eq!(at("-2 hours"), at("-2h"));
        assert_eq!(at("-5min"), at("-5m"));
        // As in MSTICPy, `M` is minutes, not months: units are case-insensitive.
        assert_eq!(at("-5M"), at("-5m"));
    }

    #[test]
    fn bare_numbers_are_days() {
        assert_eq!(at("-3"), utc("2024-03-28T14:25:36.789Z"));
        assert_eq!(at("1"), utc("2024-04-01T14:25:36.789Z"));
        assert_eq!(at("-0.5"), utc("2024-03-31T02:25:36.789Z"));
    }

    #[test]
    fn fractional_fixed_units_are_exact() {
        assert_eq!(at("-1.5h"), utc("2024-03-31T12:55:36.789Z"));
        assert_eq!(at("-0.1d"), utc("2024-03-31T12:01:36.789Z"));
    }

    #[test]
    fn negative_offsets_round_down() {
        assert_eq!(at("-3d@d"), utc("2024-03-28T00:00:00Z"));
        assert_eq!(at("-2h@h"), utc("2024-03-31T12:00:00Z"));
        assert_eq!(at("-10m@m"), utc("2024-03-31T14:15:00Z"));
        assert_eq!(at("-10s@s"), utc("2024-03-31T14:25:26Z"));
        assert_eq!(at("-1mon@mon"), utc("2024-02-01T00:00:00Z"));
        assert_eq!(at("-1y@y"), utc("2023-01-01T00:00:00Z"));
        assert_eq!(at("-0d@d"), utc("2024-03-31T00:00:00Z"));
        assert_eq!(at("-3@d"), utc("2024-03-28T00:00:00Z"));
        assert_eq!(at("-3d @ D"), utc("2024-03-28T00:00:00Z"));
    }

    #[test]
    fn other_offsets_round_up() {
        assert_eq!(at("+1d@d"), utc("2024-04-02T00:00:00Z"));
        assert_eq!(at("1d@d"), utc("2024-04-02T00:00:00Z"));
        assert_eq!(at("+0h@h"), utc("2024-03-31T15:00:00Z"));
        assert_eq!(at("+0d@mon"), utc("2024-04-01T00:00:00Z"));
        assert_eq!(at("+1mon@y"), utc("2025-01-01T00:00:00Z"));
    }

    #[test]
    fn dates_ignore_now() {
        assert_eq!(at("2023-01-02"), utc("2023-01-02T00:00:00Z"));
        assert_eq!(at("2023-01-02T03:04:05+01:00"), utc("2023-01-02T02:04:05Z"));
    }

    #[test]
    fn parsed_expressions_resolve_against_each_now() {
        let expr: TimeExpr = "-1d@d".parse().unwrap();
        assert_eq!(
            expr.resolve(utc("2024-01-01T05:00:00Z")).unwrap(),
            utc("2023-12-31T00:00:00Z")
        );
        assert_eq!(expr.resolve(now()).unwrap(), utc("2024-03-30T00:00:00Z"));
    }

    #[test]
    fn errors_name_the_text_and_the_accepted_forms() {
        let err = TimeExpr::parse("yesterday").unwrap_err();
        assert_eq!(
            err,
            TimeError::Unrecognised {
                text: "yesterday".into()
            }
        );
        let message = err.to_string();
        assert!(
            message.contains("`yesterday`") && message.contains("-3d@d"),
            "{message}"
        );

        assert_eq!(TimeExpr::parse("   "), Err(TimeError::Empty));
        assert_eq!(
            TimeExpr::parse("-3x"),
            Err(TimeError::UnknownUnit {
                text: "-3x".into(),
                unit: "x".into()
            })
        );
        assert_eq!(
            TimeExpr::parse("-3d@w"),
            Err(TimeError::UnknownRounding {
                text: "-3d@w".into(),
                unit: "w".into()
            })
        );
        assert_eq!(
            TimeExpr::parse("-1.5mon"),
            Err(TimeError::FractionalCalendarUnit {
                text: "-1.5mon".into()
            })
        );
        assert!(matches!(
            TimeExpr::parse("-3d 2h"),
            Err(TimeError::Unrecognised { .. })
        ));
    }

    #[test]
    fn display_writes_text_that_parses_back_to_the_same_expression() {
        for (text, shown) in [
            ("now", "now"),
            ("-3d@d", "-3d@d"),
            ("-0d@d", "-0d@d"),
            ("0d@d", "+0d@d"),
            ("-90m", "-90m"),
            ("-1.5h", "-90m"),
            ("-0.5s", "-0.5s"),
            ("-24mon", "-2y"),
            ("+5mon@mon", "+5mon@mon"),
            ("-7", "-7d"),
            ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00+00:00"),
        ] {
            let expr = TimeExpr::parse(text).unwrap();
            assert_eq!(expr.to_string(), shown, "{text}");
            assert_eq!(TimeExpr::parse(shown).unwrap(), expr, "{text}");
        }
    }

    #[test]
    fn offsets_beyond_the_calendar_are_errors_not_panics() {
        assert!(matches!(
            TimeExpr::parse("-99999999999999999999d"),
            Err(TimeError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_time("-999999999y", now()),
            Err(TimeError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_time("-99999999w", now()),
            Err(TimeError::OutOfRange { .. })
        ));
    }
}
