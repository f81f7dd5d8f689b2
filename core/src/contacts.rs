//! The people this device has met, and the identity key it holds for each.
//!
//! A person is known by their relay account: every device certificate names the
//! account it belongs to. The first identity key seen for an account is kept (trust on
//! first use) until the person checks it by safety number or QR code
//! ([`ContactBook::mark_verified`]). A certificate that names a known account with
//! another identity key is never taken silently: the book records the new key as a
//! change waiting for the person's decision, the engine reports it as a security event,
//! and inviting that account is refused until the person accepts the new key
//! ([`ContactBook::accept_change`]) — after comparing safety numbers, since a changed
//! key is exactly what a relay or an impostor handing out a forged card would produce.
//!
//! The book also keeps each person's newest device roster (the highest version of
//! their contact card seen, [`ContactBook::observe_card`]): a device that is not on it
//! — revoked, or never approved by the person — is refused everywhere
//! ([`ContactBook::allows`]).

use std::collections::BTreeMap;

use huisclos_protocol::ids::AccountId;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, DamageKind, InvalidInput, Limit, Missing, Result, StoredRecord};
use crate::identity::{CertificateBody, ContactCard, IdentityPublicKey};
use huisclos_protocol::ids::DeviceId;

/// The most contacts one profile keeps (people met in all spaces together).
pub const MAX_CONTACTS: usize = 65_536;

/// A person as this device knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Their relay account.
    pub account: AccountId,
    /// The identity key held for them.
    pub identity: IdentityPublicKey,
    /// Their name, from their newest certificate seen.
    pub name: String,
    /// Whether the person compared safety numbers (or scanned a code) with them.
    pub verified: bool,
    /// When first seen, by this device's clock.
    pub first_seen: u64,
    /// Another identity key seen for the same account, waiting for a decision.
    pub changed_to: Option<IdentityPublicKey>,
    /// Their newest roster seen: its version and its devices (id, MLS key).
    pub roster: Option<Roster>,
    /// The identity key their current one replaced (a signed transition was seen):
    /// their devices still certified under it speak for them while their roster
    /// lists them.
    pub previous: Option<IdentityPublicKey>,
}

/// A person's devices as their newest contact card lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// The card's version.
    pub version: u32,
    /// Each device's id and MLS key.
    pub devices: Vec<([u8; 16], [u8; 32])>,
    /// The card itself (wire bytes), for a space manager who adds one of its devices.
    pub card: Vec<u8>,
}

impl Roster {
    /// The roster of `card`.
    pub fn of(card: &ContactCard) -> Self {
        use huisclos_protocol::codec::Wire;
        let mut devices: Vec<([u8; 16], [u8; 32])> =
            card.body.devices.iter().map(|c| (*c.body.device.as_bytes(), c.body.mls_key)).collect();
        devices.sort_unstable();
        Self { version: card.body.version, devices, card: card.to_wire() }
    }

    /// Whether it lists the device with this MLS key.
    pub fn lists(&self, device: &DeviceId, mls_key: &[u8; 32]) -> bool {
        self.devices.iter().any(|(d, k)| d == device.as_bytes() && k == mls_key)
    }
}

/// What one sighting of a (verified) contact card meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardSighting {
    /// A newer roster than the one held (or the first): taken.
    Newer,
    /// The roster held.
    Same,
    /// An older roster: ignored.
    Older,
    /// Another roster under the same version: only the identity key's holder signs
    /// cards, so two of them disagree. Reported; the one held stays.
    Conflict,
    /// The card's identity key is not the one held for its account (a change, reported
    /// as such by [`ContactBook::observe`]).
    OtherKey,
    /// The card replaces the identity key held for the person by a signed transition:
    /// taken, and the person is unverified again.
    Rotated {
        /// The key replaced.
        previous: IdentityPublicKey,
    },
}

/// What one sighting of a certificate meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sighting {
    /// A person not met before.
    New,
    /// The key already held for them.
    Known,
    /// Another key than the one held: report it.
    Changed {
        /// The key held until now.
        previous: IdentityPublicKey,
        /// Whether that key had been verified.
        was_verified: bool,
    },
    /// The same changed key again (already reported).
    StillChanged,
}

#[derive(Serialize, Deserialize)]
struct ContactRecord {
    account: [u8; 16],
    identity: [u8; 32],
    name: String,
    verified: bool,
    first_seen: u64,
    changed_to: Option<[u8; 32]>,
    roster: Option<Roster>,
    previous: Option<[u8; 32]>,
}

/// A contact as release 0.1 stored it.
#[derive(Deserialize)]
struct ContactRecordV1 {
    account: [u8; 16],
    identity: [u8; 32],
    name: String,
    verified: bool,
    first_seen: u64,
    changed_to: Option<[u8; 32]>,
}

/// Every contact of a profile.
#[derive(Debug, Default, Clone)]
pub struct ContactBook {
    contacts: BTreeMap<AccountId, Contact>,
}

