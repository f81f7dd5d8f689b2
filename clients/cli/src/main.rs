//! `huisclos` — the desktop command-line client.
//!
//! One profile per directory (`--profile`, `HUISCLOS_PROFILE`, or `~/.huisclos`),
//! encrypted at rest under a passphrase. Every command opens the profile, does its
//! work in the engine of `huisclos-core`, and — unless `--offline` — connects to the
//! profile's relay to send what is queued and read what is new, then prints what
//! happened. Work done offline waits in the profile's outbox for the next connection.
//!
//! Every sentence shown to a person comes from [`text`], so translations plug in
//! there. The library commands (files, folders, notes) and device revocation,
//! recovery and panic wipe come with the core features they drive.
#![forbid(unsafe_code)]

mod online;
mod profile;
mod resolve;
mod text;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use huisclos_core::CoreError;
use huisclos_core::client::Connection;
use huisclos_core::engine::Engine;
use huisclos_core::identity::{ContactCard, DisplayName};
use huisclos_core::join::SpaceCard;
use huisclos_core::link::{LinkOffer, LinkRequest};
use huisclos_core::linker::{LinkStatus, Linker};
use huisclos_core::space::{HistoryMode, Policy, Role, SpaceDescription, SpaceName};
use huisclos_protocol::invitation::Invitation;

use crate::text::{Problem, Say, word};

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

