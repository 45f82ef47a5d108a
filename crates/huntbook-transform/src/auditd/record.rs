//! One audit record: the header (`node=… type=… msg=audit(epoch:serial):`) and its
//! `key=value` fields, with auditd's hex encoding undone.

/// A `key=value` pair of a record. Keys without `=` are dropped when parsed (MSTICPy
/// keeps them with no value, then drops the all-empty columns they make).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub key: String,
    pub value: String,
}

/// One line of an audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// `node=` prefix written by auditd's `name_format` option, if any.
    pub node: Option<String>,
    /// The record type (`SYSCALL`, `EXECVE`, `USER_START`, …).
    pub record_type: String,
    /// The event's time stamp as written (`1558439254.480`).
    pub epoch: String,
    /// Nanoseconds since the Unix epoch, read from `epoch` without going through a float.
    pub time_ns: i64,
    /// The event serial number; records with the same time stamp and serial form one event.
    pub serial: u64,
    pub fields: Vec<Field>,
}

impl AuditRecord {
    /// The last value of `key` (auditd never repeats a key within a record, but
    /// flattened `msg='…'` contents could).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }

    /// `epoch:serial`, the event id.
    pub fn msg_id(&self) -> String {
        format!("{}:{}", self.epoch, self.serial)
    }
}

/// Why a line could not be read as an audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError(pub String);

/// Parses one raw log line. Blank lines and `----` separators (ausearch output) are
/// `Ok(None)`. Unterminated quotes are not fatal: the value runs to the end of the line
/// and the problem comes back in `notes`.
pub fn parse_line(line: &str, notes: &mut Vec<String>) -> Result<Option<AuditRecord>, LineError> {
    let line = line.trim_end_matches(['\r', '\n']).trim_start();
    if line.trim().is_empty() || line.starts_with("----") {
        return Ok(None);
    }
    let mut rest = line;
    let mut node = None;
    if let Some(after) = rest.strip_prefix("node=") {
        let end = after
            .find(' ')
            .ok_or_else(|| LineError("'node=' is not followed by 'type='".into()))?;
        node = Some(after[..end].to_string());
        rest = after[end..].trim_start();
    }
    let after_type = rest
        .strip_prefix("type=")
        .ok_or_else(|| LineError("the line does not start with 'type=' (expected 'type=<TYPE> msg=audit(<epoch>:<serial>): …')".into()))?;
    let type_end = after_type
        .find(' ')
        .ok_or_else(|| LineError("no 'msg=audit(…)' after the record type".into()))?;
    let record_type = &after_type[..type_end];
    if record_type.is_empty() {
        return Err(LineError("empty record type".into()));
    }
    let after_msg = after_type[type_end..]
        .trim_start()
        .strip_prefix("msg=audit(")
        .ok_or_else(|| {
            LineError(format!(
                "record type {record_type} is not followed by 'msg=audit(<epoch>:<serial>)'"
            ))
        })?;
    let close = after_msg
        .find(')')
        .ok_or_else(|| LineError("'msg=audit(' is not closed by ')'".into()))?;
    let (epoch, serial) = after_msg[..close].split_once(':').ok_or_else(|| {
        LineError(format!(
            "event id '{}' is not '<epoch>:<serial>'",
            &after_msg[..close]
        ))
    })?;
    let time_ns = parse_epoch(epoch).ok_or_else(|| {
        LineError(format!(
            "time stamp '{epoch}' is not seconds since the epoch"
        ))
    })?;
    let serial: u64 = serial
        .parse()
        .map_err(|_| LineError(format!("serial '{serial}' is not a number")))?;
    let body = after_msg[close + 1..]
        .strip_prefix(':')
        .unwrap_or(&after_msg[close + 1..]);
    let fields = parse_body(record_type, body, notes);
    Ok(Some(AuditRecord {
        node,
        record_type: record_type.to_string(),
        epoch: epoch.to_string(),
        time_ns,
        serial,
        fields,
    }))
}

