//! Brute force and password spraying: bursts of failed logons from one source.
//!
//! The failures from each source are split into bursts wherever two failures are more
//! than `max_gap` apart. A burst of at least `min_failures` failures is a finding: a
//! *password spray* when it tries at least `spray_accounts` accounts, a *brute force*
//! otherwise. A successful logon from the same source to one of the tried accounts,
//! during the burst or within `max_gap` after it, joins the evidence and makes the
//! finding High: the attacker is probably in.
//!
//! Windows logon events (4624 success, 4625 failure, other event IDs ignored) and Entra
//! ID sign-ins (`ResultType` "0" success, anything else a failure) are recognised from
//! their column names; other tables name their columns and outcome values.
use std::collections::{BTreeSet, HashMap};

use arrow_array::RecordBatch;

use super::{human_duration, pick_column, Finding, Severity};
use crate::columns;
use crate::AnalysisError;

const MINUTE: i64 = 60_000_000_000;

/// What [`brute_force`] reads and how sensitive it is. Columns left `None` are found
/// by their usual names.
#[derive(Debug, Clone)]
pub struct BruteForceOptions {
    pub time_column: String,
    /// Where the attempts come from: `IpAddress`, `IPAddress`, `SourceIP`, `ClientIP`.
    pub source_column: Option<String>,
    /// The account tried: `TargetUserName`, `UserPrincipalName`, `UserId`, `Account`.
    pub account_column: Option<String>,
    /// What was logged on to, for the reason: `Computer`, `AppDisplayName` (optional).
    pub target_column: Option<String>,
    /// The outcome: `EventID`, `ResultType`.
    pub result_column: Option<String>,
    /// Outcome values that mean success; `None`: "4624" for `EventID`, else "0".
    pub success_values: Option<Vec<String>>,
    /// Outcome values that mean failure; `None`: "4625" for `EventID`, else any value
    /// that is not a success. Rows that are neither are ignored.
    pub failure_values: Option<Vec<String>>,
    /// Failures further apart than this (nanoseconds) start a new burst.
    pub max_gap: i64,
    pub min_failures: usize,
    pub spray_accounts: usize,
}

