//! Listeners and connections: QUIC and TCP+TLS carry the same frames to the same
//! [`Relay`]. This is where the per-connection limits live: stream counts, request rate,
//! requests in flight, idle and unauthenticated timeouts, the frame deadline, the
//! connection counts (in all, per address, not yet authenticated), and the memory a
//! connection's frames and answers may hold ([`crate::budget`]).
//!
//! A connection that has not authenticated is kept small: one stream, frames of at
//! most [`UNAUTHENTICATED_FRAME_LEN`], a QUIC receive window of
//! [`UNAUTHENTICATED_RECEIVE_WINDOW`]. Authenticating lifts these to the configured
//! limits.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use huisclos_protocol::codec::{Reader, Wire};
use huisclos_protocol::frame::{FrameHeader, Padding};
use huisclos_protocol::ids::RequestId;
use huisclos_protocol::limits::{FRAME_HEADER_LEN, MAX_FRAME_LEN, PROTOCOL_VERSION, UNAUTHENTICATED_FRAME_LEN};
use huisclos_protocol::messages::{Failure, LimitKind, RelayError, RelayMessage, Request, RequestBody};
use huisclos_transport::TransportError;
use huisclos_transport::framed::{ReadDeadlines, write_frame};
use huisclos_transport::tls::{quic_exporter, tls_exporter};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};
use tokio_util::task::TaskTracker;

use crate::Error;
use crate::budget::Held;
use crate::config::PolicyLimits;
use crate::hub::EventSink;
use crate::service::{Connection, Relay, Stream, is_sequential};
use crate::store::RelayStore;

/// How long a TLS or QUIC handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How much a QUIC peer may have in flight towards the relay on one stream, and on the
/// whole connection: enough for a full frame and the next one, no more.
const STREAM_RECEIVE_WINDOW: u32 = 2 << 20;
const CONNECTION_RECEIVE_WINDOW: u32 = 4 << 20;

/// What a QUIC peer may have in flight before it authenticates.
pub const UNAUTHENTICATED_RECEIVE_WINDOW: u32 = 64 * 1024;

/// What quinn buffers for one connection attempt before it is accepted, and for all.
const INCOMING_BUFFER: u64 = 64 * 1024;
const INCOMING_BUFFER_TOTAL: u64 = 8 << 20;

/// An answer or event to write, already encoded, with the in-flight permit of the
/// request it answers and the memory its bytes hold, both released only once it is
/// written: a peer that stops reading runs out of permits and memory, and then the
/// relay stops reading from it. Encoded by whoever produced it, so the channel's slots
/// stay small (the channel allocates a block of them per stream, idle or not) and the
/// encoding runs on the handlers' tasks rather than the one writer.
type Outgoing = (Vec<u8>, Option<OwnedSemaphorePermit>, Held);

/// Whether a request's answer may be large (up to a frame): its memory is held before
/// the store is read.
fn answer_may_be_large(body: &RequestBody) -> bool {
    matches!(
        body,
        RequestBody::FetchLog(_)
            | RequestBody::FetchContent(_)
            | RequestBody::FetchMany(_)
            | RequestBody::FetchWelcomes(_)
            | RequestBody::GetChunk(_)
            | RequestBody::ClaimKeyPackages(_)
            | RequestBody::ListDevices(_)
    )
}

/// Counts connections as they arrive: in all, not yet authenticated, per address.
#[derive(Debug)]
struct Gate {
    limits: PolicyLimits,
    metrics: Arc<crate::metrics::Metrics>,
    state: std::sync::Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    open: u32,
    unauthenticated: u32,
    handshaking: u32,
    per_address: HashMap<IpAddr, AddressCount>,
}

#[derive(Debug, Default, Clone, Copy)]
struct AddressCount {
    open: u32,
    unauthenticated: u32,
}

/// One admitted connection's place in the counts, given back when dropped.
#[derive(Debug)]
struct Ticket {
    gate: Arc<Gate>,
    address: IpAddr,
    authenticated: bool,
    handshaking: bool,
}