/// Huis Clos: end-to-end encrypted spaces for human-rights networks.
#[derive(Parser)]
#[command(name = "huisclos", version, about, long_about = None)]
struct Cli {
    /// The profile directory.
    #[arg(long, global = true, env = "HUISCLOS_PROFILE", value_name = "DIR")]
    profile: Option<PathBuf>,
    /// Do not contact the relay: work stays queued for the next sync.
    #[arg(long, global = true)]
    offline: bool,
    /// The language to speak: en, fr, de, ar or pt (by default the one LC_ALL,
    /// LC_MESSAGES or LANG names, else English).
    #[arg(long, global = true, value_name = "LANG")]
    lang: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates a new profile (asks for a passphrase, or reads HUISCLOS_PASSPHRASE).
    Init {
        /// Your name as others see it.
        #[arg(long)]
        name: String,
        /// Link this new device to an existing identity: the offer shown by
        /// `huisclos devices link` on the existing device.
        #[arg(long, value_name = "OFFER")]
        link: Option<String>,
        /// With --link: how long to wait for the approval, in seconds.
        #[arg(long, default_value_t = 600)]
        wait: u64,
        /// Restore your identity from your 24 recovery words after losing every device
        /// (asked for, or read from HUISCLOS_RECOVERY_WORDS). Then join the relay with a
        /// new invitation and hand your contact card to a manager of each space, who
        /// re-admits you with `huisclos space readmit`.
        #[arg(long, conflicts_with = "link")]
        recover: bool,
    },
    /// Joins the relay of an invitation (`huisclos1:…`) and opens the account.
    Join {
        /// The invitation text.
        invitation: String,
    },
    /// Shows who this profile is, and the contact card to hand to people who invite you.
    Whoami,
    /// Lists the people you have met, with whether you verified them.
    Contacts,
    /// Shows the safety number to compare with a contact.
    SafetyNumber {
        /// A contact's name or the first hex digits of their identity key.
        contact: String,
    },
    /// Marks a contact verified, after comparing safety numbers.
    Verify {
        /// A contact's name or identity key prefix.
        contact: String,
    },
    /// Accepts a contact's changed identity key, after comparing safety numbers.
    AcceptKey {
        /// A contact's name or identity key prefix.
        contact: String,
    },
    /// Spaces: create, list, invite, join, leave, manage.
    #[command(subcommand)]
    Space(SpaceCommand),
    /// Posts news in a space.
    Post {
        /// The space (name or id prefix).
        space: String,
        /// The text (markdown).
        text: String,
    },
    /// Comments under a post or comment.
    Comment {
        /// The space.
        space: String,
        /// The post or comment answered (id prefix, as `feed` shows).
        item: String,
        /// The text.
        text: String,
    },
    /// Reacts to an item (or withdraws the reaction with --off).
    React {
        /// The space.
        space: String,
        /// The item (id prefix).
        item: String,
        /// The reaction, such as an emoji.
        reaction: String,
        /// Withdraw it.
        #[arg(long)]
        off: bool,
    },
    /// Edits your item (or anyone's, as a content manager: the new text is then shown
    /// as yours). The earlier text stays at the relay, sealed, for every member.
    Edit {
        /// The space.
        space: String,
        /// The item (id prefix).
        item: String,
        /// The new text.
        text: String,
    },
    /// Deletes your item (or anyone's, as a content manager) from every member's feed.
    /// It erases nothing at the relay: the item stays there, sealed, readable by every
    /// member and later member; only devices that apply the deletion forget its text.
    Delete {
        /// The space.
        space: String,
        /// The item (id prefix).
        item: String,
    },
    /// Shows a space's feed, and marks it read.
    Feed {
        /// The space.
        space: String,
        /// One JSON object per line, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Lists a folder of a space's library (the top without a path).
    Ls {
        /// The space.
        space: String,
        /// The folder (`folder/sub`).
        #[arg(default_value = "")]
        path: String,
    },
    /// Creates a folder in a space's library.
    Mkdir {
        /// The space.
        space: String,
        /// The new folder's path (`folder/new`).
        path: String,
    },
    /// Writes a note (creates it, or replaces its text).
    Note {
        /// The space.
        space: String,
        /// The note's path.
        path: String,
        /// Its text (markdown).
        text: String,
    },
    /// Shows a note's text.
    Cat {
        /// The space.
        space: String,
        /// The note's path.
        path: String,
    },
    /// Moves or renames a folder, file or note (into TO when TO is a folder).
    Mv {
        /// The space.
        space: String,
        /// What to move.
        from: String,
        /// Where: an existing folder, or a new path.
        to: String,
    },
    /// Puts a folder, file or note in the trash.
    Rm {
        /// The space.
        space: String,
        /// What to trash.
        path: String,
    },
    /// Takes something out of the trash (`trash` lists it).
    Restore {
        /// The space.
        space: String,
        /// Its path.
        path: String,
    },
    /// Lists a space's trash.
    Trash {
        /// The space.
        space: String,
    },
    /// Uploads a file into a space's library (a new version if the path names a file).
    Put {
        /// The space.
        space: String,
        /// The file on this computer.
        local: PathBuf,
        /// Where in the library: a folder, a new path, or an existing file (default: the
        /// top, under the file's own name).
        #[arg(default_value = "")]
        path: String,
    },
    /// Downloads a file from a space's library (its newest version).
    Get {
        /// The space.
        space: String,
        /// The file's path in the library.
        path: String,
        /// Where to write it on this computer.
        local: PathBuf,
    },
    /// Sends what is queued and reads what is new.
    Sync,
    /// Stays connected and prints new events as they come (Ctrl-C to stop).
    Watch,
    /// This person's devices.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// Sets a duress passphrase: given instead of yours, it destroys this profile and
    /// opens a decoy profile made now, with its own account when you give it a second
    /// invitation (HUISCLOS_DURESS_PASSPHRASE for scripts).
    Duress {
        /// The decoy's name (yours by default).
        #[arg(long)]
        name: Option<String>,
        /// A relay invitation for the decoy's own account (huisclos1:…), so that it
        /// looks lived in: an account, its own age.
        #[arg(long)]
        invitation: Option<String>,
    },
    /// Shows your 24 recovery words: with them alone, your identity can be restored on
    /// a new device after every device is lost. Write them on paper; keep them away
    /// from this device.
    RecoveryWords {
        /// Show them without asking.
        #[arg(long)]
        yes: bool,
    },
    /// The panic wipe: destroys this profile for good. Nothing in it can be read again,
    /// with any passphrase.
    Wipe {
        /// Wipe without asking.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum SpaceCommand {
    /// Creates a space; you become its space manager.
    Create {
        /// Its name.
        name: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        /// Who may join: open, on-request or confidential.
        #[arg(long, default_value = "confidential", value_parser = parse_policy)]
        policy: Policy,
        /// Keep no history: content lives only in MLS messages, later members see only
        /// what comes after they join, and the relay deletes messages after its
        /// retention period.
        #[arg(long)]
        no_history: bool,
    },
    /// Lists your spaces and invitations.
    List {
        /// JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Lists a space's members.
    Members {
        /// The space.
        space: String,
    },
    /// Invites a person (all their devices) with their contact card.
    Invite {
        /// The space.
        space: String,
        /// Their contact card (`huisclos-contact:…`, from `huisclos whoami`).
        card: String,
        /// Their role: reader, contributor, content-manager or space-manager.
        #[arg(long, default_value = "contributor")]
        role: Role,
    },
    /// Accepts an invitation.
    Accept {
        /// The space.
        space: String,
    },
    /// Shows the card with which people ask to join an open or on-request space.
    Card {
        /// The space.
        space: String,
    },
    /// Asks to join the space of a card.
    Request {
        /// The space card (`huisclos-space:…`).
        card: String,
        /// A word about yourself for the space manager.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Lists the requests to join waiting for you.
    Requests {
        /// The space.
        space: String,
    },
    /// Admits a person who asked to join.
    Approve {
        /// The space.
        space: String,
        /// Who asked (name or identity prefix, as `requests` shows).
        person: String,
        /// Their role.
        #[arg(long, default_value = "contributor")]
        role: Role,
    },
    /// Declines a request to join.
    Decline {
        /// The space.
        space: String,
        /// Who asked.
        person: String,
    },
    /// Leaves a space with all your devices.
    Leave {
        /// The space.
        space: String,
    },
    /// Re-admits a member who lost every device and recovered their identity on a new
    /// one (`init --recover`): their old devices are removed, the new ones added with
    /// the same role.
    Readmit {
        /// The space.
        space: String,
        /// Their new contact card (`huisclos-contact:…`, from `whoami` on the new device).
        card: String,
    },
    /// Removes a person (all their devices).
    Remove {
        /// The space.
        space: String,
        /// The member (name or identity prefix).
        person: String,
    },
    /// Changes a member's role.
    Role {
        /// The space.
        space: String,
        /// The member.
        person: String,
        /// The new role.
        role: Role,
    },
    /// Renames a space.
    Rename {
        /// The space.
        space: String,
        /// The new name.
        name: String,
    },
    /// Changes a space's description.
    Describe {
        /// The space.
        space: String,
        /// The new description.
        description: String,
    },
    /// Silences a space's new posts (answers to you still notify).
    Mute {
        /// The space.
        space: String,
    },
    /// Lets a space's new posts notify again.
    Unmute {
        /// The space.
        space: String,
    },
    /// Recreates a space stalled by a forbidden change, without its author.
    Recreate {
        /// The stalled space.
        space: String,
    },
}

#[derive(Subcommand)]
enum DevicesCommand {
    /// Lists this person's devices.
    List,
    /// Shows an offer to link a new device (then approve its request).
    Link,
    /// Approves a new device's request after checking its confirmation code.
    Approve {
        /// The request the new device shows (`huisclos-link-request:…`).
        request: String,
        /// Approve without asking (scripts): only when the code was compared already.
        #[arg(long)]
        yes: bool,
    },
    /// Revokes a lost or seized device: the relay refuses it, and it is removed from
    /// every space (each space's history key rotates). Done from the device that holds
    /// the identity key.
    Revoke {
        /// The device (its name, or the first hex digits of its id, as `list` shows).
        device: String,
    },
    /// When the device that held your identity key is lost or seized: from your
    /// recovery words (HUISCLOS_RECOVERY_WORDS for scripts), this device holds the key
    /// again and replaces it at once (your contacts see the change), and the lost
    /// device is revoked. Write down the new recovery words afterwards.
    RestoreKey {
        /// The lost device (its name, or the first hex digits of its id).
        #[arg(long)]
        lost: String,
    },
}

fn parse_policy(text: &str) -> Result<Policy, String> {
    match text {
        "open" => Ok(Policy::Open),
        "on-request" | "on request" => Ok(Policy::OnRequest),
        "confidential" => Ok(Policy::Confidential),
        _ => Err(Problem::UnknownPolicy { typed: text }.to_string()),
    }
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("huisclos: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let dir = profile::directory(cli.profile)?;
    let offline = cli.offline;
    match cli.command {
        Command::Init { name, link: None, recover: false, .. } => {
            let vault = profile::create_vault(&dir)?;
            Engine::create(vault, DisplayName::new(name)?)?;
            println!("{}", Say::ProfileCreated { dir: &dir.display().to_string() });
            Ok(())
        }
        Command::Init { name, link: None, recover: true, .. } => {
            let words = profile::recovery_words()?;
            let vault = profile::create_vault(&dir)?;
            let engine = Engine::recover(vault, DisplayName::new(name)?, &words)?;
            println!("{}", Say::Recovered { identity: &engine.identity().short() });
            Ok(())
        }
        Command::Init { name, link: Some(offer), wait, .. } => link_this_device(&dir, &name, &offer, wait).await,
        Command::Join { invitation } => {
            let invitation = Invitation::from_text(invitation.trim())
                .map_err(|error| CliError::from(Problem::NotAnInvitation { error: &error.to_string() }))?;
            let mut engine = profile::open(&dir)?;
            engine.join_relay(&invitation)?;
            online::sync(&mut engine, offline).await?;
            match engine.account() {
                Some(account) => println!("{}", Say::Joined { account: &text::short(account.as_bytes()) }),
                None => println!("{}", Say::Queued),
            }
            Ok(())
        }
        Command::Whoami => {
            let engine = profile::open(&dir)?;
            let [name, identity, account_label, device_label, card_label] = word::labels();
            println!("{name} {}", engine.name());
            println!("{identity} {}", hex::encode(engine.identity().as_bytes()));
            if let Some(account) = engine.account() {
                println!("{account_label} {}", hex::encode(account.as_bytes()));
            }
            for device in engine.devices() {
                println!("{device_label} {} {}", text::short(device.body.device.as_bytes()), device.body.name);
            }
            if let Ok(card) = engine.contact_card() {
                println!("{card_label} {}", card.to_text());
            }
            Ok(())
        }
        Command::Contacts => {
            let engine = profile::open(&dir)?;
            let contacts = engine.contacts();
            if contacts.is_empty() {
                println!("{}", Say::NothingHere);
            }
            for contact in contacts {
                let state = match (contact.verified, contact.changed_to) {
                    (_, Some(_)) => word::key_changed(),
                    (true, None) => word::verified(),
                    (false, None) => word::not_verified(),
                };
                println!("{}  {}  {state}", contact.identity.short(), contact.name);
            }
            Ok(())
        }
        Command::SafetyNumber { contact } => {
            let engine = profile::open(&dir)?;
            let contact = resolve::contact(&engine, &contact)?;
            let number = engine.safety_number(&contact.identity).to_string();
            println!("{}", Say::SafetyNumber { name: &contact.name, number: &number });
            Ok(())
        }
        Command::Verify { contact } => {
            let mut engine = profile::open(&dir)?;
            let contact = resolve::contact(&engine, &contact)?;
            engine.mark_verified(&contact.identity)?;
            println!("{}", Say::Verified { name: &contact.name });
            Ok(())
        }
        Command::AcceptKey { contact } => {
            let mut engine = profile::open(&dir)?;
            let contact = resolve::contact(&engine, &contact)?;
            engine.accept_identity_change(&contact.account)?;
            println!("{}", Say::KeyAccepted { name: &contact.name });
            Ok(())
        }
        Command::Space(command) => space(&dir, offline, command).await,
        Command::Post { space, text } => {
            let mut engine = profile::open(&dir)?;
            let space = resolve::space_id(&engine, &space)?;
            let id = engine.post(&space, &text)?;
            finish_item(&mut engine, offline, &id).await
        }
        Command::Comment { space, item, text } => {
            let mut engine = profile::open(&dir)?;
            let space = resolve::space_id(&engine, &space)?;
            let parent = resolve::item(&engine, &space, &item)?;
            let id = engine.comment(&space, &parent, &text)?;
            finish_item(&mut engine, offline, &id).await
        }
        Command::React { space, item, reaction, off } => {
            let mut engine = profile::open(&dir)?;
            let space = resolve::space_id(&engine, &space)?;
            let target = resolve::item(&engine, &space, &item)?;
            let id = engine.react(&space, &target, &reaction, !off)?;
            finish_item(&mut engine, offline, &id).await
        }
        Command::Edit { space, item, text } => {
            let mut engine = profile::open(&dir)?;
            let space = resolve::space_id(&engine, &space)?;
            let target = resolve::item(&engine, &space, &item)?;
            let id = engine.edit(&space, &target, &text)?;
            finish_item(&mut engine, offline, &id).await
        }
        Command::Delete { space, item } => {
            let mut engine = profile::open(&dir)?;
            let space = resolve::space_id(&engine, &space)?;
            let target = resolve::item(&engine, &space, &item)?;
            let id = engine.delete(&space, &target)?;
            eprintln!("{}", Say::DeleteKeepsRelayCopy);
            finish_item(&mut engine, offline, &id).await
        }
        Command::Feed { space, json } => {
            let mut engine = profile::open(&dir)?;
            if json {
                // Scripts read only the feed on standard output.
                online::sync_quietly(&mut engine, offline).await?;
            } else {
                online::sync(&mut engine, offline).await?;
            }
            let space = resolve::space_id(&engine, &space)?;
            feed(&mut engine, &space, json)
        }
        Command::Ls { .. }
        | Command::Mkdir { .. }
        | Command::Note { .. }
        | Command::Cat { .. }
        | Command::Mv { .. }
        | Command::Rm { .. }
        | Command::Restore { .. }
        | Command::Trash { .. } => library(&dir, offline, cli.command).await,
        Command::Put { space, local, path } => put(&dir, offline, &space, &local, &path).await,
        Command::Get { space, path, local } => get(&dir, offline, &space, &path, &local).await,
        Command::Sync => {
            let mut engine = profile::open(&dir)?;
            online::sync(&mut engine, offline).await?;
            let spaces = engine.spaces().len();
            let outbox = engine.outbox_len()?;
            println!("{}", Say::SyncDone { spaces, outbox });
            Ok(())
        }
        Command::Watch => {
            let mut engine = profile::open(&dir)?;
            online::watch(&mut engine).await
        }
        Command::Devices(command) => devices(&dir, offline, command).await,
        Command::Duress { name, invitation } => {
            let (engine, unlock) = profile::open_with_unlock(&dir)?;
            let invitation = invitation
                .as_deref()
                .map(huisclos_protocol::invitation::Invitation::from_text)
                .transpose()
                .map_err(|error| CliError::from(Problem::NotAnInvitation { error: &error.to_string() }))?;
            let name = match name {
                Some(name) => DisplayName::new(name)?,
                None => engine.name().clone(),
            };
            let duress = profile::duress_passphrase()?;
            let mut decoy = engine.set_duress_passphrase(&unlock, &duress, &name, invitation.as_ref())?;
            drop(engine);
            if invitation.is_some() {
                // The decoy opens its own account now, so that it has one, and an age
                // of its own, on the day it is shown.
                online::sync_quietly(&mut decoy, offline).await?;
            }
            println!("{}", Say::DuressSet);
            Ok(())
        }
        Command::RecoveryWords { yes } => {
            let engine = profile::open(&dir)?;
            if !yes {
                print!("{}", Say::RecoveryWordsConfirm);
                std::io::stdout().flush()?;
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if answer.trim() != word::YES {
                    return Ok(());
                }
            }
            let words = engine.recovery_words()?;
            println!("{}", words.as_str());
            println!("{}", Say::RecoveryWordsShown);
            Ok(())
        }
        Command::Wipe { yes } => {
            // No passphrase: a locked profile is wiped as well.
            if !huisclos_core::vault::Vault::exists(&dir) {
                return Err(Problem::NoProfileIn { dir: &dir.display().to_string() }.into());
            }
            if !yes {
                print!("{}", Say::WipeConfirm);
                std::io::stdout().flush()?;
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if answer.trim() != word::WIPE {
                    println!("{}", Say::WipeDeclined);
                    return Ok(());
                }
            }
            huisclos_core::vault::Vault::wipe(&dir)?;
            println!("{}", Say::Wiped);
            Ok(())
        }
    }
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

fn feed(engine: &mut Engine, space: &huisclos_protocol::ids::GroupId, json: bool) -> Result<(), CliError> {
    let items = engine.feed(space)?;
    if json {
        for item in &items {
            let line = serde_json::json!({
                "id": hex::encode(item.id),
                "author": hex::encode(item.author),
                "author_name": item.author_name,
                "created_at": item.created_at,
                "parent": item.parent.map(hex::encode),
                "text": item.text,
                "edited": item.edited,
                "deleted": item.deleted,
                "moderated_by": item.moderated_by.as_ref().map(|m| m.name.clone()),
                "reactions": item.reactions.iter().map(|(r, who)| (r.clone(), who.len())).collect::<std::collections::BTreeMap<_, _>>(),
            });
            println!("{line}");
        }
    } else if items.is_empty() {
        println!("{}", Say::NothingHere);
    } else {
        print_thread(&items, None, 0);
    }
    engine.mark_read(space)?;
    Ok(())
}

/// Posts in arrival order, each followed by its comments, indented.
fn print_thread(items: &[huisclos_core::engine::FeedItem], parent: Option<[u8; 16]>, depth: usize) {
    for item in items.iter().filter(|i| i.parent == parent) {
        let mut marks = String::new();
        match &item.moderated_by {
            // The text is the moderator's, never shown as the author's words.
            Some(moderator) if item.deleted => {
                marks.push(' ');
                marks.push_str(&word::removed_by(&moderator.name));
            }
            Some(moderator) => {
                marks.push(' ');
                marks.push_str(&word::replaced_by(&moderator.name));
            }
            None if item.edited => {
                marks.push(' ');
                marks.push_str(&word::edited());
            }
            None => {}
        }
        let text = if item.deleted { word::deleted() } else { item.text.clone() };
        let reactions: Vec<String> = item.reactions.iter().map(|(r, who)| format!("{r} {}", who.len())).collect();
        let reactions = if reactions.is_empty() { String::new() } else { format!("  [{}]", reactions.join(", ")) };
        let indent = "    ".repeat(depth);
        println!("{indent}{} {}{marks}: {text}{reactions}", text::short(&item.id), item.author_name);
        if depth < 8 {
            print_thread(items, Some(item.id), depth + 1);
        }
    }
}

async fn library(dir: &std::path::Path, offline: bool, command: Command) -> Result<(), CliError> {
    use huisclos_core::library::NodeKind;
    let mut engine = profile::open(dir)?;
    match command {
        Command::Ls { .. } | Command::Trash { .. } => {
            online::sync(&mut engine, offline).await?;
        }
        Command::Cat { .. } => {
            online::sync_quietly(&mut engine, offline).await?;
        }
        _ => {}
    }
    let show = |view: &huisclos_core::library::NodeView| {
        let kind = match view.kind {
            NodeKind::Folder => word::folder(),
            NodeKind::File => word::file(),
            NodeKind::Note => word::note(),
        };
        let size = view.length.map(|l| format!("  {}", word::file_size(l, view.versions))).unwrap_or_default();
        println!("{}  {kind:6}  {}{size}", text::short(&view.id), view.name);
    };
    match command {
        Command::Ls { space, path } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let folder = resolve::node(&library, &path, false)?;
            let children = library.children(folder);
            if children.is_empty() {
                println!("{}", Say::NothingHere);
            }
            children.iter().for_each(show);
            Ok(())
        }
        Command::Trash { space } => {
            let space = resolve::space_id(&engine, &space)?;
            let trash = engine.library(&space)?.trash();
            if trash.is_empty() {
                println!("{}", Say::NothingHere);
            }
            trash.iter().for_each(show);
            Ok(())
        }
        Command::Cat { space, path } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let node = resolve::node(&library, &path, false)?.ok_or(Problem::NotePath)?;
            let text = library.note(&node).ok_or(Problem::NotANote { path: &path })?;
            println!("{text}");
            Ok(())
        }
        Command::Mkdir { space, path } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let (parent, name) = resolve::parent_and_name(&library, &path)?;
            engine.create_folder(&space, parent, name)?;
            finish(&mut engine, offline).await
        }
        Command::Note { space, path, text } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            match resolve::node(&library, &path, false) {
                Ok(Some(node)) => engine.write_note(&space, &node, &text)?,
                _ => {
                    let (parent, name) = resolve::parent_and_name(&library, &path)?;
                    engine.create_note(&space, parent, name, &text)?;
                }
            }
            finish(&mut engine, offline).await
        }
        Command::Mv { space, from, to } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let node = resolve::node(&library, &from, false)?.ok_or(Problem::TopDoesNotMove)?;
            let current = library.node(&node).ok_or(Problem::NoItemAt { path: &from })?;
            let into_folder = resolve::node(&library, &to, false)
                .ok()
                .flatten()
                .filter(|n| library.node(n).is_some_and(|v| v.kind == NodeKind::Folder));
            let (parent, name) = match into_folder {
                Some(folder) => (Some(folder), current.name.as_str()),
                None => resolve::parent_and_name(&library, &to)?,
            };
            if parent != current.parent {
                engine.move_node(&space, &node, parent)?;
            }
            if name != current.name {
                engine.rename_node(&space, &node, name)?;
            }
            finish(&mut engine, offline).await
        }
        Command::Rm { space, path } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let node = resolve::node(&library, &path, false)?.ok_or(Problem::TopNotTrashed)?;
            engine.trash_node(&space, &node)?;
            finish(&mut engine, offline).await
        }
        Command::Restore { space, path } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let node = resolve::node(&library, &path, true)?.ok_or(Problem::TrashedPath)?;
            engine.restore_node(&space, &node)?;
            finish(&mut engine, offline).await
        }
        _ => Ok(()),
    }
}

