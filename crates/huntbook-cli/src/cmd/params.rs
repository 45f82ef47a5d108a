//! `huntbook params`: the parameters a notebook declares (papermill's
//! `--help-notebook`), as a table for people or as JSON for scripts.

use std::io::Write;
use std::path::PathBuf;

use huntbook_notebook::params::{inspect, DeclaredParameter, ParamError};

/// Show the parameters a notebook declares in its `parameters` cell
#[derive(clap::Args)]
#[command(after_help = "\
Reads the first cell tagged `parameters` and lists each assignment in it: the name, \
the type (from an annotation or a `# type:` comment), the default as written, and the \
help (the comment at the end of the line), as papermill --help-notebook does. \
Unlike papermill, `=` and `#` inside strings (s = \"a=b\") and keyword arguments \
(d = dict(a=1)) do not hide a parameter.

Exit status: 0 on success, 1 when the notebook has no `parameters` cell or is not a \
Python notebook, 2 when the notebook cannot be read.

Examples:
  huntbook params hunt.ipynb
      NAME       TYPE  DEFAULT          HELP
      workspace  str   \"Default\"        Sentinel workspace name
      lookback   int   7                days to search
      hosts      -     [\"web01\"]

  huntbook params hunt.ipynb --json | jq -r 'keys[]'
      Print {name: {name, inferred_type_name, default, help}} in cell order, the shape \
of papermill.inspect_notebook.")]
pub struct Args {
    /// The notebook to inspect (.ipynb)
    pub notebook: PathBuf,
    /// Print a JSON object {name: {name, inferred_type_name, default, help}} instead of a table
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> u8 {
    let nb = match huntbook_notebook::io::read_path(&args.notebook) {
        Ok(nb) => nb,
        Err(e) => return super::fail(e),
    };
    let shown = args.notebook.display();
    let params = match inspect(&nb) {
        Ok(params) => params,
        Err(e @ (ParamError::NoParametersCell | ParamError::InspectUnsupported { .. })) => {
            eprintln!("huntbook: {shown}: {e}");
            return 1;
        }
        Err(e) => return super::fail(format!("{shown}: {e}")),
    };
    let text = if args.json {
        json(&params)
    } else if params.is_empty() {
        eprintln!("huntbook: {shown}: the `parameters` cell declares no parameters");
        String::new()
    } else {
        table(&params)
    };
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    0
}

/// `{name: {...}}` in the order of the cell (a serde_json map would sort the names).
fn json(params: &[DeclaredParameter]) -> String {
    if params.is_empty() {
        return "{}\n".into();
    }
    let entries: Vec<String> = params
        .iter()
        .map(|p| {
            let key = serde_json::to_string(&p.name).expect("strings serialise");
            let value = serde_json::to_string(p).expect("parameters serialise");
            format!("  {key}: {value}")
        })
        .collect();
    format!("{{\n{}\n}}\n", entries.join(",\n"))
}

/// An aligned table; an unknown type shows as `-`.
fn table(params: &[DeclaredParameter]) -> String {
    let header = ["NAME", "TYPE", "DEFAULT", "HELP"].map(String::from);
    let rows: Vec<[String; 4]> = std::iter::once(header)
        .chain(params.iter().map(|p| {
            let type_name = if p.inferred_type_name == "None" {
                "-".to_string()
            } else {
                p.inferred_type_name.clone()
            };
            [p.name.clone(), type_name, p.default.clone(), p.help.clone()]
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
        let mut line = String::new();
        for (col, width) in widths.iter().enumerate() {
            line.push_str(&row[col]);
            line.push_str(&" ".repeat(width - row[col].chars().count() + 2));
        }
        line.push_str(&row[3]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, type_name: &str, default: &str, help: &str) -> DeclaredParameter {
        DeclaredParameter {
            name: name.into(),
            inferred_type_name: type_name.into(),
            default: default.into(),
            help: help.into(),
        }
    }

    #[test]
    fn table_and_json_keep_cell_order() {
        let params = vec![
            p("zeta", "int", "7", "days to search"),
            p("a", "None", "\"x\"", ""),
        ];
        assert_eq!(
            table(&params),
            "NAME  TYPE  DEFAULT  HELP\nzeta  int   7        days to search\na     -     \"x\"\n"
        );
        let text = json(&params);
        assert!(text.find("\"zeta\"").unwrap() < text.find("\"a\"").unwrap());
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value["a"],
            serde_json::json!({"name": "a", "inferred_type_name": "None", "default": "\"x\"", "help": ""})
        );
        assert_eq!(json(&[]), "{}\n");
    }

    fn notebook(dir: &std::path::Path, cells: serde_json::Value) -> PathBuf {
        let path = dir.join("nb.ipynb");
        let nb = serde_json::json!({
            "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
            "cells": cells,
        });
        std::fs::write(&path, nb.to_string()).unwrap();
        path
    }

    #[test]
    fn exit_codes() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Args {
            notebook: dir.path().join("missing.ipynb"),
            json: false,
        };
        assert_eq!(run(missing), crate::EXIT_USAGE);
        std::fs::write(dir.path().join("bad.ipynb"), "{not json").unwrap();
        assert_eq!(
            run(Args {
                notebook: dir.path().join("bad.ipynb"),
                json: true
            }),
            crate::EXIT_USAGE
        );
        let untagged = notebook(
            dir.path(),
            serde_json::json!([
                {"cell_type": "code", "id": "a1", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": null}
            ]),
        );
        assert_eq!(
            run(Args {
                notebook: untagged,
                json: false
            }),
            1
        );
        let tagged = notebook(
            dir.path(),
            serde_json::json!([
                {"cell_type": "code", "id": "a1", "metadata": {"tags": ["parameters"]}, "source": "x = 1", "outputs": [], "execution_count": null}
            ]),
        );
        assert_eq!(
            run(Args {
                notebook: tagged,
                json: true
            }),
            0
        );
    }
}
