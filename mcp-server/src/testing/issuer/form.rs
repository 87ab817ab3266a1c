//! `application/x-www-form-urlencoded` decoding for the endpoints (through the
//! `form_urlencoded` crate; encoding: `crate::form`).

pub(super) fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// One encoded value, decoded.
pub(super) fn form_decode(s: &str) -> String {
    decode_form(&format!("x={s}"))
        .pop()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// Every `name=value` pair of a form body, decoded.
pub(super) fn decode_form(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}
