//! What the relay answers and pushes, dispatched: each answer goes to the step that
//! asked for it (the log of a space to `space_log`, content pages to
//! `space_content`, the outbox's answers to `outbox`, transfers to `transfers`), and
//! pushed events queue the reads they announce. Welcomes, inbox items (device grants,
//! rosters, join requests, device-ready notices) and key packages are handled here.

use super::*;

impl Engine {
    // -----------------------------------------------------------------------------
    // Answers and events.

    /// Feeds the relay's push event.
    pub fn handle_event(&mut self, event: Event, now: Now) {
        self.now = now;
        match event {
            Event::LogAdvanced(advanced) => {
                if self.spaces.contains_key(&advanced.group) {
                    let announced = self.requests.log_announced.entry(advanced.group).or_default();
                    *announced = (*announced).max(advanced.latest.get());
                    self.push_job(Job::Sync(advanced.group));
                }
            }
            Event::ContentAdvanced(advanced) => {
                if self.spaces.contains_key(&advanced.group) {
                    self.push_job(Job::Sync(advanced.group));
                }
            }
            Event::ContentPushed(pushed) => self.on_content_pushed(pushed),
            Event::WelcomeAvailable(_) => self.push_job(Job::Welcomes),
            Event::Signal(signal) => self.on_signal(signal),
        }
    }

    /// Pushed events were lost: syncs everything, as after reconnecting.
    pub fn events_missed(&mut self) {
        self.sync_all();
    }

    /// Feeds the answer to the request `id`.
    pub fn handle_response(&mut self, id: RequestId, answer: std::result::Result<ResponseBody, RelayError>, now: Now) {
        self.now = now;
        let Some(step) = self.requests.answered(id) else { return };
        if let Step::Signal { group } = step {
            // Presence is lossy: a refusal is retried at the next interval, and holds
            // up no other work.
            self.on_signal_answer(group, &answer);
            return;
        }
        let transient = match &answer {
            Err(RelayError::RateLimited { retry_after_ms }) => Some(u64::from(*retry_after_ms).div_ceil(1000)),
            Err(RelayError::Internal) => Some(0),
            _ => None,
        };
        if transient.is_some() && matches!(step, Step::Subscribe) {
            // Not subscribed after all: the full sync at the end of the wait subscribes
            // again (the spaces were noted as subscribed when the request was made).
            self.requests.subscribed.clear();
        }
        if let Err(error) = self.apply_answer(step, answer) {
            // Nothing half-done stays: the step's writes are forgotten, and its job is
            // tried again later if still needed.
            self.rollback();
            if transient.is_none() {
                self.reject(None, Rejection::StepFailed(error.fault()));
            }
        }
        match transient {
            Some(hint) => self.back_off(hint),
            // The step itself may have decided to wait (a relay that keeps saying the
            // epoch is stale): then the count of failures goes on growing.
            None if self.requests.retry_at.is_none() => self.requests.failures = 0,
            None => {}
        }
    }

    /// Waits before asking the relay again: exponential from 1 s to 5 min, or what the
    /// relay asked (up to an hour) if longer, spread by a per-device offset so that devices refused
    /// together do not come back together. Everything queued is planned again then.
    pub(super) fn back_off(&mut self, relay_hint: u64) {
        self.requests.back_off(self.now, self.device.device_id().as_bytes()[0], relay_hint);
    }

