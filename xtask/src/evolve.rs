//! `cargo xtask evolve-check`: the regeneration promise, tested. On a
//! scratch copy of the workspace it edits only the specs, as a maintainer
//! would when the API changes, regenerates, builds, and shows each change
//! reaching users with no hand edit:
//!
//! - an optional field (`evolve_probe`) added to an Ideogram body and a
//!   Segmind body reaches the wire through the library, the CLI's `--set`,
//!   a batch line and an MCP call;
//! - a value added to the 3.0 style enum is accepted by the CLI's value
//!   parser and reaches the wire;
//! - a new Segmind slug for an existing task is callable through the
//!   library and the CLI.
//!
//! "Reaches the wire" is read from the mock's ledger, which records the
//! fields each billed request carried. The check fails if any file outside
//! `openapi/` and the generated code differs from the workspace's.

use std::error::Error;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use serde_yaml::Value as Yaml;

use crate::workspace_root;

/// The field the check adds to a body of each spec.
const FIELD: &str = "evolve_probe";
/// The value the check adds to each spec's 3.0 style enum.
const STYLE: &str = "EVOLVE_STYLE";
/// The Segmind slug the check adds, and its operation id.
const SLUG: &str = "ideogram-3-evolve";
const SLUG_ID: &str = "ideogram_3_evolve";
/// The key the mock is started with.
const KEY: &str = "evolve-check-key-0001";

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

/// Runs the whole check; `Ok` when every change reached the wire.
pub fn evolve_check() -> Result {
    let root = workspace_root();
    let work = root.join("target/evolve");
    let scratch = work.join("ws");
    step("copying the workspace's tracked files");
    copy_tracked(&root, &scratch)?;
    let before = contents(&scratch)?;
    step("editing only the specs: a field, an enum value, a slug");
    edit_spec(&scratch.join("openapi/ideogram.yaml"), |spec| {
        add_field(spec, "GenerateImageRequestV3")?;
        add_style(spec, "StyleTypeV3")
    })?;
    edit_spec(&scratch.join("openapi/segmind.yaml"), |spec| {
        add_field(spec, "Ideogram3Request")?;
        add_style(spec, "StyleTypeV3")?;
        add_slug(spec)
    })?;
    let target = work.join("target");
    step("regenerating: cargo xtask generate");
    cargo(
        &scratch,
        &target,
        &["run", "-q", "-p", "xtask", "--", "generate"],
    )?;
    step("nothing outside openapi/ and the generated code changed");
    only_specs_and_generated_changed(&before, &contents(&scratch)?)?;
    step("building the CLI, the mock and the library's example");
    cargo(
        &scratch,
        &target,
        &[
            "build",
            "-q",
            "-p",
            "ideogram-cli",
            "-p",
            "ideogram-mock",
            "-p",
            "ideogram",
            "--bins",
            "--example",
            "set_field",
        ],
    )?;
    let bin = target.join("debug");
    let mock = Mock::start(&bin.join("ideogram-mock"))?;
    let out = work.join("out");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    let probes = Probes {
        cli: bin.join("ideogram"),
        example: bin.join("examples/set_field"),
        api: mock.api.clone(),
        out,
    };
    for (provider, model) in [("ideogram", "V_3"), ("segmind", "V_3")] {
        let value = format!("library-{provider}");
        step(&format!("{provider}: the library's set() reaches the wire"));
        probes.library(provider, model, "-", &[&format!("{FIELD}={value}")])?;
        mock.expect(FIELD, &value)?;

        let value = format!("cli-{provider}");
        step(&format!("{provider}: the CLI's --set reaches the wire"));
        probes.cli(
            provider,
            &[
                "generate",
                "a probe",
                "--model",
                "3",
                "--set",
                &format!("{FIELD}={value}"),
            ],
        )?;
        mock.expect(FIELD, &value)?;

        let value = format!("batch-{provider}");
        step(&format!(
            "{provider}: a batch line's field reaches the wire"
        ));
        let file = probes.out.join(format!("{provider}.jsonl"));
        std::fs::write(
            &file,
            format!(
                "{}\n",
                json!({"prompt": "a probe", "model": model, FIELD: value})
            ),
        )?;
        let file = file.to_str().ok_or("a UTF-8 path")?.to_owned();
        probes.cli(provider, &["batch", &file])?;
        mock.expect(FIELD, &value)?;

        let value = format!("mcp-{provider}");
        step(&format!(
            "{provider}: an MCP call's argument reaches the wire"
        ));
        probes.mcp(
            provider,
            json!({"prompt": "a probe", "model": model, FIELD: value}),
        )?;
        mock.expect(FIELD, &value)?;

        step(&format!(
            "{provider}: the CLI's --style-type takes the new value"
        ));
        probes.cli(
            provider,
            &["generate", "a probe", "--model", "3", "--style-type", STYLE],
        )?;
        mock.expect("style_type", STYLE)?;
    }
    step("the new Segmind slug, through the library and the CLI");
    probes.library("segmind", "V_3", SLUG_ID, &[])?;
    mock.expect_operation(SLUG)?;
    probes.cli(
        "segmind",
        &[
            "generate",
            "a probe",
            "--model",
            "3",
            "--operation",
            SLUG_ID,
        ],
    )?;
    mock.expect_operation(SLUG)?;
    println!("\nevolve-check: every change reached the wire with only openapi/ edited");
    Ok(())
}

