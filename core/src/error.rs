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
    /// The profile's files are damaged or were written by an unknown version.
    #[error("the profile is damaged: {0}")]
    CorruptProfile(&'static str),
    /// A stored value failed authentication: the disk was tampered with or damaged.
    #[error("a stored value failed authentication")]
    StoreTampered,
    /// The local store could not be read or written.
    #[error("local store: {0}")]
    Store(String),
    /// A file-system operation failed.
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    /// A certificate, signature or identity did not verify.
    #[error("verification failed: {0}")]
    Verification(&'static str),
    /// The operation is not allowed by the space's rules for this member.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
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
    NotFound(&'static str),
    /// The input was malformed or out of bounds.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// MLS refused an operation or a message.
    #[error("MLS: {0}")]
    Mls(String),
    /// Bytes from the relay or a peer did not decode.
    #[error("malformed data: {0}")]
    Decode(#[from] huisclos_protocol::Error),
    /// The relay refused a request.
    #[error("the relay refused: {0}")]
    Relay(RelayError),
    /// The relay could not be reached or the connection failed.
    #[error("connection: {0}")]
    Transport(String),
    /// Recovery words that do not make an identity key. Carries positions and counts
    /// only, never a word.
    #[error("recovery words: {0}")]
    RecoveryWords(RecoveryWordsError),
    /// The engine has been shut down.
    #[error("the client is shut down")]
    Closed,
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
        Self::Store(error.to_string())
    }
}

impl From<huisclos_transport::TransportError> for CoreError {
    fn from(error: huisclos_transport::TransportError) -> Self {
        match error {
            huisclos_transport::TransportError::Relay(relay) => Self::Relay(relay),
            other => Self::Transport(other.to_string()),
        }
    }
}

/// Short for `Result<T, CoreError>`.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
