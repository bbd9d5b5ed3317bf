//! The one path every text the tool prints or writes goes through on its
//! way out (stdout, stderr, `--json`, `-v` traces, sidecars, the agent
//! server's answers): every key this process knows is replaced by
//! `[REDACTED]`, in any letter case, with invisible characters inserted or
//! percent-encoded ([`ideogram::raw::redact`]).
//!
//! The keys are learned once, from the environment at start (so `fetch`,
//! which sends no key, still hides one a URL carries) and from
//! `--api-key-file` when it is read.
//!
//! A URL that holds a key (a server put it in an image's URL) cannot be
//! printed whole, and redacted it fetches nothing: [`shell_word`] writes it
//! for a shell with the key read from where the user keeps it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use ideogram::raw::redact::{Secret, find, redact};
use serde_json::Value;

use crate::shell::double_quoted;

/// Where a key came from, to name it in a command instead of printing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// An environment variable.
    Variable(&'static str),
    /// The first line of a file (`--api-key-file`).
    File(PathBuf),
}

impl Source {
    /// The key as a shell reads it, inside double quotes.
    fn shell(&self) -> String {
        match self {
            Self::Variable(name) => format!("${{{name}}}"),
            Self::File(path) => {
                let path = absolute(path);
                format!(
                    "$(head -n 1 {})",
                    crate::shell::quoted(&path.display().to_string())
                )
            }
        }
    }
}

/// Every key this process knows, and where it came from.
static SECRETS: RwLock<Vec<(Secret, Source)>> = RwLock::new(Vec::new());

/// Every key this process knows, as its marker in a journal (where it is
/// read from, [`Source::shell`]) and as it is: what [`unjournaled`] puts
/// back.
static MARKED: RwLock<Vec<(String, String)>> = RwLock::new(Vec::new());

/// The fewest characters of a key redacted from everything printed: a
/// shorter one (`k`, a placeholder) is no real key, and hiding every `k` in
/// every line would garble them all. The library still redacts its own key
/// from what servers say, whatever its length.
const SHORTEST: usize = 8;

/// Adds `key`, read from `source`, to what is redacted.
pub(crate) fn learn(key: &str, source: Source) {
    let key = key.trim();
    if key.chars().count() < SHORTEST {
        return;
    }
    let Some(secret) = Secret::new(key) else {
        return;
    };
    let mut marked = MARKED.write().unwrap_or_else(|e| e.into_inner());
    let marker = source.shell();
    if !marked.iter().any(|(known, _)| *known == marker) {
        marked.push((marker, key.to_owned()));
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|(known, _)| *known == secret) {
        secrets.push((secret, source));
    }
}

/// Learns the keys in every provider's variable.
pub(crate) fn learn_environment() {
    for provider in ideogram::Provider::ALL {
        let variable = provider.key_variable();
        if let Ok(key) = std::env::var(variable) {
            learn(&key, Source::Variable(variable));
        }
    }
}

/// Learns the key of `--api-key-file`.
pub(crate) fn learn_file(key: &str, path: &Path) {
    learn(key, Source::File(path.to_path_buf()));
}

/// `text` with every known key redacted.
pub(crate) fn text(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for (secret, _) in secrets.iter() {
        if let Cow::Owned(redacted) = redact(&out, secret) {
            out = Cow::Owned(redacted);
        }
    }
    out
}