async fn put(
    dir: &std::path::Path,
    offline: bool,
    space: &str,
    local: &std::path::Path,
    path: &str,
) -> Result<(), CliError> {
    use huisclos_core::library::NodeKind;
    let mut engine = profile::open(dir)?;
    online::sync_quietly(&mut engine, offline).await?;
    let space = resolve::space_id(&engine, space)?;
    let library = engine.library(&space)?;
    let local_name = local
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::from(Problem::NoUsableFileName { path: &local.display().to_string() }))?;
    let existing = resolve::node(&library, path, false).ok().flatten().and_then(|n| library.node(&n));
    let (parent, name, version_of) = match existing {
        Some(view) if view.kind == NodeKind::File => (view.parent, view.name.clone(), Some(view.id)),
        Some(view) if view.kind == NodeKind::Folder => (Some(view.id), local_name.to_owned(), None),
        Some(_) => return Err(Problem::IsANote { path }.into()),
        None if path.trim_matches('/').is_empty() => (None, local_name.to_owned(), None),
        None => {
            let (parent, name) = resolve::parent_and_name(&library, path)?;
            (parent, name.to_owned(), None)
        }
    };
    let node = engine.put_file(&space, parent, &name, version_of, local)?;
    transfer(&mut engine, offline, node).await
}

