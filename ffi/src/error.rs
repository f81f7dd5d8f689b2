//! The one error type that crosses the boundary: each variant becomes a typed
//! exception (`HuisClosException.Invalid` in Kotlin, `HuisClosError.Invalid` in Python
//! and Swift) carrying a message that names no secret and no content.

use huisclos_core::CoreError;

use crate::reasons::{Missing, Refusal};

/// What can go wrong, as the app sees it. Every variant carries a `reason` for people
/// (not `message`, which Kotlin's `Exception` already has).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HuisClosError {
    /// The passphrase or the keystore's key does not open this profile.
    #[error("{reason}")]
    WrongPassphrase {
        /// Why, in words.
        reason: String,
    },
    /// There is no profile in that directory.
    #[error("{reason}")]
    NoProfile {
        /// Why, in words.
        reason: String,
    },
    /// A profile already exists in that directory.
    #[error("{reason}")]
    ProfileExists {
        /// Why, in words.
        reason: String,
    },
    /// The profile's files are damaged or were tampered with.
    #[error("{reason}")]
    DamagedProfile {
        /// Why, in words.
        reason: String,
    },
    /// The local store or the file system failed.
    #[error("{reason}")]
    Storage {
        /// Why, in words.
        reason: String,
    },
    /// Malformed or out-of-bounds input: an id, a card, a name, an invitation.
    #[error("{reason}")]
    Invalid {
        /// Why, in words.
        reason: String,
    },
    /// The space's rules do not allow it for this member.
    #[error("{reason}")]
    Forbidden {
        /// Why, for the app to translate.
        why: Refusal,
        /// Why, in words.
        reason: String,
    },
    /// A known person's identity key changed: compare safety numbers, then accept.
    #[error("{reason}")]
    IdentityChanged {
        /// Why, in words.
        reason: String,
    },
    /// No such space, member, item, file or device here.
    #[error("{reason}")]
    NotFound {
        /// What, for the app to translate.
        what: Missing,
        /// Why, in words.
        reason: String,
    },
    /// The relay refused a request.
    #[error("{reason}")]
    Refused {
        /// Why, in words.
        reason: String,
    },
    /// The relay could not be reached; the work stays queued.
    #[error("{reason}")]
    Offline {
        /// Why, in words.
        reason: String,
    },
    /// Something answered at the relay's address with a key this profile does not pin:
    /// another server, or the relay's key changed without the rotation this device
    /// would have learned. Nothing was sent to it and the work stays queued; warn, as
    /// of an impostor (a new invitation from the relay's operator brings a new pin).
    #[error("{reason}")]
    RelayKeyNotPinned {
        /// Why, in words.
        reason: String,
    },
    /// The platform keystore failed to store, give or delete the storage key.
    #[error("{reason}")]
    Keystore {
        /// Why, in words.
        reason: String,
    },
    /// The profile was wiped or closed; open it again (or create a new one).
    #[error("{reason}")]
    Closed {
        /// Why, in words.
        reason: String,
    },
    /// Something inside failed that the app cannot fix (an MLS refusal, a lost lock).
    #[error("{reason}")]
    Internal {
        /// Why, in words.
        reason: String,
    },
}

impl From<CoreError> for HuisClosError {
    fn from(error: CoreError) -> Self {
        // CoreError's messages are written to carry no secret and no content; they
        // are said in the language the app set (English until it sets one).
        let message = crate::l10n::reason(&error);
        match error {
            CoreError::WrongPassphrase => Self::WrongPassphrase { reason: message },
            CoreError::NoProfile(_) => Self::NoProfile { reason: message },
            CoreError::ProfileExists(_) => Self::ProfileExists { reason: message },
            CoreError::CorruptProfile(_) | CoreError::StoreTampered => Self::DamagedProfile { reason: message },
            CoreError::Store(_) | CoreError::Io(_) => Self::Storage { reason: message },
            CoreError::Verification(_) | CoreError::Invalid(_) | CoreError::Decode(_) | CoreError::RecoveryWords(_) => {
                Self::Invalid { reason: message }
            }
            CoreError::Forbidden(why) => Self::Forbidden { why: why.into(), reason: message },
            CoreError::IdentityChanged(_) => Self::IdentityChanged { reason: message },
            CoreError::NotFound(what) => Self::NotFound { what: what.into(), reason: message },
            CoreError::Relay(_) => Self::Refused { reason: message },
            CoreError::Transport(huisclos_core::error::TransportFailure::RelayKeyNotPinned) => {
                Self::RelayKeyNotPinned { reason: message }
            }
            CoreError::Transport(_) => Self::Offline { reason: message },
            CoreError::Closed => Self::Closed { reason: message },
            _ => Self::Internal { reason: message },
        }
    }
}

impl From<huisclos_protocol::Error> for HuisClosError {
    fn from(error: huisclos_protocol::Error) -> Self {
        Self::Invalid { reason: error.to_string() }
    }
}

/// A foreign callback that threw something it did not declare (a keystore bug).
impl From<uniffi::UnexpectedUniFFICallbackError> for HuisClosError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Keystore { reason: format!("the app's callback failed: {}", error.reason) }
    }
}

impl HuisClosError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid { reason: message.into() }
    }

    pub(crate) fn closed() -> Self {
        Self::Closed { reason: "the profile is closed or wiped".into() }
    }
}

/// Short for `Result<T, HuisClosError>`.
pub type Result<T, E = HuisClosError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use huisclos_core::error::{Missing as CoreMissing, Refusal as CoreRefusal};

    #[test]
    fn core_errors_keep_their_kind_and_message() {
        let cases = [
            (CoreError::WrongPassphrase, "WrongPassphrase"),
            (CoreError::NotFound(CoreMissing::Space), "NotFound"),
            (CoreError::Forbidden(CoreRefusal::ReaderWrites), "Forbidden"),
            (CoreError::Invalid(huisclos_core::error::InvalidInput::UnknownRole), "Invalid"),
            (CoreError::Transport(huisclos_core::error::TransportFailure::Timeout), "Offline"),
            (CoreError::Transport(huisclos_core::error::TransportFailure::RelayKeyNotPinned), "RelayKeyNotPinned"),
            (CoreError::StoreTampered, "DamagedProfile"),
            (CoreError::Closed, "Closed"),
        ];
        let typed = HuisClosError::from(CoreError::Forbidden(CoreRefusal::NotSpaceManager(
            huisclos_core::error::ManagerAction::Remove,
        )));
        assert!(matches!(
            typed,
            HuisClosError::Forbidden {
                why: Refusal::NotSpaceManager { action: crate::reasons::ManagerAction::Remove },
                ..
            }
        ));
        assert!(matches!(
            HuisClosError::from(CoreError::NotFound(CoreMissing::Note)),
            HuisClosError::NotFound { what: Missing::Note, .. }
        ));
        let english = huisclos_l10n::Localizer::new(huisclos_l10n::Language::English);
        for (core, kind) in cases {
            let message = english.describe(&core);
            let crossed = HuisClosError::from(core);
            assert!(format!("{crossed:?}").starts_with(kind), "{crossed:?}");
            assert_eq!(crossed.to_string(), message);
        }
    }
}
