//! The command line: every command, subcommand and option, as clap parses them.
//! What each does is in [`crate::commands`].

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use huisclos_core::space::{Policy, Role};

use crate::text::Problem;

/// Huis Clos: end-to-end encrypted spaces for human-rights networks.
#[derive(Parser)]
#[command(name = "huisclos", version, about, long_about = None)]
pub(crate) struct Cli {
    /// The profile directory.
    #[arg(long, global = true, env = "HUISCLOS_PROFILE", value_name = "DIR")]
    pub(crate) profile: Option<PathBuf>,
    /// Do not contact the relay: work stays queued for the next sync.
    #[arg(long, global = true)]
    pub(crate) offline: bool,
    /// The language to speak: en, fr, de, ar or pt (by default the one LC_ALL,
    /// LC_MESSAGES or LANG names, else English).
    #[arg(long, global = true, value_name = "LANG")]
    pub(crate) lang: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// Edits a note in $VISUAL or $EDITOR (vi if neither is set): what you change is
    /// merged with what others typed meanwhile. The text is kept in a private file in
    /// $XDG_RUNTIME_DIR (memory, where the system has it) while the editor runs, and
    /// overwritten and removed after.
    EditNote {
        /// The space.
        space: String,
        /// The note's path.
        path: String,
    },
    /// Names a version of a note: its text as it is now, which every member can list,
    /// read and restore ("Before the hearing").
    NoteVersion {
        /// The space.
        space: String,
        /// The note's path.
        path: String,
        /// The version's name.
        name: String,
    },
    /// Lists a note's named versions, oldest first: id, when (UTC), who, name.
    NoteLog {
        /// The space.
        space: String,
        /// The note's path.
        path: String,
    },
    /// Restores a named version of a note (by the start of its id, from `note-log`), as
    /// a new edit: nothing earlier is lost, and what others typed elsewhere stays.
    NoteRestore {
        /// The space.
        space: String,
        /// The note's path.
        path: String,
        /// The version's id, or its first characters.
        version: String,
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
    /// An image (JPEG, PNG, WebP, GIF) loses its metadata first: where and when it was
    /// taken, the camera, comments; other kinds of image (HEIC, TIFF) are refused.
    Put {
        /// The space.
        space: String,
        /// The file on this computer.
        local: PathBuf,
        /// Where in the library: a folder, a new path, or an existing file (default: the
        /// top, under the file's own name).
        #[arg(default_value = "")]
        path: String,
        /// Keep an image's metadata (its GPS position, time and camera) as it is.
        #[arg(long)]
        keep_metadata: bool,
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
pub(crate) enum SpaceCommand {
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
pub(crate) enum DevicesCommand {
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
