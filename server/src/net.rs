//! Listeners and connections: QUIC and TCP+TLS carry the same frames to the same
//! [`Relay`]. This is where the per-connection limits live: stream counts, request rate,
//! requests in flight, idle and unauthenticated timeouts, and the frame deadline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use huisclos_protocol::codec::{Reader, Wire};
use huisclos_protocol::frame::Padding;
use huisclos_protocol::ids::RequestId;
use huisclos_protocol::limits::PROTOCOL_VERSION;
use huisclos_protocol::messages::{Failure, LimitKind, RelayError, RelayMessage, Request};
use huisclos_transport::TransportError;
use huisclos_transport::framed::{ReadDeadlines, read_frame, write_frame};
use huisclos_transport::tls::{quic_exporter, tls_exporter};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_util::task::TaskTracker;

use crate::Error;
use crate::hub::EventSink;
use crate::service::{Connection, Relay, Stream, is_sequential};
use crate::store::RelayStore;

/// How long a TLS or QUIC handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How much a QUIC peer may have in flight towards the relay on one stream, and on the
/// whole connection: enough for a full frame and the next one, no more.
const STREAM_RECEIVE_WINDOW: u32 = 2 << 20;
const CONNECTION_RECEIVE_WINDOW: u32 = 8 << 20;

