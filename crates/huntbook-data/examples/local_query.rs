//! One LocalData query end to end, for `bench/local_query.py`: index the data folder,
//! run `WindowsSecurity.list_host_processes` for a host over a time range, write the
//! rows to Parquet, and print `{"rows": N, "seconds": S}`.
//!
//! ```text
//! cargo run --example local_query -p huntbook-data -- DATA_DIR START END HOST OUT.parquet
//! ```

use std::path::PathBuf;
use std::time::Instant;

use huntbook_data::render::parse_time;
use huntbook_data::{LocalData, ParamValue, QueryProvider};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, start, end, host, out] = args.as_slice() else {
        eprintln!("usage: local_query DATA_DIR START END HOST OUT.parquet");
        std::process::exit(2);
    };
    let started = Instant::now();
    let time =
        |t: &str| ParamValue::Time(parse_time(t).unwrap_or_else(|| panic!("not a time: {t}")));
    let driver = LocalData::new(vec![PathBuf::from(data)]).unwrap_or_else(|e| panic!("{e}"));
    let provider = QueryProvider::connected(Box::new(driver), &[]).unwrap_or_else(|e| panic!("{e}"));
    let values = vec![
        ("start".to_string(), time(start)),
        ("end".to_string(), time(end)),
        ("host_name".to_string(), ParamValue::from(host.as_str())),
    ];
    let table = provider
        .run("WindowsSecurity.list_host_processes", &values)
        .unwrap_or_else(|e| panic!("{e}"));
    huntbook_table::write_table(&PathBuf::from(out), &table).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{{\"rows\": {}, \"seconds\": {:.4}}}",
        table.num_rows(),
        started.elapsed().as_secs_f64()
    );
}