async fn get(
    dir: &std::path::Path,
    offline: bool,
    space: &str,
    path: &str,
    local: &std::path::Path,
) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    online::sync_quietly(&mut engine, offline).await?;
    let space = resolve::space_id(&engine, space)?;
    let library = engine.library(&space)?;
    let node = resolve::node(&library, path, false)?.ok_or(Problem::FilePath)?;
    engine.get_file(&space, &node, None, local)?;
    transfer(&mut engine, offline, node).await
}

/// Drives a transfer with a progress bar until it finishes, or says it waits.
async fn transfer(engine: &mut Engine, offline: bool, node: [u8; 16]) -> Result<(), CliError> {
    use huisclos_core::engine::ClientEvent;
    let Some(connection) = online::connect(engine, offline).await? else {
        println!("{}", Say::Queued);
        return Ok(());
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut finished = false;
    let outcome = async {
        connection.drive(engine).await?;
        loop {
            while let Some(event) = engine.poll_event() {
                match event {
                    ClientEvent::Transfer { node: n, done, total, finished: done_now, .. } if n == node => {
                        bar.set_length(total);
                        bar.set_position(done);
                        finished |= done_now;
                    }
                    ClientEvent::SecurityWarning { warning, .. } => {
                        eprintln!("{} {}", word::security(), text::describe(&warning))
                    }
                    ClientEvent::Rejected { reason, .. } => {
                        eprintln!("{} {}", word::refused(), text::describe(&reason))
                    }
                    _ => {}
                }
            }
            if finished || engine.pending_transfers()? == (0, 0) {
                return Ok::<(), CliError>(());
            }
            if !connection.wait_and_drive(engine, Duration::from_millis(500)).await? && engine.poll_timeout().is_some()
            {
                // The relay refused something for now: the transfer stays queued.
                return Ok(());
            }
        }
    }
    .await;
    bar.finish_and_clear();
    // Publishing the file after its last chunk is itself sent.
    connection.drive(engine).await?;
    connection.close(engine);
    outcome?;
    if finished {
        println!("{}", Say::Done);
    } else {
        println!("{}", Say::Queued);
    }
    Ok(())
}

async fn space(dir: &std::path::Path, offline: bool, command: SpaceCommand) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    match command {
        SpaceCommand::Create { name, description, policy, no_history } => {
            let history = if no_history { HistoryMode::None } else { HistoryMode::Keep };
            let id =
                engine.create_space(SpaceName::new(&name)?, SpaceDescription::new(description)?, policy, history)?;
            println!("{}", Say::SpaceCreated { id: &text::short(id.as_bytes()), name: &name });
            finish(&mut engine, offline).await
        }
        SpaceCommand::List { json } => {
            if !offline && !json {
                online::sync(&mut engine, offline).await?;
            }
            let spaces = engine.spaces();
            if json {
                for s in &spaces {
                    let line = serde_json::json!({
                        "id": hex::encode(s.id.as_bytes()),
                        "name": s.name,
                        "description": s.description,
                        // Machine-readable: the same words in every language.
                        "policy": json_policy(s.policy),
                        "history": json_history(s.history),
                        "role": s.my_role.name(),
                        "unread": s.unread,
                        "removed": s.removed,
                        "stalled": s.stalled,
                        "replaced_by": s.replaced_by.map(|g| hex::encode(g.as_bytes())),
                        "muted": s.muted,
                    });
                    println!("{line}");
                }
            } else if spaces.is_empty() {
                println!("{}", Say::NothingHere);
            } else {
                for s in &spaces {
                    let mut state = Vec::new();
                    if s.unread > 0 {
                        state.push(word::unread(s.unread));
                    }
                    if s.removed {
                        state.push(word::left());
                    }
                    if s.stalled {
                        state.push(word::stalled());
                    }
                    if s.muted {
                        state.push(word::muted());
                    }
                    println!(
                        "{}  {}  ({}, {}, {}){}",
                        text::short(s.id.as_bytes()),
                        s.name,
                        text::policy(s.policy),
                        text::history(s.history),
                        word::your_role(&text::role(s.my_role)),
                        if state.is_empty() { String::new() } else { format!("  {}", state.join(", ")) }
                    );
                }
            }
            Ok(())
        }
        SpaceCommand::Members { space } => {
            let space = resolve::space_id(&engine, &space)?;
            for member in engine.members(&space)? {
                println!(
                    "{}  {}  {}  ({})",
                    member.identity.short(),
                    member.name,
                    text::role(member.role),
                    word::devices(member.devices.len())
                );
            }
            Ok(())
        }
        SpaceCommand::Invite { space, card, role } => {
            let space = resolve::space_id(&engine, &space)?;
            let card = ContactCard::from_text(&card)?;
            engine.invite(&space, &card, role)?;
            let name = card.name().map(ToString::to_string).unwrap_or_default();
            println!("{}", Say::Invited { name: &name });
            finish(&mut engine, offline).await
        }
        SpaceCommand::Accept { space } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.accept_invitation(&space)?;
            online::sync(&mut engine, offline).await?;
            Ok(())
        }
        SpaceCommand::Card { space } => {
            let space = resolve::space_id(&engine, &space)?;
            println!("{}", engine.space_card(&space)?.to_text());
            Ok(())
        }
        SpaceCommand::Request { card, note } => {
            let card = SpaceCard::from_text(&card)?;
            engine.request_to_join(&card, &note)?;
            println!("{}", Say::RequestSent { space: card.body.name.as_str() });
            finish(&mut engine, offline).await
        }
        SpaceCommand::Requests { space } => {
            online::sync(&mut engine, offline).await?;
            let space = resolve::space_id(&engine, &space)?;
            let requests = engine.join_requests(&space)?;
            if requests.is_empty() {
                println!("{}", Say::NothingHere);
            }
            for request in requests {
                println!("{}  {}  \"{}\"", request.identity.short(), request.name, request.note);
            }
            Ok(())
        }
        SpaceCommand::Approve { space, person, role } => {
            let space = resolve::space_id(&engine, &space)?;
            let people: Vec<_> = engine.join_requests(&space)?.into_iter().map(|r| (r.identity, r.name)).collect();
            let person = resolve::person(&people, &person)?;
            engine.approve_request(&space, &person, role)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Decline { space, person } => {
            let space = resolve::space_id(&engine, &space)?;
            let people: Vec<_> = engine.join_requests(&space)?.into_iter().map(|r| (r.identity, r.name)).collect();
            let person = resolve::person(&people, &person)?;
            engine.decline_request(&space, &person)?;
            println!("{}", Say::Done);
            Ok(())
        }
        SpaceCommand::Leave { space } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.leave(&space)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Readmit { space, card } => {
            let space = resolve::space_id(&engine, &space)?;
            let card = ContactCard::from_text(&card)?;
            engine.readmit(&space, &card)?;
            let name = card.name().map(ToString::to_string).unwrap_or_default();
            println!("{}", Say::Readmitted { name: &name });
            finish(&mut engine, offline).await
        }
        SpaceCommand::Remove { space, person } => {
            let space = resolve::space_id(&engine, &space)?;
            let person = resolve::member(&engine, &space, &person)?;
            engine.remove(&space, &person)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Role { space, person, role } => {
            let space = resolve::space_id(&engine, &space)?;
            let person = resolve::member(&engine, &space, &person)?;
            engine.set_role(&space, &person, role)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Rename { space, name } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.rename(&space, SpaceName::new(name)?)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Describe { space, description } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.describe(&space, SpaceDescription::new(description)?)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Mute { space } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.set_muted(&space, true)?;
            println!("{}", Say::Done);
            Ok(())
        }
        SpaceCommand::Unmute { space } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.set_muted(&space, false)?;
            println!("{}", Say::Done);
            Ok(())
        }
        SpaceCommand::Recreate { space } => {
            let space = resolve::space_id(&engine, &space)?;
            let successor = engine.recreate_space(&space)?;
            let name = engine.spaces().into_iter().find(|s| s.id == successor).map(|s| s.name).unwrap_or_default();
            println!("{}", Say::SpaceCreated { id: &text::short(successor.as_bytes()), name: &name });
            finish(&mut engine, offline).await
        }
    }
}

