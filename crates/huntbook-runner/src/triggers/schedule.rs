//! Cron schedules: a notebook run at the times a cron pattern names, in a time zone.
//!
//! ```yaml
//! schedules:
//!   - cron: "0 6 * * 1-5"         # minute hour day month weekday (a leading seconds field is allowed)
//!     timezone: Europe/London     # IANA name; UTC when left out
//!     missed: latest              # skip | latest | all: runs missed while the service was down
//!     parameters: {host_name: WORKSTATION1}
//! ```
//!
//! Times are matched on the zone's wall clock, so `0 6 * * *` in Europe/London is
//! 06:00 in winter and in summer alike. Across daylight-saving changes the pattern
//! library's rules apply: a wall time skipped when clocks go forward fires once, at
//! the first instant after the gap; a wall time that happens twice when clocks go back
//! fires once, the first time.
//!
//! Each schedule keeps a durable mark in the store: the time up to which its fire
//! times were handled. A round fires the times after the mark up to now, as the
//! `missed` policy says, then moves the mark to now. A schedule seen for the first
//! time starts from now: it does not run for times before the service knew it. The
//! job of a fire time has the key `schedule:<notebook>:<index>:<fire time UTC>`, so two
//! servers on one store fire it once between them, and a crash between the enqueue
//! and the mark's move fires nothing twice.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use croner::Cron;
use huntbook_core::config::{Kind, Value};
use tokio::sync::watch;

use super::{pause, report, Context, SubmitError};
use crate::config::{describe, Problems};
use crate::error::StoreError;
use crate::model::TriggerKind;

/// A run missed by more than this when its round came counts as missed (the
/// service was down or stalled), not merely late.
const ON_TIME: chrono::Duration = chrono::Duration::seconds(60);
/// `missed: all` fires at most this many missed times (the latest ones).
pub const MAX_CATCH_UP: usize = 100;
/// The longest wait between rounds: a changed system clock is noticed within it.
const MAX_WAIT: Duration = Duration::from_secs(30);

const KEYS: &[&str] = &["cron", "timezone", "missed", "parameters"];

/// What to do, when a round comes, with fire times that passed while the service
/// was not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// Run none of them.
    Skip,
    /// Run the latest one only.
    Latest,
    /// Run each of them (at most [`MAX_CATCH_UP`]).
    All,
}

impl FromStr for Missed {
    type Err = String;

    fn from_str(text: &str) -> Result<Missed, String> {
        match text {
            "skip" => Ok(Missed::Skip),
            "latest" => Ok(Missed::Latest),
            "all" => Ok(Missed::All),
            other => Err(format!("expected skip, latest or all, found {other:?}")),
        }
    }
}

/// One schedule of one notebook.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The notebook it runs.
    pub notebook: String,
    /// Its place in the notebook's `schedules` list (its identity in keys).
    pub index: usize,
    /// The cron pattern as written.
    pub pattern: String,
    cron: Cron,
    /// The time zone whose wall clock the pattern reads.
    pub zone: Tz,
    /// The missed-run policy.
    pub missed: Missed,
    /// The parameters of each run.
    pub parameters: serde_json::Map<String, serde_json::Value>,
    at: String,
    /// An empty value carrying where the schedule was written, for later problems.
    written: Value,
}

