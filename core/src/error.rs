//! The one error type of the client engine.

use huisclos_protocol::messages::RelayError;

/// What can go wrong in the client engine. Variants say what the caller can do; none
/// carries a secret or a plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The passphrase (or the keystore key) does not open this profile. Nothing changed.
    #[error("wrong passphrase: this profile does not open with it")]
    WrongPassphrase,
    /// The profile directory holds no profile.
    #[error("no profile at {0}")]
    NoProfile(String),
    /// A profile already exists where a new one was to be created.
    #[error("a profile already exists at {0}")]
    ProfileExists(String),
    /// The profile's files are damaged or were written by an unknown version: which
    /// record, and how (codes for a support person, not sentences).
    #[error("the profile is damaged: {0}")]
    CorruptProfile(Damage),
    /// A stored value failed authentication: the disk was tampered with or damaged.
    #[error("a stored value failed authentication")]
    StoreTampered,
    /// The local store could not be read or written.
    #[error("local store: {0}")]
    Store(StoreFailure),
    /// A file-system operation failed.
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    /// A certificate, signature or identity did not verify.
    #[error("verification failed: {0}")]
    Verification(Unverified),
    /// The operation is not allowed by the space's rules for this member.
    #[error("not allowed: {0}")]
    Forbidden(Refusal),
    /// A known person's account now shows another identity key. Nothing is done with
    /// the new key until the person compares safety numbers and accepts it.
    #[error("the identity key of {0} changed: compare safety numbers, then accept the new key")]
    IdentityChanged(String),
    /// The space is stalled on this device (a change its members refused was accepted
    /// by the relay, or it comes from a release whose history keys members chose): it
    /// takes no new content until a space manager recreates it.
    #[error("the space is stalled: a space manager recreates it")]
    SpaceStalled,
    /// No such space, member, post or device here.
    #[error("not found: {0}")]
    NotFound(Missing),
    /// The input was malformed or out of bounds, or the call makes no sense now.
    #[error("invalid input: {0}")]
    Invalid(InvalidInput),
    /// MLS refused an operation or a message (openmls's own account of it goes to the
    /// debug log, not into the error).
    #[error("MLS: {0}")]
    Mls(MlsFailure),
    /// Bytes from the relay or a peer did not decode.
    #[error("malformed data: {0}")]
    Decode(#[from] huisclos_protocol::Error),
    /// The relay refused a request.
    #[error("the relay refused: {0}")]
    Relay(RelayError),
    /// The relay could not be reached or the connection failed.
    #[error("connection: {0}")]
    Transport(TransportFailure),
    /// Recovery words that do not make an identity key. Carries positions and counts
    /// only, never a word.
    #[error("recovery words: {0}")]
    RecoveryWords(RecoveryWordsError),
    /// The engine has been shut down.
    #[error("the client is shut down")]
    Closed,
}

