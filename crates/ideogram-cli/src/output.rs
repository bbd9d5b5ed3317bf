//! What the tool writes: the sidecar JSON beside each image, the lines on
//! stdout and stderr (a closed pipe ends the command quietly instead of a
//! panic), and shell-quoted commands to paste. Every line and sidecar goes
//! out through [`crate::redact`]: no key this process knows is printed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use ideogram::{GeneratedImage, Generation, ImageData, Provider};
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::shell::quoted;

/// What the request asked for, for the sidecar.
#[derive(Debug, Clone)]
pub(crate) struct Asked {
    pub prompt: String,
    pub provider: Provider,
    /// The request's fields by their spec names (its JSON form), without
    /// its prompt and input images.
    pub fields: serde_json::Map<String, Value>,
}

impl Asked {
    /// What `request` asks on `provider`.
    pub(crate) fn generate(request: &ideogram::GenerateRequest, provider: Provider) -> Self {
        let images: Vec<String> = request.input_images().into_iter().map(|(f, _)| f).collect();
        Self {
            prompt: request.prompt().to_owned(),
            provider,
            fields: fields_of(request, &images),
        }
    }

    /// What the operation `request` asks on `provider`, its files named
    /// from `named`.
    pub(crate) fn edit(named: String, request: &ideogram::EditRequest, provider: Provider) -> Self {
        let images: Vec<String> = request.input_images().into_iter().map(|(f, _)| f).collect();
        Self {
            prompt: named,
            provider,
            fields: fields_of(request, &images),
        }
    }
}

impl Asked {
    /// What a describe or layerize-text asks on `provider`: its files
    /// named from `named`, and the model it chose, if any (the rest of
    /// the request is its image, not the sidecar's to repeat).
    pub(crate) fn on_image(
        named: String,
        model: Option<ideogram::Model>,
        provider: Provider,
    ) -> Self {
        let model = model.map(|m| ("model".to_owned(), Value::from(m.to_string())));
        Self {
            prompt: named,
            provider,
            fields: model.into_iter().collect(),
        }
    }
}

/// `request`'s JSON form without its prompt and the fields holding input
/// images (`images`, `operation.mask` for one nested): paths and URLs
/// of inputs are not the sidecar's to repeat.
fn fields_of(request: &impl serde::Serialize, images: &[String]) -> serde_json::Map<String, Value> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(request) else {
        return serde_json::Map::new();
    };
    fields.remove("prompt");
    for path in images {
        match path.split_once('.') {
            Some((outer, inner)) => {
                if let Some(Value::Object(nested)) = fields.get_mut(outer) {
                    nested.remove(inner);
                }
            }
            None => drop(fields.remove(path)),
        }
    }
    // An operation's prompt is the sidecar's `prompt`.
    if let Some(Value::Object(operation)) = fields.get_mut("operation") {
        operation.remove("prompt");
    }
    fields
}

/// Prints a line on stdout, redacted (see [`print`]).
pub(crate) fn say(line: &str) {
    print(format!("{}\n", crate::redact::text(line)).as_bytes());
}

