//! A client's connection to a relay: QUIC, or TCP+TLS where UDP is blocked, with pinned
//! TLS, pipelined requests matched by id, and pushed events.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use huisclos_protocol::access::InvitationToken;
use huisclos_protocol::auth::{AuthPurpose, ChallengeNonce, DevicePublicKey, TlsExporter, sign_device_auth};
use huisclos_protocol::codec::Wire;
use huisclos_protocol::frame::Padding;
use huisclos_protocol::ids::{AccountId, DeviceId, RequestId};
use huisclos_protocol::messages::{
    Authenticate, CreateAccount, Event, GetChallenge, RelayError, RelayMessage, Request, RequestBody, ResponseBody,
    SignIn,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::TransportError;
use crate::framed::{ReadDeadlines, read_frame, write_frame};
use crate::tls::{PresentedKey, RelayPins, observed_client_config, quic_exporter, server_name, tls_exporter};

/// Which transport a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// QUIC over UDP (preferred).
    Quic,
    /// TLS over TCP, for networks that drop UDP.
    Tcp,
}

/// How long to wait for a connection to be established.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Events buffered for the application; when it is full the newest are dropped and
/// [`RelayClient::take_missed_events`] says so. Events only say "there is more to
/// fetch", so a dropped one costs a fetch of everything, not data.
const EVENT_BUFFER: usize = 1024;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<ResponseBody, RelayError>>>>>;