fn step(what: &str) {
    println!("==> {what}");
}

/// Copies every file of `root` git tracks or would (not ignored) into
/// `scratch`, emptied first.
fn copy_tracked(root: &Path, scratch: &Path) -> Result {
    let _ = std::fs::remove_dir_all(scratch);
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()?;
    if !listed.status.success() {
        return Err("git ls-files failed: evolve-check copies a git checkout".into());
    }
    for path in listed.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = std::str::from_utf8(path)?;
        let (from, to) = (root.join(path), scratch.join(path));
        if !from.is_file() {
            continue;
        }
        std::fs::create_dir_all(to.parent().ok_or("a file has a folder")?)?;
        std::fs::copy(&from, &to)?;
    }
    Ok(())
}

/// Rewrites the spec at `path` with `edit` applied.
fn edit_spec(path: &Path, edit: impl FnOnce(&mut Yaml) -> Result) -> Result {
    let mut spec: Yaml = serde_yaml::from_str(&std::fs::read_to_string(path)?)?;
    edit(&mut spec)?;
    std::fs::write(path, serde_yaml::to_string(&spec)?)?;
    Ok(())
}

/// The schema `name` of `spec`.
fn schema<'a>(spec: &'a mut Yaml, name: &str) -> Result<&'a mut Yaml> {
    spec.get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
        .and_then(|s| s.get_mut(name))
        .ok_or_else(|| format!("the spec has no schema {name}").into())
}

/// Adds the optional string field [`FIELD`] to the object schema `name`.
fn add_field(spec: &mut Yaml, name: &str) -> Result {
    let properties = schema(spec, name)?
        .get_mut("properties")
        .and_then(Yaml::as_mapping_mut)
        .ok_or_else(|| format!("{name} has no properties"))?;
    let field: Yaml = serde_yaml::from_str(
        "{type: string, description: A field the evolve check adds, as a spec change would.}",
    )?;
    properties.insert(FIELD.into(), field);
    Ok(())
}

/// Adds [`STYLE`] to the enum schema `name`.
fn add_style(spec: &mut Yaml, name: &str) -> Result {
    schema(spec, name)?
        .get_mut("enum")
        .and_then(Yaml::as_sequence_mut)
        .ok_or_else(|| format!("{name} is not an enum"))?
        .push(STYLE.into());
    Ok(())
}

/// Adds Segmind's [`SLUG`]: the 3.0 generate operation under a new path
/// and id, routed to the same task and model.
fn add_slug(spec: &mut Yaml) -> Result {
    let paths = spec
        .get_mut("paths")
        .and_then(Yaml::as_mapping_mut)
        .ok_or("the spec has no paths")?;
    let mut item = paths
        .get("/v1/ideogram-3")
        .cloned()
        .ok_or("Segmind's spec has no /v1/ideogram-3")?;
    let post = item.get_mut("post").ok_or("/v1/ideogram-3 has no POST")?;
    post["operationId"] = SLUG_ID.into();
    post["x-route"] = serde_yaml::from_str("{task: generate, models: [V_3]}")?;
    paths.insert(format!("/v1/{SLUG}").into(), item);
    Ok(())
}

/// Every file under `dir` with its bytes, by its path relative to `dir`.
fn contents(dir: &Path) -> Result<std::collections::BTreeMap<PathBuf, Vec<u8>>> {
    let mut files = std::collections::BTreeMap::new();
    let mut failed = None;
    walk(dir, &mut |path| match std::fs::read(path) {
        Ok(bytes) => {
            let relative = path.strip_prefix(dir).expect("under dir").to_path_buf();
            files.insert(relative, bytes);
        }
        Err(e) => failed = Some(e),
    })?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(files),
    }
}

/// Fails when a file other than the specs and the generated code differs
/// between `before` and `after` (or came or went).
fn only_specs_and_generated_changed(
    before: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
    after: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
) -> Result {
    let allowed = |path: &Path| {
        path.starts_with("openapi") || path.starts_with("crates/ideogram-raw/src/generated")
    };
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|path| !allowed(path) && before.get(*path) != after.get(*path))
        .map(|path| path.display().to_string())
        .collect();
    if changed.is_empty() {
        Ok(())
    } else {
        Err(format!("files outside openapi/ changed: {}", changed.join(", ")).into())
    }
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) -> Result {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, visit)?;
        } else {
            visit(&path);
        }
    }
    Ok(())
}

/// Runs cargo in `dir` with its own target folder, failing on failure.
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Result {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed in the scratch copy", args.join(" ")).into())
    }
}