async fn devices(dir: &std::path::Path, offline: bool, command: DevicesCommand) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    match command {
        DevicesCommand::List => {
            for (i, device) in engine.devices().iter().enumerate() {
                let this = if i == 0 { format!("  {}", word::this_device()) } else { String::new() };
                println!("{}  {}{this}", text::short(device.body.device.as_bytes()), device.body.name);
            }
            Ok(())
        }
        DevicesCommand::Link => {
            let offer = engine.link_offer()?;
            println!("{}", offer.to_text());
            eprintln!("{}", Say::LinkOfferShown);
            Ok(())
        }
        DevicesCommand::RestoreKey { lost } => {
            let this = engine.device_id();
            let others: Vec<_> = engine.devices().into_iter().filter(|c| c.body.device != this).collect();
            let typed = lost.trim().to_ascii_lowercase();
            let matching: Vec<_> = others
                .iter()
                .filter(|c| {
                    c.body.name.as_str().eq_ignore_ascii_case(&typed)
                        || (typed.len() >= 4 && hex::encode(c.body.device.as_bytes()).starts_with(&typed))
                })
                .collect();
            let [certificate] = matching.as_slice() else {
                return Err(Problem::DevicesMatch { count: matching.len(), typed: &lost }.into());
            };
            let device = certificate.body.device;
            let name = certificate.body.name.to_string();
            let words = profile::recovery_words()?;
            engine.restore_identity_key(&words, &[device])?;
            println!("{}", Say::DeviceRevoked { name: &name });
            println!("{}", Say::IdentityKeyReplaced);
            finish(&mut engine, offline).await
        }
        DevicesCommand::Revoke { device } => {
            let this = engine.device_id();
            let others: Vec<_> = engine.devices().into_iter().filter(|c| c.body.device != this).collect();
            let typed = device.trim().to_ascii_lowercase();
            let matching: Vec<_> = others
                .iter()
                .filter(|c| {
                    c.body.name.as_str().eq_ignore_ascii_case(&typed)
                        || (typed.len() >= 4 && hex::encode(c.body.device.as_bytes()).starts_with(&typed))
                })
                .collect();
            let [certificate] = matching.as_slice() else {
                return Err(Problem::DevicesMatch { count: matching.len(), typed: &device }.into());
            };
            let name = certificate.body.name.to_string();
            engine.revoke_device(&certificate.body.device)?;
            println!("{}", Say::DeviceRevoked { name: &name });
            finish(&mut engine, offline).await
        }
        DevicesCommand::Approve { request, yes } => {
            let request = LinkRequest::from_text(&request)?;
            let name = request.body.name.to_string();
            let code = engine.link_confirmation_code(&request)?;
            if !yes {
                print!("{}", Say::LinkConfirm { name: &name, code: &code });
                std::io::stdout().flush()?;
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if answer.trim() != word::YES {
                    println!("{}", Say::LinkDeclined);
                    return Ok(());
                }
            }
            engine.approve_link(&request)?;
            println!("{}", Say::LinkApproved { name: &name });
            finish(&mut engine, offline).await
        }
    }
}

