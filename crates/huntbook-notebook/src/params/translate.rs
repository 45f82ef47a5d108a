//! The injected parameters cell, rendered for the kernel's language.
//!
//! Output is byte for byte what papermill's translators produce when `black` is not
//! installed (papermill reformats Python with black when it can import it, which makes
//! its output depend on the environment; huntbook never does). Every value becomes a
//! literal, never code: strings are escaped for the target language.
//!
//! Where papermill emits code that cannot run or that does not hold the value, huntbook
//! deliberately differs, and only there:
//! - Julia and PowerShell expand `$` inside double-quoted strings (`"$(run(...))"`), so
//!   `$` is escaped (`\$`, `` `$ ``), and so is PowerShell's escape character, the
//!   backtick; papermill leaves both, which lets a parameter value run code.
//! - Non-finite floats use the language's own names in R, Julia, Scala, C#, F# and
//!   MATLAB (`NaN`, `Inf`, `Double.NaN`, ...) instead of Python's `nan`/`inf`.
//! - Where papermill raises (a dict for Bash, `None` for C#), huntbook renders the
//!   dict as a JSON string and `None` as `(object)null`.

use super::numtext::fits_i32;
use super::value::py_float_repr;
use super::{ParamError, ParamValue, Parameters};

/// A target language for parameter rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    R,
    Scala,
    Julia,
    Matlab,
    CSharp,
    FSharp,
    PowerShell,
    Bash,
}

/// Papermill's registry: kernel names and language names share one table.
const REGISTRY: [(&str, Language); 12] = [
    ("python", Language::Python),
    ("R", Language::R),
    ("scala", Language::Scala),
    ("julia", Language::Julia),
    ("matlab", Language::Matlab),
    (".net-csharp", Language::CSharp),
    (".net-fsharp", Language::FSharp),
    (".net-powershell", Language::PowerShell),
    ("pysparkkernel", Language::Python),
    ("sparkkernel", Language::Scala),
    ("sparkrkernel", Language::R),
    ("bash", Language::Bash),
];

/// Renders parameters as source code for one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translator {
    pub language: Language,
}

impl Translator {
    /// Looks up the translator as papermill does: by kernel name first, then by
    /// language, each matched exactly (`python3` is not a key; its language `python` is).
    pub fn find(kernel_name: Option<&str>, language: Option<&str>) -> Result<Translator, ParamError> {
        let lookup = |key: Option<&str>| key.and_then(|k| REGISTRY.iter().find(|(name, _)| *name == k));
        lookup(kernel_name)
            .or_else(|| lookup(language))
            .map(|(_, language)| Translator { language: *language })
            .ok_or_else(|| ParamError::NoTranslator {
                kernel: kernel_name.map(str::to_string),
                language: language.map(str::to_string),
            })
    }

    /// The whole injected cell: the `Parameters` comment, then one assignment per line.
    pub fn render(&self, params: &Parameters) -> String {
        self.codify(params, "Parameters")
    }

    /// The cell with a comment of choice as its first line.
    pub fn codify(&self, params: &Parameters, comment: &str) -> String {
        let mut out = self.comment(comment);
        out.push('\n');
        for (name, value) in params.iter() {
            out.push_str(&self.assign(name, &self.value(value)));
            if self.language == Language::Matlab {
                out.push(';');
            }
            out.push('\n');
        }
        out
    }

    fn comment(&self, text: &str) -> String {
        let line = match self.language {
            Language::Scala | Language::CSharp => format!("// {text}"),
            Language::Matlab => format!("% {text}"),
            Language::FSharp => format!("(* {text} *)"),
            _ => format!("# {text}"),
        };
        line.trim_matches(|c: char| c.is_whitespace()).to_string()
    }

    fn assign(&self, name: &str, value: &str) -> String {
        match self.language {
            // A leading `_` is not legal in an R name.
            Language::R => format!("{} = {value}", name.trim_start_matches('_')),
            Language::Scala => format!("val {name} = {value}"),
            Language::CSharp => format!("var {name} = {value};"),
            Language::FSharp => format!("let {name} = {value}"),
            Language::PowerShell => format!("${name} = {value}"),
            Language::Bash => format!("{name}={value}"),
            _ => format!("{name} = {value}"),
        }
    }

