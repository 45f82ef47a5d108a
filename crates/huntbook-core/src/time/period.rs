//! Periods for splitting a time span (`split_by="1D"`), in the forms pandas'
//! `Timedelta` reads and MSTICPy passes through: unit strings (`1D`, `12H`, `30min`,
//! `1h30m`) and clock forms (`01:30:00`, `1 days 02:00:00`, and Python's own
//! `1 day, 2:00:00`).

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;

use super::amount::{
    delta_from_nanos, write_length, Decimal, NANOS_PER_DAY, NANOS_PER_HOUR, NANOS_PER_MINUTE,
    NANOS_PER_SECOND, NANOS_PER_WEEK,
};
use super::TimeError;

/// A positive, fixed length of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period(TimeDelta);

impl Period {
    /// Parses a period; MSTICPy falls back to one day on text it cannot read, this
    /// reports it instead.
    pub fn parse(text: &str) -> Result<Period, TimeError> {
        let trimmed = text.trim();
        let bad = |reason: &str| TimeError::BadPeriod {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        if trimmed.starts_with('-') {
            return Err(bad("a period must be positive"));
        }
        let nanos = if trimmed.contains(':') {
            clock_nanos(trimmed).ok_or_else(|| {
                bad("the clock form is H:MM:SS[.fraction], optionally after `N days`")
            })?
        } else {
            unit_nanos(trimmed).map_err(|reason| bad(&reason))?
        };
        let delta = delta_from_nanos(nanos).ok_or_else(|| bad("it is too long"))?;
        Period::from_delta(delta).map_err(|_| bad("a period must be positive"))
    }

    /// A period of `delta`, which must be positive.
    pub fn from_delta(delta: TimeDelta) -> Result<Period, TimeError> {
        if delta <= TimeDelta::zero() {
            return Err(TimeError::BadPeriod {
                text: delta.to_string(),
                reason: "a period must be positive".into(),
            });
        }
        Ok(Period(delta))
    }

    pub fn as_delta(&self) -> TimeDelta {
        self.0
    }
}

impl FromStr for Period {
    type Err = TimeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Period::parse(text)
    }
}

/// In the largest unit that divides it: `1d`, `12h`, `90m`, `1.5s`.
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_length(f, self.0)
    }
}

/// pandas' unit aliases. `M` and `Y` are refused as pandas refuses them: months and
/// years have no fixed length. Lower case `m` is minutes.
fn unit_length(unit: &str) -> Result<i128, String> {
    if unit == "M" || unit.eq_ignore_ascii_case("y") {
        return Err(format!(
            "`{unit}` (months or years) has no fixed length; use min for minutes or D for days"
        ));
    }
    Ok(match unit.to_ascii_lowercase().as_str() {
        "w" | "week" | "weeks" => NANOS_PER_WEEK,
        "d" | "day" | "days" => NANOS_PER_DAY,
        "h" | "hr" | "hour" | "hours" => NANOS_PER_HOUR,
        "m" | "t" | "min" | "mins" | "minute" | "minutes" => NANOS_PER_MINUTE,
        "s" | "sec" | "secs" | "second" | "seconds" => NANOS_PER_SECOND,
        "ms" | "l" | "milli" | "millis" | "millisecond" | "milliseconds" => 1_000_000,
        "us" | "u" | "micro" | "micros" | "microsecond" | "microseconds" => 1_000,
        "ns" | "n" | "nano" | "nanos" | "nanosecond" | "nanoseconds" => 1,
        _ => return Err(format!("unknown unit `{unit}`")),
    })
}

/// A sum of `<number><unit>` parts: `1h30m`, `1 day 2 hours`, `1.5D`.
fn unit_nanos(text: &str) -> Result<i128, String> {
    let text = text.strip_prefix('+').unwrap_or(text);
    let mut rest = text.trim_start();
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let (amount, after) =
            Decimal::take(rest).ok_or_else(|| format!("expected a number at `{rest}`"))?;
        let after = after.trim_start();
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        if unit_len == 0 {
            return Err(format!("the number before `{after}` has no unit"));
        }
        let (unit, after) = after.split_at(unit_len);
        let part = amount
            .nanos(unit_length(unit)?)
            .ok_or_else(|| "it is too long".to_string())?;
        total = total
            .checked_add(part)
            .ok_or_else(|| "it is too long".to_string())?;
        rest = after.trim_start_matches([' ', ',']);
    }
    Ok(total)
}