/// An open connection to a relay.
pub struct RelayClient {
    kind: TransportKind,
    exporter: TlsExporter,
    outgoing: mpsc::Sender<Vec<u8>>,
    pending: Pending,
    closed: Arc<AtomicBool>,
    events: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    /// Set when an event was dropped because the buffer was full.
    missed: Arc<AtomicBool>,
    next_id: AtomicU64,
    tasks: Vec<JoinHandle<()>>,
    quic: Option<(quinn::Endpoint, quinn::Connection)>,
    presented: Option<PresentedKey>,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl RelayClient {
    /// Connects to the relay at `address` whose key is one of `pins`.
    ///
    /// # Errors
    /// [`TransportError`] if the relay cannot be reached, its key is not a pinned one,
    /// or the handshake fails.
    pub async fn connect(
        kind: TransportKind,
        address: SocketAddr,
        pins: impl Into<RelayPins>,
    ) -> Result<Self, TransportError> {
        let (tls, observed) = observed_client_config(pins.into());
        let connect = async {
            match kind {
                TransportKind::Quic => Self::connect_quic(address, tls).await,
                TransportKind::Tcp => Self::connect_tcp(address, tls).await,
            }
        };
        let outcome = tokio::time::timeout(CONNECT_TIMEOUT, connect).await.map_err(|_| TransportError::Timeout)?;
        let mut observed = observed.lock().map(|mut slot| std::mem::take(&mut *slot)).unwrap_or_default();
        match outcome {
            Ok(mut client) => {
                client.presented = observed.presented.take();
                Ok(client)
            }
            // The layers word a refused certificate their own ways: say what it was.
            Err(_) if observed.refused.is_some() => Err(TransportError::KeyNotPinned),
            Err(error) => Err(error),
        }
    }

    async fn connect_quic(address: SocketAddr, tls: rustls::ClientConfig) -> Result<Self, TransportError> {
        let bind: SocketAddr = if address.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let mut endpoint = quinn::Endpoint::client(bind)?;
        let crypto =
            quinn::crypto::rustls::QuicClientConfig::try_from(tls).map_err(|e| TransportError::Tls(e.to_string()))?;
        let mut config = quinn::ClientConfig::new(Arc::new(crypto));
        let mut transport = quinn::TransportConfig::default();
        transport.keep_alive_interval(Some(Duration::from_secs(15)));
        transport.initial_rtt(crate::QUIC_INITIAL_RTT);
        config.transport_config(Arc::new(transport));
        endpoint.set_default_client_config(config);
        let connection = endpoint
            .connect(address, crate::tls::RELAY_SERVER_NAME)
            .map_err(|e| TransportError::Quic(e.to_string()))?
            .await
            .map_err(|e| TransportError::Quic(e.to_string()))?;
        let exporter = quic_exporter(&connection)?;
        let (send, recv) = connection.open_bi().await.map_err(|e| TransportError::Quic(e.to_string()))?;
        let mut client = Self::start(TransportKind::Quic, exporter, recv, send);
        client.quic = Some((endpoint, connection));
        Ok(client)
    }

    async fn connect_tcp(address: SocketAddr, tls: rustls::ClientConfig) -> Result<Self, TransportError> {
        let tcp = tokio::net::TcpStream::connect(address).await?;
        tcp.set_nodelay(true)?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
        let tls = connector.connect(server_name(), tcp).await?;
        if tls.get_ref().1.alpn_protocol() != Some(huisclos_protocol::limits::ALPN) {
            return Err(TransportError::Tls("the relay did not negotiate huisclos/1".into()));
        }
        let exporter = tls_exporter(tls.get_ref().1)?;
        let (read, write) = tokio::io::split(tls);
        Ok(Self::start(TransportKind::Tcp, exporter, read, write))
    }

    fn start<R, W>(kind: TransportKind, exporter: TlsExporter, mut reader: R, mut writer: W) -> Self
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let pending: Pending = Arc::default();
        let (outgoing, mut to_send) = mpsc::channel::<Vec<u8>>(64);
        let (event_tx, event_rx) = mpsc::channel(EVENT_BUFFER);

        let writer_task = tokio::spawn(async move {
            while let Some(mut payload) = to_send.recv().await {
                let written = write_frame(&mut writer, &payload, Padding::SizeClasses).await;
                // Requests carry access and invitation tokens: none lingers in freed memory.
                zeroize::Zeroize::zeroize(&mut payload);
                if written.is_err() {
                    break;
                }
            }
        });

        let reader_pending = pending.clone();
        let missed = Arc::new(AtomicBool::new(false));
        let reader_missed = missed.clone();
        let closed = Arc::new(AtomicBool::new(false));
        let reader_closed = closed.clone();
        let reader_task = tokio::spawn(async move {
            let deadlines = ReadDeadlines { idle: None, frame: Duration::from_secs(60) };
            while let Ok(Some(payload)) = read_frame(&mut reader, deadlines).await {
                let Ok(message) = RelayMessage::from_wire(&payload) else {
                    tracing::warn!("undecodable message from the relay; closing");
                    break;
                };
                let (id, outcome) = match message {
                    RelayMessage::Response(response) => (response.id, Ok(response.body)),
                    RelayMessage::Failure(failure) => (failure.id, Err(failure.error)),
                    RelayMessage::Event(event) => {
                        // A full buffer drops the newest event: the flag tells the
                        // caller to fetch everything instead.
                        if event_tx.try_send(event).is_err() {
                            reader_missed.store(true, Ordering::SeqCst);
                        }
                        continue;
                    }
                };
                let waiter = reader_pending.lock().ok().and_then(|mut pending| pending.remove(&id.get()));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(outcome);
                }
            }
            // Fail every waiting request: the connection is gone. The flag is set first,
            // so a request registered after the clearing sees it (see `request`).
            reader_closed.store(true, Ordering::SeqCst);
            if let Ok(mut pending) = reader_pending.lock() {
                pending.clear();
            }
        });

