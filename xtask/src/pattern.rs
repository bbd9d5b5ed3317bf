//! The spec's `pattern`s are ECMA-262 regular expressions; the raw crate
//! matches them with `regex-automata` (already in the CLI through
//! `tracing-subscriber`, and without the Unicode tables `regress`, an
//! ECMA-262 engine, links in: 8,600 pointers the loader relocates at every
//! start). The two syntaxes agree only on a common part, so every pattern
//! of a spec must lie in it, or the generation fails, naming the pattern:
//! literal characters (escaped punctuation too), bracketed classes of
//! characters and ranges (negated or not), `^` and `$` with no flags (the
//! text's ends in both), groups, alternation and repetition, and `\d`,
//! `\w`, `\s` and their negations (the raw crate spells those out as
//! ECMA-262 defines them). Left out: `.` (ECMA-262 excludes `\r`, U+2028
//! and U+2029 too), `\b`, `\p{..}`, flags, named groups, nested or
//! operator classes and `{,n}` (ECMA-262 reads those as text).

/// The raw crate's matcher, the same file: a check node's type names it,
/// and each pattern is built with it here once.
#[path = "../../crates/ideogram-raw/src/pattern.rs"]
#[allow(dead_code)] // Searched in the raw crate and in the tests below; here only built.
mod raw;
pub(crate) use raw::Regex;

use regex_syntax::ast::{
    self, AssertionKind, Ast, ClassSet, ClassSetItem, GroupKind, LiteralKind, RepetitionKind,
    RepetitionRange,
};

/// Checks that `source` is valid ECMA-262 (`regress` reads it) and means
/// the same to `regex-automata`, or says why not.
pub(crate) fn check(source: &str) -> Result<(), String> {
    let refuse = |why: &str| format!("the spec's pattern {source:?}: {why}");
    regress::Regex::new(source).map_err(|e| refuse(&e.to_string()))?;
    let ast = ast::parse::Parser::new()
        .parse(source)
        .map_err(|e| refuse(&format!("not read by regex-automata: {e}")))?;
    common(&ast, source).map_err(|what| {
        refuse(&format!(
            "{what} means something else to regex-automata than to ECMA-262"
        ))
    })?;
    Regex::new(source).map_err(|e| refuse(&format!("not built by regex-automata: {e}")))?;
    Ok(())
}

/// Puts the raw crate's matcher where typify builds a patterned string's
/// check with `::regress::Regex`, each of those patterns checked first.
pub(crate) fn use_raw_matcher(body: &str) -> Result<String, String> {
    const TYPIFY: &str = "::regress::Regex::new(";
    for (at, _) in body.match_indices(TYPIFY) {
        let rest = &body[at + TYPIFY.len()..];
        // The string literal: up to the first quote no backslash escapes.
        let mut escaped = false;
        let end = (rest.char_indices().skip(1))
            .find(|&(_, c)| {
                let ends = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                ends
            })
            .map(|(i, _)| i)
            .ok_or("typify's pattern: no string literal")?;
        let literal = syn::parse_str::<syn::LitStr>(&rest[..=end])
            .map_err(|e| format!("typify's pattern {:?}: {e}", &rest[..=end]))?;
        check(&literal.value())?;
    }
    let body = body.replace("::regress::Regex", "crate::pattern::Regex");
    if body.contains("regress::") {
        return Err("typify used regress in a way the xtask does not replace".to_owned());
    }
    Ok(body)
}

/// Whether `ast` (of `source`) lies in the part both syntaxes read alike;
/// if not, the construct that does not.
fn common(ast: &Ast, source: &str) -> Result<(), String> {
    match ast {
        Ast::Empty(_) => Ok(()),
        Ast::Literal(literal) => plain(literal),
        Ast::Assertion(assertion) => match assertion.kind {
            AssertionKind::StartLine | AssertionKind::EndLine => Ok(()),
            _ => Err(format!("the assertion {:?}", assertion.kind)),
        },
        Ast::ClassBracketed(class) => match &class.kind {
            ClassSet::Item(item) => class_item(item, true),
            ClassSet::BinaryOp(_) => Err("a class operator (&&, --, ~~)".to_owned()),
        },
        Ast::Repetition(repetition) => {
            let op = &source[repetition.op.span.start.offset..repetition.op.span.end.offset];
            match repetition.op.kind {
                RepetitionKind::Range(RepetitionRange::Bounded(..)) if op.starts_with("{,") => {
                    Err("a repetition {,n}".to_owned())
                }
                _ => common(&repetition.ast, source),
            }
        }
        Ast::Group(group) => match &group.kind {
            GroupKind::CaptureIndex(_) => common(&group.ast, source),
            GroupKind::NonCapturing(flags) if flags.items.is_empty() => common(&group.ast, source),
            _ => Err("a named group or flags".to_owned()),
        },
        Ast::Alternation(alternation) => {
            (alternation.asts.iter()).try_for_each(|ast| common(ast, source))
        }
        Ast::Concat(concat) => concat.asts.iter().try_for_each(|ast| common(ast, source)),
        Ast::Flags(_) => Err("flags".to_owned()),
        Ast::Dot(_) => Err("`.`".to_owned()),
        // Spelled out by the raw crate.
        Ast::ClassPerl(_) => Ok(()),
        Ast::ClassUnicode(_) => Err("a Unicode class".to_owned()),
    }
}

