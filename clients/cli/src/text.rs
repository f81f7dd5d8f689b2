//! Every sentence the CLI shows a person, rendered from the shared Fluent messages
//! (`huisclos-l10n`) in the language chosen by `--lang`, `LC_ALL`, `LC_MESSAGES` or
//! `LANG`: what it says ([`Say`]), why a command cannot be done ([`Problem`]), what it
//! asks ([`Prompt`]), the words of its listings ([`word`]) and its lines for the
//! engine's events ([`event`]). The `--help` texts come from the command definitions
//! and stay English. Nothing here prints content or secrets except where the person
//! asked for them (their own feed, their own contact card).

use huisclos_core::engine::ClientEvent;
use huisclos_core::space::{HistoryMode, Policy, Role};
use huisclos_l10n::{Describe, Direction, Language, Localizer, Message};
use huisclos_protocol::ids::{ContentId, GroupId};
use std::sync::OnceLock;

static LOCALIZER: OnceLock<Localizer> = OnceLock::new();

/// Chooses the language of everything the CLI says, once, before it says anything.
///
/// Arguments are isolated (FSI … PDI) only in a right-to-left language: a terminal
/// does not lay text out by the bidi algorithm, so in a left-to-right language the
/// marks would only show as gaps, while a bidi-aware terminal showing Arabic needs
/// them to keep a Latin name in its place.
pub(crate) fn set_language(language: Language) {
    let isolating = language.direction() == Direction::RightToLeft;
    let _ = LOCALIZER.set(Localizer::with_isolation(language, isolating));
}

/// The CLI's localizer (English until [`set_language`] chose another language).
pub(crate) fn localizer() -> &'static Localizer {
    LOCALIZER.get_or_init(|| Localizer::with_isolation(Language::English, false))
}

/// Renders `message` in the CLI's language.
pub(crate) fn render(message: &Message) -> String {
    localizer().render(message)
}

/// What a typed value of the core (an error, a reason, a role) says.
pub(crate) fn describe(value: &(impl Describe + ?Sized)) -> String {
    localizer().describe(value)
}

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

impl Say<'_> {
    fn message(&self) -> Message {
        let m = Message::new;
        match *self {
            Say::ProfileCreated { dir } => m("cli-profile-created").with("dir", dir),
            Say::Joined { account } => m("cli-joined").with("account", account),
            Say::Queued => m("cli-queued"),
            Say::Offline { why } => m("cli-offline").with("why", why),
            Say::SyncDone { spaces, outbox } => m("cli-sync-done").with("spaces", spaces).with("outbox", outbox),
            Say::SpaceCreated { id, name } => m("cli-space-created").with("id", id).with("name", name),
            Say::Invited { name } => m("cli-invited").with("name", name),
            Say::ItemQueued { id } => m("cli-item-queued").with("id", id),
            Say::NothingHere => m("cli-nothing-here"),
            Say::LinkOfferShown => m("cli-link-offer-shown"),
            Say::LinkRequestShown { code } => m("cli-link-request-shown").with("code", code),
            Say::LinkConfirm { name, code } => m("cli-link-confirm").with("name", name).with("code", code),
            Say::LinkApproved { name } => m("cli-link-approved").with("name", name),
            Say::LinkDeclined => m("cli-link-declined"),
            Say::LinkWaiting => m("cli-link-waiting"),
            Say::Linked { name } => m("cli-linked").with("name", name),
            Say::Watching => m("cli-watching"),
            Say::Verified { name } => m("cli-verified").with("name", name),
            Say::KeyAccepted { name } => m("cli-key-accepted").with("name", name),
            Say::SafetyNumber { name, .. } => m("cli-safety-number").with("name", name),
            Say::RequestSent { space } => m("cli-request-sent").with("space", space),
            Say::DuressSet => m("cli-duress-set"),
            Say::DeleteKeepsRelayCopy => m("cli-delete-keeps-relay-copy"),
            Say::IdentityKeyReplaced => m("cli-identity-key-replaced"),
            Say::DeviceRevoked { name } => m("cli-device-revoked").with("name", name),
            Say::WipeConfirm => m("cli-wipe-confirm"),
            Say::WipeDeclined => m("cli-wipe-declined"),
            Say::Recovered { identity } => m("cli-recovered").with("identity", identity),
            Say::RecoveryWordsConfirm => m("cli-recovery-words-confirm"),
            Say::RecoveryWordsShown => m("cli-recovery-words-shown"),
            Say::Readmitted { name } => m("cli-readmitted").with("name", name),
            Say::Wiped => m("cli-wiped"),
            Say::Done => m("cli-done"),
        }
    }
}

impl std::fmt::Display for Say<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render(&self.message()))?;
        match self {
            // The number on a line of its own, to compare digit by digit.
            Say::SafetyNumber { number, .. } => write!(f, "\n{number}"),
            // A question: the answer is typed after a space on the same line.
            Say::LinkConfirm { .. } | Say::WipeConfirm | Say::RecoveryWordsConfirm => f.write_str(" "),
            _ => Ok(()),
        }
    }
}