    /// The relay says the space moved past this device's epoch: read what was missed,
    /// then send again. A relay that says so while serving no commit to read would
    /// have the device ask for ever; after [`MAX_STALE_IN_EPOCH`] such answers in one
    /// epoch the engine reports it and waits as after any refusal.
    pub(super) fn on_stale(&mut self, group: GroupId) {
        let epoch = self.spaces.get(&group).map(|s| s.group.epoch().as_u64());
        let entry = self.requests.stale.entry(group).or_insert((epoch, 0));
        if entry.0 != epoch {
            *entry = (epoch, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let count = entry.1;
        if count == MAX_STALE_IN_EPOCH {
            self.warn(Some(group), SecurityWarning::CommitsWithheld);
        }
        if count >= MAX_STALE_IN_EPOCH {
            // Other requests may well succeed meanwhile: the wait grows with this
            // space's refusals, not only with consecutive failures.
            self.requests.failures = self.requests.failures.max(count - MAX_STALE_IN_EPOCH);
            self.back_off(0);
        } else {
            self.requests.jobs.push_front(Job::Outbox);
            self.requests.jobs.push_front(Job::Sync(group));
        }
    }

    /// When the engine wants to be polled again even if nothing arrives (a retry after
    /// a backoff); `None` when it only waits for the relay or the user.
    pub fn poll_timeout(&self) -> Option<Now> {
        // A Welcome waiting to be delivered again wakes the engine too.
        let delivery = if self.is_online() { self.delivery_due() } else { None };
        let expiry = self.presence.next_expiry();
        // While a wait after a refusal holds, nothing is sent before it ends: a send due
        // meanwhile must not wake the engine (it would find nothing to do, at once,
        // again and again). Peers are forgotten on time even then.
        if let Some(retry) = self.requests.retry_at {
            return [Some(retry), expiry].into_iter().flatten().min();
        }
        let send = if self.is_online() { self.presence.next_send() } else { None };
        [delivery, send, expiry].into_iter().flatten().min()
    }

    pub(super) fn apply_answer(
        &mut self,
        step: Step,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        match (step, answer) {
            (Step::SignIn(step), answer) => match self.session.on_answer(step, answer) {
                SignInOutcome::Challenged => {
                    // A relay of a release before `SignIn`: the reads sent behind it
                    // are refused, signing in queues them again, and later connections
                    // send none before signing in.
                    if self.requests.pipelining {
                        self.requests.no_pipelining = true;
                    }
                    self.requests.abandon_pipelined();
                    Ok(())
                }
                SignInOutcome::SignedIn => self.go_online(),
                SignInOutcome::AccountCreated(account) => {
                    self.account = Some(account);
                    self.invitation = None;
                    self.pending_invitation = None;
                    self.issue_certificate()?;
                    self.events.push_back(ClientEvent::AccountCreated(account));
                    self.go_online()
                }
                SignInOutcome::Refused(error) => {
                    // The engine does not wait on a refusal: the next connection tries.
                    self.requests.abandon_pipelined();
                    self.session.disconnected();
                    Err(CoreError::Relay(error))
                }
                SignInOutcome::Unexpected => {
                    self.requests.abandon_pipelined();
                    Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer))
                }
            },
            (Step::KeyPackageStatus, Ok(ResponseBody::KeyPackageStatus(status))) => self.top_up_key_packages(&status),
            (Step::KeyPackageUpload, Ok(_)) => Ok(()),
            (Step::Subscribe, Ok(ResponseBody::Subscribed(subscribed))) => {
                for group in subscribed.refused.iter() {
                    self.push_job(Job::Sync(*group));
                }
                Ok(())
            }
            (Step::FetchWelcomes, Ok(ResponseBody::Welcomes(welcomes))) => self.on_welcomes(welcomes),
            (Step::AckWelcomes, Ok(_)) => Ok(()),
            (Step::FetchLog { group }, Ok(ResponseBody::LogPage(page))) => self.on_log_page(group, page),
            (Step::FetchLog { group }, Err(RelayError::Forbidden)) => {
                // Our epoch's token is refused: we were removed, or the relay lies.
                self.warn(Some(group), SecurityWarning::LogAccessRefused);
                Ok(())
            }
            (Step::FetchMany { reads }, Ok(ResponseBody::Fetched(fetched))) => self.on_fetched(reads, fetched),
            (Step::FetchMany { reads }, Err(RelayError::BadRequest)) => {
                // A relay of a release before `FetchMany`: each space is read alone on
                // this connection.
                self.requests.no_batches = true;
                self.requests.read_again(&reads);
                Ok(())
            }
            (Step::Subscribe, Err(RelayError::LimitExceeded { limit: LimitKind::InFlight })) => {
                // Sent behind the sign-in to a relay that allows fewer requests in
                // flight: asked again, now that its answers are in.
                self.requests.subscribed.clear();
                self.requests.jobs.push_front(Job::Subscribe);
                Ok(())
            }
            (Step::FetchMany { reads }, Err(RelayError::LimitExceeded { limit: LimitKind::InFlight })) => {
                self.requests.read_again(&reads);
                Ok(())
            }
            (Step::FetchLog { group }, Err(RelayError::LimitExceeded { limit: LimitKind::InFlight })) => {
                self.requests.jobs.push_front(Job::Sync(group));
                Ok(())
            }
            (Step::FetchWelcomes, Err(RelayError::LimitExceeded { limit: LimitKind::InFlight })) => {
                self.push_job(Job::Welcomes);
                Ok(())
            }
            (Step::KeyPackageStatus, Err(RelayError::LimitExceeded { limit: LimitKind::InFlight })) => {
                self.push_job(Job::KeyPackages);
                Ok(())
            }
            (Step::FetchContent { group }, Ok(ResponseBody::ContentPage(page))) => self.on_content_page(group, page),
            (Step::FetchContent { group }, Err(RelayError::StaleEpoch { .. })) => {
                self.on_stale(group);
                Ok(())
            }
            (Step::Outbox { index, stage }, answer) => self.on_outbox_answer(index, stage, answer),
            (Step::Device { index, stage }, answer) => self.on_device_answer(index, stage, answer),
            (Step::Delivery { index }, answer) => self.on_delivery_answer(index, answer),
            (Step::Upload { index, chunk }, answer) => self.on_upload_answer(index, chunk, answer),
            (Step::Download { index, chunk }, answer) => self.on_download_answer(index, chunk, answer),
            (_, Err(error)) => Err(CoreError::Relay(error)),
            (_, Ok(_)) => Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
        }
    }

