//! ISO 8601 dates and date-times as analysts type them: `2024-05-01`,
//! `2024-05-01T13:30`, `2024-05-01 13:30:00.123`, with or without a zone (`Z`, `UTC`,
//! `+02:00`, `+0200`, `+02`). A value without a zone is UTC, as MSTICPy formats naive
//! datetimes with a `Z`.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::TimeError;

/// Parses `text` (already trimmed) as a date or date-time. `Ok(None)` means the text
/// does not look like one at all, so the caller can report the whole grammar;
/// `Err` means it does but a field is wrong (month 13, February 30...).
pub(crate) fn parse_datetime(text: &str) -> Result<Option<DateTime<Utc>>, TimeError> {
    let Some((date, rest)) = take_date(text) else {
        return Ok(None);
    };
    let invalid = |reason: &str| TimeError::InvalidDate {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let (year, month, day) = date;
    let date =
        NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| invalid("no such calendar day"))?;

    let (time, rest) = match rest
        .strip_prefix(['T', 't', ' '])
        .and_then(|after| take_time(after.trim_start()))
    {
        Some(([hour, minute, second, nanos], rest)) => {
            let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
                .ok_or_else(|| invalid("hour, minute or second out of range"))?;
            (time, rest)
        }
        None => (NaiveTime::MIN, rest),
    };
    let naive = NaiveDateTime::new(date, time);

    let zone = rest.trim_start();
    let offset =
        if zone.is_empty() || ["z", "utc", "gmt"].contains(&zone.to_ascii_lowercase().as_str()) {
            FixedOffset::east_opt(0)
        } else {
            match take_offset(zone) {
                Some(seconds) => FixedOffset::east_opt(seconds),
                None => return Ok(None),
            }
        }
        .ok_or_else(|| invalid("zone offset out of range"))?;

    let local = offset
        .from_local_datetime(&naive)
        .single()
        .ok_or_else(|| invalid("zone offset out of range"))?;
    Ok(Some(local.with_timezone(&Utc)))
}

fn take_digits(text: &str, count: usize) -> Option<(u32, &str)> {
    let digits = text.get(..count)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, &text[count..]))
}

/// `YYYY-MM-DD`.
fn take_date(text: &str) -> Option<((i32, u32, u32), &str)> {
    let (year, rest) = take_digits(text, 4)?;
    let (month, rest) = take_digits(rest.strip_prefix('-')?, 2)?;
    let (day, rest) = take_digits(rest.strip_prefix('-')?, 2)?;
    Some(((year as i32, month, day), rest))
}

/// `HH:MM[:SS[.fraction]]`; digits of the fraction beyond nanoseconds are dropped.
fn take_time(text: &str) -> Option<([u32; 4], &str)> {
    let (hour, rest) = take_digits(text, 2)?;
    let (minute, rest) = take_digits(rest.strip_prefix(':')?, 2)?;
    let Some(after_colon) = rest.strip_prefix(':') else {
        return Some(([hour, minute, 0, 0], rest));
    };
    let (second, rest) = take_digits(after_colon, 2)?;
    let Some(fraction) = rest.strip_prefix(['.', ',']) else {
        return Some(([hour, minute, second, 0], rest));
    };
    let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 {
        return None;
    }
    let kept = &fraction[..len.min(9)];
    let nanos = kept.parse::<u32>().ok()? * 10u32.pow(9 - kept.len() as u32);
    Some(([hour, minute, second, nanos], &fraction[len..]))
}

/// `+HH:MM`, `+HHMM` or `+HH` (and `-`), the whole of `text`; seconds east of UTC.
fn take_offset(text: &str) -> Option<i32> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, rest) = take_digits(&text[1..], 2)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let (minutes, rest) = if rest.is_empty() {
        (0, rest)
    } else {
        take_digits(rest, 2)?
    };
    if !rest.is_empty() || minutes > 59 {
        return None;
    }
    Some(sign * (hours as i32 * 3600 + minutes as i32 * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn parsed(text: &str) -> DateTime<Utc> {
        parse_datetime(text).unwrap().unwrap()
    }

    #[test]
    fn dates_are_utc_midnight() {
        assert_eq!(parsed("2024-05-01"), utc("2024-05-01T00:00:00Z"));
    }

    #[test]
    fn naive_date_times_are_utc() {
        assert_eq!(parsed("2024-05-01T13:30:15"), utc("2024-05-01T13:30:15Z"));
        assert_eq!(parsed("2024-05-01 13:30"), utc("2024-05-01T13:30:00Z"));
        assert_eq!(parsed("2024-05-01t13:30:15"), utc("2024-05-01T13:30:15Z"));
    }

    #[test]
    fn fractions_keep_nanoseconds() {
        assert_eq!(
            parsed("2024-05-01T13:30:15.5"),
            utc("2024-05-01T13:30:15.500Z")
        );
        assert_eq!(
            parsed("2024-05-01T13:30:15.123456789123Z"),
            utc("2024-05-01T13:30:15.123456789Z")
        );
    }

    #[test]
    fn zones_are_converted_to_utc() {
        let expected = utc("2024-05-01T11:30:00Z");
        for text in [
            "2024-05-01T13:30:00+02:00",
            "2024-05-01T13:30:00+0200",
            "2024-05-01T13:30:00+02",
            "2024-05-01 13:30:00 +02:00",
        ] {
            assert_eq!(parsed(text), expected, "{text}");
        }
        assert_eq!(parsed("2024-05-01T11:30:00Z"), expected);
        assert_eq!(parsed("2024-05-01 11:30:00 UTC"), expected);
        assert_eq!(parsed("2024-05-01T06:30:00-05:00"), expected);
    }

    #[test]
    fn impossible_fields_are_errors_naming_the_text() {
        for text in ["2024-02-30", "2024-13-01", "2024-05-01T25:00:00"] {
            let err = parse_datetime(text).unwrap_err();
            assert!(
                matches!(&err, TimeError::InvalidDate { text: t, .. } if t == text),
                "{err}"
            );
        }
    }

    #[test]
    fn other_shapes_are_not_dates() {
        for text in [
            "-3d",
            "yesterday",
            "2024-5-1",
            "2024-05-01X",
            "2024-05-01T13:30+2:00",
        ] {
            assert_eq!(parse_datetime(text).unwrap(), None, "{text}");
        }
    }
}
