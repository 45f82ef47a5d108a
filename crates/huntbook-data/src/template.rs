//! Query template files in MSTICPy's YAML format, read into [`QuerySource`]s.
//!
//! A file has `metadata` (environments, families, tags ...), optional `defaults`
//! (metadata and parameters shared by its queries) and `sources` (one entry per query:
//! description, metadata, `args.query`, parameters, `query_macros`). A query's metadata
//! is the file's, then the defaults', then its own (later wins); its parameters are the
//! defaults' overlaid with its own. `$name$` macros are expanded when the file is read.
//!
//! Everything is checked here, so that a store holds only queries that can render:
//! every `{param}` in a query is declared, every parameter has a known type, and a
//! default fits its type. Errors name the file, the query and the parameter.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use crate::environment::Environment;
use crate::yaml;

/// A parameter's type, as written under `type:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Str,
    Datetime,
    Int,
    Float,
    Bool,
    List,
}

impl ParamType {
    /// The names accepted under `type:`.
    pub const NAMES: &'static str = "str, datetime, int, float, bool, list";

    fn parse(name: &str) -> Option<ParamType> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "str" | "string" => ParamType::Str,
            "datetime" => ParamType::Datetime,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "bool" => ParamType::Bool,
            "list" => ParamType::List,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ParamType::Str => "str",
            ParamType::Datetime => "datetime",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
            ParamType::List => "list",
        }
    }
}

/// How a LocalData query parameter filters rows of its `column` (huntbook's addition to
/// the format: MSTICPy's LocalData driver ignores parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// Rows whose value equals the parameter's, text compared without regard to case
    /// (host and account names are spelled in different cases by different logs).
    Eq,
    /// Rows whose value is one of the list's items (text without regard to case).
    In,
    /// Rows whose text contains the parameter's value, without regard to case.
    Contains,
    /// Rows at or after the value (the time range's `start`).
    Ge,
    /// Rows at or before the value (the time range's `end`).
    Le,
}

impl FilterOp {
    pub const NAMES: &'static str = "eq, in, contains, ge, le";

    fn parse(name: &str) -> Option<FilterOp> {
        Some(match name.trim() {
            "eq" | "==" => FilterOp::Eq,
            "in" => FilterOp::In,
            "contains" | "has" => FilterOp::Contains,
            "ge" | ">=" => FilterOp::Ge,
            "le" | "<=" => FilterOp::Le,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FilterOp::Eq => "eq",
            FilterOp::In => "in",
            FilterOp::Contains => "contains",
            FilterOp::Ge => "ge",
            FilterOp::Le => "le",
        }
    }
}

/// Which column a LocalData parameter filters, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnFilter {
    pub column: String,
    pub op: FilterOp,
}

/// A parameter default as the file wrote it. A text default is part of the query as
/// its author wrote it (often a clause such as `| where X`), so it is inserted as is;
/// values given by a caller are not (see [`crate::render`]).
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<String>),
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub description: String,
    pub kind: ParamType,
    pub default: Option<DefaultValue>,
    pub aliases: Vec<String>,
    /// A template for the formatted value, `{}` standing for it (`format:`).
    pub format: Option<String>,
    /// LocalData only: the column this parameter filters.
    pub filter: Option<ColumnFilter>,
}

impl ParamSpec {
    pub fn required(&self) -> bool {
        self.default.is_none()
    }
}

/// A piece of a text template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Param {
        name: String,
        /// The quote the placeholder sits inside (`'{x}'` or `"{x}"`), if any, and
        /// whether the string is a KQL verbatim string (`@'{x}'`).
        quote: Option<(char, bool)>,
    },
}

/// The query text, split into literals and placeholders once, when it is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// A query language text (KQL, SPL, file names ...).
    Text(Vec<Segment>),
    /// A JSON document (Elasticsearch Query DSL, Cybereason): placeholders sit in its
    /// string values and are filled in after parsing, so a value cannot alter the
    /// document's structure.
    Json(serde_json::Value),
}