/// Parses `1558439254.480` (any number of fraction digits) into nanoseconds.
pub fn parse_epoch(text: &str) -> Option<i64> {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let mut nanos: i64 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Parses the `key=value …` part of a record of type `record_type`.
///
/// Values are `"quoted"` (taken as they are), `'single quoted'` (the `msg='…'` of user
/// space records: kept whole as the value and its own `key=value` pairs added after
/// it), or bare (hex-decoded for the fields auditd encodes). Text after the group
/// separator (0x1D) of the enriched log format is read the same way.
pub fn parse_body(record_type: &str, body: &str, notes: &mut Vec<String>) -> Vec<Field> {
    let mut fields = Vec::new();
    for (i, part) in body.split('\u{1d}').enumerate() {
        parse_pairs(record_type, part, i == 0, &mut fields, notes);
    }
    fields
}

fn parse_pairs(
    record_type: &str,
    text: &str,
    decode: bool,
    fields: &mut Vec<Field>,
    notes: &mut Vec<String>,
) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let key_start = i;
        while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b' ' {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b' ' {
            // A bare word (AVC text such as `denied { read }`): not a field.
            continue;
        }
        let key = &text[key_start..i];
        i += 1; // '='
        match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let start = i + 1;
                let end = text[start..].find(q as char).map(|e| start + e);
                let (value, next) = match end {
                    Some(e) => (&text[start..e], e + 1),
                    None => {
                        notes.push(format!(
                            "unterminated {} quote in the value of '{key}'",
                            q as char
                        ));
                        (&text[start..], bytes.len())
                    }
                };
                if !key.is_empty() {
                    fields.push(Field {
                        key: key.to_string(),
                        value: value.to_string(),
                    });
                    if q == b'\'' {
                        parse_pairs(record_type, value, decode, fields, notes);
                    }
                }
                i = next;
            }
            _ => {
                let start = i;
                while i < bytes.len() && bytes[i] != b' ' {
                    i += 1;
                }
                if key.is_empty() {
                    continue;
                }
                let raw = &text[start..i];
                let value = if decode && is_encoded_field(record_type, key) {
                    decode_hex_field(record_type, key, raw)
                } else {
                    raw.to_string()
                };
                fields.push(Field {
                    key: key.to_string(),
                    value,
                });
            }
        }
    }
}

/// Fields auditd writes hex-encoded when their text has spaces, quotes or control
/// characters (a bare value of these is hex; a quoted one is plain). MSTICPy decodes
/// EXECVE a0–a3, PROCTITLE proctitle and USER_CMD cmd; every argument, the working
/// directory, path names, comm/exe and TTY data are encoded the same way.
fn is_encoded_field(record_type: &str, key: &str) -> bool {
    match record_type {
        "EXECVE" => is_arg_key(key),
        "PROCTITLE" => key == "proctitle",
        "USER_CMD" => key == "cmd",
        "CWD" => key == "cwd",
        "PATH" => key == "name",
        "SYSCALL" => matches!(key, "comm" | "exe" | "key"),
        "TTY" | "USER_TTY" => key == "data",
        _ => false,
    }
}

/// `a7`, or a piece `a7[2]` of a long argument.
pub(crate) fn is_arg_key(key: &str) -> bool {
    let Some(rest) = key.strip_prefix('a') else {
        return false;
    };
    let (num, piece) = match rest.split_once('[') {
        Some((n, p)) => (n, Some(p)),
        None => (rest, None),
    };
    !num.is_empty()
        && num.bytes().all(|b| b.is_ascii_digit())
        && piece.is_none_or(|p| {
            p.len() > 1 && p.ends_with(']') && p[..p.len() - 1].bytes().all(|b| b.is_ascii_digit())
        })
}