/// `text` with every known key taken out (each replaced by a space), for a
/// name made from it: a file name is printed as it is, so it must hold no
/// key to redact. Percent-escapes are decoded first (`%73k-...` is the key
/// too, and a name made of its decoded rest would be most of it); `text`
/// itself, escapes and all, when it holds no key.
pub(crate) fn without_keys(text: &str) -> Cow<'_, str> {
    let mut decoded = Cow::Borrowed(text);
    // A few rounds: `%2573` is `%73` once decoded.
    for _ in 0..4 {
        let next = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if next == *decoded {
            break;
        }
        decoded = Cow::Owned(next);
    }
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = decoded.into_owned();
    let mut found = false;
    for (secret, _) in secrets.iter() {
        while let Some(at) = find(&out, secret, 0) {
            out.replace_range(at, " ");
            found = true;
        }
    }
    if found {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` (a journal's string) with every known key replaced by where it
/// is read from (`${IDEOGRAM_API_KEY}`, `$(head -n 1 'FILE')`): a journal
/// holds no key, yet a URL a server put one in can be fetched again
/// ([`unjournaled`]). Borrowed when it holds none.
pub(crate) fn journaled(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let found = each_key(text, |piece| match piece {
        Piece::Text(plain) => out.push_str(plain),
        Piece::Key(source) => out.push_str(&source.shell()),
    });
    if found == 0 {
        return Cow::Borrowed(text);
    }
    Cow::Owned(out)
}

/// A stretch of a text holding no known key, or where one was.
enum Piece<'a> {
    Text(&'a str),
    Key(&'a Source),
}

/// Calls `each` with the pieces of `text` in order, every known key found
/// as its [`Source`]; the number of keys found (none: no piece is given).
fn each_key(text: &str, mut each: impl FnMut(Piece<'_>)) -> usize {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let (mut copied, mut found) = (0, 0);
    loop {
        let next = secrets
            .iter()
            .filter_map(|(secret, source)| find(text, secret, copied).map(|at| (at, source)))
            .min_by_key(|(at, _)| at.start);
        let Some((at, source)) = next else { break };
        each(Piece::Text(&text[copied..at.start]));
        each(Piece::Key(source));
        (copied, found) = (at.end, found + 1);
    }
    if found > 0 {
        each(Piece::Text(&text[copied..]));
    }
    found
}

/// `text` as [`journaled`] wrote it, with the keys this process knows put
/// back where their markers are (a marker of a key it does not know stays:
/// what it names is fetched without it, and fails).
pub(crate) fn unjournaled(text: &str) -> Cow<'_, str> {
    let marked = MARKED.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for (marker, key) in marked.iter() {
        if out.contains(marker.as_str()) {
            out = Cow::Owned(out.replace(marker.as_str(), key));
        }
    }
    out
}

/// A URL written for a shell with its keys read from where they are kept.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ShellWord {
    /// One double-quoted shell word.
    pub word: String,
    /// The key files it reads (absolute), each once: the command that runs
    /// it passes them as `--api-key-file`, so that its own output, a failed
    /// download's error included, redacts those keys too.
    pub files: Vec<PathBuf>,
}

/// `text` (a URL) as one double-quoted shell word in which every known key
/// is read from its variable or file, not written out; `None` when it holds
/// no key.
pub(crate) fn shell_word(text: &str) -> Option<ShellWord> {
    let mut word = String::from("\"");
    let mut files = Vec::new();
    let found = each_key(text, |piece| match piece {
        Piece::Text(plain) => word.push_str(&double_quoted(plain)),
        Piece::Key(source) => {
            word.push_str(&source.shell());
            if let Source::File(path) = source {
                let path = absolute(path);
                if !files.contains(&path) {
                    files.push(path);
                }
            }
        }
    });
    if found == 0 {
        return None;
    }
    word.push('"');
    Some(ShellWord { word, files })
}

/// `path` made absolute (as it is, when that fails): a printed command
/// works from any folder.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `value` with every known key redacted from its strings and field names,
/// before it is serialized (so that no JSON escape splits a key).
pub(crate) fn json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(text(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(json).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (text(k).into_owned(), json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `value` with every known key redacted from every string it serializes
/// to: for an answer built elsewhere (the agent server's tool results).
pub(crate) fn serialized<T: serde::Serialize + serde::de::DeserializeOwned>(value: T) -> T {
    let plain = serde_json::to_value(&value).expect("an answer serializes");
    let redacted = json(&plain);
    if redacted == plain {
        return value;
    }
    serde_json::from_value(redacted).expect("a redacted answer reads back")
}

/// Stderr for `-v` traces, each event redacted as it is written (the
/// subscriber writes an event whole in one call).
pub(crate) struct Stderr;

impl std::io::Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        std::io::stderr().lock().write_all(text(&line).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_are_redacted_everywhere_in_json() {
        learn("sk-unit-redact-1", Source::Variable("UNIT_KEY"));
        let value = serde_json::json!({"a": ["x SK-UNIT-REDACT-1 y"], "sk-unit-redact-1": 1});
        let out = json(&value).to_string();
        assert!(!out.to_ascii_lowercase().contains("unit-redact"), "{out}");
    }

    #[test]
    fn an_agent_answer_reads_back_redacted() {
        use rmcp::model::{CallToolResult, ContentBlock};
        learn("sk-unit-redact-3", Source::Variable("UNIT_KEY_3"));
        let mut result = CallToolResult::error(vec![ContentBlock::text(
            "bad key SK-UNIT-REDACT-3; billed: no",
        )]);
        result.structured_content =
            Some(serde_json::json!({"error": {"message": "sk-unit-redact-3"}}));
        let shown = serde_json::to_string(&serialized(result)).unwrap();
        assert!(
            !shown.to_ascii_lowercase().contains("unit-redact"),
            "{shown}"
        );
        assert!(shown.contains("billed: no"), "{shown}");
    }

    #[test]
    fn keys_are_taken_out_of_names_however_encoded() {
        learn("sk-unit-redact-4", Source::Variable("UNIT_KEY_4"));
        for text in [
            "img/sk-unit-redact-4.png",
            "img/%73k-UNIT-redact-4.png",
            "img/%2573k%2Dunit-redact-4.png",
        ] {
            let out = without_keys(text);
            assert!(!out.to_ascii_lowercase().contains("unit"), "{text}: {out}");
            assert!(out.contains("img/") && out.contains(".png"), "{out}");
        }
        assert_eq!(without_keys("a%20b.png"), "a%20b.png");
    }

    #[test]
    fn a_url_holding_a_key_reads_it_from_its_source_in_a_shell() {
        learn("sk-unit-redact-2", Source::Variable("UNIT_KEY_2"));
        assert_eq!(
            shell_word("https://x.test/sk-unit-redact-2/a.png?k=sk%2Dunit-redact-2&$x"),
            Some(ShellWord {
                word: r#""https://x.test/${UNIT_KEY_2}/a.png?k=${UNIT_KEY_2}&\$x""#.to_owned(),
                files: Vec::new()
            })
        );
        assert_eq!(shell_word("https://x.test/a.png"), None);
        learn_file("sk-unit-redact-5", Path::new("k.txt"));
        let word = shell_word("https://x.test/sk-unit-redact-5/a/sk-unit-redact-5").unwrap();
        assert_eq!(word.files, [absolute(Path::new("k.txt"))]);
    }
}
