//! Decimal amounts of a unit ("1.5" hours), converted to whole nanoseconds without
//! going through floating point, so `-0.1d` is exactly 8640 seconds.

use std::fmt;

use chrono::TimeDelta;

pub(crate) const NANOS_PER_SECOND: i128 = 1_000_000_000;
pub(crate) const NANOS_PER_MINUTE: i128 = 60 * NANOS_PER_SECOND;
pub(crate) const NANOS_PER_HOUR: i128 = 60 * NANOS_PER_MINUTE;
pub(crate) const NANOS_PER_DAY: i128 = 24 * NANOS_PER_HOUR;
pub(crate) const NANOS_PER_WEEK: i128 = 7 * NANOS_PER_DAY;

/// A non-negative decimal number split at its point: `"12.50"` is `("12", "50")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal<'a> {
    pub whole: &'a str,
    pub fraction: &'a str,
}

impl<'a> Decimal<'a> {
    /// Reads the longest decimal number at the start of `text` and returns it with the
    /// rest of the text, or `None` when `text` does not start with a digit or point
    /// followed by a digit.
    pub fn take(text: &'a str) -> Option<(Decimal<'a>, &'a str)> {
        let whole_len = text.bytes().take_while(u8::is_ascii_digit).count();
        let (whole, rest) = text.split_at(whole_len);
        let (fraction, rest) = match rest.strip_prefix('.') {
            Some(after_point) => {
                let len = after_point.bytes().take_while(u8::is_ascii_digit).count();
                after_point.split_at(len)
            }
            None => ("", rest),
        };
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        Some((Decimal { whole, fraction }, rest))
    }

    pub fn is_whole(&self) -> bool {
        self.fraction.bytes().all(|b| b == b'0')
    }

    /// The whole part, or `None` if it does not fit.
    pub fn whole_number(&self) -> Option<i64> {
        if self.whole.is_empty() {
            return Some(0);
        }
        self.whole.parse().ok()
    }

    /// This many units of `unit_nanos` each, truncated to the nanosecond.
    pub fn nanos(&self, unit_nanos: i128) -> Option<i128> {
        // Digits beyond 30 cannot change a result that must fit in an i64 of seconds.
        let whole: i128 = if self.whole.is_empty() {
            0
        } else if self.whole.len() > 30 {
            return None;
        } else {
            self.whole.parse().ok()?
        };
        let mut total = whole.checked_mul(unit_nanos)?;
        let fraction = &self.fraction[..self.fraction.len().min(30)];
        if !fraction.is_empty() {
            let numerator: i128 = fraction.parse().ok()?;
            let denominator = 10i128.checked_pow(fraction.len() as u32)?;
            total = total.checked_add(numerator.checked_mul(unit_nanos)? / denominator)?;
        }
        Some(total)
    }
}

/// A signed count of nanoseconds as a `TimeDelta`, or `None` if it is out of range.
pub(crate) fn delta_from_nanos(nanos: i128) -> Option<TimeDelta> {
    let secs = i64::try_from(nanos.div_euclid(NANOS_PER_SECOND)).ok()?;
    let subsec = nanos.rem_euclid(NANOS_PER_SECOND) as u32;
    TimeDelta::new(secs, subsec)
}

/// A non-negative length in the largest of d, h, m, s that divides it exactly, else
/// in seconds with a fraction (`90m`, `1.5s`).
pub(crate) fn write_length(f: &mut fmt::Formatter<'_>, delta: TimeDelta) -> fmt::Result {
    let nanos =
        i128::from(delta.num_seconds()) * NANOS_PER_SECOND + i128::from(delta.subsec_nanos());
    for (unit_nanos, unit) in [
        (NANOS_PER_DAY, "d"),
        (NANOS_PER_HOUR, "h"),
        (NANOS_PER_MINUTE, "m"),
        (NANOS_PER_SECOND, "s"),
    ] {
        if nanos % unit_nanos == 0 {
            return write!(f, "{}{unit}", nanos / unit_nanos);
        }
    }
    let fraction = format!("{:09}", nanos % NANOS_PER_SECOND);
    write!(
        f,
        "{}.{}s",
        nanos / NANOS_PER_SECOND,
        fraction.trim_end_matches('0')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_split_at_the_point() {
        assert_eq!(
            Decimal::take("12.50h"),
            Some((
                Decimal {
                    whole: "12",
                    fraction: "50"
                },
                "h"
            ))
        );
        assert_eq!(
            Decimal::take(".5"),
            Some((
                Decimal {
                    whole: "",
                    fraction: "5"
                },
                ""
            ))
        );
        assert_eq!(Decimal::take("h"), None);
        assert_eq!(Decimal::take("."), None);
    }

    #[test]
    fn fractions_are_exact() {
        let (tenth, _) = Decimal::take("0.1").unwrap();
        assert_eq!(tenth.nanos(NANOS_PER_DAY), Some(8_640 * NANOS_PER_SECOND));
        let (third, _) = Decimal::take("0.333333333333").unwrap();
        assert_eq!(third.nanos(NANOS_PER_SECOND), Some(333_333_333));
    }

    #[test]
    fn huge_amounts_are_refused_not_wrapped() {
        let (huge, _) = Decimal::take("99999999999999999999999999999999999").unwrap();
        assert_eq!(huge.nanos(NANOS_PER_DAY), None);
        assert_eq!(delta_from_nanos(i128::MAX / 2), None);
    }

    #[test]
    fn negative_nanos_borrow_from_seconds() {
        assert_eq!(
            delta_from_nanos(-1),
            Some(TimeDelta::new(-1, 999_999_999).unwrap())
        );
    }
}
