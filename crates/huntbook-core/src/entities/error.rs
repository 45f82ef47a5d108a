/// Why entity JSON could not be read, or two entities could not be merged.
///
/// `at` and `entity` name the place: the element of the `Entities` array, the
/// entity's `$id` and `Type`, and the JSON path of the property (`/ImageFile`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntityError {
    #[error("entities JSON is malformed at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("entities JSON must be an array of entities, found {found}")]
    NotAnArray { found: &'static str },
    #[error("{at}: expected an entity (a JSON object), found {found}")]
    NotAnObject { at: String, found: &'static str },
    #[error("{at}: the reference \"{id}\" names no entity in this JSON")]
    DanglingRef { id: String, at: String },
    #[error("{at}: a reference must be `{{\"$ref\": \"<id>\"}}` with a string id, found {found}")]
    BadRef { at: String, found: String },
    #[error("{at}: `$id` must be a string, found {found}")]
    BadId { at: String, found: String },
    #[error("{at}: `$id` \"{id}\" is already used by {first}; each entity needs its own `$id`")]
    DuplicateId {
        id: String,
        first: String,
        at: String,
    },
    #[error("{at}: `Type` must be a string such as \"account\" or \"ip\", found {found}")]
    BadType { at: String, found: String },
    #[error("{entity}: property `{property}`: {message}")]
    InvalidProperty {
        entity: String,
        property: String,
        message: String,
    },
    #[error("cannot merge {kind} `{left}` with {other_kind} `{right}`: they are not the same entity (an identifying property differs)")]
    NotEquivalent {
        kind: String,
        left: String,
        other_kind: String,
        right: String,
    },
}

/// The JSON type of `value`, for messages.
pub fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Malformed JSON: where, and what was wrong, without repeating the position.
impl From<serde_json::Error> for EntityError {
    fn from(error: serde_json::Error) -> EntityError {
        let (line, column) = (error.line(), error.column());
        let message = error.to_string();
        let message = message
            .strip_suffix(&format!(" at line {line} column {column}"))
            .unwrap_or(&message)
            .to_string();
        EntityError::Json {
            line,
            column,
            message,
        }
    }
}
