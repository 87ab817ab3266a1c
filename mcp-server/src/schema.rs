//! JSON Schemas (2020-12) for tool inputs and outputs, derived with schemars once at
//! registration, never per call.

use mcp_core::types::JsonObject;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

fn root_schema_for<T: JsonSchema>() -> JsonObject {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    match schema.to_value() {
        Value::Object(mut map) => {
            // The Rust type's name says nothing to a client.
            map.remove("title");
            map
        }
        // `true`/`false` schemas: describe them as an open object.
        _ => JsonObject::from_iter([("type".to_owned(), Value::from("object"))]),
    }
}

fn is_object_schema(schema: &JsonObject) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
}

/// The input schema of a tool whose arguments are the fields of `A`. A unit or empty argument
/// type gives `{"type":"object","additionalProperties":false}` (TL-03).
pub fn object_schema_for<A: JsonSchema>() -> JsonObject {
    let mut schema = root_schema_for::<A>();
    if !is_object_schema(&schema) {
        if schema.get("type").and_then(Value::as_str) == Some("null") {
            return serde_json::from_value(serde_json::json!({
                "type": "object", "additionalProperties": false
            }))
            .unwrap_or_default();
        }
        schema.insert("type".to_owned(), Value::from("object"));
    }
    schema
}

/// The output schema of a tool returning `Json<T>`, consistent with what
/// [`Json`](crate::Json) sends: structured content must be an object in the legacy era, so an
/// object schema is used as is, a schema of a definite other type (array, string, number...)
/// describes `{"result": T}`, and a schema that may or may not be an object (`serde_json::Value`,
/// `Option<T>`, untagged enums) gives no output schema at all.
pub fn output_schema_for<T: JsonSchema>() -> Option<JsonObject> {
    let mut schema = root_schema_for::<T>();
    if is_object_schema(&schema) {
        return Some(schema);
    }
    let never_object = match schema.get("type") {
        Some(Value::String(t)) => t != "object",
        Some(Value::Array(ts)) => !ts.iter().any(|t| t == "object"),
        _ => false,
    };
    if !never_object {
        return None;
    }
    let dialect = schema.remove("$schema");
    let defs = schema.remove("$defs");
    let mut wrapped = JsonObject::new();
    if let Some(d) = dialect {
        wrapped.insert("$schema".to_owned(), d);
    }
    wrapped.insert("type".to_owned(), Value::from("object"));
    wrapped.insert(
        "properties".to_owned(),
        serde_json::json!({ "result": Value::Object(schema) }),
    );
    wrapped.insert("required".to_owned(), serde_json::json!(["result"]));
    if let Some(d) = defs {
        wrapped.insert("$defs".to_owned(), d);
    }
    Some(wrapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// The path.
        path: String,
        limit: Option<u32>,
    }

    #[test]
    fn argument_structs_give_object_schemas_with_descriptions() {
        let s = object_schema_for::<Args>();
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"]["path"]["description"], "The path.");
        assert_eq!(s["required"], serde_json::json!(["path"]));
        assert!(!s.contains_key("title"));
    }

    #[test]
    fn unit_arguments_forbid_everything() {
        let s = object_schema_for::<()>();
        assert_eq!(
            Value::Object(s),
            serde_json::json!({"type":"object","additionalProperties":false})
        );
    }

    #[test]
    fn no_args_forbid_everything() {
        let s = object_schema_for::<crate::NoArgs>();
        assert_eq!(s["type"], "object");
        assert_eq!(s["additionalProperties"], false);
    }

    #[test]
    fn non_object_outputs_are_wrapped() {
        let s = output_schema_for::<Vec<String>>().unwrap();
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"]["result"]["type"], "array");
        assert!(
            output_schema_for::<serde_json::Value>().is_none(),
            "maybe an object: no schema"
        );
        // Never an object (null or array): wrapped, as `Json` wraps it.
        assert!(output_schema_for::<Option<Vec<String>>>().is_some());
        // Maybe an object: no schema.
        let maybe = output_schema_for::<Option<std::collections::BTreeMap<String, String>>>();
        assert!(maybe.is_none());
    }
}
