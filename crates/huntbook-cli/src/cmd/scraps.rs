//! `huntbook scraps`: lists the scraps (scrapbook-format recorded values) of a notebook,
//! as a table for people or as JSON for scripts.

use std::io::Write;
use std::path::PathBuf;

use huntbook_notebook::scraps::{read_scraps, Scrap, Scraps};
use serde_json::Value;

/// List the scraps a notebook recorded (with huntbook.glue or scrapbook.glue)
#[derive(clap::Args)]
#[command(after_help = "\
Reads the values recorded in an executed notebook: scrapbook scraps \
(application/scrapbook.scrap.*), papermill's older records, and their displays. \
Unlike scrapbook, a scrap glued with display=True keeps its data as well as its display.

Examples:
  huntbook scraps output.ipynb
      NAME    ENCODER  DISPLAY    DATA
      hits    json     -          12
      alerts  pandas   -          DataFrame (2311 bytes parquet)
      chart   display  text/html  (display only)

  huntbook scraps output.ipynb --json | jq '.hits.data'
      Print {name: {data, encoder, display}}; pandas data stays base64 Parquet text.")]
pub struct Args {
    /// The notebook to read (an executed .ipynb)
    pub notebook: PathBuf,
    /// Print a JSON object {name: {data, encoder, display}} instead of a table
    #[arg(long)]
    pub json: bool,
}

/// How many characters of a value the table shows.
const PREVIEW_CHARS: usize = 60;

pub fn run(args: Args) -> u8 {
    let nb = match huntbook_notebook::io::read_path(&args.notebook) {
        Ok(nb) => nb,
        Err(e) => return super::fail(e),
    };
    let scraps = read_scraps(&nb);
    for warning in scraps.warnings() {
        eprintln!("huntbook: warning: {}: {warning}", args.notebook.display());
    }
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&scraps).expect("JSON values always serialise");
        text.push('\n');
        text
    } else if scraps.is_empty() {
        eprintln!("huntbook: {} has no scraps", args.notebook.display());
        String::new()
    } else {
        table(&scraps)
    };
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    0
}

/// The scraps as an aligned text table, one line per scrap.
fn table(scraps: &Scraps) -> String {
    let header = ["NAME", "ENCODER", "DISPLAY", "DATA"].map(String::from);
    let rows: Vec<[String; 4]> = std::iter::once(header)
        .chain(scraps.iter().map(|s| {
            [
                s.name.clone(),
                s.encoder.clone(),
                display_summary(s),
                preview(s),
            ]
        }))
        .collect();
    let widths: Vec<usize> = (0..3)
        .map(|col| {
            rows.iter()
                .map(|r| r[col].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &rows {
        for (col, width) in widths.iter().enumerate() {
            out.push_str(&row[col]);
            out.push_str(&" ".repeat(width - row[col].chars().count() + 2));
        }
        out.push_str(&row[3]);
        out.push('\n');
    }
    out
}

/// The MIME types of a scrap's display, or `-`.
fn display_summary(scrap: &Scrap) -> String {
    match scrap.display_bundle() {
        Some(bundle) if !bundle.is_empty() => bundle.keys().cloned().collect::<Vec<_>>().join(","),
        Some(_) => "(empty)".into(),
        None => "-".into(),
    }
}

/// A one-line, shortened rendering of a scrap's data.
fn preview(scrap: &Scrap) -> String {
    let Some(data) = &scrap.data else {
        return "(display only)".into();
    };
    if let Some(parquet) = scrap.parquet_bytes() {
        return match parquet {
            Ok(bytes) => format!("DataFrame ({} bytes parquet)", bytes.len()),
            Err(e) => format!("(pandas data that is not base64: {e})"),
        };
    }
    let text = match data {
        Value::String(_) | Value::Array(_) | Value::Object(_) => {
            serde_json::to_string(data).expect("JSON values always serialise")
        }
        other => other.to_string(),
    };
    shorten(&text, PREVIEW_CHARS)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use huntbook_notebook::scraps::{display_output, scrap_output};
    use huntbook_notebook::{Cell, Notebook};
    use serde_json::json;

    use super::*;

    fn sample() -> Notebook {
        let mut nb = Notebook::new();
        let mut cell = Cell::code("");
        let mut bundle = huntbook_notebook::JsonMap::new();
        bundle.insert("text/html".into(), json!("<b>hi</b>"));
        bundle.insert("text/plain".into(), json!("hi"));
        cell.outputs = vec![
            scrap_output("greeting", json!("line\nnext"), "text").unwrap(),
            scrap_output("n", json!(12), "json").unwrap(),
            display_output("n", bundle.clone()),
            scrap_output("frame", json!("UEFSMQ=="), "pandas").unwrap(),
            scrap_output("long", json!(vec![1234567; 20]), "json").unwrap(),
        ];
        let mut later = Cell::code("");
        later.outputs.push(display_output("chart", bundle));
        nb.cells = vec![cell, later];
        nb
    }

    #[test]
    fn table_previews_each_encoder() {
        let text = table(&read_scraps(&sample()));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME      ENCODER  DISPLAY               DATA");
        assert_eq!(
            lines[1],
            r#"greeting  text     -                     "line\nnext""#
        );
        assert_eq!(lines[2], "n         json     text/html,text/plain  12");
        assert_eq!(
            lines[3],
            "frame     pandas   -                     DataFrame (4 bytes parquet)"
        );
        assert!(
            lines[4].ends_with("[1234567,1234567,1234567,1234567,1234567,1234567,1234567,12…"),
            "{}",
            lines[4]
        );
        assert_eq!(
            lines[5],
            "chart     display  text/html,text/plain  (display only)"
        );
        assert_eq!(lines.len(), 6);
    }

    #[test]
    fn run_reads_files_and_fails_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ipynb");
        huntbook_notebook::io::write_path(&sample(), &path).unwrap();
        assert_eq!(
            run(Args {
                notebook: path.clone(),
                json: true
            }),
            0
        );
        assert_eq!(
            run(Args {
                notebook: path,
                json: false
            }),
            0
        );
        assert_eq!(
            run(Args {
                notebook: dir.path().join("missing.ipynb"),
                json: false
            }),
            crate::EXIT_USAGE
        );
        let broken = dir.path().join("broken.ipynb");
        std::fs::write(&broken, "{\"cells\": [").unwrap();
        assert_eq!(
            run(Args {
                notebook: broken,
                json: true
            }),
            crate::EXIT_USAGE
        );
    }

    #[test]
    fn shorten_counts_characters_not_bytes() {
        assert_eq!(shorten("ééééé", 5), "ééééé");
        assert_eq!(shorten("éééééé", 5), "éééé…");
    }
}
