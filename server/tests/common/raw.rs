//! Clients that speak the protocol frame by frame, for attacks: they choose when (and
//! whether) to read the relay's answers, which the real client never lets one do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use huisclos_protocol::auth::{AuthPurpose, TlsExporter, sign_device_auth};
use huisclos_protocol::codec::Wire;
use huisclos_protocol::frame::Padding;
use huisclos_protocol::ids::{AccountId, RequestId};
use huisclos_protocol::messages::*;
use huisclos_transport::client::RelayClient;
use huisclos_transport::framed::{ReadDeadlines, read_frame, write_frame};
use huisclos_transport::tls::{client_config, server_name, tls_exporter};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::RelayProcess;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A TCP+TLS connection (or one QUIC stream) driven one frame at a time.
pub struct RawTcp {
    reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
    writer: Box<dyn tokio::io::AsyncWrite + Unpin + Send>,
    exporter: TlsExporter,
    next_id: u64,
    _quic: Option<(quinn::Endpoint, quinn::Connection)>,
}

impl RawTcp {
    pub async fn connect(relay: &RelayProcess) -> Result<Self, BoxError> {
        Self::connect_from(relay, std::net::Ipv4Addr::LOCALHOST).await
    }

    /// Connects from `local`, one of the many loopback addresses (127.0.0.0/8), so that
    /// one test can be many peers.
    pub async fn connect_from(relay: &RelayProcess, local: std::net::Ipv4Addr) -> Result<Self, BoxError> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind((local, 0).into())?;
        let tcp = socket.connect(relay.tcp_address).await?;
        tcp.set_nodelay(true)?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(relay.pin)));
        let tls = connector.connect(server_name(), tcp).await?;
        let exporter = tls_exporter(tls.get_ref().1)?;
        let (reader, writer): (ReadHalf<TlsStream<TcpStream>>, WriteHalf<TlsStream<TcpStream>>) = tokio::io::split(tls);
        Ok(Self { reader: Box::new(reader), writer: Box::new(writer), exporter, next_id: 1, _quic: None })
    }

    /// A QUIC connection's first stream, driven the same way.
    pub async fn connect_quic(relay: &RelayProcess) -> Result<Self, BoxError> {
        let (endpoint, connection) = quic_from(relay, std::net::Ipv4Addr::LOCALHOST).await?;
        let exporter = huisclos_transport::tls::quic_exporter(&connection)?;
        let (send, recv) = connection.open_bi().await?;
        Ok(Self {
            reader: Box::new(recv),
            writer: Box::new(send),
            exporter,
            next_id: 1,
            _quic: Some((endpoint, connection)),
        })
    }

    /// Writes a request without waiting for its answer; returns its id.
    pub async fn send(&mut self, body: impl Into<RequestBody>) -> Result<RequestId, BoxError> {
        let id = RequestId::new(self.next_id)?;
        self.next_id += 1;
        let payload = Request { id, body: body.into() }.to_wire();
        write_frame(&mut self.writer, &payload, Padding::SizeClasses).await?;
        Ok(id)
    }

    /// Writes raw bytes.
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), BoxError> {
        use tokio::io::AsyncWriteExt;
        self.writer.write_all(bytes).await?;
        self.writer.flush().await?;
        Ok(())
    }

    /// Reads the next message (answer or event).
    pub async fn recv(&mut self, timeout: Duration) -> Result<RelayMessage, BoxError> {
        let deadlines = ReadDeadlines { idle: Some(timeout), frame: timeout };
        let payload = read_frame(&mut self.reader, deadlines).await?.ok_or("the relay closed the connection")?;
        Ok(RelayMessage::from_wire(&payload)?)
    }

    /// Sends a request and reads until its answer, skipping events.
    pub async fn call(&mut self, body: impl Into<RequestBody>) -> Result<Result<ResponseBody, RelayError>, BoxError> {
        let id = self.send(body).await?;
        loop {
            match self.recv(Duration::from_secs(20)).await? {
                RelayMessage::Response(response) if response.id == id => return Ok(Ok(response.body)),
                RelayMessage::Failure(failure) if failure.id == id => return Ok(Err(failure.error)),
                _ => {}
            }
        }
    }

    /// This connection's TLS exporter, as both ends compute it.
    pub fn exporter(&self) -> &TlsExporter {
        &self.exporter
    }

    /// Authenticates as the device whose key is `key`.
    pub async fn authenticate(&mut self, key: &SigningKey) -> Result<Result<AccountId, RelayError>, BoxError> {
        let nonce = match self.call(GetChallenge {}).await? {
            Ok(ResponseBody::Challenge(challenge)) => challenge.nonce,
            Ok(other) => return Err(format!("unexpected {other:?}").into()),
            Err(error) => return Ok(Err(error)),
        };
        let signature = sign_device_auth(key, &self.exporter, &nonce, AuthPurpose::Authenticate);
        let device = huisclos_protocol::auth::DevicePublicKey::from_signing_key(key).device_id();
        match self.call(Authenticate { device, signature }).await? {
            Ok(ResponseBody::Authenticated(done)) => Ok(Ok(done.account)),
            Ok(other) => Err(format!("unexpected {other:?}").into()),
            Err(error) => Ok(Err(error)),
        }
    }

    /// Whether the relay has closed the connection: reads (and drops) whatever is
    /// waiting, up to `within`.
    pub async fn closed_within(&mut self, within: Duration) -> bool {
        use tokio::io::AsyncReadExt;
        let mut sink = vec![0u8; 64 * 1024];
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.reader.read(&mut sink)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
                Err(_) => return false,
            }
        }
    }
}

