//! `application/x-www-form-urlencoded` encoding of one value (WHATWG URL §5.2): the form
//! bodies the server sends (token introspection) and the test issuer's redirects.

/// Encodes `value`: ASCII letters, digits and `*-._` stay, a space becomes `+`, every other
/// byte becomes `%XX`.
pub(crate) fn form_urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