        Self {
            kind,
            exporter,
            outgoing,
            pending,
            closed,
            events: tokio::sync::Mutex::new(event_rx),
            missed,
            next_id: AtomicU64::new(1),
            tasks: vec![writer_task, reader_task],
            quic: None,
            presented: None,
        }
    }

    /// Which transport this connection uses.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// The key the relay presented (one of the pins it was connected with), and the
    /// successor that key announced, verified.
    pub fn presented_key(&self) -> Option<&PresentedKey> {
        self.presented.as_ref()
    }

    /// What QUIC counted on this connection (packets, frames, round-trip estimate,
    /// losses), for diagnostics; `None` over TCP+TLS.
    pub fn quic_stats(&self) -> Option<quinn::ConnectionStats> {
        self.quic.as_ref().map(|(_, connection)| connection.stats())
    }

    /// This connection's TLS exporter, which device authentication signs.
    pub fn exporter(&self) -> &TlsExporter {
        &self.exporter
    }

    /// Sends a request and waits for its answer.
    ///
    /// # Errors
    /// [`TransportError::Relay`] if the relay refused it, [`TransportError::Closed`] if
    /// the connection ended first.
    pub async fn request(&self, body: impl Into<RequestBody>) -> Result<ResponseBody, TransportError> {
        self.send(body).await?.answer().await
    }

    /// Sends a request and returns at once, with the answer to wait for: requests sent
    /// one after another this way go out in that order, before any is answered
    /// (pipelined, `protocol-spec/messages.md` 1.1). Dropping the [`PendingAnswer`]
    /// forgets the request (its answer, when it comes, is discarded).
    ///
    /// # Errors
    /// [`TransportError::Closed`] if the connection has ended.
    pub async fn send(&self, body: impl Into<RequestBody>) -> Result<PendingAnswer<'_>, TransportError> {
        let id = RequestId::new(self.next_id.fetch_add(1, Ordering::Relaxed)).map_err(TransportError::Protocol)?;
        let payload = Request { id, body: body.into() }.to_wire();
        let (tx, rx) = oneshot::channel();
        self.pending.lock().map_err(|_| TransportError::Closed)?.insert(id.get(), tx);
        // However this ends (answer, error, or dropped by its caller), the entry leaves
        // the pending map.
        let guard = PendingGuard { pending: &self.pending, id: id.get() };
        if self.closed.load(Ordering::SeqCst) {
            return Err(TransportError::Closed);
        }
        if self.outgoing.send(payload).await.is_err() {
            return Err(TransportError::Closed);
        }
        Ok(PendingAnswer { rx, _guard: guard })
    }

    /// Sends raw bytes as one frame's payload, for tests of the relay's handling of
    /// malformed requests. Answers to it are not awaited.
    ///
    /// # Errors
    /// [`TransportError::Closed`] if the connection has ended.
    pub async fn send_raw_payload(&self, payload: Vec<u8>) -> Result<(), TransportError> {
        self.outgoing.send(payload).await.map_err(|_| TransportError::Closed)
    }

    /// Whether pushed events were dropped since the last call, because they came faster
    /// than they were taken: the caller must then fetch what they would have announced.
    /// Reading clears it.
    pub fn take_missed_events(&self) -> bool {
        self.missed.swap(false, Ordering::SeqCst)
    }

    /// The next pushed event, waiting at most `timeout`.
    pub async fn next_event(&self, timeout: Duration) -> Option<Event> {
        let mut events = self.events.lock().await;
        tokio::time::timeout(timeout, events.recv()).await.ok().flatten()
    }

    /// Opens an account with an invitation and authenticates this connection as the
    /// account's first device, whose key is `device`.
    ///
    /// # Errors
    /// As [`Self::request`]; [`TransportError::UnexpectedResponse`].
    pub async fn create_account(
        &self,
        invitation: &InvitationToken,
        device: &SigningKey,
    ) -> Result<(AccountId, DeviceId), TransportError> {
        let nonce = self.challenge().await?;
        let signature = sign_device_auth(device, &self.exporter, &nonce, AuthPurpose::CreateAccount(invitation));
        let request = CreateAccount {
            invitation: invitation.clone(),
            device_key: DevicePublicKey::from_signing_key(device),
            signature,
        };
        match self.request(request).await? {
            ResponseBody::AccountCreated(created) => Ok((created.account, created.device)),
            _ => Err(TransportError::UnexpectedResponse),
        }
    }

    /// Authenticates this connection as the device whose key is `device`.
    ///
    /// # Errors
    /// As [`Self::request`]; [`TransportError::UnexpectedResponse`].
    pub async fn authenticate(&self, device: &SigningKey) -> Result<AccountId, TransportError> {
        let nonce = self.challenge().await?;
        let signature = sign_device_auth(device, &self.exporter, &nonce, AuthPurpose::Authenticate);
        let device_id = DevicePublicKey::from_signing_key(device).device_id();
        match self.request(Authenticate { device: device_id, signature }).await? {
            ResponseBody::Authenticated(authenticated) => Ok(authenticated.account),
            _ => Err(TransportError::UnexpectedResponse),
        }
    }

    /// Signs in as `device` in one round trip (`SignIn`: no challenge, the signature
    /// bound to this connection's TLS exporter alone).
    ///
    /// # Errors
    /// As [`Self::request`]; [`TransportError::UnexpectedResponse`].
    pub async fn sign_in(&self, device: &SigningKey) -> Result<AccountId, TransportError> {
        let signature = sign_device_auth(device, &self.exporter, &ChallengeNonce::NONE, AuthPurpose::SignIn);
        let device_id = DevicePublicKey::from_signing_key(device).device_id();
        match self.request(SignIn { device: device_id, signature }).await? {
            ResponseBody::Authenticated(authenticated) => Ok(authenticated.account),
            _ => Err(TransportError::UnexpectedResponse),
        }
    }

    /// Asks for a fresh challenge.
    ///
    /// # Errors
    /// As [`Self::request`]; [`TransportError::UnexpectedResponse`].
    pub async fn challenge(&self) -> Result<huisclos_protocol::auth::ChallengeNonce, TransportError> {
        match self.request(GetChallenge {}).await? {
            ResponseBody::Challenge(challenge) => Ok(challenge.nonce),
            _ => Err(TransportError::UnexpectedResponse),
        }
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Closes the connection now, as a lost network would (no graceful goodbye on TCP).
    pub fn abort(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Ok(mut pending) = self.pending.lock() {
            pending.clear();
        }
        if let Some((_, connection)) = &self.quic {
            connection.close(0u32.into(), b"closed");
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The answer to a request already sent ([`RelayClient::send`]).
#[must_use = "the answer is discarded when this is dropped"]
pub struct PendingAnswer<'a> {
    rx: oneshot::Receiver<Result<ResponseBody, RelayError>>,
    _guard: PendingGuard<'a>,
}

impl std::fmt::Debug for PendingAnswer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAnswer").finish_non_exhaustive()
    }
}