/// Samples the relay's resident memory every 100 ms on a thread of its own.
pub struct MemorySampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<(f64, u32)>>,
}

impl MemorySampler {
    pub fn start(pid: u32) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let (mut peak, mut threads) = (0f64, 0u32);
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let (rss, n) = memory_of(pid);
                peak = peak.max(rss);
                threads = threads.max(n);
                std::thread::sleep(Duration::from_millis(100));
            }
            (peak, threads)
        });
        Self { stop, handle: Some(handle) }
    }

    /// The peak resident memory (MiB) and thread count seen.
    pub fn stop(mut self) -> (f64, u32) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.take().and_then(|h| h.join().ok()).unwrap_or((0.0, 0))
    }
}

pub fn memory_of(pid: u32) -> (f64, u32) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:") as f64 / 1024.0, field("Threads:") as u32)
}

/// An honest member's round trips while an attack runs: an append and a fetch, once a
/// quarter second, each timed.
pub struct HonestProbe {
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: tokio::task::JoinHandle<ProbeReport>,
}

#[derive(Debug, Default)]
pub struct ProbeReport {
    pub round_trips: Vec<Duration>,
    pub failures: Vec<String>,
}

impl ProbeReport {
    pub fn worst(&self) -> Duration {
        self.round_trips.iter().copied().max().unwrap_or_default()
    }
    pub fn median(&self) -> Duration {
        let mut sorted = self.round_trips.clone();
        sorted.sort();
        sorted.get(sorted.len() / 2).copied().unwrap_or_default()
    }
}

impl HonestProbe {
    /// `client` is authenticated; `group` is a group it may write.
    pub fn start(client: Arc<RelayClient>, group: super::GroupKeys) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = tokio::spawn(async move {
            let mut report = ProbeReport::default();
            let mut n = 0u64;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let started = Instant::now();
                let append = client
                    .request(AppendMessage { access: group.access(), message: super::mls(format!("honest {n}")) });
                let outcome = match tokio::time::timeout(Duration::from_secs(20), append).await {
                    Ok(Ok(ResponseBody::Appended(appended))) => {
                        let fetch = client.request(FetchLog {
                            access: group.access(),
                            from: appended.seq,
                            limit: super::page(1),
                        });
                        match tokio::time::timeout(Duration::from_secs(20), fetch).await {
                            Ok(Ok(ResponseBody::LogPage(page))) if page.entries.len() == 1 => Ok(()),
                            other => Err(format!("fetch: {other:?}")),
                        }
                    }
                    other => Err(format!("append: {other:?}")),
                };
                match outcome {
                    Ok(()) => report.round_trips.push(started.elapsed()),
                    Err(error) => report.failures.push(error),
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            report
        });
        Self { stop, handle }
    }

    pub async fn stop(self) -> ProbeReport {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.await.unwrap_or_default()
    }
}

/// A QUIC connection to the relay from `local`, with no stream opened yet.
pub async fn quic_from(
    relay: &RelayProcess,
    local: std::net::Ipv4Addr,
) -> Result<(quinn::Endpoint, quinn::Connection), BoxError> {
    let mut endpoint = quinn::Endpoint::client((local, 0).into())?;
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(client_config(relay.pin))?;
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
    let connection = endpoint.connect(relay.address, huisclos_transport::tls::RELAY_SERVER_NAME)?.await?;
    Ok((endpoint, connection))
}

/// The `n`th loopback address after 127.0.0.1, for peers that must look distinct.
pub fn loopback(n: u32) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(127, 0, 1, 0)) + n)
}
