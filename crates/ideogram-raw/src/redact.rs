//! Finding a secret in text however a server or a URL echoes it, to replace
//! it with [`REDACTED`].
//!
//! A key may come back in another letter case, with invisible characters
//! (zero-width space and joiners, a byte-order mark, a soft hyphen, any
//! Unicode format character) inserted between its characters, or
//! percent-encoded, whole or in part (`%73k-...`, `%E2%80%8B` for an
//! inserted zero-width space). [`redact`] finds all of these in one pass over
//! the text, without allocating unless it finds one; [`Secret`] holds what it
//! needs of the key, worked out once, since redacting runs on every answer.
//!
//! Letter case is matched for ASCII letters (keys are ASCII: an HTTP header
//! carries nothing else); any other character must match exactly.

use std::borrow::Cow;

use unicode_general_category::{GeneralCategory, get_general_category};

/// What [`redact`] puts where a secret was.
pub const REDACTED: &str = "[REDACTED]";

/// A secret as [`redact`] looks for it: its characters in lower case,
/// invisible ones left out, and the bytes a match can start with.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// The secret's visible characters, ASCII letters in lower case.
    folded: Box<[char]>,
    /// The first byte of every way the secret can start in text: its first
    /// character in either case, or `%` (percent-encoded).
    starts: [u8; 3],
    /// The fewest bytes any form of it takes: its visible characters, none
    /// percent-encoded (an encoded one, or an invisible one, only adds).
    min_len: usize,
}

impl Secret {
    /// The forms of `secret`; `None` when it has no visible character (there
    /// is nothing to find).
    pub fn new(secret: &str) -> Option<Self> {
        let folded: Box<[char]> = secret
            .chars()
            .filter(|c| !invisible(*c))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let first = *folded.first()?;
        let mut utf8 = [0; 4];
        let lead = first.encode_utf8(&mut utf8).as_bytes()[0];
        let starts = [lead, lead.to_ascii_uppercase(), b'%'];
        let min_len = folded.iter().map(|c| c.len_utf8()).sum();
        Some(Self {
            folded,
            starts,
            min_len,
        })
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// `text` with every occurrence of `secret` replaced by [`REDACTED`]: in any
/// ASCII letter case, with invisible characters between its characters, and
/// with any of its characters (or the invisible ones) percent-encoded.
/// Borrowed when there is none.
///
/// ```
/// use ideogram_raw::redact::{Secret, redact};
///
/// let key = Secret::new("sk-123456").unwrap();
/// assert_eq!(redact("Bearer SK-123\u{200B}456.", &key), "Bearer [REDACTED].");
/// assert_eq!(redact("k=sk%2D123456", &key), "k=[REDACTED]");
/// assert_eq!(redact("nothing here", &key), "nothing here");
/// ```
pub fn redact<'a>(text: &'a str, secret: &Secret) -> Cow<'a, str> {
    let mut out: Option<String> = None;
    // Text before `copied` is in `out` (when there is one).
    let mut copied = 0;
    while let Some(found) = find(text, secret, copied) {
        let redacted = out.get_or_insert_with(|| String::with_capacity(text.len()));
        redacted.push_str(&text[copied..found.start]);
        redacted.push_str(REDACTED);
        copied = found.end;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut redacted) => {
            redacted.push_str(&text[copied..]);
            Cow::Owned(redacted)
        }
    }
}

/// The bytes of `text` the first occurrence of `secret` at or after byte
/// `from` (a char boundary) takes, as [`redact`] finds it.
pub fn find(text: &str, secret: &Secret, from: usize) -> Option<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut from = from;
    // Text too short to hold it (most fields of an answer) is not searched.
    if bytes.len().saturating_sub(from) < secret.min_len {
        return None;
    }
    while let Some(offset) = bytes
        .get(from..)?
        .iter()
        .position(|b| secret.starts.contains(b))
    {
        // A start byte is ASCII or a UTF-8 lead byte: a char boundary.
        let at = from + offset;
        match match_at(text, at, &secret.folded) {
            Some(end) => return Some(at..end),
            None => from = at + char_len(bytes[at]),
        }
    }
    None
}

/// Where the match of `folded` starting at byte `at` of `text` ends, if one
/// does: each character of the secret in turn, invisible ones skipped
/// between them.
fn match_at(text: &str, at: usize, folded: &[char]) -> Option<usize> {
    let mut pos = at;
    for (n, &want) in folded.iter().enumerate() {
        loop {
            let (c, next) = unit(text, pos, want)?;
            if n > 0 && c != want && invisible(c) {
                pos = next;
                continue;
            }
            if c.to_ascii_lowercase() != want {
                return None;
            }
            pos = next;
            break;
        }
    }
    Some(pos)
}

/// The character at byte `pos` of `text` and where the next one starts: a
/// `%XX` sequence (one to four of them, a UTF-8 character) decoded, unless
/// the secret wants a `%` there and the sequence is not `%25`.
fn unit(text: &str, pos: usize, want: char) -> Option<(char, usize)> {
    let bytes = text.as_bytes();
    let c = text.get(pos..)?.chars().next()?;
    if c == '%'
        && let Some(decoded) = percent_decoded(&bytes[pos..])
        && (want != '%' || decoded.0 == '%')
    {
        return Some((decoded.0, pos + decoded.1));
    }
    Some((c, pos + c.len_utf8()))
}

