//! Maps of located rows, as MSTICPy's `FoliumMap` / `plot_map` draws them, offline.
//!
//! Points come from a latitude and a longitude column; each is projected here to Web
//! Mercator (the projection of web map tiles: x from longitude, y stretched towards
//! the poles, both 0 to 1 across the world, latitudes clamped at ±85.0511°), so the
//! script only scales and shifts. The world outline shipped with the crate
//! (`assets/world.json`, Natural Earth land) is projected the same way once and
//! written into every map, so a map draws its coasts with no network request; tiles
//! are drawn only when a tile URL is given, and only then does the page fetch.
//!
//! The map opens on MSTICPy's centre (`get_map_center`: the median of the latitudes
//! and of the longitudes, or their mean) at the closest zoom that shows every point.
//! Markers are clustered by the script, per zoom level (a grid of cells on the
//! screen; a cluster shows its count and splits as you zoom in).

use std::sync::OnceLock;

use arrow_array::RecordBatch;
use huntbook_analysis::columns;
use serde_json::{json, Map, Value};

use crate::chart::Chart;
use crate::columns::{tooltips, Labels};
use crate::VisError;

const SCRIPT: &str = include_str!("../js/map.js");
const WORLD: &str = include_str!("../assets/world.json");

/// Projected points go out as integers: world units times this (sub-pixel up to the
/// script's deepest zoom, 2^16 tiles of 256 pixels).
const POINT_SCALE: f64 = 1e7;
/// The outline is coarse (1:110m), so it needs far fewer digits.
const OUTLINE_SCALE: f64 = 1e5;
/// Web Mercator's square world ends here.
const MAX_LATITUDE: f64 = 85.051_128_779_806_59;
/// Pixels of a map tile, the unit of zoom levels.
const TILE: f64 = 256.0;
/// Zoom levels a map opens at: 1 shows the world in 512 pixels; deeper than 12 is a
/// few streets, closer than any IP location is.
const ZOOMS: (u32, u32) = (1, 12);

/// How the map's centre is taken from the points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Centre {
    /// The median latitude and the median longitude (MSTICPy's default).
    #[default]
    Median,
    Mean,
}

impl std::str::FromStr for Centre {
    type Err = VisError;

    /// `"median"`, `"mean"`, and MSTICPy's `"modal"`, which it computes as the mean.
    fn from_str(s: &str) -> Result<Self, VisError> {
        match s {
            "median" => Ok(Centre::Median),
            "mean" | "modal" => Ok(Centre::Mean),
            other => Err(VisError::Invalid(format!(
                "center_mode '{other}' is not one of 'median', 'mean', 'modal'"
            ))),
        }
    }
}

/// What [`map`] draws and how.
#[derive(Debug, Clone)]
pub struct MapOptions {
    pub lat_column: String,
    pub long_column: String,
    /// One colour (and one entry in the legend, which hides and shows it) per value.
    pub layer_column: Option<String>,
    /// Columns shown when hovering a point.
    pub tooltip_columns: Vec<String>,
    /// Columns shown when clicking a point.
    pub popup_columns: Vec<String>,
    pub marker_cluster: bool,
    /// A tile URL with `{z}`, `{x}`, `{y}` (and optionally `{s}`): drawn under the
    /// outline; without it the map makes no request.
    pub tiles: Option<String>,
    /// The zoom the map opens at; by default the closest that shows every point.
    pub zoom_start: Option<u32>,
    /// The centre (latitude, longitude); by default from the points.
    pub location: Option<(f64, f64)>,
    pub center_mode: Centre,
    pub title: Option<String>,
    pub width: u32,
    pub height: u32,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            lat_column: "Latitude".into(),
            long_column: "Longitude".into(),
            layer_column: None,
            tooltip_columns: Vec::new(),
            popup_columns: Vec::new(),
            marker_cluster: true,
            tiles: None,
            zoom_start: None,
            location: None,
            center_mode: Centre::Median,
            title: None,
            width: 900,
            height: 500,
        }
    }
}

/// Web Mercator: (x, y) from 0 to 1, x east from longitude -180, y south from the
/// top of the square world.
pub fn project(lat: f64, lon: f64) -> (f64, f64) {
    let phi = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = 0.5 - (phi.tan() + 1.0 / phi.cos()).ln() / (2.0 * std::f64::consts::PI);
    (x, y)
}

