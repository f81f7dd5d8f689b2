//! Every sentence the CLI shows a person, in one place, so that translations can plug in
//! here later without touching the commands: what it says ([`Say`]), why a command cannot
//! be done ([`Problem`]), what it asks ([`Prompt`]), the words of its listings
//! ([`word`]) and its lines for the engine's events ([`event`]). The `--help` texts come
//! from the command definitions; errors from the engine carry the engine's own words. Nothing here prints content or secrets
//! except where the person asked for them (their own feed, their own contact card).

use huisclos_core::engine::{ClientEvent, NotificationKind};
use huisclos_core::space::{HistoryMode, Policy, Role};

/// Something the CLI says.
pub(crate) enum Say<'a> {
    ProfileCreated { dir: &'a str },
    Joined { account: &'a str },
    Queued,
    Offline { why: &'a str },
    SyncDone { spaces: usize, outbox: usize },
    SpaceCreated { id: &'a str, name: &'a str },
    Invited { name: &'a str },
    ItemQueued { id: &'a str },
    NothingHere,
    LinkOfferShown,
    LinkRequestShown { code: &'a str },
    LinkConfirm { name: &'a str, code: &'a str },
    LinkApproved { name: &'a str },
    LinkDeclined,
    LinkWaiting,
    Linked { name: &'a str },
    Watching,
    Verified { name: &'a str },
    KeyAccepted { name: &'a str },
    SafetyNumber { name: &'a str, number: &'a str },
    RequestSent { space: &'a str },
    DuressSet,
    DeleteKeepsRelayCopy,
    IdentityKeyReplaced,
    DeviceRevoked { name: &'a str },
    WipeConfirm,
    WipeDeclined,
    Recovered { identity: &'a str },
    RecoveryWordsConfirm,
    RecoveryWordsShown,
    Readmitted { name: &'a str },
    Wiped,
    Done,
}

impl std::fmt::Display for Say<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Say::ProfileCreated { dir } => {
                write!(f, "Profile created in {dir}. Join a relay next: huisclos join INVITATION")
            }
            Say::Joined { account } => write!(f, "Joined the relay; account {account}."),
            Say::Queued => write!(f, "Saved; it will be sent at the next sync."),
            Say::Offline { why } => write!(f, "Offline ({why}); everything stays queued for the next sync."),
            Say::SyncDone { spaces, outbox } => {
                write!(f, "Up to date: {spaces} space(s), {outbox} item(s) waiting to be sent.")
            }
            Say::SpaceCreated { id, name } => write!(f, "Space \"{name}\" created ({id})."),
            Say::Invited { name } => write!(f, "Invitation for {name} queued."),
            Say::ItemQueued { id } => write!(f, "Item {id} saved."),
            Say::NothingHere => write!(f, "Nothing here yet."),
            Say::LinkOfferShown => write!(
                f,
                "Show this offer to the new device (huisclos init --name NAME --link OFFER there), then approve \
                 its request here with: huisclos devices approve REQUEST"
            ),
            Say::LinkRequestShown { code } => write!(
                f,
                "Approve this request on your existing device (huisclos devices approve REQUEST). \
                 Both devices show the confirmation code {code}."
            ),
            Say::LinkConfirm { name, code } => {
                write!(f, "Link the device \"{name}\" with confirmation code {code}? Type yes to approve: ")
            }
            Say::LinkApproved { name } => write!(f, "Device \"{name}\" approved; it receives your identity now."),
            Say::LinkDeclined => write!(f, "Not approved; nothing was sent."),
            Say::LinkWaiting => write!(f, "Waiting for the approval…"),
            Say::Linked { name } => write!(f, "This device is now linked to {name}'s identity."),
            Say::Watching => write!(f, "Watching for new events (Ctrl-C to stop)…"),
            Say::Verified { name } => write!(f, "{name} is marked verified."),
            Say::KeyAccepted { name } => {
                write!(f, "The new identity key of {name} is accepted (unverified: compare safety numbers).")
            }
            Say::SafetyNumber { name, number } => {
                write!(
                    f,
                    "Safety number with {name} (compare it with theirs, in person or by a trusted call):\n{number}"
                )
            }
            Say::RequestSent { space } => write!(f, "Request to join \"{space}\" sent; you join once it is approved."),
            Say::DeviceRevoked { name } => {
                write!(f, "Device \"{name}\" revoked: the relay refuses it, and it is removed from your spaces.")
            }
            Say::IdentityKeyReplaced => write!(
                f,
                "Your identity key was replaced; your contacts are told, and should compare safety numbers with \
                 you again. Write down your new recovery words: huisclos recovery-words"
            ),
            Say::DeleteKeepsRelayCopy => write!(
                f,
                "Note: the item is deleted from members' feeds, not from the relay, where it stays sealed and \
                 readable by every member."
            ),
            Say::DuressSet => write!(
                f,
                "Duress passphrase set. Given instead of yours, it destroys this profile and opens the decoy made now."
            ),
            Say::WipeConfirm => {
                write!(f, "This destroys the profile for good: nothing in it can be read again. Type WIPE to go on: ")
            }
            Say::WipeDeclined => write!(f, "Nothing was wiped."),
            Say::Wiped => write!(f, "The profile is destroyed."),
            Say::Recovered { identity } => write!(
                f,
                "Identity {identity} restored on this new device. Join the relay with a new invitation \
                 (huisclos join INVITATION), then hand your contact card (huisclos whoami) to a manager \
                 of each of your spaces: they re-admit you with huisclos space readmit."
            ),
            Say::RecoveryWordsConfirm => write!(
                f,
                "Anyone who reads these words can become you. Make sure no one and no camera sees the \
                 screen. Show them? Type yes: "
            ),
            Say::RecoveryWordsShown => write!(
                f,
                "Write these 24 words on paper, in order, and keep them away from this device. With a new \
                 invitation they restore your identity on a new device (huisclos init --recover)."
            ),
            Say::Readmitted { name } => {
                write!(f, "{name} will be re-admitted: their old devices removed, their new one added.")
            }
            Say::Done => write!(f, "Done."),
        }
    }
}

/// A role's name as typed and shown.
pub(crate) fn role(role: Role) -> &'static str {
    role.name()
}

/// A policy's name as typed and shown.
pub(crate) fn policy(policy: Policy) -> &'static str {
    match policy {
        Policy::Open => "open",
        Policy::OnRequest => "on request",
        Policy::Confidential => "confidential",
    }
}

/// A history mode's name as shown.
pub(crate) fn history(history: HistoryMode) -> &'static str {
    match history {
        HistoryMode::Keep => "history kept",
        HistoryMode::None => "no history",
    }
}

/// One line for an engine event, or `None` for those not worth a line.
/// `space_name` names a space by id; `item_text` reads an item's text for new content.
pub(crate) fn event(
    event: &ClientEvent,
    space_name: &dyn Fn(&huisclos_protocol::ids::GroupId) -> String,
    item_line: &dyn Fn(&huisclos_protocol::ids::GroupId, &huisclos_protocol::ids::ContentId) -> Option<String>,
) -> Option<String> {
    Some(match event {
        ClientEvent::Online | ClientEvent::Delivered(_) | ClientEvent::SpaceChanged(_) => return None,
        ClientEvent::AccountCreated(_) => "Account created.".to_owned(),
        ClientEvent::Invited { space, name, by } => {
            format!("{by} invited you to \"{name}\". Accept with: huisclos space accept {}", short(space.as_bytes()))
        }
        ClientEvent::Joined(space) => format!("You are in \"{}\".", space_name(space)),
        ClientEvent::RemovedFromSpace(space) => format!("You are no longer in \"{}\".", space_name(space)),
        ClientEvent::Recreated { stalled, successor } => format!(
            "\"{}\" was recreated without the member who stalled it; it continues as {}.",
            space_name(stalled),
            short(successor.as_bytes())
        ),
        ClientEvent::Content { space, item } => item_line(space, item)?,
        ClientEvent::Transfer { finished: false, .. } => return None,
        ClientEvent::Transfer { space, direction, total, .. } => match direction {
            huisclos_core::transfer::Direction::Upload => {
                format!("A file of {total} bytes is uploaded to \"{}\".", space_name(space))
            }
            huisclos_core::transfer::Direction::Download => {
                format!("A file of {total} bytes is downloaded from \"{}\".", space_name(space))
            }
        },
        ClientEvent::LibraryChanged(space) => format!("The library of \"{}\" changed.", space_name(space)),
        ClientEvent::Notify { space, kind, from, .. } => {
            let what = match kind {
                NotificationKind::Post => "posted",
                NotificationKind::Reply => "answered you",
                NotificationKind::Reaction => "reacted to your item",
            };
            format!("! {from} {what} in \"{}\"", space_name(space))
        }
        ClientEvent::JoinRequested { space, name, identity, admitted: true } => {
            format!("{name} ({}) asked to join \"{}\" and was admitted.", identity.short(), space_name(space))
        }
        ClientEvent::JoinRequested { space, name, identity, admitted: false } => format!(
            "{name} ({}) asks to join \"{}\". Decide with: huisclos space requests {}",
            identity.short(),
            space_name(space),
            short(space.as_bytes())
        ),
        ClientEvent::IdentityChanged { name, previous, current, was_verified, .. } => format!(
            "SECURITY: the identity key of {name} changed ({} -> {}){}. Nothing is done with the new key until you \
             compare safety numbers and run: huisclos accept-key {name}",
            previous.short(),
            current.short(),
            if *was_verified { "; the old key was verified" } else { "" }
        ),
        ClientEvent::DeviceAdded { space, name, device, .. } => format!(
            "A new device of {name} ({}) joined \"{}\": it reads everything there from now on.",
            short(device.as_bytes()),
            space_name(space)
        ),
        ClientEvent::IdentityRotated { name, previous, current, .. } => format!(
            "SECURITY: {name} replaced their identity key ({} -> {}), with a transition signed by the old key. \
             Compare safety numbers with them again before trusting it.",
            previous.short(),
            current.short()
        ),
        ClientEvent::DeliveryWaiting { space, reason } => format!("In \"{}\": {reason}.", space_name(space)),
        ClientEvent::Rejected { reason, .. } => format!("refused: {reason}"),
        ClientEvent::SecurityWarning { space, warning } => match space {
            Some(space) => format!("SECURITY in \"{}\": {warning}", space_name(space)),
            None => format!("SECURITY: {warning}"),
        },
    })
}

/// The first eight hex digits of an id: what the CLI shows and accepts as a prefix.
pub(crate) fn short(bytes: &[u8]) -> String {
    hex::encode(bytes).chars().take(8).collect()
}

/// Why a command cannot be done as typed.
pub(crate) enum Problem<'a> {
    NotAnInvitation { error: &'a str },
    NotePath,
    NotANote { path: &'a str },
    TopDoesNotMove,
    NoItemAt { path: &'a str },
    TopNotTrashed,
    TrashedPath,
    NoUsableFileName { path: &'a str },
    IsANote { path: &'a str },
    FilePath,
    DevicesMatch { count: usize, typed: &'a str },
    NotApprovedInTime,
    NoRecoveryWords { var: &'a str },
    LinkWithoutEngine,
    NoMatch { what: &'a str, typed: &'a str },
    ManyMatch { count: usize, what: &'a str, typed: &'a str },
    NotAnItemId { typed: &'a str },
    PathEndsWithName,
    NoProfileDirectory,
    NotUtf8 { var: &'a str },
    NoPassphrase { var: &'a str },
    NoDuressPassphrase { var: &'a str },
    PassphrasesDiffer,
    PassphraseTooWeak { suggestion: &'a str },
    ProfileExists { dir: &'a str },
    NoProfileIn { dir: &'a str },
    WaitsToBeLinked,
    NoRelay,
    UnknownPolicy { typed: &'a str },
}

impl std::fmt::Display for Problem<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotAnInvitation { error } => write!(f, "not an invitation: {error}"),
            Problem::NotePath => write!(f, "give a note's path"),
            Problem::NotANote { path } => write!(f, "{path} is not a note"),
            Problem::TopDoesNotMove => write!(f, "the top of the library does not move"),
            Problem::NoItemAt { path } => write!(f, "no item at {path}"),
            Problem::TopNotTrashed => write!(f, "the top of the library is not trashed"),
            Problem::TrashedPath => write!(f, "give a trashed item's path"),
            Problem::NoUsableFileName { path } => write!(f, "{path} has no usable file name"),
            Problem::IsANote { path } => write!(f, "{path} is a note, not a file"),
            Problem::FilePath => write!(f, "give a file's path"),
            Problem::DevicesMatch { count, typed } => {
                write!(f, "{count} of your other devices match \"{typed}\": use the id from huisclos devices list")
            }
            Problem::NotApprovedInTime => write!(f, "not approved in time; run the same command again to keep waiting"),
            Problem::NoRecoveryWords { var } => {
                write!(f, "no recovery words given: type them when asked, or set {var} in scripts")
            }
            Problem::LinkWithoutEngine => write!(f, "the link finished, but the device is not ready: run it again"),
            Problem::NoMatch { what, typed } => write!(f, "no {what} matches \"{typed}\""),
            Problem::ManyMatch { count, what, typed } => {
                write!(f, "{count} {what}s match \"{typed}\": type more of the id")
            }
            Problem::NotAnItemId { typed } => write!(f, "\"{typed}\" is not an item id (at least 4 hex digits)"),
            Problem::PathEndsWithName => write!(f, "a path ends with a name"),
            Problem::NoProfileDirectory => {
                write!(f, "no profile directory: pass --profile DIR or set HUISCLOS_PROFILE")
            }
            Problem::NotUtf8 { var } => write!(f, "{var} is not valid UTF-8"),
            Problem::NoPassphrase { var } => write!(f, "no passphrase: type it on a terminal or set {var}"),
            Problem::NoDuressPassphrase { var } => write!(f, "no duress passphrase: type it or set {var}"),
            Problem::PassphrasesDiffer => write!(f, "the two passphrases differ; nothing was changed"),
            Problem::PassphraseTooWeak { suggestion } => write!(
                f,
                "this passphrase is too short or too easy to guess: use at least {} characters, several \
                 unrelated words. Six random words are strong, for example: {suggestion}",
                huisclos_core::vault::Passphrase::MIN_CHARS
            ),
            Problem::ProfileExists { dir } => write!(f, "a profile already exists in {dir}"),
            Problem::NoProfileIn { dir } => write!(f, "no profile in {dir}: create one with huisclos init --name NAME"),
            Problem::WaitsToBeLinked => {
                write!(f, "this device waits to be linked: run huisclos init --link again to finish, once approved")
            }
            Problem::NoRelay => write!(f, "this profile has joined no relay: run huisclos join INVITATION"),
            Problem::UnknownPolicy { typed } => {
                write!(f, "unknown policy {typed:?}: use open, on-request or confidential")
            }
        }
    }
}

impl From<Problem<'_>> for crate::CliError {
    fn from(problem: Problem<'_>) -> Self {
        crate::CliError::Usage(problem.to_string())
    }
}

/// What the terminal asks for.
pub(crate) enum Prompt {
    Passphrase,
    NewPassphrase,
    SamePassphrase,
    DuressPassphrase,
    SameDuressPassphrase,
    RecoveryWords,
}

impl Prompt {
    /// The prompt's text.
    pub(crate) fn text(&self) -> &'static str {
        match self {
            Prompt::Passphrase => "Passphrase: ",
            Prompt::NewPassphrase => "New passphrase: ",
            Prompt::SamePassphrase => "Same passphrase again: ",
            Prompt::DuressPassphrase => "Duress passphrase: ",
            Prompt::SameDuressPassphrase => "Same duress passphrase again: ",
            Prompt::RecoveryWords => "Your 24 recovery words, separated by spaces: ",
        }
    }
}

/// Words used in listings.
pub(crate) mod word {
    pub(crate) const NAME: &str = "name:    ";
    pub(crate) const IDENTITY: &str = "identity:";
    pub(crate) const ACCOUNT: &str = "account: ";
    pub(crate) const DEVICE: &str = "device:  ";
    pub(crate) const CARD: &str = "card:    ";
    pub(crate) const KEY_CHANGED: &str = "KEY CHANGED";
    pub(crate) const VERIFIED: &str = "verified";
    pub(crate) const NOT_VERIFIED: &str = "not verified";
    pub(crate) const UNREAD: &str = "unread";
    pub(crate) const LEFT: &str = "left";
    pub(crate) const STALLED: &str = "stalled";
    pub(crate) const MUTED: &str = "muted";
    pub(crate) const YOU: &str = "you";
    pub(crate) const EDITED: &str = "(edited)";

    /// An item whose text a content manager replaced: the text is theirs.
    pub(crate) fn replaced_by(moderator: &str) -> String {
        format!("(text replaced by {moderator}, content manager)")
    }

    /// An item a content manager removed.
    pub(crate) fn removed_by(moderator: &str) -> String {
        format!("(removed by {moderator}, content manager)")
    }
    pub(crate) const DELETED: &str = "(deleted)";
    pub(crate) const THIS_DEVICE: &str = "(this device)";
    pub(crate) const FOLDER: &str = "folder";
    pub(crate) const FILE: &str = "file";
    pub(crate) const NOTE: &str = "note";
    pub(crate) const BYTES: &str = "bytes";
    pub(crate) const VERSIONS: &str = "version(s)";
    pub(crate) const DEVICE_ONE: &str = "device";
    pub(crate) const DEVICES: &str = "devices";
    pub(crate) const SECURITY: &str = "SECURITY:";
    pub(crate) const REFUSED: &str = "refused:";
    pub(crate) const YES: &str = "yes";
    pub(crate) const WIPE: &str = "WIPE";
}