impl ContactBook {
    /// Records a certificate seen at `now` and says what it meant.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when the book is full.
    pub fn observe(&mut self, certificate: &CertificateBody, now: u64) -> Result<Sighting> {
        let Some(contact) = self.contacts.get_mut(&certificate.account) else {
            if self.contacts.len() >= MAX_CONTACTS {
                return Err(CoreError::Invalid(InvalidInput::TooMany {
                    limit: Limit::Contacts,
                    max: MAX_CONTACTS as u64,
                }));
            }
            self.contacts.insert(
                certificate.account,
                Contact {
                    account: certificate.account,
                    identity: certificate.identity,
                    name: certificate.name.to_string(),
                    verified: false,
                    first_seen: now,
                    changed_to: None,
                    roster: None,
                    previous: None,
                },
            );
            return Ok(Sighting::New);
        };
        if contact.identity == certificate.identity {
            contact.name = certificate.name.to_string();
            return Ok(Sighting::Known);
        }
        if contact.changed_to == Some(certificate.identity) {
            return Ok(Sighting::StillChanged);
        }
        contact.changed_to = Some(certificate.identity);
        Ok(Sighting::Changed { previous: contact.identity, was_verified: contact.verified })
    }

    /// Takes a verified card's roster for its person (seen at `now`), when it is newer
    /// than the one held.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when the book is full.
    pub fn observe_card(&mut self, card: &ContactCard, now: u64) -> Result<CardSighting> {
        let Some(first) = card.body.devices.as_slice().first() else { return Ok(CardSighting::Older) };
        let account = first.body.account;
        // A transition (verified with the card) from the key held: the person's key
        // was replaced, by the holder of the old one.
        if let (Some(transition), Some(contact)) = (&card.body.transition, self.contacts.get_mut(&account))
            && contact.identity == transition.body.previous
            && contact.identity != card.body.identity
        {
            contact.previous = Some(contact.identity);
            contact.identity = card.body.identity;
            contact.verified = false;
            contact.changed_to = None;
            contact.roster = Some(Roster::of(card));
            contact.name = first.body.name.to_string();
            return Ok(CardSighting::Rotated { previous: transition.body.previous });
        }
        self.observe(&first.body, now)?;
        let Some(contact) = self.contacts.get_mut(&account) else { return Ok(CardSighting::Older) };
        if contact.identity != card.body.identity {
            return Ok(CardSighting::OtherKey);
        }
        if let Some(transition) = &card.body.transition
            && contact.previous != Some(transition.body.previous)
        {
            // A key that succeeds another (a person restored from their recovery words
            // moves to a new key, often under a new account): reported once.
            contact.previous = Some(transition.body.previous);
            contact.roster = Some(Roster::of(card));
            return Ok(CardSighting::Rotated { previous: transition.body.previous });
        }
        let roster = Roster::of(card);
        Ok(match &contact.roster {
            Some(held) if held.version > roster.version => CardSighting::Older,
            Some(held) if held.version == roster.version && held.devices == roster.devices => {
                // The same devices, possibly another issue of the card: kept current.
                contact.roster = Some(roster);
                CardSighting::Same
            }
            Some(held) if held.version == roster.version => CardSighting::Conflict,
            _ => {
                contact.roster = Some(roster);
                CardSighting::Newer
            }
        })
    }

    /// Whether a device with this certificate may speak for its person: not while its
    /// account is known under another identity key, and not when the person's newest
    /// roster seen does not list it. A person whose roster was never seen is taken on
    /// their certificate (signed by their identity key).
    pub fn allows(&self, certificate: &CertificateBody) -> bool {
        match self.contacts.get(&certificate.account) {
            None => true,
            Some(contact)
                if contact.identity != certificate.identity && contact.previous != Some(certificate.identity) =>
            {
                false
            }
            Some(contact) => {
                contact.roster.as_ref().is_none_or(|roster| roster.lists(&certificate.device, &certificate.mls_key))
            }
        }
    }

    /// The newest card held of the person with `identity`.
    pub fn card_of(&self, identity: &IdentityPublicKey) -> Option<ContactCard> {
        use huisclos_protocol::codec::Wire;
        let contact = self.contacts.values().find(|c| &c.identity == identity)?;
        ContactCard::from_wire(&contact.roster.as_ref()?.card).ok()
    }

    /// Whether a signed transition from `previous` to `next` was seen for a contact.
    pub fn knows_transition(&self, previous: &IdentityPublicKey, next: &IdentityPublicKey) -> bool {
        self.contacts.values().any(|c| &c.identity == next && c.previous.as_ref() == Some(previous))
    }

    /// Whether `identity` may be trusted as the holder of `account`: refused while the
    /// account is known under another key.
    ///
    /// # Errors
    /// [`CoreError::IdentityChanged`] with the person's name.
    pub fn check(&self, account: &AccountId, identity: &IdentityPublicKey) -> Result<()> {
        match self.contacts.get(account) {
            Some(contact) if &contact.identity != identity => Err(CoreError::IdentityChanged(contact.name.clone())),
            _ => Ok(()),
        }
    }

