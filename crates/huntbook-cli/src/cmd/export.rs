//! `huntbook export`: a notebook as one self-contained HTML page.

use std::io::Write;
use std::path::{Path, PathBuf};

use huntbook_notebook::export::{default_title, to_html, ExportOptions};
use huntbook_notebook::io::{read_path, write_atomic};

/// Export a notebook to one self-contained HTML page (no scripts, no external files)
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook export hunt-output.ipynb                 # writes hunt-output.html
  huntbook export hunt-output.ipynb --no-input      # a report: outputs and text only
  huntbook export nb.ipynb --no-prompt -o report.html
  huntbook export nb.ipynb -o - | gzip > nb.html.gz

Code hidden in Jupyter (metadata.jupyter.source_hidden), hidden outputs, and cells
tagged remove-cell, remove-input or remove-output are left out of the page.")]
pub struct Args {
    /// The notebook to export
    #[arg(value_name = "NB")]
    notebook: PathBuf,
    /// Leave out every code cell's input (and all prompts)
    #[arg(long)]
    no_input: bool,
    /// Leave out the In [n]: / Out[n]: prompts
    #[arg(long)]
    no_prompt: bool,
    /// Where to write the page; `-` for standard output [default: NB with an .html extension]
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The page title [default: the notebook's title or first heading, else its file name]
    #[arg(long)]
    title: Option<String>,
}

pub fn run(args: Args) -> u8 {
    let nb = match read_path(&args.notebook) {
        Ok(nb) => nb,
        Err(e) => return super::fail(format!("{e}")),
    };
    let title = args
        .title
        .clone()
        .or_else(|| default_title(&nb))
        .or_else(|| {
            args.notebook
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        });
    let opts = ExportOptions {
        no_input: args.no_input,
        no_prompt: args.no_prompt,
        title,
    };
    let html = to_html(&nb, &opts);
    let output = args
        .output
        .unwrap_or_else(|| args.notebook.with_extension("html"));
    if output == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        return match stdout
            .write_all(html.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Ok(()) => 0,
            // A closed pipe (`| head`) is the reader's choice, not a failure.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Err(e) => {
                eprintln!("huntbook: error: cannot write the page to standard output: {e}");
                1
            }
        };
    }
    if same_file(&output, &args.notebook) {
        return super::fail(format!(
            "the output {} is the notebook itself; choose another file with -o",
            output.display()
        ));
    }
    match write_atomic(&output, html.as_bytes()) {
        Ok(()) => {
            eprintln!(
                "huntbook: wrote {} ({} KB)",
                output.display(),
                html.len().div_ceil(1024)
            );
            0
        }
        Err(e) => {
            eprintln!(
                "huntbook: error: cannot write {}: {e} (check that its folder exists and is writable, or pick another file with -o)",
                output.display()
            );
            1
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(notebook: PathBuf, output: Option<PathBuf>) -> Args {
        Args {
            notebook,
            no_input: false,
            no_prompt: false,
            output,
            title: None,
        }
    }

    fn write_notebook(dir: &Path, name: &str) -> PathBuf {
        let mut nb = huntbook_notebook::Notebook::new();
        nb.cells.push(huntbook_notebook::Cell::code("print('x')"));
        let path = dir.join(name);
        huntbook_notebook::io::write_path(&nb, &path).unwrap();
        path
    }

    #[test]
    fn writes_next_to_the_notebook_titled_by_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let nb = write_notebook(dir.path(), "hunt.v2.ipynb");
        assert_eq!(run(args(nb, None)), 0);
        let page = std::fs::read_to_string(dir.path().join("hunt.v2.html")).unwrap();
        assert!(page.contains("<title>hunt.v2</title>"));
    }

    #[test]
    fn refuses_to_overwrite_the_notebook() {
        let dir = tempfile::tempdir().unwrap();
        let nb = write_notebook(dir.path(), "a.ipynb");
        let before = std::fs::read(&nb).unwrap();
        assert_eq!(run(args(nb.clone(), Some(nb.clone()))), crate::EXIT_USAGE);
        assert_eq!(std::fs::read(&nb).unwrap(), before);
    }

    #[test]
    fn bad_input_and_unwritable_output() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            run(args(dir.path().join("missing.ipynb"), None)),
            crate::EXIT_USAGE
        );
        let nb = write_notebook(dir.path(), "a.ipynb");
        assert_eq!(
            run(args(nb, Some(dir.path().join("no/such/dir/a.html")))),
            1
        );
    }
}
