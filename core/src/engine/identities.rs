//! Who the person is: identity, devices, linking, rosters and contacts.

use super::*;

impl Engine {
    // -----------------------------------------------------------------------------
    // Identity.

    /// This person's identity key.
    pub fn identity(&self) -> IdentityPublicKey {
        self.identity
    }

    /// The profile's directory.
    pub fn profile_dir(&self) -> &std::path::Path {
        self.store.dir()
    }

    /// This device's id at the relay.
    pub fn device_id(&self) -> DeviceId {
        self.device.device_id()
    }

    /// This person's display name.
    pub fn name(&self) -> &DisplayName {
        &self.name
    }

    /// The relay account, once created.
    pub fn account(&self) -> Option<AccountId> {
        self.account
    }

    /// The device's authentication key, for the transport's login.
    pub fn auth_key(&self) -> &ed25519_dalek::SigningKey {
        &self.device.auth
    }

    /// This person's recovery words: the identity key as 24 words, to be written down
    /// and kept away from the device ([`crate::recovery`]).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] on a linked device, which does not hold the identity
    /// key.
    pub fn recovery_words(&self) -> Result<RecoveryWords> {
        RecoveryWords::of(self.identity_key()?)
    }

    /// Whether this device holds the person's identity key (it created the identity,
    /// or was restored from the recovery words). Only such a device links and revokes
    /// devices and shows the recovery words.
    pub fn holds_identity_key(&self) -> bool {
        self.identity_key.is_some()
    }

    /// The contact card to hand to people who will invite this person: the person's
    /// newest roster.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] before the account exists.
    pub fn contact_card(&self) -> Result<ContactCard> {
        self.card.clone().ok_or(CoreError::NotFound(Missing::Account))
    }

    /// The certificates of this person's devices, this one first.
    pub fn devices(&self) -> Vec<DeviceCertificate> {
        self.certificate.iter().chain(self.devices.iter()).cloned().collect()
    }

    /// The people this device has met in its spaces, with the identity key held for
    /// each and whether it was verified.
    pub fn contacts(&self) -> Vec<Contact> {
        self.contacts.all()
    }

    /// The sixty digits to compare with `person` (the same on both phones).
    pub fn safety_number(&self, person: &IdentityPublicKey) -> SafetyNumber {
        SafetyNumber::between(&self.identity, person)
    }

    /// The code to show `person` as a QR code, for them to scan.
    pub fn verification_code(&self, person: &IdentityPublicKey) -> VerificationCode {
        VerificationCode::new(self.identity, *person)
    }

    /// Checks a code scanned from `person`'s screen; on a match, the contact is marked
    /// verified.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when the bytes are not a code; [`CoreError::NotFound`]
    /// when `person` is no contact.
    pub fn check_scanned_code(&mut self, scanned: &[u8], person: &IdentityPublicKey) -> Result<VerificationOutcome> {
        let outcome = VerificationCode::check_scanned(scanned, &self.identity, person)?;
        if outcome == VerificationOutcome::Verified {
            self.mark_verified(person)?;
        }
        Ok(outcome)
    }

    /// Marks `person` verified: the safety numbers were compared and are the same.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when `person` is no contact.
    pub fn mark_verified(&mut self, person: &IdentityPublicKey) -> Result<()> {
        self.contacts.mark_verified(person)?;
        self.store.put_contacts(&self.contacts)?;
        self.persist()
    }

    /// Takes the changed identity key of `account` as the person's (unverified), after
    /// the person compared safety numbers with them.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when no change waits for that account.
    pub fn accept_identity_change(&mut self, account: &AccountId) -> Result<Contact> {
        let contact = self.contacts.accept_change(account)?;
        self.store.put_contacts(&self.contacts)?;
        self.persist()?;
        Ok(contact)
    }

