//! A reader of JSON values, one at a time, straight from the text of an answer.
//!
//! A row decoder needs each cell both as its JSON text and, for a string, as the
//! string's value, and then the place where the next value starts. serde_json gives
//! either the text or the value, so every cell used to be read twice. This reader
//! finds a string's end and unescapes it in one pass, and checks an object or array
//! inside a cell (a `dynamic` value) without building it. It is as strict as
//! serde_json: no control characters in strings, no leading zeros, no trailing commas.

/// What was wrong, and the byte offset in the text where it was found.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub offset: usize,
    pub problem: &'static str,
}

/// One value read from the text.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Cell<'r> {
    /// The value's JSON text.
    pub raw: &'r str,
    pub kind: Kind<'r>,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Kind<'r> {
    Null,
    Bool(bool),
    Number,
    /// A string, unescaped.
    Str(&'r str),
    /// An object or an array, or a string that is not Unicode text (it escapes half
    /// of a UTF-16 surrogate pair): usable only as JSON text.
    Other,
}

/// Reads values from a text, starting at a byte offset.
pub(super) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    /// The value of the last string that had escapes.
    scratch: String,
    /// The closing brackets of the objects and arrays being skipped.
    open: Vec<u8>,
}

/// Where a string's value is.
enum Text {
    /// Between these offsets of the text: the string has no escapes.
    Span(usize, usize),
    /// In the scratch buffer.
    Scratch,
    /// Nowhere: it is not Unicode text.
    NotUnicode,
}

/// Bytes that end a run of plain string characters: the quote, the backslash and
/// the control characters, which JSON requires to be escaped.
const STOPS: [bool; 256] = {
    let mut stops = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        stops[b] = true;
        b += 1;
    }
    stops[b'"' as usize] = true;
    stops[b'\\' as usize] = true;
    stops
};

