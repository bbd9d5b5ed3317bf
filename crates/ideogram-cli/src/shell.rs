//! Text written as words for a POSIX shell, for the commands the tool
//! prints to paste (`ideogram fetch ...`, `ideogram job wait ...`).

/// `text` quoted for a POSIX shell: as it is when every character is
/// plain, else in single quotes.
pub(crate) fn quoted(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c))
    {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `text` escaped for the inside of a shell's double quotes (where `$(...)`
/// and `${...}` still expand).
pub(crate) fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_a_shell() {
        assert_eq!(quoted("out/a-cat.png"), "out/a-cat.png");
        assert_eq!(quoted("it's here"), r"'it'\''s here'");
        assert_eq!(double_quoted(r#"a"$b`\"#), r#"a\"\$b\`\\"#);
    }
}
