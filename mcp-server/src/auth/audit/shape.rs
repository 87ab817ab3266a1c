//! Tool arguments by shape, never by value: `{"dag": "string(12)", "params": "array(3)"}`.

use serde_json::{Map, Value};

/// The most argument names recorded.
const MAX_KEYS: usize = 32;
/// The longest argument name recorded (longer names are cut).
const MAX_KEY_LEN: usize = 64;

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "boolean".to_owned(),
        Value::Number(_) => "number".to_owned(),
        Value::String(s) => format!("string({})", s.len()),
        Value::Array(a) => format!("array({})", a.len()),
        Value::Object(o) => format!("object({})", o.len()),
    }
}

/// The shape of a call's arguments: each top-level name with its JSON type and size.
pub(crate) fn arguments_shape(args: Option<&Map<String, Value>>) -> Value {
    let Some(args) = args else {
        return Value::Object(Map::new());
    };
    let mut out = Map::new();
    for (k, v) in args.iter().take(MAX_KEYS) {
        let name: String = k.chars().take(MAX_KEY_LEN).collect();
        out.insert(name, Value::String(describe(v)));
    }
    if args.len() > MAX_KEYS {
        out.insert(
            "…".to_owned(),
            Value::String(format!("{} more", args.len() - MAX_KEYS)),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_appear() {
        let args = serde_json::json!({"token": "hunter2", "n": 42, "list": [1, 2], "o": {"a": 1}});
        let shape = arguments_shape(args.as_object());
        let text = shape.to_string();
        assert!(!text.contains("hunter2") && !text.contains("42"));
        assert_eq!(shape["token"], "string(7)");
        assert_eq!(shape["list"], "array(2)");
        assert_eq!(shape["o"], "object(1)");
    }
}