/// The new device's side of linking: shows its request, then waits at the relay for
/// the grant and becomes a full device of the person.
async fn link_this_device(dir: &std::path::Path, name: &str, offer: &str, wait: u64) -> Result<(), CliError> {
    let mut linker = if huisclos_core::vault::Vault::exists(dir) {
        // An earlier run was interrupted: resume it.
        Linker::load(profile::open_vault(dir)?)?
    } else {
        let offer = LinkOffer::from_text(offer)?;
        Linker::create(profile::create_vault(dir)?, offer, DisplayName::new(name)?)?
    };
    let request = linker.request();
    println!("{}", request.to_text());
    eprintln!("{}", Say::LinkRequestShown { code: &linker.confirmation_code() });
    eprintln!("{}", Say::LinkWaiting);
    let endpoint = linker.offer().relay.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        if let Ok(addresses) = endpoint.resolve()
            && let Ok(connection) = Connection::open(&mut linker, &addresses, endpoint.spki_pin()).await
        {
            let driven = connection.drive(&mut linker).await;
            connection.close(&mut linker);
            if driven.is_ok() && linker.status() == LinkStatus::Linked {
                break;
            }
        }
        if let Some(refusal) = linker.take_refusal() {
            // Something sent in the approval's place did not open or verify; the real
            // grant may still come.
            eprintln!("{} {}", word::refused(), text::describe(&refusal));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Problem::NotApprovedInTime.into());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut engine = linker.take_engine().ok_or(Problem::LinkWithoutEngine)?;
    online::sync(&mut engine, false).await?;
    println!("{}", Say::Linked { name: engine.name().as_str() });
    Ok(())
}

/// A policy's name in `--json` output: the same in every language.
fn json_policy(policy: huisclos_core::space::Policy) -> &'static str {
    match policy {
        huisclos_core::space::Policy::Open => "open",
        huisclos_core::space::Policy::OnRequest => "on request",
        huisclos_core::space::Policy::Confidential => "confidential",
    }
}

/// A history mode's name in `--json` output: the same in every language.
fn json_history(history: huisclos_core::space::HistoryMode) -> &'static str {
    match history {
        huisclos_core::space::HistoryMode::Keep => "history kept",
        huisclos_core::space::HistoryMode::None => "no history",
    }
}