/// What was wrong with an input, or why a call makes no sense now, by field and
/// kind: what a client translates and shows. None carries the input itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// A text field too long, empty where it may not be, or holding control characters.
    #[error("a {field} has at most {max} bytes{} and no control characters", if *.may_be_empty { "" } else { ", is not empty" })]
    Text {
        /// Which.
        field: Field,
        /// Its most bytes.
        max: usize,
        /// Whether it may be empty.
        may_be_empty: bool,
    },
    /// More of something than allowed.
    #[error("at most {max} {limit}")]
    TooMany {
        /// Of what.
        limit: Limit,
        /// How many at most.
        max: u64,
    },
    /// A card, offer or code in text form that is not one.
    #[error("not a valid {0}: check that it was copied whole")]
    NotText(TextForm),
    /// A role's name that is not one.
    #[error("unknown role: use reader, contributor, content-manager or space-manager")]
    UnknownRole,
    /// A passphrase shorter than [`crate::vault::Passphrase::MIN_CHARS`] characters.
    #[error("a passphrase has at least {min} characters")]
    PassphraseTooShort {
        /// The fewest characters.
        min: usize,
    },
    /// A passphrase too easy to guess.
    #[error("the passphrase is too easy to guess: use several unrelated words (six random words are strong)")]
    PassphraseTooWeak,
    /// A passphrase too long for the key derivation.
    #[error("passphrase too long")]
    PassphraseTooLong,
    /// Key-derivation parameters out of bounds.
    #[error("Argon2id parameters out of bounds")]
    KdfParams,
    /// The duress passphrase is the profile's own.
    #[error("the duress passphrase must differ from the profile's")]
    DuressSameAsPassphrase,
    /// A profile in memory has no duress passphrase.
    #[error("a profile in memory has no duress passphrase")]
    NoDuressInMemory,
    /// The relay answered with the wrong kind of response.
    #[error("the relay answered with the wrong kind of response")]
    UnexpectedAnswer,
    /// Something this device made does not match its own keys (a bug, never input).
    #[error("something this device made does not match its own keys")]
    OwnSignerMismatch,
    /// Sealing failed.
    #[error("sealing failed")]
    SealingFailed,
    /// A sealed record of an unknown version, too short, or of a generation out of range.
    #[error("a sealed record that is not one")]
    SealedRecordMalformed,
    /// The card shows no device to re-admit, or belongs to several people.
    #[error("that card shows no new device of one person to re-admit")]
    NothingToReadmit,
    /// A person re-admits someone else, not themself.
    #[error("a person re-admits someone else, not themself")]
    ReadmitSelf,
    /// This device waits for the space's history.
    #[error("this device waits for the space's history")]
    AwaitingHistory,
    /// Only a stalled space is recreated.
    #[error("only a stalled space is recreated")]
    NotStalled,
    /// The space was already recreated.
    #[error("the space was already recreated")]
    AlreadyRecreated,
    /// This device (or that one) is already in the space.
    #[error("already in that space")]
    AlreadyMember,
    /// The device is no longer in the space.
    #[error("the device is no longer in the space")]
    NotInSpace,
    /// An item larger than a record may be.
    #[error("an item has at most about {max_kib} KiB")]
    ItemTooLarge {
        /// About how many KiB at most.
        max_kib: u64,
    },
    /// An inbox item that is not a Welcome.
    #[error("an inbox item is not a Welcome")]
    NotAWelcome,
    /// A space from an older release: its manager recreates it.
    #[error("a space from an older release: ask its manager to recreate it")]
    SpaceFromOlderRelease,
    /// An operation spaces do not use (an external join, a standalone proposal).
    #[error("an operation spaces do not use")]
    UnsupportedOperation,
    /// Not a key package.
    #[error("not a key package")]
    NotAKeyPackage,
    /// This device already moved to its new identity here.
    #[error("this device already moved to its new identity here")]
    AlreadyMoved,
    /// A device does not revoke itself: the panic wipe does that.
    #[error("a device does not revoke itself: use the panic wipe")]
    RevokeSelf,
    /// That device is already linked.
    #[error("that device is already linked")]
    AlreadyLinked,
    /// This profile already has an account at a relay.
    #[error("this profile already has an account at a relay")]
    AlreadyHasAccount,
    /// A file manifest whose chunks do not match its length.
    #[error("a file manifest whose chunks do not match its length")]
    ManifestMismatch,
    /// The file changed while it was read (longer than announced).
    #[error("the file is longer than its announced length")]
    FileChanged,
    /// An image whose metadata (where and when it was taken, with which device) cannot
    /// be taken out before it is uploaded: the person may convert it, or keep its
    /// metadata knowingly ([`crate::media`]).
    #[error(
        "the {format} image's metadata (such as where it was taken) cannot be removed: {reason}; convert it to JPEG or PNG, or upload it keeping its metadata"
    )]
    ImageMetadata {
        /// The image's kind.
        format: crate::media::ImageFormat,
        /// Why.
        reason: crate::media::StripRefusal,
    },
    /// A notice for no device.
    #[error("a notice for no device")]
    NoRecipient,
    /// An identity key this device does not hold has no recovery words here.
    #[error("an identity key has no recovery words")]
    NoRecoveryWords,
    /// Space rules that list a person twice or out of order, or none at all.
    #[error("space rules that are not well formed")]
    RulesMalformed,
}

