//! A slow, lossy link in user space, between a client and the relay: a UDP proxy (for
//! QUIC) and a TCP proxy (for TCP+TLS) on the same local port, each direction with
//! its own bandwidth, delay, jitter and loss. Kernel network emulation is not available
//! on these machines, and a user-space proxy runs anywhere.
//!
//! - **Bandwidth**: each direction is a queue that sends one packet (or TCP segment)
//!   after another at the configured bit rate; what waits, waits.
//! - **Delay and jitter**: each packet arrives its transmission time plus the one-way
//!   delay plus a uniform jitter later. UDP packets can overtake each other by jitter,
//!   as on a real path; a TCP stream stays in order.
//! - **Loss**: each UDP packet is lost with the configured probability (after using the
//!   link's bandwidth, as a packet lost on the way does). TCP never loses bytes — the
//!   kernel's TCP below would retransmit them — so a lost TCP segment costs a
//!   retransmission: two round trips more before it arrives.
//! - **Outages and network changes**: [`Link::change_network`] takes the link down for a
//!   while (UDP packets are lost, TCP bytes wait) and then gives the client a new
//!   address as the relay sees it (a new upstream UDP socket), as a phone moving from
//!   one network to another does; QUIC migrates, TCP is cut and must reconnect.
//! - **UDP blocked**: [`Link::block_udp`] drops every UDP packet, as networks that allow
//!   only TCP do.
//!
//! The randomness comes from a seeded generator, so a run's losses and jitter repeat.
//! With `HUISCLOS_NETEM_TRACE` set, every packet and segment is printed to stderr as it
//! enters the link: its direction, size, how long it waits behind others, and whether
//! it is lost (how the cold start's slow seeds were read, `docs/benchmarks.md`).

// Test support: a failure here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::rng::Rng;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::Instant;

/// What the link is like.
#[derive(Debug, Clone, Copy)]
pub struct LinkConfig {
    /// One-way delay (half the round trip).
    pub one_way_delay: Duration,
    /// Extra delay, uniform in `[0, jitter)`, per packet.
    pub jitter: Duration,
    /// Probability that a packet is lost.
    pub loss: f64,
    /// Bit rate of each direction.
    pub bits_per_second: u64,
    /// The seed of the losses and jitter.
    pub seed: u64,
}

impl LinkConfig {
    /// A poor 2G link: 64 kbit/s each way, 800 ms round trip (plus up to 40 ms jitter
    /// each way), 5 % loss.
    pub fn poor_2g(seed: u64) -> Self {
        Self {
            one_way_delay: Duration::from_millis(400),
            jitter: Duration::from_millis(40),
            loss: 0.05,
            bits_per_second: 64_000,
            seed,
        }
    }

    /// How long `bytes` take at this rate alone: the floor no protocol can beat.
    pub fn raw_byte_time(&self, bytes: u64) -> Duration {
        Duration::from_secs_f64(bytes as f64 * 8.0 / self.bits_per_second as f64)
    }
}

/// One direction of one path: when it is free to send again.
struct Direction {
    free_at: Mutex<Instant>,
    name: &'static str,
}

impl Direction {
    fn new(name: &'static str) -> Arc<Self> {
        Arc::new(Self { free_at: Mutex::new(Instant::now()), name })
    }
}

struct Shared {
    config: LinkConfig,
    rng: Mutex<Rng>,
    udp_blocked: AtomicBool,
    down_until: Mutex<Option<Instant>>,
    bytes: AtomicU64,
    lost: AtomicU64,
    /// `HUISCLOS_NETEM_TRACE` was set when the link started: every packet is printed.
    trace: bool,
}

/// When a packet of `len` bytes sent now arrives, and whether it is lost.
struct Fate {
    arrives: Instant,
    lost: bool,
}