    /// Revokes another of this person's devices (lost, seized): the relay refuses it
    /// from then on, and it is removed from every space this device shares with it,
    /// each removal rotating the space's history key. Contact cards no longer list it.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when it is not one of this person's other devices.
    pub fn revoke_device(&mut self, device: &DeviceId) -> Result<()> {
        if device == &self.device.device_id() {
            return Err(CoreError::Invalid(InvalidInput::RevokeSelf));
        }
        self.identity_key()?;
        if !self.devices.iter().any(|c| &c.body.device == device) {
            return Err(CoreError::NotFound(Missing::OwnDevice));
        }
        // The next roster, without it: every member refuses it from the moment they
        // read that roster, before its removal from each space is even committed.
        let remaining: Vec<DeviceCertificate> = self
            .certificate
            .iter()
            .cloned()
            .chain(self.devices.iter().filter(|c| &c.body.device != device).cloned())
            .collect();
        let card = self.issue_roster(remaining)?;
        self.queue_device_item(&DeviceItem::Revoke { device: *device.as_bytes() })?;
        self.queue_roster_notice(&card)?;
        self.announce_roster()?;
        self.remove_device_everywhere(device)?;
        self.save_profile()?;
        self.persist()?;
        self.push_job(Job::Devices);
        Ok(())
    }

    /// Replaces this person's identity key (on the device that holds it): a new key,
    /// a transition signed by the old and the new, every device of the person
    /// certified again under the new key (same devices, same keys), a new roster that
    /// carries the transition, sent to every space and every device of the person;
    /// then each device moves its own place in every space to its new certificate,
    /// keeping its role. Contacts see the change of key, signed by the old one.
    ///
    /// Do it when a device that held the identity key is lost or seized (see
    /// [`Engine::restore_identity_key`]), then revoke that device. Show the person the
    /// new recovery words: the old ones no longer make a roster anyone takes.
    ///
    /// The devices in `lost` are left out of the new roster and revoked (at the relay
    /// and in every space).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] on a device that does not hold the identity key;
    /// [`CoreError::Invalid`] when `lost` names this device.
    pub fn rotate_identity(&mut self, lost: &[DeviceId]) -> Result<()> {
        if lost.contains(&self.device.device_id()) {
            return Err(CoreError::Invalid(InvalidInput::RevokeSelf));
        }
        let old = self.identity_key()?;
        let next = IdentityKey::generate();
        let at = UnixSeconds::new(self.now).map_err(CoreError::Decode)?;
        let transition = IdentityTransition::sign(old, &next, at);
        let mut devices = Vec::new();
        for certificate in self.devices().into_iter().filter(|c| !lost.contains(&c.body.device)) {
            let body = CertificateBody { identity: next.public(), created_at: at, ..certificate.body };
            devices.push(DeviceCertificate::issue(&next, body)?);
        }
        let previous: Vec<Vec<u8>> = self.devices.iter().map(Wire::to_wire).collect();
        let gone: Vec<DeviceId> = self.devices.iter().map(|c| c.body.device).filter(|d| lost.contains(d)).collect();
        for device in &gone {
            self.queue_device_item(&DeviceItem::Revoke { device: *device.as_bytes() })?;
        }
        self.identity = next.public();
        self.identity_key = Some(next);
        self.transition = Some(transition);
        self.certificate = devices.first().cloned();
        let card = self.issue_roster(devices)?;
        self.queue_device_item(&DeviceItem::RosterAfterRotation { card: card.to_wire(), previous })?;
        self.move_to_new_identity()?;
        for device in &gone {
            self.remove_device_everywhere(device)?;
        }
        self.save_profile()?;
        self.persist()?;
        self.push_job(Job::Devices);
        Ok(())
    }

    /// Makes this device, which lost the identity key's holder (seized, or gone), the
    /// holder again from the recovery words, and replaces the key at once
    /// ([`Engine::rotate_identity`]), revoking the `lost` devices: whoever has the old
    /// key (the seized device) can no longer make a roster anyone takes.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the words are not this person's identity key.
    pub fn restore_identity_key(&mut self, words: &RecoveryWords, lost: &[DeviceId]) -> Result<()> {
        let key = words.identity_key()?;
        if key.public() != self.identity {
            return Err(CoreError::Verification(Unverified::WrongPerson));
        }
        self.identity_key = Some(key);
        self.rotate_identity(lost)
    }

