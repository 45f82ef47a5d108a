//! Impossible travel: consecutive sign-ins of one user too far apart for the time
//! between them.
//!
//! Each user's successful sign-ins with coordinates are taken in time order. A *hop*
//! is a pair of consecutive sign-ins at least `min_distance_km` apart (closer ones are
//! within GeoIP's error) at a speed above `max_speed_km_h` (faster than an airliner).
//! Hops of one user less than `window` apart make one finding, whose evidence is the
//! user's sign-ins from the first hop's start to the last hop's end. One hop is
//! Medium; more (the account used from both places by turns) is High.
//!
//! Coordinates come from the table (`Latitude`, `Longitude`); the faces fill them
//! from GeoIP when the table has none.
use std::collections::HashMap;

use arrow_array::RecordBatch;

use super::{human_duration, pick_column, Finding, Severity};
use crate::columns;
use crate::AnalysisError;

const HOUR: i64 = 3_600_000_000_000;
/// The mean Earth radius (IUGG), in km.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// What [`impossible_travel`] reads and how sensitive it is. Columns left `None` are
/// found by their usual names.
#[derive(Debug, Clone)]
pub struct ImpossibleTravelOptions {
    pub time_column: String,
    /// `UserPrincipalName`, `UserId`, `TargetUserName`, `Account`.
    pub user_column: Option<String>,
    pub latitude_column: String,
    pub longitude_column: String,
    /// A place name for the reason (optional): `City`, `Location`, `CountryCode`.
    pub place_column: Option<String>,
    /// The outcome (optional): `ResultType`; only successful sign-ins count.
    pub result_column: Option<String>,
    pub success_values: Vec<String>,
    pub max_speed_km_h: f64,
    pub min_distance_km: f64,
    /// Hops of one user closer than this (nanoseconds) are one finding.
    pub window: i64,
}

impl Default for ImpossibleTravelOptions {
    fn default() -> Self {
        ImpossibleTravelOptions {
            time_column: "TimeGenerated".into(),
            user_column: None,
            latitude_column: "Latitude".into(),
            longitude_column: "Longitude".into(),
            place_column: None,
            result_column: None,
            success_values: vec!["0".into()],
            max_speed_km_h: 1000.0,
            min_distance_km: 500.0,
            window: 24 * HOUR,
        }
    }
}

