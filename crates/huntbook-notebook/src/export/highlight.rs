//! Syntax highlighting for code cells: a small hand-written Python lexer.
//!
//! It knows what a notebook reader needs to see at a glance — keywords, builtins,
//! strings (prefixed, triple-quoted, f-strings with their `{…}` fields), comments,
//! numbers, decorators, the names being defined, and IPython magics (`%line`, `%%cell`,
//! `!shell`). It never fails: anything it does not recognise is emitted as escaped
//! text, and other languages are emitted as escaped text throughout. Token classes are
//! short (`k`, `s`, `c`…) because they repeat on every line of every cell.

use super::escape_into;

const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else", "except",
    "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass",
    "raise", "return", "try", "while", "with", "yield",
];

const CONSTANTS: &[&str] = &["True", "False", "None", "Ellipsis", "NotImplemented", "__debug__"];

const BUILTINS: &[&str] = &[
    "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes", "callable",
    "chr", "classmethod", "compile", "complex", "delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec",
    "filter", "float", "format", "frozenset", "getattr", "globals", "hasattr", "hash", "help", "hex", "id",
    "input", "int", "isinstance", "issubclass", "iter", "len", "list", "locals", "map", "max", "memoryview", "min",
    "next", "object", "oct", "open", "ord", "pow", "print", "property", "range", "repr", "reversed", "round", "set",
    "setattr", "slice", "sorted", "staticmethod", "str", "sum", "super", "tuple", "type", "vars", "zip", "display",
    "self", "cls", "Exception", "BaseException", "ValueError", "TypeError", "KeyError", "IndexError",
    "RuntimeError", "AttributeError", "ImportError", "OSError", "StopIteration", "NotImplementedError",
];

/// Cell magics whose body is still Python; any other `%%magic` body is shown plain.
const PYTHON_CELL_MAGICS: &[&str] = &["time", "timeit", "capture", "prun", "debug", "python", "python3", "pypy"];

/// Highlights `source` as `language` ("python" when `None`), returning escaped HTML.
pub fn highlight(source: &str, language: Option<&str>) -> String {
    let language = language.unwrap_or("python").to_ascii_lowercase();
    let mut out = String::with_capacity(source.len() * 2);
    if !matches!(language.as_str(), "python" | "python3" | "ipython" | "ipython3" | "py") {
        escape_into(&mut out, source);
        return out;
    }
    if let Some(magic) = source.strip_prefix("%%") {
        let (first, rest) = match source.find('\n') {
            Some(end) => source.split_at(end),
            None => (source, ""),
        };
        span(&mut out, "mg", first);
        let name: String = magic.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if PYTHON_CELL_MAGICS.contains(&name.as_str()) {
            Lexer::new(rest, &mut out).run();
        } else {
            escape_into(&mut out, rest);
        }
        return out;
    }
    Lexer::new(source, &mut out).run();
    out
}

fn span(out: &mut String, class: &str, text: &str) {
    out.push_str("<span class=\"");
    out.push_str(class);
    out.push_str("\">");
    escape_into(out, text);
    out.push_str("</span>");
}

struct Lexer<'a, 'o> {
    src: &'a str,
    pos: usize,
    out: &'o mut String,
    /// Only blanks so far on this line: where magics, decorators and `match` may start.
    line_start: bool,
    /// The last non-blank character emitted, to tell `x.print` from `print`.
    prev: char,
    /// Class for the next identifier: the name after `def` or `class`.
    naming: Option<&'static str>,
}

