//! Reading the audit message cell of Sentinel `AuditLog`-style tables.
//!
//! The cell holds the records of one event as a list of one-entry dicts,
//! `[{"SYSCALL": ["arch=c000003e", "syscall=59", …]}, {"EXECVE": ["argc=3", …]}]`,
//! written as JSON or as a Python literal (single quotes, as pandas writes such a
//! column to CSV). Each record's items are re-joined with spaces and read like a raw
//! log line's body, so `msg='op=… res=success'` split over several items is read as
//! one quoted value. A cell may also hold raw audit lines.

use super::record::{parse_body, parse_epoch, parse_line, AuditRecord};

/// A JSON or Python literal made of strings, lists and dicts.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

struct LitParser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 64;

impl<'a> LitParser<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        format!("{what} at character {} of the audit message", self.i + 1)
    }

    fn value(&mut self) -> Result<Lit, String> {
        self.ws();
        if self.depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        match self.s.get(self.i) {
            Some(b'[') => {
                self.i += 1;
                self.depth += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        break;
                    }
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
                self.depth -= 1;
                Ok(Lit::List(items))
            }
            Some(b'{') => {
                self.i += 1;
                self.depth += 1;
                let mut entries = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        break;
                    }
                    let key = self.value()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.i += 1;
                    let value = self.value()?;
                    entries.push((key, value));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
                self.depth -= 1;
                Ok(Lit::Dict(entries))
            }
            Some(&q @ (b'"' | b'\'')) => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    let Some(&c) = self.s.get(self.i) else {
                        return Err(self.err("unterminated string"));
                    };
                    if c == q {
                        self.i += 1;
                        break;
                    }
                    if c == b'\\' {
                        self.i += 1;
                        let Some(&e) = self.s.get(self.i) else {
                            return Err(self.err("unterminated escape"));
                        };
                        self.i += 1;
                        match e {
                            b'n' => out.push('\n'),
                            b't' => out.push('\t'),
                            b'r' => out.push('\r'),
                            b'0' => out.push('\0'),
                            b'x' => out.push(self.hex_char(2)?),
                            b'u' => out.push(self.hex_char(4)?),
                            b'U' => out.push(self.hex_char(8)?),
                            _ => {
                                // \\ \' \" \/ and unknown escapes: the character itself.
                                let ch = self.text[self.i - 1..].chars().next().unwrap_or('\\');
                                out.push(ch);
                                self.i += ch.len_utf8() - 1;
                            }
                        }
                        continue;
                    }
                    let ch = self.text[self.i..].chars().next().expect("inside the text");
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
                Ok(Lit::Str(out))
            }
            _ => Err(self.err("expected a string, list or dict")),
        }
    }

    fn hex_char(&mut self, n: usize) -> Result<char, String> {
        let digits = self
            .text
            .get(self.i..self.i + n)
            .ok_or_else(|| self.err("short escape"))?;
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.err("bad escape"))?;
        self.i += n;
        Ok(char::from_u32(code).unwrap_or('\u{fffd}'))
    }
}

fn parse_literal(text: &str) -> Result<Lit, String> {
    let mut p = LitParser {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("unexpected text after the end"));
    }
    Ok(v)
}

/// An event id from a `mssg_id` cell: `epoch:serial` or just `epoch`.
pub fn parse_msg_id(text: &str) -> Option<(String, i64, u64)> {
    let text = text.trim();
    let (epoch, serial) = match text.split_once(':') {
        Some((e, s)) => (e, s.parse().ok()?),
        None => (text, 0),
    };
    Some((epoch.to_string(), parse_epoch(epoch)?, serial))
}

