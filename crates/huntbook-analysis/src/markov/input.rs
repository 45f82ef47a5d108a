//! Reading a column of sessions into interned commands, parameters and values.
//!
//! The column's Arrow type says which of MSTICPy's three kinds of session it holds,
//! as the type of the session elements says in MSTICPy:
//! - `list<string>`: commands only;
//! - `list<struct<name: string, params: list<string>>>`: commands with the set of
//!   parameter names they were called with;
//! - `list<struct<name: string, params: map<string, string>>>`: commands with their
//!   parameters and values. A null or empty value counts as no value, as a falsy
//!   value does in MSTICPy.
//!
//! Names are interned per kind (commands, parameters, values) so that the model
//! counts and looks up small integers.
// Keys are small ids and short strings, hashed in the hot loop: foldhash, not SipHash.
use foldhash::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, GenericListArray, OffsetSizeTrait, StructArray};
use arrow_cast::cast;
use arrow_schema::DataType;

use crate::AnalysisError;

/// The id every namespace reserves for names the model has not seen.
pub const UNKNOWN: u32 = 0;
/// The dummy command before every session.
pub const START: u32 = 1;
/// The dummy command after every session.
pub const END: u32 = 2;

/// The names of the tokens, as MSTICPy spells them: a command so named in the data
/// is the token, as it is there.
const TOKENS: [&str; 3] = ["##UNK##", "##START##", "##END##"];

/// Which of the three models the sessions call for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Commands,
    ParamSets,
    ParamValues,
}

/// One command of a session: its id, and its parameters with their value ids
/// (`None` when a parameter has no value, or in the other modes).
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: u32,
    pub params: Vec<(u32, Option<u32>)>,
}

/// Every session of the column, interned.
#[derive(Debug)]
pub struct Sessions {
    pub kind: SessionKind,
    pub sessions: Vec<Vec<Command>>,
    /// How many command ids there are (tokens included).
    pub n_commands: usize,
    pub n_params: usize,
    pub n_values: usize,
}

#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
}

impl Interner {
    fn with(reserved: &[&str]) -> Self {
        let mut me = Interner::default();
        for name in reserved {
            me.id(name);
        }
        me
    }

    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(name.to_string(), id);
        id
    }
}

/// Sessions interned one at a time, from wherever they are read: names are given as
/// text and become the ids the model counts.
pub struct SessionsBuilder {
    kind: SessionKind,
    commands: Interner,
    params: Interner,
    values: Interner,
    sessions: Vec<Vec<Command>>,
}

impl SessionsBuilder {
    pub fn new(kind: SessionKind) -> Self {
        SessionsBuilder {
            kind,
            commands: Interner::with(&TOKENS),
            params: Interner::with(&TOKENS[..1]),
            values: Interner::with(&TOKENS[..1]),
            sessions: Vec::new(),
        }
    }

    /// The id of a command name.
    pub fn command(&mut self, name: &str) -> u32 {
        self.commands.id(name)
    }

    /// The id of a parameter name.
    pub fn param(&mut self, name: &str) -> u32 {
        self.params.id(name)
    }

    /// The id of a parameter value (an empty value counts as none, by MSTICPy's
    /// falsy rule: give it no id).
    pub fn value(&mut self, value: &str) -> u32 {
        self.values.id(value)
    }

    /// Adds the next session.
    pub fn push(&mut self, session: Vec<Command>) {
        self.sessions.push(session);
    }

    pub fn finish(self) -> Sessions {
        Sessions {
            kind: self.kind,
            sessions: self.sessions,
            n_commands: self.commands.ids.len(),
            n_params: self.params.ids.len(),
            n_values: self.values.ids.len(),
        }
    }
}

fn bad(column: &str, message: impl Into<String>) -> AnalysisError {
    AnalysisError::BadColumn {
        column: column.to_string(),
        message: message.into(),
    }
}

const EXPECTED: &str = "sessions must be lists of command names (list<string>) or lists of \
    commands as struct<name: string, params: list<string> | map<string, string>>";

/// Reads the sessions of `array` (the column `name`).
pub fn read_sessions(name: &str, array: &ArrayRef) -> Result<Sessions, AnalysisError> {
    match array.data_type() {
        DataType::List(_) => read_lists(name, array.as_list::<i32>()),
        DataType::LargeList(_) => read_lists(name, array.as_list::<i64>()),
        other => Err(bad(name, format!("it holds {other}; {EXPECTED}"))),
    }
}

fn read_lists<O: OffsetSizeTrait>(
    name: &str,
    lists: &GenericListArray<O>,
) -> Result<Sessions, AnalysisError> {
    for row in 0..lists.len() {
        if lists.is_null(row) || lists.value_length(row).as_usize() == 0 {
            return Err(bad(
                name,
                format!(
                    "the session at row {row} is empty; each session needs at least one command"
                ),
            ));
        }
    }
    let values = lists.values();
    let (mut sessions, commands) = match values.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = cast(values, &DataType::Utf8).map_err(|e| bad(name, e.to_string()))?;
            let text = text.as_string::<i32>();
            let mut sessions = SessionsBuilder::new(SessionKind::Commands);
            let mut out = Vec::with_capacity(text.len());
            for i in 0..text.len() {
                if text.is_null(i) {
                    return Err(bad(name, "a session holds a missing command name"));
                }
                out.push(Command {
                    name: sessions.command(text.value(i)),
                    params: Vec::new(),
                });
            }
            (sessions, out)
        }
        DataType::Struct(_) => read_commands(name, values.as_struct())?,
        other => return Err(bad(name, format!("its sessions hold {other}; {EXPECTED}"))),
    };
    let mut commands = commands.into_iter();
    for w in lists.offsets().windows(2) {
        let length = (w[1] - w[0]).as_usize();
        sessions.push(commands.by_ref().take(length).collect());
    }
    Ok(sessions.finish())
}