/// A text field of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Field {
    /// A person's display name.
    #[error("display name")]
    DisplayName,
    /// A space's name.
    #[error("space name")]
    SpaceName,
    /// A space's description.
    #[error("space description")]
    SpaceDescription,
    /// The name of a folder, file or note.
    #[error("name")]
    NodeName,
    /// A note's text.
    #[error("note")]
    Note,
    /// A post's or comment's text.
    #[error("text")]
    Text,
    /// A reaction.
    #[error("reaction")]
    Reaction,
    /// The note of a request to join.
    #[error("note to the space's managers")]
    JoinNote,
}

/// What is counted against a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Limit {
    /// Bytes in a file.
    #[error("bytes in a file")]
    FileBytes,
    /// Items in a library.
    #[error("items in a library")]
    LibraryItems,
    /// Versions of a file.
    #[error("versions of a file")]
    FileVersions,
    /// Explicit roles in a space.
    #[error("explicit roles in a space")]
    ExplicitRoles,
    /// Lists observed at once.
    #[error("lists observed at once")]
    ObservedLists,
    /// Requests to join waiting for an answer.
    #[error("requests to join waiting for an answer")]
    PendingJoinRequests,
    /// Devices of one person.
    #[error("devices of one person")]
    Devices,
    /// People in the contact book.
    #[error("people in the contact book")]
    Contacts,
    /// Generations in a history grant.
    #[error("generations in a history grant")]
    HistoryGenerations,
    /// Bytes sealed at once.
    #[error("bytes sealed at once")]
    SealedBytes,
    /// UTF-16 code units in a note.
    #[error("characters in a note")]
    NoteLength,
    /// Named versions of one note.
    #[error("named versions of a note")]
    NoteVersions,
    /// A chunk's offset.
    #[error("as a chunk offset")]
    ChunkOffset,
}

/// A text form a person pastes or scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TextForm {
    /// A contact card.
    #[error("contact card")]
    ContactCard,
    /// A space card.
    #[error("space card")]
    SpaceCard,
    /// A verification code (from a QR).
    #[error("verification code")]
    VerificationCode,
}

/// What kind of failure an error was, as events carry it (an error itself is not
/// `Clone`): typed, with no English in it, for a client to translate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// Something did not verify.
    #[error("verification failed: {0}")]
    Unverified(Unverified),
    /// The space's rules refuse it.
    #[error("not allowed: {0}")]
    Forbidden(Refusal),
    /// Something looked for is not here.
    #[error("not found: {0}")]
    NotFound(Missing),
    /// The relay refused a request.
    #[error("the relay refused: {0}")]
    Relay(RelayError),
    /// Bytes that do not decode.
    #[error("malformed data")]
    Malformed,
    /// MLS refused an operation or a message.
    #[error("MLS refused it")]
    Mls,
    /// Input out of bounds.
    #[error("invalid input: {0}")]
    Invalid(InvalidInput),
    /// The space is stalled on this device.
    #[error("the space is stalled")]
    SpaceStalled,
    /// A person's identity key changed and is not accepted yet.
    #[error("an identity key changed")]
    IdentityChanged,
    /// The local store or the file system failed.
    #[error("the local store failed")]
    Store,
    /// The connection failed.
    #[error("the connection failed")]
    Connection,
    /// Anything else (the profile, recovery words, a closed engine).
    #[error("an internal failure")]
    Other,
}

/// Why the local store failed, as a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreFailure {
    /// A record did not encode.
    Encoding,
    /// A value could not be sealed.
    Sealing,
    /// The database failed (its own account goes to the debug log).
    Backend,
}

impl std::fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Encoding => "encoding",
            Self::Sealing => "sealing",
            Self::Backend => "backend",
        })
    }
}

/// Why MLS refused, as a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MlsFailure {
    /// openmls refused an operation or a message.
    Refused,
    /// A commit was expected to be pending and is not.
    NoPendingCommit,
    /// The exporter gave a secret of the wrong length.
    ExporterLength,
}

impl std::fmt::Display for MlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Refused => "refused",
            Self::NoPendingCommit => "no-pending-commit",
            Self::ExporterLength => "exporter-length",
        })
    }
}