/// The records of one table row. `msg_id` is the row's `mssg_id` when it has one; raw
/// lines carry their own. Notes about recoverable problems go to `notes`.
pub fn records_from_cell(
    cell: &str,
    msg_id: Option<&(String, i64, u64)>,
    notes: &mut Vec<String>,
) -> Result<Vec<AuditRecord>, String> {
    let trimmed = cell.trim();
    if trimmed.starts_with("type=") || trimmed.starts_with("node=") {
        let mut records = Vec::new();
        for line in trimmed.lines() {
            match parse_line(line, notes) {
                Ok(Some(r)) => records.push(r),
                Ok(None) => {}
                Err(e) => return Err(e.0),
            }
        }
        return Ok(records);
    }
    let (epoch, time_ns, serial) = msg_id
        .cloned()
        .ok_or("the row has no usable mssg_id ('<epoch>:<serial>'), so its time is unknown")?;
    let lit = parse_literal(trimmed)?;
    let dicts = match lit {
        Lit::List(items) => items,
        d @ Lit::Dict(_) => vec![d],
        Lit::Str(_) => {
            return Err(
                "expected a list of {record type: [key=value, …]} dicts, found a string".into(),
            )
        }
    };
    let mut records = Vec::new();
    for d in dicts {
        let Lit::Dict(entries) = d else {
            return Err("expected a list of {record type: [key=value, …]} dicts".into());
        };
        for (k, v) in entries {
            let Lit::Str(record_type) = k else {
                return Err("a record type must be a string".into());
            };
            let body = match v {
                Lit::List(items) => {
                    let mut parts = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            Lit::Str(s) => parts.push(s),
                            _ => {
                                return Err(format!(
                                    "the items of record {record_type} must be strings"
                                ))
                            }
                        }
                    }
                    parts.join(" ")
                }
                Lit::Str(s) => s,
                Lit::Dict(_) => {
                    return Err(format!(
                        "the items of record {record_type} must be a list of strings"
                    ))
                }
            };
            let fields = parse_body(&record_type, &body, notes);
            records.push(AuditRecord {
                node: None,
                record_type,
                epoch: epoch.clone(),
                time_ns,
                serial,
                fields,
            });
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literal_cells() {
        let cell = r#"[{'SYSCALL': ['arch=c000003e', 'syscall=59', 'success=yes', 'pid=28066', 'comm="sh"', 'exe="/bin/dash"']}, {'EXECVE': ['argc=3', 'a0="/bin/sh"', 'a1="-c"', 'a2=69707461626C6573202D2D76657273696F6E']}]"#;
        let id = parse_msg_id("1550505632.285:9077924").unwrap();
        let recs = records_from_cell(cell, Some(&id), &mut Vec::new()).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].get("exe"), Some("/bin/dash"));
        assert_eq!(recs[1].get("a2"), Some("iptables --version"));
        assert_eq!(recs[1].serial, 9077924);
        assert_eq!(recs[1].time_ns, 1_550_505_632_285_000_000);
    }

    #[test]
    fn split_msg_items_are_rejoined() {
        let cell = r#"[{'USER_END': ['pid=28056', "msg='op=PAM:session_close", 'acct="root"', 'hostname=?', "res=success'"]}]"#;
        let id = parse_msg_id("1.0:1").unwrap();
        let recs = records_from_cell(cell, Some(&id), &mut Vec::new()).unwrap();
        assert_eq!(recs[0].get("res"), Some("success"));
        assert_eq!(recs[0].get("acct"), Some("root"));
        assert_eq!(
            recs[0].get("msg"),
            Some("op=PAM:session_close acct=\"root\" hostname=? res=success")
        );
    }

    #[test]
    fn json_cells_and_raw_lines() {
        let id = parse_msg_id("2.5").unwrap();
        let recs = records_from_cell(r#"[{"CWD": ["cwd=\"/tmp\""]}]"#, Some(&id), &mut Vec::new())
            .unwrap();
        assert_eq!(recs[0].get("cwd"), Some("/tmp"));
        let recs = records_from_cell(
            "type=CWD msg=audit(3.0:4): cwd=\"/\"\ntype=PATH msg=audit(3.0:4): name=\"/x\"",
            None,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].serial, 4);
    }

    #[test]
    fn bad_cells() {
        let id = parse_msg_id("1.0:1").unwrap();
        for bad in [
            "",
            "[",
            "[{'A': ['x']}",
            "[1]",
            "{'A': {'b': 'c'}}",
            "'str'",
            "[{'A': ['x']}] trailing",
        ] {
            assert!(
                records_from_cell(bad, Some(&id), &mut Vec::new()).is_err(),
                "{bad}"
            );
        }
        assert!(records_from_cell("[{'A': ['x=1']}]", None, &mut Vec::new()).is_err());
        assert!(parse_msg_id("nope").is_none());
        let deep = "[".repeat(1000);
        assert!(records_from_cell(&deep, Some(&id), &mut Vec::new()).is_err());
    }
}
