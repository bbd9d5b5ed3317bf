//! What the crate's property tests (each in a `properties` module beside
//! the code it tests; see the README's "Properties") share: a client whose
//! key they plant in answers, and strategies for hostile answers.

use proptest::prelude::*;
use serde_json::Value;

use crate::Client;
use crate::connection::Connection;

/// The key of [`connection`]: what no decoder may let through.
pub(crate) const KEY: &str = "sk-prop-Zq7/x+W9";

/// A Segmind connection holding [`KEY`] (no request is ever sent).
pub(crate) fn connection() -> &'static Connection {
    static CLIENT: std::sync::LazyLock<Client> =
        std::sync::LazyLock::new(|| Client::segmind(KEY).expect("a client"));
    CLIENT.connection()
}

/// Every form of [`KEY`] a server may echo: bare, percent-encoded (upper
/// and lower case).
pub(crate) fn key_forms() -> [String; 3] {
    let encode = |upper: bool| {
        KEY.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    [KEY.to_owned(), encode(true), encode(false)]
}

/// Text a server may send: anything, whitespace and controls, and the key
/// in each of its forms between them.
pub(crate) fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => "\\PC{0,16}",
        1 => "[ \t\r\n\u{0}\u{1b}\u{200b}\u{feff}]{1,3}",
        1 => prop::sample::select(key_forms().to_vec()),
        1 => split_key(),
        1 => Just("https://x.test/a.png?key=".to_owned()),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|parts| parts.concat())
}

/// The key with an invisible or control character inside it: a cleaner
/// that drops such characters must not join it back into the key.
pub(crate) fn split_key() -> impl Strategy<Value = String> {
    (
        1..KEY.len(),
        prop::sample::select(vec!['\u{200b}', '\u{feff}', '\u{0}', '\u{7f}', '\u{2060}']),
    )
        .prop_map(|(at, c)| format!("{}{c}{}", &KEY[..at], &KEY[at..]))
}

/// A URL a service may answer with, the key possibly in it.
pub(crate) fn url() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["https://", "http://", "HTTPS://", " https://"]),
        "[a-z0-9./_-]{1,20}",
        prop::option::of(prop::sample::select(key_forms().to_vec())),
    )
        .prop_map(|(scheme, path, key)| {
            format!("{scheme}cdn.test/{path}{}", key.unwrap_or_default())
        })
}

/// Any JSON value, nested up to `depth` levels, its strings from [`text`]
/// and [`url`].
pub(crate) fn json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        text().prop_map(Value::from),
        url().prop_map(Value::from),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec!["data", "url", "output", "image", "status", "error"])
                        .prop_map(str::to_owned),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Whether `text` holds the key in any form.
pub(crate) fn leaks(text: &str) -> bool {
    key_forms().iter().any(|form| text.contains(form.as_str()))
}

/// Whether `text` holds the key in any form, also in other letter case or
/// with the invisible characters these strategies insert: what a reader
/// would still recognise as the key.
pub(crate) fn disguised(text: &str) -> bool {
    const INVISIBLE: [char; 3] = ['\u{200b}', '\u{feff}', '\u{2060}'];
    let plain = text
        .chars()
        .filter(|c| !INVISIBLE.contains(c))
        .collect::<String>()
        .to_ascii_lowercase();
    key_forms()
        .iter()
        .any(|form| plain.contains(&form.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_planted_form_counts_as_a_leak() {
        assert_eq!(key_forms()[1], "sk-prop-Zq7%2Fx%2BW9");
        assert!(key_forms().iter().all(|form| leaks(form)));
        assert!(!leaks(&KEY[1..]));
        assert!(disguised("SK-prop-\u{200b}zq7/x+w9"));
        assert!(!disguised("sk-prop-\u{0}Zq7/x+W9"));
    }
}
