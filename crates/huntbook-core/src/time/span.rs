//! A validated `[start, end]` range and its split into consecutive sub-ranges.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Period, TimeError, TimeExpr};

/// A time range with `start <= end`, both in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeSpan {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TimeSpan {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<TimeSpan, TimeError> {
        if start > end {
            return Err(TimeError::StartAfterEnd { start, end });
        }
        Ok(TimeSpan { start, end })
    }

    /// Reads both ends as time expressions resolved at the same `now`, so
    /// `("-7d@d", "now")` is the last seven whole days plus today so far.
    pub fn parse(start: &str, end: &str, now: DateTime<Utc>) -> Result<TimeSpan, TimeError> {
        TimeSpan::new(
            TimeExpr::parse(start)?.resolve(now)?,
            TimeExpr::parse(end)?.resolve(now)?,
        )
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    pub fn duration(&self) -> TimeDelta {
        self.end - self.start
    }

    /// Consecutive sub-ranges of `period` from `start`; the last one is clipped to
    /// `end`. Each sub-range ends exactly where the next begins (a query that keeps
    /// rows with `time <= end` should treat the shared instant as belonging to the
    /// later range; MSTICPy moves each end back by 1 ns for that). An empty span
    /// gives one empty sub-range, so a split query still runs once.
    pub fn split(&self, period: Period) -> Split {
        Split {
            next_start: Some(self.start),
            end: self.end,
            step: period.as_delta(),
        }
    }
}

/// `2024-05-01T00:00:00+00:00 .. 2024-05-02T00:00:00+00:00`.
impl fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} .. {}",
            self.start.to_rfc3339(),
            self.end.to_rfc3339()
        )
    }
}

/// The iterator returned by [`TimeSpan::split`]. Lazy, because a long span split by
/// a short period can have more sub-ranges than fit in memory.
#[derive(Debug, Clone)]
pub struct Split {
    next_start: Option<DateTime<Utc>>,
    end: DateTime<Utc>,
    step: TimeDelta,
}

impl Iterator for Split {
    type Item = TimeSpan;

    fn next(&mut self) -> Option<TimeSpan> {
        let start = self.next_start?;
        let end = match start.checked_add_signed(self.step) {
            Some(end) if end < self.end => end,
            _ => self.end,
        };
        self.next_start = (end < self.end).then_some(end);
        Some(TimeSpan { start, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn span(start: &str, end: &str) -> TimeSpan {
        TimeSpan::new(utc(start), utc(end)).unwrap()
    }

    fn bounds(spans: impl Iterator<Item = TimeSpan>) -> Vec<(String, String)> {
        spans
            .map(|s| (s.start().to_rfc3339(), s.end().to_rfc3339()))
            .collect()
    }

    #[test]
    fn start_after_end_is_refused() {
        let err =
            TimeSpan::new(utc("2024-01-02T00:00:00Z"), utc("2024-01-01T00:00:00Z")).unwrap_err();
        assert!(err.to_string().contains("swap start and end"), "{err}");
        assert!(TimeSpan::new(utc("2024-01-01T00:00:00Z"), utc("2024-01-01T00:00:00Z")).is_ok());
    }

    #[test]
    fn parse_resolves_both_ends_at_one_now() {
        let now = utc("2024-03-31T14:25:36Z");
        let span = TimeSpan::parse("-7d@d", "now", now).unwrap();
        assert_eq!(span.start(), utc("2024-03-24T00:00:00Z"));
        assert_eq!(span.end(), now);
        assert_eq!(
            span.duration(),
            TimeDelta::seconds(7 * 86_400 + 14 * 3600 + 25 * 60 + 36)
        );
        assert!(matches!(
            TimeSpan::parse("now", "-1d", now),
            Err(TimeError::StartAfterEnd { .. })
        ));
        assert!(matches!(
            TimeSpan::parse("-1q", "now", now),
            Err(TimeError::UnknownUnit { .. })
        ));
    }

    #[test]
    fn split_into_whole_days() {
        let days = span("2024-01-01T00:00:00Z", "2024-01-04T00:00:00Z")
            .split(Period::parse("1D").unwrap());
        assert_eq!(
            bounds(days),
            [
                ("2024-01-01T00:00:00+00:00", "2024-01-02T00:00:00+00:00"),
                ("2024-01-02T00:00:00+00:00", "2024-01-03T00:00:00+00:00"),
                ("2024-01-03T00:00:00+00:00", "2024-01-04T00:00:00+00:00"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn the_last_range_is_clipped_to_the_end() {
        let parts = span("2024-01-01T06:00:00Z", "2024-01-02T08:30:00Z")
            .split(Period::parse("12H").unwrap());
        assert_eq!(
            bounds(parts),
            [
                ("2024-01-01T06:00:00+00:00", "2024-01-01T18:00:00+00:00"),
                ("2024-01-01T18:00:00+00:00", "2024-01-02T06:00:00+00:00"),
                ("2024-01-02T06:00:00+00:00", "2024-01-02T08:30:00+00:00"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn a_period_longer_than_the_span_gives_the_span() {
        let whole = span("2024-01-01T00:00:00Z", "2024-01-01T00:10:00Z");
        assert_eq!(
            whole
                .split(Period::parse("1D").unwrap())
                .collect::<Vec<_>>(),
            [whole]
        );
    }

    #[test]
    fn an_empty_span_gives_one_empty_range() {
        let empty = span("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z");
        assert_eq!(
            empty
                .split(Period::parse("1H").unwrap())
                .collect::<Vec<_>>(),
            [empty]
        );
    }

    #[test]
    fn ranges_are_consecutive_and_cover_the_span() {
        let whole = span("2024-01-01T00:00:00.5Z", "2024-01-03T07:00:01Z");
        let parts: Vec<_> = whole.split(Period::parse("7h13m").unwrap()).collect();
        assert_eq!(parts.first().unwrap().start(), whole.start());
        assert_eq!(parts.last().unwrap().end(), whole.end());
        for pair in parts.windows(2) {
            assert_eq!(pair[0].end(), pair[1].start());
            assert_eq!(pair[0].duration(), TimeDelta::minutes(7 * 60 + 13));
        }
        assert_eq!(parts.len(), 8);
    }

    #[test]
    fn splitting_is_lazy() {
        let year = span("2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z");
        let mut parts = year.split(Period::parse("1ns").unwrap());
        assert_eq!(
            parts.nth(1_000).unwrap().start(),
            utc("2024-01-01T00:00:00.000001Z")
        );
    }
}
