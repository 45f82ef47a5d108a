//! Reading a large array of rows on every core.
//!
//! Where a row starts cannot be known without reading every row before it (a `],[`
//! can sit inside a string), so the split is a guess checked afterwards. The text is
//! cut into equal shares; each share after the first starts at the first place past
//! its cut that looks like the start of a row and from which one row of the schema's
//! types can be read. Each share is read on its own into its own [`Part`], and stops
//! where the next share starts. A share's start is confirmed when the share before
//! it, itself confirmed, stops exactly there. A share that reads past the next
//! share's start (the guess fell inside a row) reads on to the end of the array and
//! the later shares are dropped: the answer is then as if read in one piece, only
//! slower. So the result never depends on the guesses.

use rayon::prelude::*;

use super::json::Reader;
use super::part::{Columns, Part, RowError, Stop};
use super::RowShape;

/// Below this many bytes per share, splitting costs more than it saves.
const MIN_SHARE: usize = 4 << 20;

/// Places past a cut tried as the start of a share before giving it up.
const TRIES: usize = 64;

/// How many shares to read `len` bytes of rows in.
pub(super) fn share_count(len: usize) -> usize {
    (len / MIN_SHARE).clamp(1, rayon::current_num_threads())
}

/// The rows read: the parts in order, each but the last having stopped exactly
/// where the next starts; and the offset just past the array, or the error that
/// stopped the last part (its row counted from that part's start).
pub(super) struct Shares {
    pub parts: Vec<Part>,
    pub end: Result<usize, RowError>,
}

/// Reads the rows of `text` to the end of their array in shares starting at
/// `starts` (the first being where the first row starts). `part` takes the first
/// share's rows.
pub(super) fn read_shares(
    columns: &Columns,
    part: Part,
    text: &str,
    starts: &[usize],
    shape: RowShape,
) -> Shares {
    let parts = std::iter::once(part).chain((1..starts.len()).map(|_| Part::new(columns)));
    let boundaries = starts
        .iter()
        .skip(1)
        .map(|&start| Some(start))
        .chain([None]);
    let jobs: Vec<(Part, usize, Option<usize>)> = parts
        .zip(starts.iter().copied())
        .zip(boundaries)
        .map(|((part, start), boundary)| (part, start, boundary))
        .collect();
    let read = |(mut part, start, boundary): (Part, usize, Option<usize>)| {
        let mut reader = Reader::new(text, start);
        // The first share's builders take the later shares' rows too.
        let room_to = match boundary {
            Some(end) if start != starts[0] => end,
            _ => text.len(),
        };
        let stop = part.read_rows(columns, &mut reader, shape, boundary, room_to);
        (part, stop)
    };
    let results: Vec<(Part, Result<Stop, RowError>)> = if jobs.len() == 1 {
        jobs.into_iter().map(read).collect()
    } else {
        jobs.into_par_iter().map(read).collect()
    };
    let mut parts = Vec::with_capacity(results.len());
    for (part, stop) in results {
        parts.push(part);
        let end = match stop {
            Ok(Stop::Boundary) => continue,
            Ok(Stop::End(end)) => Ok(end),
            Err(e) => Err(e),
        };
        return Shares { parts, end };
    }
    unreachable!("the last share has no boundary, so it stops at the end or an error")
}

/// Where each of up to `shares` shares starts: `first`, then the row found after
/// each cut.
pub(super) fn share_starts(
    columns: &Columns,
    text: &str,
    first: usize,
    shape: RowShape,
    shares: usize,
) -> Vec<usize> {
    let mut starts = vec![first];
    let span = text.len() - first;
    for share in 1..shares {
        let last = *starts.last().unwrap_or(&first);
        let cut = (first + span / shares * share).max(last + 1);
        if let Some(start) = row_start_after(columns, text, cut, shape) {
            starts.push(start);
        }
    }
    starts
}