impl Template {
    /// A query's text: JSON when it parses as a JSON object, as MSTICPy decides.
    pub fn parse(text: &str) -> Result<Template, String> {
        let trimmed = text.trim();
        if trimmed.starts_with('{') {
            if let Ok(value @ serde_json::Value::Object(_)) = serde_json::from_str(trimmed) {
                check_json_placeholders(&value)?;
                return Ok(Template::Json(value));
            }
        }
        split_text(text).map(Template::Text)
    }

    /// The parameter names used, each once, in order of first use.
    pub fn params(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut add = |n: &str| {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        };
        match self {
            Template::Text(segments) => {
                for s in segments {
                    if let Segment::Param { name, .. } = s {
                        add(name);
                    }
                }
            }
            Template::Json(value) => json_strings(value, &mut |s| {
                if let Ok(segments) = split_text(s) {
                    for seg in segments {
                        if let Segment::Param { name, .. } = seg {
                            add(&name);
                        }
                    }
                }
            }),
        }
        names
    }
}

/// Every string (keys and values) in a JSON document.
pub(crate) fn json_strings(value: &serde_json::Value, f: &mut impl FnMut(&str)) {
    match value {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings(v, f)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                f(k);
                json_strings(v, f);
            }
        }
        _ => {}
    }
}

fn check_json_placeholders(value: &serde_json::Value) -> Result<(), String> {
    let mut error = None;
    json_strings(value, &mut |s| {
        if let Err(e) = split_text(s) {
            error.get_or_insert(e);
        }
    });
    error.map_or(Ok(()), Err)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits a template as Python's `str.format` reads it: `{{` and `}}` are literal
/// braces, `{name}` a placeholder. Anything else between braces is an error, because
/// it would make the query fail whenever it ran.
pub(crate) fn split_text(text: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        literal.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            literal.push(tail.as_bytes()[0] as char);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(format!(
                "a lone '}}' at '{}': write '}}}}' for a literal brace",
                excerpt(tail)
            ));
        }
        let Some(close) = tail.find('}') else {
            return Err(format!(
                "a '{{' is never closed at '{}': write '{{{{' for a literal brace",
                excerpt(tail)
            ));
        };
        let name = tail[1..close].trim();
        if !is_identifier(name) {
            return Err(format!(
                "'{}' is not a parameter placeholder: a placeholder is {{name}}; write '{{{{' and '}}}}' for literal braces",
                excerpt(&tail[..=close])
            ));
        }
        let quote = quote_around(&literal, &tail[close + 1..]);
        segments.push(Segment::Literal(std::mem::take(&mut literal)));
        segments.push(Segment::Param {
            name: name.to_string(),
            quote,
        });
        rest = &tail[close + 1..];
    }
    literal.push_str(rest);
    segments.push(Segment::Literal(literal));
    segments.retain(|s| !matches!(s, Segment::Literal(l) if l.is_empty()));
    Ok(segments)
}

/// The quote a placeholder sits inside: the same quote character right before and
/// right after it. `@` before the opening quote marks a KQL verbatim string.
fn quote_around(before: &str, after: &str) -> Option<(char, bool)> {
    let open = before.chars().next_back()?;
    if (open == '\'' || open == '"') && after.starts_with(open) {
        let verbatim = before[..before.len() - 1].ends_with('@');
        Some((open, verbatim))
    } else {
        None
    }
}

fn excerpt(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    line.chars().take(40).collect()
}

/// One query, ready to render.
#[derive(Debug, Clone)]
pub struct QuerySource {
    pub name: String,
    pub description: String,
    /// Families it belongs to (`SecurityAlert`, or dotted `A.B`).
    pub families: Vec<String>,
    pub environments: Vec<Environment>,
    pub tags: Vec<String>,
    /// File, defaults and query metadata merged (later wins), as JSON.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The query text after macro expansion.
    pub query: String,
    pub template: Template,
    /// Parameters in declaration order (defaults' first).
    pub params: Vec<ParamSpec>,
    /// The file it was read from.
    pub file: PathBuf,
}