    /// Uploads only what the relay lacks: one-time packages up to
    /// [`KEY_PACKAGE_TARGET`], and a last-resort package if none is stored. Each
    /// package's private keys are written to the vault before the upload.
    pub(super) fn top_up_key_packages(&mut self, status: &huisclos_protocol::messages::KeyPackageStatus) -> Result<()> {
        let missing = KEY_PACKAGE_TARGET.saturating_sub(status.one_time_left);
        if missing == 0 && status.has_last_resort {
            return Ok(());
        }
        let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
        let mut one_time = Vec::new();
        // Sealed under this device's certificate: the package carries it, name and all,
        // and the relay stores it for anyone who claims it (see `conceal`).
        let sealed = |package: Vec<u8>| -> Result<KeyPackageBytes> {
            Ok(KeyPackageBytes::new(crate::conceal::seal_key_package(&certificate, &package)?)?)
        };
        for _ in 0..missing {
            one_time.push(sealed(crate::mls::key_package(&self.provider, &self.device.mls, &certificate, false)?)?);
        }
        let last_resort = if status.has_last_resort {
            None
        } else {
            Some(sealed(crate::mls::key_package(&self.provider, &self.device.mls, &certificate, true)?)?)
        };
        self.persist()?;
        let body = UploadKeyPackages { one_time: BoundedVec::new(one_time)?, last_resort };
        self.requests.follow_ups.push_back((body.into(), Step::KeyPackageUpload));
        Ok(())
    }

    pub(super) fn issue_certificate(&mut self) -> Result<()> {
        let account = self.account.ok_or(CoreError::NotFound(Missing::Account))?;
        let body = CertificateBody {
            identity: self.identity,
            account,
            device: self.device.device_id(),
            mls_key: self.device.mls_public(),
            name: self.name.clone(),
            created_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
        };
        if let Some(old) = self.rotate_from.take() {
            let at = UnixSeconds::new(self.now).map_err(CoreError::Decode)?;
            self.transition = Some(IdentityTransition::sign(&old, self.identity_key()?, at));
        }
        let certificate = DeviceCertificate::issue(self.identity_key()?, body)?;
        self.certificate = Some(certificate.clone());
        // The person's first roster: this device. A restored identity starts a roster
        // of its own (its old devices are gone).
        self.issue_roster(vec![certificate])?;
        self.save_profile()?;
        self.persist()
    }

