//! Writes the sample dataset, for `bench/local_query.py`.
//!
//! ```text
//! cargo run --example sample_data -p huntbook-data -- OUT_DIR ROWS ANCHOR
//! ```

use huntbook_data::render::parse_time;
use huntbook_data::sample::{generate, SampleOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, rows, anchor] = args.as_slice() else {
        eprintln!("usage: sample_data OUT_DIR ROWS ANCHOR");
        std::process::exit(2);
    };
    let options = SampleOptions {
        rows: rows.parse().expect("ROWS is a number"),
        seed: 1,
        anchor: parse_time(anchor).expect("ANCHOR is a time"),
    };
    generate(dir.as_ref(), &options, |w| {
        println!("{}\t{}", w.path.display(), w.rows)
    })
    .unwrap_or_else(|e| panic!("{e}"));
}