impl<'a, 'o> Lexer<'a, 'o> {
    fn new(src: &'a str, out: &'o mut String) -> Self {
        Lexer { src, pos: 0, out, line_start: true, prev: '\n', naming: None }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn emit(&mut self, class: Option<&str>, end: usize) {
        let text = &self.src[self.pos..end];
        match class {
            Some(class) => span(self.out, class, text),
            None => escape_into(self.out, text),
        }
        if let Some(c) = text.chars().rev().find(|c| !c.is_whitespace()) {
            self.prev = c;
        }
        self.pos = end;
    }

    fn line_end(&self) -> usize {
        self.rest().find('\n').map_or(self.src.len(), |i| self.pos + i)
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            let at_line_start = self.line_start;
            self.line_start = false;
            match c {
                '\n' => {
                    self.emit(None, self.pos + 1);
                    self.line_start = true;
                }
                c if c.is_whitespace() => {
                    self.emit(None, self.pos + c.len_utf8());
                    self.line_start = at_line_start;
                }
                '#' => self.emit(Some("c"), self.line_end()),
                '%' | '!' if at_line_start => self.emit(Some("mg"), self.line_end()),
                '@' if at_line_start => {
                    let len = 1 + self.rest()[1..]
                        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                        .unwrap_or(self.rest().len() - 1);
                    self.emit(Some("nd"), self.pos + len);
                }
                '"' | '\'' => self.string(0),
                c if c.is_ascii_digit() => self.number(),
                '.' if self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()) => self.number(),
                c if c.is_alphabetic() || c == '_' => self.word(at_line_start),
                c => self.emit(None, self.pos + c.len_utf8()),
            }
        }
    }

    fn word(&mut self, at_line_start: bool) {
        let len = self.rest().find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(self.rest().len());
        let word = &self.rest()[..len];
        let after = &self.rest()[len..];
        if after.starts_with(['"', '\''])
            && len <= 2
            && word.chars().all(|c| "rRbBuUfFtT".contains(c))
        {
            return self.string(len);
        }
        let class = if let Some(class) = self.naming.take() {
            Some(class)
        } else if KEYWORDS.contains(&word) {
            self.naming = match word {
                "def" => Some("nf"),
                "class" => Some("nc"),
                _ => None,
            };
            Some("k")
        } else if CONSTANTS.contains(&word) {
            Some("kc")
        } else if self.prev != '.' && BUILTINS.contains(&word) {
            Some("nb")
        } else if at_line_start && matches!(word, "match" | "case") && soft_keyword_statement(after) {
            Some("k")
        } else {
            None
        };
        self.emit(class, self.pos + len);
    }

    /// A string literal whose prefix (`f`, `rb`…) is `prefix_len` bytes long.
    fn string(&mut self, prefix_len: usize) {
        let prefix = self.rest()[..prefix_len].to_ascii_lowercase();
        let is_f = prefix.contains('f') || prefix.contains('t');
        let body = &self.rest()[prefix_len..];
        let quote = body.chars().next().expect("a quote follows the prefix");
        let triple = body.starts_with(&quote.to_string().repeat(3));
        let delimiter_len = if triple { 3 } else { 1 };
        let mut i = self.pos + prefix_len + delimiter_len;
        let mut chunk_start = self.pos;
        let bytes = self.src.as_bytes();
        while let Some(c) = self.src[i..].chars().next() {
            if c == '\\' {
                i += 1 + self.src[i + 1..].chars().next().map_or(0, char::len_utf8);
                continue;
            }
            if c == '\n' && !triple {
                break;
            }
            if c == quote && (!triple || self.src[i..].starts_with(&quote.to_string().repeat(3))) {
                i += delimiter_len;
                break;
            }
            if is_f && c == '{' {
                if bytes.get(i + 1) == Some(&b'{') {
                    i += 2;
                    continue;
                }
                self.pos = chunk_start;
                self.emit(Some("s"), i);
                let end = fstring_field_end(self.src, i);
                self.emit(Some("si"), end);
                chunk_start = end;
                i = end;
                continue;
            }
            i += c.len_utf8();
        }
        self.pos = chunk_start;
        self.emit(Some("s"), i.min(self.src.len()));
    }

    fn number(&mut self) {
        let rest = self.rest().as_bytes();
        let mut i = 0;
        if rest.len() > 1 && rest[0] == b'0' && matches!(rest[1], b'x' | b'X' | b'o' | b'O' | b'b' | b'B') {
            i = 2;
            while i < rest.len() && (rest[i].is_ascii_hexdigit() || rest[i] == b'_') {
                i += 1;
            }
        } else {
            while i < rest.len() && (rest[i].is_ascii_digit() || rest[i] == b'_' || rest[i] == b'.') {
                i += 1;
            }
            if i < rest.len() && matches!(rest[i], b'e' | b'E') {
                let mut j = i + 1;
                if j < rest.len() && matches!(rest[j], b'+' | b'-') {
                    j += 1;
                }
                if j < rest.len() && rest[j].is_ascii_digit() {
                    i = j;
                    while i < rest.len() && (rest[i].is_ascii_digit() || rest[i] == b'_') {
                        i += 1;
                    }
                }
            }
            if i < rest.len() && matches!(rest[i], b'j' | b'J') {
                i += 1;
            }
        }
        self.emit(Some("m"), self.pos + i);
    }
}

/// Whether `match`/`case` starts a statement (`match x:`), not an expression (`match = 1`).
fn soft_keyword_statement(after: &str) -> bool {
    let line = after.split('\n').next().unwrap_or("");
    let code = line.split('#').next().unwrap_or("").trim_end();
    after.starts_with([' ', '\t', '(', '[', '{', '"', '\'']) && code.ends_with(':') && !code.trim_start().starts_with('=')
}

