//! The one error type that crosses the boundary: each variant becomes a typed
//! exception (`HuisClosException.Invalid` in Kotlin, `HuisClosError.Invalid` in Python
//! and Swift) carrying a message that names no secret and no content.

use huisclos_core::CoreError;

/// What can go wrong, as the app sees it. Every variant carries a message for people.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HuisClosError {
    /// The passphrase or the keystore's key does not open this profile.
    #[error("{message}")]
    WrongPassphrase {
        /// Why, in words.
        message: String,
    },
    /// There is no profile in that directory.
    #[error("{message}")]
    NoProfile {
        /// Why, in words.
        message: String,
    },
    /// A profile already exists in that directory.
    #[error("{message}")]
    ProfileExists {
        /// Why, in words.
        message: String,
    },
    /// The profile's files are damaged or were tampered with.
    #[error("{message}")]
    DamagedProfile {
        /// Why, in words.
        message: String,
    },
    /// The local store or the file system failed.
    #[error("{message}")]
    Storage {
        /// Why, in words.
        message: String,
    },
    /// Malformed or out-of-bounds input: an id, a card, a name, an invitation.
    #[error("{message}")]
    Invalid {
        /// Why, in words.
        message: String,
    },
    /// The space's rules do not allow it for this member.
    #[error("{message}")]
    Forbidden {
        /// Why, in words.
        message: String,
    },
    /// A known person's identity key changed: compare safety numbers, then accept.
    #[error("{message}")]
    IdentityChanged {
        /// Why, in words.
        message: String,
    },
    /// No such space, member, item, file or device here.
    #[error("{message}")]
    NotFound {
        /// Why, in words.
        message: String,
    },
    /// The relay refused a request.
    #[error("{message}")]
    Refused {
        /// Why, in words.
        message: String,
    },
    /// The relay could not be reached; the work stays queued.
    #[error("{message}")]
    Offline {
        /// Why, in words.
        message: String,
    },
    /// The platform keystore failed to store, give or delete the storage key.
    #[error("{message}")]
    Keystore {
        /// Why, in words.
        message: String,
    },
    /// The profile was wiped or closed; open it again (or create a new one).
    #[error("{message}")]
    Closed {
        /// Why, in words.
        message: String,
    },
    /// Something inside failed that the app cannot fix (an MLS refusal, a lost lock).
    #[error("{message}")]
    Internal {
        /// Why, in words.
        message: String,
    },
}

impl From<CoreError> for HuisClosError {
    fn from(error: CoreError) -> Self {
        // CoreError's messages are written to carry no secret and no content.
        let message = error.to_string();
        match error {
            CoreError::WrongPassphrase => Self::WrongPassphrase { message },
            CoreError::NoProfile(_) => Self::NoProfile { message },
            CoreError::ProfileExists(_) => Self::ProfileExists { message },
            CoreError::CorruptProfile(_) | CoreError::StoreTampered => Self::DamagedProfile { message },
            CoreError::Store(_) | CoreError::Io(_) => Self::Storage { message },
            CoreError::Verification(_) | CoreError::Invalid(_) | CoreError::Decode(_) => Self::Invalid { message },
            CoreError::Forbidden(_) => Self::Forbidden { message },
            CoreError::IdentityChanged(_) => Self::IdentityChanged { message },
            CoreError::NotFound(_) => Self::NotFound { message },
            CoreError::Relay(_) => Self::Refused { message },
            CoreError::Transport(_) => Self::Offline { message },
            CoreError::Closed => Self::Closed { message },
            _ => Self::Internal { message },
        }
    }
}

impl From<huisclos_protocol::Error> for HuisClosError {
    fn from(error: huisclos_protocol::Error) -> Self {
        Self::Invalid { message: error.to_string() }
    }
}

/// A foreign callback that threw something it did not declare (a keystore bug).
impl From<uniffi::UnexpectedUniFFICallbackError> for HuisClosError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Keystore { message: format!("the app's callback failed: {}", error.reason) }
    }
}

impl HuisClosError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid { message: message.into() }
    }

    pub(crate) fn closed() -> Self {
        Self::Closed { message: "the profile is closed or wiped".into() }
    }
}

/// Short for `Result<T, HuisClosError>`.
pub type Result<T, E = HuisClosError> = std::result::Result<T, E>;