impl Gate {
    fn new(limits: PolicyLimits, metrics: Arc<crate::metrics::Metrics>) -> Arc<Self> {
        Arc::new(Self { limits, metrics, state: std::sync::Mutex::default() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// QUIC handshakes in progress.
    fn handshaking(&self) -> u32 {
        self.lock().handshaking
    }

    /// Admits a connection from `address`, or says which limit refuses it.
    fn admit(self: &Arc<Self>, address: IpAddr) -> Option<Ticket> {
        let limits = &self.limits;
        let mut state = self.lock();
        let count = state.per_address.get(&address).copied().unwrap_or_default();
        let refused = if state.open >= limits.max_connections {
            Some(&self.metrics.refused_full)
        } else if state.unauthenticated >= limits.max_unauthenticated {
            Some(&self.metrics.refused_unauthenticated)
        } else if count.open >= limits.connections_per_address
            || count.unauthenticated >= limits.unauthenticated_per_address
        {
            Some(&self.metrics.refused_address)
        } else {
            None
        };
        if let Some(counter) = refused {
            counter.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        state.open += 1;
        state.unauthenticated += 1;
        state.handshaking += 1;
        let count = state.per_address.entry(address).or_default();
        count.open += 1;
        count.unauthenticated += 1;
        self.metrics.unauthenticated_connections.fetch_add(1, Ordering::Relaxed);
        Some(Ticket { gate: self.clone(), address, authenticated: false, handshaking: true })
    }
}

impl Ticket {
    /// The handshake is over (done or failed).
    fn handshake_over(&mut self) {
        if std::mem::take(&mut self.handshaking) {
            let mut state = self.gate.lock();
            state.handshaking = state.handshaking.saturating_sub(1);
        }
    }

    /// The connection has authenticated: it no longer counts as unauthenticated.
    fn signed_in(&mut self) {
        if self.authenticated {
            return;
        }
        self.authenticated = true;
        let mut state = self.gate.lock();
        state.unauthenticated = state.unauthenticated.saturating_sub(1);
        if let Some(count) = state.per_address.get_mut(&self.address) {
            count.unauthenticated = count.unauthenticated.saturating_sub(1);
        }
        self.gate.metrics.unauthenticated_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.handshake_over();
        self.signed_in();
        let mut state = self.gate.lock();
        state.open = state.open.saturating_sub(1);
        if let Some(count) = state.per_address.get_mut(&self.address) {
            count.open = count.open.saturating_sub(1);
            if count.open == 0 {
                state.per_address.remove(&self.address);
            }
        }
    }
}

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// The running listeners.
pub struct Listeners {
    /// Where QUIC listens.
    pub quic: SocketAddr,
    /// Where TCP+TLS listens.
    pub tcp: SocketAddr,
    endpoint: quinn::Endpoint,
    tcp_listener: tokio::net::TcpListener,
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners").field("quic", &self.quic).field("tcp", &self.tcp).finish_non_exhaustive()
    }
}

/// Binds both listeners. When both ask for port 0, TCP takes the port QUIC got, so that
/// one `host:port` serves both transports.
///
/// # Errors
/// [`Error::Io`] or [`Error::Tls`] if a socket cannot be bound or TLS configured.
pub async fn bind(
    tls: rustls::ServerConfig,
    quic_listen: SocketAddr,
    tcp_listen: SocketAddr,
    limits: &PolicyLimits,
) -> Result<(Listeners, tokio_rustls::TlsAcceptor), Error> {
    let tls = Arc::new(tls);
    let quic_crypto =
        quinn::crypto::rustls::QuicServerConfig::try_from(tls.clone()).map_err(|e| Error::Tls(e.to_string()))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(quic_crypto));
    let mut transport = quinn::TransportConfig::default();
    // Until the peer authenticates: one stream, a small window (raised by `signed_in`).
    transport
        .max_concurrent_bidi_streams(1u32.into())
        .max_concurrent_uni_streams(0u32.into())
        .stream_receive_window(STREAM_RECEIVE_WINDOW.into())
        .receive_window(UNAUTHENTICATED_RECEIVE_WINDOW.into())
        .datagram_receive_buffer_size(None)
        .initial_rtt(huisclos_transport::QUIC_INITIAL_RTT)
        .max_idle_timeout(Some(limits.idle().try_into().map_err(|_| Error::Config("idle_secs too large".into()))?));
    server.transport_config(Arc::new(transport));
    server
        .max_incoming(limits.max_unauthenticated as usize)
        .incoming_buffer_size(INCOMING_BUFFER)
        .incoming_buffer_size_total(INCOMING_BUFFER_TOTAL);
    // Connection migration stays on: a phone that changes networks keeps its session.
    let endpoint = quinn::Endpoint::server(server, quic_listen)
        .map_err(|e| Error::Config(format!("binding QUIC (UDP) to {quic_listen}: {e}")))?;
    let quic = endpoint.local_addr()?;
    let tcp_target = if tcp_listen.port() == 0 && quic_listen.port() == 0 {
        SocketAddr::new(tcp_listen.ip(), quic.port())
    } else {
        tcp_listen
    };
    let tcp_listener = match tokio::net::TcpListener::bind(tcp_target).await {
        Ok(listener) => listener,
        Err(_) if tcp_target != tcp_listen => tokio::net::TcpListener::bind(tcp_listen).await?,
        Err(error) => return Err(Error::Config(format!("binding TCP to {tcp_listen}: {error}"))),
    };
    let tcp = tcp_listener.local_addr()?;
    Ok((Listeners { quic, tcp, endpoint, tcp_listener }, tokio_rustls::TlsAcceptor::from(tls)))
}

/// How long a TCP connection closed at shutdown waits for the peer to stop sending.
const LINGER: Duration = Duration::from_secs(2);

/// How often a failing accept (out of file descriptors, say) is logged.
const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

impl Listeners {
    /// Accepts connections until `shutdown` turns true, then stops accepting, lets
    /// requests in flight finish (up to `drain`), and closes every connection.
    pub async fn serve<S: RelayStore>(
        self,
        relay: Arc<Relay<S>>,
        acceptor: tokio_rustls::TlsAcceptor,
        mut shutdown: watch::Receiver<bool>,
        drain: Duration,
    ) {
        let tracker = TaskTracker::new();
        let Self { endpoint, tcp_listener, .. } = self;
        let gate = Gate::new(relay.limits().clone(), relay.metrics.clone());
        let mut last_accept_error: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                incoming = endpoint.accept() => {
                    let Some(incoming) = incoming else { break };
                    // Under load, a client must first prove it owns its address: a
                    // stateless Retry costs the relay nothing to send.
                    if !incoming.remote_address_validated()
                        && incoming.may_retry()
                        && gate.handshaking() >= relay.limits().quic_retry_above
                    {
                        relay.metrics.quic_retries.fetch_add(1, Ordering::Relaxed);
                        let _ = incoming.retry();
                        continue;
                    }
                    let Some(ticket) = gate.admit(incoming.remote_address().ip()) else {
                        incoming.refuse();
                        continue;
                    };
                    let relay = relay.clone();
                    let tracker2 = tracker.clone();
                    let shutdown = shutdown.clone();
                    tracker.spawn(serve_quic(relay, incoming, ticket, tracker2, shutdown));
                }
                accepted = tcp_listener.accept() => {
                    let (socket, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(error) => {
                            relay.metrics.accept_errors.fetch_add(1, Ordering::Relaxed);
                            let now = tokio::time::Instant::now();
                            if last_accept_error.is_none_or(|last| now - last >= ACCEPT_ERROR_LOG_INTERVAL) {
                                last_accept_error = Some(now);
                                tracing::error!(%error, "accepting a TCP connection failed (out of file descriptors?)");
                            }
                            // Wait instead of spinning.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let Some(ticket) = gate.admit(peer.ip()) else { continue };
                    let relay = relay.clone();
                    let acceptor = acceptor.clone();
                    let tracker2 = tracker.clone();
                    let shutdown = shutdown.clone();
                    tracker.spawn(serve_tcp(relay, acceptor, socket, ticket, tracker2, shutdown));
                }
                _ = shutdown.changed() => break,
            }
        }
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        endpoint.set_server_config(None);
        drop(tcp_listener);
        tracker.close();
        if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
            tracing::warn!("requests still in flight after the drain period");
        }
        endpoint.close(0u32.into(), b"relay shutting down");
        endpoint.wait_idle().await;
    }
}

fn new_connection<S: RelayStore>(
    relay: &Relay<S>,
    exporter: huisclos_protocol::auth::TlsExporter,
    ticket: Ticket,
    on_sign_in: impl FnOnce() + Send + 'static,
) -> Arc<Connection> {
    let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let connection = Arc::new(Connection::new(id, exporter, relay.limits(), relay.budget.connection_share()));
    let ticket = std::sync::Mutex::new(ticket);
    connection.on_sign_in(move || {
        if let Ok(mut ticket) = ticket.lock() {
            ticket.signed_in();
        }
        on_sign_in();
    });
    relay.metrics.open_connections.fetch_add(1, Ordering::Relaxed);
    // Close connections that have not authenticated in time.
    let deadline = Duration::from_secs(relay.limits().unauthenticated_secs);
    let weak = Arc::downgrade(&connection);
    tokio::spawn(async move {
        tokio::time::sleep(deadline).await;
        if let Some(connection) = weak.upgrade()
            && connection.device().is_none()
        {
            let _ = connection.close.send(true);
        }
    });
    connection
}

fn end_connection<S: RelayStore>(relay: &Relay<S>, connection: &Connection) {
    relay.hub.forget_connection(connection.id);
    if let Some((_, account)) = connection.device() {
        relay.budget.leave(account);
    }
    relay.metrics.open_connections.fetch_sub(1, Ordering::Relaxed);
}

async fn serve_quic<S: RelayStore>(
    relay: Arc<Relay<S>>,
    incoming: quinn::Incoming,
    mut ticket: Ticket,
    tracker: TaskTracker,
    mut shutdown: watch::Receiver<bool>,
) {
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, incoming).await;
    ticket.handshake_over();
    let Ok(Ok(quic)) = handshake else { return };
    relay.metrics.quic_connections.fetch_add(1, Ordering::Relaxed);
    let Ok(exporter) = quic_exporter(&quic) else { return };
    let streams_allowed = relay.limits().streams_per_connection;
    let upgrade = quic.clone();
    let connection = new_connection(&relay, exporter, ticket, move || {
        upgrade.set_max_concurrent_bi_streams(streams_allowed.into());
        upgrade.set_receive_window(CONNECTION_RECEIVE_WINDOW.into());
    });
    let mut closed = connection.close.subscribe();
    let mut stream_no = 0u64;
    let mut streams = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = quic.accept_bi() => {
                let Ok((send, recv)) = accepted else { break };
                stream_no += 1;
                let relay = relay.clone();
                let connection = connection.clone();
                let deadlines = ReadDeadlines { idle: None, frame: relay.limits().frame_deadline() };
                let tracker2 = tracker.clone();
                let shutdown = shutdown.clone();
                streams.spawn(async move {
                    let stopping = shutdown.clone();
                    let lifecycle = Lifecycle { tracker: tracker2, shutdown };
                    let finished = serve_stream(relay, connection, stream_no, recv, send, deadlines, lifecycle).await;
                    // At shutdown, closing the connection would discard answers the peer
                    // has not acknowledged yet: wait for it (the drain period bounds this).
                    if *stopping.borrow()
                        && let Some((_, send)) = finished
                    {
                        let _ = send.stopped().await;
                    }
                });
            }
            Some(_) = streams.join_next(), if !streams.is_empty() => {}
            _ = closed.changed() => break,
            _ = shutdown.changed() => {
                // Every stream stops reading, writes the answers of what it started,
                // and ends; then the connection closes.
                loop {
                    tokio::select! {
                        joined = streams.join_next() => if joined.is_none() { break },
                        _ = closed.changed() => break,
                    }
                }
                break;
            }
        }
    }
    quic.close(0u32.into(), b"closed");
    // No stream may register a subscription or a device once the connection is forgotten.
    streams.shutdown().await;
    end_connection(&relay, &connection);
}

