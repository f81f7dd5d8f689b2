//! Connecting and signing in, and planning each request: the jobs of sync, inbox, outboxes and transfers.
//!
//! Long because each job's request and the follow-ups of its answer are planned here
//! side by side (outbox, device outbox, deliveries, transfers).

use huisclos_protocol::frame::Padding;
use huisclos_protocol::limits::UNAUTHENTICATED_FRAME_LEN;
use huisclos_transport::tls::{PresentedKey, RelayPins, SpkiPin};

use super::*;

impl Engine {
    // -----------------------------------------------------------------------------
    // Connection.

    /// The transport connected; `exporter` is its TLS exporter value. The engine logs
    /// in (or redeems the invitation) and then syncs everything.
    pub fn connected(&mut self, exporter: TlsExporter, now: Now) {
        self.now = now;
        self.session.connected(exporter);
        self.requests.connected();
    }

    /// The relay keys this profile accepts, once it knows its relay: the pinned key,
    /// and the successor that key announced while the relay's key rotates.
    pub fn relay_pins(&self) -> Option<RelayPins> {
        let endpoint = self.relay.as_ref()?;
        Some(RelayPins {
            current: endpoint.spki_pin(),
            // Only a successor the pinned key itself named.
            next: self
                .relay_next
                .as_ref()
                .filter(|rotation| rotation.current == endpoint.pin)
                .map(|rotation| SpkiPin(rotation.next)),
        })
    }

    /// The relay presented `presented` in the handshake that just completed (one of
    /// [`Engine::relay_pins`]). The pinned key's announcement is kept (or dropped, when
    /// the rotation was cancelled); the successor, once presented, becomes the pinned
    /// key and the old one is accepted no more.
    pub fn relay_key_presented(&mut self, presented: &PresentedKey) {
        if let Err(error) = self.follow_relay_key(presented) {
            tracing::warn!(%error, "keeping what the relay's key announced failed; it is read again next time");
        }
    }

    fn follow_relay_key(&mut self, presented: &PresentedKey) -> Result<()> {
        let Some(endpoint) = self.relay.as_ref() else { return Ok(()) };
        let (pin, next) = if presented.pin.0 == endpoint.pin {
            let announced = presented.rotation.clone().filter(|rotation| rotation.current == endpoint.pin);
            if announced == self.relay_next {
                return Ok(());
            }
            (endpoint.pin, announced)
        } else if self.relay_next.as_ref().is_some_and(|rotation| rotation.next == presented.pin.0) {
            // The successor took over: from now on it alone is the relay's key (a new
            // rotation it announces already is kept too).
            let announced = presented.rotation.clone().filter(|rotation| rotation.current == presented.pin.0);
            (presented.pin.0, announced)
        } else {
            return Ok(());
        };
        let followed = RelayEndpoint { addresses: endpoint.addresses.clone(), pin };
        let before = (self.relay.replace(followed), std::mem::replace(&mut self.relay_next, next));
        let saved = self
            .save_profile()
            .and_then(|()| self.store.put_relay_next(self.relay_next.as_ref()))
            .and_then(|()| self.persist());
        match saved {
            Ok(()) => {
                if before.0.is_some_and(|was| was.pin != pin) {
                    tracing::info!("the relay's key was rotated: this profile pins its new key");
                } else if self.relay_next.is_some() {
                    tracing::info!("the relay announced its next key: it is accepted from now on");
                }
                Ok(())
            }
            Err(error) => {
                // Nothing of this step stays staged: memory and disk keep the old pins.
                self.store.rollback();
                (self.relay, self.relay_next) = before;
                Err(error)
            }
        }
    }

    /// The transport disconnected.
    pub fn disconnected(&mut self) {
        self.session.disconnected();
        self.requests.disconnected();
    }

    /// Whether the engine is logged in.
    pub fn is_online(&self) -> bool {
        self.session.is_signed_in()
    }

    /// Whether the engine waits for an answer or has work queued.
    pub fn is_busy(&self) -> bool {
        self.requests.is_busy()
    }

