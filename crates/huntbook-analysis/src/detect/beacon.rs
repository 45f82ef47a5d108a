//! Beaconing: one source calling one destination on a timer.
//!
//! Flows are grouped by `group_by` (source, destination and port by default) and each
//! group's periodicity is measured as [`polling`](crate::polling) measures it (a
//! periodogram of the events per second and Fisher's g test). A group is a finding
//! when it has at least `min_events` events, its p-value is below `max_p_value`, and
//! its calls are regular: at least 80% of the gaps between them are within 20% (or
//! 2 s) of their median, which is at most `max_interval_secs` (daily rhythms of
//! people at work are periodic too, but they are not beacons). The median gap is the
//! interval reported: a periodogram of impulses has its harmonics as strong as its
//! fundamental, so its peak can name a fraction of the true interval. A beacon that
//! kept going for an hour or more is High, a shorter one Medium.
use super::{human_duration, Finding, Severity};
use crate::columns;
use crate::polling::{group_rows, results};
use crate::AnalysisError;

const SECOND: i64 = 1_000_000_000;

/// What [`beaconing`] reads and how sensitive it is.
#[derive(Debug, Clone)]
pub struct BeaconingOptions {
    pub time_column: String,
    /// The columns a beacon's flows share; `None`: those of `SourceIP`, `DestinationIP`
    /// and `DestinationPort` the table has.
    pub group_by: Option<Vec<String>>,
    pub min_events: usize,
    pub max_p_value: f64,
    pub max_interval_secs: f64,
}

impl Default for BeaconingOptions {
    fn default() -> Self {
        BeaconingOptions {
            time_column: "TimeGenerated".into(),
            group_by: None,
            min_events: 20,
            max_p_value: 1e-6,
            max_interval_secs: 3600.0,
        }
    }
}

/// Finds groups of flows that repeat at a regular interval.
pub fn beaconing(
    batch: &arrow_array::RecordBatch,
    o: &BeaconingOptions,
) -> Result<Vec<Finding>, AnalysisError> {
    let group_by: Vec<String> = match &o.group_by {
        Some(given) => given.clone(),
        None => ["SourceIP", "DestinationIP", "DestinationPort"]
            .into_iter()
            .filter(|c| batch.column_by_name(c).is_some())
            .map(String::from)
            .collect(),
    };
    if group_by.is_empty() {
        return Err(AnalysisError::Invalid(
            "no SourceIP, DestinationIP or DestinationPort column to group flows by; name the columns (group_by)".into(),
        ));
    }
    let names: Vec<&str> = group_by.iter().map(String::as_str).collect();
    let groups = group_rows(batch, &o.time_column, &names)?;
    let found = results(&groups);
    let keys = names
        .iter()
        .map(|c| columns::texts(batch, c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut findings = Vec::new();
    for (rows, polling) in groups.rows.iter().zip(found) {
        // A NaN p-value (all events in one second) is no finding either.
        let significant = polling.p_value < o.max_p_value;
        if rows.len() < o.min_events || !significant {
            continue;
        }
        let mut rows = rows.clone();
        rows.sort_by_key(|&r| (groups.seconds[r], r));
        let times: Vec<i64> = rows.iter().map(|&r| groups.seconds[r]).collect();
        let Some(interval) = regular_interval(&times) else {
            continue;
        };
        if interval as f64 > o.max_interval_secs {
            continue;
        }
        let (first, last) = (
            groups.seconds[rows[0]],
            groups.seconds[rows[rows.len() - 1]],
        );
        let key: Vec<String> = keys
            .iter()
            .zip(&names)
            .map(|(k, n)| format!("{n} {}", k[rows[0]].as_deref().unwrap_or("")))
            .collect();
        let lasted = (last - first) * SECOND;
        findings.push((
            first,
            Finding {
                detection: "beaconing",
                severity: if lasted >= 3600 * SECOND {
                    Severity::High
                } else {
                    Severity::Medium
                },
                reason: format!(
                    "{}: {} connections every {} s over {} (p-value {:.1e})",
                    key.join(", "),
                    rows.len(),
                    interval,
                    human_duration(lasted),
                    polling.p_value
                ),
                rows,
            },
        ));
    }
    findings.sort_by_key(|(first, f)| (*first, f.rows[0]));
    Ok(findings.into_iter().map(|(_, f)| f).collect())
}

/// The median gap between sorted times, when most gaps are close to it.
fn regular_interval(times: &[i64]) -> Option<i64> {
    let mut gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    let slack = (median / 5).max(2);
    let close = gaps.iter().filter(|g| (*g - median).abs() <= slack).count();
    (median > 0 && close * 5 >= gaps.len() * 4).then_some(median)
}

#[cfg(test)]
mod tests {
    use super::super::tests::table;
    use super::*;

    #[test]
    fn a_jittered_minute_beacon_is_found_among_random_flows() {
        let mut times = Vec::new();
        let (mut src, mut dst) = (Vec::new(), Vec::new());
        // Every 60 s (+-3 s) for two hours.
        for i in 0..120i64 {
            times.push(10_000 + i * 60 + (i * 7919 % 7) - 3);
            src.push("10.0.1.57");
            dst.push("203.0.113.66");
        }
        // Irregular flows elsewhere: exponential gaps of 5 minutes on average.
        let (mut t, mut state) = (10_000i64, 42u64);
        for _ in 0..120 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let uniform = (state >> 11) as f64 / (1u64 << 53) as f64;
            t += 1 + (-(1.0 - uniform).ln() * 300.0) as i64;
            times.push(t);
            src.push("10.0.1.58");
            dst.push("142.250.180.14");
        }
        let batch = table(&times, &[("SourceIP", src), ("DestinationIP", dst)]);
        let f = beaconing(&batch, &BeaconingOptions::default()).unwrap();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].detection, f[0].severity, f[0].rows.len()),
            ("beaconing", Severity::High, 120)
        );
        let reason = &f[0].reason;
        assert!(
            reason.starts_with(
                "SourceIP 10.0.1.57, DestinationIP 203.0.113.66: 120 connections every "
            ),
            "{reason}"
        );
        assert!(reason.contains(" s over 1h 59m"), "{reason}");
        let every: i64 = reason
            .split("every ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((57..=63).contains(&every), "{reason}");
    }

    #[test]
    fn the_interval_is_the_median_gap_of_regular_calls_only() {
        assert_eq!(regular_interval(&[0, 60, 119, 181, 240]), Some(60));
        assert_eq!(regular_interval(&[0, 5, 300, 302, 900]), None);
        assert_eq!(regular_interval(&[7]), None);
    }

    #[test]
    fn flows_need_a_column_to_group_by() {
        let batch = table(&[0], &[("Host", vec!["a"])]);
        assert!(beaconing(&batch, &BeaconingOptions::default())
            .unwrap_err()
            .to_string()
            .contains("group_by"));
    }
}
