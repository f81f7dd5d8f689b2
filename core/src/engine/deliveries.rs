//! Deliveries and device work: Welcomes left in invitees' inboxes (each retried on its own schedule), and the device-level queue (linking, announcing, join requests, revoking, rosters).

use super::*;

impl Engine {
    /// The first waiting Welcome whose time has come.
    pub(super) fn plan_delivery(&mut self) -> Result<Option<(RequestBody, Step)>> {
        for (index, delivery) in self.store.deliveries().first_each(64)? {
            let delivery = delivery?;
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
        let index = self.outbox.next;
        self.outbox.next += 1;
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
                self.requests.follow_ups.push_back((body.into(), Step::Device { index, stage: DeviceStage::Grant }));
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
}
