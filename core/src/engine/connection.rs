//! Connecting and signing in, and planning each request: the jobs of sync, inbox, outboxes and transfers.
//!
//! Long because each job's request and the follow-ups of its answer are planned here
//! side by side (outbox, device outbox, deliveries, transfers).

use super::*;

impl Engine {
    // -----------------------------------------------------------------------------
    // Connection.

    /// The transport connected; `exporter` is its TLS exporter value. The engine logs
    /// in (or redeems the invitation) and then syncs everything.
    pub fn connected(&mut self, exporter: TlsExporter, now: Now) {
        self.now = now;
        self.session.connected(exporter);
        // An answer that never came is repeated by the jobs below.
        self.retry_at = None;
        self.in_flight = None;
        self.follow_up = None;
        self.jobs.clear();
    }

    /// The transport disconnected.
    pub fn disconnected(&mut self) {
        self.session.disconnected();
        self.in_flight = None;
        self.follow_up = None;
        self.jobs.clear();
        // A new connection has no subscription: signing in subscribes anew.
        self.subscribed.clear();
    }

    /// Whether the engine is logged in.
    pub fn is_online(&self) -> bool {
        self.session.is_signed_in()
    }

    /// Whether the engine waits for an answer or has work queued.
    pub fn is_busy(&self) -> bool {
        self.in_flight.is_some() || self.follow_up.is_some() || !self.jobs.is_empty()
    }

    /// Asks for a full sync of everything (after a push event was lost, or periodically).
    pub fn sync_all(&mut self) {
        if self.is_online() {
            self.push_job(Job::Deliveries);
            self.push_job(Job::Welcomes);
            let groups: Vec<GroupId> = self.spaces.keys().copied().collect();
            for group in groups {
                self.push_job(Job::Sync(group));
            }
            self.push_job(Job::Outbox);
            self.push_job(Job::Devices);
            self.push_job(Job::Transfers);
        }
    }

    pub(super) fn push_job(&mut self, job: Job) {
        if !self.jobs.contains(&job) {
            self.jobs.push_back(job);
        }
    }

    /// Subscribes to the spaces' pushes, then reads `groups`' logs: an entry appended
    /// while a read runs is pushed, and none can fall between a read and the
    /// subscription (read first, an entry appended before the subscription took
    /// effect was neither read nor pushed, and waited for the next connection).
    pub(super) fn subscribe_then_sync(&mut self, groups: &[GroupId]) {
        self.jobs.retain(|job| match job {
            Job::Subscribe => false,
            Job::Sync(group) => !groups.contains(group),
            _ => true,
        });
        self.jobs.push_back(Job::Subscribe);
        self.jobs.extend(groups.iter().map(|group| Job::Sync(*group)));
    }

    /// Subscribes again, then reads, every space whose epoch moved since its
    /// subscription on this connection (or that the relay created since): the relay
    /// ended the old epoch's subscription when the commit closed it, and told of that
    /// commit only. Nothing to do before the connection's first subscription, which
    /// signing in queues, or while one is queued.
    fn resubscribe_moved(&mut self) {
        if self.subscribed.is_empty() || self.jobs.iter().any(|job| matches!(job, Job::Subscribe)) {
            return;
        }
        let moved: Vec<GroupId> = self
            .spaces
            .iter()
            .filter(|(id, space)| {
                !space.meta.removed
                    && !space.meta.stalled
                    && space.meta.relay_created
                    && self.subscribed.get(*id) != Some(&space.group.epoch().as_u64())
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

    /// The next request to send, if any; the engine then waits for its answer.
    pub fn poll_request(&mut self, now: Now) -> Option<(RequestId, RequestBody)> {
        self.now = now;
        if self.in_flight.is_some() {
            return None;
        }
        if let Some(at) = self.retry_at {
            if now < at {
                return None;
            }
            self.retry_at = None;
            self.sync_all();
        }
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
            None if self.follow_up.is_some() => self.follow_up.take()?,
            None => loop {
                self.resubscribe_moved();
                if self.jobs.is_empty() && self.delivery_due().is_some_and(|due| due <= now) {
                    self.push_job(Job::Deliveries);
                }
                let job = self.jobs.pop_front()?;
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
        let id = RequestId::new(self.next_request).ok()?;
        self.next_request += 1;
        self.in_flight = Some((id, step));
        Some((id, body))
    }

    pub(super) fn access(&self, group: &GroupId) -> Result<GroupAccess> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
        let token = space
            .group
            .export_secret(self.provider.crypto(), ACCESS_TOKEN_EXPORTER_LABEL, group.as_bytes(), 32)
            .map_err(mls_error)?;
        let token: [u8; 32] = token.as_slice().try_into().map_err(|_| CoreError::Mls("exporter length".into()))?;
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
                    self.subscribed.insert(group, space.group.epoch().as_u64());
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
                let Some(space) = self.spaces.get(&group) else { return Ok(None) };
                if space.meta.removed || space.meta.stalled || !space.meta.relay_created {
                    return Ok(None);
                }
                let from = seq(space.meta.next_seq)?;
                Some((
                    FetchLog {
                        access: self.access(&group)?,
                        from,
                        limit: PageLimit::new(PAGE).map_err(CoreError::Decode)?,
                    }
                    .into(),
                    Step::FetchLog { group },
                ))
            }
            Job::Outbox => self.plan_outbox()?,
            Job::Deliveries => self.plan_delivery()?,
            Job::Devices => self.plan_device_item()?,
            Job::Transfers => self.plan_transfer()?,
        })
    }