/// `[N day[s][,]] H:MM:SS[.fraction]`.
fn clock_nanos(text: &str) -> Option<i128> {
    let (days, clock) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(unit_start) => {
            let (amount, unit) = text.split_at(unit_start);
            let days: i128 = amount.trim().parse().ok()?;
            let unit_end = unit
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(unit.len());
            if !matches!(&unit[..unit_end], "day" | "days") {
                return None;
            }
            (days, unit[unit_end..].trim_start_matches([',', ' ']))
        }
        None => (0, text),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    let [hours, minutes, seconds] = fields[..] else {
        return None;
    };
    let (seconds, fraction) = seconds.split_once('.').unwrap_or((seconds, "0"));
    let hours = digits(hours, 1..=2)?;
    let minutes = digits(minutes, 2..=2)?;
    let seconds = digits(seconds, 2..=2)?;
    if minutes > 59
        || seconds > 59
        || fraction.is_empty()
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let subsec = Decimal {
        whole: "",
        fraction,
    }
    .nanos(NANOS_PER_SECOND)?;
    days.checked_mul(NANOS_PER_DAY)?.checked_add(
        hours * NANOS_PER_HOUR + minutes * NANOS_PER_MINUTE + seconds * NANOS_PER_SECOND + subsec,
    )
}

/// An all-digit field of `len` digits.
fn digits(field: &str, len: std::ops::RangeInclusive<usize>) -> Option<i128> {
    if !len.contains(&field.len()) || !field.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    field.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn length(text: &str) -> TimeDelta {
        Period::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .as_delta()
    }

    #[test]
    fn pandas_unit_strings() {
        assert_eq!(length("1D"), TimeDelta::days(1));
        assert_eq!(length("1d"), TimeDelta::days(1));
        assert_eq!(length("12H"), TimeDelta::hours(12));
        assert_eq!(length("12h"), TimeDelta::hours(12));
        assert_eq!(length("30min"), TimeDelta::minutes(30));
        assert_eq!(length("30T"), TimeDelta::minutes(30));
        assert_eq!(length("30m"), TimeDelta::minutes(30));
        assert_eq!(length("90s"), TimeDelta::seconds(90));
        assert_eq!(length("1W"), TimeDelta::weeks(1));
        assert_eq!(length("250ms"), TimeDelta::milliseconds(250));
        assert_eq!(length("5us"), TimeDelta::microseconds(5));
        assert_eq!(length("7ns"), TimeDelta::nanoseconds(7));
        assert_eq!(length("+2 days"), TimeDelta::days(2));
    }

    #[test]
    fn compound_and_fractional_periods() {
        assert_eq!(length("1h30m"), TimeDelta::minutes(90));
        assert_eq!(length("1 day 2 hours"), TimeDelta::hours(26));
        assert_eq!(length("1 day, 2 hours"), TimeDelta::hours(26));
        assert_eq!(length("1.5D"), TimeDelta::hours(36));
        assert_eq!(length("0.5h"), TimeDelta::minutes(30));
    }

    #[test]
    fn clock_forms_from_pandas_and_python() {
        assert_eq!(length("01:30:00"), TimeDelta::minutes(90));
        assert_eq!(length("0:00:01.5"), TimeDelta::milliseconds(1500));
        assert_eq!(length("1 days 02:00:00"), TimeDelta::hours(26));
        assert_eq!(length("1 day, 2:00:00"), TimeDelta::hours(26));
        assert_eq!(length("2 days, 0:00:00"), TimeDelta::days(2));
    }

    #[test]
    fn bad_periods_say_why() {
        for (text, reason) in [
            ("", "empty"),
            ("-1D", "positive"),
            ("0D", "positive"),
            ("1M", "no fixed length"),
            ("1Y", "no fixed length"),
            ("1 fortnight", "unknown unit `fortnight`"),
            ("12", "no unit"),
            ("D", "expected a number"),
            ("1:2", "clock form"),
            ("01:60:00", "clock form"),
            ("1 week, 2:00:00", "clock form"),
        ] {
            let err = Period::parse(text).unwrap_err();
            let message = err.to_string();
            assert!(
                matches!(&err, TimeError::BadPeriod { text: t, .. } if t == text),
                "{text}: {message}"
            );
            assert!(message.contains(reason), "{text}: {message}");
            assert!(message.contains("12H"), "{message}");
        }
    }

    #[test]
    fn display_reads_back() {
        for (text, shown) in [
            ("1D", "1d"),
            ("12H", "12h"),
            ("1h30m", "90m"),
            ("1500ms", "1.5s"),
        ] {
            let period = Period::parse(text).unwrap();
            assert_eq!(period.to_string(), shown);
            assert_eq!(Period::parse(shown).unwrap(), period);
        }
    }

    #[test]
    fn deltas_must_be_positive() {
        assert!(Period::from_delta(TimeDelta::zero()).is_err());
        assert_eq!(
            Period::from_delta(TimeDelta::hours(1)).unwrap(),
            Period::parse("1H").unwrap()
        );
    }
}