impl Schedule {
    /// The schedules of one notebook's `schedules` list; mistakes go to `problems`.
    pub(crate) fn read_all(
        notebook: &str,
        at: &str,
        value: &Value,
        problems: &mut Problems,
    ) -> Vec<Schedule> {
        let Kind::List(items) = &value.kind else {
            problems.error(
                at,
                value,
                format!(
                    "expected a list of schedules (`- cron: \"0 6 * * *\"`), found {}",
                    value.type_name()
                ),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| {
                Schedule::read(notebook, index, &format!("{at}[{index}]"), item, problems)
            })
            .collect()
    }

    fn read(
        notebook: &str,
        index: usize,
        at: &str,
        value: &Value,
        problems: &mut Problems,
    ) -> Option<Schedule> {
        if value.entries().is_none() {
            problems.error(at, value, "expected a mapping with a `cron` pattern");
            return None;
        }
        problems.unknown_keys(at, value, KEYS);
        let setting = |key: &str| value.get(key).filter(|v| !v.is_null());
        let Some(pattern_value) = setting("cron") else {
            problems.error(
                at,
                value,
                "a schedule needs a `cron` pattern such as \"0 6 * * 1-5\"",
            );
            return None;
        };
        let pattern = pattern_value.scalar_text().unwrap_or_default();
        let cron = match Cron::new(&pattern).with_seconds_optional().parse() {
            Ok(cron) => Some(cron),
            Err(e) => {
                problems.error(
                    &format!("{at}.cron"),
                    pattern_value,
                    format!(
                        "{pattern:?} is not a cron pattern ({e}); write minute hour day-of-month month day-of-week, e.g. \"0 6 * * 1-5\""
                    ),
                );
                None
            }
        };
        let zone = match setting("timezone") {
            None => Some(Tz::UTC),
            Some(zone) => {
                let parsed = zone.as_str().and_then(|name| name.parse::<Tz>().ok());
                if parsed.is_none() {
                    problems.error(
                        &format!("{at}.timezone"),
                        zone,
                        format!(
                            "{} is not an IANA time zone name such as Europe/London or UTC",
                            describe(zone)
                        ),
                    );
                }
                parsed
            }
        };
        let missed = match setting("missed") {
            None => Some(Missed::Latest),
            Some(missed) => match missed.as_str().unwrap_or_default().parse() {
                Ok(policy) => Some(policy),
                Err(message) => {
                    problems.error(&format!("{at}.missed"), missed, message);
                    None
                }
            },
        };
        let parameters = match setting("parameters").map(|p| (p, p.to_json())) {
            None => Some(serde_json::Map::new()),
            Some((_, serde_json::Value::Object(map))) => Some(map),
            Some((value, _)) => {
                problems.error(
                    &format!("{at}.parameters"),
                    value,
                    "expected a mapping of parameter names to values",
                );
                None
            }
        };
        Some(Schedule {
            notebook: notebook.to_owned(),
            index,
            pattern,
            cron: cron?,
            zone: zone?,
            missed: missed?,
            parameters: parameters?,
            at: at.to_owned(),
            written: Value::new(Kind::Null, value.origin.clone()),
        })
    }

    /// Check its parameters as each of its requests will be, so that a schedule
    /// refused every time is reported before the service starts.
    pub(crate) fn check(&self, context: &Context, problems: &mut Problems) {
        let checked = context.service.job(
            &self.notebook,
            TriggerKind::Scheduled,
            self.parameters.clone(),
            &context.scrubber,
        );
        if let Err(e) = checked {
            problems.error(
                &format!("{}.parameters", self.at),
                &self.written,
                e.to_string(),
            );
        }
    }

    /// The key of its mark in the store.
    pub fn mark_key(&self) -> String {
        format!("schedule:{}:{}", self.notebook, self.index)
    }

    /// The idempotency key of its run at `fire`.
    pub fn job_key(&self, fire: DateTime<Utc>) -> String {
        format!(
            "{}:{}",
            self.mark_key(),
            fire.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.zone), false)
            .ok()
            .map(|next| next.with_timezone(&Utc))
    }

    /// The fire times to run now: those after `mark` and up to `now`, chosen by the
    /// missed policy, oldest first. A time at most a minute old is on time, not
    /// missed, and runs under every policy.
    pub fn due(&self, mark: DateTime<Utc>, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let limit = match self.missed {
            Missed::All => MAX_CATCH_UP,
            Missed::Skip | Missed::Latest => 1,
        };
        let mut passed = self.latest(mark, now, limit);
        if self.missed == Missed::Skip {
            passed.retain(|fire| now - *fire <= ON_TIME);
        }
        passed
    }