    /// The first waiting Welcome whose time has come.
    pub(super) fn plan_delivery(&mut self) -> Result<Option<(RequestBody, Step)>> {
        for (index, delivery) in self.store.deliveries().first(64)? {
            if delivery.due > self.now {
                continue;
            }
            let recipients: Vec<DeviceId> = delivery.recipients.iter().map(|d| DeviceId::from_bytes(*d)).collect();
            let body = DepositWelcome {
                recipients: BoundedVec::new(recipients)?,
                welcome: huisclos_protocol::messages::WelcomeBytes::new(delivery.item)?,
            };
            return Ok(Some((body.into(), Step::Delivery { index })));
        }
        Ok(None)
    }

    /// When the next waiting Welcome is due, if any.
    pub(super) fn delivery_due(&self) -> Option<Now> {
        let items = self.store.deliveries().first_readable(64).ok()?;
        items.iter().map(|(_, d)| d.due).min()
    }

    pub(super) fn queue_delivery(&mut self, group: GroupId, recipients: &[DeviceId], item: Vec<u8>) -> Result<()> {
        let index = self.next_outbox;
        self.next_outbox += 1;
        let delivery = Delivery {
            group: *group.as_bytes(),
            recipients: recipients.iter().map(|d| *d.as_bytes()).collect(),
            item,
            attempts: 0,
            due: self.now,
            reported: false,
        };
        self.store.deliveries().put(index, &delivery)?;
        self.push_job(Job::Deliveries);
        Ok(())
    }

    pub(super) fn on_delivery_answer(
        &mut self,
        index: u64,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(mut delivery) = self.store.deliveries().get(index)? else { return Ok(()) };
        let group = GroupId::from_bytes(delivery.group);
        match answer {
            Ok(_) => {
                self.store.deliveries().remove(index);
            }
            // Full, or out of quota, or busy: kept, and tried again later.
            Err(
                error @ (RelayError::LimitExceeded { limit: huisclos_protocol::messages::LimitKind::WelcomeInbox }
                | RelayError::QuotaExceeded { .. }
                | RelayError::RateLimited { .. }
                | RelayError::Internal),
            ) => {
                delivery.attempts = delivery.attempts.saturating_add(1);
                let wait = (30u64 << delivery.attempts.min(12)).min(MAX_DELIVERY_BACKOFF_SECS);
                delivery.due = self.now.saturating_add(wait);
                let transient = matches!(error, RelayError::RateLimited { .. } | RelayError::Internal);
                if !transient && !delivery.reported {
                    delivery.reported = true;
                    let reason = match error {
                        RelayError::QuotaExceeded { .. } => DeliveryDelay::QuotaFull,
                        _ => DeliveryDelay::InboxFull,
                    };
                    self.events.push_back(ClientEvent::DeliveryWaiting { space: group, reason });
                }
                self.store.deliveries().put(index, &delivery)?;
            }
            // A recipient is gone (revoked): the others are tried one by one, so that
            // the one gone does not hold them up.
            Err(RelayError::NotFound) if delivery.recipients.len() > 1 => {
                self.store.deliveries().remove(index);
                let recipients: Vec<DeviceId> = delivery.recipients.iter().map(|d| DeviceId::from_bytes(*d)).collect();
                for recipient in recipients {
                    self.queue_delivery(group, &[recipient], delivery.item.clone())?;
                }
            }
            Err(error) => {
                self.store.deliveries().remove(index);
                self.reject(Some(group), Rejection::DeliveryFailed(Fault::Relay(error)));
            }
        }
        self.persist()?;
        self.push_job(Job::Deliveries);
        Ok(())
    }

