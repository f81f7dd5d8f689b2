//! The new device's side of linking, sans-IO: it logs in with its own key once the
//! existing device has registered it, reads its inbox until the sealed grant arrives,
//! opens it, and becomes a full [`Engine`].
//!
//! The pending keys are kept in the vault, so closing the app between showing the
//! request and receiving the grant loses nothing ([`Linker::load`]).

use std::sync::Arc;

use huisclos_protocol::auth::TlsExporter;
use huisclos_protocol::codec::Wire;
use huisclos_protocol::ids::{PageLimit, RequestId};
use huisclos_protocol::messages::{AckWelcomes, Event, FetchWelcomes, RelayError, RequestBody, ResponseBody, Welcomes};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::engine::{Engine, Now};
use crate::error::{CoreError, DamageKind, InvalidInput, Result, StoreFailure, StoredRecord};
use crate::identity::{DeviceKeys, DisplayName};
use crate::link::{InboxItem, LinkOffer, LinkRequest, PendingLink};
use crate::signin::{Credential, SignIn, SignInOutcome, SignInStep};
use crate::vault::Vault;

const NS_PENDING: &str = "pending-link";

/// Where linking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    /// Not connected.
    Offline,
    /// Logging in.
    Connecting,
    /// The relay does not know this device yet: the existing device has not approved
    /// the request (or not yet reached the relay). Connect again later.
    NotYetApproved,
    /// Logged in, waiting for the grant in the inbox.
    Waiting,
    /// Linked: take the engine with [`Linker::take_engine`].
    Linked,
}

#[derive(Serialize, Deserialize)]
struct PendingRecord {
    offer: Vec<u8>,
    auth: [u8; 32],
    mls: [u8; 32],
    name: String,
    grant_secret: [u8; 32],
}

impl Drop for PendingRecord {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.auth.zeroize();
        self.mls.zeroize();
        self.grant_secret.zeroize();
    }
}

enum Step {
    SignIn(SignInStep),
    Fetch,
    Ack,
}

/// A device waiting to be linked.
pub struct Linker {
    vault: Arc<Vault>,
    pending: PendingLink,
    session: SignIn,
    /// Signed in: the inbox is read next (at sign-in, then when told a Welcome came).
    fetch: bool,
    in_flight: Option<(RequestId, Step)>,
    follow_up: Option<(RequestBody, Step)>,
    next_request: u64,
    engine: Option<Engine>,
    /// The last refused input (a grant that did not open), for the app to show.
    refused: Option<CoreError>,
}

impl std::fmt::Debug for Linker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker").field("status", &self.status()).finish_non_exhaustive()
    }
}

impl Linker {
    /// Starts linking this (empty) profile to the identity of `offer`: fresh keys,
    /// kept in the vault until the grant arrives.
    ///
    /// # Errors
    /// [`CoreError::ProfileExists`] when the vault holds a profile or a pending link.
    pub fn create(vault: Arc<Vault>, offer: LinkOffer, name: DisplayName) -> Result<Self> {
        if vault.get("profile", b"me")?.is_some()
            || vault.get("profile", b"me2")?.is_some()
            || vault.get(NS_PENDING, b"link")?.is_some()
        {
            return Err(CoreError::ProfileExists(vault.dir().display().to_string()));
        }
        let pending = PendingLink::new(offer, name);
        let record = PendingRecord {
            offer: pending.offer.to_wire(),
            auth: pending.device.auth.to_bytes(),
            mls: pending.device.mls.to_bytes(),
            name: pending.name.as_str().to_owned(),
            grant_secret: *pending.grant_secret(),
        };
        let bytes =
            Zeroizing::new(postcard::to_allocvec(&record).map_err(|_| CoreError::Store(StoreFailure::Encoding))?);
        vault.put(NS_PENDING, b"link", &bytes)?;
        vault.commit()?;
        Ok(Self::with(vault, pending))
    }