async fn serve_tcp<S: RelayStore>(
    relay: Arc<Relay<S>>,
    acceptor: tokio_rustls::TlsAcceptor,
    socket: tokio::net::TcpStream,
    mut ticket: Ticket,
    tracker: TaskTracker,
    shutdown: watch::Receiver<bool>,
) {
    let _ = socket.set_nodelay(true);
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await;
    ticket.handshake_over();
    let Ok(Ok(tls)) = handshake else { return };
    // A client that negotiated no protocol is not speaking ours.
    if tls.get_ref().1.alpn_protocol() != Some(huisclos_protocol::limits::ALPN) {
        return;
    }
    relay.metrics.tcp_connections.fetch_add(1, Ordering::Relaxed);
    let Ok(exporter) = tls_exporter(tls.get_ref().1) else { return };
    let connection = new_connection(&relay, exporter, ticket, || {});
    let (read, write) = tokio::io::split(tls);
    let deadlines = ReadDeadlines { idle: Some(relay.limits().idle()), frame: relay.limits().frame_deadline() };
    let mut closed = connection.close.subscribe();
    // At shutdown the stream stops reading, writes the answers of what it started, and
    // ends on its own.
    let stopping = shutdown.clone();
    tokio::select! {
        finished = serve_stream(relay.clone(), connection.clone(), 0, read, write, deadlines, Lifecycle { tracker, shutdown }) => {
            // At shutdown, the peer may still be sending: closing a socket with unread
            // bytes resets it, and the answers just written would be lost. Read and drop
            // what comes until the peer closes too, for a moment.
            if *stopping.borrow()
                && let Some((mut read, _write)) = finished
            {
                let mut sink = vec![0u8; 16 * 1024];
                let drain = async { while matches!(read.read(&mut sink).await, Ok(n) if n > 0) {} };
                let _ = tokio::time::timeout(LINGER, drain).await;
            }
        }
        _ = closed.changed() => {}
    }
    end_connection(&relay, &connection);
}