impl Shared {
    fn fate(&self, direction: &Direction, len: usize) -> Fate {
        let now = Instant::now();
        let transmission = self.config.raw_byte_time(len as u64);
        let start = {
            let mut free = direction.free_at.lock().unwrap();
            let start = (*free).max(now);
            *free = start + transmission;
            start
        };
        let (jitter, lost) = {
            let mut rng = self.rng.lock().unwrap();
            (self.config.jitter.mul_f64(rng.unit()), rng.unit() < self.config.loss)
        };
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
        let mut arrives = start + transmission + self.config.one_way_delay + jitter;
        let down_until = *self.down_until.lock().unwrap();
        let during_outage = down_until.is_some_and(|until| now < until);
        if let Some(until) = down_until.filter(|_| during_outage) {
            arrives = arrives.max(until + self.config.one_way_delay);
        }
        if lost || during_outage {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
        if self.trace {
            eprintln!(
                "netem {:?} {} len {len} queued {:.2} s{}",
                now,
                direction.name,
                (start - now).as_secs_f64(),
                if lost || during_outage { " LOST" } else { "" }
            );
        }
        Fate { arrives, lost: lost || during_outage }
    }
}

/// A running link: connect the client to [`Link::address`] instead of the relay.
pub struct Link {
    address: SocketAddr,
    shared: Arc<Shared>,
    upstream_udp: SocketAddr,
    back: Arc<Mutex<Arc<UdpSocket>>>,
    front: Arc<UdpSocket>,
    client: Arc<Mutex<Option<SocketAddr>>>,
    down: Arc<Direction>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Link {
    /// Starts a link to the relay's QUIC (`upstream_udp`) and TCP (`upstream_tcp`)
    /// addresses, listening for the client on one local port for both.
    pub async fn start(upstream_udp: SocketAddr, upstream_tcp: SocketAddr, config: LinkConfig) -> Self {
        let (listener, front) = loop {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            if let Ok(front) = UdpSocket::bind(("127.0.0.1", port)).await {
                break (listener, Arc::new(front));
            }
        };
        let address = front.local_addr().unwrap();
        let shared = Arc::new(Shared {
            config,
            rng: Mutex::new(Rng::new(config.seed)),
            udp_blocked: AtomicBool::new(false),
            down_until: Mutex::new(None),
            bytes: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            trace: std::env::var_os("HUISCLOS_NETEM_TRACE").is_some(),
        });
        let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        back.connect(upstream_udp).await.unwrap();
        let mut link = Self {
            address,
            shared,
            upstream_udp,
            back: Arc::new(Mutex::new(back.clone())),
            front,
            client: Arc::default(),
            down: Direction::new("down"),
            tasks: Vec::new(),
        };
        link.tasks.push(tokio::spawn(link.client_to_relay()));
        link.tasks.push(tokio::spawn(link.relay_to_client(back)));
        link.tasks.push(tokio::spawn(tcp_accept(listener, upstream_tcp, link.shared.clone())));
        link
    }

    /// Where the client connects (QUIC and TCP+TLS alike).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Bytes the link carried (both directions, both transports, lost ones included).
    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    /// Packets lost so far.
    pub fn lost(&self) -> u64 {
        self.shared.lost.load(Ordering::Relaxed)
    }

    /// The link's configuration.
    pub fn config(&self) -> LinkConfig {
        self.shared.config
    }

    /// Drops every UDP packet from now on (or lets them through again).
    pub fn block_udp(&self, blocked: bool) {
        self.shared.udp_blocked.store(blocked, Ordering::Relaxed);
    }

    /// Takes the link down for `outage`, then gives the client a new address as the
    /// relay sees it (a new upstream UDP socket).
    pub async fn change_network(&mut self, outage: Duration) {
        *self.shared.down_until.lock().unwrap() = Some(Instant::now() + outage);
        let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        back.connect(self.upstream_udp).await.unwrap();
        *self.back.lock().unwrap() = back.clone();
        self.tasks.push(tokio::spawn(self.relay_to_client(back)));
    }

    fn client_to_relay(&self) -> impl Future<Output = ()> + Send + 'static {
        let (front, back, shared, client) =
            (self.front.clone(), self.back.clone(), self.shared.clone(), self.client.clone());
        let up = Direction::new("up");
        async move {
            let mut buffer = vec![0u8; 65_536];
            while let Ok((len, from)) = front.recv_from(&mut buffer).await {
                *client.lock().unwrap() = Some(from);
                if shared.udp_blocked.load(Ordering::Relaxed) {
                    continue;
                }
                let fate = shared.fate(&up, len);
                if fate.lost {
                    continue;
                }
                let packet = buffer[..len].to_vec();
                let back = back.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(fate.arrives).await;
                    // Sent from whichever network the client is on by then.
                    let socket = back.lock().unwrap().clone();
                    let _ = socket.send(&packet).await;
                });
            }
        }
    }

    fn relay_to_client(&self, back: Arc<UdpSocket>) -> impl Future<Output = ()> + Send + 'static {
        let (front, shared, client, down) =
            (self.front.clone(), self.shared.clone(), self.client.clone(), self.down.clone());
        async move {
            let mut buffer = vec![0u8; 65_536];
            while let Ok(len) = back.recv(&mut buffer).await {
                if shared.udp_blocked.load(Ordering::Relaxed) {
                    continue;
                }
                let Some(to) = *client.lock().unwrap() else { continue };
                let fate = shared.fate(&down, len);
                if fate.lost {
                    continue;
                }
                let packet = buffer[..len].to_vec();
                let front = front.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(fate.arrives).await;
                    let _ = front.send_to(&packet, to).await;
                });
            }
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn tcp_accept(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(relay) = TcpStream::connect(upstream).await else { return };
            let (client_read, client_write) = client.into_split();
            let (relay_read, relay_write) = relay.into_split();
            let up = tokio::spawn(tcp_pipe(client_read, relay_write, shared.clone()));
            let down = tokio::spawn(tcp_pipe(relay_read, client_write, shared));
            let _ = tokio::join!(up, down);
        });
    }
}

/// One direction of a TCP connection: segments of at most 1460 bytes through the
/// emulated link, in order.
async fn tcp_pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    shared: Arc<Shared>,
) {
    let direction = Direction::new("tcp");
    let (segments, mut arriving) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, segment)) = arriving.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&segment).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let round_trip = shared.config.one_way_delay * 2;
    let mut last = Instant::now();
    let mut buffer = vec![0u8; 1460];
    loop {
        let len = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(len) => len,
        };
        let fate = shared.fate(&direction, len);
        // A lost segment is sent again after a retransmission timeout.
        let arrives = if fate.lost { fate.arrives + round_trip * 2 } else { fate.arrives };
        last = last.max(arrives);
        if segments.send((last, buffer[..len].to_vec())).is_err() {
            break;
        }
    }
    drop(segments);
    let _ = writer.await;
}