impl PendingAnswer<'_> {
    /// Waits for the answer.
    ///
    /// # Errors
    /// [`TransportError::Relay`] if the relay refused the request,
    /// [`TransportError::Closed`] if the connection ended first.
    pub async fn answer(self) -> Result<ResponseBody, TransportError> {
        match self.rx.await {
            Ok(Ok(body)) => Ok(body),
            Ok(Err(error)) => Err(TransportError::Relay(error)),
            Err(_) => Err(TransportError::Closed),
        }
    }
}

struct PendingGuard<'a> {
    pending: &'a Pending,
    id: u64,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&self.id);
        }
    }
}

impl Drop for RelayClient {
    fn drop(&mut self) {
        self.abort();
    }
}

#[cfg(test)]
mod tests {
    use huisclos_protocol::ids::{GroupId, Seq};
    use huisclos_protocol::messages::LogAdvanced;

    use super::*;

    #[tokio::test]
    async fn a_client_whose_event_buffer_overflows_is_told_to_fetch_everything() -> Result<(), TransportError> {
        let (client_side, mut relay_side) = tokio::io::duplex(1 << 20);
        let (read, write) = tokio::io::split(client_side);
        let client = RelayClient::start(TransportKind::Tcp, TlsExporter::from_bytes([0; 32]), read, write);
        for n in 0..(EVENT_BUFFER as u64 + 10) {
            let event = Event::LogAdvanced(LogAdvanced {
                group: GroupId::from_bytes([(n % 251) as u8; 16]),
                epoch: huisclos_protocol::ids::Epoch::ZERO,
                latest: Seq::new(n)?,
            });
            write_frame(&mut relay_side, &RelayMessage::Event(event).to_wire(), Padding::SizeClasses).await?;
        }
        // Let the reader task take them all.
        for _ in 0..100 {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
            if client.missed.load(Ordering::SeqCst) {
                break;
            }
        }
        assert!(client.take_missed_events(), "the client learns that events were dropped");
        assert!(!client.take_missed_events(), "and is told once");
        let mut kept = 0;
        while client.next_event(Duration::ZERO).await.is_some() {
            kept += 1;
        }
        assert_eq!(kept, EVENT_BUFFER, "the buffer kept what it holds");
        Ok(())
    }
}