    /// Takes the changed key of `account` as the person's key, unverified.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when no change waits for that account.
    pub fn accept_change(&mut self, account: &AccountId) -> Result<Contact> {
        let contact = self.contacts.get_mut(account).ok_or(CoreError::NotFound(Missing::Contact))?;
        let new = contact.changed_to.take().ok_or(CoreError::NotFound(Missing::IdentityChange))?;
        contact.identity = new;
        contact.verified = false;
        // The old key's roster says nothing of the new key's devices.
        contact.roster = None;
        Ok(contact.clone())
    }

    /// Marks the contact holding `identity` as verified (safety numbers compared).
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when no contact holds that key.
    pub fn mark_verified(&mut self, identity: &IdentityPublicKey) -> Result<()> {
        let contact = self
            .contacts
            .values_mut()
            .find(|c| &c.identity == identity)
            .ok_or(CoreError::NotFound(Missing::Contact))?;
        contact.verified = true;
        Ok(())
    }

    /// The contact of `account`.
    pub fn get(&self, account: &AccountId) -> Option<&Contact> {
        self.contacts.get(account)
    }

    /// Every contact, by account.
    pub fn all(&self) -> Vec<Contact> {
        self.contacts.values().cloned().collect()
    }

    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        let records: Vec<ContactRecord> = self
            .contacts
            .values()
            .map(|c| ContactRecord {
                account: *c.account.as_bytes(),
                identity: *c.identity.as_bytes(),
                name: c.name.clone(),
                verified: c.verified,
                first_seen: c.first_seen,
                changed_to: c.changed_to.map(|k| *k.as_bytes()),
                roster: c.roster.clone(),
                previous: c.previous.map(|k| *k.as_bytes()),
            })
            .collect();
        postcard::to_allocvec(&records).map_err(|_| CoreError::Store(crate::error::StoreFailure::Encoding))
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let records: Vec<ContactRecord> = postcard::from_bytes(bytes)
            .map_err(|_| CoreError::damaged(StoredRecord::Contacts, DamageKind::DoesNotDecode))?;
        Ok(Self::from_records(records))
    }

    /// The contact book as release 0.1 stored it (no rosters).
    pub(crate) fn from_bytes_v1(bytes: &[u8]) -> Result<Self> {
        let records: Vec<ContactRecordV1> = postcard::from_bytes(bytes)
            .map_err(|_| CoreError::damaged(StoredRecord::Contacts, DamageKind::DoesNotDecode))?;
        Ok(Self::from_records(
            records
                .into_iter()
                .map(|r| ContactRecord {
                    account: r.account,
                    identity: r.identity,
                    name: r.name,
                    verified: r.verified,
                    first_seen: r.first_seen,
                    changed_to: r.changed_to,
                    roster: None,
                    previous: None,
                })
                .collect(),
        ))
    }

    fn from_records(records: Vec<ContactRecord>) -> Self {
        let contacts = records
            .into_iter()
            .map(|r| {
                let account = AccountId::from_bytes(r.account);
                let contact = Contact {
                    account,
                    identity: IdentityPublicKey::from_bytes(r.identity),
                    name: r.name,
                    verified: r.verified,
                    first_seen: r.first_seen,
                    changed_to: r.changed_to.map(IdentityPublicKey::from_bytes),
                    roster: r.roster,
                    previous: r.previous.map(IdentityPublicKey::from_bytes),
                };
                (account, contact)
            })
            .collect();
        Self { contacts }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::identity::{DeviceKeys, IdentityKey, test_certificate};

    #[test]
    fn a_changed_key_is_reported_once_refused_until_accepted_and_then_unverified() {
        let account = AccountId::from_bytes([3; 16]);
        let bob = IdentityKey::generate();
        let impostor = IdentityKey::generate();
        let real = test_certificate(&bob, account, &DeviceKeys::generate(), "Bob").body;
        let fake = test_certificate(&impostor, account, &DeviceKeys::generate(), "Bob").body;
        let mut book = ContactBook::default();
        assert_eq!(book.observe(&real, 10).unwrap(), Sighting::New);
        assert_eq!(book.observe(&real, 11).unwrap(), Sighting::Known);
        book.mark_verified(&bob.public()).unwrap();
        assert_eq!(book.observe(&fake, 12).unwrap(), Sighting::Changed { previous: bob.public(), was_verified: true });
        assert_eq!(book.observe(&fake, 13).unwrap(), Sighting::StillChanged);
        assert!(
            matches!(book.check(&account, &impostor.public()), Err(CoreError::IdentityChanged(name)) if name == "Bob")
        );
        assert!(book.check(&account, &bob.public()).is_ok());

        let book = ContactBook::from_bytes(&book.to_bytes().unwrap()).unwrap();
        let mut book = book;
        let accepted = book.accept_change(&account).unwrap();
        assert_eq!(accepted.identity, impostor.public());
        assert!(!accepted.verified, "a new key starts unverified");
        assert!(book.check(&account, &impostor.public()).is_ok());
        assert!(matches!(book.accept_change(&account), Err(CoreError::NotFound(_))));
        // The old key seen again is itself a change now.
        assert!(matches!(book.observe(&real, 14).unwrap(), Sighting::Changed { was_verified: false, .. }));
    }
}