/// The centre of the points as MSTICPy's `get_map_center` takes it: latitude and
/// longitude each on their own (median or mean); (0, 0) with no points.
pub fn centre(lats: &[f64], lons: &[f64], mode: Centre) -> (f64, f64) {
    let pick = |values: &[f64]| -> f64 {
        if values.is_empty() {
            return 0.0;
        }
        match mode {
            Centre::Mean => values.iter().sum::<f64>() / values.len() as f64,
            Centre::Median => {
                let mut v = values.to_vec();
                v.sort_by(f64::total_cmp);
                let mid = v.len() / 2;
                if v.len() % 2 == 1 {
                    v[mid]
                } else {
                    (v[mid - 1] + v[mid]) / 2.0
                }
            }
        }
    };
    (pick(lats), pick(lons))
}

/// The closest zoom (in [`ZOOMS`]) at which every projected point shows in a view of
/// `width` x `height` pixels centred on `at`, with a margin for the markers.
pub fn fit_zoom(points: &[(f64, f64)], at: (f64, f64), width: u32, height: u32) -> u32 {
    let (mut dx, mut dy) = (0.0f64, 0.0f64);
    for &(x, y) in points {
        dx = dx.max((x - at.0).abs());
        dy = dy.max((y - at.1).abs());
    }
    let room = |pixels: u32, extent: f64| {
        let half = (f64::from(pixels) / 2.0 - 24.0).max(1.0);
        if extent > 0.0 {
            (half / (extent * TILE)).log2()
        } else {
            f64::INFINITY
        }
    };
    let z = room(width, dx).min(room(height, dy)).floor();
    if z.is_finite() {
        (z.max(0.0) as u32).clamp(ZOOMS.0, ZOOMS.1)
    } else {
        ZOOMS.1
    }
}

/// The world outline, projected: rings of integer points in 1/[`OUTLINE_SCALE`]
/// world units, each after the first as a difference from the one before.
fn world() -> &'static Value {
    static PROJECTED: OnceLock<Value> = OnceLock::new();
    PROJECTED.get_or_init(|| {
        let source: Value = serde_json::from_str(WORLD).expect("assets/world.json is JSON");
        let scale = source["scale"].as_f64().expect("world.json has a scale");
        let rings: Vec<Value> = source["rings"]
            .as_array()
            .expect("world.json has rings")
            .iter()
            .map(|ring| {
                let deltas: Vec<i64> = ring
                    .as_array()
                    .expect("a ring is an array")
                    .iter()
                    .map(|v| v.as_i64().expect("ring points are integers"))
                    .collect();
                let (mut lon, mut lat, mut last) = (0i64, 0i64, (0i64, 0i64));
                let mut out = Vec::with_capacity(deltas.len());
                for (k, pair) in deltas.chunks_exact(2).enumerate() {
                    lon += pair[0];
                    lat += pair[1];
                    let (x, y) = project(lat as f64 / scale, lon as f64 / scale);
                    let p = (
                        (x * OUTLINE_SCALE).round() as i64,
                        (y * OUTLINE_SCALE).round() as i64,
                    );
                    if k == 0 {
                        out.extend([p.0, p.1]);
                    } else {
                        out.extend([p.0 - last.0, p.1 - last.1]);
                    }
                    last = p;
                }
                json!(out)
            })
            .collect();
        json!({"scale": OUTLINE_SCALE, "rings": rings})
    })
}

/// Reads one coordinate column, checking each value is on the globe.
fn coordinates(
    data: &RecordBatch,
    name: &str,
    what: &str,
    limit: f64,
) -> Result<Vec<Option<f64>>, VisError> {
    let values = columns::numbers(data, name)?;
    if let Some((row, v)) = values
        .iter()
        .enumerate()
        .find_map(|(r, v)| v.filter(|v| v.abs() > limit).map(|v| (r, v)))
    {
        return Err(VisError::Invalid(format!(
            "{what} column '{name}' holds {v} at row {row}, outside -{limit} to {limit}: \
             are lat_column and long_column the right way round?"
        )));
    }
    Ok(values
        .into_iter()
        .map(|v| v.filter(|v| !v.is_nan()))
        .collect())
}

