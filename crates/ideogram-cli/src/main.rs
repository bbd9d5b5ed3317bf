//! `ideogram`: images from Ideogram's models in a terminal, through Segmind
//! or Ideogram's own API, or offline against the built-in mock.

mod args;
mod batch;
mod bills;
mod budget;
mod clock;
mod commands;
mod compare;
mod connect;
mod cost;
mod durable;
mod failure;
mod job_claim;
mod journal;
mod mcp;
mod naming;
mod options;
mod output;
mod paid;
mod poll_cache;
mod progress;
mod queued;
mod redact;
mod request;
mod room;
mod shell;
mod signals;
mod spend;
mod trace;
mod values;
mod webhook;

use std::process::ExitCode;

use args::{Cli, Command, JobAction, WebhookAction};
use failure::Failure;

fn main() -> ExitCode {
    if args::asks_only_version(std::env::args_os()) {
        // As clap does: a reader that went away is no failure.
        let _ =
            std::io::Write::write_all(&mut std::io::stdout().lock(), args::VERSION_LINE.as_bytes());
        return ExitCode::SUCCESS;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    redact::learn_environment();
    trace::init(cli.verbose);
    // One line per deprecated operation per process, the first time an
    // answer announces it (`{"note": ...}` under `--json`; on stderr, the
    // MCP server's log, so never in its protocol).
    ideogram::deprecation::listen(|notice| output::tell(&format!("warning: {notice}")));
    // One thread unless the command has parallel work: a batch (its items,
    // and an offline mock rendering theirs) or a mock serving others.
    let parallel = matches!(cli.command, Command::Batch { .. }) || cli.command.serves();
    let runtime = if parallel {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()
    .expect("tokio runtime");
    let json = cli.json;
    if json {
        output::json_stderr();
    }
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(&failure, json),
    }
}

/// Prints `failure` (one JSON object on stderr with `--json`) and exits
/// with its code.
fn fail(failure: &Failure, json: bool) -> ExitCode {
    if json {
        output::tell_raw(&failure.to_json().to_string());
    } else {
        output::tell_raw(&failure.to_string());
    }
    ExitCode::from(failure.code)
}

/// What clap could not read: help and version as clap prints them; a
/// request option's value the library refuses is an invalid request (exit
/// 3), anything else a usage error (exit 2); with `--json`, as one JSON
/// object.
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ErrorKind};
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        err.exit();
    }
    // The library's verdict on a request option's value (`values`) comes
    // without clap's context; clap's own (a number, a shell name) with it.
    let code = match err.kind() {
        ErrorKind::ValueValidation if err.get(ContextKind::InvalidArg).is_none() => {
            failure::INVALID
        }
        _ => failure::USAGE,
    };
    if std::env::args_os().any(|a| a == "--json") {
        // The first line, and the indented lines that finish it (the
        // missing arguments' names), up to the usage.
        let text = err.render().to_string();
        let mut lines = text.lines();
        let mut line = lines.next().unwrap_or_default().to_owned();
        for more in lines.take_while(|l| l.starts_with("  ")) {
            line.push(' ');
            line.push_str(more.trim());
        }
        let line = line.strip_prefix("error: ").unwrap_or(&line);
        let (message, hint) = match line
            .strip_suffix(')')
            .and_then(|l| l.rsplit_once(" (hint: "))
        {
            Some((message, hint)) => (message, hint),
            None => (line, "ideogram --help shows the usage"),
        };
        return fail(&Failure::new(code, message).hint(hint), true);
    }
    let _ = err.print();
    ExitCode::from(code)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // Commands that need no service first: they work without a key, and
    // take no network options.
    if cli.command.connection().is_none() && cli.connection != options::Connection::default() {
        return Err(Failure::new(
            failure::USAGE,
            "network options (--provider, --base-url, --offline, ...) belong to commands that call a service",
        ));
    }
    match &cli.command {
        Command::Resolutions { family } => {
            return commands::resolutions(family.as_deref(), cli.json);
        }
        Command::Palettes => {
            commands::palettes(cli.json);
            return Ok(());
        }
        Command::Spend { dir } => return spend::run(dir, cli.json),
        Command::Models => {
            commands::models(cli.json);
            return Ok(());
        }
        #[cfg(feature = "mock")]
        Command::Mock(args) => {
            let ready = |mock: &ideogram_mock::MockServer| {
                output::tell(&format!(
                    "mock listening; try: SEGMIND_API_KEY={} ideogram generate \"a fox\" --provider segmind --base-url {}",
                    mock.api_key(),
                    mock.api_url()
                ));
            };
            return ideogram_mock::standalone::serve(args, ready)
                .await
                .map_err(|message| Failure::new(failure::OTHER, message));
        }
        Command::Completions { shell } => {
            let mut command = args::Cli::parser(true);
            // Written whole, then printed: clap_complete panics on a
            // closed stdout.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "ideogram", &mut script);
            output::print(&script);
            return Ok(());
        }
        _ => {}
    }
    // From here on Ctrl-C and SIGTERM are counted, not fatal: each command
    // stops where no paid result is lost and no temporary file is left.
    let signals = signals::Signals::listen();
    if let Command::Fetch {
        urls,
        output,
        overwrite,
        api_key_file,
    } = &cli.command
    {
        // Read only to hide them: a failed download's error may repeat
        // a URL that holds one.
        for path in api_key_file.iter().chain(&cli.connection.api_key_file) {
            connect::key_from_file(path)?;
        }
        let fetching = commands::fetch(urls, output.as_deref(), *overwrite, cli.json);
        return signals.unless(1, fetching).await.unwrap_or_else(|| {
            Err(failure::Failure::new(
                failure::INTERRUPTED,
                "interrupted; nothing was left half-written",
            ))
        });
    }
    if let Command::Mcp {
        out,
        read,
        agent,
        connection,
    } = &cli.command
    {
        // Stdout is the protocol's from here on: every other line goes to
        // stderr.
        let connection = cli.connection.merged(connection);
        return mcp::serve(connection, out, read, agent.clone(), signals).await;
    }
    if let Command::Webhook {
        action:
            WebhookAction::Serve {
                listen,
                output,
                window,
                connection,
            },
    } = &cli.command
    {
        // Ideogram's deliveries, whichever provider's key is set.
        let mut connection = cli.connection.merged(connection);
        connection
            .provider
            .get_or_insert_with(|| ideogram::Provider::Ideogram.to_string());
        let session = connect::connect(&connection, false).await?;
        return webhook::serve(session, *listen, output.clone(), *window, cli.json, signals).await;
    }
    // An amount that is not one is refused before anything is sent.
    let pricing = budget::Pricing::of(cli.command.budget())?;
    let queue = matches!(cli.command, Command::Job { .. });
    if matches!(cli.command, Command::Batch { .. } | Command::Job { .. })
        && cli
            .connection
            .merged(cli.command.connection().unwrap_or(&Default::default()))
            .sync
    {
        return Err(Failure::new(
            failure::USAGE,
            "--sync belongs to the one-shot commands: batches and `job` always use Segmind's queue",
        ));
    }
    let connection = cli.connection.merged(
        cli.command
            .connection()
            .unwrap_or(&options::Connection::default()),
    );
    let connection = match &cli.command {
        Command::Quote {
            prompt,
            options,
            compare: true,
            ..
        } => {
            // Every provider is priced: one named would be left out unsaid.
            if let Some(named) = connection
                .provider
                .as_deref()
                .filter(|_| !connect::asks_cheapest(&connection))
            {
                return Err(Failure::new(
                    failure::USAGE,
                    format!("--compare prices every provider: leave out --provider {named}"),
                ));
            }
            let request = request::build(prompt, options)?;
            return compare::compare(&connection, &request, cli.json, &signals).await;
        }
        Command::Generate {
            prompt, options, ..
        }
        | Command::Quote {
            prompt, options, ..
        } if connect::asks_cheapest(&connection) => {
            let request = request::build(prompt, options)?;
            let provider = compare::pick(&connection, &request, &signals).await?;
            options::Connection {
                provider: Some(provider.to_string()),
                ..connection
            }
        }
        _ => connection,
    };
    let session = connect::connect(&connection, queue).await?;
    match cli.command {
        Command::Generate {
            prompt,
            options,
            save,
            ..
        } => {
            let request = request::build(&prompt, &options)?;
            let save = commands::Save::new(&save, cli.json).within(pricing);
            commands::generate(&session, request, save, &signals).await
        }
        Command::Quote {
            prompt, options, ..
        } => {
            // `generate --quote`.
            let request = request::build(&prompt, &options)?;
            let save = commands::Save {
                output: None,
                overwrite: false,
                json: cli.json,
                pricing: budget::Pricing {
                    max_usd: None,
                    quote: true,
                },
            };
            commands::generate(&session, request, save, &signals).await
        }
        Command::Remix {
            image,
            prompt,
            image_weight,
            mut options,
            save,
            ..
        } => {
            let set = &mut options.body.set;
            let (images, words) =
                request::positionals(&[image, prompt], &["image"], &["prompt"], set)?;
            let [image] = <[_; 1]>::try_from(images).expect("one image");
            let request = request::with_image(
                request::build(&words[0], &options)?,
                image,
                image_weight.as_deref(),
            )?;
            let save = commands::Save::new(&save, cli.json).within(pricing);
            commands::generate(&session, request, save, &signals).await
        }
        Command::Edit {
            image,
            mask,
            prompt,
            mut options,
            save,
            ..
        } => {
            let set = &mut options.body.set;
            let given = [image, mask, prompt];
            let (images, mut words) =
                request::positionals(&given, &["image", "mask"], &["prompt"], set)?;
            let [image, mask] = <[_; 2]>::try_from(images).expect("two images");
            let prompt = words.remove(0);
            let kind = ideogram::EditKind::Edit {
                mask,
                prompt: prompt.clone(),
            };
            let request = request::edit(image, kind, &options)?;
            edit(
                &session,
                request,
                prompt,
                commands::Save::new(&save, cli.json).within(pricing),
                &signals,
            )
            .await
        }
        Command::Reframe {
            image,
            resolution,
            mut options,
            save,
            ..
        } => {
            let set = &mut options.body.set;
            let given = [image, resolution];
            let (mut images, words) =
                request::positionals(&given, &["image"], &["resolution"], set)?;
            let resolution: ideogram::Resolution = words[0].parse()?;
            let kind = ideogram::EditKind::Reframe { resolution };
            let request = request::edit(images.remove(0), kind, &options)?;
            let named = format!("reframe {resolution}");
            edit(
                &session,
                request,
                named,
                commands::Save::new(&save, cli.json).within(pricing),
                &signals,
            )
            .await
        }
        Command::ReplaceBackground {
            image,
            prompt,
            mut options,
            save,
            ..
        } => {
            let set = &mut options.body.set;
            let (mut images, mut words) =
                request::positionals(&[image, prompt], &["image"], &["prompt"], set)?;
            let prompt = words.remove(0);
            let kind = ideogram::EditKind::ReplaceBackground {
                prompt: prompt.clone(),
            };
            let request = request::edit(images.remove(0), kind, &options)?;
            edit(
                &session,
                request,
                prompt,
                commands::Save::new(&save, cli.json).within(pricing),
                &signals,
            )
            .await
        }
        Command::Upscale {
            image,
            prompt,
            resemblance,
            detail,
            options,
            save,
            ..
        } => {
            let kind = ideogram::EditKind::Upscale {
                prompt: prompt.clone(),
                resemblance: request::unsigned("resemblance", resemblance.as_deref())?,
                detail: request::unsigned("detail", detail.as_deref())?,
            };
            let named = request::edit_named(&kind, prompt);
            let request = request::edit(image.parse()?, kind, &options)?;
            edit(
                &session,
                request,
                named,
                commands::Save::new(&save, cli.json).within(pricing),
                &signals,
            )
            .await
        }
        Command::RemoveBackground {
            image,
            mut options,
            save,
            ..
        } => {
            let set = &mut options.body.set;
            let (mut images, _) = request::positionals(&[image], &["image"], &[], set)?;
            let kind = ideogram::EditKind::RemoveBackground;
            let named = request::edit_named(&kind, None);
            let request = request::edit(images.remove(0), kind, &options)?;
            let save = commands::Save::new(&save, cli.json).within(pricing);
            edit(&session, request, named, save, &signals).await
        }
        Command::RemoveObject {
            image,
            mask,
            options,
            save,
            ..
        } => {
            let kind = ideogram::EditKind::RemoveObject {
                mask: request::mask(&mask)?,
            };
            let named = request::edit_named(&kind, None);
            let request = request::edit(image.parse()?, kind, &options)?;
            let save = commands::Save::new(&save, cli.json).within(pricing);
            edit(&session, request, named, save, &signals).await
        }
        Command::LayerizeText {
            image,
            prompt,
            mut options,
            save,
            ..
        } => {
            let set = &mut options.set;
            let (mut images, _) = request::positionals(&[image], &["image"], &[], set)?;
            let request = request::layerize(images.remove(0), prompt.as_deref(), &options)?;
            let save = commands::Save::new(&save, cli.json).within(pricing);
            commands::layerize_text(&session, request, prompt.as_deref(), save, &signals).await
        }
        Command::Describe {
            image, mut options, ..
        } => {
            let set = &mut options.set;
            let (mut images, _) = request::positionals(&[image], &["image"], &[], set)?;
            let request = request::describe(images.remove(0), &options)?;
            commands::describe(&session, request, (cli.json, pricing), &signals).await
        }
        Command::Batch {
            file,
            options,
            output,
            concurrency,
            journal,
            resend_uncertain,
            switch_provider,
            wait,
            ..
        } => {
            let batch = batch::Batch {
                file,
                options,
                output,
                concurrency,
                journal,
                resend_uncertain,
                switch_provider,
                wait,
                json: cli.json,
                pricing,
            };
            batch::run(&session, batch, signals).await
        }
        Command::Job { action } => match action {
            JobAction::Submit {
                prompt,
                image,
                image_weight,
                mut options,
                ..
            } => {
                // The image as `--image`, or as the asset identifier `--set`
                // gives in its place (as the image commands take it).
                let set = &mut options.body.set;
                let image = if image.is_some() || request::has_asset(set, "image") {
                    let (mut images, _) = request::positionals(&[image], &["image"], &[], set)?;
                    Some(images.remove(0))
                } else if image_weight.is_some() {
                    return Err(request::weight_without_image().into());
                } else {
                    None
                };
                let mut request = request::build(&prompt, &options)?;
                if let Some(image) = image {
                    request = request::with_image(request, image, image_weight.as_deref())?;
                }
                commands::job_submit(&session, &request, (cli.json, pricing), &signals).await
            }
            JobAction::Status { id, .. } => commands::job_status(&session, &id, cli.json).await,
            JobAction::Wait {
                id,
                output,
                timeout,
                overwrite,
                ..
            } => {
                let save = commands::Save {
                    output: output.as_deref(),
                    overwrite,
                    json: cli.json,
                    pricing: budget::Pricing::default(),
                };
                commands::job_wait(&session, &id, timeout, save, &signals).await
            }
        },
        #[cfg(feature = "mock")]
        Command::Mock(_) => unreachable!("handled above"),
        Command::Resolutions { .. }
        | Command::Mcp { .. }
        | Command::Webhook { .. }
        | Command::Palettes
        | Command::Spend { .. }
        | Command::Models
        | Command::Completions { .. }
        | Command::Fetch { .. } => {
            unreachable!("handled above")
        }
    }
}

/// Runs an image operation, its sidecars recording what it asked, its
/// files named from `named`.
async fn edit(
    session: &connect::Session,
    request: ideogram::EditRequest,
    named: String,
    save: commands::Save<'_>,
    signals: &signals::Signals,
) -> Result<(), Failure> {
    let asked = output::Asked::edit(named, &request, session.provider);
    commands::edit(session, request, asked, save, signals).await
}