/// An answer or event to write, already encoded, with the in-flight permit of the
/// request it answers, released only once it is written: a peer that stops reading runs
/// out of permits. Encoded by whoever produced it, so the channel's slots stay small
/// (the channel allocates a block of them per stream, idle or not) and the encoding
/// runs on the handlers' tasks rather than the one writer.
type Outgoing = (Vec<u8>, Option<OwnedSemaphorePermit>);

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
    limits: &crate::config::PolicyLimits,
) -> Result<(Listeners, tokio_rustls::TlsAcceptor), Error> {
    let tls = Arc::new(tls);
    let quic_crypto =
        quinn::crypto::rustls::QuicServerConfig::try_from(tls.clone()).map_err(|e| Error::Tls(e.to_string()))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(quic_crypto));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(limits.streams_per_connection.into())
        .max_concurrent_uni_streams(0u32.into())
        .stream_receive_window(STREAM_RECEIVE_WINDOW.into())
        .receive_window(CONNECTION_RECEIVE_WINDOW.into())
        .datagram_receive_buffer_size(None)
        .max_idle_timeout(Some(limits.idle().try_into().map_err(|_| Error::Config("idle_secs too large".into()))?));
    server.transport_config(Arc::new(transport));
    // Connection migration stays on: a phone that changes networks keeps its session.
    let endpoint = quinn::Endpoint::server(server, quic_listen)?;
    let quic = endpoint.local_addr()?;
    let tcp_target = if tcp_listen.port() == 0 && quic_listen.port() == 0 {
        SocketAddr::new(tcp_listen.ip(), quic.port())
    } else {
        tcp_listen
    };
    let tcp_listener = match tokio::net::TcpListener::bind(tcp_target).await {
        Ok(listener) => listener,
        Err(_) if tcp_target != tcp_listen => tokio::net::TcpListener::bind(tcp_listen).await?,
        Err(error) => return Err(error.into()),
    };
    let tcp = tcp_listener.local_addr()?;
    Ok((Listeners { quic, tcp, endpoint, tcp_listener }, tokio_rustls::TlsAcceptor::from(tls)))
}

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
        let slots = Arc::new(Semaphore::new(relay.limits().max_connections as usize));
        loop {
            tokio::select! {
                incoming = endpoint.accept() => {
                    let Some(incoming) = incoming else { break };
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        incoming.refuse();
                        continue;
                    };
                    let relay = relay.clone();
                    let tracker2 = tracker.clone();
                    let shutdown = shutdown.clone();
                    tracker.spawn(async move {
                        serve_quic(relay, incoming, tracker2, shutdown).await;
                        drop(slot);
                    });
                }
                accepted = tcp_listener.accept() => {
                    let Ok((socket, _)) = accepted else {
                        // Out of file descriptors, say: wait instead of spinning.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
                    let relay = relay.clone();
                    let acceptor = acceptor.clone();
                    let tracker2 = tracker.clone();
                    let shutdown = shutdown.clone();
                    tracker.spawn(async move {
                        serve_tcp(relay, acceptor, socket, tracker2, shutdown).await;
                        drop(slot);
                    });
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

fn new_connection<S: RelayStore>(relay: &Relay<S>, exporter: huisclos_protocol::auth::TlsExporter) -> Arc<Connection> {
    let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let connection = Arc::new(Connection::new(id, exporter, relay.limits()));
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
    relay.metrics.open_connections.fetch_sub(1, Ordering::Relaxed);
}

async fn serve_quic<S: RelayStore>(
    relay: Arc<Relay<S>>,
    incoming: quinn::Incoming,
    tracker: TaskTracker,
    mut shutdown: watch::Receiver<bool>,
) {
    let Ok(Ok(quic)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, incoming).await else { return };
    relay.metrics.quic_connections.fetch_add(1, Ordering::Relaxed);
    let Ok(exporter) = quic_exporter(&quic) else { return };
    let connection = new_connection(&relay, exporter);
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
                streams.spawn(async move {
                    serve_stream(relay, connection, stream_no, recv, send, deadlines, tracker2).await;
                });
            }
            Some(_) = streams.join_next(), if !streams.is_empty() => {}
            _ = closed.changed() => break,
            _ = shutdown.changed() => break,
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
    tracker: TaskTracker,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = socket.set_nodelay(true);
    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await else { return };
    // A client that negotiated no protocol is not speaking ours.
    if tls.get_ref().1.alpn_protocol() != Some(huisclos_protocol::limits::ALPN) {
        return;
    }
    relay.metrics.tcp_connections.fetch_add(1, Ordering::Relaxed);
    let Ok(exporter) = tls_exporter(tls.get_ref().1) else { return };
    let connection = new_connection(&relay, exporter);
    let (read, write) = tokio::io::split(tls);
    let deadlines = ReadDeadlines { idle: Some(relay.limits().idle()), frame: relay.limits().frame_deadline() };
    let mut closed = connection.close.subscribe();
    tokio::select! {
        () = serve_stream(relay.clone(), connection.clone(), 0, read, write, deadlines, tracker) => {}
        _ = shutdown.changed() => {}
        _ = closed.changed() => {}
    }
    end_connection(&relay, &connection);
}

/// Serves one stream: reads requests, answers them (concurrently, except those that
/// change the connection's state), and writes answers and events.
async fn serve_stream<S, R, W>(
    relay: Arc<Relay<S>>,
    connection: Arc<Connection>,
    stream_no: u64,
    mut reader: R,
    mut writer: W,
    deadlines: ReadDeadlines,
    tracker: TaskTracker,
) where
    S: RelayStore,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
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
                () = sink.ready() => sink.drain().into_iter().map(|event| (RelayMessage::Event(event).to_wire(), None)).collect(),
            };
            for (payload, permit) in batch {
                let written =
                    tokio::time::timeout(write_deadline, write_frame(&mut writer, &payload, Padding::SizeClasses));
                match written.await {
                    Ok(Ok(bytes)) => {
                        metrics.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
                    }
                    // A peer that does not read what it asked for is cut off.
                    _ => {
                        let _ = close.send(true);
                        return;
                    }
                }
                drop(permit);
            }
        }
        let _ = writer.shutdown().await;
    });

    let mut version_mismatch = false;
    loop {
        let frame = tokio::select! {
            frame = read_frame(&mut reader, deadlines) => frame,
            _ = closed.changed() => break,
        };
        let payload = match frame {
            Ok(Some(payload)) => payload,
            Ok(None) => break,
            Err(TransportError::Protocol(huisclos_protocol::Error::UnsupportedVersion { .. })) => {
                relay.metrics.protocol_violations.fetch_add(1, Ordering::Relaxed);
                let refusal = Failure {
                    id: RequestId::ZERO,
                    error: RelayError::UnsupportedVersion { supported: PROTOCOL_VERSION },
                };
                let _ = answers.try_send((RelayMessage::Failure(refusal).to_wire(), None));
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
        // Every frame spends rate budget, well-formed or not.
        let rate = connection.take_rate();
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
        if is_sequential(&request.body) {
            // Boxed: the handler's state exists only while it runs, instead of making
            // every idle stream's task as large as the largest handler.
            let answer = Box::pin(relay.handle(&connection, &stream, request)).await;
            tokio::select! {
                sent = answers.send((answer.to_wire(), Some(permit))) => if sent.is_err() { break },
                _ = closed.changed() => break,
            }
        } else {
            let relay = relay.clone();
            let connection = connection.clone();
            let stream = stream.clone();
            let answers = answers.clone();
            tracker.spawn(async move {
                let answer = relay.handle(&connection, &stream, request).await;
                // Blocks only while the writer is behind; the permit stays held, so the
                // peer cannot start more work than `in_flight_per_connection`.
                let _ = answers.send((answer.to_wire(), Some(permit))).await;
            });
        }
    }
    drop(answers);
    relay.hub.forget_stream(stream.key);
    // The writer ends once every handler of this stream has sent its answer, or the
    // connection is closed.
    let _ = writer_task.await;
    if version_mismatch {
        let _ = connection.close.send(true);
    }
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
        sent = answers.send((message.to_wire(), None)) => sent.is_ok(),
        _ = closed.changed() => false,
    }
}

fn refuse(id: RequestId, error: RelayError) -> RelayMessage {
    RelayMessage::Failure(Failure { id, error })
}