    /// One value as a literal of the language.
    pub fn value(&self, value: &ParamValue) -> String {
        use Language::*;
        let lang = self.language;
        match value {
            ParamValue::None => match lang {
                Python | FSharp => "None".into(),
                R => "NULL".into(),
                Julia => "nothing".into(),
                Matlab => "NaN".into(),
                CSharp => "(object)null".into(),
                PowerShell => "$Null".into(),
                Bash => String::new(),
                Scala => "None".into(),
            },
            ParamValue::Bool(b) => match (lang, b) {
                (Python, true) => "True".into(),
                (Python, false) => "False".into(),
                (R, true) => "TRUE".into(),
                (R, false) => "FALSE".into(),
                (PowerShell, true) => "$True".into(),
                (PowerShell, false) => "$False".into(),
                (_, true) => "true".into(),
                (_, false) => "false".into(),
            },
            ParamValue::Int(text) => match lang {
                Scala | CSharp | FSharp if !fits_i32(text) => format!("{text}L"),
                _ => text.clone(),
            },
            ParamValue::Float(f) => self.float(*f),
            ParamValue::Str(s) => self.string(s),
            ParamValue::List(items) => {
                let sep = match lang {
                    FSharp => "; ",
                    Bash => " ",
                    _ => ", ",
                };
                let inner = items.iter().map(|v| self.value(v)).collect::<Vec<_>>().join(sep);
                match lang {
                    Python | Julia => format!("[{inner}]"),
                    R => format!("list({inner})"),
                    Scala => format!("Seq({inner})"),
                    Matlab => format!("{{{inner}}}"),
                    CSharp => format!("new [] {{ {inner} }}"),
                    FSharp => format!("[ {inner} ]"),
                    PowerShell => format!("@({inner})"),
                    Bash => format!("({inner})"),
                }
            }
            ParamValue::Dict(entries) => self.dict(entries, value),
        }
    }

    fn dict(&self, entries: &[(String, ParamValue)], whole: &ParamValue) -> String {
        use Language::*;
        let pairs = |f: &dyn Fn(String, String) -> String, sep: &str| {
            entries.iter().map(|(k, v)| f(self.string(k), self.value(v))).collect::<Vec<_>>().join(sep)
        };
        match self.language {
            Python => format!("{{{}}}", pairs(&|k, v| format!("{k}: {v}"), ", ")),
            R => format!("list({})", pairs(&|k, v| format!("{k} = {v}"), ", ")),
            Scala => format!("Map({})", pairs(&|k, v| format!("{k} -> {v}"), ", ")),
            Julia => format!("Dict({})", pairs(&|k, v| format!("{k} => {v}"), ", ")),
            Matlab => {
                let keys = entries.iter().map(|(k, _)| matlab_char_array(k)).collect::<Vec<_>>().join(", ");
                let values = entries.iter().map(|(_, v)| self.value(v)).collect::<Vec<_>>().join(", ");
                format!("containers.Map({{{keys}}}, {{{values}}})")
            }
            CSharp => format!(
                "new Dictionary<string,Object>{{ {} }}",
                pairs(&|k, v| format!("{{ {k} , {v} }}"), ", ")
            ),
            FSharp => format!("[ {} ] |> Map.ofList", pairs(&|k, v| format!("({k}, {v} :> IComparable)"), "; ")),
            PowerShell => format!("@{{{}}}", pairs(&|k, v| format!("{k} = {v}"), "\n ")),
            // Bash has no nested structures: the dict travels as JSON text (e.g. for jq).
            Bash => bash_quote(&whole.to_json().to_string()),
        }
    }

    fn float(&self, f: f64) -> String {
        use Language::*;
        if f.is_finite() {
            return py_float_repr(f);
        }
        let (nan, inf, neg_inf) = match self.language {
            Python => ("float('nan')", "float('inf')", "float('-inf')"),
            PowerShell => ("[double]::NaN", "[double]::PositiveInfinity", "[double]::NegativeInfinity"),
            R | Julia | Matlab => ("NaN", "Inf", "-Inf"),
            Scala => ("Double.NaN", "Double.PositiveInfinity", "Double.NegativeInfinity"),
            CSharp => ("double.NaN", "double.PositiveInfinity", "double.NegativeInfinity"),
            FSharp => ("nan", "infinity", "-infinity"),
            Bash => ("nan", "inf", "-inf"),
        };
        if f.is_nan() {
            nan.into()
        } else if f > 0.0 {
            inf.into()
        } else {
            neg_inf.into()
        }
    }