/// A role's name as shown.
pub(crate) fn role(role: Role) -> String {
    describe(&role)
}

/// A policy's name as shown.
pub(crate) fn policy(policy: Policy) -> String {
    describe(&policy)
}

/// A history mode's name as shown.
pub(crate) fn history(history: HistoryMode) -> String {
    describe(&history)
}

/// One line for an engine event, or `None` for those not worth a line.
/// `space_name` names a space by id; `item_line` reads an item's line for new content.
pub(crate) fn event(
    event: &ClientEvent,
    space_name: &dyn Fn(&GroupId) -> String,
    item_line: &dyn Fn(&GroupId, &ContentId) -> Option<String>,
) -> Option<String> {
    if let ClientEvent::Content { space, item } = event {
        return item_line(space, item);
    }
    let message = huisclos_l10n::describe::event(event, space_name)?;
    let mut line = render(&message);
    // What the person can answer with, as a command.
    let hint = match event {
        ClientEvent::Invited { space, .. } => {
            Some(Message::new("cli-hint-accept-invitation").with("id", short(space.as_bytes())))
        }
        ClientEvent::JoinRequested { space, admitted: false, .. } => {
            Some(Message::new("cli-hint-decide-request").with("id", short(space.as_bytes())))
        }
        ClientEvent::IdentityChanged { name, .. } => Some(Message::new("cli-hint-accept-key").with("name", name)),
        _ => None,
    };
    if let Some(hint) = hint {
        line.push(' ');
        line.push_str(&render(&hint));
    }
    if matches!(event, ClientEvent::Notify { .. }) {
        line.insert_str(0, "! ");
    }
    Some(line)
}

/// A Unix time as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc_minute(unix: u64) -> String {
    huisclos_protocol::ids::UnixSeconds::new(unix).map_or_else(|_| unix.to_string(), |time| time.utc_minute())
}

/// The first eight hex digits of an id: what the CLI shows and accepts as a prefix.
pub(crate) fn short(bytes: &[u8]) -> String {
    huisclos_l10n::describe::short_id(bytes)
}

/// What is looked up by name or id prefix, for [`Problem::NoMatch`] and
/// [`Problem::ManyMatch`].
#[derive(Clone, Copy)]
pub(crate) enum Lookup {
    Space,
    Person,
    Item,
}

impl Lookup {
    fn key(self) -> &'static str {
        match self {
            Lookup::Space => "space",
            Lookup::Person => "person",
            Lookup::Item => "item",
        }
    }
}