    pub(super) fn plan_device_item(&mut self) -> Result<Option<(RequestBody, Step)>> {
        let Some((index, item)) = self.store.device_outbox().first(1)?.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(match item {
            DeviceItem::Link { request } => {
                let request = LinkRequest::from_wire(&request)?;
                let body = AddDevice { device_key: request.body.device_key, possession: request.body.possession };
                (body.into(), Step::Device { index, stage: DeviceStage::Register })
            }
            DeviceItem::Announce => {
                let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
                let recipients: Vec<DeviceId> = self.devices.iter().map(|c| c.body.device).collect();
                if recipients.is_empty() {
                    self.store.device_outbox().remove(index);
                    self.persist()?;
                    return Ok(None);
                }
                let card = self.card.clone().ok_or(CoreError::NotFound(Missing::Roster))?;
                let at = UnixSeconds::new(self.now).map_err(CoreError::Decode)?;
                let notice =
                    InboxItem::DeviceReady(DeviceReady::sign(card, certificate.body.device, at, &self.device.mls));
                let welcome = Self::sealed_notice(&self.devices, &notice)?;
                let body = DepositWelcome { recipients: BoundedVec::new(recipients)?, welcome };
                (body.into(), Step::Device { index, stage: DeviceStage::Announce })
            }
            DeviceItem::Revoke { device } => {
                let body = RevokeDevice { device: DeviceId::from_bytes(device) };
                (body.into(), Step::Device { index, stage: DeviceStage::Revoke })
            }
            DeviceItem::Roster { card } => {
                let Some(body) = self.roster_deposit(index, &card, &[])? else { return Ok(None) };
                (body, Step::Device { index, stage: DeviceStage::Announce })
            }
            DeviceItem::RosterAfterRotation { card, previous } => {
                let Some(body) = self.roster_deposit(index, &card, &previous)? else { return Ok(None) };
                (body, Step::Device { index, stage: DeviceStage::Announce })
            }
            DeviceItem::JoinRequest { device, item } => {
                let body = DepositWelcome {
                    recipients: BoundedVec::new(vec![DeviceId::from_bytes(device)])?,
                    welcome: huisclos_protocol::messages::WelcomeBytes::new(item)?,
                };
                (body.into(), Step::Device { index, stage: DeviceStage::Request })
            }
        }))
    }

    /// The deposit of roster `card` into the person's other devices' inboxes, sealed
    /// for each under the certificate the card lists and any of `previous` (the
    /// certificates they held before the identity key was replaced); `None` (and the
    /// item done) when there is no other device.
    pub(super) fn roster_deposit(
        &mut self,
        index: u64,
        card: &[u8],
        previous: &[Vec<u8>],
    ) -> Result<Option<RequestBody>> {
        let card = ContactCard::from_wire(card)?;
        // Every device the roster lists but this one (a revoked device is not told:
        // the relay refuses it anyway).
        let me = self.device.device_id();
        let listed: Vec<DeviceCertificate> =
            card.body.devices.iter().filter(|c| c.body.device != me).cloned().collect();
        if listed.is_empty() {
            self.store.device_outbox().remove(index);
            self.persist()?;
            return Ok(None);
        }
        let recipients: Vec<DeviceId> = listed.iter().map(|c| c.body.device).collect();
        let mut sealed_for = listed;
        for bytes in previous {
            let certificate = DeviceCertificate::from_wire(bytes)?;
            if recipients.contains(&certificate.body.device) && !sealed_for.contains(&certificate) {
                sealed_for.push(certificate);
            }
        }
        let welcome = Self::sealed_notice(&sealed_for, &InboxItem::Roster(card))?;
        Ok(Some(DepositWelcome { recipients: BoundedVec::new(recipients)?, welcome }.into()))
    }

    pub(super) fn on_device_answer(
        &mut self,
        index: u64,
        stage: DeviceStage,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(item) = self.store.device_outbox().get(index)? else { return Ok(()) };
        match (stage, item, answer) {
            // `Conflict`: registered by an earlier attempt whose answer was lost.
            (
                DeviceStage::Register,
                DeviceItem::Link { request },
                Ok(ResponseBody::DeviceAdded(_)) | Err(RelayError::Conflict),
            ) => {
                let request = LinkRequest::from_wire(&request)?;
                let card = self.card.clone().ok_or(CoreError::NotFound(Missing::Roster))?;
                if !card.lists(&request.device(), &request.body.mls_key) {
                    // Revoked meanwhile: nothing is sent.
                    self.store.device_outbox().remove(index);
                    self.persist()?;
                    self.push_job(Job::Devices);
                    return Ok(());
                }
                let grant = DeviceGrant { card };
                let body = DepositWelcome {
                    recipients: BoundedVec::new(vec![request.device()])?,
                    welcome: InboxItem::DeviceGrant(grant.seal(&request)?).to_welcome_bytes()?,
                };
                self.follow_up = Some((body.into(), Step::Device { index, stage: DeviceStage::Grant }));
                Ok(())
            }
            (DeviceStage::Request, _, Err(error))
                if !matches!(error, RelayError::RateLimited { .. } | RelayError::Internal) =>
            {
                // The card's device is gone or refuses: asking again will not help.
                self.store.device_outbox().remove(index);
                self.persist()?;
                self.push_job(Job::Devices);
                self.reject(None, Rejection::JoinRequestUndelivered(Fault::Relay(error)));
                Ok(())
            }
            // `NotFound`: revoked already, by an earlier attempt or another device.
            (DeviceStage::Revoke, _, Err(RelayError::NotFound))
            | (DeviceStage::Grant | DeviceStage::Announce | DeviceStage::Request | DeviceStage::Revoke, _, Ok(_)) => {
                self.store.device_outbox().remove(index);
                self.persist()?;
                self.push_job(Job::Devices);
                Ok(())
            }
            (_, _, Err(error)) => Err(CoreError::Relay(error)),
            (_, _, Ok(_)) => Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
        }
    }

    /// The next request of the first unfinished transfer (uploads first: they free the
    /// staging space); finishes transfers whose chunks are all done on the way.
    pub(super) fn plan_transfer(&mut self) -> Result<Option<(RequestBody, Step)>> {
        while let Some((index, record)) = self.store.uploads().first(1)?.into_iter().next() {
            let group = GroupId::from_bytes(record.group);
            let usable = self.spaces.get(&group).is_some_and(|s| !s.meta.removed && !s.meta.stalled);
            let manifest = FileManifest::from_wire(&record.manifest)?;
            if !usable {
                self.drop_upload(index, &manifest)?;
                self.reject(Some(group), Rejection::UploadDropped);
                continue;
            }
            let chunk = record.done as usize;
            if chunk >= manifest.chunks.len() {
                self.publish_upload(index, record, manifest)?;
                continue;
            }
            let Some(space) = self.spaces.get(&group) else { continue };
            if !space.meta.relay_created {
                return Ok(None);
            }
            let reference = manifest.chunks[chunk];
            let body = huisclos_protocol::messages::GetChunkStatus { access: self.access(&group)?, chunk: reference };
            return Ok(Some((body.into(), Step::Upload { index, chunk })));
        }
        while let Some((index, record)) = self.store.downloads().first(1)?.into_iter().next() {
            let group = GroupId::from_bytes(record.group);
            let manifest = FileManifest::from_wire(&record.manifest)?;
            if self.spaces.get(&group).is_none_or(|s| s.meta.removed) {
                self.store.downloads().remove(index);
                self.persist()?;
                self.reject(Some(group), Rejection::DownloadDropped);
                continue;
            }
            let chunk = record.done as usize;
            if chunk >= manifest.chunks.len() {
                let part = crate::transfer::part_path(&record.dest);
                if !part.exists() {
                    // An empty file: one empty chunk, nothing written yet.
                    crate::transfer::write_chunk(&part, 0, &[])?;
                }
                std::fs::rename(&part, &record.dest)?;
                self.store.downloads().remove(index);
                self.persist()?;
                self.events.push_back(ClientEvent::Transfer {
                    space: group,
                    node: record.node,
                    direction: Direction::Download,
                    done: manifest.length,
                    total: manifest.length,
                    finished: true,
                });
                continue;
            }
            let offset = match &self.download_buffer {
                Some((i, c, buffer)) if *i == index && *c == chunk => buffer.len(),
                _ => {
                    self.download_buffer = Some((index, chunk, Vec::new()));
                    0
                }
            };
            let body = huisclos_protocol::messages::GetChunk {
                access: self.access(&group)?,
                chunk: manifest.chunks[chunk],
                offset: chunk_offset(offset)?,
                max_len: chunk_offset(huisclos_protocol::limits::MAX_CHUNK_PIECE_LEN)?,
            };
            return Ok(Some((body.into(), Step::Download { index, chunk })));
        }
        Ok(None)
    }

    /// Waits before the transfer is tried again, longer each time it fails: other
    /// requests succeeding meanwhile do not shorten the wait.
    pub(super) fn back_off_transfer(&mut self) {
        self.transfer_failures = self.transfer_failures.saturating_add(1);
        self.failures = self.failures.max(self.transfer_failures - 1);
        self.back_off(0);
    }

    pub(super) fn drop_upload(&mut self, index: u64, manifest: &FileManifest) -> Result<()> {
        for chunk in manifest.chunks.iter() {
            let _ = std::fs::remove_file(crate::transfer::staged_path(self.store.dir(), chunk));
        }
        self.store.uploads().remove(index);
        self.persist()
    }

    /// Every chunk is at the relay: the file (or its new version) is published.
    pub(super) fn publish_upload(&mut self, index: u64, record: UploadRecord, manifest: FileManifest) -> Result<()> {
        let group = GroupId::from_bytes(record.group);
        if let Some(create) = &record.create {
            let op = LibraryOp::Create(CreateNode {
                node: record.node,
                kind: NodeKind::File,
                name: NodeName::new(create.name.clone())?,
                parent: create.parent,
            });
            self.library_op(&group, op)?;
        }
        let (length, node) = (manifest.length, record.node);
        self.library_op(&group, LibraryOp::AddVersion(AddVersion { node, manifest: manifest.clone() }))?;
        self.drop_upload(index, &manifest)?;
        self.events.push_back(ClientEvent::Transfer {
            space: group,
            node,
            direction: Direction::Upload,
            done: length,
            total: length,
            finished: true,
        });
        Ok(())
    }

    pub(super) fn on_upload_answer(
        &mut self,
        index: u64,
        chunk: usize,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(mut record) = self.store.uploads().get(index)? else { return Ok(()) };
        let group = GroupId::from_bytes(record.group);
        let manifest = FileManifest::from_wire(&record.manifest)?;
        let received = match answer {
            Ok(ResponseBody::ChunkStatus(status)) => status.received.get() as usize,
            // Not started at the relay (or dropped before it was complete).
            Err(RelayError::NotFound) => 0,
            Err(RelayError::StaleEpoch { .. }) => {
                self.on_stale(group);
                self.push_job(Job::Transfers);
                return Ok(());
            }
            Err(error) => return Err(CoreError::Relay(error)),
            Ok(_) => return Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
        };
        let reference = manifest.chunks.get(chunk).ok_or(CoreError::CorruptProfile("an upload's chunk"))?;
        let sealed = std::fs::read(crate::transfer::staged_path(self.store.dir(), reference))?;
        // Progress in the file's own bytes, as the person knows its size.
        let before: u64 = (0..chunk).map(|i| manifest.chunk_len(i) as u64).sum();
        self.events.push_back(ClientEvent::Transfer {
            space: group,
            node: record.node,
            direction: Direction::Upload,
            done: before + received.min(manifest.chunk_len(chunk)) as u64,
            total: manifest.length,
            finished: false,
        });
        if received >= sealed.len() {
            record.done = chunk as u64 + 1;
            self.store.uploads().put(index, &record)?;
            self.persist()?;
            self.jobs.push_front(Job::Transfers);
            return Ok(());
        }
        let end = (received + huisclos_protocol::limits::MAX_CHUNK_PIECE_LEN).min(sealed.len());
        let body = huisclos_protocol::messages::PutChunk {
            access: self.access(&group)?,
            chunk: *reference,
            total_len: chunk_offset(sealed.len())?,
            offset: chunk_offset(received)?,
            data: huisclos_protocol::messages::ChunkPiece::new(sealed[received..end].to_vec())?,
        };
        self.follow_up = Some((body.into(), Step::Upload { index, chunk }));
        Ok(())
    }

    pub(super) fn on_download_answer(
        &mut self,
        index: u64,
        chunk: usize,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(mut record) = self.store.downloads().get(index)? else { return Ok(()) };
        let group = GroupId::from_bytes(record.group);
        let data = match answer {
            Ok(ResponseBody::ChunkData(data)) => data,
            Err(RelayError::StaleEpoch { .. }) => {
                self.on_stale(group);
                self.push_job(Job::Transfers);
                return Ok(());
            }
            Err(RelayError::NotFound) => {
                // Not (yet) at the relay: the download waits, and is tried again later.
                self.download_buffer = None;
                self.back_off_transfer();
                return Ok(());
            }
            Err(error) => return Err(CoreError::Relay(error)),
            Ok(_) => return Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
        };
        let manifest = FileManifest::from_wire(&record.manifest)?;
        let expected = manifest.chunk_len(chunk) + crate::chunk::CHUNK_OVERHEAD;
        let Some((_, _, buffer)) = self.download_buffer.as_mut().filter(|(i, c, _)| *i == index && *c == chunk) else {
            return Ok(());
        };
        if data.offset.get() as usize != buffer.len()
            || data.total_len.get() as usize != expected
            || buffer.len() + data.data.len() > expected
        {
            // Refused, and asked for again after a wait: a relay that keeps serving
            // wrong pieces is not asked in a loop.
            self.download_buffer = None;
            self.back_off_transfer();
            return Err(CoreError::Verification(Unverified::Chunk));
        }
        buffer.extend_from_slice(data.data.as_bytes());
        if buffer.len() < expected {
            self.jobs.push_front(Job::Transfers);
            return Ok(());
        }
        let sealed = std::mem::take(buffer);
        self.download_buffer = None;
        let opened = FileOpener::new(&manifest).and_then(|opener| opener.open(chunk, &sealed));
        let plaintext = match opened {
            Ok(plaintext) => plaintext,
            Err(error) => {
                // Not the chunk the file names: refused, and asked for again later.
                self.back_off_transfer();
                return Err(error);
            }
        };
        crate::transfer::write_chunk(&crate::transfer::part_path(&record.dest), chunk, &plaintext)?;
        self.transfer_failures = 0;
        record.done = chunk as u64 + 1;
        self.store.downloads().put(index, &record)?;
        self.persist()?;
        let done = (0..=chunk).map(|i| manifest.chunk_len(i) as u64).sum();
        self.events.push_back(ClientEvent::Transfer {
            space: group,
            node: record.node,
            direction: Direction::Download,
            done,
            total: manifest.length,
            finished: false,
        });
        self.jobs.push_front(Job::Transfers);
        Ok(())
    }

    pub(super) fn plan_outbox(&mut self) -> Result<Option<(RequestBody, Step)>> {
        // Items are sent in order; an item whose space cannot advance waits.
        let items = self.store.outbox().first(64)?;
        for (index, item) in items {
            let group = item.group();
            let Some(space) = self.spaces.get(&group) else {
                self.remove_from_outbox(index);
                self.persist()?;
                continue;
            };
            if space.meta.removed {
                self.remove_from_outbox(index);
                self.persist()?;
                self.reject(Some(group), Rejection::UnsentItemDropped);
                continue;
            }
            if space.meta.stalled || (!space.meta.relay_created && !matches!(item, OutboxItem::CreateGroup { .. })) {
                continue;
            }
            if matches!(item, OutboxItem::HistoryKeys { .. }) {
                self.remove_from_outbox(index);
                self.persist()?;
                continue;
            }
            // A device that joined and waits for the history its adder owes it commits
            // nothing (a commit's ledger needs the rosters it lacks) and seals nothing
            // until it holds the current key (below).
            if !space.meta.history.is_complete()
                && matches!(&item, OutboxItem::Operation { operation, .. } if !matches!(operation, Operation::Leave))
            {
                continue;
            }
            // MLS sends no application message while proposals wait for a commit: items
            // wait, operations (which commit them) go first.
            let proposals_pending = space.group.pending_proposals().next().is_some();
            if proposals_pending && !matches!(item, OutboxItem::Operation { .. }) {
                continue;
            }
            if !proposals_pending && matches!(item, OutboxItem::Operation { operation: Operation::CommitProposals, .. })
            {
                // Someone else committed them first.
                self.remove_from_outbox(index);
                self.persist()?;
                continue;
            }
            let planned = match item {
                OutboxItem::CreateGroup { .. } => {
                    let access = self.access(&group)?;
                    let verifier = EpochVerifier::for_token(&access.token);
                    // A space without history keeps its content only in MLS messages,
                    // which the relay then deletes after its retention period.
                    let retention = match space.meta_history_mode()? {
                        HistoryMode::Keep => LogRetention::Keep,
                        HistoryMode::None => LogRetention::Expire,
                    };
                    (CreateGroup { group, verifier, retention }.into(), OutboxStage::Single)
                }
                OutboxItem::Content { envelope, .. } => {
                    let envelope = ContentEnvelope::from_wire(&envelope)?;
                    if space.meta_history_mode()? == HistoryMode::Keep {
                        let Some(key) = space.meta.history.sealing_key() else { continue };
                        let record = envelope.signed.id;
                        let sealed = SealedRecord::seal(&key, &group, &record, &envelope)?;
                        let access = self.access(&group)?;
                        (
                            PutContent { access, record, sealed: ContentRecordBytes::new(sealed.to_bytes())? }.into(),
                            OutboxStage::Single,
                        )
                    } else {
                        let message = self.application_message(&group, &AppPayload::Content(envelope))?;
                        (AppendMessage { access: self.access(&group)?, message }.into(), OutboxStage::Single)
                    }
                }
                OutboxItem::HistoryKeys { .. } => continue,
                OutboxItem::Roster { card, .. } => {
                    let payload = AppPayload::Roster(ContactCard::from_wire(&card)?);
                    let message = self.application_message(&group, &payload)?;
                    (AppendMessage { access: self.access(&group)?, message }.into(), OutboxStage::Single)
                }
                OutboxItem::HistoryGrant { payload, .. } => {
                    let message = self.application_bytes(&group, &payload)?;
                    (AppendMessage { access: self.access(&group)?, message }.into(), OutboxStage::Single)
                }
                OutboxItem::Marker { .. } => {
                    let Some(key) = space.meta.history.sealing_key() else { continue };
                    let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
                    let record = random_content_id();
                    let signed = EnvelopeBody {
                        id: record,
                        group,
                        author: certificate,
                        created_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
                        body: ContentBody::Marker(GenerationMarker { generation: key.generation() }),
                    };
                    let envelope = ContentEnvelope::sign(signed, &self.device.mls)?;
                    let sealed = SealedRecord::seal(&key, &group, &record, &envelope)?;
                    let access = self.access(&group)?;
                    (
                        PutContent { access, record, sealed: ContentRecordBytes::new(sealed.to_bytes())? }.into(),
                        OutboxStage::Single,
                    )
                }
                OutboxItem::Operation { operation, .. } => match self.plan_operation(&group, operation) {
                    Ok(planned) => planned,
                    Err(error) => {
                        // An operation that cannot be built on the current state (the
                        // person already left, the role was taken away) is dropped.
                        self.remove_from_outbox(index);
                        self.persist()?;
                        self.reject(Some(group), Rejection::OperationDropped(error.fault()));
                        continue;
                    }
                },
            };
            let (body, stage) = planned;
            self.persist()?;
            return Ok(Some((body, Step::Outbox { index, stage })));
        }
        Ok(None)
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
            return Err(CoreError::Mls("exporter length".into()));
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
        let staged = space.group.pending_commit().ok_or(CoreError::Mls("no pending commit".into()))?;
        let token = staged
            .export_secret(self.provider.crypto(), ACCESS_TOKEN_EXPORTER_LABEL, group.as_bytes(), 32)
            .map_err(mls_error)?;
        let token: [u8; 32] = token.as_slice().try_into().map_err(|_| CoreError::Mls("exporter length".into()))?;
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