/// Reads one frame, holding its body's bytes in the connection's memory budget from
/// the moment its header announces them: the body is read only once they are held, so
/// a peer can make the relay buffer no more than its share. Frames above `max_len` are
/// refused before anything is read. `None` at a clean end between frames.
async fn read_request<S: RelayStore, R: AsyncRead + Unpin>(
    relay: &Relay<S>,
    connection: &Connection,
    reader: &mut R,
    deadlines: ReadDeadlines,
    max_len: usize,
) -> Result<Option<(Vec<u8>, Held)>, TransportError> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    let read_first = reader.read(&mut header[..1]);
    let n = match deadlines.idle {
        Some(idle) => tokio::time::timeout(idle, read_first).await.map_err(|_| TransportError::Timeout)??,
        None => read_first.await?,
    };
    if n == 0 {
        return Ok(None);
    }
    tokio::time::timeout(deadlines.frame, reader.read_exact(&mut header[1..]))
        .await
        .map_err(|_| TransportError::Timeout)??;
    let header = FrameHeader::parse(&header)?;
    let total = FRAME_HEADER_LEN + header.body_len();
    if total > max_len {
        return Err(TransportError::Protocol(huisclos_protocol::Error::TooLong {
            what: "frame before authentication",
            len: total as u64,
            max: max_len as u64,
        }));
    }
    // Waiting for memory is the relay's doing, not the peer's: not under the deadline.
    let held = relay.budget.hold(&connection.memory, connection.account_memory(), header.body_len()).await;
    let mut body = vec![0u8; header.body_len()];
    tokio::time::timeout(deadlines.frame, reader.read_exact(&mut body))
        .await
        .map_err(|_| TransportError::Timeout)??;
    let payload_len = header.open(&body)?.len();
    body.truncate(payload_len);
    Ok(Some((body, held)))
}