/// The offset of the first byte from `i` that ends a run of plain string characters
/// (see [`STOPS`]), or the text's length. Strings are most of an answer, so this
/// looks at eight bytes at a time.
fn skip_plain(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    while let Some(eight) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*eight);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // A byte's high bit is set here when the byte is a quote, a backslash or
        // below 0x20, or (a borrow's false alarm) when one of those comes before it:
        // the lowest set bit is always a true stop.
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x))
            & HIGH;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while bytes.get(i).is_some_and(|&b| !STOPS[usize::from(b)]) {
        i += 1;
    }
    i
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str, pos: usize) -> Reader<'a> {
        Reader {
            text,
            pos,
            scratch: String::new(),
            open: Vec::new(),
        }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Skips whitespace and returns the next byte without taking it.
    pub fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Takes the byte [`Reader::peek`] returned.
    pub fn advance(&mut self) {
        self.pos += 1;
    }

    /// Takes `byte` after any whitespace, or fails with `problem`.
    pub fn expect(&mut self, byte: u8, problem: &'static str) -> Result<(), SyntaxError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(problem))
        }
    }

    pub fn error(&self, problem: &'static str) -> SyntaxError {
        SyntaxError {
            offset: self.pos,
            problem,
        }
    }

    /// The next value.
    pub fn value(&mut self) -> Result<Cell<'_>, SyntaxError> {
        let first = self.peek();
        let start = self.pos;
        let kind = match first {
            Some(b'"') => {
                let text = self.string(true)?;
                let raw = &self.text[start..self.pos];
                let kind = match text {
                    Text::Span(from, to) => Kind::Str(&self.text[from..to]),
                    Text::Scratch => Kind::Str(&self.scratch),
                    Text::NotUnicode => Kind::Other,
                };
                return Ok(Cell { raw, kind });
            }
            Some(b'[' | b'{') => {
                self.skip_nested()?;
                Kind::Other
            }
            _ => self.scalar()?,
        };
        Ok(Cell {
            raw: &self.text[start..self.pos],
            kind,
        })
    }

    /// An object's key and the colon after it. A key that is not Unicode text is
    /// given as its JSON text, which names no column.
    pub fn key(&mut self) -> Result<&str, SyntaxError> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a quoted key"));
        }
        let start = self.pos;
        let text = self.string(true)?;
        let end = self.pos;
        self.expect(b':', "expected ':' after a key")?;
        Ok(match text {
            Text::Span(from, to) => &self.text[from..to],
            Text::Scratch => &self.scratch,
            Text::NotUnicode => &self.text[start..end],
        })
    }

    /// The JSON text of the next value, checked but not decoded.
    pub fn raw(&mut self) -> Result<&'a str, SyntaxError> {
        let first = self.peek();
        let start = self.pos;
        match first {
            Some(b'"') => {
                self.string(false)?;
            }
            Some(b'[' | b'{') => self.skip_nested()?,
            _ => {
                self.scalar()?;
            }
        }
        Ok(&self.text[start..self.pos])
    }

    /// A literal or a number.
    fn scalar(&mut self) -> Result<Kind<'static>, SyntaxError> {
        let rest = &self.text.as_bytes()[self.pos..];
        let (kind, word): (Kind, &[u8]) = match rest.first() {
            Some(b't') => (Kind::Bool(true), b"true"),
            Some(b'f') => (Kind::Bool(false), b"false"),
            Some(b'n') => (Kind::Null, b"null"),
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                return Ok(Kind::Number);
            }
            _ => return Err(self.error("expected a value")),
        };
        if !rest.starts_with(word) {
            return Err(self.error("expected a value"));
        }
        self.pos += word.len();
        Ok(kind)
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        let bytes = self.text.as_bytes();
        let digits = |mut i: usize| {
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut i = self.pos;
        if bytes[i] == b'-' {
            i += 1;
        }
        i = match bytes.get(i) {
            Some(b'0') => i + 1,
            Some(b'1'..=b'9') => digits(i + 1),
            _ => {
                self.pos = i;
                return Err(self.error("a number needs a digit after its sign"));
            }
        };
        if bytes.get(i) == Some(&b'.') {
            let end = digits(i + 1);
            if end == i + 1 {
                self.pos = end;
                return Err(self.error("a number needs a digit after its decimal point"));
            }
            i = end;
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let end = digits(i);
            if end == i {
                self.pos = end;
                return Err(self.error("a number needs a digit in its exponent"));
            }
            i = end;
        }
        self.pos = i;
        Ok(())
    }

    /// Reads the string starting at the quote here; with `decode`, works out its
    /// value too.
    fn string(&mut self, decode: bool) -> Result<Text, SyntaxError> {
        let bytes = self.text.as_bytes();
        let first = self.pos + 1;
        // The start of the characters not yet copied to the scratch buffer.
        let mut run = first;
        let mut i = first;
        let mut escaped = false;
        let mut unicode = true;
        loop {
            i = skip_plain(bytes, i);
            match bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(match (escaped && decode, unicode) {
                        (false, _) => Text::Span(first, i),
                        (true, false) => Text::NotUnicode,
                        (true, true) => {
                            self.scratch.push_str(&self.text[run..i]);
                            Text::Scratch
                        }
                    });
                }
                Some(b'\\') => {
                    if decode {
                        if !escaped {
                            self.scratch.clear();
                        }
                        self.scratch.push_str(&self.text[run..i]);
                    }
                    escaped = true;
                    let (next, c) = self.escape(i)?;
                    match c {
                        Some(c) if decode => self.scratch.push(c),
                        Some(_) => {}
                        None => unicode = false,
                    }
                    i = next;
                    run = i;
                }
                Some(_) => {
                    self.pos = i;
                    return Err(self.error("a control character in a string must be escaped"));
                }
                None => {
                    self.pos = i;
                    return Err(self.error("a string has no closing quote"));
                }
            }
        }
    }

    /// The escape at byte `i` (a backslash): where the text goes on, and the
    /// character, or `None` for half of a surrogate pair.
    fn escape(&mut self, i: usize) -> Result<(usize, Option<char>), SyntaxError> {
        let bytes = self.text.as_bytes();
        let c = match bytes.get(i + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let unit = self.hex(i + 2)?;
                if !(0xD800..0xDC00).contains(&unit) {
                    return Ok((i + 6, char::from_u32(unit)));
                }
                // A leading surrogate makes a character with a trailing one after it.
                let low = (bytes.get(i + 6..i + 8) == Some(b"\\u"))
                    .then(|| self.hex(i + 8))
                    .transpose()?
                    .filter(|low| (0xDC00..0xE000).contains(low));
                return Ok(match low {
                    Some(low) => (
                        i + 12,
                        char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)),
                    ),
                    None => (i + 6, None),
                });
            }
            _ => {
                self.pos = i;
                return Err(self.error("a string has an unknown escape"));
            }
        };
        Ok((i + 2, Some(c)))
    }

    /// The four hex digits of a `\u` escape at byte `at`.
    fn hex(&mut self, at: usize) -> Result<u32, SyntaxError> {
        let digits = self.text.as_bytes().get(at..at + 4).and_then(|d| {
            d.iter()
                .try_fold(0u32, |acc, &c| Some(acc * 16 + char::from(c).to_digit(16)?))
        });
        digits.ok_or_else(|| {
            self.pos = at;
            self.error("a \\u escape needs four hex digits")
        })
    }

    /// Checks the object or array starting here and moves past it.
    fn skip_nested(&mut self) -> Result<(), SyntaxError> {
        self.open.clear();
        loop {
            // At the start of a value.
            match self.peek() {
                Some(open @ (b'[' | b'{')) => {
                    self.pos += 1;
                    let close = if open == b'[' { b']' } else { b'}' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                    } else {
                        self.open.push(close);
                        if close == b'}' {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    self.string(false)?;
                }
                _ => {
                    self.scalar()?;
                }
            }
            // After a value: close the containers it ends, or go on to the next value.
            loop {
                let Some(&close) = self.open.last() else {
                    return Ok(());
                };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if close == b'}' {
                            self.skip_key()?;
                        }
                        break;
                    }
                    Some(b) if b == close => {
                        self.pos += 1;
                        self.open.pop();
                    }
                    _ if close == b']' => return Err(self.error("expected ',' or ']' in an array")),
                    _ => return Err(self.error("expected ',' or '}' in an object")),
                }
            }
        }
    }

    fn skip_key(&mut self) -> Result<(), SyntaxError> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a quoted key"));
        }
        self.string(false)?;
        self.expect(b':', "expected ':' after a key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<(String, Kind<'static>, usize), SyntaxError> {
        let mut reader = Reader::new(text, 0);
        let cell = reader.value()?;
        let kind = match cell.kind {
            Kind::Null => Kind::Null,
            Kind::Bool(b) => Kind::Bool(b),
            Kind::Number => Kind::Number,
            Kind::Str(s) => Kind::Str(s.to_string().leak()),
            Kind::Other => Kind::Other,
        };
        let raw = cell.raw.to_string();
        Ok((raw, kind, reader.pos()))
    }

    #[test]
    fn scalars_give_their_text_and_value() {
        assert_eq!(
            read(" true,").unwrap(),
            ("true".into(), Kind::Bool(true), 5)
        );
        assert_eq!(read("null]").unwrap(), ("null".into(), Kind::Null, 4));
        for number in ["0", "-0", "12", "-3.25", "1e9", "6.02E+23", "1.5e-7"] {
            let (raw, kind, _) = read(&format!("{number},")).unwrap();
            assert_eq!((raw.as_str(), kind), (number, Kind::Number));
        }
    }

    #[test]
    fn strings_are_unescaped_in_one_pass() {
        assert_eq!(
            read(r#""plain" "#).unwrap(),
            (r#""plain""#.into(), Kind::Str("plain"), 7)
        );
        let (raw, kind, _) = read(r#""CONTOSO\\alice \"x\"\n\u00e9\ud83d\ude00\/""#).unwrap();
        assert_eq!(raw, r#""CONTOSO\\alice \"x\"\n\u00e9\ud83d\ude00\/""#);
        assert_eq!(kind, Kind::Str("CONTOSO\\alice \"x\"\n\u{e9}\u{1f600}/"));
        // Each string's value stands alone: the scratch buffer starts afresh.
        let mut reader = Reader::new(r#""a\tb" "c\nd" "e""#, 0);
        assert_eq!(reader.value().unwrap().kind, Kind::Str("a\tb"));
        assert_eq!(reader.value().unwrap().kind, Kind::Str("c\nd"));
        assert_eq!(reader.value().unwrap().kind, Kind::Str("e"));
    }

    #[test]
    fn a_lone_surrogate_is_kept_as_json_text() {
        for text in [r#""\ud800""#, r#""x\udc00y""#, r#""\ud800\u0041""#] {
            let (raw, kind, _) = read(text).unwrap();
            assert_eq!((raw.as_str(), kind), (text, Kind::Other));
        }
    }

    #[test]
    fn nested_values_are_checked_and_kept_as_text() {
        let text = r#"{"a": [1, {"b": "x]}"}, [], {}], "c": null} ,"#;
        let (raw, kind, pos) = read(text).unwrap();
        assert_eq!(raw, r#"{"a": [1, {"b": "x]}"}, [], {}], "c": null}"#);
        assert_eq!(kind, Kind::Other);
        assert_eq!(pos, raw.len());
        assert_eq!(read("[]").unwrap().0, "[]");
        assert_eq!(read("[[[[1]]]]").unwrap().0, "[[[[1]]]]");
    }

    #[test]
    fn bad_json_is_refused_where_it_goes_wrong() {
        let cases = [
            ("01", 1, None),
            ("-", 1, Some("a number needs a digit after its sign")),
            (
                "1.",
                2,
                Some("a number needs a digit after its decimal point"),
            ),
            ("1e+", 3, Some("a number needs a digit in its exponent")),
            ("tru", 0, Some("expected a value")),
            ("'x'", 0, Some("expected a value")),
            ("\"abc", 4, Some("a string has no closing quote")),
            (
                "\"a\u{1}b\"",
                2,
                Some("a control character in a string must be escaped"),
            ),
            (r#""a\qb""#, 2, Some("a string has an unknown escape")),
            (r#""\u12x4""#, 3, Some("a \\u escape needs four hex digits")),
            ("[1,]", 3, Some("expected a value")),
            ("[1 2]", 3, Some("expected ',' or ']' in an array")),
            (r#"{"a" 1}"#, 5, Some("expected ':' after a key")),
            (r#"{"a":1,}"#, 7, Some("expected a quoted key")),
            (r#"{"a":1]"#, 6, Some("expected ',' or '}' in an object")),
            ("[1, [2, 3]", 10, Some("expected ',' or ']' in an array")),
        ];
        for (text, offset, problem) in cases {
            match read(text) {
                // `01` reads as `0` and leaves `1`, which no row can take after a value.
                Ok((raw, _, pos)) => assert_eq!((raw.as_str(), pos, problem), ("0", offset, None)),
                Err(e) => assert_eq!((e.offset, Some(e.problem)), (offset, problem), "{text}"),
            }
        }
    }

    #[test]
    fn plain_runs_end_at_the_first_stop_wherever_it_falls() {
        for len in 0..20 {
            for stop in ["\"", "\\", "\n", "\u{1f}"] {
                // Multi-byte characters, and bytes just above the stops, are plain.
                let text = format!(
                    "{}{stop}x\"",
                    "é !#[]]".chars().cycle().take(len).collect::<String>()
                );
                let expected = text.find(stop).unwrap();
                assert_eq!(skip_plain(text.as_bytes(), 0), expected, "{text:?}");
            }
            let plain = "a".repeat(len);
            assert_eq!(skip_plain(plain.as_bytes(), 0), len);
        }
    }

    #[test]
    fn raw_values_are_checked_but_not_decoded() {
        let mut reader = Reader::new(r#" "a\"b" , {"x": [1]} 7"#, 0);
        assert_eq!(reader.raw().unwrap(), r#""a\"b""#);
        reader.expect(b',', "comma").unwrap();
        assert_eq!(reader.raw().unwrap(), r#"{"x": [1]}"#);
        assert_eq!(reader.raw().unwrap(), "7");
        assert_eq!(
            Reader::new("[1, }", 0).raw().unwrap_err(),
            SyntaxError {
                offset: 4,
                problem: "expected a value"
            }
        );
    }

    #[test]
    fn keys_are_unescaped_and_take_their_colon() {
        let mut reader = Reader::new(r#"{"Time\u0047enerated" : 1}"#, 1);
        assert_eq!(reader.key().unwrap(), "TimeGenerated");
        assert_eq!(reader.value().unwrap().raw, "1");
    }
}
