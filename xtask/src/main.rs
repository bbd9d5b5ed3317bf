//! `cargo xtask generate [--check]`: regenerates the raw client from the specs
//! in `openapi/`, or with `--check` fails with a diff when the committed code is
//! stale. `cargo xtask evolve-check`: shows a spec change reaching every front
//! end with only the spec edited (see `xtask::evolve`).

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask generate [--check] | cargo xtask evolve-check";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate"] => false,
        ["generate", "--check"] => true,
        ["evolve-check"] => {
            return match xtask::evolve::evolve_check() {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("evolve-check: {err}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut stale = 0;
    for target in &xtask::TARGETS {
        let files = match xtask::generate_all(target) {
            Ok(files) => files,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        for file in files {
            if check {
                if let Some(diff) = xtask::stale_diff(&file) {
                    stale += 1;
                    eprintln!("{diff}");
                    eprintln!("{} is stale: run `cargo xtask generate`", file.path);
                } else {
                    println!("{} is up to date", file.path);
                }
            } else {
                let path = xtask::workspace_root().join(file.path);
                if let Err(err) = std::fs::write(&path, file.text) {
                    eprintln!("error: cannot write {}: {err}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("wrote {}", file.path);
            }
        }
    }
    if stale > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