impl Default for BruteForceOptions {
    fn default() -> Self {
        BruteForceOptions {
            time_column: "TimeGenerated".into(),
            source_column: None,
            account_column: None,
            target_column: None,
            result_column: None,
            success_values: None,
            failure_values: None,
            max_gap: 10 * MINUTE,
            min_failures: 20,
            spray_accounts: 5,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Success,
    Failure,
    Other,
}

/// Finds brute-force and password-spray bursts in a table of logons or sign-ins.
pub fn brute_force(
    batch: &RecordBatch,
    o: &BruteForceOptions,
) -> Result<Vec<Finding>, AnalysisError> {
    if o.min_failures == 0 || o.spray_accounts == 0 || o.max_gap <= 0 {
        return Err(AnalysisError::Invalid(
            "min_failures, spray_accounts and max_gap must be positive".into(),
        ));
    }
    let source = pick_column(
        batch,
        o.source_column.as_deref(),
        "source address",
        &["IpAddress", "IPAddress", "SourceIP", "ClientIP"],
    )?;
    let account = pick_column(
        batch,
        o.account_column.as_deref(),
        "account",
        &["TargetUserName", "UserPrincipalName", "UserId", "Account"],
    )?;
    let result = pick_column(
        batch,
        o.result_column.as_deref(),
        "logon outcome",
        &["EventID", "ResultType"],
    )?;
    let target = match pick_column(
        batch,
        o.target_column.as_deref(),
        "target",
        &["Computer", "AppDisplayName"],
    ) {
        Ok(name) => Some(columns::texts(batch, &name)?),
        Err(e) if o.target_column.is_some() => return Err(e),
        Err(_) => None,
    };
    let windows = result == "EventID";
    let success = o
        .success_values
        .clone()
        .unwrap_or_else(|| vec![if windows { "4624" } else { "0" }.to_string()]);
    let failure = o
        .failure_values
        .clone()
        .or_else(|| windows.then(|| vec!["4625".to_string()]));
    let outcomes: Vec<Outcome> = columns::texts(batch, &result)?
        .iter()
        .map(|v| match v.as_deref() {
            None => Outcome::Other,
            Some(v) if success.iter().any(|s| s == v) => Outcome::Success,
            Some(v) if failure.as_ref().is_none_or(|f| f.iter().any(|s| s == v)) => {
                Outcome::Failure
            }
            Some(_) => Outcome::Other,
        })
        .collect();
    let times = columns::times(batch, &o.time_column)?;
    let sources = columns::texts(batch, &source)?;
    let accounts = columns::texts(batch, &account)?;

    let mut by_source: HashMap<&str, Vec<usize>> = HashMap::new();
    for (row, s) in sources.iter().enumerate() {
        match (s.as_deref(), times[row]) {
            (Some(s), Some(_)) if !s.is_empty() && s != "-" && outcomes[row] != Outcome::Other => {
                by_source.entry(s).or_default().push(row)
            }
            _ => {}
        }
    }
    let time = |row: usize| times[row].unwrap_or_default();
    let mut findings = Vec::new();
    for (src, mut rows) in by_source {
        rows.sort_by_key(|&r| (time(r), r));
        let failures: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&r| outcomes[r] == Outcome::Failure)
            .collect();
        for burst in failures.chunk_by(|&a, &b| time(b) - time(a) <= o.max_gap) {
            if burst.len() < o.min_failures {
                continue;
            }
            let (first, last) = (time(burst[0]), time(burst[burst.len() - 1]));
            let tried: BTreeSet<&str> = burst
                .iter()
                .filter_map(|&r| accounts[r].as_deref())
                .collect();
            let successes: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| {
                    outcomes[r] == Outcome::Success
                        && (first..=last + o.max_gap).contains(&time(r))
                        && accounts[r].as_deref().is_some_and(|a| tried.contains(a))
                })
                .collect();
            let mut evidence: Vec<usize> = burst.iter().chain(&successes).copied().collect();
            evidence.sort_by_key(|&r| (time(r), r));
            let spray = tried.len() >= o.spray_accounts;
            let targets: BTreeSet<&str> = target
                .iter()
                .flat_map(|t| burst.iter().filter_map(|&r| t[r].as_deref()))
                .collect();
            let on = match targets.is_empty() {
                true => String::new(),
                false => format!(" on {}", name_some(&targets, "target")),
            };
            let mut reason = format!(
                "{} failed logons for {}{on} from {src} in {}",
                burst.len(),
                name_some(&tried, "account"),
                human_duration(last - first)
            );
            if !successes.is_empty() {
                let won: BTreeSet<&str> = successes
                    .iter()
                    .filter_map(|&r| accounts[r].as_deref())
                    .collect();
                reason.push_str(&format!(
                    ", then a successful logon as {}",
                    won.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
            findings.push((
                first,
                Finding {
                    detection: if spray {
                        "password spray"
                    } else {
                        "brute force"
                    },
                    severity: if successes.is_empty() {
                        Severity::Medium
                    } else {
                        Severity::High
                    },
                    reason,
                    rows: evidence,
                },
            ));
        }
    }
    findings.sort_by_key(|(first, f)| (*first, f.rows[0]));
    Ok(findings.into_iter().map(|(_, f)| f).collect())
}

/// `svc_sql` for one, `8 accounts (admin, administrator, backup, ...)` for many.
fn name_some(names: &BTreeSet<&str>, what: &str) -> String {
    const SHOWN: usize = 5;
    match names.len() {
        1 => names.iter().next().unwrap_or(&"").to_string(),
        n => {
            let mut shown: Vec<&str> = names.iter().take(SHOWN).copied().collect();
            if n > SHOWN {
                shown.push("...");
            }
            format!("{n} {what}s ({})", shown.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::table;
    use super::*;

    /// Failed logons every 5 s from one address over `accounts`, then a success.
    fn spray(
        accounts: &[&'static str],
        n: usize,
        success_after: Option<i64>,
    ) -> (Vec<i64>, Vec<(&'static str, Vec<&'static str>)>) {
        let mut times = Vec::new();
        let (mut ip, mut user, mut id) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            times.push(1000 + 5 * i as i64);
            ip.push("198.51.100.23");
            user.push(accounts[i % accounts.len()]);
            id.push("4625");
        }
        if let Some(after) = success_after {
            times.push(1000 + 5 * n as i64 + after);
            ip.push("198.51.100.23");
            user.push(accounts[0]);
            id.push("4624");
        }
        // Background: an ordinary user failing twice and succeeding, elsewhere.
        for (t, e) in [(50, "4625"), (60, "4625"), (70, "4624"), (80, "4634")] {
            times.push(t);
            ip.push("10.0.1.5");
            user.push("alice");
            id.push(e);
        }
        (
            times,
            vec![
                ("IpAddress", ip),
                ("TargetUserName", user),
                ("EventID", id),
                (
                    "Computer",
                    vec!["SRV-DB01"; n + 4 + success_after.is_some() as usize],
                ),
            ],
        )
    }

    #[test]
    fn a_spray_followed_by_a_success_is_high_with_the_success_in_evidence() {
        let (times, cols) = spray(
            &["admin", "sa", "backup", "guest", "test", "svc_sql"],
            30,
            Some(60),
        );
        let f = brute_force(&table(&times, &cols), &BruteForceOptions::default()).unwrap();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].detection, "password spray");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].rows.len(), 31);
        assert_eq!(*f[0].rows.last().unwrap(), 30, "the success comes last");
        assert_eq!(
            f[0].reason,
            "30 failed logons for 6 accounts (admin, backup, guest, sa, svc_sql, ...) on SRV-DB01 from 198.51.100.23 in 2m 25s, then a successful logon as admin"
        );
    }

    #[test]
    fn one_account_is_brute_force_and_a_late_success_does_not_count() {
        let (times, cols) = spray(&["admin"], 25, Some(11 * 60));
        let f = brute_force(&table(&times, &cols), &BruteForceOptions::default()).unwrap();
        assert_eq!(
            (f.len(), f[0].detection, f[0].severity),
            (1, "brute force", Severity::Medium)
        );
        assert_eq!(f[0].rows.len(), 25);
    }

    #[test]
    fn bursts_split_at_the_gap_and_small_ones_are_ignored() {
        let (mut times, cols) = spray(&["admin", "sa"], 30, None);
        // A 15-minute pause after the 15th attempt: two bursts of 15, each too small.
        for t in times.iter_mut().skip(15).take(15) {
            *t += 15 * 60;
        }
        let f = brute_force(&table(&times, &cols), &BruteForceOptions::default()).unwrap();
        assert!(f.is_empty(), "{f:?}");
        let o = BruteForceOptions {
            min_failures: 15,
            ..Default::default()
        };
        assert_eq!(brute_force(&table(&times, &cols), &o).unwrap().len(), 2);
    }

    #[test]
    fn sign_ins_read_result_type_and_user_principal_name() {
        let times: Vec<i64> = (0..20).collect();
        let t = table(
            &times,
            &[
                ("IPAddress", vec!["45.142.120.9"; 20]),
                ("UserPrincipalName", vec!["carol@contoso.com"; 20]),
                ("ResultType", vec!["50126"; 20]),
            ],
        );
        let f = brute_force(&t, &BruteForceOptions::default()).unwrap();
        assert_eq!(
            f[0].reason,
            "20 failed logons for carol@contoso.com from 45.142.120.9 in 19s"
        );
    }

    #[test]
    fn missing_columns_say_which_names_were_looked_for() {
        let t = table(&[0], &[("Who", vec!["x"])]);
        let e = brute_force(&t, &BruteForceOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("IpAddress, IPAddress, SourceIP, ClientIP"),
            "{e}"
        );
    }
}