fn decode_hex_field(record_type: &str, key: &str, raw: &str) -> String {
    if raw.is_empty() || !raw.len().is_multiple_of(2) || !raw.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return raw.to_string();
    }
    let Ok(bytes) = hex::decode(raw) else {
        return raw.to_string();
    };
    match String::from_utf8(bytes) {
        Ok(text) => match (record_type, key) {
            // The process title is argv joined by NULs.
            ("PROCTITLE", _) => text.trim_end_matches('\0').replace('\0', " "),
            // Several rule keys are joined by 0x01.
            ("SYSCALL", "key") => text.replace('\u{1}', ","),
            _ => text,
        },
        // Binary data stays hex, as in MSTICPy.
        Err(_) => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> AuditRecord {
        parse_line(line, &mut Vec::new()).unwrap().unwrap()
    }

    #[test]
    fn header_and_fields() {
        let r = parse(
            r#"type=SYSCALL msg=audit(1558439254.480:21713): arch=c000003e syscall=59 success=yes ppid=1 comm="ls" exe="/usr/bin/ls" key=(null)"#,
        );
        assert_eq!(r.record_type, "SYSCALL");
        assert_eq!(r.epoch, "1558439254.480");
        assert_eq!(r.time_ns, 1_558_439_254_480_000_000);
        assert_eq!(r.serial, 21713);
        assert_eq!(r.get("comm"), Some("ls"));
        assert_eq!(r.get("key"), Some("(null)"));
        assert_eq!(r.msg_id(), "1558439254.480:21713");
    }

    #[test]
    fn node_prefix_and_enriched_part() {
        let r = parse("node=web01 type=EXECVE msg=audit(1.5:7): argc=1 a0=\"ls\"\u{1d}ARCH=x86_64 UID=\"root\"");
        assert_eq!(r.node.as_deref(), Some("web01"));
        assert_eq!(r.time_ns, 1_500_000_000);
        assert_eq!(r.get("a0"), Some("ls"));
        assert_eq!(r.get("UID"), Some("root"));
    }

    #[test]
    fn hex_fields_are_decoded() {
        let r = parse(
            "type=EXECVE msg=audit(1.0:1): argc=2 a0=\"sh\" a1=2D632065636820686920 a2[0]=6869",
        );
        assert_eq!(r.get("a1"), Some("-c ech hi "));
        assert_eq!(r.get("a2[0]"), Some("hi"));
        let p = parse("type=PROCTITLE msg=audit(1.0:1): proctitle=6C73002D6C61002F746D70");
        assert_eq!(p.get("proctitle"), Some("ls -la /tmp"));
        // Binary or odd-length data stays as written.
        let b = parse("type=EXECVE msg=audit(1.0:1): a0=FF00 a1=ABC");
        assert_eq!(b.get("a0"), Some("FF00"));
        assert_eq!(b.get("a1"), Some("ABC"));
        // Fields auditd does not encode are never decoded.
        let s = parse("type=SYSCALL msg=audit(1.0:1): arch=c000003e a0=6869");
        assert_eq!(s.get("arch"), Some("c000003e"));
        assert_eq!(s.get("a0"), Some("6869"));
    }

    #[test]
    fn single_quoted_msg_is_flattened() {
        let r = parse(
            r#"type=USER_START msg=audit(1.0:1): pid=2000 uid=0 subj==unconfined msg='op=PAM:session_open acct="root" exe="/usr/bin/sudo" hostname=? res=success'"#,
        );
        assert_eq!(
            r.get("msg"),
            Some(r#"op=PAM:session_open acct="root" exe="/usr/bin/sudo" hostname=? res=success"#)
        );
        assert_eq!(r.get("op"), Some("PAM:session_open"));
        assert_eq!(r.get("acct"), Some("root"));
        assert_eq!(r.get("res"), Some("success"));
        assert_eq!(r.get("subj"), Some("=unconfined"));
        assert_eq!(r.get("hostname"), Some("?"));
    }

    #[test]
    fn bare_words_and_odd_spacing() {
        let r = parse("type=AVC msg=audit(1.0:1): avc:  denied  { read } for  pid=5 comm=\"x\"  ");
        assert_eq!(r.fields.len(), 2);
        assert_eq!(r.get("pid"), Some("5"));
    }

    #[test]
    fn malformed_lines() {
        let mut notes = Vec::new();
        assert!(parse_line("", &mut notes).unwrap().is_none());
        assert!(parse_line("----", &mut notes).unwrap().is_none());
        for bad in [
            "hello world",
            "type=SYSCALL",
            "type=SYSCALL msg=foo",
            "type=SYSCALL msg=audit(123): a=b",
            "type=SYSCALL msg=audit(abc:1): a=b",
            "type=SYSCALL msg=audit(1.0:x): a=b",
            "type=SYSCALL msg=audit(1.0:1",
        ] {
            assert!(parse_line(bad, &mut notes).is_err(), "{bad}");
        }
        let r = parse_line("type=CWD msg=audit(1.0:1): cwd=\"/ro", &mut notes)
            .unwrap()
            .unwrap();
        assert_eq!(r.get("cwd"), Some("/ro"));
        assert!(notes.iter().any(|n| n.contains("unterminated")));
    }

    #[test]
    fn arg_keys() {
        assert!(is_arg_key("a0") && is_arg_key("a12") && is_arg_key("a1[3]"));
        assert!(
            !is_arg_key("argc") && !is_arg_key("a") && !is_arg_key("a1_len") && !is_arg_key("a1[]")
        );
    }

    #[test]
    fn epochs() {
        assert_eq!(parse_epoch("10"), Some(10_000_000_000));
        assert_eq!(parse_epoch("1.123456789123"), Some(1_123_456_789));
        assert_eq!(parse_epoch("-1"), None);
        assert_eq!(parse_epoch(""), None);
        assert_eq!(parse_epoch("99999999999999999999"), None);
    }
}