    /// At most `limit` fire times after `mark` and up to `now`, the latest ones,
    /// oldest first. The pattern library searches forward only, so the search starts
    /// a minute before `now` and doubles its reach back until it holds `limit` times
    /// or reaches `mark`: a long outage costs a few searches, not a walk over every
    /// fire time since.
    fn latest(&self, mark: DateTime<Utc>, now: DateTime<Utc>, limit: usize) -> Vec<DateTime<Utc>> {
        let mut reach = chrono::Duration::minutes(1);
        loop {
            let from = (now - reach).max(mark);
            let mut found = Vec::new();
            let mut t = from;
            while let Some(next) = self.next_after(t).filter(|next| *next <= now) {
                found.push(next);
                t = next;
            }
            if found.len() >= limit || from == mark {
                let skip = found.len().saturating_sub(limit);
                return found.split_off(skip);
            }
            reach = reach * 2;
        }
    }
}

/// Fires every schedule of the catalogue, one round at a time.
pub struct Scheduler {
    context: Context,
    schedules: Vec<Schedule>,
}

impl Scheduler {
    pub fn new(context: Context, schedules: Vec<Schedule>) -> Scheduler {
        Scheduler { context, schedules }
    }

    /// One round at the store clock's now: enqueue what is due for each schedule and
    /// move its mark; how long until the next fire time (at most 30 s). A schedule
    /// whose store call fails keeps its mark and is tried again next round.
    pub async fn round(&self) -> Duration {
        let now = self.context.now();
        for schedule in &self.schedules {
            if let Err(e) = self.fire(schedule, now).await {
                report(
                    &format!("schedule {}", schedule.mark_key()),
                    format!("{e}; trying again next round"),
                );
            }
        }
        self.schedules
            .iter()
            .filter_map(|s| s.next_after(now))
            .min()
            .and_then(|next| (next - now).to_std().ok())
            .map_or(MAX_WAIT, |wait| wait.min(MAX_WAIT))
    }

    async fn fire(&self, schedule: &Schedule, now: DateTime<Utc>) -> Result<(), StoreError> {
        let store = &self.context.store;
        let key = schedule.mark_key();
        let Some(mark) = store.trigger_mark(&key).await? else {
            store.advance_trigger_mark(&key, now).await?;
            return Ok(());
        };
        for fire in schedule.due(mark, now) {
            let submitted = self
                .context
                .submit(
                    &schedule.notebook,
                    TriggerKind::Scheduled,
                    schedule.parameters.clone(),
                    schedule.job_key(fire),
                )
                .await;
            match submitted {
                Ok(_) => {}
                // A refused request stays refused: report it and go on.
                Err(SubmitError::Refused(e)) => report(
                    &format!("schedule {}", schedule.job_key(fire)),
                    format!("not run: {e}"),
                ),
                Err(SubmitError::Store(e)) => return Err(e),
            }
        }
        store.advance_trigger_mark(&key, now).await?;
        Ok(())
    }

