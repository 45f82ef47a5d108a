//! A deterministic sample SOC dataset for demos, tests and benchmarks.
//!
//! [`generate`] writes, for a seed and an anchor time, the same files every time:
//! Sentinel-shaped tables as Parquet (`alerts`, `processes` (4688), `logons`
//! (4624/4625), `signins` (Entra ID), `network` (firewall flows), `office`, `syslog`,
//! `auditd`, `ti_indicators` (Sentinel's threat-intel table)), an OSQuery results
//! log and Velociraptor artifact logs. Background activity fills the seven days
//! before the anchor, and one intrusion runs through them, for hunts to find:
//!
//! - a phishing document on `WORKSTATION-07` starts an encoded PowerShell download,
//!   a dropped `svc.exe`, discovery commands, an LSASS dump and a scheduled task
//!   (processes), with alerts whose `Entities` JSON names the host, account and IP;
//! - the workstation beacons to `203.0.113.66:443` every minute with jitter (network);
//! - a password spray on `SRV-DB01` from `198.51.100.23`, then a success (logons);
//! - `carol@contoso.com` signs in from London and, 40 minutes later, from Sydney, and
//!   downloads files and adds a forwarding rule from there (signins, office);
//! - SSH brute force on `lnx-web01`, then a download-and-run seen by auditd.

mod osquery_velociraptor;
mod rng;
mod table;
mod tables;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use rng::Rng;
pub use table::ROW_GROUP_ROWS;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// Background rows per table (the intrusion's rows come on top).
    pub rows: usize,
    pub seed: u64,
    /// The end of the seven days the data covers.
    pub anchor: DateTime<Utc>,
}

/// A file written, with its row count.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub rows: usize,
}

/// Why the dataset could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct SampleError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes the dataset into `dir` (created if needed), reporting each file as it is
/// done to `progress`.
pub fn generate(
    dir: &Path,
    options: &SampleOptions,
    mut progress: impl FnMut(&Written),
) -> Result<Vec<Written>, SampleError> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SampleError { path, source }
    };
    std::fs::create_dir_all(dir).map_err(at(dir))?;
    let ctx = tables::Context::new(options);
    let mut written = Vec::new();
    for (name, build) in tables::TABLES {
        let path = dir.join(format!("{name}.parquet"));
        let batch = build(&ctx);
        table::write_parquet(&path, &batch).map_err(at(&path))?;
        let w = Written {
            path,
            rows: batch.num_rows(),
        };
        progress(&w);
        written.push(w);
    }
    for (rel, lines) in osquery_velociraptor::logs(&ctx) {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(at(parent))?;
        }
        write_lines(&path, &lines).map_err(at(&path))?;
        let w = Written {
            path,
            rows: lines.len(),
        };
        progress(&w);
        written.push(w);
    }
    Ok(written)
}

fn write_lines(path: &Path, lines: &[String]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn same_seed_same_files_other_seed_other_files() {
        let options = SampleOptions {
            rows: 300,
            seed: 7,
            anchor: Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap(),
        };
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let wa = generate(a.path(), &options, |_| {}).unwrap();
        generate(b.path(), &options, |_| {}).unwrap();
        generate(
            c.path(),
            &SampleOptions {
                seed: 8,
                ..options.clone()
            },
            |_| {},
        )
        .unwrap();
        let mut differs = false;
        for w in &wa {
            let rel = w.path.strip_prefix(a.path()).unwrap();
            let bytes = std::fs::read(&w.path).unwrap();
            assert_eq!(
                bytes,
                std::fs::read(b.path().join(rel)).unwrap(),
                "{}",
                rel.display()
            );
            differs |= bytes != std::fs::read(c.path().join(rel)).unwrap();
            assert!(w.rows > 0, "{}", rel.display());
        }
        assert!(differs, "another seed gives other data");
        assert!(wa
            .iter()
            .all(|w| !w.path.to_string_lossy().contains(".tmp-")));
    }
}