impl QuerySource {
    /// A query a driver offers from the data it finds (an OSQuery table, a
    /// Velociraptor artifact), with `text` as its query.
    pub fn from_driver(
        environment: Environment,
        family: &str,
        name: &str,
        description: String,
        text: &str,
        params: Vec<ParamSpec>,
    ) -> Result<QuerySource, String> {
        Ok(QuerySource {
            name: name.to_string(),
            description,
            families: vec![family.to_string()],
            environments: vec![environment.clone()],
            tags: Vec::new(),
            metadata: serde_json::Map::new(),
            query: text.to_string(),
            template: Template::Text(split_text(&text.replace('{', "{{").replace('}', "}}"))?),
            params,
            file: PathBuf::from(format!("<{environment} driver>")),
        })
    }

    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The parameter a name or alias denotes.
    pub fn resolve_param(&self, name: &str) -> Option<&ParamSpec> {
        self.param(name).or_else(|| {
            self.params
                .iter()
                .find(|p| p.aliases.iter().any(|a| a == name))
        })
    }

    /// Help text: description, parameters (type, default, aliases) and the query.
    pub fn help(&self) -> String {
        let mut out = format!("Query: {}\n{}\n", self.name, self.description);
        let envs: Vec<&str> = self.environments.iter().map(Environment::name).collect();
        out.push_str(&format!("Environments: {}\n", envs.join(", ")));
        out.push_str(&format!("Families: {}\n", self.families.join(", ")));
        if !self.params.is_empty() {
            out.push_str("Parameters:\n");
        }
        for p in &self.params {
            out.push_str(&format!("  {} ({})", p.name, p.kind.name()));
            match &p.default {
                None => out.push_str(" required"),
                Some(d) => out.push_str(&format!(" default: {}", default_text(d))),
            }
            if !p.aliases.is_empty() {
                out.push_str(&format!(" aliases: {}", p.aliases.join(", ")));
            }
            if let Some(f) = &p.filter {
                out.push_str(&format!(" filters: {} {}", f.column, f.op.name()));
            }
            if !p.description.is_empty() {
                out.push_str(&format!("\n      {}", p.description));
            }
            out.push('\n');
        }
        out.push_str("Query:\n");
        out.push_str(self.query.trim());
        out.push('\n');
        out
    }
}

fn default_text(d: &DefaultValue) -> String {
    match d {
        DefaultValue::Text(t) => format!("{:?}", t.trim()),
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Float(f) => f.to_string(),
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::List(items) => format!("[{}]", items.join(", ")),
    }
}

/// Why a query file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{file}: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: not valid YAML: {message}")]
    Yaml { file: PathBuf, message: String },
    #[error("{file}: {message}")]
    File { file: PathBuf, message: String },
    #[error("{file}: query '{query}': {message}")]
    Query {
        file: PathBuf,
        query: String,
        message: String,
    },
    #[error("{file}: query '{query}', parameter '{param}': {message}")]
    Param {
        file: PathBuf,
        query: String,
        param: String,
        message: String,
    },
}

/// What reading a file gave: its queries, or the reason it is not a query file at all
/// (MSTICPy skips such files with a warning rather than failing).
#[derive(Debug)]
pub enum FileContents {
    Queries(Vec<QuerySource>),
    NotQueries(String),
}

