//! Walking an answer whose rows are most of its text, so that it is read once.
//!
//! Parsing the frame around the rows with serde first means reading the rows twice:
//! once to find where they end, once to decode them. A [`Walker`] goes through the
//! objects and arrays around the rows key by key, hands small parts (column lists,
//! error objects) to serde, and reads the rows into a [`TableBuilder`] where they
//! are.

use serde::Deserialize;

use super::json::{Reader, SyntaxError};
use super::{split, DecodeError, RowShape, TableBuilder};

/// A cursor over a JSON answer.
pub struct Walker<'a> {
    text: &'a str,
    reader: Reader<'a>,
    /// What the text is, for errors (`"query response"`).
    what: &'static str,
    /// For each object or array entered and not yet left: whether none of its members
    /// has been read yet.
    fresh: Vec<bool>,
}

/// An array of rows met while walking.
pub enum Rows<'a> {
    /// Read where it was, its table being known to be wanted by then.
    Read(TableBuilder),
    /// Its text, for a table not (yet) known to be wanted.
    Later(&'a str),
}

impl Rows<'_> {
    /// The rows in a builder; rows kept as text are read into `make()`.
    pub fn into_builder(
        self,
        make: impl FnOnce() -> TableBuilder,
    ) -> Result<TableBuilder, DecodeError> {
        match self {
            Rows::Read(builder) => Ok(builder),
            Rows::Later(text) => {
                let mut builder = make();
                builder.push_rows(text, RowShape::Arrays)?;
                Ok(builder)
            }
        }
    }
}

impl<'a> Walker<'a> {
    pub fn new(text: &'a str, what: &'static str) -> Walker<'a> {
        Walker {
            text,
            reader: Reader::new(text, 0),
            what,
            fresh: Vec::new(),
        }
    }

    /// Enters the object that comes next; [`Walker::key`] then gives its keys.
    pub fn object(&mut self) -> Result<(), DecodeError> {
        self.enter(b'{', "expected an object")
    }

    /// Enters the array that comes next; [`Walker::element`] then steps through it.
    pub fn array(&mut self) -> Result<(), DecodeError> {
        self.enter(b'[', "expected an array")
    }

    /// The next key of the object entered last, before its value (which must be
    /// read), or `None` at the object's end, which leaves it.
    pub fn key(&mut self) -> Result<Option<String>, DecodeError> {
        if !self.next_member(b'}', "expected ',' or '}' in an object")? {
            return Ok(None);
        }
        let what = self.what;
        let key = self.reader.key().map_err(|e| syntax(what, e))?;
        Ok(Some(key.to_string()))
    }

    /// Whether the array entered last has another element, which must then be read;
    /// at the array's end, leaves it.
    pub fn element(&mut self) -> Result<bool, DecodeError> {
        self.next_member(b']', "expected ',' or ']' in an array")
    }

    /// The next value's JSON text.
    pub fn raw(&mut self) -> Result<&'a str, DecodeError> {
        self.reader.raw().map_err(|e| syntax(self.what, e))
    }

    /// The next value, read by serde.
    pub fn parse<T: Deserialize<'a>>(&mut self) -> Result<T, DecodeError> {
        let raw = self.raw()?;
        serde_json::from_str(raw).map_err(|e| DecodeError::json(self.what, e))
    }

    /// The array of rows (as arrays of values) that comes next: read into `builder`
    /// when given, on every core when it is large, else kept as text to read later.
    pub fn rows(&mut self, builder: Option<TableBuilder>) -> Result<Rows<'a>, DecodeError> {
        let Some(mut builder) = builder else {
            return Ok(Rows::Later(self.raw()?));
        };
        self.reader.peek();
        let start = self.reader.pos();
        let shares = split::share_count(self.text.len() - start);
        let end = builder.read_rows_at(self.text, start, RowShape::Arrays, shares)?;
        self.reader = Reader::new(self.text, end);
        Ok(Rows::Read(builder))
    }

    /// The error for an answer that lacks `field`.
    pub fn missing(&self, field: &'static str) -> DecodeError {
        DecodeError::Missing {
            what: self.what,
            field,
        }
    }

    /// Checks that only whitespace follows the value walked through.
    pub fn end(&mut self) -> Result<(), DecodeError> {
        match self.reader.peek() {
            None => Ok(()),
            Some(_) => Err(syntax(
                self.what,
                self.reader.error("text follows the answer"),
            )),
        }
    }

    fn enter(&mut self, open: u8, problem: &'static str) -> Result<(), DecodeError> {
        self.reader
            .expect(open, problem)
            .map_err(|e| syntax(self.what, e))?;
        self.fresh.push(true);
        Ok(())
    }

    /// Steps over the comma before the next member of the innermost object or array,
    /// or its closing bracket; false at the end.
    fn next_member(&mut self, close: u8, problem: &'static str) -> Result<bool, DecodeError> {
        let fresh = self.fresh.last().copied().unwrap_or(false);
        match self.reader.peek() {
            Some(b) if b == close => {
                self.reader.advance();
                self.fresh.pop();
                Ok(false)
            }
            Some(b',') if !fresh => {
                self.reader.advance();
                Ok(true)
            }
            _ if fresh => {
                if let Some(fresh) = self.fresh.last_mut() {
                    *fresh = false;
                }
                Ok(true)
            }
            _ => Err(syntax(self.what, self.reader.error(problem))),
        }
    }
}

