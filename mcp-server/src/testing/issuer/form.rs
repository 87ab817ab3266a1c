//! `application/x-www-form-urlencoded` decoding for the endpoints (encoding: `crate::form`).

pub(super) fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

pub(super) fn form_decode(s: &str) -> String {
    decode_form(&format!("x={s}"))
        .pop()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

pub(super) fn decode_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let dec = |s: &str| {
                let s = s.replace('+', " ");
                let bytes = s.as_bytes();
                let mut out = Vec::with_capacity(bytes.len());
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%' && i + 2 < bytes.len() {
                        let hex = s.get(i + 1..i + 3).unwrap_or("");
                        if let Ok(b) = u8::from_str_radix(hex, 16) {
                            out.push(b);
                            i += 3;
                            continue;
                        }
                    }
                    out.push(bytes[i]);
                    i += 1;
                }
                String::from_utf8_lossy(&out).into_owned()
            };
            Some((dec(k), dec(v)))
        })
        .collect()
}
