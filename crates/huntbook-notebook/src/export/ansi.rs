//! Terminal text to HTML: ANSI colours, carriage returns and backspaces.
//!
//! Output text is replayed on a small virtual screen, the way a terminal would show
//! it, so a progress bar redrawn with `\r` (or moved with cursor-up, as nested tqdm
//! bars do) ends up as its final state instead of a hundred concatenated copies.
//! SGR styling becomes spans: the 16 standard colours and the text attributes become
//! classes the stylesheet themes (light, dark, print); 256-colour and truecolour
//! values become inline `style` colours since they name an exact colour already.
//! Escape sequences that do not affect the final text (cursor visibility, titles,
//! hyperlinks) are dropped; all text is escaped.

use super::escape_into;

const NAMES: [&str; 8] = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Color {
    Index(u8),
    Rgb(u8, u8, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Style {
    fg: Option<Color>,
    bg: Option<Color>,
    bold: bool,
    faint: bool,
    italic: bool,
    underline: bool,
    inverse: bool,
    strike: bool,
}

type Cell = (char, Style);

/// A grid of styled characters with a cursor.
#[derive(Default)]
struct Screen {
    rows: Vec<Vec<Cell>>,
    row: usize,
    col: usize,
    style: Style,
}

impl Screen {
    fn line(&mut self) -> &mut Vec<Cell> {
        while self.rows.len() <= self.row {
            self.rows.push(Vec::new());
        }
        &mut self.rows[self.row]
    }

    fn put(&mut self, c: char) {
        let (col, style) = (self.col, self.style);
        let line = self.line();
        if col < line.len() {
            line[col] = (c, style);
        } else {
            line.resize(col, (' ', Style::default()));
            line.push((c, style));
        }
        self.col += 1;
    }

    fn erase_in_line(&mut self, mode: u32) {
        let col = self.col;
        let line = self.line();
        match mode {
            0 => line.truncate(col),
            1 => {
                let end = (col + 1).min(line.len());
                line[..end].fill((' ', Style::default()));
            }
            _ => line.clear(),
        }
    }

    /// Applies one CSI sequence: `params` between `ESC [` and the `final` byte.
    fn csi(&mut self, params: &str, final_byte: char) {
        let first = |default: usize| -> usize {
            params.split(';').next().and_then(|p| p.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
        };
        match final_byte {
            'm' => self.sgr(params),
            'K' => self.erase_in_line(params.parse().unwrap_or(0)),
            'A' => self.row = self.row.saturating_sub(first(1)),
            'B' => self.row += first(1),
            'C' => self.col += first(1),
            'D' => self.col = self.col.saturating_sub(first(1)),
            'E' => {
                self.row += first(1);
                self.col = 0;
            }
            'F' => {
                self.row = self.row.saturating_sub(first(1));
                self.col = 0;
            }
            'G' => self.col = first(1) - 1,
            // Screen clears, scrolling and absolute positioning have no meaning for a
            // log that only grows; they are ignored.
            _ => {}
        }
    }

    fn sgr(&mut self, params: &str) {
        let codes: Vec<&str> = params.split(';').collect();
        let mut i = 0;
        while i < codes.len() {
            let part = codes[i];
            i += 1;
            if part.contains(':') {
                // ITU form: 38:5:n or 38:2:[colourspace]:r:g:b, one parameter.
                let subs: Vec<u32> = part.split(':').map(|s| s.parse().unwrap_or(0)).collect();
                let color = match subs.get(1) {
                    Some(5) => subs.get(2).map(|&n| Color::Index(n.min(255) as u8)),
                    Some(2) => {
                        let rgb = if subs.len() >= 6 { &subs[3..6] } else { &subs[2..subs.len().min(5)] };
                        (rgb.len() == 3).then(|| Color::Rgb(byte(rgb[0]), byte(rgb[1]), byte(rgb[2])))
                    }
                    _ => None,
                };
                match subs[0] {
                    38 => self.style.fg = color,
                    48 => self.style.bg = color,
                    4 => self.style.underline = subs.get(1).is_none_or(|&s| s != 0),
                    _ => {}
                }
                continue;
            }
            let code: u32 = if part.is_empty() { 0 } else { part.parse().unwrap_or(u32::MAX) };
            let s = &mut self.style;
            match code {
                0 => *s = Style::default(),
                1 => s.bold = true,
                2 => s.faint = true,
                3 => s.italic = true,
                4 => s.underline = true,
                7 => s.inverse = true,
                9 => s.strike = true,
                21 | 24 => s.underline = false,
                22 => (s.bold, s.faint) = (false, false),
                23 => s.italic = false,
                27 => s.inverse = false,
                29 => s.strike = false,
                30..=37 => s.fg = Some(Color::Index((code - 30) as u8)),
                39 => s.fg = None,
                40..=47 => s.bg = Some(Color::Index((code - 40) as u8)),
                49 => s.bg = None,
                90..=97 => s.fg = Some(Color::Index((code - 90 + 8) as u8)),
                100..=107 => s.bg = Some(Color::Index((code - 100 + 8) as u8)),
                38 | 48 => {
                    let arg = |k: usize| codes.get(i + k).and_then(|p| p.parse::<u32>().ok());
                    let color = match arg(0) {
                        Some(5) => {
                            let c = arg(1).map(|n| Color::Index(n.min(255) as u8));
                            i += 2;
                            c
                        }
                        Some(2) => {
                            let c = match (arg(1), arg(2), arg(3)) {
                                (Some(r), Some(g), Some(b)) => Some(Color::Rgb(byte(r), byte(g), byte(b))),
                                _ => None,
                            };
                            i += 4;
                            c
                        }
                        _ => None,
                    };
                    if code == 38 {
                        s.fg = color;
                    } else {
                        s.bg = color;
                    }
                }
                _ => {}
            }
        }
    }
}

fn byte(n: u32) -> u8 {
    n.min(255) as u8
}

/// Renders terminal output as escaped HTML for a `<pre>`.
pub fn to_html(text: &str) -> String {
    if !text.contains(['\u{1b}', '\r', '\u{8}']) {
        // Nothing to replay (the common case, and large logs): skip the screen grid.
        let text = text.strip_suffix('\n').unwrap_or(text);
        let mut out = String::with_capacity(text.len() + text.len() / 8);
        if text.contains(|c: char| c.is_control() && c != '\n' && c != '\t') {
            let visible: String = text.chars().filter(|&c| !c.is_control() || c == '\n' || c == '\t').collect();
            escape_into(&mut out, &visible);
        } else {
            escape_into(&mut out, text);
        }
        return out;
    }
    let screen = replay(text);
    let mut rows = screen.rows;
    if rows.len() > 1 && rows.last().is_some_and(Vec::is_empty) {
        rows.pop();
    }
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let mut start = 0;
        while start < row.len() {
            let style = row[start].1;
            let end = row[start..].iter().position(|c| c.1 != style).map_or(row.len(), |p| start + p);
            let text: String = row[start..end].iter().map(|c| c.0).collect();
            if style == Style::default() {
                escape_into(&mut out, &text);
            } else {
                open_span(&mut out, &style);
                escape_into(&mut out, &text);
                out.push_str("</span>");
            }
            start = end;
        }
    }
    out
}

/// Removes escape sequences and replays `\r`/`\b`, keeping only the visible text.
pub fn strip(text: &str) -> String {
    let screen = replay(text);
    let lines: Vec<String> = screen.rows.iter().map(|r| r.iter().map(|c| c.0).collect()).collect();
    lines.join("\n")
}

fn replay(text: &str) -> Screen {
    let mut screen = Screen::default();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\n' => {
                screen.row += 1;
                screen.col = 0;
                screen.line();
            }
            '\r' => screen.col = 0,
            '\u{8}' => screen.col = screen.col.saturating_sub(1),
            '\t' => screen.put('\t'),
            '\u{1b}' => match chars.peek().map(|&(_, c)| c) {
                Some('[') => {
                    chars.next();
                    let params_start = at + 2;
                    let mut params_end = params_start;
                    let mut final_byte = None;
                    for (i, c) in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            params_end = i;
                            final_byte = Some(c);
                            break;
                        }
                        if !('\u{20}'..='\u{3f}').contains(&c) {
                            // Not a well-formed sequence: stop swallowing text.
                            params_end = i;
                            break;
                        }
                    }
                    let params = &text[params_start..params_end.max(params_start)];
                    if let Some(f) = final_byte {
                        if params.bytes().all(|b| b.is_ascii_digit() || b == b';' || b == b':') {
                            screen.csi(params, f);
                        }
                    }
                }
                Some(']') => {
                    // OSC (titles, hyperlinks): up to BEL or ESC \.
                    chars.next();
                    while let Some((_, c)) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            chars.next_if(|&(_, c)| c == '\\');
                            break;
                        }
                    }
                }
                Some('(' | ')' | '*' | '+') => {
                    chars.next();
                    chars.next();
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            c if c.is_control() => {}
            c => screen.put(c),
        }
    }
    screen
}