/// The great-circle distance between two points given in degrees, in km.
pub fn haversine_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = (p2 - p1, (lon2 - lon1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

struct Hop {
    from: usize,
    to: usize,
    km: f64,
    nanos: i64,
}

/// Finds sign-ins of one user from places too far apart for the time between them.
pub fn impossible_travel(
    batch: &RecordBatch,
    o: &ImpossibleTravelOptions,
) -> Result<Vec<Finding>, AnalysisError> {
    if !(o.max_speed_km_h > 0.0 && o.min_distance_km >= 0.0 && o.window >= 0) {
        return Err(AnalysisError::Invalid(
            "max_speed_km_h must be positive, min_distance_km and window not negative".into(),
        ));
    }
    let user = pick_column(
        batch,
        o.user_column.as_deref(),
        "user",
        &["UserPrincipalName", "UserId", "TargetUserName", "Account"],
    )?;
    let place = match pick_column(
        batch,
        o.place_column.as_deref(),
        "place",
        &["City", "Location", "CountryCode"],
    ) {
        Ok(name) => Some(columns::texts(batch, &name)?),
        Err(e) if o.place_column.is_some() => return Err(e),
        Err(_) => None,
    };
    let succeeded: Vec<bool> = match pick_column(
        batch,
        o.result_column.as_deref(),
        "outcome",
        &["ResultType"],
    ) {
        Ok(name) => columns::texts(batch, &name)?
            .iter()
            .map(|v| v.as_ref().is_some_and(|v| o.success_values.contains(v)))
            .collect(),
        Err(e) if o.result_column.is_some() => return Err(e),
        Err(_) => vec![true; batch.num_rows()],
    };
    let times = columns::times(batch, &o.time_column)?;
    let users = columns::texts(batch, &user)?;
    let lat = columns::numbers(batch, &o.latitude_column)?;
    let lon = columns::numbers(batch, &o.longitude_column)?;
    let at = |row: usize| (lat[row].unwrap_or_default(), lon[row].unwrap_or_default());
    let time = |row: usize| times[row].unwrap_or_default();

    let mut by_user: HashMap<&str, Vec<usize>> = HashMap::new();
    for row in 0..batch.num_rows() {
        let located = lat[row].is_some_and(f64::is_finite) && lon[row].is_some_and(f64::is_finite);
        if let (Some(u), Some(_), true, true) =
            (users[row].as_deref(), times[row], located, succeeded[row])
        {
            by_user.entry(u).or_default().push(row);
        }
    }
    let name = |row: usize| match place
        .as_ref()
        .and_then(|p| p[row].as_deref())
        .filter(|p| !p.is_empty())
    {
        Some(p) => p.to_string(),
        None => format!("({:.2}, {:.2})", at(row).0, at(row).1),
    };
    let mut findings = Vec::new();
    for (who, mut rows) in by_user {
        rows.sort_by_key(|&r| (time(r), r));
        let hops: Vec<(usize, Hop)> = rows
            .windows(2)
            .enumerate()
            .filter_map(|(i, pair)| {
                let hop = Hop {
                    from: pair[0],
                    to: pair[1],
                    km: haversine_km(at(pair[0]), at(pair[1])),
                    nanos: time(pair[1]) - time(pair[0]),
                };
                let hours = hop.nanos as f64 / HOUR as f64;
                (hop.km >= o.min_distance_km && hop.km > o.max_speed_km_h * hours)
                    .then_some((i, hop))
            })
            .collect();
        for trip in hops.chunk_by(|(_, a), (_, b)| time(b.from) - time(a.to) <= o.window) {
            let (first, last) = (&trip[0], &trip[trip.len() - 1]);
            let legs: Vec<String> = trip
                .iter()
                .map(|(_, h)| {
                    let speed = match h.nanos {
                        0 => "at the same time".to_string(),
                        n => format!("{:.0} km/h", h.km / (n as f64 / HOUR as f64)),
                    };
                    format!(
                        "{} -> {}, {:.0} km in {} ({speed})",
                        name(h.from),
                        name(h.to),
                        h.km,
                        human_duration(h.nanos)
                    )
                })
                .collect();
            findings.push((
                time(first.1.from),
                Finding {
                    detection: "impossible travel",
                    severity: if trip.len() > 1 {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    reason: format!("{who}: {}", legs.join("; ")),
                    rows: rows[first.0..=last.0 + 1].to_vec(),
                },
            ));
        }
    }
    findings.sort_by_key(|(first, f)| (*first, f.rows[0]));
    Ok(findings.into_iter().map(|(_, f)| f).collect())
}

#[cfg(test)]
mod tests {
    use super::super::tests::table;
    use super::*;

    const LONDON: Place = ("London", "51.5072", "-0.1276");
    const MANCHESTER: Place = ("Manchester", "53.4808", "-2.2426");
    const SYDNEY: Place = ("Sydney", "-33.8688", "151.2093");

    type Place = (&'static str, &'static str, &'static str);
    /// Time (s), user, place (city, latitude, longitude), result.
    type SignIn = (i64, &'static str, Place, &'static str);

    fn signins(rows: &[SignIn]) -> RecordBatch {
        let col = |f: fn(&SignIn) -> &'static str| rows.iter().map(f).collect::<Vec<_>>();
        let times: Vec<i64> = rows.iter().map(|r| r.0).collect();
        table(
            &times,
            &[
                ("UserPrincipalName", col(|r| r.1)),
                ("City", col(|r| r.2 .0)),
                ("Latitude", col(|r| r.2 .1)),
                ("Longitude", col(|r| r.2 .2)),
                ("ResultType", col(|r| r.3)),
            ],
        )
    }

    #[test]
    fn haversine_matches_known_distances() {
        let d = haversine_km((51.5072, -0.1276), (-33.8688, 151.2093));
        assert!((d - 16_994.0).abs() < 10.0, "{d}");
        assert_eq!(haversine_km((10.0, 20.0), (10.0, 20.0)), 0.0);
    }

    #[test]
    fn london_then_sydney_in_forty_minutes_is_found_with_both_rows() {
        let t = signins(&[
            (0, "carol", LONDON, "0"),
            (2400, "carol", SYDNEY, "0"),
            (2640, "carol", SYDNEY, "0"),
            (0, "bob", LONDON, "0"),
        ]);
        let f = impossible_travel(&t, &ImpossibleTravelOptions::default()).unwrap();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rows, [0, 1]);
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(
            f[0].reason,
            "carol: London -> Sydney, 16994 km in 40m 0s (25491 km/h)"
        );
    }

    #[test]
    fn going_back_and_forth_is_one_high_finding() {
        let t = signins(&[
            (0, "carol", LONDON, "0"),
            (2400, "carol", SYDNEY, "0"),
            (2640, "carol", SYDNEY, "0"),
            (9000, "carol", LONDON, "0"),
        ]);
        let f = impossible_travel(&t, &ImpossibleTravelOptions::default()).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].severity, f[0].rows.clone()),
            (Severity::High, vec![0, 1, 2, 3])
        );
    }

    #[test]
    fn near_places_failures_and_slow_trips_are_not_travel() {
        let t = signins(&[
            (0, "alice", LONDON, "0"),
            (300, "alice", MANCHESTER, "0"),
            (600, "alice", SYDNEY, "50126"),
            (100_000, "alice", SYDNEY, "0"),
        ]);
        assert!(impossible_travel(&t, &ImpossibleTravelOptions::default())
            .unwrap()
            .is_empty());
    }
}
