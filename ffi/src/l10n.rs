//! The shared translations for the apps: a [`Localizer`] that renders any message of
//! the Fluent files (the app's own screens share them with the CLI and the desktop),
//! and the language in which errors' and events' `reason` texts are written
//! ([`set_language`]). The typed reasons (`what`, `why`, `kind`) stay the same in
//! every language; an app that renders its own text from them uses the `Localizer`.

use std::sync::{Arc, OnceLock, RwLock};

use huisclos_core::error as core;
use huisclos_l10n::{Describe, Direction, Language, Message};

use crate::error::{HuisClosError, Result};
use crate::reasons::{ManagerAction, Missing, Refusal};

/// The localizer of `reason` texts: English until the app calls [`set_language`].
fn reasons_cell() -> &'static RwLock<Arc<huisclos_l10n::Localizer>> {
    static CELL: OnceLock<RwLock<Arc<huisclos_l10n::Localizer>>> = OnceLock::new();
    CELL.get_or_init(|| RwLock::new(Arc::new(huisclos_l10n::Localizer::new(Language::English))))
}

/// What `value` says in the language of the `reason` texts.
pub(crate) fn reason(value: &(impl Describe + ?Sized)) -> String {
    let localizer = reasons_cell().read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    localizer.describe(value)
}

fn language(tag: &str) -> Result<Language> {
    Language::from_tag(tag).map_err(|unknown| HuisClosError::invalid(unknown.to_string()))
}

/// Sets the language of every error's and event's `reason` from now on (`en`, `fr`,
/// `de`, `ar`, `pt`, or a locale such as `pt-BR` or `ar_EG`); returns the tag chosen.
#[uniffi::export]
pub fn set_language(tag: String) -> Result<String> {
    let language = language(&tag)?;
    *reasons_cell().write().unwrap_or_else(std::sync::PoisonError::into_inner) =
        Arc::new(huisclos_l10n::Localizer::new(language));
    Ok(language.tag().to_owned())
}

/// The tags of the languages Huis Clos speaks, English first.
#[uniffi::export]
pub fn available_languages() -> Vec<String> {
    Language::ALL.iter().map(|l| l.tag().to_owned()).collect()
}

/// One argument of a message.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum MessageArg {
    /// Text shown as it is (a name, an id).
    Text {
        /// Its name in the message.
        name: String,
        /// Its value.
        value: String,
    },
    /// A count: selects the language's plural form.
    Number {
        /// Its name in the message.
        name: String,
        /// Its value.
        value: u64,
    },
}

/// Renders the shared messages in one language. Every argument is isolated (FSI … PDI)
/// so that names keep their own direction; the app sets the layout's direction from
/// [`Localizer::is_right_to_left`].
#[derive(uniffi::Object)]
pub struct Localizer {
    inner: huisclos_l10n::Localizer,
}

#[uniffi::export]
impl Localizer {
    /// A localizer for `tag` (`en`, `fr`, `de`, `ar`, `pt`, or a locale).
    #[uniffi::constructor]
    pub fn new(tag: String) -> Result<Arc<Self>> {
        Ok(Arc::new(Self { inner: huisclos_l10n::Localizer::new(language(&tag)?) }))
    }

    /// Its language's tag.
    pub fn language(&self) -> String {
        self.inner.language().tag().to_owned()
    }

    /// Its language's name in itself, for a language menu.
    pub fn native_name(&self) -> String {
        self.inner.language().native_name().to_owned()
    }

    /// Whether the layout is mirrored (Arabic).
    pub fn is_right_to_left(&self) -> bool {
        self.inner.language().direction() == Direction::RightToLeft
    }

    /// The message `id` with `args`; the id itself if no language has it.
    pub fn text(&self, id: String, args: Vec<MessageArg>) -> String {
        let message = args.into_iter().fold(Message::new(id), |message, arg| match arg {
            MessageArg::Text { name, value } => message.with(name, value),
            MessageArg::Number { name, value } => message.with(name, value),
        });
        self.inner.render(&message)
    }

    /// What a `NotFound` error's `what` says.
    pub fn missing(&self, what: Missing) -> String {
        match core_missing(what) {
            Some(missing) => self.inner.describe(&missing),
            None => self.inner.text("missing-other"),
        }
    }

    /// What a `Forbidden` error's `why` says.
    pub fn refusal(&self, why: Refusal) -> String {
        match core_refusal(why) {
            Some(refusal) => self.inner.describe(&refusal),
            None => self.inner.text("refusal-other"),
        }
    }
}

