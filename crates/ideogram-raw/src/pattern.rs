//! A spec's `pattern` as a matcher, for the check nodes and the generated
//! types. The patterns are ECMA-262; `cargo xtask generate` lets through
//! only the part of that syntax `regex-automata` reads alike (literals,
//! classes, `^`, `$`, groups, alternation, repetition: see
//! `xtask/src/pattern.rs`), and `\d`, `\w` and `\s`, which are spelled out
//! here as the classes ECMA-262 defines them to be. `regex-automata` is in the CLI already (through
//! `tracing-subscriber`) and, without its Unicode features, brings no
//! tables: an ECMA-262 engine (`regress`) brought 8,600 pointers that the
//! loader relocated at the start of every process.

use regex_automata::Input;
use regex_automata::dfa::{Automaton as _, dense};

/// A compiled pattern: a forward DFA, searched anywhere in a text as
/// ECMA-262's `RegExp.prototype.test` does (the pattern's `^` and `$`
/// anchor it).
#[derive(Clone, Debug)]
pub(crate) struct Regex {
    dfa: dense::DFA<Vec<u32>>,
}

/// Where a match ends (a match's existence is all a check needs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Match;

impl Regex {
    /// Compiles `source`; an error names what `regex-automata` could not
    /// read (the xtask reads every spec pattern first, so none does).
    pub(crate) fn new(source: &str) -> Result<Regex, Box<dense::BuildError>> {
        match dense::DFA::new(&spelled_out(source)) {
            Ok(dfa) => Ok(Regex { dfa }),
            Err(e) => Err(Box::new(e)),
        }
    }

    /// A match of the pattern in `text`, if there is one.
    pub(crate) fn find(&self, text: &str) -> Option<Match> {
        let input = Input::new(text).earliest(true);
        // A DFA without Unicode word boundaries has no quit bytes, so the
        // search cannot fail; a failure would be no match, never a panic.
        match self.dfa.try_search_fwd(&input) {
            Ok(Some(_)) => Some(Match),
            Ok(None) | Err(_) => None,
        }
    }
}

/// ECMA-262's `\s`: its WhiteSpace (tab, vertical tab, form feed, U+FEFF
/// and the Unicode space separators) and LineTerminator characters. Not
/// Unicode's White_Space, which `regex-automata`'s `\s` would be (it has
/// U+0085 and not U+FEFF).
const SPACE: &str = "\\t\\n\\x0B\\x0C\\r \\u{A0}\\u{1680}\\u{2000}-\\u{200A}\\u{2028}\\u{2029}\\u{202F}\\u{205F}\\u{3000}\\u{FEFF}";

/// `source` with `\d`, `\w`, `\s` and their negations written as the
/// ASCII and space classes they are in ECMA-262 (without the `u` and `i`
/// flags, which a spec's pattern cannot carry). A class in a class is a
/// union in `regex-automata`'s syntax, so the same spelling serves there.
fn spelled_out(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        // Every backslash escapes the character after it.
        let Some(escaped) = chars.next() else {
            out.push(c);
            break;
        };
        let (negated, class) = match escaped {
            'd' | 'D' => (escaped == 'D', "0-9"),
            'w' | 'W' => (escaped == 'W', "0-9A-Za-z_"),
            's' | 'S' => (escaped == 'S', SPACE),
            _ => {
                out.push(c);
                out.push(escaped);
                continue;
            }
        };
        out.push('[');
        if negated {
            out.push('^');
        }
        out.push_str(class);
        out.push(']');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Regex;

    /// The spec's patterns mean what ECMA-262 says: anchored where `^` and
    /// `$` say, searched anywhere otherwise, by characters.
    #[test]
    fn the_spec_s_patterns_match_as_ecma_262_says() {
        let matches = |source: &str, text: &str| Regex::new(source).unwrap().find(text).is_some();
        let hex = "^#(?:[0-9a-fA-F]{3}){1,2}$";
        assert!(matches(hex, "#abc"));
        assert!(matches(hex, "#A0b1C2"));
        for text in ["#abcd", "abc", "#abc\n", "#ab", "#abcabcabc", " #abc"] {
            assert!(!matches(hex, text), "{text:?}");
        }
        let version = "^model/[^/]+/version/[^/]+$";
        assert!(matches(version, "model/a-1/version/é"));
        assert!(!matches(version, "model/a/b/version/c"));
        assert!(!matches(version, "model//version/c"));
        assert!(matches("^https://", "https://x/y.png"));
        assert!(!matches("^https://", "http://x"));
        assert!(!matches("^https://", " https://x"));
        // Unanchored, a match anywhere counts.
        assert!(matches("b+", "abbc"));
        assert!(!matches("b+", "ac"));
        // Something not blank, by ECMA-262's spaces.
        assert!(matches("\\S", " a "));
        for blank in ["", " \t\n", "\u{FEFF}", "\u{3000}\u{A0}"] {
            assert!(!matches("\\S", blank), "{blank:?}");
        }
        assert!(matches("\\S", "\u{85}"));
        assert!(matches("^[\\d\\s]+$", "1 2"));
        assert!(!matches("^\\d$", "\u{663}"));
        assert!(!matches("^\\w$", "é"));
        assert!(matches("^[^\\W]$", "_"));
    }
}