fn command_name(
    column: &str,
    names: &arrow_array::StringArray,
    i: usize,
    sessions: &mut SessionsBuilder,
) -> Result<u32, AnalysisError> {
    if names.is_null(i) {
        return Err(bad(column, "a session holds a command without a name"));
    }
    Ok(sessions.command(names.value(i)))
}

fn read_commands(
    name: &str,
    items: &StructArray,
) -> Result<(SessionsBuilder, Vec<Command>), AnalysisError> {
    let field = |f: &str| {
        items.column_by_name(f).ok_or_else(|| {
            bad(
                name,
                format!("its commands have no '{f}' field; {EXPECTED}"),
            )
        })
    };
    let names = cast(field("name")?, &DataType::Utf8).map_err(|e| bad(name, e.to_string()))?;
    let names = names.as_string::<i32>();
    let params = field("params")?;
    let mut out = Vec::with_capacity(items.len());
    let sessions = match params.data_type() {
        DataType::List(_) => {
            let mut sessions = SessionsBuilder::new(SessionKind::ParamSets);
            let lists = params.as_list::<i32>();
            let keys =
                cast(lists.values(), &DataType::Utf8).map_err(|e| bad(name, e.to_string()))?;
            let keys = keys.as_string::<i32>();
            for i in 0..items.len() {
                let cmd = command_name(name, names, i, &mut sessions)?;
                let range =
                    lists.value_offsets()[i] as usize..lists.value_offsets()[i + 1] as usize;
                let params = if lists.is_null(i) {
                    Vec::new()
                } else {
                    range
                        .map(|j| (sessions.param(keys.value(j)), None))
                        .collect()
                };
                out.push(Command { name: cmd, params });
            }
            sessions
        }
        DataType::Map(_, _) => {
            let mut sessions = SessionsBuilder::new(SessionKind::ParamValues);
            let maps = params.as_map();
            let keys = cast(maps.keys(), &DataType::Utf8).map_err(|e| bad(name, e.to_string()))?;
            let vals =
                cast(maps.values(), &DataType::Utf8).map_err(|e| bad(name, e.to_string()))?;
            let (keys, vals) = (keys.as_string::<i32>(), vals.as_string::<i32>());
            for i in 0..items.len() {
                let cmd = command_name(name, names, i, &mut sessions)?;
                let range = maps.value_offsets()[i] as usize..maps.value_offsets()[i + 1] as usize;
                let params = if maps.is_null(i) {
                    Vec::new()
                } else {
                    range
                        .map(|j| {
                            // No value, or an empty one, is not counted (MSTICPy's falsy rule).
                            let value = (vals.is_valid(j) && !vals.value(j).is_empty())
                                .then(|| sessions.value(vals.value(j)));
                            (sessions.param(keys.value(j)), value)
                        })
                        .collect()
                };
                out.push(Command { name: cmd, params });
            }
            sessions
        }
        other => {
            return Err(bad(
                name,
                format!("its commands' params are {other}; {EXPECTED}"),
            ))
        }
    };
    Ok((sessions, out))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{ListBuilder, StringBuilder};

    use super::*;

    #[test]
    fn command_lists_are_interned_after_the_tokens() {
        let mut b = ListBuilder::new(StringBuilder::new());
        b.append_value([Some("a"), Some("b")]);
        b.append_value([Some("b"), Some("##END##")]);
        let array: ArrayRef = Arc::new(b.finish());
        let s = read_sessions("s", &array).unwrap();
        assert_eq!(s.kind, SessionKind::Commands);
        let names: Vec<Vec<u32>> = s
            .sessions
            .iter()
            .map(|c| c.iter().map(|c| c.name).collect())
            .collect();
        assert_eq!(names, vec![vec![3, 4], vec![4, END]]);
        assert_eq!(s.n_commands, 5);
    }

    #[test]
    fn empty_sessions_and_other_types_are_refused() {
        let mut b = ListBuilder::new(StringBuilder::new());
        b.append_value([Some("a")]);
        b.append_value::<[Option<&str>; 0], _>([]);
        let array: ArrayRef = Arc::new(b.finish());
        let e = read_sessions("cmds", &array).unwrap_err().to_string();
        assert!(e.contains("'cmds'") && e.contains("row 1"), "{e}");
        let array: ArrayRef = Arc::new(arrow_array::Int32Array::from(vec![1]));
        let e = read_sessions("cmds", &array).unwrap_err().to_string();
        assert!(e.contains("list<string>"), "{e}");
    }
}