    /// Resumes a pending link.
    ///
    /// # Errors
    /// [`CoreError::NoProfile`] when the vault holds none.
    pub fn load(vault: Arc<Vault>) -> Result<Self> {
        let bytes =
            vault.get(NS_PENDING, b"link")?.ok_or_else(|| CoreError::NoProfile(vault.dir().display().to_string()))?;
        let record: PendingRecord = postcard::from_bytes(&bytes)
            .map_err(|_| CoreError::damaged(StoredRecord::Queued, DamageKind::DoesNotDecode))?;
        let device = DeviceKeys {
            auth: ed25519_dalek::SigningKey::from_bytes(&record.auth),
            mls: ed25519_dalek::SigningKey::from_bytes(&record.mls),
        };
        let pending = PendingLink::from_parts(
            LinkOffer::from_wire(&record.offer)?,
            device,
            DisplayName::new(record.name.clone())?,
            record.grant_secret,
        );
        Ok(Self::with(vault, pending))
    }

    /// Whether the vault holds a pending link.
    ///
    /// # Errors
    /// Store errors.
    pub fn is_pending(vault: &Vault) -> Result<bool> {
        Ok(vault.get(NS_PENDING, b"link")?.is_some())
    }

    fn with(vault: Arc<Vault>, pending: PendingLink) -> Self {
        Self {
            vault,
            pending,
            session: SignIn::Offline,
            fetch: false,
            in_flight: None,
            follow_up: None,
            next_request: 1,
            engine: None,
            refused: None,
        }
    }

    /// The offer this device answers (it says where the relay is).
    pub fn offer(&self) -> &LinkOffer {
        &self.pending.offer
    }

    /// The request to show to the existing device.
    pub fn request(&self) -> LinkRequest {
        self.pending.request()
    }

    /// The six digits to compare with those the identity holder shows.
    pub fn confirmation_code(&self) -> String {
        self.pending.confirmation_code()
    }

    /// Where linking stands.
    pub fn status(&self) -> LinkStatus {
        if self.engine.is_some() && self.follow_up.is_none() && self.in_flight.is_none() {
            return LinkStatus::Linked;
        }
        match self.session {
            SignIn::Offline => LinkStatus::Offline,
            SignIn::Connected { .. } | SignIn::Legacy { .. } | SignIn::Challenged { .. } => LinkStatus::Connecting,
            SignIn::Refused { .. } => LinkStatus::NotYetApproved,
            SignIn::SignedIn => LinkStatus::Waiting,
        }
    }

    /// The linked device's engine, once [`LinkStatus::Linked`]. The engine starts
    /// offline: connect it anew (a connection logs in only once).
    pub fn take_engine(&mut self) -> Option<Engine> {
        if self.status() == LinkStatus::Linked { self.engine.take() } else { None }
    }

    /// The transport connected.
    pub fn connected(&mut self, exporter: TlsExporter, _now: Now) {
        self.session.connected(exporter);
        self.fetch = false;
        self.in_flight = None;
        self.follow_up = None;
    }

    /// The transport disconnected.
    pub fn disconnected(&mut self) {
        self.session.disconnected();
        self.in_flight = None;
        self.follow_up = None;
    }

    /// A pushed event: a Welcome (the grant) may be waiting.
    pub fn handle_event(&mut self, event: Event, _now: Now) {
        if matches!(event, Event::WelcomeAvailable(_)) && self.session.is_signed_in() {
            self.fetch = true;
        }
    }

    /// Pushed events were lost: the grant may be waiting.
    pub fn events_missed(&mut self) {
        if self.session.is_signed_in() {
            self.fetch = true;
        }
    }

    /// Asks to read the inbox again (when a pushed event may have been missed), or
    /// to log in again after [`LinkStatus::NotYetApproved`].
    pub fn check(&mut self) {
        if self.session.is_signed_in() {
            self.fetch = true;
        }
        self.session.retry();
    }

