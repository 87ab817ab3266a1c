//! Shared helpers of the golden tests: the official schemas, validation against one of their
//! definitions, and serde round trips.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use mcp_core::jsonrpc::{ErrorObject, ErrorResponse, Notification, Request, RequestId, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const SCHEMA_2026_07_28: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/spec/2026-07-28/schema.json"
));
const SCHEMA_2025_11_25: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/spec/2025-11-25/schema.json"
));
const SCHEMA_2025_06_18: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/spec/2025-06-18/schema.json"
));

/// A schema version the tests validate against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spec {
    /// `2026-07-28` (modern era): JSON Schema 2020-12, `$defs`.
    V2026_07_28,
    /// `2025-11-25`: JSON Schema 2020-12, `$defs`.
    V2025_11_25,
    /// `2025-06-18`: draft-07, `definitions`.
    V2025_06_18,
}

/// The parsed schema document of a version.
pub fn schema(spec: Spec) -> &'static Value {
    static MODERN: OnceLock<Value> = OnceLock::new();
    static NEW: OnceLock<Value> = OnceLock::new();
    static OLD: OnceLock<Value> = OnceLock::new();
    match spec {
        Spec::V2026_07_28 => {
            MODERN.get_or_init(|| serde_json::from_str(SCHEMA_2026_07_28).unwrap())
        }
        Spec::V2025_11_25 => NEW.get_or_init(|| serde_json::from_str(SCHEMA_2025_11_25).unwrap()),
        Spec::V2025_06_18 => OLD.get_or_init(|| serde_json::from_str(SCHEMA_2025_06_18).unwrap()),
    }
}

/// The definitions of a version (`$defs` or `definitions`).
pub fn defs(spec: Spec) -> &'static serde_json::Map<String, Value> {
    let key = match spec {
        Spec::V2026_07_28 | Spec::V2025_11_25 => "$defs",
        Spec::V2025_06_18 => "definitions",
    };
    schema(spec)[key].as_object().unwrap()
}

/// A validator for one definition, built once and cached (formats are asserted).
fn validator(spec: Spec, def: &str) -> Arc<Validator> {
    type Cache = Mutex<HashMap<(Spec, String), Arc<Validator>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(&(spec, def.to_owned())) {
        return v.clone();
    }
    assert!(
        defs(spec).contains_key(def),
        "{spec:?} has no definition {def}"
    );
    let (doc, draft) = match spec {
        Spec::V2026_07_28 | Spec::V2025_11_25 => (
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#/$defs/{def}"),
                "$defs": defs(spec),
            }),
            Draft::Draft202012,
        ),
        Spec::V2025_06_18 => (
            json!({
                "$schema": "http://json-schema.org/draft-07/schema#",
                "$ref": format!("#/definitions/{def}"),
                "definitions": defs(spec),
            }),
            Draft::Draft7,
        ),
    };
    let built = jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .build(&doc)
        .unwrap_or_else(|e| panic!("cannot build a validator for {spec:?} {def}: {e}"));
    let built = Arc::new(built);
    cache
        .lock()
        .unwrap()
        .insert((spec, def.to_owned()), built.clone());
    built
}

/// The validation errors of `instance` against `def`, as readable lines.
pub fn errors(spec: Spec, def: &str, instance: &Value) -> Vec<String> {
    validator(spec, def)
        .iter_errors(instance)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect()
}

/// Asserts that `instance` is valid against `def`.
#[track_caller]
pub fn assert_valid(spec: Spec, def: &str, instance: &Value) {
    let errs = errors(spec, def, instance);
    assert!(
        errs.is_empty(),
        "{instance:#} is not a valid {spec:?} {def}:\n{}",
        errs.join("\n")
    );
}

/// Asserts that `instance` is not valid against `def`.
#[track_caller]
pub fn assert_invalid(spec: Spec, def: &str, instance: &Value) {
    assert!(
        !errors(spec, def, instance).is_empty(),
        "{instance:#} should not be a valid {spec:?} {def}"
    );
}

/// Serializes `value`, deserializes it back (from a `Value` and from text), asserts equality, and
/// returns the JSON.
#[track_caller]
pub fn round_trip<T>(value: &T) -> Value
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_value(value).unwrap();
    let back: T = serde_json::from_value(json.clone())
        .unwrap_or_else(|e| panic!("{json:#} does not deserialize back: {e}"));
    assert_eq!(&back, value, "round trip through Value changed the value");
    let text = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, value, "round trip through text changed the value");
    json
}

/// The golden check of one value: it round-trips, validates against `def` of 2025-11-25, and,
/// when `old_def` is given, against that definition of 2025-06-18.
#[track_caller]
pub fn golden<T>(value: &T, def: &str, old_def: Option<&str>) -> Value
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(value);
    assert_valid(Spec::V2025_11_25, def, &json);
    if let Some(old) = old_def {
        assert_valid(Spec::V2025_06_18, old, &json);
    }
    json
}

/// The golden check of one modern value: it round-trips and validates against `def` of
/// 2026-07-28.
#[track_caller]
pub fn golden_modern<T>(value: &T, def: &str) -> Value
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(value);
    assert_valid(Spec::V2026_07_28, def, &json);
    json
}

/// Parses a hand-written example, asserts that it re-serializes to the same JSON, and returns it.
#[track_caller]
pub fn parse_exact<T>(json: Value) -> T
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let value: T = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{json:#}: {e}"));
    assert_eq!(serde_json::to_value(&value).unwrap(), json);
    value
}

/// A serialized JSON-RPC request carrying `params`.
pub fn request<P: Serialize>(id: impl Into<RequestId>, method: &str, params: Option<&P>) -> Value {
    let params = params.map(|p| serde_json::to_value(p).unwrap());
    serde_json::to_value(Request::new(id, method, params)).unwrap()
}

/// A serialized JSON-RPC notification carrying `params`.
pub fn notification<P: Serialize>(method: &str, params: Option<&P>) -> Value {
    let params = params.map(|p| serde_json::to_value(p).unwrap());
    serde_json::to_value(Notification::new(method, params)).unwrap()
}

/// A serialized JSON-RPC success response carrying `result`.
pub fn response<R: Serialize>(id: impl Into<RequestId>, result: &R) -> Value {
    serde_json::to_value(Response {
        id: id.into(),
        result: serde_json::to_value(result).unwrap(),
    })
    .unwrap()
}

/// A serialized JSON-RPC error response.
pub fn error_response(id: Option<RequestId>, error: ErrorObject) -> Value {
    serde_json::to_value(ErrorResponse::new(id, error)).unwrap()
}

/// Builds a JSON object from a `json!` literal that must be an object.
pub fn obj(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}