/// The end of the f-string replacement field opening at `open` (just past its `}`),
/// skipping nested brackets and strings so `f"{d['k']}"` or `f"{x:{w}}"` stay whole.
fn fstring_field_end(src: &str, open: usize) -> usize {
    let mut depth = 0usize;
    let mut in_str: Option<char> = None;
    for (offset, c) in src[open..].char_indices() {
        let at = open + offset;
        if c == '\n' {
            // A field never spans lines in practice; stopping here keeps a stray `{`
            // from swallowing the rest of the cell.
            return at;
        }
        if let Some(q) = in_str {
            if c == q {
                in_str = None;
            }
            continue;
        }
        match c {
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at + 1;
                }
            }
            '\'' | '"' => in_str = Some(c),
            _ => {}
        }
    }
    src.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(src: &str) -> String {
        highlight(src, Some("python"))
    }

    #[test]
    fn keywords_builtins_and_names() {
        assert_eq!(
            h("def f(x):\n    return len(x)"),
            "<span class=\"k\">def</span> <span class=\"nf\">f</span>(x):\n    \
             <span class=\"k\">return</span> <span class=\"nb\">len</span>(x)"
        );
        assert_eq!(h("class A: pass"), "<span class=\"k\">class</span> <span class=\"nc\">A</span>: <span class=\"k\">pass</span>");
        assert_eq!(h("x.print"), "x.print", "attributes are not builtins");
        assert_eq!(h("None"), "<span class=\"kc\">None</span>");
        assert_eq!(h("classes = 1"), "classes = <span class=\"m\">1</span>");
    }

    #[test]
    fn strings() {
        assert_eq!(h("'a\\'b'"), "<span class=\"s\">&#39;a\\&#39;b&#39;</span>");
        assert_eq!(h("rb\"x\" + u'y'"), "<span class=\"s\">rb&quot;x&quot;</span> + <span class=\"s\">u&#39;y&#39;</span>");
        let triple = h("s = \"\"\"one\n# not a comment\n\"two\"\"\"\nx");
        assert!(triple.starts_with("s = <span class=\"s\">&quot;&quot;&quot;one\n# not a comment\n&quot;two&quot;&quot;&quot;</span>"), "{triple}");
        assert!(triple.ends_with("\nx"));
        assert_eq!(h("'open\nx"), "<span class=\"s\">&#39;open</span>\nx", "an unterminated string stops at the line end");
    }

    #[test]
    fn f_strings() {
        assert_eq!(
            h("f\"a{b['k']:>{w}}{{c}}\""),
            "<span class=\"s\">f&quot;a</span><span class=\"si\">{b[&#39;k&#39;]:&gt;{w}}</span>\
             <span class=\"s\">{{c}}&quot;</span>"
        );
        assert_eq!(h("F'{x}'"), "<span class=\"s\">F&#39;</span><span class=\"si\">{x}</span><span class=\"s\">&#39;</span>");
    }

    #[test]
    fn comments_numbers_decorators() {
        assert_eq!(h("x = 1 # 'no string'"), "x = <span class=\"m\">1</span> <span class=\"c\"># &#39;no string&#39;</span>");
        assert_eq!(
            h("0xFF 1_000 3.5e-2 2j .5"),
            "<span class=\"m\">0xFF</span> <span class=\"m\">1_000</span> <span class=\"m\">3.5e-2</span> \
             <span class=\"m\">2j</span> <span class=\"m\">.5</span>"
        );
        assert_eq!(h("  @functools.cache\ndef g(): a @ b"),
            "  <span class=\"nd\">@functools.cache</span>\n<span class=\"k\">def</span> <span class=\"nf\">g</span>(): a @ b");
        assert_eq!(h("x1 = y2"), "x1 = y2");
    }

    #[test]
    fn magics() {
        assert_eq!(h("%matplotlib inline\n!ls -l\nx = 5 % 2"),
            "<span class=\"mg\">%matplotlib inline</span>\n<span class=\"mg\">!ls -l</span>\n\
             x = <span class=\"m\">5</span> % <span class=\"m\">2</span>");
        assert_eq!(h("%%bash\necho 'x' # y"), "<span class=\"mg\">%%bash</span>\necho &#39;x&#39; # y");
        assert_eq!(h("%%time\nimport x"), "<span class=\"mg\">%%time</span>\n<span class=\"k\">import</span> x");
    }

    #[test]
    fn soft_keywords() {
        assert!(h("match cmd:\n    case 'a':\n        pass").starts_with("<span class=\"k\">match</span>"));
        assert!(h("match cmd:\n    case 'a':\n        pass").contains("<span class=\"k\">case</span>"));
        assert_eq!(h("match = re.match(p, s)"), "match = re.match(p, s)");
    }

    #[test]
    fn other_languages_are_escaped_text() {
        assert_eq!(highlight("echo \"<b>\" # x", Some("bash")), "echo &quot;&lt;b&gt;&quot; # x");
        assert_eq!(highlight("for x in y", Some("R")), "for x in y");
    }

    #[test]
    fn never_loses_or_injects_text() {
        let src = "s = f'{x!r}' + \"</span><script>\" # é\n@ \n\\\n'''unclosed";
        let html = h(src);
        assert!(!html.contains("<script>"));
        let text = html.replace("</span>", "");
        let mut plain = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("<span class=\"") {
            plain.push_str(&rest[..i]);
            rest = &rest[i..];
            rest = &rest[rest.find("\">").unwrap() + 2..];
        }
        plain.push_str(rest);
        let unescaped = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
        assert_eq!(unescaped, src);
    }
}
