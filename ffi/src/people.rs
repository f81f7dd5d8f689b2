//! This person's devices and the people they met, as the apps reach them:
//! `Profile::devices()` and `Profile::contacts()`.

use std::sync::Arc;

use huisclos_core::identity::VerificationOutcome;
use huisclos_core::link::LinkRequest;
use huisclos_core::recovery::RecoveryWords;
use zeroize::Zeroizing;

use crate::error::Result;
use crate::profile::Inner;
use crate::types::{self, *};

/// This person's devices: listing, linking a new one, revoking, restoring the
/// identity key.
#[derive(uniffi::Object)]
pub struct Devices {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Devices {
    /// This person's devices.
    pub fn list(&self) -> Result<Vec<Device>> {
        self.inner.with(|engine| {
            let this = engine.device_id();
            Ok(engine.devices().iter().map(|c| Device::from_certificate(c, &this)).collect())
        })
    }

    /// A link offer (`huisclos-link-offer:` text, or a QR code of it) for a new
    /// device of this person's.
    pub fn link_offer(&self) -> Result<String> {
        self.inner.act(|engine| Ok(engine.link_offer()?.to_text()))
    }

    /// Approves a new device's link request (after the person compared the code both
    /// devices show); returns the new device.
    pub fn approve_link(&self, request: String) -> Result<Device> {
        let request = LinkRequest::from_text(&request)?;
        self.inner.act(|engine| {
            let certificate = engine.approve_link(&request)?;
            Ok(Device::from_certificate(&certificate, &engine.device_id()))
        })
    }

    /// Revokes one of this person's other devices: removed from every space, refused
    /// by the relay.
    pub fn revoke(&self, device: String) -> Result<()> {
        let device = types::device_id(&device)?;
        self.inner.act(|engine| engine.revoke_device(&device))
    }

    /// The six digits to compare with those the new device shows, for its link
    /// request (text), before approving it.
    pub fn link_confirmation_code(&self, request: String) -> Result<String> {
        let request = LinkRequest::from_text(&request)?;
        self.inner.with(|engine| engine.link_confirmation_code(&request))
    }

    /// When the device that held the identity key is lost or seized: from the 24
    /// recovery words, this device becomes the holder and replaces the key at once
    /// (contacts see the change, signed by the old key), revoking the `lost` devices
    /// (hex ids). Show the new recovery words afterwards.
    pub fn restore_identity_key(&self, words: String, lost: Vec<String>) -> Result<()> {
        let words = RecoveryWords::parse(&Zeroizing::new(words))?;
        let lost = lost.iter().map(|d| types::device_id(d)).collect::<Result<Vec<_>>>()?;
        self.inner.act(|engine| engine.restore_identity_key(&words, &lost))
    }
}

/// The people met in spaces, their safety numbers and verification.
#[derive(uniffi::Object)]
pub struct Contacts {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Contacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contacts").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Contacts {
    /// The people met in spaces.
    pub fn list(&self) -> Result<Vec<Contact>> {
        self.inner.with(|engine| Ok(engine.contacts().into_iter().map(Contact::from).collect()))
    }

    /// The safety number shared with a person, to compare in person or by call.
    pub fn safety_number(&self, person: String) -> Result<String> {
        let person = types::person(&person)?;
        self.inner.with(|engine| Ok(engine.safety_number(&person).to_string()))
    }

    /// The bytes of the QR code to show a person, for them to scan.
    pub fn verification_code(&self, person: String) -> Result<Vec<u8>> {
        let person = types::person(&person)?;
        self.inner.with(|engine| Ok(engine.verification_code(&person).to_bytes()))
    }

    /// Checks a code scanned from a person's screen; a match marks them verified.
    pub fn check_scanned_code(&self, person: String, scanned: Vec<u8>) -> Result<Verification> {
        let person = types::person(&person)?;
        self.inner.with(|engine| {
            Ok(match engine.check_scanned_code(&scanned, &person)? {
                VerificationOutcome::Verified => Verification::Verified,
                VerificationOutcome::Mismatch => Verification::Mismatch,
            })
        })
    }

    /// Marks a person verified after comparing safety numbers.
    pub fn mark_verified(&self, person: String) -> Result<()> {
        let person = types::person(&person)?;
        self.inner.with(|engine| engine.mark_verified(&person))
    }

    /// Accepts the new identity key an account now shows (after comparing safety
    /// numbers again); the contact starts unverified.
    pub fn accept_identity_change(&self, account: String) -> Result<Contact> {
        let account = types::account_id(&account)?;
        self.inner.with(|engine| Ok(engine.accept_identity_change(&account)?.into()))
    }
}