    /// Run rounds until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow_and_update() {
            let wait = self.round().await;
            if !pause(&mut shutdown, wait).await {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::tests::{on_both_stores, Fixture, Kind};
    use crate::triggers::testing::{jobs_by_key, probe, problems_of, service_with, Probe};
    use crate::{Clock, JobFilter};

    fn schedule(yaml: &str) -> Schedule {
        let service = service_with(&format!("    schedules:\n{yaml}"));
        let mut problems = Problems::default();
        let value = service.notebooks["probe"]
            .settings
            .get("schedules")
            .unwrap();
        let mut all = Schedule::read_all("probe", "schedules", value, &mut problems);
        assert!(problems.0.is_empty(), "{:?}", problems.0);
        all.remove(0)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn wall_clock_times_hold_across_daylight_saving_changes() {
        let daily = schedule("      - cron: \"0 6 * * *\"\n        timezone: Europe/London\n");
        // 06:00 in London is 06:00 UTC in winter, 05:00 UTC in summer (from 29 March 2026).
        assert_eq!(
            daily.next_after(utc(2026, 3, 28, 7, 0)),
            Some(utc(2026, 3, 29, 5, 0))
        );
        assert_eq!(
            daily.next_after(utc(2026, 10, 24, 6, 0)),
            Some(utc(2026, 10, 25, 6, 0))
        );

        // 01:30 does not exist on 29 March 2026 in London (01:00 -> 02:00): it fires
        // once, right after the gap, and the next day at 01:30 BST again.
        let gap = schedule("      - cron: \"30 1 * * *\"\n        timezone: Europe/London\n");
        let first = gap.next_after(utc(2026, 3, 28, 12, 0)).unwrap();
        assert_eq!(first, utc(2026, 3, 29, 1, 0));
        assert_eq!(gap.next_after(first), Some(utc(2026, 3, 30, 0, 30)));

        // 01:30 happens twice on 25 October 2026 (02:00 BST -> 01:00 GMT): once only.
        let first = gap.next_after(utc(2026, 10, 24, 12, 0)).unwrap();
        assert_eq!(first, utc(2026, 10, 25, 0, 30));
        assert_eq!(gap.next_after(first), Some(utc(2026, 10, 26, 1, 30)));
    }

    #[test]
    fn each_missed_policy_picks_its_times() {
        let hourly = |policy: &str| {
            schedule(&format!(
                "      - cron: \"0 * * * *\"\n        missed: {policy}\n"
            ))
        };
        let mark = utc(2026, 11, 28, 9, 30);
        // Down from 09:30 to 13:00:20: 10:00, 11:00, 12:00 missed, 13:00 on time.
        let now = utc(2026, 11, 28, 13, 0) + chrono::Duration::seconds(20);
        let hours = |hs: &[u32]| -> Vec<DateTime<Utc>> {
            hs.iter().map(|h| utc(2026, 11, 28, *h, 0)).collect()
        };
        assert_eq!(hourly("all").due(mark, now), hours(&[10, 11, 12, 13]));
        assert_eq!(hourly("latest").due(mark, now), hours(&[13]));
        assert_eq!(hourly("skip").due(mark, now), hours(&[13]));
        // At 13:30 the 13:00 run is missed too: skip runs nothing, latest runs 13:00.
        let later = utc(2026, 11, 28, 13, 30);
        assert_eq!(hourly("skip").due(mark, later), hours(&[]));
        assert_eq!(hourly("latest").due(mark, later), hours(&[13]));
        // Nothing is due twice.
        assert_eq!(hourly("all").due(later, later), hours(&[]));
        // A long outage fires at most MAX_CATCH_UP runs, the latest ones.
        let week = hourly("all").due(mark - chrono::Duration::days(7), now);
        assert_eq!(week.len(), MAX_CATCH_UP);
        assert_eq!(week.last(), Some(&utc(2026, 11, 28, 13, 0)));
        // Sparse and dense patterns alike: the search reaches back as far as needed.
        let yearly = schedule("      - cron: \"0 0 1 1 *\"\n        missed: latest\n");
        assert_eq!(
            yearly.due(utc(2023, 6, 1, 0, 0), now),
            [utc(2026, 1, 1, 0, 0)]
        );
        let seconds = schedule("      - cron: \"*/10 * * * * *\"\n        missed: all\n");
        let burst = seconds.due(mark - chrono::Duration::days(30), now);
        assert_eq!(burst.len(), MAX_CATCH_UP);
        assert_eq!(burst.last(), Some(&now));
    }

    #[test]
    fn bad_settings_are_reported_with_their_line() {
        let problems = problems_of(
            "    schedules:\n      - cron: \"0 6 * *\"\n        timezone: Mars/Olympus\n        missed: some\n        paramters: {}\n      - timezone: UTC\n",
        );
        let has = |key: &str, line: usize, words: &str| {
            problems.iter().any(|p| {
                p.key == key
                    && p.to_string().contains(&format!("huntbook.yaml:{line}"))
                    && p.message.contains(words)
            })
        };
        assert!(
            has(
                "Notebooks.probe.schedules[0].cron",
                5,
                "\"0 6 * *\" is not a cron pattern"
            ),
            "{problems:#?}"
        );
        assert!(
            has("Notebooks.probe.schedules[0].timezone", 6, "IANA"),
            "{problems:#?}"
        );
        assert!(
            has(
                "Notebooks.probe.schedules[0].missed",
                7,
                "skip, latest or all"
            ),
            "{problems:#?}"
        );
        assert!(
            has(
                "Notebooks.probe.schedules[0].paramters",
                8,
                "unknown setting"
            ),
            "{problems:#?}"
        );
        assert!(
            has("Notebooks.probe.schedules[1]", 9, "needs a `cron`"),
            "{problems:#?}"
        );
    }

    on_both_stores!(
        two_schedulers_on_one_store_fire_once,
        missed_runs_after_downtime_follow_the_policy
    );

    async fn scheduler(f: &Fixture, probe: &Probe) -> Scheduler {
        let schedules = crate::triggers::Triggers::from_service(&probe.service)
            .unwrap()
            .schedules;
        Scheduler::new(probe.context(f).await, schedules)
    }

    async fn keys(scheduler: &Scheduler) -> Vec<String> {
        let jobs = jobs_by_key(&scheduler.context, TriggerKind::Scheduled).await;
        jobs.into_iter().map(|(key, _)| key).collect()
    }

    async fn two_schedulers_on_one_store_fire_once(f: Fixture) {
        let yaml = "      - cron: \"*/5 * * * *\"\n        parameters: {host_name: WS1}\n";
        f.clock.set(utc(2026, 11, 28, 9, 58));
        let catalogue = probe(&format!("    schedules:\n{yaml}"));
        let (a, b) = (
            scheduler(&f, &catalogue).await,
            scheduler(&f, &catalogue).await,
        );
        // The first rounds only set the mark: nothing before the start runs.
        a.round().await;
        b.round().await;
        assert!(keys(&a).await.is_empty());
        let wait = a.round().await;
        assert_eq!(wait, Duration::from_secs(30));
        f.clock
            .set(utc(2026, 11, 28, 10, 0) + chrono::Duration::seconds(1));
        // Both see 10:00 due (b's round runs as though it raced a's).
        let (_, _) = tokio::join!(a.round(), b.round());
        f.clock.advance(Duration::from_secs(300));
        b.round().await;
        a.round().await;
        assert_eq!(
            keys(&a).await,
            [
                "schedule:probe:0:2026-11-28T10:00:00Z",
                "schedule:probe:0:2026-11-28T10:05:00Z"
            ]
        );
        let job = &a.context.store.jobs(JobFilter::default()).await.unwrap()[0];
        assert_eq!(job.parameters["host_name"], "WS1");
    }

    async fn missed_runs_after_downtime_follow_the_policy(f: Fixture) {
        let yaml = "      - cron: \"0 * * * *\"\n        missed: all\n      - cron: \"30 * * * *\"\n        missed: latest\n      - cron: \"15 * * * *\"\n        missed: skip\n";
        f.clock.set(utc(2026, 11, 28, 8, 50));
        let catalogue = probe(&format!("    schedules:\n{yaml}"));
        let before = scheduler(&f, &catalogue).await;
        before.round().await;
        drop(before);
        // Down from 08:50 to 11:40; a new scheduler starts on the same store.
        f.clock.set(utc(2026, 11, 28, 11, 40));
        let after = scheduler(&f, &catalogue).await;
        after.round().await;
        assert_eq!(
            keys(&after).await,
            [
                "schedule:probe:0:2026-11-28T09:00:00Z",
                "schedule:probe:0:2026-11-28T10:00:00Z",
                "schedule:probe:0:2026-11-28T11:00:00Z",
                "schedule:probe:1:2026-11-28T11:30:00Z",
            ]
        );
        assert_eq!(
            f.clock.now(),
            after
                .context
                .store
                .trigger_mark("schedule:probe:2")
                .await
                .unwrap()
                .unwrap()
        );
    }
}