/// Reads one query file's text. `file` is used in messages (and kept in each query).
pub fn parse_file(file: &Path, text: &str) -> Result<FileContents, TemplateError> {
    let file_err = |message: String| TemplateError::File {
        file: file.to_path_buf(),
        message,
    };
    let docs = load_yaml(text).map_err(|e| TemplateError::Yaml {
        file: file.to_path_buf(),
        message: e.to_string(),
    })?;
    let Some(doc) = docs.into_iter().next() else {
        return Ok(FileContents::NotQueries("the file is empty".into()));
    };
    let (Some(metadata), Some(_)) = (yaml::get(&doc, "metadata"), yaml::get(&doc, "sources"))
    else {
        return Ok(FileContents::NotQueries(
            "it has no 'metadata' or no 'sources' section".into(),
        ));
    };
    let environments = yaml::text_list(metadata, "data_environments")
        .map_err(|e| file_err(format!("metadata: {e}")))?;
    let file_families = yaml::text_list(metadata, "data_families")
        .map_err(|e| file_err(format!("metadata: {e}")))?;
    if environments.is_empty() || file_families.is_empty() {
        return Ok(FileContents::NotQueries(
            "its metadata lists no data_environments or no data_families".into(),
        ));
    }
    let environments: Vec<Environment> =
        environments.iter().map(|e| Environment::parse(e)).collect();

    let defaults = yaml::get(&doc, "defaults");
    let mut base_meta = json_map(metadata);
    let mut default_params = Vec::new();
    let mut default_macros = Vec::new();
    if let Some(defaults) = defaults {
        base_meta.extend(json_map_at(defaults, "metadata"));
        default_params =
            read_params(defaults).map_err(|(param, message)| TemplateError::Param {
                file: file.to_path_buf(),
                query: "defaults".into(),
                param,
                message,
            })?;
        default_macros = yaml::entries(defaults, "query_macros")
            .map_err(|e| file_err(format!("defaults: {e}")))?;
    }
    let entries = yaml::entries(&doc, "sources").map_err(file_err)?;
    if entries.is_empty() {
        return Ok(FileContents::NotQueries(
            "its 'sources' section is empty".into(),
        ));
    }

    let mut queries = Vec::with_capacity(entries.len());
    for (name, source) in entries {
        let query_err = |message: String| TemplateError::Query {
            file: file.to_path_buf(),
            query: name.clone(),
            message,
        };
        if !source.is_hash() {
            return Err(query_err(
                "must be a mapping with 'description' and 'args'".into(),
            ));
        }
        let mut meta = base_meta.clone();
        meta.extend(json_map_at(source, "metadata"));
        let families = match meta.get("data_families") {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            _ => file_families.clone(),
        };
        let tags = match meta.get("tags") {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let description = yaml::text(source, "description")
            .map_err(query_err)?
            .unwrap_or_default();
        let args = yaml::get(source, "args");
        let Some(query) = args
            .and_then(|a| yaml::get(a, "query"))
            .and_then(yaml::scalar_text)
        else {
            return Err(query_err("has no 'args: query:' text".into()));
        };

        let mut macros: Vec<(String, String)> = Vec::new();
        let own_macros = yaml::entries(source, "query_macros").map_err(query_err)?;
        for (m, def) in default_macros.iter().chain(own_macros.iter()) {
            let value = yaml::get(def, "value")
                .and_then(yaml::scalar_text)
                .or_else(|| yaml::scalar_text(def))
                .ok_or_else(|| query_err(format!("query macro '{m}' has no 'value'")))?;
            macros.retain(|(n, _)| n != m);
            macros.push((m.clone(), value));
        }
        let mut query = query;
        for (m, value) in &macros {
            query = query.replace(&format!("${m}$"), value);
        }

        let mut params = default_params.clone();
        let own = read_params(source).map_err(|(param, message)| TemplateError::Param {
            file: file.to_path_buf(),
            query: name.clone(),
            param,
            message,
        })?;
        for p in own {
            match params.iter_mut().find(|q| q.name == p.name) {
                Some(q) => *q = p,
                None => params.push(p),
            }
        }

        let template = Template::parse(&query).map_err(query_err)?;
        for used in template.params() {
            if !params.iter().any(|p| p.name == used) {
                let declared: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                return Err(TemplateError::Param {
                    file: file.to_path_buf(),
                    query: name.clone(),
                    param: used,
                    message: format!(
                        "used in the query as {{...}} but not declared under 'parameters' (declared: {})",
                        if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
                    ),
                });
            }
        }
        queries.push(QuerySource {
            name: name.clone(),
            description,
            families,
            environments: environments.clone(),
            tags,
            metadata: meta,
            query,
            template,
            params,
            file: file.to_path_buf(),
        });
    }
    Ok(FileContents::Queries(queries))
}

/// Parses YAML as leniently as PyYAML, which MSTICPy uses, for two things some of
/// MSTICPy's own query files do and this parser rejects: tabs starting the
/// continuation lines of a multi-line scalar, and continuation lines of a quoted
/// scalar indented no deeper than its key. Leading whitespace of a quoted scalar's
/// continuation lines is folded away, so such a file is read again with leading tabs
/// widened to spaces and the offending scalar's lines indented further, which changes
/// nothing in its value.
fn load_yaml(text: &str) -> Result<Vec<Yaml>, yaml_rust2::ScanError> {
    let first = match YamlLoader::load_from_str(text) {
        Ok(docs) => return Ok(docs),
        Err(e) => e,
    };
    let mut fixed: String = text
        .split_inclusive('\n')
        .map(|line| {
            let tabs = line.len() - line.trim_start_matches('\t').len();
            format!("{}{}", " ".repeat(8 * tabs), &line[tabs..])
        })
        .collect();
    // Each round indents one quoted scalar; a file has a few at most.
    for _ in 0..200 {
        match YamlLoader::load_from_str(&fixed) {
            Ok(docs) => return Ok(docs),
            Err(e) if e.info().contains("indentation in quoted scalar") => {
                match indent_quoted(&fixed, e.marker().index()) {
                    Some(next) => fixed = next,
                    None => return Err(first),
                }
            }
            Err(_) => return Err(first),
        }
    }
    Err(first)
}

/// `text` with two more spaces at the start of every continuation line of the quoted
/// scalar that opens at char `at`.
fn indent_quoted(text: &str, at: usize) -> Option<String> {
    let start = text.char_indices().nth(at)?.0;
    let quote = text[start..]
        .chars()
        .next()
        .filter(|c| *c == '\'' || *c == '"')?;
    let body = &text[start + 1..];
    let mut end = None;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quote == '"' => {
                chars.next();
            }
            '\'' if quote == '\'' && chars.peek().map(|p| p.1) == Some('\'') => {
                chars.next();
            }
            c if c == quote => {
                end = Some(start + 1 + i);
                break;
            }
            _ => {}
        }
    }
    let end = end?;
    let scalar = text[start..end].replace('\n', "\n  ");
    Some(format!("{}{}{}", &text[..start], scalar, &text[end..]))
}