    /// The last input refused (a grant that did not open or verify), if any.
    pub fn take_refusal(&mut self) -> Option<CoreError> {
        self.refused.take()
    }

    /// The linker sets no timers: it waits for the relay or for [`Linker::check`].
    pub fn poll_timeout(&self) -> Option<Now> {
        None
    }

    /// The next request to send.
    pub fn poll_request(&mut self, _now: Now) -> Option<(RequestId, RequestBody)> {
        if self.in_flight.is_some() {
            return None;
        }
        let (body, step) = if let Some(next) = self.follow_up.take() {
            next
        } else {
            match self.session.next_request(|| Ok(Credential::Device(&self.pending.device.auth))) {
                Some(Ok((body, step))) => (body, Step::SignIn(step)),
                Some(Err(_)) => return None,
                None if self.session.is_signed_in() && self.fetch && self.engine.is_none() => {
                    self.fetch = false;
                    let limit = PageLimit::new(16).ok()?;
                    (FetchWelcomes { after: None, limit }.into(), Step::Fetch)
                }
                None => return None,
            }
        };
        let id = RequestId::new(self.next_request).ok()?;
        self.next_request += 1;
        self.in_flight = Some((id, step));
        Some((id, body))
    }

    /// Feeds the answer to request `id`. A grant that does not open or verify is
    /// refused ([`Linker::take_refusal`]) and the linker keeps waiting for a good one.
    pub fn handle_response(&mut self, id: RequestId, answer: std::result::Result<ResponseBody, RelayError>, _now: Now) {
        let Some((expected, step)) = self.in_flight.take() else { return };
        if expected != id {
            self.in_flight = Some((expected, step));
            return;
        }
        if let Err(error) = self.apply(step, answer) {
            tracing::info!(%error, "linking step refused");
            self.refused = Some(error);
        }
    }

    fn apply(&mut self, step: Step, answer: std::result::Result<ResponseBody, RelayError>) -> Result<()> {
        match (step, answer) {
            (Step::SignIn(step), answer) => match self.session.on_answer(step, answer) {
                SignInOutcome::Challenged => Ok(()),
                SignInOutcome::SignedIn => {
                    self.fetch = true;
                    Ok(())
                }
                // Not registered yet: it waits for `check`, on this connection.
                SignInOutcome::Refused(RelayError::AuthFailed) => Ok(()),
                SignInOutcome::Refused(error) => Err(CoreError::Relay(error)),
                SignInOutcome::AccountCreated(_) | SignInOutcome::Unexpected => {
                    Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer))
                }
            },
            (Step::Fetch, Ok(ResponseBody::Welcomes(welcomes))) => self.on_welcomes(&welcomes),
            (Step::Ack, Ok(_)) => Ok(()),
            (_, Err(error)) => Err(CoreError::Relay(error)),
            (_, Ok(_)) => Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
        }
    }

    fn on_welcomes(&mut self, welcomes: &Welcomes) -> Result<()> {
        let mut last = None;
        let mut refused = None;
        for item in welcomes.entries.iter() {
            last = Some(item.position);
            let Ok(InboxItem::DeviceGrant(sealed)) = InboxItem::from_wire(item.welcome.as_bytes()) else { continue };
            match self.pending.open_grant(&sealed) {
                Ok(grant) => {
                    let engine = Engine::from_grant(self.vault.clone(), &self.pending, grant)?;
                    self.vault.remove(NS_PENDING, b"link");
                    self.vault.commit().inspect_err(|_| self.vault.rollback())?;
                    self.engine = Some(engine);
                    break;
                }
                Err(error) => refused = Some(error),
            }
        }
        if let Some(up_to) = last {
            self.follow_up = Some((AckWelcomes { up_to }.into(), Step::Ack));
        }
        if welcomes.more && self.engine.is_none() {
            self.check();
        }
        refused.map_or(Ok(()), Err)
    }
}