/// The first offset from `cut` that follows a row's end and a comma and from which
/// a row can be read.
fn row_start_after(columns: &Columns, text: &str, cut: usize, shape: RowShape) -> Option<usize> {
    let (close, open) = match shape {
        RowShape::Arrays => (b']', b'['),
        RowShape::Objects => (b'}', b'{'),
    };
    let bytes = text.as_bytes();
    let after_space = |mut i: usize| {
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        i
    };
    let mut at = cut;
    for _ in 0..TRIES {
        let end = at + bytes.get(at..)?.iter().position(|&b| b == close)?;
        at = end + 1;
        let comma = after_space(at);
        if bytes.get(comma) != Some(&b',') {
            continue;
        }
        let start = after_space(comma + 1);
        if bytes.get(start) == Some(&open) && readable_row(columns, text, start, shape) {
            return Some(start);
        }
    }
    None
}

/// Whether a row of the schema's types can be read at `start`, followed by a
/// comma or the end of the array.
fn readable_row(columns: &Columns, text: &str, start: usize, shape: RowShape) -> bool {
    let mut reader = Reader::new(text, start);
    let mut part = Part::new(columns);
    part.read_row(columns, &mut reader, shape).is_ok()
        && part.rows == 1
        && matches!(reader.peek(), Some(b',' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::decode::ColumnType;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;

    fn columns() -> Columns {
        Columns::new(vec![
            ("Note".into(), ColumnType::String),
            ("N".into(), ColumnType::Long),
        ])
    }

    /// Rows whose first value holds text that looks like a row of this schema.
    fn decoy_rows(n: usize) -> (String, Vec<usize>) {
        let mut text = String::from("[");
        let mut starts = Vec::new();
        for i in 0..n {
            if i > 0 {
                text.push(',');
            }
            starts.push(text.len());
            text.push_str(&format!(r#"["x],[1,2],[{i}", {i}]"#));
        }
        text.push(']');
        (text, starts)
    }

    fn numbers(part: Part) -> Vec<i64> {
        part.finish()[1]
            .as_primitive::<Int64Type>()
            .values()
            .to_vec()
    }

    #[test]
    fn a_start_guessed_inside_a_row_is_read_through() {
        let columns = columns();
        let (text, starts) = decoy_rows(10);
        // The decoy in row 4 can be read as a row of this schema.
        let decoy = starts[4] + text[starts[4]..].find("[1,2]").unwrap();
        assert!(readable_row(&columns, &text, decoy, RowShape::Arrays));
        let read = read_shares(
            &columns,
            Part::new(&columns),
            &text,
            &[1, decoy],
            RowShape::Arrays,
        );
        assert_eq!(read.end.unwrap(), text.len());
        assert_eq!(read.parts.len(), 1);
        let part = read.parts.into_iter().next().unwrap();
        assert_eq!(numbers(part), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_start_at_a_row_is_confirmed_and_errors_count_from_it() {
        let columns = columns();
        let (text, starts) = decoy_rows(10);
        let read = read_shares(
            &columns,
            Part::new(&columns),
            &text,
            &[1, starts[5]],
            RowShape::Arrays,
        );
        assert_eq!(read.end.unwrap(), text.len());
        let [first, second] = <[Part; 2]>::try_from(read.parts).ok().unwrap();
        assert_eq!(numbers(first), [0, 1, 2, 3, 4]);
        assert_eq!(numbers(second), [5, 6, 7, 8, 9]);

        let text = text.replace(r#", 7]"#, r#", "seven"]"#);
        let read = read_shares(
            &columns,
            Part::new(&columns),
            &text,
            &[1, starts[5]],
            RowShape::Arrays,
        );
        assert_eq!(read.parts.len(), 2);
        assert_eq!(read.parts[0].rows, 5);
        let error = read.end.unwrap_err();
        assert_eq!((error.row, error.column), (2, Some(1)));
    }

    #[test]
    fn shares_start_at_rows_past_their_cuts() {
        let columns = columns();
        let (text, starts) = decoy_rows(2000);
        for shares in 2..6 {
            let found = share_starts(&columns, &text, 1, RowShape::Arrays, shares);
            assert_eq!(found.len(), shares);
            assert!(found.windows(2).all(|w| w[0] < w[1]));
            for start in &found[1..] {
                assert!(starts.contains(start) || text[*start..].starts_with("[1,2]"));
            }
        }
        // No row after the cut: one share.
        let found = share_starts(&columns, "[[\"a\", 1]]", 1, RowShape::Arrays, 2);
        assert_eq!(found, [1]);
    }
}