    /// Asks for a full sync of everything (after a push event was lost, or periodically).
    /// A connection with no subscription (its subscription was refused and waited out)
    /// subscribes again first.
    pub fn sync_all(&mut self) {
        if self.is_online() {
            self.push_job(Job::Deliveries);
            self.push_job(Job::Welcomes);
            let groups = self.requests.read_order.least_recent_first(self.spaces.keys().copied());
            if self.requests.subscribed.is_empty() {
                self.subscribe_then_sync(&groups);
            } else {
                for group in groups {
                    self.push_job(Job::Sync(group));
                }
            }
            self.push_job(Job::Outbox);
            self.push_job(Job::Devices);
            self.push_job(Job::Transfers);
        }
    }

    pub(super) fn push_job(&mut self, job: Job) {
        self.requests.push(job);
    }

    /// Subscribes to the spaces' pushes, then reads `groups`' logs: an entry appended
    /// while a read runs is pushed, and none can fall between a read and the
    /// subscription (read first, an entry appended before the subscription took
    /// effect was neither read nor pushed, and waited for the next connection).
    pub(super) fn subscribe_then_sync(&mut self, groups: &[GroupId]) {
        self.requests.subscribe_then_sync(groups);
    }

    /// Subscribes again, then reads, every space whose epoch moved since its
    /// subscription on this connection (or that the relay created since): the relay
    /// ended the old epoch's subscription when the commit closed it, and told of that
    /// commit only. Nothing to do before the connection's first subscription, which
    /// signing in queues, or while one is queued.
    fn resubscribe_moved(&mut self) {
        if self.requests.subscribed.is_empty() || self.requests.subscription_queued() {
            return;
        }
        let moved: Vec<GroupId> = self
            .spaces
            .iter()
            .filter(|(id, space)| {
                !space.meta.removed
                    && !space.meta.stalled
                    && space.meta.relay_created
                    && self.requests.subscribed.get(*id) != Some(&space.group.epoch().as_u64())
            })
            .map(|(id, _)| *id)
            .collect();
        if !moved.is_empty() {
            self.subscribe_then_sync(&moved);
        }
    }