/// Why the relay could not be reached, as a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportFailure {
    /// The profile has no relay address.
    NoRelayAddress,
    /// None of the relay's addresses resolves.
    Unresolvable,
    /// The network failed (I/O).
    Network,
    /// TLS failed (the relay's certificate is not the pinned one, or the handshake).
    Tls,
    /// QUIC failed.
    Quic,
    /// The relay's certificate does not parse.
    Certificate,
    /// The relay presented a key this profile does not pin: another server answers at
    /// its address, or the relay's key was rotated while this device stayed offline
    /// (a new invitation from the relay's operator brings it back).
    RelayKeyNotPinned,
    /// The relay sent what the protocol does not allow.
    Protocol,
    /// No answer in time.
    Timeout,
    /// The connection closed.
    Closed,
    /// An answer of the wrong kind.
    UnexpectedResponse,
    /// No network at all (a test's, or the platform's, word for it).
    Offline,
}

impl std::fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NoRelayAddress => "no-relay-address",
            Self::Unresolvable => "unresolvable",
            Self::Network => "network",
            Self::Tls => "tls",
            Self::Quic => "quic",
            Self::Certificate => "certificate",
            Self::RelayKeyNotPinned => "relay-key-not-pinned",
            Self::Protocol => "protocol",
            Self::Timeout => "timeout",
            Self::Closed => "closed",
            Self::UnexpectedResponse => "unexpected-response",
            Self::Offline => "offline",
        })
    }
}

/// What is damaged in a profile: which record, and how. Its `Display` is a stable
/// code (`space-record/unknown-version`), the same in every language, for a support
/// person to read; a client says in its own words that the profile is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damage {
    /// Which record.
    pub record: StoredRecord,
    /// How it is damaged.
    pub how: DamageKind,
}

impl Damage {
    /// `record` is damaged in the way `how`.
    pub const fn new(record: StoredRecord, how: DamageKind) -> Self {
        Self { record, how }
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.record.code(), self.how.code())
    }
}

/// The records of a profile, as [`Damage`] names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoredRecord {
    /// `profile.key`: the header that wraps the store's keys.
    Header,
    /// The key-derivation parameters in the header.
    KdfParameters,
    /// The keys derived or unwrapped from the header.
    Keys,
    /// The decoy profile's name in an old header.
    DecoyName,
    /// The profile record (identity, device keys, account).
    Profile,
    /// The contact book.
    Contacts,
    /// A space's record, or the list of spaces.
    Space,
    /// A feed item.
    FeedItem,
    /// A space's library.
    Library,
    /// A feed's order of arrival.
    FeedOrder,
    /// A queued record (outbox, deliveries, device work, transfers) or a pending link.
    Queued,
    /// An upload's manifest against its progress.
    Upload,
    /// MLS state kept for openmls (a group, a tree, a proposal, key pairs).
    MlsState,
    /// The stored relay address.
    RelayAddress,
    /// The stored relay invitation.
    Invitation,
    /// The stored link offer.
    LinkOffer,
    /// The stored identity transition.
    IdentityTransition,
    /// The store's ordered keys.
    OrderedKey,
    /// A note's shared document.
    Note,
}

impl StoredRecord {
    fn code(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::KdfParameters => "kdf-parameters",
            Self::Keys => "keys",
            Self::DecoyName => "decoy-name",
            Self::Profile => "profile-record",
            Self::Contacts => "contacts",
            Self::Space => "space-record",
            Self::FeedItem => "feed-item",
            Self::Library => "library",
            Self::FeedOrder => "feed-order",
            Self::Queued => "queued-record",
            Self::Upload => "upload",
            Self::MlsState => "mls-state",
            Self::RelayAddress => "relay-address",
            Self::Invitation => "invitation",
            Self::LinkOffer => "link-offer",
            Self::IdentityTransition => "identity-transition",
            Self::OrderedKey => "ordered-key",
            Self::Note => "note",
        }
    }
}

/// How a record is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DamageKind {
    /// Written by a version this release does not know.
    UnknownVersion,
    /// Its bytes do not decode.
    DoesNotDecode,
    /// It should be there and is not.
    Missing,
    /// It contradicts another record (a key that does not match, a piece of another
    /// version).
    Mismatch,
    /// A value in it is out of bounds.
    OutOfBounds,
}

impl DamageKind {
    fn code(self) -> &'static str {
        match self {
            Self::UnknownVersion => "unknown-version",
            Self::DoesNotDecode => "does-not-decode",
            Self::Missing => "missing",
            Self::Mismatch => "mismatch",
            Self::OutOfBounds => "out-of-bounds",
        }
    }
}