    pub(super) fn go_online(&mut self) -> Result<()> {
        debug_assert!(self.session.is_signed_in());
        self.events.push_back(ClientEvent::Online);
        self.presence.reconnected();
        // What is new first: the subscription, every space's news in one read
        // (`FetchMany`), new invitations and the key packages' count, all sent behind a
        // one-round-trip sign-in without waiting for its answer (queued then, and
        // already on the way), so that someone opening the app sees the news, and the
        // spaces they were added to, one round trip after connecting; then what was
        // written offline goes out.
        if !std::mem::take(&mut self.requests.pipelining) {
            let groups = self.requests.read_order.least_recent_first(self.spaces.keys().copied());
            self.subscribe_then_sync(&groups);
            self.push_job(Job::Outbox);
            self.push_job(Job::Welcomes);
            self.push_job(Job::KeyPackages);
        } else {
            self.push_job(Job::Outbox);
        }
        self.push_job(Job::Devices);
        self.push_job(Job::Transfers);
        Ok(())
    }

    pub(super) fn on_welcomes(&mut self, welcomes: huisclos_protocol::messages::Welcomes) -> Result<()> {
        let mut last = None;
        for item in welcomes.entries.iter() {
            last = Some(item.position);
            if let Err(error) = self.on_inbox_item(item.welcome.as_bytes()) {
                self.rollback();
                self.reject(None, Rejection::InvitationRefused(error.fault()));
            } else {
                self.persist()?;
            }
        }
        if let Some(up_to) = last {
            self.in_flight_follow_up(AckWelcomes { up_to }.into(), Step::AckWelcomes)?;
        }
        if welcomes.more {
            self.push_job(Job::Welcomes);
        }
        Ok(())
    }

