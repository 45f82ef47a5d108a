//! Recall on the synthetic corpus: of the indicators hidden in encoded payloads, how
//! many are recovered by decoding the text and then extracting indicators from the
//! full decoded string, per payload category (at least 95% in each is the goal).
//!
//! Also holds the throughput measurement, ignored by default because it only means
//! something in a release build: `cargo test --release -p huntbook-transform
//! unpack::recall::throughput -- --ignored --nocapture`.

use std::collections::HashMap;
use std::time::Instant;

use super::corpus::{Category, Generator, IndicatorKind};
use super::{unpack, UnpackOptions};
use crate::ioc::{ExtractOptions, IocExtractor};

/// (found, total) per category: an indicator is found when extraction from the full
/// decoded string reports it.
fn recall(
    opts: &UnpackOptions,
    samples_per_category: usize,
    seed: u64,
) -> HashMap<Category, (usize, usize)> {
    let extractor = IocExtractor::new(&ExtractOptions::default()).expect("built-in types");
    let mut generator = Generator::new(seed);
    let mut counts: HashMap<Category, (usize, usize)> = HashMap::new();
    for sample in generator.samples(samples_per_category * Category::ALL.len()) {
        let decoded = unpack(&sample.text, opts).decoded;
        let found = extractor.extract(&decoded);
        let entry = counts.entry(sample.category).or_default();
        for indicator in &sample.indicators {
            entry.1 += 1;
            if found.iter().any(|(_, value)| *value == indicator.value) {
                entry.0 += 1;
            }
        }
    }
    counts
}

fn report(counts: &HashMap<Category, (usize, usize)>) -> String {
    Category::ALL
        .iter()
        .map(|c| {
            let (found, total) = counts[c];
            format!("{}: {found}/{total}", c.name())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn at_least_95_percent_of_hidden_indicators_per_category() {
    let counts = recall(&UnpackOptions::default(), 120, 2024);
    println!("recall (found/hidden): {}", report(&counts));
    for category in Category::ALL {
        let (found, total) = counts[&category];
        assert!(
            total >= 360,
            "{}: only {total} indicators generated",
            category.name()
        );
        assert!(
            found * 100 >= total * 95,
            "{} recall {found}/{total} is under 95% ({})",
            category.name(),
            report(&counts)
        );
    }
}

#[test]
fn recall_holds_on_another_seed() {
    let counts = recall(&UnpackOptions::default(), 60, 77);
    for category in Category::ALL {
        let (found, total) = counts[&category];
        assert!(found * 100 >= total * 95, "{}", report(&counts));
    }
}

#[test]
fn msticpy_rules_miss_utf16_payloads_entirely() {
    // The reason UTF-16LE detection is on by default: with MSTICPy's rules, text in
    // -EncodedCommand payloads comes out with a NUL after every character.
    let counts = recall(&UnpackOptions::msticpy(), 20, 5);
    assert_eq!(
        counts[&Category::EncodedCommand].0,
        0,
        "{}",
        report(&counts)
    );
    assert_eq!(
        counts[&Category::Utf16OuterUtf8Inner].0,
        0,
        "{}",
        report(&counts)
    );
}

#[test]
fn digests_survive_in_the_decoded_text() {
    let mut generator = Generator::new(99);
    let opts = UnpackOptions::default();
    let mut seen = 0;
    for sample in generator.samples(100) {
        let decoded = unpack(&sample.text, &opts).decoded;
        for ind in &sample.indicators {
            if matches!(
                ind.kind,
                IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256
            ) {
                seen += 1;
                assert!(
                    decoded.contains(&ind.value),
                    "{} lost in {decoded}",
                    ind.value
                );
            }
        }
    }
    assert!(seen >= 100);
}

#[test]
#[ignore = "a measurement, meaningful only with --release"]
fn throughput() {
    let rows = Generator::new(1).table_rows(100_000);
    let bytes: usize = rows.iter().map(String::len).sum();
    let column = arrow_array::StringArray::from(rows);
    let schema = arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "CommandLine",
        arrow_schema::DataType::Utf8,
        true,
    )]);
    let batch = arrow_array::RecordBatch::try_new(
        std::sync::Arc::new(schema),
        vec![std::sync::Arc::new(column)],
    )
    .unwrap();
    let started = Instant::now();
    let out = super::unpack_base64(&batch, "CommandLine", &UnpackOptions::default()).unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "unpack_base64: {} rows ({:.1} MB) -> {} records in {secs:.3} s: {:.0} rows/s on {} threads",
        batch.num_rows(),
        bytes as f64 / 1e6,
        out.num_rows(),
        batch.num_rows() as f64 / secs,
        rayon::current_num_threads()
    );
}
