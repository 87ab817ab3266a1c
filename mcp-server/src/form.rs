//! `application/x-www-form-urlencoded` encoding of one value (WHATWG URL §5.2, through the
//! `form_urlencoded` crate): the form bodies the server sends (token introspection) and the test
//! issuer's redirects.

/// Encodes `value`: ASCII letters, digits and `*-._` stay, a space becomes `+`, every other
/// byte becomes `%XX`.
pub(crate) fn form_urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
