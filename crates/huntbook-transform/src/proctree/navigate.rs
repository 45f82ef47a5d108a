//! Walking a built tree (roots, children, descendants, ancestors, siblings, root of),
//! the summary MSTICPy prints, and a text rendering in MSTICPy's `tree_to_text` layout.
//!
//! Everything works on row positions of the output batch, which is sorted by path, so a
//! list of rows sorted ascending is also in tree (depth-first) order.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, UInt32Array};
use arrow_schema::DataType;
use serde::Serialize;

use super::{ProcTreeError, ProcessTree};

/// Parent/child index over the output rows.
pub(crate) struct Navigation {
    parent: Vec<Option<u32>>,
    depth: Vec<u32>,
    reached: Vec<bool>,
    is_root: Vec<bool>,
    is_leaf: Vec<bool>,
    is_branch: Vec<bool>,
    child_start: Vec<u32>,
    child_list: Vec<u32>,
}

impl Navigation {
    pub(crate) fn new(
        parent: Vec<Option<u32>>,
        depth: Vec<u32>,
        reached: Vec<bool>,
        is_root: Vec<bool>,
        is_leaf: Vec<bool>,
        is_branch: Vec<bool>,
    ) -> Self {
        let n = parent.len();
        let mut child_start = vec![0u32; n + 1];
        for p in parent.iter().flatten() {
            child_start[*p as usize + 1] += 1;
        }
        for i in 0..n {
            child_start[i + 1] += child_start[i];
        }
        let mut fill = child_start.clone();
        let mut child_list = vec![0u32; child_start[n] as usize];
        // Rows are visited in output order, so each child list is in output order too.
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                child_list[fill[*p as usize] as usize] = i as u32;
                fill[*p as usize] += 1;
            }
        }
        Navigation {
            parent,
            depth,
            reached,
            is_root,
            is_leaf,
            is_branch,
            child_start,
            child_list,
        }
    }

    fn kids(&self, row: usize) -> &[u32] {
        &self.child_list[self.child_start[row] as usize..self.child_start[row + 1] as usize]
    }
}

/// MSTICPy's `get_summary_info` numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Summary {
    pub processes: usize,
    pub root_processes: usize,
    pub leaf_processes: usize,
    pub branch_processes: usize,
    pub isolated_processes: usize,
    pub largest_tree_depth: usize,
}

/// How [`ProcessTree::to_text`] lays out each process.
#[derive(Clone, Debug)]
pub struct TextOptions {
    /// Wrap lines at this many characters (MSTICPy's template uses 80); 0 = no wrapping.
    pub wrap: usize,
    /// Also show the start time and the account / logon line.
    pub details: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            wrap: 80,
            details: true,
        }
    }
}

impl ProcessTree {
    fn check(&self, row: usize) -> Result<(), ProcTreeError> {
        if row < self.len() {
            Ok(())
        } else {
            Err(ProcTreeError::UnknownProcess {
                key: format!("row {row} (the tree has {} rows)", self.len()),
            })
        }
    }