fn syntax(what: &'static str, e: SyntaxError) -> DecodeError {
    DecodeError::Syntax {
        what,
        problem: e.problem,
        offset: e.offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::decode::ColumnType;

    #[test]
    fn walks_around_rows_and_reads_them_in_place() {
        let text = r#" {"name": "T", "skip": [1, {"a": "]"}], "rows": [[1], [2]], "later": [[3]], "n": null} "#;
        let mut walker = Walker::new(text, "answer");
        let table = || TableBuilder::new("T", vec![("A".into(), ColumnType::Long)]);
        let mut builder = Some(table());
        let (mut rows, mut later) = (None, None);
        walker.object().unwrap();
        let mut keys = Vec::new();
        while let Some(key) = walker.key().unwrap() {
            match key.as_str() {
                "name" => assert_eq!(walker.parse::<String>().unwrap(), "T"),
                "rows" => rows = Some(walker.rows(Some(builder.take().unwrap())).unwrap()),
                "later" => later = Some(walker.rows(None).unwrap()),
                _ => {
                    walker.raw().unwrap();
                }
            }
            keys.push(key);
        }
        walker.end().unwrap();
        assert_eq!(keys, ["name", "skip", "rows", "later", "n"]);
        assert!(matches!(rows, Some(Rows::Read(_))));
        assert_eq!(rows.unwrap().into_builder(table).unwrap().rows(), 2);
        assert!(matches!(later, Some(Rows::Later("[[3]]"))));
        assert_eq!(later.unwrap().into_builder(table).unwrap().rows(), 1);
    }

    #[test]
    fn empty_containers_and_bad_separators() {
        let mut walker = Walker::new("[[], {}]", "answer");
        walker.array().unwrap();
        assert!(walker.element().unwrap());
        walker.array().unwrap();
        assert!(!walker.element().unwrap());
        assert!(walker.element().unwrap());
        walker.object().unwrap();
        assert_eq!(walker.key().unwrap(), None);
        assert!(!walker.element().unwrap());
        walker.end().unwrap();

        let mut walker = Walker::new("[1 2]", "answer");
        walker.array().unwrap();
        assert!(walker.element().unwrap());
        walker.raw().unwrap();
        let err = walker.element().unwrap_err().to_string();
        assert_eq!(
            err,
            "the answer is not what the service documents: expected ',' or ']' in an array at byte 3"
        );
        let mut walker = Walker::new("{} x", "answer");
        walker.object().unwrap();
        assert_eq!(walker.key().unwrap(), None);
        let err = walker.end().unwrap_err().to_string();
        assert!(err.ends_with("text follows the answer at byte 3"), "{err}");
    }
}
