//! Counters in Prometheus text format, served on a loopback address. They count
//! requests, bytes and errors by kind; they never name a group, a device or an account.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use huisclos_protocol::messages::{RelayError, RequestBody};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::store::RelayStore;

/// The relay's counters.
#[derive(Debug)]
pub struct Metrics {
    /// Connections accepted over QUIC.
    pub quic_connections: AtomicU64,
    /// Connections accepted over TCP+TLS.
    pub tcp_connections: AtomicU64,
    /// Connections open now.
    pub open_connections: AtomicU64,
    /// Frame bytes received.
    pub bytes_received: AtomicU64,
    /// Frame bytes sent.
    pub bytes_sent: AtomicU64,
    /// Frames or streams dropped for breaking the protocol.
    pub protocol_violations: AtomicU64,
    /// Connections refused because the relay had as many as it takes.
    pub refused_full: AtomicU64,
    /// Connections refused because their address had as many as it may.
    pub refused_address: AtomicU64,
    /// Connections refused because too many were not yet authenticated.
    pub refused_unauthenticated: AtomicU64,
    /// QUIC clients asked to prove their address (Retry) under load.
    pub quic_retries: AtomicU64,
    /// Failed accepts (for example, out of file descriptors).
    pub accept_errors: AtomicU64,
    /// Signals forwarded (never stored).
    pub signals: AtomicU64,
    /// Connections not yet authenticated, now.
    pub unauthenticated_connections: AtomicU64,
    requests: Vec<(u8, &'static str, AtomicU64)>,
    errors: Vec<(u8, &'static str, AtomicU64)>,
}

impl Default for Metrics {
    fn default() -> Self {
        let counters = |tags: &[(u8, &'static str)]| tags.iter().map(|&(t, n)| (t, n, AtomicU64::new(0))).collect();
        Self {
            quic_connections: AtomicU64::new(0),
            tcp_connections: AtomicU64::new(0),
            open_connections: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            protocol_violations: AtomicU64::new(0),
            refused_full: AtomicU64::new(0),
            refused_address: AtomicU64::new(0),
            refused_unauthenticated: AtomicU64::new(0),
            quic_retries: AtomicU64::new(0),
            signals: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
            unauthenticated_connections: AtomicU64::new(0),
            requests: counters(RequestBody::TAGS),
            errors: counters(RelayError::TAGS),
        }
    }
}

impl Metrics {
    /// Counts one request of kind `tag`.
    pub fn request(&self, tag: u8) {
        if let Some((_, _, counter)) = self.requests.iter().find(|(t, _, _)| *t == tag) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one refusal.
    pub fn error(&self, error: &RelayError) {
        let tag = error.tag();
        if let Some((_, _, counter)) = self.errors.iter().find(|(t, _, _)| *t == tag) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Renders the Prometheus text exposition.
    pub fn render(&self, store_bytes: u64, subscriptions: usize, memory_held: usize) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let _ = writeln!(out, "# HELP huisclos_connections_total Connections accepted, by transport.");
        let _ = writeln!(out, "# TYPE huisclos_connections_total counter");
        let _ = writeln!(out, "huisclos_connections_total{{transport=\"quic\"}} {}", get(&self.quic_connections));
        let _ = writeln!(out, "huisclos_connections_total{{transport=\"tcp\"}} {}", get(&self.tcp_connections));
        let _ = writeln!(out, "# TYPE huisclos_connections_open gauge");
        let _ = writeln!(out, "huisclos_connections_open {}", get(&self.open_connections));
        let _ = writeln!(out, "# TYPE huisclos_connections_unauthenticated gauge");
        let _ = writeln!(out, "huisclos_connections_unauthenticated {}", get(&self.unauthenticated_connections));
        let _ = writeln!(out, "# HELP huisclos_connections_refused_total Connections refused, by the limit reached.");
        let _ = writeln!(out, "# TYPE huisclos_connections_refused_total counter");
        let _ = writeln!(out, "huisclos_connections_refused_total{{limit=\"total\"}} {}", get(&self.refused_full));
        let _ = writeln!(out, "huisclos_connections_refused_total{{limit=\"address\"}} {}", get(&self.refused_address));
        let _ = writeln!(
            out,
            "huisclos_connections_refused_total{{limit=\"unauthenticated\"}} {}",
            get(&self.refused_unauthenticated)
        );
        let _ = writeln!(out, "# TYPE huisclos_quic_retries_total counter");
        let _ = writeln!(out, "huisclos_quic_retries_total {}", get(&self.quic_retries));
        let _ = writeln!(out, "# HELP huisclos_signals_total Signals forwarded to subscribers (never stored).");
        let _ = writeln!(out, "# TYPE huisclos_signals_total counter");
        let _ = writeln!(out, "huisclos_signals_total {}", get(&self.signals));
        let _ = writeln!(
            out,
            "# HELP huisclos_accept_errors_total Failed accepts, such as running out of file descriptors."
        );
        let _ = writeln!(out, "# TYPE huisclos_accept_errors_total counter");
        let _ = writeln!(out, "huisclos_accept_errors_total {}", get(&self.accept_errors));
        let _ = writeln!(out, "# HELP huisclos_memory_held_bytes Bytes of requests and answers held for peers.");
        let _ = writeln!(out, "# TYPE huisclos_memory_held_bytes gauge");
        let _ = writeln!(out, "huisclos_memory_held_bytes {memory_held}");
        let _ = writeln!(out, "# TYPE huisclos_requests_total counter");
        for (_, name, counter) in &self.requests {
            let _ = writeln!(out, "huisclos_requests_total{{kind=\"{name}\"}} {}", get(counter));
        }
        let _ = writeln!(out, "# TYPE huisclos_errors_total counter");
        for (_, name, counter) in &self.errors {
            let _ = writeln!(out, "huisclos_errors_total{{kind=\"{name}\"}} {}", get(counter));
        }
        let _ = writeln!(out, "# TYPE huisclos_protocol_violations_total counter");
        let _ = writeln!(out, "huisclos_protocol_violations_total {}", get(&self.protocol_violations));
        let _ = writeln!(out, "# TYPE huisclos_bytes_received_total counter");
        let _ = writeln!(out, "huisclos_bytes_received_total {}", get(&self.bytes_received));
        let _ = writeln!(out, "# TYPE huisclos_bytes_sent_total counter");
        let _ = writeln!(out, "huisclos_bytes_sent_total {}", get(&self.bytes_sent));
        let _ = writeln!(out, "# TYPE huisclos_subscriptions gauge");
        let _ = writeln!(out, "huisclos_subscriptions {subscriptions}");
        let _ = writeln!(out, "# TYPE huisclos_store_bytes gauge");
        let _ = writeln!(out, "huisclos_store_bytes {store_bytes}");
        out
    }
}

/// Serves `GET /metrics` (any path, in fact) on `listener` until the task is dropped.
pub async fn serve<S: RelayStore>(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    store: Arc<S>,
    hub: Arc<crate::hub::Hub>,
    budget: Arc<crate::budget::MemoryBudget>,
) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else { continue };
        let metrics = metrics.clone();
        let store = store.clone();
        let hub = hub.clone();
        let budget = budget.clone();
        tokio::spawn(async move {
            // Read (and ignore) the request head, bounded in size and time.
            let mut head = [0u8; 2048];
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut head)).await;
            let store_bytes = tokio::task::spawn_blocking(move || store.size_on_disk()).await.unwrap_or(0);
            let body = metrics.render(store_bytes, hub.subscription_count(), budget.held());
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}

/// Binds the metrics endpoint; refuses anything but loopback.
///
/// # Errors
/// [`crate::Error::Config`] for a non-loopback address, [`crate::Error::Io`].
pub async fn bind(address: SocketAddr) -> Result<tokio::net::TcpListener, crate::Error> {
    if !address.ip().is_loopback() {
        return Err(crate::Error::Config(format!("metrics endpoint {address} must be loopback")));
    }
    Ok(tokio::net::TcpListener::bind(address).await?)
}