/// Writes `bytes` on stdout. A reader that went away (`| head -1`) ends the
/// process at once, quietly and successfully, as command-line tools do.
pub(crate) fn print(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Writes a paid answer whose only home is stdout (`describe`'s words).
/// A stdout that cannot take it (its reader gone, a full disk) does not
/// lose it: it is said on stderr instead, and the failure says it was
/// billed and not delivered (exit 9).
pub(crate) fn deliver(text: &str) -> Result<(), Failure> {
    let text = crate::redact::text(text);
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    drop(out);
    written.map_err(|e| {
        tell(&text);
        Failure::new(
            crate::failure::NOT_SAVED,
            format!(
                "it was billed, but stdout could not take the answer ({e}); it is on stderr above"
            ),
        )
    })
}

/// Whether stderr carries JSON lines (`--json`), set once by `main`.
static JSON_STDERR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes every later line on stderr a JSON object (`--json`): a note as
/// `{"note": "..."}`, so that a reader can parse each line, the failure
/// (`{"error": ...}`) included.
pub(crate) fn json_stderr() {
    JSON_STDERR.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Prints a line on stderr, as `{"note": line}` under `--json` (without the
/// text's own `note: ` label), redacted; a closed stderr is ignored.
pub(crate) fn tell(line: &str) {
    let line = crate::redact::text(line);
    let line = line.as_ref();
    if JSON_STDERR.load(std::sync::atomic::Ordering::Relaxed) {
        let note = line.strip_prefix("note: ").unwrap_or(line);
        tell_raw(&serde_json::json!({ "note": note }).to_string());
    } else {
        tell_raw(line);
    }
}

/// Prints a line on stderr as it is but redacted; a closed stderr is
/// ignored.
pub(crate) fn tell_raw(line: &str) {
    let line = crate::redact::text(line);
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// `value` as pretty JSON, every key redacted from its strings first.
pub(crate) fn json_text(value: &Value) -> String {
    serde_json::to_string_pretty(&crate::redact::json(value)).expect("JSON")
}

/// The command that fetches a paid image at `url` into `target` later. A
/// URL holding the key (a server put it there) is written with the key
/// read from its variable or file, so that the command works and still
/// shows no key; a key read from a file is also passed as
/// `--api-key-file`, so that the command's own output hides it (`fetch`
/// knows the variables' keys by itself).
pub(crate) fn fetch_command(url: &str, target: &Path) -> String {
    let (word, files) = match crate::redact::shell_word(url) {
        Some(shell) => (shell.word, shell.files),
        None => (quoted(url), Vec::new()),
    };
    let mut command = format!("ideogram fetch {word}");
    for file in files {
        command.push_str(" --api-key-file ");
        command.push_str(&quoted(&file.display().to_string()));
    }
    command.push_str(" -o ");
    command.push_str(&quoted(&target.display().to_string()));
    command
}

/// The sidecar record of one image: what was asked, what came back, and
/// where the image is (`status`: `saved`, `downloading` while it is being
/// fetched, `not_saved` with the error and the command that fetches it).
pub(crate) fn record(
    image: &GeneratedImage,
    generation: &Generation,
    asked: &Asked,
    path: &Path,
    started: SystemTime,
) -> Value {
    let finished = SystemTime::now();
    let field = |name: &str| asked.fields.get(name).cloned();
    let mut record = json!({
        "status": "saved",
        "image": path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "path": path.display().to_string(),
        "prompt": asked.prompt,
        "revised_prompt": (image.prompt != asked.prompt && !image.prompt.is_empty()).then_some(&image.prompt),
        "provider": asked.provider.to_string(),
        "model": generation.model.to_string(),
        "seed": image.seed.map(Value::from).or_else(|| field("seed")),
        "resolution": image.resolution.clone().map(Value::from).or_else(|| field("resolution")),
        "style_type": image.style.clone().map(Value::from).or_else(|| field("style_type")),
        "is_safe": image.is_safe,
        "request_id": generation.request_id,
        "credits_left": generation.credits_left,
        "source_url": match &image.data { ImageData::Url(url) => Some(url), _ => None },
        "timings": {
            "started": DateTime::<Utc>::from(started).to_rfc3339(),
            "finished": DateTime::<Utc>::from(finished).to_rfc3339(),
            "elapsed_ms": finished.duration_since(started).map(|d| d.as_millis() as u64).unwrap_or(0),
        },
    });
    // A model asked as null is one the answer does not name (a webhook
    // delivery's): the sidecar says so rather than guess.
    if asked.fields.get("model") == Some(&Value::Null) {
        record["model"] = Value::Null;
    }
    // Every other field asked, by its spec name.
    if let Value::Object(record) = &mut record {
        for (name, value) in &asked.fields {
            record.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
    record
}

/// Writes `record` as the sidecar at `path`: into a temporary file beside
/// it, synced, then put in place, replacing only when `replace` says the
/// file there is ours.
pub(crate) fn write_sidecar(path: &Path, record: &Value, replace: bool) -> Result<(), Failure> {
    let text = json_text(record) + "\n";
    write_file(path, text.as_bytes(), replace)
        .map_err(|e| Failure::io(format!("cannot write {}", path.display()), e))
}

/// [`write_sidecar`] off the async threads: the file is synced to disk
/// (unless not `durable`: something else already holds what it says),
/// which would hold up every other item of a batch meanwhile. With `tag`,
/// its temporary file is named `.<name>.<tag>-<random>.part`, as a batch's
/// images are, so that a rerun sweeps it up if this run is killed.
pub(crate) async fn write_sidecar_off(
    path: &Path,
    record: &Value,
    replace: bool,
    tag: Option<String>,
    durable: bool,
) -> Result<(), Failure> {
    let text = json_text(record) + "\n";
    let target = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        write_file_as(&target, text.as_bytes(), replace, tag.as_deref(), durable)
    })
    .await
    .expect("sidecar task")
    .map_err(|e| Failure::io(format!("cannot write {}", path.display()), e))
}

/// Writes `bytes` at `path` through a temporary file of this tool's,
/// synced; never replaces a file unless `replace`, never a special file.
pub(crate) fn write_file(path: &Path, bytes: &[u8], replace: bool) -> std::io::Result<()> {
    write_file_as(path, bytes, replace, None, true)
}

/// [`write_file`] with its temporary file named after `tag` when given,
/// synced before it is put in place when `durable`, and its name after.
fn write_file_as(
    path: &Path,
    bytes: &[u8],
    replace: bool,
    tag: Option<&str>,
    durable: bool,
) -> std::io::Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "it exists and is not a regular file",
            ));
        }
        if !replace {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "it exists; not replacing it",
            ));
        }
    }
    let temp = temp_beside(path, tag);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        if durable {
            file.sync_all()?;
        }
        if replace {
            std::fs::rename(&temp, path)?;
        } else {
            std::fs::hard_link(&temp, path)?;
        }
        // Its name, in place, synced too: else a crash could lose it.
        if durable {
            crate::durable::sync_folder(crate::durable::holder_of(path))?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&temp);
    written
}