    /// Takes the answers to a [`Step::FetchMany`], space by space, as their own requests'
    /// answers would be taken: a space's log first, then its content store, read only if
    /// the log was read to its end (otherwise the content page read alongside is left,
    /// and read again once the log is). A read deferred, or a content store to read
    /// further, is queued; an item refused is handled as its own request's refusal, and
    /// the other spaces' answers are taken all the same.
    fn on_fetched(
        &mut self,
        reads: Vec<(GroupId, Option<u64>)>,
        fetched: huisclos_protocol::messages::Fetched,
    ) -> Result<()> {
        let expected = reads.iter().map(|(_, content_from)| 1 + usize::from(content_from.is_some())).sum::<usize>();
        // As many answers as reads, and the first one read (the relay defers only what
        // no longer fits after it): else nothing of it is taken.
        if fetched.results.len() != expected || matches!(fetched.results.first(), Some(FetchResult::Deferred(_))) {
            return Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer));
        }
        let mut results = fetched.results.into_vec().into_iter();
        let mut refused = None;
        for (group, content_from) in reads {
            let log = results.next();
            let content = match content_from {
                Some(from) => results.next().map(|result| (from, result)),
                None => None,
            };
            // One space's failure is that space's alone: its writes are forgotten (the
            // spaces before it were stored already), and the others are taken.
            if let Err(error) = self.take_fetched(group, log, content, &mut refused) {
                self.rollback();
                self.reject(Some(group), Rejection::StepFailed(error.fault()));
            }
        }
        match refused {
            Some(error) => Err(CoreError::Relay(error)),
            None => Ok(()),
        }
    }

    /// One space's answers within [`Engine::on_fetched`].
    fn take_fetched(
        &mut self,
        group: GroupId,
        log: Option<FetchResult>,
        content: Option<(u64, FetchResult)>,
        refused: &mut Option<RelayError>,
    ) -> Result<()> {
        match log {
            Some(FetchResult::Log(page)) => match (self.read_log_page(group, page)?, content) {
                (None, _) => {}
                // The log moved where the store is read from (a history grant sends the
                // reading back to the start, for the records sealed before this device
                // held their keys): the page read beside it, from where the reading
                // was, is left, and the store read again from where it is now. Taking
                // it would skip the records to read again, for good.
                (Some(next), Some((from, _))) if next.from.get() != from => self.push_job(Job::Sync(group)),
                (Some(_), Some((_, FetchResult::Content(page)))) => self.on_content_page(group, page)?,
                (Some(_), Some((_, FetchResult::Refused(RelayError::StaleEpoch { .. })))) => self.on_stale(group),
                (Some(_), Some((_, FetchResult::Refused(error)))) => {
                    refused.get_or_insert(error);
                }
                (Some(_), Some((_, FetchResult::Deferred(_))) | None) => self.push_job(Job::Sync(group)),
                (Some(_), Some((_, FetchResult::Log(_)))) => {
                    return Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer));
                }
            },
            Some(FetchResult::Refused(RelayError::Forbidden)) => {
                // As for its own read: our epoch's token is refused.
                self.warn(Some(group), SecurityWarning::LogAccessRefused);
            }
            Some(FetchResult::Refused(error)) => {
                refused.get_or_insert(error);
            }
            Some(FetchResult::Deferred(_)) => self.push_job(Job::Sync(group)),
            Some(FetchResult::Content(_)) | None => {
                return Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer));
            }
        }
        Ok(())
    }

    /// Sends a request that continues the step just answered, before other jobs.
    pub(super) fn in_flight_follow_up(&mut self, body: RequestBody, step: Step) -> Result<()> {
        self.requests.follow_ups.push_back((body, step));
        Ok(())
    }

    pub(super) fn on_inbox_item(&mut self, bytes: &[u8]) -> Result<()> {
        match InboxItem::from_wire(bytes)? {
            InboxItem::Welcome(welcome) => self.join_from_welcome(welcome.as_bytes()),
            // Only a device being linked reads grants; one that reaches a linked device
            // (a resend) has nothing to add.
            InboxItem::DeviceGrant(_) => Ok(()),
            // In clear: left by a device of an earlier release (this one seals them).
            InboxItem::DeviceReady(notice) => self.on_device_ready(&notice),
            InboxItem::Roster(card) => self.on_roster_notice(&card),
            InboxItem::JoinRequest(sealed) => self.on_join_request(&sealed),
            InboxItem::Sealed(notice) => {
                let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
                let inner = notice.open(&certificate)?;
                match InboxItem::from_wire(&inner)? {
                    InboxItem::DeviceReady(notice) => self.on_device_ready(&notice),
                    InboxItem::Roster(card) => self.on_roster_notice(&card),
                    _ => Err(CoreError::Verification(Unverified::Malformed)),
                }
            }
        }
    }

    /// A roster in this device's inbox: this person's newest, or the one by which the
    /// holder of their identity key replaced it.
    pub(super) fn on_roster_notice(&mut self, card: &ContactCard) -> Result<()> {
        let rotated_from_ours = card.body.transition.as_ref().is_some_and(|t| t.body.previous == self.identity);
        if card.body.identity != self.identity && !rotated_from_ours {
            return Err(CoreError::Verification(Unverified::WrongPerson));
        }
        self.observe_roster(card, None)
    }

    /// `item`, sealed for the devices of `recipients` (see [`crate::conceal`]), as the
    /// relay's inbox carries it.
    pub(super) fn sealed_notice(
        recipients: &[DeviceCertificate],
        item: &InboxItem,
    ) -> Result<huisclos_protocol::messages::WelcomeBytes> {
        let inner = Zeroizing::new(item.to_wire());
        InboxItem::Sealed(crate::conceal::SealedNotice::seal(recipients, &inner)?).to_welcome_bytes()
    }

    /// A request to join through this device's space card: checked, then admitted at
    /// once in an open space, or kept for a space manager's decision.
    pub(super) fn on_join_request(&mut self, sealed: &SealedJoinRequest) -> Result<()> {
        let key_id = sealed.key_id().ok_or(CoreError::Verification(Unverified::Malformed))?;
        let space_id = self
            .spaces
            .iter()
            .find(|(_, s)| s.meta.request_key_id == Some(key_id))
            .map(|(id, _)| *id)
            .ok_or(CoreError::Verification(Unverified::WrongPlace))?;
        let space = self.spaces.get(&space_id).ok_or(CoreError::NotFound(Missing::Space))?;
        if space.meta.removed || space.meta.stalled {
            return Err(CoreError::Forbidden(Refusal::NoLongerInSpace));
        }
        let secret = space
            .meta
            .request_secret
            .map(|s| Zeroizing::new(x25519_dalek::StaticSecret::from(s)))
            .ok_or(CoreError::NotFound(Missing::JoinRequest))?;
        let request = JoinRequest::open(sealed, &space_id, &secret)?;
        // A request taken once, or an old one replayed, is refused.
        self.check_fresh(request.digest(), request.body.created_at.get())?;
        self.save_profile()?;
        let identity = request.body.card.body.identity;
        let name = request.body.card.name().map(|n| n.to_string()).unwrap_or_default();
        if self.members(&space_id)?.iter().any(|m| m.identity == identity) {
            return Ok(()); // already in: a resend, or admitted by someone else
        }
        self.trust_card(&request.body.card)?;
        let rules = self.rules(&space_id)?;
        let my_role = rules.role_of(&self.identity);
        match rules.policy {
            Policy::Confidential => Err(CoreError::Forbidden(Refusal::RequestsClosed)),
            Policy::Open if my_role.may_contribute() => {
                self.enqueue(OutboxItem::Operation {
                    group: *space_id.as_bytes(),
                    operation: Operation::Invite { card: request.body.card.to_wire(), role: rules.default_role as u8 },
                })?;
                self.events.push_back(ClientEvent::JoinRequested { space: space_id, name, identity, admitted: true });
                Ok(())
            }
            _ => {
                let space = self.spaces.get_mut(&space_id).ok_or(CoreError::NotFound(Missing::Space))?;
                let waiting = &mut space.meta.join_requests;
                // One request per person: the newest replaces an older one.
                waiting
                    .retain(|bytes| JoinRequest::from_wire(bytes).is_ok_and(|r| r.body.card.body.identity != identity));
                if waiting.len() >= MAX_PENDING_JOIN_REQUESTS {
                    waiting.remove(0);
                }
                waiting.push(request.to_wire());
                self.save_group(&space_id)?;
                self.events.push_back(ClientEvent::JoinRequested { space: space_id, name, identity, admitted: false });
                Ok(())
            }
        }
    }

    /// Another device of this person is linked and ready: it is added to every space
    /// this device is in.
    pub(super) fn on_device_ready(&mut self, notice: &DeviceReady) -> Result<()> {
        let certificate = notice.verify()?.clone();
        let card = &notice.body.card;
        if card.body.identity != self.identity || card.account() != self.account {
            return Err(CoreError::Verification(Unverified::WrongPerson));
        }
        if certificate.body.device == self.device.device_id() {
            return Ok(());
        }
        self.check_fresh(notice.digest(), notice.body.issued_at.get())?;
        // The roster it carries was signed by the identity key's holder, who approved
        // the device on the person's existing device; a newer one than held is taken.
        self.observe_roster(card, None)?;
        // Only a device on the newest roster is added: a revoked device's notice (its
        // roster older than the one held) brings nothing back.
        if !self.device_allowed(&certificate.body) {
            return Err(CoreError::Verification(Unverified::NotOnRoster));
        }
        self.save_profile()?;
        let spaces: Vec<GroupId> = self
            .spaces
            .iter()
            .filter(|(_, s)| !s.meta.removed && !s.meta.stalled)
            .filter(|(_, s)| !Self::has_device(&s.group, &certificate.body.device))
            .map(|(id, _)| *id)
            .collect();
        for space in spaces {
            // The roster goes first, so that every member knows the device is the
            // person's before the commit adds it.
            self.enqueue(OutboxItem::Roster { group: *space.as_bytes(), card: card.to_wire() })?;
            let rules = self.rules(&space)?;
            if rules.devices_need_approval && !rules.role_of(&self.identity).may_manage_space() {
                // A space manager approves it there (it shows among their pending
                // devices once they read the roster).
                continue;
            }
            self.enqueue(OutboxItem::Operation {
                group: *space.as_bytes(),
                operation: Operation::AddDevice { certificate: certificate.to_wire() },
            })?;
        }
        Ok(())
    }

    pub(super) fn has_device(group: &MlsGroup, device: &DeviceId) -> bool {
        group.members().any(|m| {
            crate::mls::certificate_of(&m.credential, &m.signature_key).is_ok_and(|c| &c.body.device == device)
        })
    }

    pub(super) fn join_from_welcome(&mut self, bytes: &[u8]) -> Result<()> {
        let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(mls_error)?;
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            return Err(CoreError::Invalid(InvalidInput::NotAWelcome));
        };
        let builder = StagedWelcome::build_from_welcome(&self.provider, &crate::mls::join_config(), welcome)
            .map_err(mls_error)?;
        let joining = our_group_id(builder.processed_welcome().unverified_group_info().group_id())?;
        if let Some(earlier) = self.spaces.get_mut(&joining)
            && earlier.meta.removed
        {
            // Invited again after a removal: the old group's state goes first (in this
            // step's writes, so a Welcome that fails leaves it as it was).
            earlier.group.delete(self.provider.storage()).map_err(mls_error)?;
        }
        let staged = builder.build().map_err(mls_error)?;
        let inviter = staged.welcome_sender().map_err(mls_error)?;
        let inviter = crate::mls::certificate_of(inviter.credential(), inviter.signature_key().as_slice())?;
        // Every member's certificate must verify before we trust anything they send.
        let mut certificates = Vec::new();
        for member in staged.members() {
            certificates.push(crate::mls::certificate_of(&member.credential, &member.signature_key)?);
        }
        let rules = crate::mls::rules_of(staged.group_context().extensions())?;
        crate::mls::check_context_extensions(staged.group_context().extensions())?;
        let ledger = crate::mls::ledger_of(staged.group_context().extensions())?
            .ok_or(CoreError::Invalid(InvalidInput::SpaceFromOlderRelease))?;
        let group = staged.into_group(&self.provider).map_err(mls_error)?;
        let id = our_group_id(group.group_id())?;
        let join_epoch = group.epoch().as_u64();
        let seats = Self::seats(&group);
        let history = History::joined(join_epoch, &ledger, &seats, rules.history == HistoryMode::Keep, |generation| {
            Ok(*self.derive_history_key(&group, &id, generation)?)
        })?;
        let mut meta = GroupMeta::new(history);
        if let Some(earlier) = self.spaces.get(&id) {
            if !earlier.meta.removed {
                return Err(CoreError::Invalid(InvalidInput::AlreadyMember));
            }
            // Invited again after a removal: the feed read before stays, and items
            // already shown are not shown twice; everything about the group is new.
            // (The items applied stay under the group's `seen_namespace`.)
            meta.feed_len = earlier.meta.feed_len;
            meta.unread = earlier.meta.unread;
            meta.muted = earlier.meta.muted;
        }
        meta.relay_created = true;
        meta.invited_by = inviter.body.name.to_string();
        // Added by another of this person's devices: the person is already in the
        // space, so there is nothing to accept. (A device a space manager approved is
        // asked, like any invitation: the person sees it on the new device.)
        let own_device = inviter.body.identity == self.identity;
        // Asked for by this person: admitted, so there is nothing left to accept.
        let asked = self.requested.remove(&id);
        // The continuation of a space this device is in and that is stalled here, made
        // by a current member who is a space manager there (as this device last knew
        // its rules) and did not stall it. Anything else that claims to continue a
        // space is an ordinary invitation, for the person to accept or not.
        let continues = rules.replaces.filter(|old| {
            self.spaces.get(old).is_some_and(|s| {
                s.meta.stalled
                    && !s.meta.removed
                    && s.meta.replaced_by.is_none()
                    && Self::seats(&s.group).iter().any(|seat| seat.identity == inviter.body.identity)
                    && crate::mls::rules_of(s.group.extensions())
                        .is_ok_and(|r| r.role_of(&inviter.body.identity).may_manage_space())
                    && s.meta.stalled_by != Some(*inviter.body.identity.as_bytes())
            })
        });
        meta.accepted = own_device || asked || continues.is_some();
        if asked {
            self.save_profile()?;
        }
        self.spaces.insert(id, Space { group, meta });
        self.save_group(&id)?;
        for certificate in &certificates {
            self.observe(&certificate.body, Some(id))?;
        }
        if let Some(old) = continues {
            if let Some(stalled) = self.spaces.get_mut(&old) {
                stalled.meta.replaced_by = Some(*id.as_bytes());
            }
            self.save_group(&old)?;
            self.events.push_back(ClientEvent::Recreated { stalled: old, successor: id });
        }
        if own_device || asked || continues.is_some() {
            self.events.push_back(ClientEvent::Joined(id));
        } else {
            self.events.push_back(ClientEvent::Invited {
                space: id,
                name: rules.name.as_str().to_owned(),
                by: inviter.body.name.to_string(),
            });
        }
        self.subscribe_then_sync(&[id]);
        Ok(())
    }
}