/// The character that `%XX` sequences at the start of `bytes` encode, and
/// how many bytes they take.
fn percent_decoded(bytes: &[u8]) -> Option<(char, usize)> {
    let byte = |i: usize| -> Option<u8> {
        let at = i * 3;
        if *bytes.get(at)? != b'%' {
            return None;
        }
        let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
        u8::from_str_radix(hex, 16).ok()
    };
    let lead = byte(0)?;
    let len = match lead {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let mut utf8 = [0; 4];
    for (i, slot) in utf8.iter_mut().enumerate().take(len) {
        *slot = byte(i)?;
    }
    let c = std::str::from_utf8(&utf8[..len]).ok()?.chars().next()?;
    Some((c, len * 3))
}

/// The length of the UTF-8 character whose first byte is `lead`.
fn char_len(lead: u8) -> usize {
    match lead {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// Whether `c` shows nothing: a Unicode format character (category Cf:
/// zero-width space, joiners, byte-order mark, soft hyphen, direction
/// marks, tags) or another default-ignorable one (variation selectors,
/// Hangul fillers, the combining grapheme joiner).
pub fn invisible(c: char) -> bool {
    if c.is_ascii() {
        return false;
    }
    matches!(
        c,
        '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FFA0}'
            | '\u{E0100}'..='\u{E01EF}'
    ) || get_general_category(c) == GeneralCategory::Format
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const KEY: &str = "sk/Abc+def==9";

    fn secret() -> Secret {
        Secret::new(KEY).unwrap()
    }

    #[test]
    fn every_echoed_form_is_redacted() {
        for echoed in [
            "got sk/Abc+def==9",
            "got Bearer SK/aBC+DEF==9",
            "got key=sk%2FAbc%2Bdef%3D%3D9",
            "got key=sk%2fabc%2bdef%3d%3d9",
            "got %73%6B/Abc+def==9",
            "got sk\u{200B}/Abc\u{200D}+def\u{FEFF}==\u{AD}9",
            "got sk%E2%80%8B/Abc+def==9",
            "got s\u{E0041}k/A\u{FE0F}bc+\u{2060}def==9",
        ] {
            let redacted = redact(echoed, &secret());
            assert!(redacted.ends_with("[REDACTED]"), "{echoed} -> {redacted}");
            assert!(!redacted.to_ascii_lowercase().contains("abc"), "{redacted}");
        }
    }

    #[test]
    fn text_around_and_between_is_kept() {
        let text = "a SK/ABC+DEF==9 b sk/abc+def==9c é sk/abc";
        assert_eq!(
            redact(text, &secret()),
            "a [REDACTED] b [REDACTED]c é sk/abc"
        );
    }

    #[test]
    fn a_secret_holding_a_percent_matches_bare_and_encoded() {
        let key = Secret::new("ab%41z").unwrap();
        assert_eq!(redact("x ab%41z", &key), "x [REDACTED]");
        assert_eq!(redact("x ab%2541z", &key), "x [REDACTED]");
        assert_eq!(redact("x abAz", &key), "x abAz");
    }

    #[test]
    fn nothing_to_find_leaves_the_text_borrowed() {
        assert!(Secret::new("").is_none());
        assert!(Secret::new("\u{200B}").is_none());
        let text = "sk/ab % %zz %E2 ünïcode";
        assert!(matches!(redact(text, &secret()), Cow::Borrowed(_)));
    }

    #[test]
    fn the_shortest_form_is_found_and_shorter_text_is_not_searched() {
        let key = Secret::new("kéy").unwrap();
        assert_eq!(redact("kéy", &key), REDACTED);
        assert_eq!(redact("x KéY", &key), "x [REDACTED]");
        assert!(matches!(redact("ké", &key), Cow::Borrowed(_)));
        assert!(matches!(redact("", &key), Cow::Borrowed(_)));
    }

    /// The key with each ASCII letter in either case, and invisible
    /// characters (bare or percent-encoded) between some of its characters.
    fn disguised() -> impl Strategy<Value = String> {
        let invisible = prop::sample::select(vec![
            "\u{200B}",
            "\u{200C}",
            "\u{200D}",
            "\u{FEFF}",
            "\u{AD}",
            "\u{2060}",
            "\u{E0020}",
            "%E2%80%8B",
        ]);
        let chars: Vec<char> = KEY.chars().collect();
        let n = chars.len();
        (
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(prop::option::of(invisible), n),
            prop::collection::vec(any::<bool>(), n),
        )
            .prop_map(move |(upper, gaps, encode)| {
                let mut out = String::new();
                for i in 0..n {
                    if i > 0
                        && let Some(gap) = gaps[i]
                    {
                        out.push_str(gap);
                    }
                    let c = if upper[i] {
                        chars[i].to_ascii_uppercase()
                    } else {
                        chars[i].to_ascii_lowercase()
                    };
                    if encode[i] {
                        out.push_str(&format!("%{:02X}", c as u32));
                    } else {
                        out.push(c);
                    }
                }
                out
            })
    }

    proptest! {
        #[test]
        fn a_disguised_key_never_survives(
            before in "\\PC{0,40}",
            key in disguised(),
            after in "\\PC{0,40}",
        ) {
            let text = format!("{before}{key}{after}");
            let redacted = redact(&text, &secret());
            prop_assert!(redacted.contains(REDACTED));
            // What is left holds no disguise of the key either.
            let again = redact(&redacted, &secret());
            prop_assert_eq!(&again, &redacted);
            prop_assert!(!redacted.to_ascii_lowercase().contains("abc+def=="));
        }

        #[test]
        fn text_without_the_key_is_unchanged(text in "\\PC{0,200}") {
            prop_assume!(!text.to_ascii_lowercase().contains("sk/"));
            prop_assert!(matches!(redact(&text, &secret()), Cow::Borrowed(_)));
        }
    }
}