/// Why a command cannot be done as typed.
pub(crate) enum Problem<'a> {
    NotAnInvitation { error: &'a str },
    NotePath,
    NotANote { path: &'a str },
    EditorFailed,
    TopDoesNotMove,
    NoItemAt { path: &'a str },
    NoSuchVersion { typed: &'a str, count: usize },
    TopNotTrashed,
    TrashedPath,
    NoUsableFileName { path: &'a str },
    IsANote { path: &'a str },
    FilePath,
    DevicesMatch { count: usize, typed: &'a str },
    NotApprovedInTime,
    NoRecoveryWords { var: &'a str },
    LinkWithoutEngine,
    NoMatch { what: Lookup, typed: &'a str },
    ManyMatch { count: usize, what: Lookup, typed: &'a str },
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
    UnknownLanguage { typed: &'a str },
}

impl Problem<'_> {
    fn message(&self) -> Message {
        let m = Message::new;
        match *self {
            Problem::NotAnInvitation { error } => m("cli-problem-not-an-invitation").with("error", error),
            Problem::NotePath => m("cli-problem-note-path"),
            Problem::NotANote { path } => m("cli-problem-not-a-note").with("path", path),
            Problem::EditorFailed => m("cli-problem-editor-failed"),
            Problem::TopDoesNotMove => m("cli-problem-top-does-not-move"),
            Problem::NoItemAt { path } => m("cli-problem-no-item-at").with("path", path),
            Problem::NoSuchVersion { typed, count } => {
                m("cli-problem-no-such-version").with("typed", typed).with("count", count as u64)
            }
            Problem::TopNotTrashed => m("cli-problem-top-not-trashed"),
            Problem::TrashedPath => m("cli-problem-trashed-path"),
            Problem::NoUsableFileName { path } => m("cli-problem-no-usable-file-name").with("path", path),
            Problem::IsANote { path } => m("cli-problem-is-a-note").with("path", path),
            Problem::FilePath => m("cli-problem-file-path"),
            Problem::DevicesMatch { count, typed } => {
                m("cli-problem-devices-match").with("count", count).with("typed", typed)
            }
            Problem::NotApprovedInTime => m("cli-problem-not-approved-in-time"),
            Problem::NoRecoveryWords { var } => m("cli-problem-no-recovery-words").with("var", var),
            Problem::LinkWithoutEngine => m("cli-problem-link-without-engine"),
            Problem::NoMatch { what, typed } => m("cli-problem-no-match").with("what", what.key()).with("typed", typed),
            Problem::ManyMatch { count, what, typed } => {
                m("cli-problem-many-match").with("count", count).with("what", what.key()).with("typed", typed)
            }
            Problem::NotAnItemId { typed } => m("cli-problem-not-an-item-id").with("typed", typed),
            Problem::PathEndsWithName => m("cli-problem-path-ends-with-name"),
            Problem::NoProfileDirectory => m("cli-problem-no-profile-directory"),
            Problem::NotUtf8 { var } => m("cli-problem-not-utf8").with("var", var),
            Problem::NoPassphrase { var } => m("cli-problem-no-passphrase").with("var", var),
            Problem::NoDuressPassphrase { var } => m("cli-problem-no-duress-passphrase").with("var", var),
            Problem::PassphrasesDiffer => m("cli-problem-passphrases-differ"),
            Problem::PassphraseTooWeak { suggestion } => m("cli-problem-passphrase-too-weak")
                .with("min", huisclos_core::vault::Passphrase::MIN_CHARS)
                .with("suggestion", suggestion),
            Problem::ProfileExists { dir } => m("cli-problem-profile-exists").with("dir", dir),
            Problem::NoProfileIn { dir } => m("cli-problem-no-profile-in").with("dir", dir),
            Problem::WaitsToBeLinked => m("cli-problem-waits-to-be-linked"),
            Problem::NoRelay => m("cli-problem-no-relay"),
            Problem::UnknownPolicy { typed } => m("cli-problem-unknown-policy").with("typed", typed),
            Problem::UnknownLanguage { typed } => m("cli-problem-unknown-language").with("typed", typed),
        }
    }
}

impl std::fmt::Display for Problem<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render(&self.message()))
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
    /// The prompt's text, with the space the answer follows.
    pub(crate) fn text(&self) -> String {
        let id = match self {
            Prompt::Passphrase => "cli-prompt-passphrase",
            Prompt::NewPassphrase => "cli-prompt-new-passphrase",
            Prompt::SamePassphrase => "cli-prompt-same-passphrase",
            Prompt::DuressPassphrase => "cli-prompt-duress-passphrase",
            Prompt::SameDuressPassphrase => "cli-prompt-same-duress-passphrase",
            Prompt::RecoveryWords => "cli-prompt-recovery-words",
        };
        format!("{} ", localizer().text(id))
    }
}

/// Words used in listings. The answers a person types (`yes`, `WIPE`) are part of the
/// command and the same in every language, as the prompts that ask for them say.
pub(crate) mod word {
    use super::{Message, localizer, render};

    pub(crate) const YES: &str = "yes";
    pub(crate) const WIPE: &str = "WIPE";

    /// The labels of `whoami`, padded to one width in the CLI's language.
    pub(crate) fn labels() -> [String; 5] {
        let labels = ["cli-word-name", "cli-word-identity", "cli-word-account", "cli-word-device", "cli-word-card"]
            .map(|id| localizer().text(id));
        let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        labels.map(|label| {
            let pad = width - label.chars().count();
            format!("{label}{}", " ".repeat(pad))
        })
    }
    pub(crate) fn key_changed() -> String {
        localizer().text("cli-word-key-changed")
    }
    pub(crate) fn verified() -> String {
        localizer().text("cli-word-verified")
    }
    pub(crate) fn not_verified() -> String {
        localizer().text("cli-word-not-verified")
    }
    pub(crate) fn unread(count: u32) -> String {
        render(&Message::new("cli-word-unread").with("count", count))
    }
    pub(crate) fn left() -> String {
        localizer().text("cli-word-left")
    }
    pub(crate) fn stalled() -> String {
        localizer().text("cli-word-stalled")
    }
    pub(crate) fn muted() -> String {
        localizer().text("cli-word-muted")
    }
    pub(crate) fn your_role(role: &str) -> String {
        render(&Message::new("cli-word-your-role").with("role", role))
    }
    pub(crate) fn edited() -> String {
        localizer().text("cli-word-edited")
    }
    /// An item whose text a content manager replaced: the text is theirs.
    pub(crate) fn replaced_by(moderator: &str) -> String {
        render(&Message::new("cli-word-replaced-by").with("name", moderator))
    }
    /// An item a content manager removed.
    pub(crate) fn removed_by(moderator: &str) -> String {
        render(&Message::new("cli-word-removed-by").with("name", moderator))
    }
    pub(crate) fn deleted() -> String {
        localizer().text("cli-word-deleted")
    }
    pub(crate) fn this_device() -> String {
        localizer().text("cli-word-this-device")
    }
    pub(crate) fn folder() -> String {
        localizer().text("cli-word-folder")
    }
    pub(crate) fn file() -> String {
        localizer().text("cli-word-file")
    }
    pub(crate) fn note() -> String {
        localizer().text("cli-word-note")
    }
    pub(crate) fn file_size(bytes: u64, versions: usize) -> String {
        render(&Message::new("cli-word-file-size").with("bytes", bytes).with("versions", versions))
    }
    pub(crate) fn devices(count: usize) -> String {
        render(&Message::new("cli-word-devices").with("count", count))
    }
    pub(crate) fn security() -> String {
        localizer().text("cli-word-security")
    }
    pub(crate) fn refused() -> String {
        localizer().text("cli-word-refused")
    }
}