    /// After this person's identity key was replaced: the new roster goes to every
    /// space, and this device moves its place in each to its new certificate.
    pub(super) fn move_to_new_identity(&mut self) -> Result<()> {
        self.announce_roster()?;
        let spaces: Vec<GroupId> =
            self.spaces.iter().filter(|(_, s)| !s.meta.removed && !s.meta.stalled).map(|(id, _)| *id).collect();
        for space in spaces {
            self.enqueue(OutboxItem::Operation { group: *space.as_bytes(), operation: Operation::RotateIdentity })?;
        }
        Ok(())
    }

    /// Whether a signed transition from `previous` to `next` is known here.
    pub(super) fn transition_known(&self, previous: &IdentityPublicKey, next: &IdentityPublicKey) -> bool {
        self.transition.as_ref().is_some_and(|t| &t.body.previous == previous && &t.body.next == next)
            || self.contacts.knows_transition(previous, next)
    }

    /// Queues the person's newest roster for their other devices' inboxes.
    pub(super) fn queue_roster_notice(&mut self, card: &ContactCard) -> Result<()> {
        self.queue_device_item(&DeviceItem::Roster { card: card.to_wire() })
    }

    /// Appends `item` to the device outbox (written with this step).
    pub(super) fn queue_device_item(&mut self, item: &DeviceItem) -> Result<()> {
        let index = self.next_device_item;
        self.next_device_item += 1;
        self.store.device_outbox().put(index, item)
    }

    /// Queues the removal of `device` from every space it is in here.
    fn remove_device_everywhere(&mut self, device: &DeviceId) -> Result<()> {
        let spaces: Vec<GroupId> = self
            .spaces
            .iter()
            .filter(|(_, s)| !s.meta.removed && !s.meta.stalled && Self::has_device(&s.group, device))
            .map(|(id, _)| *id)
            .collect();
        for space in spaces {
            self.enqueue(OutboxItem::Operation {
                group: *space.as_bytes(),
                operation: Operation::RemoveDevice { device: *device.as_bytes() },
            })?;
        }
        Ok(())
    }

    /// Starts linking a new device: the offer to show it (QR code or text). A new offer
    /// replaces the previous one.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] before the account exists.
    pub fn link_offer(&mut self) -> Result<LinkOffer> {
        self.identity_key()?;
        let account = self.account.ok_or(CoreError::NotFound(Missing::Account))?;
        let relay = self.relay.clone().ok_or(CoreError::NotFound(Missing::Relay))?;
        let offer = LinkOffer::new(account, self.identity, relay);
        self.link_offer = Some(offer.clone());
        // Kept until answered, so the request may come after a restart.
        self.save_profile()?;
        self.persist()?;
        Ok(offer)
    }

    /// The six digits the new device shows for `request`, computed with this device's
    /// open offer, for the person to compare before approving.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when no offer is open here.
    pub fn link_confirmation_code(&self, request: &LinkRequest) -> Result<String> {
        let offer = self.link_offer.as_ref().ok_or(CoreError::Verification(Unverified::NoLinkOffer))?;
        Ok(request.confirmation_code(offer))
    }

    /// Approves the new device's request (the person confirmed its name and
    /// [`LinkRequest::confirmation_code`]): certifies it, registers it at the relay and
    /// sends it the identity key, sealed to it, through its inbox. Returns its
    /// certificate.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the request does not answer this device's
    /// current offer or does not verify.
    pub fn approve_link(&mut self, request: &LinkRequest) -> Result<DeviceCertificate> {
        self.identity_key()?;
        let offer = self.link_offer.as_ref().ok_or(CoreError::Verification(Unverified::NoLinkOffer))?;
        request.verify(offer)?;
        let account = self.account.ok_or(CoreError::NotFound(Missing::Account))?;
        let device = request.device();
        if self.devices().iter().any(|c| c.body.device == device) {
            return Err(CoreError::Invalid(InvalidInput::AlreadyLinked));
        }
        if self.devices().len() >= crate::identity::MAX_CARD_DEVICES {
            return Err(CoreError::Invalid(InvalidInput::TooMany {
                limit: Limit::Devices,
                max: crate::identity::MAX_CARD_DEVICES as u64,
            }));
        }
        let body = CertificateBody {
            identity: self.identity,
            account,
            device,
            mls_key: request.body.mls_key,
            name: request.body.name.clone(),
            created_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
        };
        let certificate = DeviceCertificate::issue(self.identity_key()?, body)?;
        // Answered once: the offer is gone.
        self.link_offer = None;
        let mut devices = self.devices();
        devices.push(certificate.clone());
        let card = self.issue_roster(devices)?;
        self.queue_device_item(&DeviceItem::Link { request: request.to_wire() })?;
        self.queue_roster_notice(&card)?;
        self.announce_roster()?;
        self.save_profile()?;
        self.persist()?;
        self.push_job(Job::Devices);
        Ok(certificate)
    }

