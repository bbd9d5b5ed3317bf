//! `cargo xtask generate [--check]`: regenerates the raw client from the specs
//! in `openapi/`, or with `--check` fails with a diff when the committed code is
//! stale.

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask generate [--check]";

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
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut stale = 0;
    for target in &xtask::TARGETS {
        let fresh = match xtask::generate(target) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        if check {
            if let Some(diff) = xtask::stale_diff(target, &fresh) {
                stale += 1;
                eprintln!("{diff}");
                eprintln!("{} is stale: run `cargo xtask generate`", target.output);
            } else {
                println!("{} is up to date", target.output);
            }
        } else {
            let path = xtask::workspace_root().join(target.output);
            if let Err(err) = std::fs::write(&path, fresh) {
                eprintln!("error: cannot write {}: {err}", path.display());
                return ExitCode::FAILURE;
            }
            println!("wrote {}", target.output);
        }
    }
    if stale > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