fn core_missing(what: Missing) -> Option<core::Missing> {
    use core::Missing as M;
    Some(match what {
        Missing::Space => M::Space,
        Missing::Certificate => M::Certificate,
        Missing::Relay => M::Relay,
        Missing::Roster => M::Roster,
        Missing::Account => M::Account,
        Missing::JoinRequest => M::JoinRequest,
        Missing::OwnLeaf => M::OwnLeaf,
        Missing::Item => M::Item,
        Missing::Member => M::Member,
        Missing::Note => M::Note,
        Missing::File => M::File,
        Missing::OwnDevice => M::OwnDevice,
        Missing::PendingDevice => M::PendingDevice,
        Missing::ObservedList => M::ObservedList,
        Missing::Invitation => M::Invitation,
        Missing::Grant => M::Grant,
        Missing::Contact => M::Contact,
        Missing::IdentityChange => M::IdentityChange,
        Missing::Other => return None,
    })
}

fn core_refusal(why: Refusal) -> Option<core::Refusal> {
    use core::{ManagerAction as A, Refusal as R};
    Some(match why {
        Refusal::NotSpaceManager { action } => R::NotSpaceManager(match action {
            ManagerAction::Invite => A::Invite,
            ManagerAction::AddPeople => A::AddPeople,
            ManagerAction::Admit => A::Admit,
            ManagerAction::Readmit => A::Readmit,
            ManagerAction::Remove => A::Remove,
            ManagerAction::Rename => A::Rename,
            ManagerAction::Describe => A::Describe,
            ManagerAction::ChangeRules => A::ChangeRules,
            ManagerAction::ChangeRoles => A::ChangeRoles,
            ManagerAction::DeviceApproval => A::DeviceApproval,
            ManagerAction::AddOthersDevice => A::AddOthersDevice,
            ManagerAction::Recreate => A::Recreate,
            ManagerAction::AddRecreatedMembers => A::AddRecreatedMembers,
            ManagerAction::HandOutCard => A::HandOutCard,
            ManagerAction::Other => return None,
        }),
        Refusal::ReaderWrites => R::ReaderWrites,
        Refusal::NotAuthorOrContentManager => R::NotAuthorOrContentManager,
        Refusal::LastManagerLeaving => R::LastManagerLeaving,
        Refusal::GenerationsExhausted => R::GenerationsExhausted,
        Refusal::NoLongerInSpace => R::NoLongerInSpace,
        Refusal::ConfidentialSpace => R::ConfidentialSpace,
        Refusal::RequestsClosed => R::RequestsClosed,
        Refusal::DeviceApprovalRequired => R::DeviceApprovalRequired,
        Refusal::OnlyOwnDevices => R::OnlyOwnDevices,
        Refusal::NoIdentityKey => R::NoIdentityKey,
        Refusal::CommitRefused | Refusal::Other => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_reason_the_app_holds_renders_in_every_language() {
        for tag in available_languages() {
            let Ok(localizer) = Localizer::new(tag.clone()) else { panic!("{tag}") };
            let Ok(language) = huisclos_l10n::Language::from_tag(&tag) else { panic!("{tag}") };
            // The FFI's typed reason says what the core's says, in the same language
            // (a word may be the same as in English: Portuguese "item").
            let own = huisclos_l10n::Localizer::new(language);
            for (what, core) in [(Missing::Space, core::Missing::Space), (Missing::Item, core::Missing::Item)] {
                assert_eq!(localizer.missing(what), own.describe(&core), "{tag}");
            }
            assert_eq!(localizer.missing(Missing::Other), own.text("missing-other"));
            let why = Refusal::NotSpaceManager { action: ManagerAction::Remove };
            let core_why = core::Refusal::NotSpaceManager(core::ManagerAction::Remove);
            assert_eq!(localizer.refusal(why), own.describe(&core_why), "{tag}");
            assert!(!localizer.refusal(why).starts_with("refusal-"), "{tag}");
            assert_eq!(localizer.is_right_to_left(), tag == "ar");
        }
        assert!(Localizer::new("tlh".into()).is_err());
    }
}

/// How a new passphrase measures against the profile's rule, for a strength meter.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PassphraseCheck {
    /// zxcvbn's estimate, from 0 (trivial) to 4 (very strong).
    pub strength: u8,
    /// The least strength a new passphrase must have.
    pub min_strength: u8,
    /// The fewest characters.
    pub min_chars: u32,
    /// Whether it may protect a profile.
    pub acceptable: bool,
    /// Why not, in the language set by [`set_language`].
    pub reason: Option<String>,
}

/// Measures a passphrase someone is choosing, without keeping it.
#[uniffi::export]
pub fn check_passphrase(passphrase: String) -> PassphraseCheck {
    use huisclos_core::vault::Passphrase;
    // Moved in: the passphrase type wipes it when dropped.
    let passphrase = Passphrase::new(passphrase);
    let verdict = passphrase.check_new();
    PassphraseCheck {
        strength: passphrase.strength(),
        min_strength: Passphrase::MIN_STRENGTH,
        min_chars: u32::try_from(Passphrase::MIN_CHARS).unwrap_or(u32::MAX),
        acceptable: verdict.is_ok(),
        reason: verdict.err().map(|error| reason(&error)),
    }
}

/// A strong passphrase to offer: six random words.
#[uniffi::export]
pub fn suggest_passphrase() -> String {
    huisclos_core::vault::Passphrase::suggest().to_string()
}
