//! `huisclos` — the desktop command-line client.
//!
//! One profile per directory (`--profile`, `HUISCLOS_PROFILE`, or `~/.huisclos`),
//! encrypted at rest under a passphrase. Every command opens the profile, does its
//! work in the engine of `huisclos-core`, and — unless `--offline` — connects to the
//! profile's relay to send what is queued and read what is new, then prints what
//! happened. Work done offline waits in the profile's outbox for the next connection.
//!
//! This file only sets up logging, the language and the runtime, and hands the parsed
//! command ([`cli`]) to [`commands::run`], which dispatches it to one module per
//! command family. Every sentence shown to a person comes from [`text`], so
//! translations plug in there.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod online;
mod profile;
mod resolve;
mod text;

use std::process::ExitCode;

use clap::Parser;
use huisclos_core::CoreError;

use crate::cli::Cli;

/// What can go wrong, as the person sees it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command cannot be done as typed.
    #[error("{0}")]
    Usage(String),
    /// The engine refused or failed: said in the CLI's language.
    #[error("{}", crate::text::describe(.0))]
    Core(#[from] CoreError),
    /// The file system failed.
    #[error("{}", crate::text::render(&huisclos_l10n::Message::new("error-io").with("detail", .0.to_string())))]
    Io(#[from] std::io::Error),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HUISCLOS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.lang.as_deref().map(huisclos_l10n::Language::from_tag) {
        None => text::set_language(huisclos_l10n::Language::from_environment()),
        Some(Ok(language)) => text::set_language(language),
        Some(Err(_)) => {
            let typed = cli.lang.as_deref().unwrap_or_default();
            eprintln!("huisclos: {}", text::Problem::UnknownLanguage { typed });
            return ExitCode::FAILURE;
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("huisclos: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("huisclos: {error}");
            ExitCode::FAILURE
        }
    }
}
