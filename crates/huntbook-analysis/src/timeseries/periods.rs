//! The anomalous stretches of a scored series as time periods, and a KQL filter that
//! selects them, as MSTICPy's `extract_anomaly_periods` and
//! `create_time_period_kqlfilter` give them.
//!
//! Flagged rows are binned by `period` (bins aligned to midnight UTC of the first
//! flagged row's day, as pandas' `resample` aligns them). Each bin opens a period from
//! one `period` before it to one after; a bin within two periods of the previous bin
//! stretches the open period to one `period` past itself instead.

use chrono::DateTime;

use crate::columns::{numbers, times};
use crate::AnalysisError;

const DAY_NANOS: i64 = 86_400_000_000_000;

/// The (start, end) periods, in nanoseconds since the epoch, around the rows of
/// `batch` whose `anomalies_column` is 1 (or 1 or -1 unless `positive_only`).
pub fn anomaly_periods(
    batch: &arrow_array::RecordBatch,
    time_column: &str,
    anomalies_column: &str,
    period_nanos: i64,
    positive_only: bool,
) -> Result<Vec<(i64, i64)>, AnalysisError> {
    if period_nanos <= 0 {
        return Err(AnalysisError::Invalid(format!(
            "period must be a positive length of time such as '1h', not {period_nanos} ns"
        )));
    }
    let marks = numbers(batch, anomalies_column)?;
    let time = times(batch, time_column)?;
    let flagged: Vec<i64> = time
        .into_iter()
        .zip(marks)
        .filter_map(|(t, m)| match (t, m) {
            (Some(t), Some(m)) if m == 1.0 || (!positive_only && m == -1.0) => Some(t),
            _ => None,
        })
        .collect();
    Ok(periods_around(&flagged, period_nanos))
}

fn periods_around(flagged: &[i64], period: i64) -> Vec<(i64, i64)> {
    let Some(first) = flagged.iter().min() else {
        return Vec::new();
    };
    let origin = first.div_euclid(DAY_NANOS) * DAY_NANOS;
    let mut bins: Vec<i64> = flagged
        .iter()
        .map(|t| origin + (t - origin).div_euclid(period) * period)
        .collect();
    bins.sort_unstable();
    bins.dedup();

    let mut periods: Vec<(i64, i64)> = Vec::new();
    let mut previous: Option<i64> = None;
    for bin in bins {
        match (previous, periods.last_mut()) {
            (Some(last), Some(open)) if bin - last <= 2 * period => open.1 = bin + period,
            _ => periods.push((bin - period, bin + period)),
        }
        previous = Some(bin);
    }
    periods
}

/// A KQL `where` clause selecting `TimeGenerated` within any of `periods`, with the
/// times written as pandas writes them (`2024-01-01 05:00:00`, a fraction only when
/// there is one, and `+00:00` after times that carry a zone).
pub fn kql_time_filter(periods: &[(i64, i64)], zoned: bool) -> String {
    let clauses: Vec<String> = periods
        .iter()
        .map(|(start, end)| {
            format!(
                "TimeGenerated between (datetime({}) .. datetime({}))",
                pandas_time(*start, zoned),
                pandas_time(*end, zoned)
            )
        })
        .collect();
    format!("| where {}", clauses.join(" or "))
}

fn pandas_time(nanos: i64, zoned: bool) -> String {
    let time = DateTime::from_timestamp_nanos(nanos);
    let fraction = nanos.rem_euclid(1_000_000_000);
    let mut text = time.format("%Y-%m-%d %H:%M:%S").to_string();
    if fraction % 1000 != 0 {
        text.push_str(&format!(".{fraction:09}"));
    } else if fraction != 0 {
        text.push_str(&format!(".{:06}", fraction / 1000));
    }
    if zoned {
        text.push_str("+00:00");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000_000;

    #[test]
    fn near_bins_merge_and_far_ones_open_a_new_period() {
        let day = 20_000 * DAY_NANOS;
        let at = |h: i64| day + h * HOUR;
        // Hours 3 and 5 are two periods apart (merge); 9 is four past 5 (new period).
        let got = periods_around(&[at(5) + 10, at(3), at(9) + 59 * 60_000_000_000], HOUR);
        assert_eq!(got, vec![(at(2), at(6)), (at(8), at(10))]);
        assert!(periods_around(&[], HOUR).is_empty());
    }

    #[test]
    fn bins_start_from_midnight_of_the_first_day() {
        let day = 20_000 * DAY_NANOS;
        // Three-hour bins from midnight: 04:10 falls in the 03:00 bin.
        let got = periods_around(&[day + 4 * HOUR + 600_000_000_000], 3 * HOUR);
        assert_eq!(got, vec![(day, day + 6 * HOUR)]);
    }

    #[test]
    fn kql_text_is_written_as_pandas_writes_times() {
        let t = 1_704_085_200_000_000_000; // 2024-01-01 05:00:00 UTC
        assert_eq!(
            kql_time_filter(&[(t, t + HOUR)], false),
            "| where TimeGenerated between (datetime(2024-01-01 05:00:00) .. datetime(2024-01-01 06:00:00))"
        );
        let two = kql_time_filter(&[(t + 500_000_000, t + 1), (t, t)], true);
        assert_eq!(
            two,
            "| where TimeGenerated between (datetime(2024-01-01 05:00:00.500000+00:00) .. \
             datetime(2024-01-01 05:00:00.000000001+00:00)) or TimeGenerated between \
             (datetime(2024-01-01 05:00:00+00:00) .. datetime(2024-01-01 05:00:00+00:00))"
        );
        assert_eq!(kql_time_filter(&[], false), "| where ");
    }
}
