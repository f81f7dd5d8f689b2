//! What the person asks for: spaces, posts, comments, invitations, roles, removals.

use super::*;

impl Engine {
    // -----------------------------------------------------------------------------
    // Commands.

    /// Creates a space; this person becomes its first space manager. The relay learns
    /// of it when the outbox is sent.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] before the account exists; MLS and store errors.
    pub fn create_space(
        &mut self,
        name: SpaceName,
        description: SpaceDescription,
        policy: Policy,
        history: HistoryMode,
    ) -> Result<GroupId> {
        let rules = SpaceRules::new(name, description, policy, history, self.identity);
        self.found_space(rules)
    }

    /// Creates the MLS group of a new space with `rules`, its first history key, and
    /// queues its creation at the relay.
    pub(super) fn found_space(&mut self, rules: SpaceRules) -> Result<GroupId> {
        let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Account))?;
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let id = GroupId::from_bytes(id);
        let ledger = HistoryLedger {
            generation: 0,
            start_epoch: Epoch::new(0).map_err(CoreError::Decode)?,
            key_commitment: None,
            closed: crate::history::initial_chain(&id),
        };
        let group = MlsGroup::builder()
            .with_group_id(openmls_group_id(&id))
            .ciphersuite(crate::mls::CIPHERSUITE)
            .with_wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .max_past_epochs(crate::mls::MAX_PAST_EPOCHS)
            .with_capabilities(crate::mls::capabilities())
            .with_group_context_extensions(crate::mls::group_context_extensions(&rules, &ledger)?)
            .build(&self.provider, &DeviceSigner(&self.device.mls), crate::mls::credential_with_key(&certificate))
            .map_err(mls_error)?;
        // Generation 0's key is epoch 0's: the creator alone holds it until it adds
        // someone, who receives it in a grant checked against the ledger.
        let key = self.derive_history_key(&group, &id, 0)?;
        let creator = Seat { identity: self.identity, mls_key: self.device.mls_public() };
        let keeps = rules.history == HistoryMode::Keep;
        let mut meta = GroupMeta::new(History::new_space(&id, *key, creator, keeps));
        meta.accepted = true;
        meta.caught_up = true;
        meta.cursor_known = true;
        self.spaces.insert(id, Space { group, meta });
        self.save_group(&id)?;
        self.enqueue(OutboxItem::CreateGroup { group: *id.as_bytes() })?;
        self.persist()?;
        Ok(id)
    }

    /// Recreates a space that a forbidden commit stalled: a new space with the same
    /// name, description, policy, history mode and roles, and every member but the one
    /// whose commit stalled it, each with all the devices they had. Members' devices
    /// join it without an invitation to accept and link it to the stalled one, whose
    /// feed stays readable where it was read. Content from before lives on in those
    /// feeds; people added later read the new space's history only.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] unless the space is stalled and not yet recreated;
    /// [`CoreError::Forbidden`] unless this person is a space manager in it.
    pub fn recreate_space(&mut self, stalled: &GroupId) -> Result<GroupId> {
        let entry = self.spaces.get(stalled).ok_or(CoreError::NotFound(Missing::Space))?;
        if !entry.meta.stalled || entry.meta.removed {
            return Err(CoreError::Invalid(InvalidInput::NotStalled));
        }
        if entry.meta.replaced_by.is_some() {
            return Err(CoreError::Invalid(InvalidInput::AlreadyRecreated));
        }
        let offender = entry.meta.stalled_by.map(IdentityPublicKey::from_bytes);
        let old_rules = self.rules(stalled)?;
        let me = self.identity;
        if !old_rules.role_of(&me).may_manage_space() {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Recreate)));
        }
        // Who comes along, device by device, as the stalled group last agreed.
        let mut people: BTreeMap<IdentityPublicKey, Vec<Vec<u8>>> = BTreeMap::new();
        let mut own_devices = Vec::new();
        for member in entry.group.members() {
            let certificate = crate::mls::certificate_of(&member.credential, &member.signature_key)?;
            if Some(certificate.body.identity) == offender {
                continue;
            }
            if certificate.body.identity == me {
                if certificate.body.device != self.device.device_id() {
                    own_devices.push(certificate.to_wire());
                }
            } else {
                people.entry(certificate.body.identity).or_default().push(certificate.to_wire());
            }
        }
        let mut rules = match offender {
            Some(offender) => old_rules.without_role(&offender),
            None => old_rules.clone(),
        };
        rules.replaces = Some(*stalled);
        let successor = self.found_space(rules)?;
        for certificate in own_devices {
            self.enqueue(OutboxItem::Operation {
                group: *successor.as_bytes(),
                operation: Operation::AddDevice { certificate },
            })?;
        }
        for (identity, certificates) in people {
            let role = old_rules.role_of(&identity) as u8;
            self.enqueue(OutboxItem::Operation {
                group: *successor.as_bytes(),
                operation: Operation::Readd { certificates, role },
            })?;
        }
        let entry = self.spaces.get_mut(stalled).ok_or(CoreError::NotFound(Missing::Space))?;
        entry.meta.replaced_by = Some(*successor.as_bytes());
        self.save_group(stalled)?;
        self.persist()?;
        self.events.push_back(ClientEvent::Recreated { stalled: *stalled, successor });
        Ok(successor)
    }

    pub(super) fn queue_operation(&mut self, space: &GroupId, operation: Operation) -> Result<()> {
        if !self.spaces.contains_key(space) {
            return Err(CoreError::NotFound(Missing::Space));
        }
        self.enqueue(OutboxItem::Operation { group: *space.as_bytes(), operation })?;
        self.persist()
    }

    /// Invites a person (all the devices on their contact card) with a role.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] when this person may not invite here.
    pub fn invite(&mut self, space: &GroupId, card: &ContactCard, role: Role) -> Result<()> {
        card.verify()?;
        let rules = self.rules(space)?;
        let my_role = rules.role_of(&self.identity);
        if !(my_role.may_manage_space() || rules.policy == Policy::Open && my_role.may_contribute()) {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Invite)));
        }
        if let Err(error) = self.trust_card(card) {
            // The sighting itself is kept (and was reported); the invitation is not.
            self.persist()?;
            return Err(error);
        }
        // The members learn the invitee's roster before the commit adding its devices.
        self.enqueue(OutboxItem::Roster { group: *space.as_bytes(), card: card.to_wire() })?;
        self.queue_operation(space, Operation::Invite { card: card.to_wire(), role: role as u8 })
    }

    /// Re-admits a member who lost every device and restored their identity from the
    /// recovery words on a new one: in two commits, their old devices are removed (the
    /// history key rotates, so a seized phone reads nothing newer) and the devices on
    /// `card` are added with the role the person had. The card must be signed by the
    /// member's own identity key, so only the holder of the words can make one.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager;
    /// [`CoreError::NotFound`] if the card's person is not a member here;
    /// [`CoreError::Invalid`] for this person's own card, or a card with no new device.
    pub fn readmit(&mut self, space: &GroupId, card: &ContactCard) -> Result<()> {
        card.verify()?;
        let rules = self.rules(space)?;
        if !rules.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Readmit)));
        }
        let person = card.body.identity;
        if person == self.identity {
            return Err(CoreError::Invalid(InvalidInput::ReadmitSelf));
        }
        // The person as a member: under this card's key, or under the key it replaced
        // (a person restored from the recovery words moves to a new key).
        let previous = card.body.transition.as_ref().map(|t| t.body.previous);
        let member = self
            .members(space)?
            .into_iter()
            .find(|m| m.identity == person || Some(m.identity) == previous)
            .ok_or(CoreError::NotFound(Missing::Member))?;
        if card.body.devices.as_slice().iter().all(|c| member.devices.contains(&c.body.device)) {
            return Err(CoreError::Invalid(InvalidInput::NothingToReadmit));
        }
        if let Err(error) = self.trust_card(card) {
            self.persist()?;
            return Err(error);
        }
        self.queue_operation(space, Operation::Remove { identity: *member.identity.as_bytes() })?;
        self.queue_operation(space, Operation::Invite { card: card.to_wire(), role: member.role as u8 })
    }

    /// Removes a person (all their devices) from the space and rotates its history key.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager (or removes
    /// themself).
    pub fn remove(&mut self, space: &GroupId, person: &IdentityPublicKey) -> Result<()> {
        let rules = self.rules(space)?;
        if !rules.role_of(&self.identity).may_manage_space() && person != &self.identity {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Remove)));
        }
        self.queue_operation(space, Operation::Remove { identity: *person.as_bytes() })
    }

    /// Leaves the space, with all of this person's devices: each proposes its own
    /// removal, and the next member online commits it (a member cannot commit its own
    /// removal). The history key is rotated by that commit.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for the last space manager while others remain (name
    /// another first).
    pub fn leave(&mut self, space: &GroupId) -> Result<()> {
        let rules = self.rules(space)?;
        let me = self.identity;
        let members = self.members(space)?;
        let other_managers = members.iter().any(|m| m.identity != me && m.role.may_manage_space());
        let others = members.iter().any(|m| m.identity != me);
        if rules.role_of(&me).may_manage_space() && others && !other_managers {
            return Err(CoreError::Forbidden(Refusal::LastManagerLeaving));
        }
        self.queue_operation(space, Operation::Leave)
    }

    /// Changes a person's role.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager.
    pub fn set_role(&mut self, space: &GroupId, person: &IdentityPublicKey, role: Role) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::ChangeRoles)));
        }
        self.queue_operation(space, Operation::SetRole { identity: *person.as_bytes(), role: role as u8 })
    }

    /// Whether new devices of members need a space manager's approval in the space
    /// (meant for confidential spaces): a space manager's change.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager.
    pub fn set_device_approval(&mut self, space: &GroupId, on: bool) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::DeviceApproval)));
        }
        self.queue_operation(space, Operation::SetDeviceApproval { on })
    }

    /// The devices of members that their person's newest roster lists but that are
    /// not in the space: in a space where new devices need approval, what a space
    /// manager approves with [`Engine::approve_device`].
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown space.
    pub fn pending_devices(&self, space: &GroupId) -> Result<Vec<DeviceCertificate>> {
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let mut pending = Vec::new();
        for member in self.members(space)? {
            let card = if member.identity == self.identity {
                self.card.clone()
            } else {
                self.contacts.card_of(&member.identity)
            };
            let Some(card) = card else { continue };
            for certificate in card.body.devices.iter() {
                if !Self::has_device(&entry.group, &certificate.body.device) && self.device_allowed(&certificate.body) {
                    pending.push(certificate.clone());
                }
            }
        }
        Ok(pending)
    }

    /// Adds a member's new device to the space (a space manager's approval).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager;
    /// [`CoreError::NotFound`] unless the device is among [`Engine::pending_devices`].
    pub fn approve_device(&mut self, space: &GroupId, device: &DeviceId) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::AddOthersDevice)));
        }
        let certificate = self
            .pending_devices(space)?
            .into_iter()
            .find(|c| &c.body.device == device)
            .ok_or(CoreError::NotFound(Missing::PendingDevice))?;
        self.queue_operation(space, Operation::AddMemberDevice { certificate: certificate.to_wire() })
    }

    /// Renames the space.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager.
    pub fn rename(&mut self, space: &GroupId, name: SpaceName) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Rename)));
        }
        self.queue_operation(space, Operation::Rename { name: name.as_str().to_owned() })
    }

    /// Changes the space's description.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager.
    pub fn describe(&mut self, space: &GroupId, description: SpaceDescription) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Describe)));
        }
        self.queue_operation(space, Operation::Describe { description: description.as_str().to_owned() })
    }

    /// Accepts an invitation: the space shows among this person's spaces.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when there is no such space.
    pub fn accept_invitation(&mut self, space: &GroupId) -> Result<()> {
        let entry = self.spaces.get_mut(space).ok_or(CoreError::NotFound(Missing::Invitation))?;
        entry.meta.accepted = true;
        self.save_group(space)?;
        self.persist()?;
        self.events.push_back(ClientEvent::Joined(*space));
        Ok(())
    }

    /// The card to hand to people who may ask to join the space (text or QR code).
    /// Requests reach this device, sealed to a key whose secret only it holds; the
    /// same card is returned each time.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for a confidential space, or when this person may not
    /// admit people (a space manager; in an open space, any contributor).
    pub fn space_card(&mut self, space: &GroupId) -> Result<SpaceCard> {
        let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Account))?;
        let rules = self.rules(space)?;
        let role = rules.role_of(&self.identity);
        if !(role.may_manage_space() || rules.policy == Policy::Open && role.may_contribute()) {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::HandOutCard)));
        }
        if rules.policy == Policy::Confidential {
            return Err(CoreError::Forbidden(Refusal::ConfidentialSpace));
        }
        let entry = self.spaces.get_mut(space).ok_or(CoreError::NotFound(Missing::Space))?;
        if entry.meta.removed || entry.meta.stalled {
            return Err(CoreError::Forbidden(Refusal::NoLongerInSpace));
        }
        let secret = match entry.meta.request_secret {
            Some(secret) => Zeroizing::new(x25519_dalek::StaticSecret::from(secret)),
            None => {
                let secret = x25519_dalek::StaticSecret::random_from_rng(OsRng);
                entry.meta.request_secret = Some(secret.to_bytes());
                let public = x25519_dalek::PublicKey::from(&secret);
                entry.meta.request_key_id = Some(crate::join::request_key_id(public.as_bytes()));
                self.save_group(space)?;
                self.persist()?;
                Zeroizing::new(secret)
            }
        };
        let body = SpaceCardBody {
            space: *space,
            name: rules.name,
            description: rules.description,
            policy: rules.policy,
            issuer: certificate,
            request_key: x25519_dalek::PublicKey::from(&*secret).to_bytes(),
            issued_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
        };
        SpaceCard::issue(body, &self.device.mls)
    }

    /// Asks to join the space of `card`, with a note for the space manager. The
    /// request goes, sealed, to the device that issued the card; once admitted, the
    /// space shows among this person's spaces without an invitation to accept.
    ///
    /// # Errors
    /// [`CoreError::Verification`] for a card that does not verify;
    /// [`CoreError::Invalid`] when already a member or the note is too long.
    pub fn request_to_join(&mut self, card: &SpaceCard, note: &str) -> Result<()> {
        card.verify()?;
        if self.spaces.get(&card.body.space).is_some_and(|s| !s.meta.removed) {
            return Err(CoreError::Invalid(InvalidInput::AlreadyMember));
        }
        if !self.requested.contains(&card.body.space) && self.requested.len() >= MAX_OPEN_REQUESTS {
            return Err(CoreError::Invalid(InvalidInput::TooMany {
                limit: Limit::PendingJoinRequests,
                max: MAX_OPEN_REQUESTS as u64,
            }));
        }
        let note = JoinNote::new(note)?;
        let request = JoinRequest::sign(
            self.device.device_id(),
            &self.device.mls,
            card,
            self.contact_card()?,
            note,
            UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
        )?;
        let item = InboxItem::JoinRequest(request.seal()?).to_welcome_bytes()?;
        self.queue_device_item(&DeviceItem::JoinRequest {
            device: *card.body.issuer.body.device.as_bytes(),
            item: item.as_bytes().to_vec(),
        })?;
        self.requested.insert(card.body.space);
        self.save_profile()?;
        self.persist()?;
        self.push_job(Job::Devices);
        Ok(())
    }

    /// The requests to join the space waiting on this device for a decision.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when there is no such space.
    pub fn join_requests(&self, space: &GroupId) -> Result<Vec<JoinRequestSummary>> {
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let mut requests = Vec::new();
        for bytes in &entry.meta.join_requests {
            let request = JoinRequest::from_wire(bytes)?;
            requests.push(JoinRequestSummary {
                identity: request.body.card.body.identity,
                name: request.body.card.name().map(|n| n.to_string()).unwrap_or_default(),
                note: request.body.note.as_str().to_owned(),
                asked_at: request.body.created_at.get(),
                devices: request.body.card.body.devices.len(),
            });
        }
        Ok(requests)
    }

    pub(super) fn take_join_request(&mut self, space: &GroupId, person: &IdentityPublicKey) -> Result<JoinRequest> {
        let entry = self.spaces.get_mut(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let position = entry
            .meta
            .join_requests
            .iter()
            .position(|bytes| JoinRequest::from_wire(bytes).is_ok_and(|r| &r.body.card.body.identity == person))
            .ok_or(CoreError::NotFound(Missing::JoinRequest))?;
        let bytes = entry.meta.join_requests.remove(position);
        Ok(JoinRequest::from_wire(&bytes)?)
    }

    /// Admits the person who asked to join, with `role`: all the devices on their
    /// request's contact card are invited.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] without such a request; [`CoreError::Forbidden`] unless
    /// this person may invite.
    pub fn approve_request(&mut self, space: &GroupId, person: &IdentityPublicKey, role: Role) -> Result<()> {
        let rules = self.rules(space)?;
        let my_role = rules.role_of(&self.identity);
        if !(my_role.may_manage_space() || rules.policy == Policy::Open && my_role.may_contribute()) {
            return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Admit)));
        }
        let waiting = self.join_requests(space)?.into_iter().any(|r| &r.identity == person);
        if !waiting {
            return Err(CoreError::NotFound(Missing::JoinRequest));
        }
        let request = self.take_join_request(space, person)?;
        if let Err(error) = self.trust_card(&request.body.card) {
            // The request stays for a decision once the key is settled; the sighting
            // is kept (and was reported).
            self.spaces
                .get_mut(space)
                .ok_or(CoreError::NotFound(Missing::Space))?
                .meta
                .join_requests
                .push(request.to_wire());
            self.persist()?;
            return Err(error);
        }
        self.save_group(space)?;
        self.queue_operation(space, Operation::Invite { card: request.body.card.to_wire(), role: role as u8 })
    }

    /// Declines a request to join; the person is not told.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] without such a request.
    pub fn decline_request(&mut self, space: &GroupId, person: &IdentityPublicKey) -> Result<()> {
        self.take_join_request(space, person)?;
        self.save_group(space)?;
        self.persist()
    }

    pub(super) fn publish(&mut self, space: &GroupId, body: ContentBody) -> Result<ContentId> {
        self.publish_at(space, body, self.now)
    }

    pub(super) fn publish_at(&mut self, space: &GroupId, body: ContentBody, at: Now) -> Result<ContentId> {
        self.publish_as(space, body, at, random_content_id())
    }

    /// As [`Engine::publish_at`], under the record id `id` (a forgettable record's,
    /// `ForgetKey::record`).
    pub(super) fn publish_as(
        &mut self,
        space: &GroupId,
        body: ContentBody,
        at: Now,
        id: ContentId,
    ) -> Result<ContentId> {
        let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Account))?;
        let rules = self.rules(space)?;
        if !rules.role_of(&self.identity).may_contribute() {
            return Err(CoreError::Forbidden(Refusal::ReaderWrites));
        }
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound(Missing::Space))?;
        if entry.meta.removed {
            return Err(CoreError::Forbidden(Refusal::NoLongerInSpace));
        }
        if entry.meta.stalled {
            return Err(CoreError::SpaceStalled);
        }
        let signed = EnvelopeBody {
            id,
            group: *space,
            author: certificate,
            created_at: UnixSeconds::new(at).map_err(CoreError::Decode)?,
            body,
        };
        let envelope = ContentEnvelope::sign(signed, &self.device.mls)?;
        // Refused now, with a clear error, rather than stuck in the outbox: an item must
        // fit the relay's content record (sealed) and an MLS message.
        let fits =
            huisclos_protocol::limits::MAX_CONTENT_RECORD_LEN.min(huisclos_protocol::limits::MAX_MLS_MESSAGE_LEN);
        if envelope.to_wire().len() + crate::content::SEALED_RECORD_OVERHEAD > fits {
            return Err(CoreError::Invalid(InvalidInput::ItemTooLarge { max_kib: (fits / 1024 - 1) as u64 }));
        }
        // Shown here at once, and sent when the relay is reachable.
        self.apply_envelope(space, &envelope, None, None)?;
        self.enqueue(OutboxItem::Content { group: *space.as_bytes(), envelope: envelope.to_wire() })?;
        self.save_group(space)?;
        self.persist()?;
        Ok(id)
    }

    /// Posts news.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for readers; [`CoreError::Invalid`] for bad text.
    pub fn post(&mut self, space: &GroupId, text: &str) -> Result<ContentId> {
        self.publish(space, ContentBody::Post(Post { text: Text::new(text)? }))
    }

    /// Comments under a post or comment.
    ///
    /// # Errors
    /// As [`Engine::post`]; [`CoreError::NotFound`] when the parent is unknown.
    pub fn comment(&mut self, space: &GroupId, parent: &ContentId, text: &str) -> Result<ContentId> {
        if self.item(space, parent)?.is_none() {
            return Err(CoreError::NotFound(Missing::Item));
        }
        self.publish(space, ContentBody::Comment(Comment { parent: *parent, text: Text::new(text)? }))
    }

    /// Adds or withdraws a reaction.
    ///
    /// # Errors
    /// As [`Engine::comment`].
    pub fn react(&mut self, space: &GroupId, target: &ContentId, reaction: &str, on: bool) -> Result<ContentId> {
        if self.item(space, target)?.is_none() {
            return Err(CoreError::NotFound(Missing::Item));
        }
        self.publish(space, ContentBody::React(React { target: *target, reaction: Reaction::new(reaction)?, on }))
    }

    /// Edits an item (the author's own, or any for content managers).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] otherwise.
    pub fn edit(&mut self, space: &GroupId, target: &ContentId, text: &str) -> Result<ContentId> {
        self.check_may_change(space, target)?;
        self.publish(space, ContentBody::Edit(Edit { target: *target, text: Text::new(text)? }))
    }

    /// Deletes an item (the author's own, or any for content managers).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] otherwise.
    pub fn delete(&mut self, space: &GroupId, target: &ContentId) -> Result<ContentId> {
        self.check_may_change(space, target)?;
        self.publish(space, ContentBody::Delete(Delete { target: *target }))
    }

    pub(super) fn check_may_change(&self, space: &GroupId, target: &ContentId) -> Result<()> {
        let item = self.item(space, target)?.ok_or(CoreError::NotFound(Missing::Item))?;
        let me = self.identity;
        if item.author != me && !self.rules(space)?.role_of(&me).may_manage_content() {
            return Err(CoreError::Forbidden(Refusal::NotAuthorOrContentManager));
        }
        Ok(())
    }
}
