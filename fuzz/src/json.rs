//! JSON values drawn by the fuzzer (structure-aware inputs): object keys and strings come either
//! from a vocabulary the target gives (member names the code under test looks for) or are free.

use arbitrary::Arbitrary;
use serde_json::{Map, Number, Value};

/// How deep a drawn value may nest; deeper members become `null`.
const MAX_DEPTH: usize = 12;

/// A string: a word of the target's vocabulary, or any text.
#[derive(Arbitrary, Debug, Clone)]
pub enum Text {
    /// The vocabulary's word at this index (modulo its length).
    Word(u8),
    /// Free text.
    Free(String),
}

impl Text {
    /// The text, with words taken from `vocab`.
    pub fn render(&self, vocab: &[&str]) -> String {
        match self {
            Text::Word(i) if !vocab.is_empty() => vocab[usize::from(*i) % vocab.len()].to_owned(),
            Text::Word(i) => i.to_string(),
            Text::Free(s) => s.clone(),
        }
    }
}

/// A JSON value.
#[derive(Arbitrary, Debug, Clone)]
pub enum Json {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer (above `i64::MAX` too).
    Uint(u64),
    /// A float (non-finite ones become `null`).
    Float(f64),
    /// A string.
    Str(Text),
    /// An array.
    Array(Vec<Json>),
    /// An object (a repeated key keeps its last value).
    Object(Vec<(Text, Json)>),
}

impl Json {
    /// The value, with words taken from `vocab`.
    pub fn to_value(&self, vocab: &[&str]) -> Value {
        self.value_at(vocab, 0)
    }

    /// The value if it is an object, else an object with the value under `"value"`.
    pub fn to_object(&self, vocab: &[&str]) -> Map<String, Value> {
        match self.to_value(vocab) {
            Value::Object(m) => m,
            other => Map::from_iter([("value".to_owned(), other)]),
        }
    }

    fn value_at(&self, vocab: &[&str], depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::Uint(u) => Value::from(*u),
            Json::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Str(t) => Value::String(t.render(vocab)),
            Json::Array(items) => items.iter().map(|j| j.value_at(vocab, depth + 1)).collect(),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.render(vocab), v.value_at(vocab, depth + 1)))
                    .collect(),
            ),
        }
    }
}