    /// The engine of a device that was just linked: the grant's roster with the
    /// pending link's device keys, in `vault`. It does not hold the identity key. It
    /// tells the person's other devices it is ready once online.
    pub(crate) fn from_grant(vault: Arc<Vault>, pending: &PendingLink, grant: DeviceGrant) -> Result<Self> {
        let device = pending.device.device_id();
        let certificate = grant.own_certificate(&device)?.clone();
        let device_keys = DeviceKeys { auth: pending.device.auth.clone(), mls: pending.device.mls.clone() };
        let name = certificate.body.name.clone();
        let account = certificate.body.account;
        let mut engine = Self::assemble_with(
            vault,
            grant.card.body.identity,
            None,
            device_keys,
            name,
            Some(account),
            Some(certificate),
            0,
        );
        engine.relay = Some(pending.offer.relay.clone());
        engine.adopt_own_card(grant.card)?;
        engine.next_device_item = 1;
        engine.store.device_outbox().put(0, &DeviceItem::Announce)?;
        engine.save_profile()?;
        Ok(engine)
    }

    /// Every long-term secret of the profile (identity key, device keys, history keys,
    /// the store's keys), for tests that search the store's files for them.
    #[cfg(feature = "test-secrets")]
    #[doc(hidden)]
    pub fn secrets_for_tests(&self) -> Vec<Zeroizing<Vec<u8>>> {
        let mut secrets = self.store.vault().keys_for_tests();
        if let Some(key) = &self.identity_key {
            secrets.push(Zeroizing::new(key.to_secret().to_vec()));
        }
        secrets.push(Zeroizing::new(self.device.auth.to_bytes().to_vec()));
        secrets.push(Zeroizing::new(self.device.mls.to_bytes().to_vec()));
        for space in self.spaces.values() {
            for key in space.history_keys() {
                secrets.push(Zeroizing::new(key.expose_for_storage().to_vec()));
            }
        }
        secrets
    }

    /// Tells the engine the time, for commands given between inputs (a post written
    /// offline is dated with it). Every input that carries `now` sets it too.
    pub fn set_now(&mut self, now: Now) {
        self.now = now;
    }

    /// Remembers the invitation to redeem at the next connection.
    pub fn set_invitation(&mut self, invitation: InvitationToken) {
        self.invitation = Some(invitation);
    }

    /// Joins the relay of `invitation`: its address and key are kept in the profile,
    /// and the invitation is redeemed at the next connection (kept, sealed, until then).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when this profile already has an account.
    pub fn join_relay(&mut self, invitation: &Invitation) -> Result<()> {
        if self.account.is_some() {
            return Err(CoreError::Invalid(InvalidInput::AlreadyHasAccount));
        }
        self.relay = Some(RelayEndpoint::from_invitation(invitation));
        // What another relay's key announced says nothing about this one.
        self.relay_next = None;
        self.invitation = Some(invitation.token().clone());
        self.pending_invitation = Some(invitation.clone());
        self.save_profile()?;
        self.store.put_relay_next(None)?;
        self.persist()
    }

    /// Where this profile's relay is, once it joined one.
    pub fn relay(&self) -> Option<&RelayEndpoint> {
        self.relay.as_ref()
    }
}