fn open_span(out: &mut String, style: &Style) {
    let (mut fg, mut bg) = (style.fg, style.bg);
    let mut classes: Vec<String> = Vec::new();
    if style.inverse {
        (fg, bg) = (bg, fg);
        if fg.is_none() {
            classes.push("ansi-inverse-fg".into());
        }
        if bg.is_none() {
            classes.push("ansi-inverse-bg".into());
        }
    }
    let mut css = String::new();
    match fg {
        Some(Color::Index(n)) if n < 16 => classes.push(format!("ansi-{}", color_name(n))),
        Some(c) => css.push_str(&format!("color:{};", hex(c))),
        None => {}
    }
    match bg {
        Some(Color::Index(n)) if n < 16 => classes.push(format!("ansi-bg-{}", color_name(n))),
        Some(c) => css.push_str(&format!("background-color:{};", hex(c))),
        None => {}
    }
    for (on, class) in [
        (style.bold, "ansi-bold"),
        (style.faint, "ansi-faint"),
        (style.italic, "ansi-italic"),
        (style.underline, "ansi-underline"),
        (style.strike, "ansi-strike"),
    ] {
        if on {
            classes.push(class.into());
        }
    }
    out.push_str("<span");
    if !classes.is_empty() {
        out.push_str(" class=\"");
        out.push_str(&classes.join(" "));
        out.push('"');
    }
    if !css.is_empty() {
        out.push_str(" style=\"");
        out.push_str(&css);
        out.push('"');
    }
    out.push('>');
}

