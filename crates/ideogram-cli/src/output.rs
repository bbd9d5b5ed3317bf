//! Where images go, and the sidecar JSON beside each one.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use ideogram::{GeneratedImage, Generation, ImageData, Provider};
use serde_json::{Value, json};

use crate::failure::Failure;

/// What the request asked for, for the sidecar.
#[derive(Debug, Clone)]
pub struct Asked {
    pub prompt: String,
    pub provider: Provider,
    pub options: crate::args::Options,
}

/// The path for image `index` of `count`: `output` as a file (numbered when
/// there are several), or a generated name in `output` as a folder.
pub fn target(
    output: Option<&Path>,
    stem: &str,
    index: usize,
    count: usize,
    extension: &str,
) -> PathBuf {
    let is_dir = output.is_some_and(|p| {
        p.is_dir()
            || p.as_os_str()
                .to_string_lossy()
                .ends_with(std::path::MAIN_SEPARATOR)
    });
    let numbered = |stem: &str| {
        if count > 1 {
            format!("{stem}-{}", index + 1)
        } else {
            stem.to_owned()
        }
    };
    match output {
        Some(path) if !is_dir => {
            let file_stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| stem.to_owned());
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_else(|| extension.to_owned());
            path.with_file_name(format!("{}.{ext}", numbered(&file_stem)))
        }
        Some(dir) => dir.join(format!("{}.{extension}", numbered(stem))),
        None => PathBuf::from(format!("{}.{extension}", numbered(stem))),
    }
}

/// A file name from a prompt: `a-lighthouse-at-dawn`.
pub fn slug(prompt: &str) -> String {
    let words: Vec<String> = prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        "image".to_owned()
    } else {
        words.join("-")
    }
}

/// The extension an image will most likely have before it is downloaded.
pub fn expected_extension(image: &GeneratedImage) -> &'static str {
    match &image.data {
        ImageData::Bytes { content_type, .. } if content_type == "image/jpeg" => "jpg",
        ImageData::Bytes { content_type, .. } if content_type == "image/webp" => "webp",
        ImageData::Url(url) if url.ends_with(".jpg") || url.ends_with(".jpeg") => "jpg",
        _ => "png",
    }
}

/// Saves one image and its sidecar; if the file's content disagrees with
/// the extension asked for, renames it to the right one. Returns the record
/// written to the sidecar.
pub async fn save(
    image: &GeneratedImage,
    generation: &Generation,
    asked: &Asked,
    path: PathBuf,
    started: SystemTime,
) -> Result<Value, Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| Failure::io(format!("cannot create {}", dir.display()), e))?;
    }
    let saved = image
        .save(&path)
        .await
        .map_err(|e| Failure::from_error(e, asked.provider))?;
    let saved = fix_extension(saved).await?;
    let finished = SystemTime::now();
    let o = &asked.options;
    let record = json!({
        "image": saved.file_name().map(|n| n.to_string_lossy().into_owned()),
        "path": saved.display().to_string(),
        "prompt": asked.prompt,
        "revised_prompt": (image.prompt != asked.prompt && !image.prompt.is_empty()).then_some(&image.prompt),
        "provider": asked.provider.to_string(),
        "model": generation.model.to_string(),
        "seed": image.seed.map(Value::from).or_else(|| o.seed.as_ref().map(|s| json!(s))),
        "resolution": image.resolution.clone().or_else(|| o.resolution.clone()),
        "aspect_ratio": o.aspect,
        "palette": o.palette,
        "style": image.style.clone().or_else(|| o.style.clone()),
        "magic_prompt": o.magic_prompt,
        "negative_prompt": o.negative,
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
    let sidecar = saved.with_extension("json");
    let text = serde_json::to_string_pretty(&record).expect("JSON") + "\n";
    write_atomically(&sidecar, text.as_bytes()).await?;
    Ok(record)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it.
pub async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let temp = path.with_extension(format!("{}.part", std::process::id()));
    let write = async {
        tokio::fs::write(&temp, bytes).await?;
        tokio::fs::rename(&temp, path).await
    };
    write.await.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        Failure::io(format!("cannot write {}", path.display()), e)
    })
}

/// Renames `path` if its content is a different image type than its
/// extension says (a JPEG asked for as `.png`).
async fn fix_extension(path: PathBuf) -> Result<PathBuf, Failure> {
    let mut head = [0u8; 12];
    let file = std::fs::File::open(&path)
        .map_err(|e| Failure::io(format!("cannot read {}", path.display()), e))?;
    let n = std::io::Read::read(&mut &file, &mut head).unwrap_or(0);
    let Some((_, actual)) = ideogram::sniff_image(&head[..n]) else {
        return Ok(path);
    };
    let current = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let same = current == actual || (actual == "jpg" && current == "jpeg");
    if same {
        return Ok(path);
    }
    let renamed = path.with_extension(actual);
    tokio::fs::rename(&path, &renamed)
        .await
        .map_err(|e| Failure::io(format!("cannot rename {}", path.display()), e))?;
    eprintln!(
        "note: {} holds a {} image, saved as {}",
        path.display(),
        actual.to_uppercase(),
        renamed.display()
    );
    Ok(renamed)
}

/// One line for a saved image.
pub fn describe(record: &Value) -> String {
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
    format!(
        "saved {} ({})",
        record["path"].as_str().unwrap_or_default(),
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_follow_the_output_argument() {
        assert_eq!(
            target(None, "a-cat", 0, 1, "png"),
            PathBuf::from("a-cat.png")
        );
        assert_eq!(
            target(Some(Path::new("out/x.jpg")), "a-cat", 1, 2, "png"),
            PathBuf::from("out/x-2.jpg")
        );
        assert_eq!(
            target(Some(Path::new("out/")), "a-cat", 0, 1, "png"),
            PathBuf::from("out/a-cat.png")
        );
        assert_eq!(slug("A neon sign: \"open late\"!"), "a-neon-sign-open-late");
        assert_eq!(slug("!!!"), "image");
    }
}