    fn string(&self, s: &str) -> String {
        use Language::*;
        match self.language {
            Bash => bash_quote(s),
            Matlab => format!("\"{}\"", unicode_escape(s).replace('"', "\"\"")),
            PowerShell => {
                let escaped = unicode_escape(s).replace('`', "``").replace('$', "`$").replace('"', "`\"");
                format!("\"{escaped}\"")
            }
            Julia => format!("\"{}\"", unicode_escape(s).replace('"', "\\\"").replace('$', "\\$")),
            _ => format!("\"{}\"", unicode_escape(s).replace('"', "\\\"")),
        }
    }
}

/// Python's `str.encode('unicode_escape').decode()`: backslash doubled, `\t\n\r`,
/// other control and Latin-1 characters as `\xhh`, the rest of the BMP as `\uhhhh`,
/// astral characters as `\Uhhhhhhhh`; printable ASCII (quotes included) unchanged.
pub fn unicode_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let code = c as u32;
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ' '..='~' => out.push(c),
            _ if code < 0x100 => out.push_str(&format!("\\x{code:02x}")),
            _ if code < 0x10000 => out.push_str(&format!("\\u{code:04x}")),
            _ => out.push_str(&format!("\\U{code:08x}")),
        }
    }
    out
}

/// Python's `shlex.quote`: bare when only `[A-Za-z0-9_@%+=:,./-]`, else single-quoted
/// with each `'` written as `'"'"'`.
pub fn bash_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = s.chars().all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