fn json_map(value: &Yaml) -> serde_json::Map<String, serde_json::Value> {
    match yaml::to_json(value) {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn json_map_at(value: &Yaml, key: &str) -> serde_json::Map<String, serde_json::Value> {
    yaml::get(value, key).map(json_map).unwrap_or_default()
}

/// The `parameters:` of a query or of the defaults. Errors carry the parameter name.
fn read_params(section: &Yaml) -> Result<Vec<ParamSpec>, (String, String)> {
    let entries =
        yaml::entries(section, "parameters").map_err(|e| ("parameters".to_string(), e))?;
    entries
        .into_iter()
        .map(|(name, spec)| read_param(&name, spec).map_err(|e| (name, e)))
        .collect()
}

fn read_param(name: &str, spec: &Yaml) -> Result<ParamSpec, String> {
    if !is_identifier(name) {
        return Err("a parameter name must be letters, digits and '_'".into());
    }
    if !spec.is_hash() {
        return Err("must be a mapping with at least 'type'".into());
    }
    let type_name = yaml::text(spec, "type")?.ok_or("has no 'type'")?;
    let kind = ParamType::parse(&type_name).ok_or_else(|| {
        format!(
            "unknown type '{type_name}'; the types are {}",
            ParamType::NAMES
        )
    })?;
    let default = match yaml::get(spec, "default") {
        None => None,
        Some(value) => Some(read_default(kind, value)?),
    };
    let filter = match yaml::text(spec, "column")? {
        None => None,
        Some(column) => {
            let op_name =
                yaml::text(spec, "op")?.unwrap_or_else(|| default_op(kind, name).to_string());
            let op = FilterOp::parse(&op_name).ok_or_else(|| {
                format!("unknown op '{op_name}'; the ops are {}", FilterOp::NAMES)
            })?;
            Some(ColumnFilter { column, op })
        }
    };
    Ok(ParamSpec {
        name: name.to_string(),
        description: yaml::text(spec, "description")?.unwrap_or_default(),
        kind,
        default,
        aliases: yaml::text_list(spec, "aliases")?,
        format: yaml::text(spec, "format")?,
        filter,
    })
}

/// The filter a parameter gets when its spec names a column but no op: the time range
/// for `start`/`end`, membership for lists, equality otherwise.
fn default_op(kind: ParamType, name: &str) -> &'static str {
    match (kind, name) {
        (ParamType::Datetime, "end") => "le",
        (ParamType::Datetime, _) => "ge",
        (ParamType::List, _) => "in",
        _ => "eq",
    }
}

fn read_default(kind: ParamType, value: &Yaml) -> Result<DefaultValue, String> {
    let bad = |what: &str| format!("default must be {what} for type {}", kind.name());
    Ok(match (kind, value) {
        (ParamType::List, Yaml::Array(items)) => DefaultValue::List(
            items
                .iter()
                .map(|v| yaml::scalar_text(v).ok_or_else(|| bad("a list of texts")))
                .collect::<Result<_, _>>()?,
        ),
        (ParamType::Int, Yaml::Integer(i)) => DefaultValue::Int(*i),
        (ParamType::Int, v) => DefaultValue::Int(
            yaml::scalar_text(v)
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| bad("a whole number"))?,
        ),
        (ParamType::Float, v) => DefaultValue::Float(
            yaml::scalar_text(v)
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| bad("a number"))?,
        ),
        (ParamType::Bool, Yaml::Boolean(b)) => DefaultValue::Bool(*b),
        (ParamType::Bool, _) => return Err(bad("true or false")),
        (_, v) => DefaultValue::Text(yaml::scalar_text(v).ok_or_else(|| bad("text"))?),
    })
}