fn color_name(n: u8) -> String {
    if n < 8 {
        NAMES[n as usize].to_string()
    } else {
        format!("bright-{}", NAMES[(n - 8) as usize])
    }
}

/// `#rrggbb` for a 256-colour index (16–255) or a truecolour value.
fn hex(color: Color) -> String {
    let (r, g, b) = match color {
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Index(n) if n >= 232 => {
            let v = 8 + 10 * (n - 232);
            (v, v, v)
        }
        Color::Index(n) => {
            let n = n.saturating_sub(16);
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            (level(n / 36), level((n / 6) % 6), level(n % 6))
        }
    };
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_escaped() {
        assert_eq!(to_html("a < b && c > \"d\"\n"), "a &lt; b &amp;&amp; c &gt; &quot;d&quot;");
        assert_eq!(to_html("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
    }

    #[test]
    fn the_fast_path_matches_the_screen() {
        for text in ["a\n\nb\n", "x\u{7}y\tz\n\n", "", "\n", "é<\n"] {
            let mut screen = String::new();
            let rows: Vec<String> = replay(text).rows.iter().map(|r| r.iter().map(|c| c.0).collect()).collect();
            let mut rows = rows;
            if rows.len() > 1 && rows.last().is_some_and(String::is_empty) {
                rows.pop();
            }
            escape_into(&mut screen, &rows.join("\n"));
            assert_eq!(to_html(text), screen, "{text:?}");
        }
    }

    #[test]
    fn basic_colours_and_bold_become_classes() {
        assert_eq!(to_html("\u{1b}[31mred\u{1b}[0m plain"), "<span class=\"ansi-red\">red</span> plain");
        assert_eq!(
            to_html("\u{1b}[1;92;44mx\u{1b}[22my\u{1b}[39;49mz"),
            "<span class=\"ansi-bright-green ansi-bg-blue ansi-bold\">x</span>\
             <span class=\"ansi-bright-green ansi-bg-blue\">y</span>z"
        );
        assert_eq!(to_html("\u{1b}[mx"), "x", "an empty SGR resets");
    }

    #[test]
    fn extended_colours_become_inline_styles() {
        assert_eq!(to_html("\u{1b}[38;5;196mx"), "<span style=\"color:#ff0000;\">x</span>");
        assert_eq!(to_html("\u{1b}[38;5;9mx"), "<span class=\"ansi-bright-red\">x</span>");
        assert_eq!(to_html("\u{1b}[48;5;244mx"), "<span style=\"background-color:#808080;\">x</span>");
        assert_eq!(to_html("\u{1b}[38;2;1;2;255mx"), "<span style=\"color:#0102ff;\">x</span>");
        assert_eq!(to_html("\u{1b}[38:2::10:20:30mx"), "<span style=\"color:#0a141e;\">x</span>");
        assert_eq!(to_html("\u{1b}[38;5;16;1mx"), "<span class=\"ansi-bold\" style=\"color:#000000;\">x</span>");
    }

    #[test]
    fn inverse_swaps_colours() {
        assert_eq!(to_html("\u{1b}[7;31mx"), "<span class=\"ansi-inverse-fg ansi-bg-red\">x</span>");
    }

    #[test]
    fn carriage_returns_overwrite_like_a_terminal() {
        assert_eq!(to_html(" 10%|#   |\r 50%|##  |\r100%|####|\n"), "100%|####|");
        assert_eq!(to_html("abcdef\rXY"), "XYcdef");
        assert_eq!(to_html("line\r\nnext"), "line\nnext");
        assert_eq!(to_html("abc\u{8}\u{8}Z"), "aZc");
        assert_eq!(to_html("progress 10%\r\u{1b}[Kdone"), "done");
    }

    #[test]
    fn cursor_up_redraws_earlier_lines() {
        // Two stacked bars redrawn in place, as tqdm does with `position`.
        let text = "a: 0%\nb: 0%\n\u{1b}[2Aa: 100%\nb: 100%\n";
        assert_eq!(to_html(text), "a: 100%\nb: 100%");
    }

    #[test]
    fn styles_survive_overwrites_per_character() {
        assert_eq!(to_html("\u{1b}[31mxxxx\u{1b}[0m\rab"), "ab<span class=\"ansi-red\">xx</span>");
    }

    #[test]
    fn other_sequences_are_dropped() {
        assert_eq!(to_html("\u{1b}[?25lhidden cursor\u{1b}[?25h"), "hidden cursor");
        assert_eq!(to_html("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\"), "link");
        assert_eq!(to_html("\u{1b}]0;title\u{7}text\u{7}"), "text");
        assert_eq!(to_html("\u{1b}(Bx\u{1b}"), "x");
        assert_eq!(to_html("a\u{1b}[12"), "a", "a truncated sequence is dropped");
    }

    #[test]
    fn ipython_traceback_keeps_text() {
        let tb = "\u{1b}[0;31m---------\u{1b}[0m\n\u{1b}[0;31mZeroDivisionError\u{1b}[0m: division by zero";
        assert_eq!(strip(tb), "---------\nZeroDivisionError: division by zero");
        assert!(to_html(tb).contains("<span class=\"ansi-red\">ZeroDivisionError</span>: division by zero"));
    }
}