/// MATLAB char array for `containers.Map` keys: single quotes doubled.
fn matlab_char_array(s: &str) -> String {
    format!("'{}'", unicode_escape(s).replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: Vec<(&str, ParamValue)>) -> Parameters {
        Parameters(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn t(lang: &str) -> Translator {
        Translator::find(None, Some(lang)).unwrap()
    }

    fn s(v: &str) -> ParamValue {
        ParamValue::Str(v.into())
    }

    fn sample() -> Parameters {
        params(vec![
            ("n", ParamValue::None),
            ("b", ParamValue::Bool(true)),
            ("i", ParamValue::Int("3000000000".into())),
            ("f", ParamValue::Float(1e20)),
            ("s", s("é\n😍\t'\\x\"")),
            ("l", ParamValue::List(vec![ParamValue::Int("1".into()), s("a b")])),
            ("d", ParamValue::Dict(vec![("1".into(), s("x")), ("k".into(), ParamValue::Float(-0.0))])),
        ])
    }

    #[test]
    fn python_matches_papermill() {
        let out = t("python").render(&sample());
        assert_eq!(
            out,
            "# Parameters\nn = None\nb = True\ni = 3000000000\nf = 1e+20\n\
             s = \"\\xe9\\n\\U0001f60d\\t'\\\\x\\\"\"\nl = [1, \"a b\"]\nd = {\"1\": \"x\", \"k\": -0.0}\n"
        );
        let floats = params(vec![
            ("a", ParamValue::Float(f64::NAN)),
            ("b", ParamValue::Float(f64::NEG_INFINITY)),
            ("c", ParamValue::Float(1e-7)),
        ]);
        assert_eq!(t("python").render(&floats), "# Parameters\na = float('nan')\nb = float('-inf')\nc = 1e-07\n");
    }

    #[test]
    fn r_julia_and_others() {
        assert_eq!(
            t("R").render(&params(vec![("_x", ParamValue::None), ("y", ParamValue::Bool(false)), ("d", sample().get("d").unwrap().clone())])),
            "# Parameters\nx = NULL\ny = FALSE\nd = list(\"1\" = \"x\", \"k\" = -0.0)\n"
        );
        assert_eq!(
            t("julia").render(&params(vec![("l", sample().get("l").unwrap().clone()), ("n", ParamValue::None)])),
            "# Parameters\nl = [1, \"a b\"]\nn = nothing\n"
        );
        assert_eq!(t("scala").render(&params(vec![("i", ParamValue::Int("3000000000".into()))])), "// Parameters\nval i = 3000000000L\n");
        assert_eq!(t(".net-csharp").render(&params(vec![("i", ParamValue::Int("-2147483648".into()))])), "// Parameters\nvar i = -2147483648;\n");
        assert_eq!(
            t(".net-fsharp").render(&params(vec![("l", ParamValue::List(vec![ParamValue::Int("1".into()), ParamValue::Int("2".into())]))])),
            "(* Parameters *)\nlet l = [ 1; 2 ]\n"
        );
        assert_eq!(
            t("matlab").render(&params(vec![("d", ParamValue::Dict(vec![("it's".into(), s("say \"hi\""))]))])),
            "% Parameters\nd = containers.Map({'it''s'}, {\"say \"\"hi\"\"\"});\n"
        );
    }

    #[test]
    fn bash_and_powershell() {
        let p = params(vec![
            ("a", s("x y")),
            ("b", ParamValue::List(vec![ParamValue::Int("1".into()), ParamValue::Int("2".into())])),
            ("c", ParamValue::None),
            ("q", s("it's")),
            ("e", s("")),
            ("p", s("/tmp/a.txt")),
        ]);
        assert_eq!(t("bash").render(&p), "# Parameters\na='x y'\nb=(1 2)\nc=\nq='it'\"'\"'s'\ne=''\np=/tmp/a.txt\n");
        let ps = params(vec![
            ("d", ParamValue::Dict(vec![("a".into(), ParamValue::Bool(true)), ("b".into(), ParamValue::Float(f64::NAN))])),
            ("s", s("say \"hi\"")),
        ]);
        assert_eq!(
            t(".net-powershell").render(&ps),
            "# Parameters\n$d = @{\"a\" = $True\n \"b\" = [double]::NaN}\n$s = \"say `\"hi`\"\"\n"
        );
    }

    #[test]
    fn values_are_never_code() {
        let attack = s("\"; import os; os.system(\"id\"); \"");
        let one = params(vec![("x", attack)]);
        assert_eq!(t("python").render(&one), "# Parameters\nx = \"\\\"; import os; os.system(\\\"id\\\"); \\\"\"\n");
        let dollar = params(vec![("x", s("$(run(`id`)) `\"$env:HOME"))]);
        assert_eq!(t("julia").render(&dollar), "# Parameters\nx = \"\\$(run(`id`)) `\\\"\\$env:HOME\"\n");
        assert_eq!(t(".net-powershell").render(&dollar), "# Parameters\n$x = \"`$(run(``id``)) ```\"`$env:HOME\"\n");
        assert_eq!(t("bash").render(&dollar), "# Parameters\nx='$(run(`id`)) `\"$env:HOME'\n");
        let dict = params(vec![("d", ParamValue::Dict(vec![("k".into(), s("'; rm -rf /"))]))]);
        assert_eq!(t("bash").render(&dict), "# Parameters\nd='{\"k\":\"'\"'\"'; rm -rf /\"}'\n");
    }

    #[test]
    fn non_finite_floats_use_language_names() {
        let p = params(vec![("a", ParamValue::Float(f64::INFINITY)), ("b", ParamValue::Float(f64::NAN))]);
        assert_eq!(t("R").render(&p), "# Parameters\na = Inf\nb = NaN\n");
        assert_eq!(t("scala").render(&p), "// Parameters\nval a = Double.PositiveInfinity\nval b = Double.NaN\n");
        assert_eq!(t("bash").render(&p), "# Parameters\na=inf\nb=nan\n");
    }

    #[test]
    fn lookup_by_kernel_then_language() {
        assert_eq!(Translator::find(Some("python3"), Some("python")).unwrap().language, Language::Python);
        assert_eq!(Translator::find(Some("bash"), Some("python")).unwrap().language, Language::Bash);
        assert_eq!(Translator::find(Some("sparkrkernel"), None).unwrap().language, Language::R);
        let err = Translator::find(Some("python3"), None).unwrap_err();
        assert!(err.to_string().starts_with("no parameter translator for kernel 'python3' or language 'None'"), "{err}");
        assert!(Translator::find(Some("Python"), Some("r")).is_err());
    }

    #[test]
    fn unicode_escape_matches_python() {
        assert_eq!(unicode_escape("a\u{0}\u{7f}\u{a0}\u{100}\u{ffff}\u{10000}"), "a\\x00\\x7f\\xa0\\u0100\\uffff\\U00010000");
        assert_eq!(bash_quote("a@b%c+d=e:f,g.h/i-j_k"), "a@b%c+d=e:f,g.h/i-j_k");
        assert_eq!(bash_quote("é"), "'é'");
    }
}