/// Parameters read from a YAML snippet, for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn parse_one(yaml_text: &str) -> Result<QuerySource, TemplateError> {
    match parse_file(Path::new("test.yaml"), yaml_text)? {
        FileContents::Queries(mut q) => Ok(q.remove(0)),
        FileContents::NotQueries(why) => panic!("not a query file: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
metadata:
  version: 1
  description: Test queries
  data_environments: [LogAnalytics, Kusto]
  data_families: [SecurityAlert]
  tags: ['alert']
defaults:
  metadata:
    data_source: 'security_alert'
  parameters:
    table:
      description: Table name
      type: str
      default: 'SecurityAlert'
    start:
      description: Query start time
      type: datetime
sources:
  get_alert:
    description: One alert
    metadata:
      data_families: [SecurityAlert, Alerts.Detail]
    args:
      query: '{table} | where TimeGenerated >= datetime({start}) $cond$ | extend x = dynamic({{"a": 1}})'
    query_macros:
      cond:
        description: condition
        value: '| where SystemAlertId == "{alert_id}"'
    parameters:
      alert_id:
        description: The alert id
        type: str
        aliases: [id, alertid]
      table:
        description: Other table
        type: str
        default: OtherTable
"#;

    #[test]
    fn reads_metadata_defaults_macros_and_params() {
        let q = parse_one(FILE).unwrap();
        assert_eq!(q.name, "get_alert");
        assert_eq!(q.families, ["SecurityAlert", "Alerts.Detail"]);
        assert_eq!(
            q.environments,
            [Environment::MSSentinel, Environment::Kusto]
        );
        assert_eq!(q.metadata["data_source"], "security_alert");
        assert!(q.query.contains(r#"SystemAlertId == "{alert_id}""#));
        let names: Vec<&str> = q.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["table", "start", "alert_id"]);
        assert_eq!(
            q.param("table").unwrap().default,
            Some(DefaultValue::Text("OtherTable".into()))
        );
        assert_eq!(q.resolve_param("alertid").unwrap().name, "alert_id");
        assert_eq!(q.template.params(), ["table", "start", "alert_id"]);
        let Template::Text(segments) = &q.template else {
            panic!("a text template")
        };
        assert!(segments.contains(&Segment::Param {
            name: "alert_id".into(),
            quote: Some(('"', false))
        }));
        assert!(segments.contains(&Segment::Param {
            name: "start".into(),
            quote: None
        }));
        assert!(q
            .help()
            .contains("alert_id (str) required aliases: id, alertid"));
    }

    #[test]
    fn undeclared_placeholder_names_file_query_and_param() {
        let text = FILE.replace("{alert_id}", "{alert_ident}");
        let err = parse_one(&text).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "test.yaml: query 'get_alert', parameter 'alert_ident': used in the query"
            ),
            "{err}"
        );
    }

    #[test]
    fn unknown_type_and_bad_default_are_errors() {
        let err = parse_one(&FILE.replace("type: datetime", "type: datetim"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("query 'defaults', parameter 'start': unknown type 'datetim'"),
            "{err}"
        );
        let text = FILE.replace("type: datetime", "type: int\n      default: soon");
        let err = parse_one(&text).unwrap_err().to_string();
        assert!(
            err.contains("parameter 'start': default must be a whole number"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_query_names_in_a_file_are_an_error() {
        let text =
            format!("{FILE}  get_alert:\n    description: again\n    args:\n      query: T\n");
        let err = parse_one(&text).unwrap_err().to_string();
        assert!(err.contains("duplicated key"), "{err}");
    }

    #[test]
    fn missing_query_text_and_stray_braces_are_errors() {
        let err = parse_one(&FILE.replace("query: '{table}", "quer: '{table}"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("query 'get_alert': has no 'args: query:' text"),
            "{err}"
        );
        let err = parse_one(&FILE.replace("dynamic({{", "dynamic({"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("query 'get_alert':") && err.contains("literal brace"),
            "{err}"
        );
    }

    #[test]
    fn tabs_starting_scalar_lines_are_read_as_pyyaml_reads_them() {
        let text = FILE.replace(
            "    args:\n      query: '{table}",
            "    args:\n      query: '{table}\n\t\t  | take 1\n       ",
        );
        let q = parse_one(&text).unwrap();
        assert!(q.query.contains("| take 1"), "{}", q.query);
    }

    #[test]
    fn files_without_metadata_are_not_query_files() {
        let got = parse_file(
            Path::new("x.yaml"),
            "sources:\n  a:\n    args: {query: T}\n",
        )
        .unwrap();
        assert!(matches!(got, FileContents::NotQueries(_)));
    }

    #[test]
    fn json_queries_take_placeholders_in_strings() {
        let t = Template::parse(
            r#"{"query": {"bool": {"filter": [{"term": {"host.name": "{host}"}}]}}}"#,
        )
        .unwrap();
        assert!(matches!(t, Template::Json(_)));
        assert_eq!(t.params(), ["host"]);
    }

    #[test]
    fn local_filters_default_by_type() {
        let text = FILE.replace(
            "        aliases: [id, alertid]",
            "        aliases: [id, alertid]\n        column: SystemAlertId",
        );
        let q = parse_one(&text).unwrap();
        assert_eq!(
            q.param("alert_id").unwrap().filter,
            Some(ColumnFilter {
                column: "SystemAlertId".into(),
                op: FilterOp::Eq
            })
        );
        let err = parse_one(&text.replace("column: SystemAlertId", "column: X\n        op: like"))
            .unwrap_err();
        assert!(err.to_string().contains("unknown op 'like'"), "{err}");
    }
}