impl CoreError {
    /// The profile is damaged: `record`, in the way `how`.
    pub const fn damaged(record: StoredRecord, how: DamageKind) -> Self {
        Self::CorruptProfile(Damage::new(record, how))
    }

    /// The kind of this error, for an event to carry.
    pub fn fault(&self) -> Fault {
        match self {
            Self::Verification(what) => Fault::Unverified(*what),
            Self::Forbidden(why) => Fault::Forbidden(*why),
            Self::NotFound(what) => Fault::NotFound(*what),
            Self::Relay(error) => Fault::Relay(error.clone()),
            Self::Decode(_) => Fault::Malformed,
            Self::Mls(_) => Fault::Mls,
            Self::Invalid(what) => Fault::Invalid(*what),
            Self::SpaceStalled => Fault::SpaceStalled,
            Self::IdentityChanged(_) => Fault::IdentityChanged,
            Self::Store(_) | Self::Io(_) | Self::StoreTampered | Self::CorruptProfile(_) => Fault::Store,
            Self::Transport(_) => Fault::Connection,
            _ => Fault::Other,
        }
    }
}

/// What did not verify in something a peer, a card or the relay handed over, by kind:
/// what a client translates and shows. None carries the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Unverified {
    /// A signature that does not verify.
    #[error("a signature of a {0} does not verify")]
    Signature(Signed),
    /// A key that is not a valid key, or is weak.
    #[error("a key that is not valid")]
    InvalidKey,
    /// Sent by someone else than it claims, or by no member.
    #[error("sent by someone else than it claims")]
    WrongSender,
    /// From a device its person's newest roster does not list.
    #[error("from a device its person's roster does not list")]
    NotOnRoster,
    /// Naming its author's certificate by a reference to one this device does not
    /// hold (the record that carried it was withheld, or never written).
    #[error("by an author whose certificate this device does not hold")]
    UnknownAuthor,
    /// Of, for or holding another person, account or device than it should.
    #[error("of another person or device than it claims")]
    WrongPerson,
    /// For another space, offer, card, generation or item than where it was found.
    #[error("meant for somewhere else")]
    WrongPlace,
    /// Sealed, and does not open with the key it must open with.
    #[error("sealed, and does not open here")]
    DoesNotOpen,
    /// Built against the rules of its format (a card without devices, a device twice).
    #[error("malformed")]
    Malformed,
    /// Dated too long ago or in the future.
    #[error("dated outside the time allowed")]
    Stale,
    /// Already taken once (a replay).
    #[error("already taken once (a replay)")]
    Replay,
    /// History keys or a grant that do not match the space's ledger.
    #[error("history keys that do not match the space's ledger")]
    History,
    /// A file's chunk that is not the one the file names, or does not fit it.
    #[error("a chunk that does not fit its file")]
    Chunk,
    /// No link offer is open on this device.
    #[error("no link offer is open on this device")]
    NoLinkOffer,
    /// A link request made without the offer's secret.
    #[error("a link request made without the offer's secret")]
    LinkSecretMissing,
    /// Text that is not a link offer.
    #[error("not a link offer")]
    NotALinkOffer,
    /// Text that is not a link request.
    #[error("not a link request")]
    NotALinkRequest,
    /// A contact card older than the person's newest roster: ask them for a new one.
    #[error("a contact card older than the person's newest roster: ask them for a new one")]
    OutdatedCard,
    /// A content record refused by the history's rules.
    #[error("a record refused: {0}")]
    Record(crate::history::RecordRefusal),
    /// A note's update refused by the note's rules ([`crate::note`]).
    #[error("a note update refused: {0}")]
    NoteUpdate(crate::note::NoteRefusal),
}