fn temp_beside(path: &Path, tag: Option<&str>) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(tag) = tag {
        return path.with_file_name(format!(".{name}.{tag}-{:08x}.part", rand::random::<u32>()));
    }
    path.with_file_name(format!(
        ".{name}.ideogram-{}-{:08x}.part",
        std::process::id(),
        rand::random::<u32>()
    ))
}

/// One line for a saved image.
pub(crate) fn describe(record: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(size) = record["resolution"].as_str() {
        parts.push(size.to_owned());
    }
    if !record["seed"].is_null() {
        parts.push(format!(
            "seed {}",
            record["seed"].to_string().trim_matches('"')
        ));
    }
    if let Some(credits) = record["credits_left"].as_f64() {
        parts.push(format!("{credits} credits left"));
    }
    if let Some(id) = record["request_id"].as_str() {
        parts.push(format!("request {id}"));
    }
    let path = record["path"].as_str().unwrap_or_default();
    if parts.is_empty() {
        format!("saved {path}")
    } else {
        format!("saved {path} ({})", parts.join(", "))
    }
}

/// Prints saved records: pretty JSON, or a line each.
pub(crate) fn report(records: &[Value], json: bool) {
    if json {
        say(&json_text(&Value::from(records)));
    } else {
        for record in records {
            say(&describe(record));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_commands_are_quoted_for_a_shell() {
        assert_eq!(
            fetch_command("https://x.test/a.png?sig=1&t=2", Path::new("a b.png")),
            "ideogram fetch 'https://x.test/a.png?sig=1&t=2' -o 'a b.png'"
        );
    }

    #[test]
    fn sidecars_replace_only_what_they_may() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, b"theirs").unwrap();
        assert!(write_sidecar(&path, &json!({"a": 1}), false).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"theirs");
        write_sidecar(&path, &json!({"a": 1}), true).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("\"a\": 1"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