/// The scratch build's mock, on loopback.
struct Mock {
    child: Child,
    api: String,
    /// Ledger entries already looked at: each probe is judged by its own.
    seen: std::cell::Cell<usize>,
}

impl Mock {
    fn start(binary: &Path) -> Result<Self> {
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0", "--key", KEY, "--latency-ms", "0"])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("the mock's output")?).read_line(&mut line)?;
        // `api URL cdn URL key KEY`
        let api = line
            .split_whitespace()
            .skip_while(|w| *w != "api")
            .nth(1)
            .ok_or_else(|| format!("the mock said {line:?}"))?
            .to_owned();
        Ok(Self {
            child,
            api,
            seen: std::cell::Cell::new(0),
        })
    }

    /// The ledger's entries since the last call.
    fn ledger(&self) -> Result<Vec<Value>> {
        let address = self
            .api
            .strip_prefix("http://")
            .ok_or("the mock is on http")?
            .trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(address)?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
        write!(
            stream,
            "GET /mock/ledger HTTP/1.0\r\nHost: {address}\r\n\r\n"
        )?;
        let mut answer = String::new();
        stream.take(64 << 20).read_to_string(&mut answer)?;
        let body = answer.split_once("\r\n\r\n").ok_or("an HTTP answer")?.1;
        let ledger: Value = serde_json::from_str(body)?;
        let entries = ledger.get("entries").unwrap_or(&ledger);
        let entries = entries.as_array().cloned().unwrap_or_default();
        let new = entries.get(self.seen.get()..).unwrap_or_default().to_vec();
        self.seen.set(entries.len());
        Ok(new)
    }

    /// Fails unless a request billed since the last check carried `field`
    /// as `value`.
    fn expect(&self, field: &str, value: &str) -> Result {
        let found = self.ledger()?.iter().any(|entry| {
            let fields = &entry["fields"];
            fields[field] == value || fields["image_request"][field] == value
        });
        if found {
            println!("    {field} = {value:?} reached the wire");
            Ok(())
        } else {
            Err(format!("no billed request carried {field} = {value:?}").into())
        }
    }

    /// Fails unless a request billed since the last check went to `slug`.
    fn expect_operation(&self, slug: &str) -> Result {
        let found = self.ledger()?.iter().any(|entry| {
            entry["operation"]
                .as_str()
                .is_some_and(|op| op.contains(slug))
        });
        if found {
            println!("    {slug} was called");
            Ok(())
        } else {
            Err(format!("no billed request went to {slug}").into())
        }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the probes reach the scratch build's front ends.
struct Probes {
    cli: PathBuf,
    example: PathBuf,
    api: String,
    out: PathBuf,
}

impl Probes {
    fn key_variable(provider: &str) -> &'static str {
        if provider == "segmind" {
            "SEGMIND_API_KEY"
        } else {
            "IDEOGRAM_API_KEY"
        }
    }

    /// The library, through its `set_field` example.
    fn library(&self, provider: &str, model: &str, operation: &str, fields: &[&str]) -> Result {
        let mut command = Command::new(&self.example);
        command
            .args([provider, &self.api, model, operation, "a probe"])
            .args(fields)
            .env(Self::key_variable(provider), KEY);
        run(command)
    }

    /// The CLI with `args` after the connection options.
    fn cli(&self, provider: &str, args: &[&str]) -> Result {
        let mut command = Command::new(&self.cli);
        command
            .args(args)
            .args(["--provider", provider, "--base-url", &self.api])
            .current_dir(&self.out)
            .env(Self::key_variable(provider), KEY);
        if args.first() == Some(&"generate") {
            command.args(["-o", "./"]);
        } else {
            command.args(["-o", provider]);
        }
        run(command)
    }

    /// `ideogram mcp`: initialize, then a `generate` call with `arguments`.
    fn mcp(&self, provider: &str, arguments: Value) -> Result {
        let mut child = Command::new(&self.cli)
            .args([
                "mcp",
                "--out",
                "mcp",
                "--provider",
                provider,
                "--base-url",
                &self.api,
            ])
            .current_dir(&self.out)
            .env(Self::key_variable(provider), KEY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut input = child.stdin.take().ok_or("the server's input")?;
        let messages = [
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "evolve-check", "version": "1"}}}),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                   "params": {"name": "generate", "arguments": arguments}}),
        ];
        for message in messages {
            writeln!(input, "{message}")?;
        }
        let mut answer = None;
        for line in BufReader::new(child.stdout.take().ok_or("the server's output")?).lines() {
            let line: Value = serde_json::from_str(&line?)?;
            if line["id"] == 2 {
                answer = Some(line);
                break;
            }
        }
        drop(input);
        let _ = child.wait();
        let answer = answer.ok_or("the MCP server never answered the call")?;
        if answer["result"]["isError"] == true || answer.get("error").is_some() {
            return Err(format!("the MCP call failed: {answer}").into());
        }
        Ok(())
    }
}

/// Runs `command`, failing with its output when it fails.
fn run(mut command: Command) -> Result {
    let output = command.output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into())
    }
}