/// What a signature was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Signed {
    /// A device certificate.
    #[error("device certificate")]
    DeviceCertificate,
    /// A post, comment or other item.
    #[error("item")]
    Content,
    /// A contact card (a roster).
    #[error("contact card")]
    ContactCard,
    /// A space card.
    #[error("space card")]
    SpaceCard,
    /// A link request (or its proof of possession).
    #[error("link request")]
    LinkRequest,
    /// A request to join.
    #[error("request to join")]
    JoinRequest,
    /// An identity transition (a new identity key).
    #[error("identity transition")]
    IdentityTransition,
    /// A device-ready notice.
    #[error("device-ready notice")]
    DeviceReady,
    /// A presence message (who is in a note, and where).
    #[error("presence")]
    Presence,
}

/// What was looked for and is not here: what a client translates and shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Missing {
    /// A space this device knows.
    #[error("space")]
    Space,
    /// A device certificate (a member's, or this device's own).
    #[error("certificate")]
    Certificate,
    /// A relay: the profile joined none yet.
    #[error("relay: join one with an invitation")]
    Relay,
    /// A person's device roster.
    #[error("roster")]
    Roster,
    /// A relay account: the profile has none yet.
    #[error("account: join a relay with an invitation")]
    Account,
    /// A request to join, or the key it is sealed to.
    #[error("request to join")]
    JoinRequest,
    /// This device's place in a space's group.
    #[error("this device's place in the space")]
    OwnLeaf,
    /// A post or comment (the one answered, reacted to, edited or deleted).
    #[error("item")]
    Item,
    /// A member of the space.
    #[error("member")]
    Member,
    /// A note of the library.
    #[error("note")]
    Note,
    /// A file of the library, or one of its versions.
    #[error("file or version")]
    File,
    /// One of this person's other devices.
    #[error("device")]
    OwnDevice,
    /// A member's device waiting for approval.
    #[error("pending device")]
    PendingDevice,
    /// A list an app observes.
    #[error("observed list")]
    ObservedList,
    /// An invitation to a space.
    #[error("invitation")]
    Invitation,
    /// A grant of history keys.
    #[error("grant")]
    Grant,
    /// A person met.
    #[error("contact")]
    Contact,
    /// A changed identity key waiting to be accepted.
    #[error("changed identity key")]
    IdentityChange,
}

/// Why a space's rules (or the device's standing) refuse an action, or refuse a
/// member's commit: what a client translates and shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Only a space manager does this.
    #[error("only a space manager may {0}")]
    NotSpaceManager(ManagerAction),
    /// Readers do not post, comment, react or change the library.
    #[error("readers do not post, comment, react or change the library")]
    ReaderWrites,
    /// Only the author or a content manager changes an item.
    #[error("only the author or a content manager may change this item")]
    NotAuthorOrContentManager,
    /// A file version's preview comes only from whoever uploaded that version.
    #[error("only whoever uploaded a file's version sends its preview")]
    NotTheVersionsAuthor,
    /// The last space manager names another before leaving.
    #[error("the last space manager names another before leaving")]
    LastManagerLeaving,
    /// The space has had as many generations as a space may have.
    #[error("the space has had as many generations as a space may have")]
    GenerationsExhausted,
    /// This device is no longer in the space, or can no longer change it.
    #[error("this device is no longer in the space")]
    NoLongerInSpace,
    /// A confidential space takes no requests to join.
    #[error("a confidential space takes no requests to join")]
    ConfidentialSpace,
    /// The space no longer takes requests to join.
    #[error("the space no longer takes requests to join")]
    RequestsClosed,
    /// In this space a space manager approves every new device.
    #[error("in this space a space manager approves every new device")]
    DeviceApprovalRequired,
    /// Only a person's own devices are added this way.
    #[error("only a person's own devices are added this way")]
    OnlyOwnDevices,
    /// Only the device holding the identity key does this (the one that created it, or
    /// one restored from the recovery words).
    #[error("only the device that holds the identity key does this")]
    NoIdentityKey,
    /// A commit changes what is fixed when a space is created.
    #[error("a commit changes what is fixed when the space was created: {0}")]
    FixedAtCreation(FixedRule),
    /// A commit leaves the group context without the space's rules, ledger or
    /// requirements.
    #[error("the group context lacks the space's rules, ledger or requirements")]
    ContextIncomplete,
    /// A commit puts an extension in the group context that spaces do not use.
    #[error("the group context holds an extension spaces do not use")]
    UnknownExtension,
    /// A commit's history ledger differs from the members' history.
    #[error("the commit's history ledger differs from the members' history")]
    LedgerMismatch,
    /// A commit drops the space's history ledger.
    #[error("the commit drops the space's history ledger")]
    LedgerDropped,
    /// A commit keeps the role of someone it takes out of the space.
    #[error("the commit keeps the role of someone it takes out of the space")]
    DepartingRoleKept,
    /// A commit makes a kind of change spaces do not use.
    #[error("a kind of change spaces do not use")]
    UnknownChange,
    /// A member's update changes who they are.
    #[error("a member's update changes who they are")]
    IdentityChangedInUpdate,
    /// A device its person's roster does not (or no longer) list.
    #[error("a device its person's roster does not list")]
    DeviceNotOnRoster,
}