/// The rows of `data` with both coordinates, on a map.
pub fn map(data: &RecordBatch, options: &MapOptions) -> Result<Chart, VisError> {
    if let Some(url) = &options.tiles {
        if !(url.contains("{z}") && url.contains("{x}") && url.contains("{y}")) {
            return Err(VisError::Invalid(format!(
                "tiles '{url}' must be a URL with {{z}}, {{x}} and {{y}} in it, \
                 such as https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png"
            )));
        }
    }
    let lats = coordinates(data, &options.lat_column, "latitude", 90.0)?;
    let lons = coordinates(data, &options.long_column, "longitude", 180.0)?;
    let layers = options
        .layer_column
        .as_deref()
        .map(|c| columns::texts(data, c))
        .transpose()?;
    let rows: Vec<usize> = (0..data.num_rows())
        .filter(|&r| lats[r].is_some() && lons[r].is_some())
        .collect();
    let (lat, lon): (Vec<f64>, Vec<f64>) = rows
        .iter()
        .map(|&r| (lats[r].expect("located"), lons[r].expect("located")))
        .unzip();
    let points: Vec<(f64, f64)> = lat.iter().zip(&lon).map(|(&a, &o)| project(a, o)).collect();
    let at = options
        .location
        .unwrap_or_else(|| centre(&lat, &lon, options.center_mode));
    let at_xy = project(at.0, at.1);
    let zoom = options
        .zoom_start
        .unwrap_or_else(|| fit_zoom(&points, at_xy, options.width, options.height));
    let scaled = |v: f64| (v * POINT_SCALE).round() as i64;
    let mut spec = Map::new();
    spec.insert("scale".into(), POINT_SCALE.into());
    spec.insert(
        "x".into(),
        json!(points.iter().map(|p| scaled(p.0)).collect::<Vec<_>>()),
    );
    spec.insert(
        "y".into(),
        json!(points.iter().map(|p| scaled(p.1)).collect::<Vec<_>>()),
    );
    if let Some(values) = layers {
        // Layers in text order, as MSTICPy's groupby makes them.
        let mut names: Vec<&str> = rows
            .iter()
            .map(|&r| values[r].as_deref().unwrap_or(""))
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut labels = Labels::default();
        for name in &names {
            labels.code(name);
        }
        let codes: Vec<u32> = rows
            .iter()
            .map(|&r| labels.code(values[r].as_deref().unwrap_or("")))
            .collect();
        spec.insert("layer".into(), json!(codes));
        spec.insert("layers".into(), json!(labels.into_values()));
        spec.insert("layer_column".into(), json!(options.layer_column));
    }
    spec.insert(
        "tips".into(),
        tooltips(data, &options.tooltip_columns, &rows)?,
    );
    spec.insert(
        "popups".into(),
        tooltips(data, &options.popup_columns, &rows)?,
    );
    spec.insert("centre".into(), json!([at_xy.0, at_xy.1]));
    spec.insert("centre_latlon".into(), json!([at.0, at.1]));
    spec.insert("zoom".into(), zoom.into());
    spec.insert("cluster".into(), options.marker_cluster.into());
    spec.insert("tiles".into(), json!(options.tiles));
    spec.insert("dropped".into(), (data.num_rows() - rows.len()).into());
    spec.insert("width".into(), options.width.into());
    spec.insert("height".into(), options.height.into());
    spec.insert("world".into(), world().clone());
    let title = options.title.clone().unwrap_or_else(|| "Locations".into());
    Ok(Chart::new("map", SCRIPT, title, spec))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, StringArray};

    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn mercator_puts_the_origin_in_the_middle_and_stretches_towards_the_poles() {
        assert_eq!(project(0.0, 0.0), (0.5, 0.5));
        let (x, y) = project(MAX_LATITUDE, -180.0);
        assert!(close(x, 0.0) && close(y, 0.0), "{x} {y}");
        let (_, y) = project(-90.0, 180.0);
        assert!(close(y, 1.0), "{y}");
        // London: x 0.499645, y 0.332526 (y = (1 - asinh(tan φ) / π) / 2; tile 340 of 1024 at zoom 10).
        let (x, y) = project(51.5074, -0.1278);
        assert!(
            (x - 0.499645).abs() < 1e-6 && (y - 0.332_526).abs() < 1e-6,
            "{x} {y}"
        );
        // Equal steps of latitude grow apart away from the equator.
        let step = |lat: f64| project(lat, 0.0).1 - project(lat + 10.0, 0.0).1;
        assert!(step(60.0) > 2.0 * step(0.0));
    }

    #[test]
    fn the_centre_is_the_median_or_the_mean_of_each_coordinate() {
        let lats = [10.0, 20.0, 60.0, 50.0];
        let lons = [1.0, 3.0, 2.0, 100.0];
        assert_eq!(centre(&lats, &lons, Centre::Median), (35.0, 2.5));
        assert_eq!(centre(&lats, &lons, Centre::Mean), (35.0, 26.5));
        assert_eq!(centre(&lats[..3], &lons[..3], Centre::Median), (20.0, 2.0));
        assert_eq!(centre(&[], &[], Centre::Median), (0.0, 0.0));
        assert_eq!("modal".parse::<Centre>().unwrap(), Centre::Mean);
        assert!("middle".parse::<Centre>().is_err());
    }

    #[test]
    fn the_zoom_is_the_closest_that_shows_every_point() {
        let at = project(0.0, 0.0);
        // Points 90 degrees either way: a quarter of the world each side of the centre.
        let points = [project(0.0, -90.0), project(0.0, 90.0)];
        // Zoom 2: the world is 1024 px, a quarter 256 px, within 900/2 - 24.
        assert_eq!(fit_zoom(&points, at, 900, 500), 2);
        assert_eq!(fit_zoom(&points, at, 400, 500), 1);
        assert_eq!(fit_zoom(&[at], at, 900, 500), ZOOMS.1);
        let near = [project(51.5, -0.12), project(51.51, -0.13)];
        let z = fit_zoom(&near, near[0], 900, 500);
        assert!((ZOOMS.0..=ZOOMS.1).contains(&z) && z >= 10, "{z}");
    }

    #[test]
    fn the_world_outline_is_projected_and_delta_encoded() {
        let w = world();
        let rings = w["rings"].as_array().unwrap();
        assert_eq!(rings.len(), 128);
        let mut total = 0usize;
        for ring in rings {
            let r: Vec<i64> = ring
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect();
            total += r.len() / 2;
            let (mut x, mut y) = (0i64, 0i64);
            for p in r.chunks_exact(2) {
                x += p[0];
                y += p[1];
                assert!(
                    (0..=100_000).contains(&x) && (0..=100_000).contains(&y),
                    "{x} {y}"
                );
            }
        }
        assert!(total > 4000, "{total}");
    }

    fn places() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "Latitude",
                Arc::new(Float64Array::from(vec![
                    Some(51.5),
                    None,
                    Some(40.7),
                    Some(-33.9),
                ])) as ArrayRef,
            ),
            (
                "Longitude",
                Arc::new(Float64Array::from(vec![-0.1, 2.3, -74.0, 151.2])),
            ),
            (
                "City",
                Arc::new(StringArray::from(vec![
                    "London", "Paris", "New York", "Sydney",
                ])),
            ),
            (
                "Result",
                Arc::new(StringArray::from(vec!["fail", "ok", "ok", "fail"])),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn located_rows_are_projected_with_their_layers_and_tooltips() {
        let o = MapOptions {
            layer_column: Some("Result".into()),
            tooltip_columns: vec!["City".into()],
            ..Default::default()
        };
        let chart = map(&places(), &o).unwrap();
        let spec = chart.spec();
        assert_eq!(spec["dropped"], 1);
        assert_eq!(spec["layers"], json!(["fail", "ok"]));
        assert_eq!(spec["layer"], json!([0, 1, 0]));
        assert_eq!(
            spec["tips"][0]["dict"],
            json!(["London", "New York", "Sydney"])
        );
        let x = spec["x"][0].as_i64().unwrap() as f64 / POINT_SCALE;
        assert!((x - project(51.5, -0.1).0).abs() < 1e-7);
        assert_eq!(spec["centre_latlon"], json!([40.7, -0.1]));
        assert_eq!(spec["tiles"], Value::Null);
        assert!(!chart.page().contains("https://"));
    }

    #[test]
    fn tiles_location_and_zoom_are_taken_as_given() {
        let o = MapOptions {
            tiles: Some("https://tile.example.org/{z}/{x}/{y}.png".into()),
            location: Some((10.0, 20.0)),
            zoom_start: Some(5),
            ..Default::default()
        };
        let spec = map(&places(), &o).unwrap().spec().clone();
        assert_eq!(spec["zoom"], 5);
        assert_eq!(spec["centre_latlon"], json!([10.0, 20.0]));
        assert_eq!(spec["tiles"], "https://tile.example.org/{z}/{x}/{y}.png");
        let o = MapOptions {
            tiles: Some("https://tile.example.org/tile.png".into()),
            ..Default::default()
        };
        let e = map(&places(), &o).unwrap_err().to_string();
        assert!(e.contains("{z}"), "{e}");
    }

    #[test]
    fn coordinates_off_the_globe_or_missing_columns_are_named() {
        let o = MapOptions {
            lat_column: "Longitude".into(),
            long_column: "Latitude".into(),
            ..Default::default()
        };
        let e = map(&places(), &o).unwrap_err().to_string();
        assert!(
            e.contains("'Longitude'") && e.contains("151.2") && e.contains("right way round"),
            "{e}"
        );
        let o = MapOptions {
            lat_column: "Lat".into(),
            ..Default::default()
        };
        let e = map(&places(), &o).unwrap_err().to_string();
        assert!(e.contains("'Lat'"), "{e}");
    }
}