    /// The next event for the user.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    pub(super) fn warn(&mut self, space: Option<GroupId>, warning: SecurityWarning) {
        // The warning may name people: it goes to the person, not the log.
        tracing::warn!(space = ?space, "security warning");
        self.events.push_back(ClientEvent::SecurityWarning { space, warning });
    }

    pub(super) fn reject(&mut self, space: Option<GroupId>, reason: Rejection) {
        tracing::info!(space = ?space, %reason, "refused input");
        self.events.push_back(ClientEvent::Rejected { space, reason });
    }

    /// The next request to send, if any. The engine then waits for its answer, except
    /// behind a sign-in: the connection's first reads may follow it at once (poll
    /// again). The relay may answer them in any order; they are handed back in the
    /// order they were sent (`Connection::drive`), the sign-in's first.
    pub fn poll_request(&mut self, now: Now) -> Option<(RequestId, RequestBody)> {
        self.now = now;
        self.expire_presence();
        if !self.requests.in_flight.is_empty() {
            return self.poll_pipelined();
        }
        match self.requests.waiting_at(now) {
            Some(true) => return None,
            // The wait is over: everything is asked again.
            Some(false) => self.sync_all(),
            None => {}
        }
        // Once per poll, not per job planned: a job that plans nothing is not queued
        // again within the same poll.
        self.queue_due_presence();
        let signing_in = self.session.next_request(|| match (&self.account, &self.invitation) {
            (Some(_), _) => Ok(Credential::Device(&self.device.auth)),
            (None, Some(invitation)) => Ok(Credential::NewAccount { key: &self.device.auth, invitation }),
            (None, None) => Err(CoreError::NotFound(Missing::Account)),
        });
        let (body, step) = match signing_in {
            Some(Ok((body, step))) => (body, Step::SignIn(step)),
            Some(Err(error)) => {
                self.session.disconnected();
                self.reject(None, Rejection::SignInFailed(error.fault()));
                return None;
            }
            None if !self.session.is_signed_in() => return None,
            None if !self.requests.follow_ups.is_empty() => self.requests.follow_ups.pop_front()?,
            None => loop {
                self.resubscribe_moved();
                if self.requests.jobs.is_empty() && self.delivery_due().is_some_and(|due| due <= now) {
                    self.push_job(Job::Deliveries);
                }
                let job = self.requests.jobs.pop_front()?;
                match self.plan(job) {
                    Ok(Some(planned)) => break planned,
                    Ok(None) => continue,
                    Err(error) => {
                        self.reject(None, Rejection::RequestNotPrepared(error.fault()));
                        continue;
                    }
                }
            },
        };
        if matches!(body, RequestBody::SignIn(_)) && !self.requests.no_pipelining {
            // Signing in takes one round trip and needs no answer first: what signing
            // in queues first (the subscription, then the reads of every space) goes
            // out right behind it, ahead of anything queued meanwhile.
            self.requests.pipelining = true;
            let groups = self.requests.read_order.least_recent_first(self.spaces.keys().copied());
            self.requests.subscribe_then_sync_first(&groups);
        }
        self.send(body, step)
    }

    /// A request while others are in flight: only the reads pipelined behind a
    /// sign-in ([`Requests::may_pipeline`](super::requests::Requests)), and only one
    /// that fits the frame a relay accepts before sign-in (a relay of a release
    /// before `SignIn` reads it unauthenticated, and ends the stream on a larger one).
    /// One that does not fit goes first once the sign-in is answered.
    fn poll_pipelined(&mut self) -> Option<(RequestId, RequestBody)> {
        loop {
            if !self.requests.may_pipeline() {
                return None;
            }
            let job = self.requests.jobs.pop_front()?;
            match self.plan(job) {
                Ok(Some((body, step))) => {
                    let id = huisclos_protocol::codec::varint_len(self.requests.next_request);
                    let payload = id + body.to_wire().len();
                    if Padding::SizeClasses.frame_len(payload) > UNAUTHENTICATED_FRAME_LEN {
                        self.requests.follow_ups.push_front((body, step));
                        return None;
                    }
                    return self.send(body, step);
                }
                Ok(None) => continue,
                Err(error) => self.reject(None, Rejection::RequestNotPrepared(error.fault())),
            }
        }
    }

    fn send(&mut self, body: RequestBody, step: Step) -> Option<(RequestId, RequestBody)> {
        let id = self.requests.start(step)?;
        *self.requests.sent.entry(body.name()).or_default() += 1;
        Some((id, body))
    }

    /// The requests this engine has sent since it started, by kind (the protocol's
    /// name for each, as in `RequestBody::name`): what the weak-network tests and the
    /// benchmarks count per user action, with [`Engine::round_trips`].
    pub fn requests_sent(&self) -> BTreeMap<&'static str, u64> {
        self.requests.sent.clone()
    }

    /// The round trips to the relay since the engine started: the requests sent with
    /// no other in flight. The engine waits for each answer before the next request,
    /// except for the reads pipelined behind a sign-in, which share its round trip.
    pub fn round_trips(&self) -> u64 {
        self.requests.round_trips
    }

    pub(super) fn access(&self, group: &GroupId) -> Result<GroupAccess> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
        let token = space
            .group
            .export_secret(self.provider.crypto(), ACCESS_TOKEN_EXPORTER_LABEL, group.as_bytes(), 32)
            .map_err(mls_error)?;
        let token: [u8; 32] = token.as_slice().try_into().map_err(|_| CoreError::Mls(MlsFailure::ExporterLength))?;
        Ok(GroupAccess {
            group: *group,
            epoch: Epoch::new(space.group.epoch().as_u64()).map_err(CoreError::Decode)?,
            token: AccessToken::from_bytes(token),
        })
    }

    pub(super) fn plan(&mut self, job: Job) -> Result<Option<(RequestBody, Step)>> {
        Ok(match job {
            Job::Welcomes => Some((
                FetchWelcomes { after: None, limit: PageLimit::new(16).map_err(CoreError::Decode)? }.into(),
                Step::FetchWelcomes,
            )),
            Job::KeyPackages => Some((GetKeyPackageStatus {}.into(), Step::KeyPackageStatus)),
            Job::Subscribe => {
                let mut groups = Vec::new();
                let ids: Vec<GroupId> = self.spaces.keys().copied().collect();
                for group in ids {
                    let space = &self.spaces[&group];
                    if space.meta.removed || space.meta.stalled || !space.meta.relay_created {
                        continue;
                    }
                    // Noted before the access is made: a space whose access fails is
                    // not asked for again and again (its reads report the failure).
                    self.requests.subscribed.insert(group, space.group.epoch().as_u64());
                    match self.access(&group) {
                        Ok(access) => groups.push(access),
                        Err(error) => self.reject(Some(group), Rejection::RequestNotPrepared(error.fault())),
                    }
                }
                if groups.is_empty() {
                    return Ok(None);
                }
                // Beyond the bound, spaces go unsubscribed (and are read at each full
                // sync); they stay noted, so they are not asked for again and again.
                groups.truncate(huisclos_protocol::limits::MAX_SUBSCRIBE_GROUPS);
                Some((Subscribe { groups: BoundedVec::new(groups)? }.into(), Step::Subscribe))
            }
            Job::Sync(group) => {
                let read_on = self.requests.content_behind.remove(&group);
                if !self.requests.no_batches && (read_on || matches!(self.requests.jobs.front(), Some(Job::Sync(_)))) {
                    return self.plan_sync_batch(group, read_on);
                }
                if !self.reads_space(&group) {
                    return Ok(None);
                }
                Some((self.log_read(&group)?.into(), Step::FetchLog { group }))
            }
            Job::Outbox => self.plan_outbox()?,
            Job::Deliveries => self.plan_delivery()?,
            Job::Devices => self.plan_device_item()?,
            Job::Transfers => self.plan_transfer()?,
            Job::Presence(group) => self.plan_presence(group)?,
        })
    }

    /// Whether the space is read at the relay (not left, not stalled, created there).
    fn reads_space(&self, group: &GroupId) -> bool {
        self.spaces
            .get(group)
            .is_some_and(|space| !space.meta.removed && !space.meta.stalled && space.meta.relay_created)
    }

    /// The read of a space's log from this device's cursor.
    fn log_read(&self, group: &GroupId) -> Result<FetchLog> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
        Ok(FetchLog {
            access: self.access(group)?,
            from: seq(space.meta.next_seq)?,
            limit: PageLimit::new(PAGE).map_err(CoreError::Decode)?,
        })
    }

    /// Reads `first` and the spaces whose reads are queued right behind it in one
    /// request: each space's log and, where it keeps history, its content store, so
    /// that a device coming back reads every space in one round trip instead of two
    /// each. Only the reads at the front of the queue are taken: a job between them
    /// (a subscription that must come before the reads it covers) keeps its place. A
    /// space queued twice is read once; one that is not read at the relay, or whose read
    /// cannot be made (reported), is dropped as its own read would be. A single space
    /// left is read alone, the usual way, unless `read_on`: its log was read to its end
    /// a page of content ago, so its next content page very likely follows that log
    /// read, and asking for both at once saves a round trip per page.
    fn plan_sync_batch(&mut self, first: GroupId, read_on: bool) -> Result<Option<(RequestBody, Step)>> {
        let mut groups = vec![first];
        while groups.len() < MAX_BATCH_SPACES
            && let Some(Job::Sync(group)) = self.requests.jobs.front().cloned()
        {
            self.requests.jobs.pop_front();
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        let mut items = Vec::new();
        let mut reads = Vec::new();
        // Whether the content stores read are read on (only a single one matters: it
        // is then read with its log in a `FetchMany` all the same).
        let mut reading_on = false;
        for group in groups {
            if !self.reads_space(&group) {
                continue;
            }
            let read_on = (group == first && read_on) || self.requests.content_behind.remove(&group);
            let planned = self.log_read(&group).and_then(|log| {
                let with_content =
                    self.spaces.get(&group).map(Space::meta_history_mode).transpose()? == Some(HistoryMode::Keep);
                // A store read on after a full page has more to give: a larger page
                // halves the round trips of a long first sync (the relay still ends
                // it where its size class is full); the first page stays small, so
                // that the first records show soon.
                let limit = if read_on { READ_ON_PAGE } else { PAGE };
                let content = if with_content { Some(self.content_read(&group, limit)?) } else { None };
                Ok((log, content))
            });
            match planned {
                Ok((log, content)) => {
                    items.push(FetchItem::Log(log));
                    reading_on |= read_on && content.is_some();
                    reads.push((group, content.as_ref().map(|read| read.from.get())));
                    items.extend(content.map(FetchItem::Content));
                }
                Err(error) => self.reject(Some(group), Rejection::RequestNotPrepared(error.fault())),
            }
        }
        match reads.as_slice() {
            [] => Ok(None),
            [(group, _)] if !reading_on => {
                let group = *group;
                let Some(FetchItem::Log(log)) = items.into_iter().next() else { return Ok(None) };
                Ok(Some((log.into(), Step::FetchLog { group })))
            }
            _ => {
                for (group, _) in &reads {
                    self.requests.read_order.touch(*group);
                }
                let body = FetchMany { items: BoundedVec::new(items)? };
                Ok(Some((body.into(), Step::FetchMany { reads })))
            }
        }
    }

    pub(super) fn application_message(&mut self, group: &GroupId, payload: &AppPayload) -> Result<MlsMessageBytes> {
        let plaintext = Zeroizing::new(payload.to_wire());
        self.application_bytes(group, &plaintext)
    }

    pub(super) fn application_bytes(&mut self, group: &GroupId, plaintext: &[u8]) -> Result<MlsMessageBytes> {
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
        let message = space
            .group
            .create_message(&self.provider, &DeviceSigner(&self.device.mls), plaintext)
            .map_err(mls_error)?;
        Ok(MlsMessageBytes::new(message.tls_serialize_detached().map_err(mls_error)?)?)
    }

    pub(super) fn plan_operation(
        &mut self,
        group: &GroupId,
        operation: Operation,
    ) -> Result<(RequestBody, OutboxStage)> {
        let rules = self.rules(group)?;
        let me = self.identity;
        match &operation {
            Operation::Invite { card, .. } => {
                if !(rules.role_of(&me).may_manage_space()
                    || rules.policy == Policy::Open && rules.role_of(&me).may_contribute())
                {
                    return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::Invite)));
                }
                let card = ContactCard::from_wire(card)?;
                // Only the devices the person's newest roster lists.
                let devices: Vec<DeviceId> =
                    card.body.devices.iter().filter(|c| self.device_allowed(&c.body)).map(|c| c.body.device).collect();
                if devices.is_empty() {
                    return Err(CoreError::Verification(Unverified::NotOnRoster));
                }
                Ok((ClaimKeyPackages { devices: BoundedVec::new(devices)? }.into(), OutboxStage::Claim { operation }))
            }
            Operation::Readd { certificates, .. } => {
                if !rules.role_of(&me).may_manage_space() {
                    return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::AddRecreatedMembers)));
                }
                let (_, certificates) = readd_devices(certificates)?;
                let devices = certificates.iter().map(|c| c.body.device).collect();
                Ok((ClaimKeyPackages { devices: BoundedVec::new(devices)? }.into(), OutboxStage::Claim { operation }))
            }
            Operation::AddMemberDevice { certificate } => {
                if !rules.role_of(&me).may_manage_space() {
                    return Err(CoreError::Forbidden(Refusal::NotSpaceManager(ManagerAction::AddOthersDevice)));
                }
                let certificate = DeviceCertificate::from_verified_bytes(certificate)?;
                let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
                if Self::has_device(&space.group, &certificate.body.device) {
                    return Err(CoreError::Invalid(InvalidInput::AlreadyMember));
                }
                let devices = vec![certificate.body.device];
                Ok((ClaimKeyPackages { devices: BoundedVec::new(devices)? }.into(), OutboxStage::Claim { operation }))
            }
            Operation::AddDevice { certificate } => {
                let certificate = DeviceCertificate::from_verified_bytes(certificate)?;
                if certificate.body.identity != me {
                    return Err(CoreError::Forbidden(Refusal::OnlyOwnDevices));
                }
                let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
                if Self::has_device(&space.group, &certificate.body.device) {
                    return Err(CoreError::Invalid(InvalidInput::AlreadyMember));
                }
                let devices = vec![certificate.body.device];
                Ok((ClaimKeyPackages { devices: BoundedVec::new(devices)? }.into(), OutboxStage::Claim { operation }))
            }
            Operation::Leave => {
                let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
                let proposal =
                    space.group.leave_group(&self.provider, &DeviceSigner(&self.device.mls)).map_err(mls_error)?;
                let message = MlsMessageBytes::new(proposal.tls_serialize_detached().map_err(mls_error)?)?;
                Ok((AppendMessage { access: self.access(group)?, message }.into(), OutboxStage::Leave))
            }
            _ => self.build_commit(group, &operation, Vec::new()),
        }
    }

    pub(super) fn rules(&self, group: &GroupId) -> Result<SpaceRules> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
        crate::mls::rules_of(space.group.extensions())
    }

    /// The key of history generation `generation`, derived from the epoch `group` is
    /// in (the epoch that starts it).
    pub(super) fn derive_history_key(
        &self,
        group: &MlsGroup,
        id: &GroupId,
        generation: u32,
    ) -> Result<Zeroizing<[u8; 32]>> {
        let mut context = id.as_bytes().to_vec();
        context.extend_from_slice(&generation.to_be_bytes());
        let secret = Zeroizing::new(
            group
                .export_secret(self.provider.crypto(), crate::history::HISTORY_KEY_EXPORTER_LABEL, &context, 32)
                .map_err(mls_error)?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        if secret.len() != 32 {
            return Err(CoreError::Mls(MlsFailure::ExporterLength));
        }
        key.copy_from_slice(&secret);
        Ok(key)
    }

    /// Who sits in `group` now: each device's person and MLS key.
    pub(super) fn seats(group: &MlsGroup) -> Vec<Seat> {
        group
            .members()
            .filter_map(|m| crate::mls::certificate_of(&m.credential, &m.signature_key).ok())
            .map(|c| Seat { identity: c.body.identity, mls_key: c.body.mls_key })
            .collect()
    }

    /// After a commit is merged (this device's or another's): the history moves on —
    /// with `rotates`, the generation closes with `rules_before`' roles and the next
    /// one's key is derived from the new epoch — and the devices now in the group sit
    /// on the current roster. A rotation this device committed is marked in the
    /// content store, so that nothing sealed under the closed generation is accepted
    /// after it.
    pub(super) fn after_merge(
        &mut self,
        group: &GroupId,
        rotates: bool,
        rules_before: &SpaceRules,
        own: bool,
    ) -> Result<()> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
        let Some(ledger) = crate::mls::ledger_of(space.group.extensions())? else { return Ok(()) };
        let key = if rotates { Some(*self.derive_history_key(&space.group, group, ledger.generation)?) } else { None };
        let seats = Self::seats(&space.group);
        let keeps_history = space.meta_history_mode()? == HistoryMode::Keep;
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
        space.meta.history.merged(&ledger, rotates, key, &seats, rules_before);
        if rotates && own && keeps_history && !space.meta.removed {
            self.enqueue(OutboxItem::Marker { group: *group.as_bytes() })?;
        }
        Ok(())
    }

    /// Builds the commit for an operation on the current state (as a pending commit)
    /// and the request submitting it.
    pub(super) fn build_commit(
        &mut self,
        group: &GroupId,
        operation: &Operation,
        key_packages: Vec<(KeyPackage, DeviceId)>,
    ) -> Result<(RequestBody, OutboxStage)> {
        let rules = self.rules(group)?;
        let me = self.identity;
        let members = self.members(group)?;
        let mut removals = Vec::new();
        let mut next_rules = rules.clone();
        // Every removal starts a history generation.
        let mut rotates_history = false;
        let adds = !key_packages.is_empty();
        let mut changes = Vec::new();
        // A move of this device to the person's new identity key: the update of its own
        // leaf, and the role renamed.
        let mut rotation: Option<(IdentityPublicKey, IdentityPublicKey)> = None;
        let mut self_update = None;
        // Leaves removed by this commit, its own removals and the proposals it carries.
        let mut removed_leaves = Vec::new();
        // Waiting proposals (members leaving) go into any commit this device makes.
        {
            let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
            for queued in space.group.pending_proposals() {
                if let (Proposal::Remove(remove), Sender::Member(sender)) = (queued.proposal(), queued.sender()) {
                    removed_leaves.push(remove.removed());
                    let identity_at = |index: LeafNodeIndex| -> Result<IdentityPublicKey> {
                        let m = space.group.member_at(index).ok_or(CoreError::Verification(Unverified::WrongSender))?;
                        Ok(crate::mls::certificate_of(&m.credential, &m.signature_key)?.body.identity)
                    };
                    changes.push(ChangeRequest::Remove {
                        identity: identity_at(remove.removed())?,
                        proposer: identity_at(*sender)?,
                    });
                    rotates_history = true;
                }
            }
        }
        match operation {
            Operation::Invite { card, role } => {
                let card = ContactCard::from_wire(card)?;
                let role = role_from(*role)?;
                if role != rules.default_role || rules.roles.iter().any(|e| e.identity == card.body.identity) {
                    next_rules = next_rules.with_role(card.body.identity, role)?;
                }
                changes.push(ChangeRequest::Add { identity: card.body.identity });
            }
            Operation::Readd { certificates, role } => {
                let (identity, _) = readd_devices(certificates)?;
                let role = role_from(*role)?;
                if role != rules.default_role || rules.roles.iter().any(|e| e.identity == identity) {
                    next_rules = next_rules.with_role(identity, role)?;
                }
                changes.push(ChangeRequest::Add { identity });
            }
            Operation::AddDevice { .. } => changes.push(ChangeRequest::Add { identity: me }),
            Operation::AddMemberDevice { certificate } => {
                let certificate = DeviceCertificate::from_verified_bytes(certificate)?;
                changes.push(ChangeRequest::Add { identity: certificate.body.identity });
            }
            Operation::SetDeviceApproval { on } => next_rules.devices_need_approval = *on,
            Operation::RemoveDevice { device } => {
                let device = DeviceId::from_bytes(*device);
                let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
                let previous = self.transition.as_ref().map(|t| t.body.previous);
                for m in space.group.members() {
                    let cert = crate::mls::certificate_of(&m.credential, &m.signature_key)?;
                    let mine = cert.body.identity == me || Some(cert.body.identity) == previous;
                    if mine && cert.body.device == device {
                        removals.push(m.index);
                    }
                }
                if removals.is_empty() {
                    return Err(CoreError::Invalid(InvalidInput::NotInSpace));
                }
                rotates_history = true;
                changes.push(ChangeRequest::Remove { identity: me, proposer: me });
            }
            Operation::CommitProposals => {}
            Operation::Leave => return Err(CoreError::Invalid(InvalidInput::UnsupportedOperation)),
            Operation::Remove { identity } => {
                let identity = IdentityPublicKey::from_bytes(*identity);
                let member =
                    members.iter().find(|m| m.identity == identity).ok_or(CoreError::NotFound(Missing::Member))?;
                let space = &self.spaces[group];
                for m in space.group.members() {
                    let cert = crate::mls::certificate_of(&m.credential, &m.signature_key)?;
                    if cert.body.identity == member.identity {
                        removals.push(m.index);
                    }
                }
                rotates_history = true;
                changes.push(ChangeRequest::Remove { identity, proposer: me });
            }
            Operation::SetRole { identity, role } => {
                next_rules = next_rules.with_role(IdentityPublicKey::from_bytes(*identity), role_from(*role)?)?;
            }
            Operation::Rename { name } => next_rules.name = SpaceName::new(name.clone())?,
            Operation::Describe { description } => next_rules.description = SpaceDescription::new(description.clone())?,
            Operation::RotateIdentity => {
                let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
                let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
                let own = space.group.own_leaf().ok_or(CoreError::NotFound(Missing::OwnLeaf))?;
                let current = crate::mls::certificate_of(own.credential(), own.signature_key().as_slice())?;
                if current == certificate {
                    return Err(CoreError::Invalid(InvalidInput::AlreadyMoved));
                }
                rotation = Some((current.body.identity, certificate.body.identity));
                self_update = Some(crate::mls::credential_with_key(&certificate));
            }
        }
        if let Some((previous, next)) = rotation {
            next_rules = next_rules.renamed(&previous, &next);
        }
        // A person whose last device this commit removes leaves the space, and their
        // role with them: every device requires it.
        removed_leaves.extend(removals.iter().copied());
        let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
        let departing = departing(&space.group, &removed_leaves);
        let mut base = rules.clone();
        if let Some((previous, next)) = rotation {
            base = base.renamed(&previous, &next);
        }
        for identity in &departing {
            base = base.without_role(identity);
            next_rules = next_rules.without_role(identity);
        }
        if next_rules != base {
            changes.push(ChangeRequest::Rules(Box::new(next_rules.clone())));
        }
        let member_ids: Vec<IdentityPublicKey> = members.iter().map(|m| m.identity).collect();
        if !self.skip_own_checks {
            check_commit(&rules, &me, &changes, &member_ids)?;
            check_managers_remain(&rules, &next_rules, &member_ids, &departing)?;
        }

        // Every commit writes the ledger of the history it leaves behind, and hands
        // the people it adds the history they need, as this device holds it now.
        let new_epoch = space.group.epoch().as_u64() + 1;
        let ledger = space.meta.history.next_ledger(group, rotates_history, new_epoch, &rules)?;
        let grants = if adds && rules.history == HistoryMode::Keep {
            let mut payloads = Vec::new();
            for grant in space.meta.history.grant(new_epoch, rotates_history, &rules)? {
                payloads.push(AppPayload::HistoryGrant(grant).to_wire());
            }
            payloads
        } else {
            Vec::new()
        };
        let extensions = crate::mls::group_context_extensions(&next_rules, &ledger)?;
        let recipients: Vec<DeviceId> = key_packages.iter().map(|(_, d)| *d).collect();
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
        let mut builder = space
            .group
            .commit_builder()
            .propose_adds(key_packages.into_iter().map(|(kp, _)| kp))
            .propose_removals(removals)
            .propose_group_context_extensions(extensions)
            .map_err(mls_error)?;
        if let Some(credential) = self_update {
            builder = builder
                .force_self_update(true)
                .leaf_node_parameters(LeafNodeParameters::builder().with_credential_with_key(credential).build());
        }
        let bundle = builder
            .load_psks(self.provider.storage())
            .map_err(mls_error)?
            .build(self.provider.rand(), self.provider.crypto(), &DeviceSigner(&self.device.mls), |_| true)
            .map_err(mls_error)?
            .stage_commit(&self.provider)
            .map_err(mls_error)?;
        let (commit, welcome, _) = bundle.into_messages();
        let staged = space.group.pending_commit().ok_or(CoreError::Mls(MlsFailure::NoPendingCommit))?;
        let token = staged
            .export_secret(self.provider.crypto(), ACCESS_TOKEN_EXPORTER_LABEL, group.as_bytes(), 32)
            .map_err(mls_error)?;
        let token: [u8; 32] = token.as_slice().try_into().map_err(|_| CoreError::Mls(MlsFailure::ExporterLength))?;
        let next_verifier = EpochVerifier::for_token(&AccessToken::from_bytes(token));
        let welcome = match welcome {
            Some(welcome) => Some((recipients, welcome.tls_serialize_detached().map_err(mls_error)?)),
            None => None,
        };
        let access = self.access(group)?;
        let commit = MlsMessageBytes::new(commit.tls_serialize_detached().map_err(mls_error)?)?;
        Ok((SubmitCommit { access, commit, next_verifier }.into(), OutboxStage::Commit { welcome, grants }))
    }
}