/// What only a space manager does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerAction {
    /// Invite people.
    #[error("invite to this space")]
    Invite,
    /// Add people (a commit adding them).
    #[error("add people to this space")]
    AddPeople,
    /// Admit people who asked to join.
    #[error("admit people to this space")]
    Admit,
    /// Re-admit people.
    #[error("re-admit people")]
    Readmit,
    /// Remove people.
    #[error("remove people")]
    Remove,
    /// Rename the space.
    #[error("rename the space")]
    Rename,
    /// Describe the space.
    #[error("describe the space")]
    Describe,
    /// Change the space's rules.
    #[error("change the space's rules or roles")]
    ChangeRules,
    /// Change roles.
    #[error("change roles")]
    ChangeRoles,
    /// Decide how devices join.
    #[error("decide how devices join")]
    DeviceApproval,
    /// Add a device to someone else.
    #[error("add a device to someone else")]
    AddOthersDevice,
    /// Recreate a stalled space.
    #[error("recreate a space")]
    Recreate,
    /// Add the members of a recreated space.
    #[error("add the members of a recreated space")]
    AddRecreatedMembers,
    /// Hand out the space's card.
    #[error("hand out this space's card")]
    HandOutCard,
}

/// What is fixed when a space is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum FixedRule {
    /// Whether later members read earlier content.
    #[error("its history mode")]
    HistoryMode,
    /// The space it continues.
    #[error("the space it continues")]
    Continues,
}

/// Why typed recovery words were refused: what a client translates and shows, with no
/// word of the input in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecoveryWordsError {
    /// Not [`crate::recovery::RECOVERY_WORD_COUNT`] words.
    #[error("{expected} words expected, {given} given")]
    WrongCount {
        /// How many a set has.
        expected: usize,
        /// How many were typed.
        given: usize,
    },
    /// The word at `position` (from 1) is not on the word list.
    #[error("word {position} is not on the list")]
    UnknownWord {
        /// From 1.
        position: usize,
    },
    /// Every word is on the list, but the checksum fails: a word mistyped as another
    /// word of the list, or two words out of order.
    #[error("they do not fit together (a word mistyped or out of order?)")]
    Mismatch,
    /// Not a set of recovery words for an identity key.
    #[error("not a valid set")]
    NotASet,
}

impl From<sled::Error> for CoreError {
    fn from(error: sled::Error) -> Self {
        tracing::debug!(%error, "the store's database failed");
        Self::Store(StoreFailure::Backend)
    }
}

impl From<huisclos_transport::TransportError> for CoreError {
    fn from(error: huisclos_transport::TransportError) -> Self {
        match error {
            huisclos_transport::TransportError::Relay(relay) => Self::Relay(relay),
            other => {
                use huisclos_transport::TransportError as E;
                tracing::debug!(error = %other, "the connection failed");
                Self::Transport(match other {
                    E::Io(_) => TransportFailure::Network,
                    E::Tls(_) => TransportFailure::Tls,
                    E::Quic(_) => TransportFailure::Quic,
                    E::Certificate => TransportFailure::Certificate,
                    E::KeyNotPinned => TransportFailure::RelayKeyNotPinned,
                    E::Protocol(_) => TransportFailure::Protocol,
                    E::Timeout => TransportFailure::Timeout,
                    E::Closed => TransportFailure::Closed,
                    E::UnexpectedResponse => TransportFailure::UnexpectedResponse,
                    _ => TransportFailure::Network,
                })
            }
        }
    }
}

/// Short for `Result<T, CoreError>`.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
