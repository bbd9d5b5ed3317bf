//! `ideogram`: images from Ideogram's models in a terminal, through Segmind
//! or Ideogram's own API, or offline against the built-in mock.

mod args;
mod batch;
mod commands;
mod connect;
mod failure;
mod journal;
mod output;
mod progress;
mod request;

use std::process::ExitCode;

use clap::Parser as _;

use args::{Cli, Command, JobAction};
use failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // Commands that need no service first: they work without a key.
    match &cli.command {
        Command::Resolutions { family } => {
            return commands::resolutions(family.as_deref(), cli.json);
        }
        Command::Palettes => {
            commands::palettes(cli.json);
            return Ok(());
        }
        _ => {}
    }
    let session = connect::connect(&cli.connection).await?;
    match cli.command {
        Command::Generate {
            prompt,
            options,
            output,
        } => {
            let request = request::build(&prompt, &options)?;
            commands::generate(&session, request, &options, output.as_deref(), cli.json).await
        }
        Command::Remix {
            image,
            prompt,
            weight,
            options,
            output,
        } => {
            let request = request::with_image(
                request::build(&prompt, &options)?,
                &image,
                weight.as_deref(),
            )?;
            commands::generate(&session, request, &options, output.as_deref(), cli.json).await
        }
        Command::Batch {
            file,
            options,
            output,
            concurrency,
            journal,
            resend_uncertain,
        } => {
            let batch = batch::Batch {
                file,
                options,
                output,
                concurrency,
                journal,
                resend_uncertain,
                json: cli.json,
            };
            batch::run(&session, batch).await
        }
        Command::Job { action } => {
            commands::require_segmind(&session)?;
            match action {
                JobAction::Status { id } => commands::job_status(&session, &id, cli.json).await,
                JobAction::Wait {
                    id,
                    output,
                    timeout,
                } => commands::job_wait(&session, &id, output.as_deref(), timeout, cli.json).await,
            }
        }
        Command::Resolutions { .. } | Command::Palettes => unreachable!("handled above"),
    }
}