/// A class's item: characters, ranges of them and (at the top) a list of
/// those.
fn class_item(item: &ClassSetItem, top: bool) -> Result<(), String> {
    match item {
        ClassSetItem::Empty(_) => Ok(()),
        // A `[` or `]` read as itself opens or closes a class in one
        // syntax and not the other (`[]a]`, `[[a]]`).
        ClassSetItem::Literal(literal)
            if literal.kind == LiteralKind::Verbatim && matches!(literal.c, '[' | ']') =>
        {
            Err(format!("{:?} in a class", literal.c))
        }
        ClassSetItem::Literal(literal) => plain(literal),
        ClassSetItem::Range(range) => plain(&range.start).and_then(|()| plain(&range.end)),
        ClassSetItem::Perl(_) => Ok(()),
        ClassSetItem::Union(union) if top => union
            .items
            .iter()
            .try_for_each(|item| class_item(item, false)),
        _ => Err("a class within a class (nested, ASCII, Perl or Unicode)".to_owned()),
    }
}

/// A character as written, or punctuation escaped: the escapes that name
/// other characters (`\x..`, `\u....`, `\0`, `\t`) are written differently.
fn plain(literal: &ast::Literal) -> Result<(), String> {
    match literal.kind {
        LiteralKind::Verbatim | LiteralKind::Meta | LiteralKind::Superfluous => Ok(()),
        _ => Err(format!("the escape for {:?}", literal.c)),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn the_common_part_is_read_and_the_rest_refused() {
        for good in [
            "^#(?:[0-9a-fA-F]{3}){1,2}$",
            "^model/[^/]+/version/[^/]+$",
            "^https://",
            "^[0-9a-fA-F]{8}$",
            "^a\\.b(c|d)*\\/$",
            "\\S",
            "^[\\d\\s]+\\W$",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for bad in [
            "^a.b$",
            "\\bword",
            "\\p{L}",
            "(?i)abc",
            "(?<name>a)",
            "[[a]]",
            "[a&&b]",
            "a{,3}",
            "\\x41",
            "(?=a)",
            "a\\1",
        ] {
            assert!(check(bad).is_err(), "{bad} accepted");
        }
    }

    /// The raw crate's matcher finds what `regress` (ECMA-262) finds, for
    /// the common part's constructs, on texts at the edges of each class:
    /// the spaces one side counts and the other might not, digits and
    /// letters outside ASCII, line ends before `$`.
    #[test]
    fn the_raw_matcher_agrees_with_ecma_262() {
        let patterns = [
            "\\S",
            "^\\s+$",
            "^\\d+$",
            "^\\w+$",
            "^[\\D]$",
            "^[^\\W]$",
            "^#(?:[0-9a-fA-F]{3}){1,2}$",
            "^model/[^/]+/version/[^/]+$",
            "^https://",
            "^(ab|c)*d?$",
        ];
        let texts = [
            "",
            " ",
            "\t",
            "\u{0B}",
            "\u{0C}",
            "\r",
            "\n",
            "\u{85}",
            "\u{A0}",
            "\u{1680}",
            "\u{2000}",
            "\u{200A}",
            "\u{200B}",
            "\u{2028}",
            "\u{2029}",
            "\u{202F}",
            "\u{205F}",
            "\u{3000}",
            "\u{FEFF}",
            "\u{180E}",
            "a",
            "_",
            "7",
            "\u{663}",
            "é",
            "ſ",
            "K",
            "#abc",
            "#abc\n",
            "#aBc0D9",
            "#abcd",
            "model/x/version/y",
            "model/x/y/version/z",
            "model/é/version/😀",
            "https://a",
            "http://a",
            "ababcd",
            "abd",
            "😀",
        ];
        for source in patterns {
            let ecma = regress::Regex::new(source).unwrap();
            let raw = super::Regex::new(source).unwrap();
            for text in texts {
                assert_eq!(
                    raw.find(text).is_some(),
                    ecma.find(text).is_some(),
                    "{source:?} on {text:?}"
                );
            }
        }
    }
}
