//! The one-shot commands: generate, remix, job status and wait, and the
//! resolution and palette tables.

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use ideogram::{GenerateRequest, PalettePreset, Provider, Resolution, SizeFamily};
use serde_json::{Value, json};

use crate::args::Options;
use crate::connect::Session;
use crate::failure::{Failure, INVALID};
use crate::output::{self, Asked};
use crate::progress::Spinner;

/// Generates (or remixes) and saves every image with its sidecar.
pub async fn generate(
    session: &Session,
    request: GenerateRequest,
    options: &Options,
    output: Option<&Path>,
    json: bool,
) -> Result<(), Failure> {
    let provider = session.provider;
    let asked = Asked {
        prompt: request.prompt().to_owned(),
        provider,
        options: options.clone(),
    };
    let started = SystemTime::now();
    let generation = session
        .client
        .generate(&request)
        .await
        .map_err(|e| Failure::from_error(e, provider))?;
    let mut records = Vec::new();
    let count = generation.images.len();
    for (i, image) in generation.images.iter().enumerate() {
        if !image.is_safe {
            eprintln!(
                "note: image {} failed the safety check and was withheld (not saved)",
                i + 1
            );
            continue;
        }
        let path = output::target(
            output,
            &output::slug(&asked.prompt),
            i,
            count,
            output::expected_extension(image),
        );
        records.push(output::save(image, &generation, &asked, path, started).await?);
    }
    report(&records, json);
    Ok(())
}

pub async fn job_status(session: &Session, id: &str, json: bool) -> Result<(), Failure> {
    let status = session
        .client
        .job(id)
        .status()
        .await
        .map_err(|e| Failure::from_error(e, session.provider))?;
    if json {
        println!(
            "{}",
            json!({"request_id": id, "status": status.status.to_string(), "error": status.error, "inference_time": status.inference_time})
        );
    } else {
        let detail = status.error.map(|e| format!(": {e}")).unwrap_or_default();
        println!("{id} {}{detail}", status.status);
    }
    Ok(())
}

pub async fn job_wait(
    session: &Session,
    id: &str,
    output: Option<&Path>,
    timeout: u64,
    json: bool,
) -> Result<(), Failure> {
    let job = session.client.job(id);
    let schedule = session
        .client
        .poll_schedule()
        .clone()
        .deadline(Duration::from_secs(timeout));
    let mut spinner = Spinner::new(json);
    let started = SystemTime::now();
    let result = job
        .wait_with(&schedule, |status| {
            spinner.update(id, status.status.as_str())
        })
        .await;
    spinner.close();
    let generation = result.map_err(|e| Failure::from_error(e, session.provider))?;
    let asked = Asked {
        prompt: String::new(),
        provider: session.provider,
        options: Options::default(),
    };
    let image = &generation.images[0];
    let path = output::target(output, id, 0, 1, output::expected_extension(image));
    let record = output::save(image, &generation, &asked, path, started).await?;
    report(&[record], json);
    Ok(())
}

fn report(records: &[Value], json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(records).expect("JSON"));
    } else {
        for record in records {
            println!("{}", output::describe(record));
        }
    }
}

pub fn resolutions(family: Option<&str>, json: bool) -> Result<(), Failure> {
    let families = match family.map(str::to_ascii_lowercase).as_deref() {
        None => vec![SizeFamily::Legacy, SizeFamily::V3],
        Some("legacy" | "2" | "v2") => vec![SizeFamily::Legacy],
        Some("v3" | "3") => vec![SizeFamily::V3],
        Some(other) => {
            return Err(Failure::new(
                INVALID,
                format!("invalid family: {other:?} is not legacy or v3"),
            ));
        }
    };
    let mut sizes: Vec<Resolution> = families
        .iter()
        .flat_map(|f| Resolution::all_in(*f))
        .collect();
    sizes.sort_by_key(|r| (r.width(), r.height()));
    sizes.dedup();
    if json {
        let rows: Vec<Value> = sizes
            .iter()
            .map(|r| json!({"resolution": r.to_string(), "aspect_ratio": r.aspect_ratio().to_string(), "legacy": r.is_legacy(), "v3": r.is_v3()}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows).expect("JSON"));
        return Ok(());
    }
    println!("SIZE        ASPECT  2.x     3.0");
    for r in sizes {
        let mark = |yes: bool| if yes { "yes" } else { "-" };
        println!(
            "{:<11} {:<7} {:<7} {}",
            r.to_string(),
            r.aspect_ratio().to_string(),
            mark(r.is_legacy()),
            mark(r.is_v3())
        );
    }
    Ok(())
}

pub fn palettes(json: bool) {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut rows = Vec::new();
    for preset in PalettePreset::ALL {
        let colors = ideogram_mock::preset_colors(preset.api_name());
        let hex: Vec<String> = colors
            .iter()
            .map(|[r, g, b]| format!("#{r:02x}{g:02x}{b:02x}"))
            .collect();
        if json {
            rows.push(json!({"name": preset.to_string(), "colors": hex}));
            continue;
        }
        let swatches: String = if colour {
            colors
                .iter()
                .map(|[r, g, b]| format!("\x1b[48;2;{r};{g};{b}m    \x1b[0m"))
                .collect()
        } else {
            String::new()
        };
        println!("{:<12} {swatches} {}", preset.to_string(), hex.join(" "));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("JSON"));
    } else {
        println!(
            "(colours are approximate: Ideogram does not publish its presets; custom: '#ff5500:0.6,#00aaff')"
        );
    }
}

/// The provider for commands that only Segmind's queue serves.
pub fn require_segmind(session: &Session) -> Result<(), Failure> {
    if session.provider == Provider::Segmind {
        Ok(())
    } else {
        Err(
            Failure::new(INVALID, "jobs are Segmind's queue: add --provider segmind")
                .hint("Ideogram's API answers synchronously and has no job ids"),
        )
    }
}