    /// Rows of the root processes (those with no parent), in tree order.
    pub fn roots(&self) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.nav.is_root[i]).collect()
    }

    /// The parent row of `row`, if any.
    pub fn parent(&self, row: usize) -> Option<usize> {
        self.nav
            .parent
            .get(row)
            .copied()
            .flatten()
            .map(|p| p as usize)
    }

    /// Child rows of `row` (with `row` first when `include_source`).
    pub fn children(&self, row: usize, include_source: bool) -> Result<Vec<usize>, ProcTreeError> {
        self.check(row)?;
        let mut out: Vec<usize> = include_source.then_some(row).into_iter().collect();
        out.extend(self.nav.kids(row).iter().map(|&c| c as usize));
        Ok(out)
    }

    /// All rows below `row`, at most `max_levels` levels down (`None`: all), in tree order.
    pub fn descendants(
        &self,
        row: usize,
        include_source: bool,
        max_levels: Option<usize>,
    ) -> Result<Vec<usize>, ProcTreeError> {
        self.check(row)?;
        let mut out = Vec::new();
        let mut level = vec![row as u32];
        let mut seen = std::collections::HashSet::from([row as u32]);
        let mut depth = 0;
        while !level.is_empty() && max_levels.is_none_or(|m| depth < m) {
            let next: Vec<u32> = level
                .iter()
                .flat_map(|&p| self.nav.kids(p as usize).iter().copied())
                .filter(|c| seen.insert(*c))
                .collect();
            out.extend(next.iter().map(|&c| c as usize));
            level = next;
            depth += 1;
        }
        if include_source {
            out.push(row);
        }
        out.sort_unstable();
        Ok(out)
    }

    /// The chain from the root down to `row` (without `row` unless `include_source`).
    pub fn ancestors(&self, row: usize, include_source: bool) -> Result<Vec<usize>, ProcTreeError> {
        self.check(row)?;
        let mut chain = vec![row];
        let mut cur = row;
        while let Some(p) = self.parent(cur) {
            // A parent cycle (only possible between simultaneous events) ends the walk.
            if chain.contains(&p) {
                break;
            }
            chain.push(p);
            cur = p;
        }
        if !include_source {
            chain.remove(0);
        }
        chain.reverse();
        Ok(chain)
    }

    /// Rows sharing `row`'s parent; a root's only sibling is itself.
    pub fn siblings(&self, row: usize, include_source: bool) -> Result<Vec<usize>, ProcTreeError> {
        self.check(row)?;
        let mut out = match self.parent(row) {
            Some(p) => self.children(p, false)?,
            None => vec![row],
        };
        if !include_source {
            out.retain(|&r| r != row);
        }
        Ok(out)
    }

    /// The root of the tree holding `row`.
    pub fn root_of(&self, row: usize) -> Result<usize, ProcTreeError> {
        Ok(self.ancestors(row, true)?[0])
    }

    /// The rows of the whole tree holding `row` (MSTICPy's `get_root_tree`).
    pub fn root_tree(&self, row: usize) -> Result<Vec<usize>, ProcTreeError> {
        self.descendants(self.root_of(row)?, true, None)
    }

    /// Levels of `row` below its root (a root is 0).
    pub fn depth(&self, row: usize) -> usize {
        self.nav.depth[row] as usize
    }

    /// Number of levels of the deepest tree (MSTICPy's `get_tree_depth`).
    pub fn tree_depth(&self) -> usize {
        (0..self.len())
            .map(|i| {
                if self.nav.reached[i] {
                    self.nav.depth[i] as usize + 1
                } else {
                    1
                }
            })
            .max()
            .unwrap_or(0)
    }

    /// MSTICPy's summary numbers.
    pub fn summary(&self) -> Summary {
        let n = self.len();
        let count = |f: &dyn Fn(usize) -> bool| (0..n).filter(|&i| f(i)).count();
        Summary {
            processes: n,
            root_processes: count(&|i| self.nav.is_root[i]),
            leaf_processes: count(&|i| self.nav.is_leaf[i]),
            branch_processes: count(&|i| self.nav.is_branch[i]),
            isolated_processes: count(&|i| self.nav.is_root[i] && self.nav.is_leaf[i]),
            largest_tree_depth: self.tree_depth(),
        }
    }

    /// Row `row` of `column`, read from the table, or else from `more`.
    fn text_value(&self, column: &str, row: usize, more: Option<&RecordBatch>) -> Option<String> {
        let col = match self.batch.schema().index_of(column) {
            Ok(idx) => self.batch.column(idx),
            Err(_) => more?.column(more?.schema().index_of(column).ok()?),
        };
        if col.is_null(row) {
            return None;
        }
        Some(match col.data_type() {
            DataType::Utf8 => col.as_string::<i32>().value(row).to_string(),
            DataType::LargeUtf8 => col.as_string::<i64>().value(row).to_string(),
            DataType::Utf8View => col.as_string_view().value(row).to_string(),
            DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, _) => display_time(
                col.as_primitive::<arrow_array::types::TimestampNanosecondType>()
                    .value(row),
            ),
            _ => {
                let one = col.slice(row, 1);
                let t = super::columns::TextColumn::from_array(column, &one).ok()?;
                super::columns::TextSource::get(&t, 0)?.to_string()
            }
        })
    }

    /// Rows whose key matches `query`: a whole `proc_key`, or `name|pid` or
    /// `name|pid|time-prefix`, where the name may be the file name alone
    /// (`cmd.exe|0x1a4c` finds `c:\windows\system32\cmd.exe|0x1a4c|...`). Case-insensitive.
    pub fn find(&self, query: &str) -> Vec<usize> {
        let q = query.trim().to_lowercase();
        let mut parts = q.splitn(3, '|');
        let (qname, qpid, qtime) = (parts.next().unwrap_or(""), parts.next(), parts.next());
        let sep = self.schema.path_separator.as_str();
        let keys = self.batch.column(0).as_string::<i64>();
        (0..self.len())
            .filter(|&i| {
                let key = keys.value(i);
                let mut kp = key.rsplitn(3, '|');
                let (ktime, kpid, kname) = (
                    kp.next().unwrap_or(""),
                    kp.next().unwrap_or(""),
                    kp.next().unwrap_or(""),
                );
                let base = kname.rsplit(['\\', '/']).next().unwrap_or(kname);
                let base = if sep.is_empty() { kname } else { base };
                (kname == qname || base == qname)
                    && qpid.is_none_or(|p| p.eq_ignore_ascii_case(kpid))
                    && qtime.is_none_or(|t| ktime.starts_with(t))
            })
            .collect()
    }

    /// Rows for one process key query, or an error naming the key.
    pub fn find_one(&self, query: &str) -> Result<Vec<usize>, ProcTreeError> {
        let rows = self.find(query);
        if rows.is_empty() {
            Err(ProcTreeError::UnknownProcess {
                key: query.to_string(),
            })
        } else {
            Ok(rows)
        }
    }

    /// A batch with just `rows` (in the given order), for returning a navigation result
    /// as a table.
    pub fn take_rows(&self, rows: &[usize]) -> Result<RecordBatch, ProcTreeError> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.len()) {
            self.check(bad)?;
        }
        let idx = UInt32Array::from(rows.iter().map(|&r| r as u32).collect::<Vec<_>>());
        let err = |e: arrow_schema::ArrowError| ProcTreeError::Arrow {
            detail: e.to_string(),
        };
        let columns = self
            .batch
            .columns()
            .iter()
            .map(|c| {
                let data = c.to_data();
                let mut m =
                    arrow_data::transform::MutableArrayData::new(vec![&data], false, rows.len());
                for &r in idx.values() {
                    m.try_extend(0, r as usize, r as usize + 1).map_err(err)?;
                }
                Ok(arrow_array::make_array(m.freeze()))
            })
            .collect::<Result<Vec<_>, ProcTreeError>>()?;
        RecordBatch::try_new(self.batch.schema(), columns).map_err(|e| ProcTreeError::Arrow {
            detail: e.to_string(),
        })
    }

    /// Text rendering of `rows` (all rows when `None`) in tree order:
    ///
    /// ```text
    /// + Process: c:\windows\explorer.exe  PID: 0x10
    ///   Time: 1970-01-01 00:00:00+00:00
    ///    +-- Process: C:\Windows\System32\cmd.exe  PID: 0x100
    ///        Time: 2024-01-01 10:00:00+00:00
    ///        Cmdline: cmd /c a
    /// ```
    pub fn to_text(&self, rows: Option<&[usize]>, options: &TextOptions) -> String {
        self.to_text_with(rows, options, None)
    }

    /// The columns the text rendering shows that the table lacks (those a caller kept
    /// back, see [`super::build_process_tree_with`]).
    pub fn text_columns_missing(&self) -> Vec<String> {
        let s = &self.schema;
        let user = s.user_name.as_ref().or(s.user_id.as_ref());
        [s.cmd_line.as_ref(), user]
            .into_iter()
            .flatten()
            .filter(|c| self.batch.schema().index_of(c).is_err())
            .cloned()
            .collect()
    }

    /// As [`ProcessTree::to_text`], reading the columns the table lacks from `more`,
    /// which has a row for each row of the table.
    pub fn to_text_with(
        &self,
        rows: Option<&[usize]>,
        options: &TextOptions,
        more: Option<&RecordBatch>,
    ) -> String {
        let mut rows: Vec<usize> =
            rows.map_or_else(|| (0..self.len()).collect(), <[usize]>::to_vec);
        rows.sort_unstable();
        rows.dedup();
        let s = &self.schema;
        let value = |col: Option<&str>, row: usize| {
            col.and_then(|c| self.text_value(c, row, more))
                .unwrap_or_default()
        };
        let mut out = String::new();
        for row in rows.into_iter().filter(|&r| r < self.len()) {
            let depth = if self.nav.reached[row] {
                self.nav.depth[row] as usize
            } else {
                0
            };
            let header = if depth == 0 {
                "+ ".to_string()
            } else {
                format!("{}+-- ", "   ".repeat(depth))
            };
            let indent = " ".repeat(header.len() + 1);
            let name = value(Some(&s.process_name), row);
            let name = if name.is_empty() {
                value(Some("new_process_lc"), row)
            } else {
                name
            };
            let first = format!(
                "Process: {}  PID: {}",
                name,
                value(Some(&s.process_id), row)
            );
            for (k, line) in wrap(&first, options.wrap, "", &indent)
                .into_iter()
                .enumerate()
            {
                if k == 0 {
                    out.push_str(&header);
                    out.push(' ');
                }
                out.push_str(&line);
                out.push('\n');
            }
            let mut more = Vec::new();
            if options.details {
                more.push(format!("Time: {}", value(Some(&s.time_stamp), row)));
            }
            if s.cmd_line.is_some() {
                more.push(format!("Cmdline: {}", value(s.cmd_line.as_deref(), row)));
            }
            if options.details {
                let mut acct = Vec::new();
                if let Some(u) = s.user_name.as_deref().or(s.user_id.as_deref()) {
                    acct.push(format!("Account: {}", value(Some(u), row)));
                }
                if s.logon_id.is_some() {
                    acct.push(format!("LogonId: {}", value(s.logon_id.as_deref(), row)));
                }
                if !acct.is_empty() {
                    more.push(acct.join("  "));
                }
            }
            for text in more {
                for line in wrap(&text, options.wrap, &indent, &format!("{indent}   ")) {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// Pandas' `str(Timestamp)` for a UTC time: fractional digits only when present.
fn display_time(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let Some(dt) = chrono::DateTime::from_timestamp(secs, 0) else {
        return ns.to_string();
    };
    let base = dt.format("%Y-%m-%d %H:%M:%S");
    if frac == 0 {
        format!("{base}+00:00")
    } else if frac % 1_000 == 0 {
        format!("{base}.{:06}+00:00", frac / 1_000)
    } else {
        format!("{base}.{frac:09}+00:00")
    }
}

/// Greedy wrap like Python's `textwrap.wrap`: breaks at whitespace, keeps the
/// whitespace inside a line as written, drops it at line ends, and cuts words longer than
/// a line.
fn wrap(text: &str, width: usize, first_indent: &str, next_indent: &str) -> Vec<String> {
    if width == 0 {
        return vec![format!("{first_indent}{text}")];
    }
    // Alternating runs of whitespace and non-whitespace.
    let mut chunks: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut last_ws = None;
    for (i, ch) in text.char_indices() {
        let ws = ch.is_whitespace();
        if last_ws.is_some_and(|l| l != ws) {
            chunks.push(&text[start..i]);
            start = i;
        }
        last_ws = Some(ws);
    }
    if start < text.len() {
        chunks.push(&text[start..]);
    }
    let is_ws = |c: &str| c.chars().next().is_some_and(char::is_whitespace);
    let mut lines = Vec::new();
    let mut line = first_indent.to_string();
    let mut indent_len = first_indent.chars().count();
    let mut len = indent_len;
    let mut i = 0;
    while i < chunks.len() {
        let chunk = chunks[i];
        let at_start = len == indent_len;
        if is_ws(chunk) && at_start && !lines.is_empty() {
            i += 1; // whitespace at the start of a wrapped line is dropped
            continue;
        }
        let clen = chunk.chars().count();
        if len + clen <= width {
            line.push_str(chunk);
            len += clen;
            i += 1;
            continue;
        }
        if is_ws(chunk) {
            i += 1;
        } else if at_start {
            let room = width.saturating_sub(len).max(1);
            let cut = chunk
                .char_indices()
                .nth(room)
                .map_or(chunk.len(), |(b, _)| b);
            line.push_str(&chunk[..cut]);
            chunks[i] = &chunk[cut..];
            if chunks[i].is_empty() {
                i += 1;
            }
        }
        lines.push(
            std::mem::replace(&mut line, next_indent.to_string())
                .trim_end()
                .to_string(),
        );
        indent_len = next_indent.chars().count();
        len = indent_len;
    }
    if len > indent_len || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_words_and_cuts_long_ones() {
        assert_eq!(wrap("aa bb cc", 5, "", "  "), vec!["aa bb", "  cc"]);
        assert_eq!(wrap("abcdefgh", 4, "", ""), vec!["abcd", "efgh"]);
        assert_eq!(wrap("x", 0, "> ", ""), vec!["> x"]);
        assert_eq!(wrap("", 10, "", ""), vec![""]);
        assert_eq!(wrap("a:  b  c", 5, "", "> "), vec!["a:  b", "> c"]);
    }

    #[test]
    fn time_display_matches_pandas() {
        assert_eq!(display_time(0), "1970-01-01 00:00:00+00:00");
        assert_eq!(display_time(1_500_000), "1970-01-01 00:00:00.001500+00:00");
        assert_eq!(display_time(1), "1970-01-01 00:00:00.000000001+00:00");
    }
}