/// Where a stream's handlers are tracked, and what tells it the relay is stopping.
struct Lifecycle {
    tracker: TaskTracker,
    shutdown: watch::Receiver<bool>,
}

/// Serves one stream: reads requests, answers them (concurrently, except those that
/// change the connection's state), and writes answers and events. Returns the reader and
/// the writer, finished, if every answer was written.
async fn serve_stream<S, R, W>(
    relay: Arc<Relay<S>>,
    connection: Arc<Connection>,
    stream_no: u64,
    mut reader: R,
    mut writer: W,
    deadlines: ReadDeadlines,
    lifecycle: Lifecycle,
) -> Option<(R, W)>
where
    S: RelayStore,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let Lifecycle { tracker, mut shutdown } = lifecycle;
    let stream = Arc::new(Stream { key: (connection.id, stream_no), sink: Arc::new(EventSink::default()) });
    let capacity = relay.limits().in_flight_per_connection as usize + 8;
    let (answers, mut to_write) = mpsc::channel::<Outgoing>(capacity);
    let mut closed = connection.close.subscribe();
    let write_deadline = relay.limits().frame_deadline();

    let metrics = relay.metrics.clone();
    let sink = stream.sink.clone();
    let close = connection.close.clone();
    let writer_task = tokio::spawn(async move {
        loop {
            let batch: Vec<Outgoing> = tokio::select! {
                biased;
                message = to_write.recv() => match message {
                    Some(outgoing) => vec![outgoing],
                    None => break,
                },
                () = sink.ready() => sink
                    .drain()
                    .into_iter()
                    .map(|event| (RelayMessage::Event(event).to_wire(), None, Held::none()))
                    .collect(),
            };
            for (payload, permit, held) in batch {
                let written =
                    tokio::time::timeout(write_deadline, write_frame(&mut writer, &payload, Padding::SizeClasses));
                match written.await {
                    Ok(Ok(bytes)) => {
                        metrics.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
                    }
                    // A peer that does not read what it asked for is cut off.
                    _ => {
                        let _ = close.send(true);
                        return None;
                    }
                }
                drop((permit, held));
            }
        }
        let _ = writer.shutdown().await;
        Some(writer)
    });

    let mut version_mismatch = false;
    loop {
        let max_len = if connection.device().is_some() { MAX_FRAME_LEN } else { UNAUTHENTICATED_FRAME_LEN };
        let frame = tokio::select! {
            frame = read_request(&relay, &connection, &mut reader, deadlines, max_len) => frame,
            _ = closed.changed() => break,
            _ = shutdown.changed() => break,
        };
        let (mut payload, request_held) = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(TransportError::Protocol(huisclos_protocol::Error::UnsupportedVersion { .. })) => {
                relay.metrics.protocol_violations.fetch_add(1, Ordering::Relaxed);
                let refusal = Failure {
                    id: RequestId::ZERO,
                    error: RelayError::UnsupportedVersion { supported: PROTOCOL_VERSION },
                };
                let _ = answers.try_send((RelayMessage::Failure(refusal).to_wire(), None, Held::none()));
                version_mismatch = true;
                break;
            }
            Err(error) => {
                if !matches!(error, TransportError::Io(_)) {
                    relay.metrics.protocol_violations.fetch_add(1, Ordering::Relaxed);
                }
                tracing::debug!(%error, connection = connection.id, "stream ended");
                break;
            }
        };
        relay.metrics.bytes_received.fetch_add(payload.len() as u64, Ordering::Relaxed);
        // Every frame spends rate budget, well-formed or not; a request that does the
        // work of several spends as much.
        let mut rate = connection.take_rate(1);
        let request = match Request::from_wire(&payload) {
            Ok(request) => request,
            Err(_) => {
                relay.metrics.protocol_violations.fetch_add(1, Ordering::Relaxed);
                // Answer if the request id can be read; otherwise the stream is useless.
                let Ok(id) = Reader::new(&payload).take_varint("request id").and_then(RequestId::new) else { break };
                if !send_or_close(&answers, &mut closed, refuse(id, RelayError::BadRequest)).await {
                    break;
                }
                continue;
            }
        };
        // The frame may hold access or invitation tokens: gone before anything else.
        zeroize::Zeroize::zeroize(&mut payload);
        drop(payload);
        let extra = crate::service::extra_weight(&request.body);
        if rate.is_ok() && extra > 0 {
            rate = connection.take_rate(extra);
        }
        if let Err(wait) = rate {
            let retry_after_ms = wait.as_millis().min(u128::from(u32::MAX)) as u32;
            relay.metrics.error(&RelayError::RateLimited { retry_after_ms });
            if !send_or_close(&answers, &mut closed, refuse(request.id, RelayError::RateLimited { retry_after_ms }))
                .await
            {
                break;
            }
            continue;
        }
        let Ok(permit) = connection.in_flight.clone().try_acquire_owned() else {
            let error = RelayError::LimitExceeded { limit: LimitKind::InFlight };
            relay.metrics.error(&error);
            if !send_or_close(&answers, &mut closed, refuse(request.id, error)).await {
                break;
            }
            continue;
        };
        // A page or a piece of a chunk may fill a frame: hold that much before reading
        // it from the store, and keep what the answer really takes until it is written.
        let mut answer_held = Held::none();
        if answer_may_be_large(&request.body) {
            let hold = relay.budget.hold(&connection.memory, connection.account_memory(), MAX_FRAME_LEN);
            tokio::select! {
                held = hold => answer_held = held,
                _ = closed.changed() => break,
            }
        }
        if is_sequential(&request.body) {
            // Boxed: the handler's state exists only while it runs, instead of making
            // every idle stream's task as large as the largest handler.
            let answer = Box::pin(relay.handle(&connection, &stream, request)).await;
            drop(request_held);
            let bytes = answer.to_wire();
            answer_held.shrink_to(Padding::SizeClasses.frame_len(bytes.len()));
            tokio::select! {
                sent = answers.send((bytes, Some(permit), answer_held)) => if sent.is_err() { break },
                _ = closed.changed() => break,
            }
        } else {
            let relay = relay.clone();
            let connection = connection.clone();
            let stream = stream.clone();
            let answers = answers.clone();
            tracker.spawn(async move {
                let answer = relay.handle(&connection, &stream, request).await;
                drop(request_held);
                let bytes = answer.to_wire();
                drop(answer);
                answer_held.shrink_to(Padding::SizeClasses.frame_len(bytes.len()));
                // Blocks only while the writer is behind; the permit stays held, so the
                // peer cannot start more work than `in_flight_per_connection`.
                let _ = answers.send((bytes, Some(permit), answer_held)).await;
            });
        }
    }
    drop(answers);
    relay.hub.forget_stream(stream.key);
    // The writer ends once every handler of this stream has sent its answer, or the
    // connection is closed.
    let writer = writer_task.await.ok().flatten();
    if version_mismatch {
        let _ = connection.close.send(true);
    }
    writer.map(|writer| (reader, writer))
}

/// Queues a refusal. It waits while the writer is behind, but never past the moment the
/// connection closes — and the writer closes it when a write misses its deadline, so a
/// peer that stops reading cannot hold this stream.
async fn send_or_close(
    answers: &mpsc::Sender<Outgoing>,
    closed: &mut watch::Receiver<bool>,
    message: RelayMessage,
) -> bool {
    tokio::select! {
        sent = answers.send((message.to_wire(), None, Held::none())) => sent.is_ok(),
        _ = closed.changed() => false,
    }
}

fn refuse(id: RequestId, error: RelayError) -> RelayMessage {
    RelayMessage::Failure(Failure { id, error })
}
