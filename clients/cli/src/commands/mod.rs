//! What each command does, one module per family; [`run`] dispatches.
//!
//! - [`account`]: the profile itself (creating, recovering, linking this device,
//!   joining a relay, the duress passphrase, the recovery words, the wipe);
//! - [`contacts`]: the people met, their safety numbers and verification;
//! - [`feed`]: posts, comments, reactions, edits, deletions, and the feed;
//! - [`library`]: folders, files and notes;
//! - [`space`]: spaces, their members and rules;
//! - [`devices`]: this person's devices.

mod account;
mod contacts;
mod devices;
mod feed;
mod library;
mod space;

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use huisclos_core::client::Connection;
use huisclos_core::engine::Engine;
use huisclos_core::identity::{ContactCard, DisplayName};
use huisclos_core::join::SpaceCard;
use huisclos_core::link::{LinkOffer, LinkRequest};
use huisclos_core::linker::{LinkStatus, Linker};
use huisclos_core::media::Metadata;
use huisclos_core::space::{HistoryMode, SpaceDescription, SpaceName};
use huisclos_protocol::invitation::Invitation;

use crate::cli::{Cli, Command, DevicesCommand, SpaceCommand};
use crate::text::{self, Problem, Say, word};
use crate::{CliError, online, profile, resolve};

/// Runs one parsed command line.
pub(crate) async fn run(cli: Cli) -> Result<(), CliError> {
    let dir = profile::directory(cli.profile)?;
    let offline = cli.offline;
    match cli.command {
        Command::Init { name, link: None, recover, .. } => account::init(&dir, name, recover),
        Command::Init { name, link: Some(offer), wait, .. } => {
            devices::link_this_device(&dir, &name, &offer, wait).await
        }
        Command::Join { invitation } => account::join(&dir, offline, &invitation).await,
        Command::Whoami => account::whoami(&dir),
        Command::Duress { name, invitation } => account::duress(&dir, offline, name, invitation).await,
        Command::RecoveryWords { yes } => account::recovery_words(&dir, yes),
        Command::Wipe { yes } => account::wipe(&dir, yes),
        Command::Contacts => contacts::list(&dir),
        Command::SafetyNumber { contact } => contacts::safety_number(&dir, &contact),
        Command::Verify { contact } => contacts::verify(&dir, &contact),
        Command::AcceptKey { contact } => contacts::accept_key(&dir, &contact),
        Command::Space(command) => space::space(&dir, offline, command).await,
        Command::Post { space, text } => feed::post(&dir, offline, &space, &text).await,
        Command::Comment { space, item, text } => feed::comment(&dir, offline, &space, &item, &text).await,
        Command::React { space, item, reaction, off } => {
            feed::react(&dir, offline, &space, &item, &reaction, !off).await
        }
        Command::Edit { space, item, text } => feed::edit(&dir, offline, &space, &item, &text).await,
        Command::Delete { space, item } => feed::delete(&dir, offline, &space, &item).await,
        Command::Feed { space, json } => feed::show(&dir, offline, &space, json).await,
        Command::Ls { .. }
        | Command::Mkdir { .. }
        | Command::Note { .. }
        | Command::Cat { .. }
        | Command::EditNote { .. }
        | Command::NoteVersion { .. }
        | Command::NoteLog { .. }
        | Command::NoteRestore { .. }
        | Command::Mv { .. }
        | Command::Rm { .. }
        | Command::Restore { .. }
        | Command::Trash { .. } => library::library(&dir, offline, cli.command).await,
        Command::Put { space, local, path, keep_metadata } => {
            let metadata = if keep_metadata { Metadata::Keep } else { Metadata::Strip };
            library::put(&dir, offline, &space, &local, &path, metadata).await
        }
        Command::Get { space, path, local } => library::get(&dir, offline, &space, &path, &local).await,
        Command::Sync => sync(&dir, offline).await,
        Command::Watch => {
            let mut engine = profile::open(&dir)?;
            online::watch(&mut engine).await
        }
        Command::Devices(command) => devices::devices(&dir, offline, command).await,
    }
}

/// `sync`: sends what waits, reads what is new, and says how much is left.
async fn sync(dir: &Path, offline: bool) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    online::sync(&mut engine, offline).await?;
    let spaces = engine.spaces().len();
    let outbox = engine.outbox_len()?;
    println!("{}", Say::SyncDone { spaces, outbox });
    Ok(())
}

/// Sends a new item if the relay is reachable, and says what became of it.
async fn finish_item(
    engine: &mut Engine,
    offline: bool,
    id: &huisclos_protocol::ids::ContentId,
) -> Result<(), CliError> {
    println!("{}", Say::ItemQueued { id: &text::short(id.as_bytes()) });
    finish(engine, offline).await
}

/// Sends what the command queued, or says it waits.
async fn finish(engine: &mut Engine, offline: bool) -> Result<(), CliError> {
    // What the command itself did (its own item, shown at once) is not news; what it
    // learned about anyone's keys is, always.
    online::print_security_events(engine);
    let delivered = online::sync(engine, offline).await?;
    if !delivered || engine.outbox_len()? > 0 {
        println!("{}", Say::Queued);
    }
    Ok(())
}

/// Asks "are you sure?" on the terminal; true when the answer is `expected`.
fn confirmed(question: impl std::fmt::Display, expected: &str) -> Result<bool, CliError> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == expected)
}
