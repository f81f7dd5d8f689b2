//! The relay's benchmarks: round trips against a raw quinn echo, store appends against
//! raw sled, and the memory of idle authenticated connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use huisclos_protocol::access::{AccessToken, EpochVerifier};
use huisclos_protocol::codec::Wire;
use huisclos_protocol::frame::Padding;
use huisclos_protocol::ids::{Epoch, GroupId, RequestId, Seq};
use huisclos_protocol::messages::{
    AppendMessage, Appended, CreateGroup, GroupAccess, LogRetention, MlsMessageBytes, RelayMessage, Request, Response,
    ResponseBody,
};
use huisclos_tests::process::RelayProcess;
use huisclos_transport::client::{RelayClient, TransportKind};
use huisclos_transport::framed::{ReadDeadlines, read_frame, write_frame};
use huisclos_transport::tls::SpkiPin;
use rand_core::{OsRng, RngCore};

/// Limits lifted so that the relay's own work is measured, not its rate limiter.
pub(crate) const BENCH_CONFIG: &str = r#"
[limits]
requests_per_second = 1000000
request_burst = 1000000
max_connections = 20000
# The clients of a row share one account.
connections_per_account = 20000
memory_per_account = 134217728
idle_secs = 3600
unauthenticated_secs = 600
quota_bytes = 1000000000000
"#;

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The frames one append and its acknowledgement put on the wire: the echo sends
/// payloads of the same lengths, padded the same way.
fn frame_lengths(payload: usize) -> (usize, usize) {
    let request = Request { id: RequestId::new(1).unwrap(), body: append(group_keys().0, 0, payload).into() };
    let response = RelayMessage::Response(Response {
        id: RequestId::new(1).unwrap(),
        body: ResponseBody::Appended(Appended { seq: Seq::new(1).unwrap() }),
    });
    (request.to_wire().len(), response.to_wire().len())
}

fn group_keys() -> (GroupAccess, EpochVerifier) {
    let token = AccessToken::from_bytes(random());
    let verifier = EpochVerifier::for_token(&token);
    (GroupAccess { group: GroupId::from_bytes(random()), epoch: Epoch::ZERO, token }, verifier)
}

fn append(access: GroupAccess, counter: u64, payload: usize) -> AppendMessage {
    // Distinct bytes each time: the relay stores an identical message once.
    let mut message = vec![0x5a; payload];
    message[..8].copy_from_slice(&counter.to_be_bytes());
    AppendMessage { access, message: MlsMessageBytes::new(message).unwrap() }
}

/// Round trips per second over `secs`, summed over `clients` concurrent connections,
/// each with one request in flight at a time.
async fn measure(
    clients: usize,
    secs: f64,
    run: impl Fn(usize, Arc<AtomicBool>, Arc<AtomicU64>) -> tokio::task::JoinHandle<()>,
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients).map(|i| run(i, stop.clone(), done.clone())).collect();
    // Warm-up: every connection has made some round trips.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start_count = done.load(Ordering::SeqCst);
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let count = done.load(Ordering::SeqCst) - start_count;
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        let _ = task.await;
    }
    count as f64 / elapsed
}

async fn relay_round_trips(relay: &RelayProcess, clients: usize, payload: usize, secs: f64) -> f64 {
    let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
    let first = RelayClient::connect(TransportKind::Quic, relay.address, relay.pin).await.unwrap();
    first.create_account(&relay.invite().token().clone(), &key).await.unwrap();
    drop(first);
    let mut connections = Vec::new();
    for _ in 0..clients {
        let client = RelayClient::connect(TransportKind::Quic, relay.address, relay.pin).await.unwrap();
        client.authenticate(&key).await.unwrap();
        let (access, verifier) = group_keys();
        client.request(CreateGroup { group: access.group, verifier, retention: LogRetention::Keep }).await.unwrap();
        connections.push(Some((Arc::new(client), access)));
    }
    let connections = std::sync::Mutex::new(connections);
    measure(clients, secs, |i, stop, done| {
        let (client, access) = connections.lock().unwrap()[i].take().unwrap();
        tokio::spawn(async move {
            let mut counter = 0u64;
            while !stop.load(Ordering::Relaxed) {
                counter += 1;
                client.request(append(access.clone(), counter, payload)).await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        })
    })
    .await
}

/// The echo server, in its own process as the relay is: prints its port and pin,
/// answers every frame with a frame of `response_len` bytes, until killed.
pub(crate) async fn echo_server(response_len: usize) {
    let certified = rcgen::generate_simple_self_signed(vec!["relay.invalid".into()]).unwrap();
    let certificate = certified.cert.der().clone();
    let pin = SpkiPin::of_certificate(&certificate).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let tls = huisclos_transport::tls::server_config(certificate, key).unwrap();
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls).unwrap();
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    // As the relay's: 16 streams, and connections kept however long they idle.
    transport.max_concurrent_bidi_streams(16u32.into()).max_idle_timeout(None);
    config.transport_config(Arc::new(transport));
    let endpoint = quinn::Endpoint::server(config, "127.0.0.1:0".parse().unwrap()).unwrap();
    println!("{} {}", endpoint.local_addr().unwrap(), hex::encode(pin.0));
    let response = vec![0u8; response_len];
    while let Some(incoming) = endpoint.accept().await {
        let response = response.clone();
        tokio::spawn(async move {
            let Ok(connection) = incoming.await else { return };
            while let Ok((mut send, mut recv)) = connection.accept_bi().await {
                let response = response.clone();
                tokio::spawn(async move {
                    while let Ok(Some(_)) = read_frame(&mut recv, ReadDeadlines::default()).await {
                        if write_frame(&mut send, &response, Padding::SizeClasses).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
    }
}

async fn echo_round_trips(address: SocketAddr, pin: SpkiPin, clients: usize, request_len: usize, secs: f64) -> f64 {
    let mut streams = Vec::new();
    for _ in 0..clients {
        // One endpoint per connection, as each relay client has.
        let mut endpoint = quinn::Endpoint::client("0.0.0.0:0".parse().unwrap()).unwrap();
        let crypto =
            quinn::crypto::rustls::QuicClientConfig::try_from(huisclos_transport::tls::client_config(pin)).unwrap();
        endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
        let connection = endpoint.connect(address, huisclos_transport::tls::RELAY_SERVER_NAME).unwrap().await.unwrap();
        let stream = connection.open_bi().await.unwrap();
        streams.push(Some((endpoint, connection, stream)));
    }
    let streams = std::sync::Mutex::new(streams);
    let request = vec![0x5au8; request_len];
    measure(clients, secs, |i, stop, done| {
        let (endpoint, connection, (mut send, mut recv)) = streams.lock().unwrap()[i].take().unwrap();
        let request = request.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                write_frame(&mut send, &request, Padding::SizeClasses).await.unwrap();
                read_frame(&mut recv, ReadDeadlines::default()).await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
            drop((connection, endpoint));
        })
    })
    .await
}

/// Starts the echo server in a child process: the child, its address and its pin.
async fn spawn_echo(response_len: usize) -> (tokio::process::Child, SocketAddr, SpkiPin) {
    let exe = std::env::current_exe().unwrap();
    let mut echo = tokio::process::Command::new(&exe)
        .args(["echo-server", &response_len.to_string()])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut line = String::new();
    {
        use tokio::io::AsyncBufReadExt;
        let mut out = tokio::io::BufReader::new(echo.stdout.take().unwrap());
        out.read_line(&mut line).await.unwrap();
    }
    let (address, pin) = line.trim().split_once(' ').unwrap();
    let address: SocketAddr = address.parse().unwrap();
    let pin = SpkiPin(hex::decode(pin).unwrap().try_into().unwrap());
    (echo, address, pin)
}

/// Benchmark 1: appends acknowledged per second from 1, 16 and 256 clients over QUIC
/// on loopback, against a raw quinn echo of frames of the same lengths.
pub(crate) async fn round_trips_bench(payload: usize, secs: f64) {
    let (request_len, response_len) = frame_lengths(payload);
    let (mut echo, address, pin) = spawn_echo(response_len).await;

    println!(
        "relay round trips: an append of a {payload}-byte MLS message and its acknowledgement (request frame \
         {request_len} bytes, answer {response_len} before padding), each client one request at a time, over QUIC on \
         loopback, {secs} s per row; ceiling: a raw quinn echo of the same frame lengths, in its own process as the \
         relay is. Relay limits lifted for the run (requests per second, burst)."
    );
    println!();
    println!("| clients | relay appends/s | raw quinn echo/s | ratio | target ≥ 0.50 |");
    println!("|---:|---:|---:|---:|---|");
    for clients in [1usize, 16, 256] {
        let relay = RelayProcess::start_with_config(BENCH_CONFIG);
        let relayed = relay_round_trips(&relay, clients, payload, secs).await;
        drop(relay);
        let echoed = echo_round_trips(address, pin, clients, request_len, secs).await;
        let ratio = relayed / echoed;
        println!(
            "| {clients} | {relayed:.0} | {echoed:.0} | {ratio:.2} | {} |",
            if ratio >= 0.5 { "met" } else { "missed" }
        );
    }
    let _ = echo.kill().await;
}

/// Benchmark 5: durable appends per second in the relay's store, against raw sled
/// inserting the same bytes and flushing after each.
pub(crate) fn store_bench(count: usize, payload: usize) {
    use huisclos_relay::store::RelayStore;
    use huisclos_relay::store::sled_store::SledStore;
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(&dir.path().join("store")).unwrap();
    let (access, verifier) = group_keys();
    store.create_group(access.group, verifier, LogRetention::Keep).unwrap();
    let expires = huisclos_protocol::ids::UnixSeconds::new(4_000_000_000).unwrap();
    let message = |i: u64| append(access.clone(), i, payload).message;
    for i in 0..100 {
        store.append(access.group, Epoch::ZERO, &message(i), expires).unwrap();
    }
    let start = Instant::now();
    for i in 100..100 + count as u64 {
        store.append(access.group, Epoch::ZERO, &message(i), expires).unwrap();
    }
    let relay = count as f64 / start.elapsed().as_secs_f64();

    // The same, sealed at rest under a store key.
    let sealed_dir = tempfile::tempdir().unwrap();
    let key = huisclos_relay::store::sealing::StoreKey::generate();
    let store = SledStore::open_with(&sealed_dir.path().join("store"), Some(&key)).unwrap();
    store.create_group(access.group, group_keys().1, LogRetention::Keep).unwrap();
    for i in 0..100 {
        store.append(access.group, Epoch::ZERO, &message(i), expires).unwrap();
    }
    let start = Instant::now();
    for i in 100..100 + count as u64 {
        store.append(access.group, Epoch::ZERO, &message(i), expires).unwrap();
    }
    let sealed = count as f64 / start.elapsed().as_secs_f64();
    drop(store);

    let raw_dir = tempfile::tempdir().unwrap();
    let db = sled::Config::new().path(raw_dir.path()).mode(sled::Mode::HighThroughput).open().unwrap();
    let tree = db.open_tree("log").unwrap();
    for i in 0..100u64 {
        tree.insert(i.to_be_bytes(), message(i).as_bytes()).unwrap();
        db.flush().unwrap();
    }
    let start = Instant::now();
    for i in 100..100 + count as u64 {
        tree.insert(i.to_be_bytes(), message(i).as_bytes()).unwrap();
        db.flush().unwrap();
    }
    let raw = count as f64 / start.elapsed().as_secs_f64();
    drop((tree, db));

    // The same store with 16 writers at once, each on its own group (group commit).
    let threaded_dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(&threaded_dir.path().join("store")).unwrap());
    let start = Instant::now();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                let (access, verifier) = group_keys();
                store.create_group(access.group, verifier, LogRetention::Keep).unwrap();
                for i in 0..(count / 16) as u64 {
                    store
                        .append(access.group, Epoch::ZERO, &append(access.clone(), i, payload).message, expires)
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let threaded = (count / 16 * 16) as f64 / start.elapsed().as_secs_f64();
    println!(
        "relay store: {count} appends of a {payload}-byte message, each durable (flushed) before the next, one \
         thread (and 16 threads, each on its own group, sharing flushes); ceiling: raw sled inserting the same bytes \
         under a sequence key and flushing after each"
    );
    println!();
    println!("| path | appends/s | ratio |");
    println!("|---|---:|---:|");
    println!("| raw sled insert + flush (ceiling) | {raw:.0} | 1.00 |");
    println!(
        "| relay store append (transaction over log, dedup and group row; flush) | {relay:.0} | {:.2} |",
        relay / raw
    );
    println!(
        "| the same, sealed at rest (ids blinded, values XChaCha20-Poly1305 under the store key) | {sealed:.0} | {:.2} |",
        sealed / raw
    );
    println!(
        "| the same in clear, 16 writers at once, each on its own group (flushes shared) | {threaded:.0} | {:.2} |",
        threaded / raw
    );
}

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Opens `count` connections at once, 64 at a time, with `open`.
async fn open_many<T: Send + 'static, F>(count: usize, open: impl Fn() -> F) -> (Vec<T>, Duration)
where
    F: std::future::Future<Output = T> + Send + 'static,
{
    let mut opened = Vec::with_capacity(count);
    let started = Instant::now();
    for batch in (0..count).collect::<Vec<_>>().chunks(64) {
        let tasks: Vec<_> = batch.iter().map(|_| tokio::spawn(open())).collect();
        for task in tasks {
            opened.push(task.await.unwrap());
        }
    }
    (opened, started.elapsed())
}

/// A fresh relay's resident memory before and 3 s after `count` devices connected over
/// `kind` and authenticated, and how long opening them took.
async fn relay_idle(kind: TransportKind, count: usize) -> (u64, u64, Duration) {
    let relay = RelayProcess::start_with_config(BENCH_CONFIG);
    let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
    let first = RelayClient::connect(TransportKind::Quic, relay.address, relay.pin).await.unwrap();
    first.create_account(&relay.invite().token().clone(), &key).await.unwrap();
    drop(first);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = resident_kib(relay.pid());
    let key = Arc::new(key);
    let address = match kind {
        TransportKind::Quic => relay.address,
        TransportKind::Tcp => relay.tcp_address,
    };
    let pin = relay.pin;
    let (clients, opened) = open_many(count, || {
        let key = key.clone();
        async move {
            let client = RelayClient::connect(kind, address, pin).await.unwrap();
            client.authenticate(&key).await.unwrap();
            client
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = resident_kib(relay.pid());
    drop(clients);
    (before, after, opened)
}

/// Benchmark 8: the relay's resident memory with `count` idle authenticated
/// connections, per connection, over QUIC and over TCP+TLS (each on a fresh relay);
/// beside them, a bare quinn server (the echo) holding as many idle connections, each
/// with one stream open and one frame exchanged.
pub(crate) async fn idle_bench(count: usize) {
    let (before, after, opened) = relay_idle(TransportKind::Quic, count).await;
    let (tcp_before, tcp_after, tcp_opened) = relay_idle(TransportKind::Tcp, count).await;

    let (mut echo, address, pin) = spawn_echo(16).await;
    let echo_pid = echo.id().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let echo_before = resident_kib(echo_pid);
    let endpoint = {
        let mut endpoint = quinn::Endpoint::client("0.0.0.0:0".parse().unwrap()).unwrap();
        let crypto =
            quinn::crypto::rustls::QuicClientConfig::try_from(huisclos_transport::tls::client_config(pin)).unwrap();
        endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
        endpoint
    };
    let (echoes, echo_opened) = open_many(count, || {
        let endpoint = endpoint.clone();
        async move {
            let connection =
                endpoint.connect(address, huisclos_transport::tls::RELAY_SERVER_NAME).unwrap().await.unwrap();
            let (mut send, mut recv) = connection.open_bi().await.unwrap();
            write_frame(&mut send, &[0u8; 64], Padding::SizeClasses).await.unwrap();
            read_frame(&mut recv, ReadDeadlines::default()).await.unwrap();
            (connection, send, recv)
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let echo_after = resident_kib(echo_pid);
    drop(echoes);
    let _ = echo.kill().await;

    let per = |before: u64, after: u64| after.saturating_sub(before) as f64 / count as f64;
    println!(
        "idle connections: {count}, opened 64 at a time (relay over QUIC {:.1} s, over TCP+TLS {:.1} s, bare \
         quinn {:.1} s), resident memory (VmRSS) of the server process before and 3 s after. Relay: each \
         connection authenticated as a device, on a fresh relay per transport. Bare quinn: the echo server, \
         each connection with one stream open and one frame exchanged — what QUIC itself holds per connection \
         in the same library",
        opened.as_secs_f64(),
        tcp_opened.as_secs_f64(),
        echo_opened.as_secs_f64()
    );
    println!();
    println!("| server | RSS before | RSS after | per idle connection | target < 16 KiB |");
    println!("|---|---:|---:|---:|---|");
    for (name, before, after) in [("relay, QUIC", before, after), ("relay, TCP+TLS", tcp_before, tcp_after)] {
        let per_connection = per(before, after);
        println!(
            "| {name} | {:.1} MiB | {:.1} MiB | {per_connection:.1} KiB | {} |",
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            if per_connection < 16.0 { "met" } else { "missed" }
        );
    }
    println!(
        "| bare quinn echo (reference) | {:.1} MiB | {:.1} MiB | {:.1} KiB | — |",
        echo_before as f64 / 1024.0,
        echo_after as f64 / 1024.0,
        per(echo_before, echo_after)
    );
}

/// Benchmark 2: from one append to its receipt on every device of a group of
/// `devices` lightweight devices (protocol clients without MLS, each subscribed): the
/// relay pushes `LogAdvanced` to each, and each fetches the new entry. Ceiling: the
/// same number of connections to the bare quinn echo, each making one round trip of
/// the fetch's frame lengths at the same moment.
pub(crate) async fn fanout_bench(sizes: &[usize], payload: usize) {
    use huisclos_protocol::ids::PageLimit;
    use huisclos_protocol::messages::{Event, FetchLog, Subscribe};
    let (request_len, response_len) = frame_lengths(payload);
    let (mut echo, echo_address, echo_pin) = spawn_echo(response_len + payload).await;
    println!(
        "fan-out: a {payload}-byte message appended by one device, until every device of the group has its \
         `LogAdvanced` push and has fetched the entry (lightweight devices: protocol clients over QUIC, no MLS), \
         median of 5 posts; ceiling: as many connections to the bare quinn echo each making one round trip of the \
         same frame lengths, all at once"
    );
    println!();
    println!("| devices | relay: post to last receipt | raw quinn: all round trips | ratio (quinn / relay) |");
    println!("|---:|---:|---:|---:|");
    for &devices in sizes {
        let relay = RelayProcess::start_with_config(BENCH_CONFIG);
        let key = Arc::new(ed25519_dalek::SigningKey::generate(&mut OsRng));
        let poster = RelayClient::connect(TransportKind::Quic, relay.address, relay.pin).await.unwrap();
        poster.create_account(&relay.invite().token().clone(), &key).await.unwrap();
        let (access, verifier) = group_keys();
        poster.request(CreateGroup { group: access.group, verifier, retention: LogRetention::Keep }).await.unwrap();
        let (address, pin) = (relay.address, relay.pin);
        let (readers, _) = open_many(devices, || {
            let (key, access) = (key.clone(), access.clone());
            async move {
                let client = RelayClient::connect(TransportKind::Quic, address, pin).await.unwrap();
                client.authenticate(&key).await.unwrap();
                let groups = huisclos_protocol::codec::BoundedVec::new(vec![access]).unwrap();
                client.request(Subscribe { groups }).await.unwrap();
                Arc::new(client)
            }
        })
        .await;
        let mut relay_times = Vec::new();
        for post in 0..6u64 {
            let start = Instant::now();
            let waits: Vec<_> = readers
                .iter()
                .map(|reader| {
                    let (reader, access) = (reader.clone(), access.clone());
                    tokio::spawn(async move {
                        loop {
                            match reader.next_event(Duration::from_secs(30)).await {
                                Some(Event::LogAdvanced(_)) => break,
                                Some(_) => continue,
                                None => panic!("no push within 30 s"),
                            }
                        }
                        let fetch =
                            FetchLog { access, from: Seq::new(post).unwrap(), limit: PageLimit::new(1).unwrap() };
                        reader.request(fetch).await.unwrap();
                    })
                })
                .collect();
            poster.request(append(access.clone(), post, payload)).await.unwrap();
            for wait in waits {
                wait.await.unwrap();
            }
            // The first post warms every connection up; it is not counted.
            if post > 0 {
                relay_times.push(start.elapsed());
            }
        }
        drop(readers);
        drop(relay);

        let (echoes, _) = open_many(devices, || async move {
            let mut endpoint = quinn::Endpoint::client("0.0.0.0:0".parse().unwrap()).unwrap();
            let crypto =
                quinn::crypto::rustls::QuicClientConfig::try_from(huisclos_transport::tls::client_config(echo_pin))
                    .unwrap();
            endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
            let connection =
                endpoint.connect(echo_address, huisclos_transport::tls::RELAY_SERVER_NAME).unwrap().await.unwrap();
            let (send, recv) = connection.open_bi().await.unwrap();
            Arc::new(tokio::sync::Mutex::new((endpoint, connection, send, recv)))
        })
        .await;
        let mut echo_times = Vec::new();
        for round in 0..6 {
            let start = Instant::now();
            let trips: Vec<_> = echoes
                .iter()
                .map(|echo| {
                    let echo = echo.clone();
                    tokio::spawn(async move {
                        let mut echo = echo.lock().await;
                        let (_, _, send, recv) = &mut *echo;
                        write_frame(send, &vec![0x5a; request_len], Padding::SizeClasses).await.unwrap();
                        read_frame(recv, ReadDeadlines::default()).await.unwrap();
                    })
                })
                .collect();
            for trip in trips {
                trip.await.unwrap();
            }
            if round > 0 {
                echo_times.push(start.elapsed());
            }
        }
        drop(echoes);
        let median = |mut times: Vec<Duration>| {
            times.sort();
            times[times.len() / 2]
        };
        let (relayed, echoed) = (median(relay_times), median(echo_times));
        println!(
            "| {devices} | {:.1} ms | {:.1} ms | {:.2} |",
            relayed.as_secs_f64() * 1000.0,
            echoed.as_secs_f64() * 1000.0,
            echoed.as_secs_f64() / relayed.as_secs_f64()
        );
    }
    let _ = echo.kill().await;
}

/// Appends by `writers` threads, each on a group of its own, `per_writer` each, to the
/// relay's PostgreSQL store at `url`; returns the seconds they took together.
fn postgres_appends(url: &str, writers: usize, per_writer: u64) -> f64 {
    use huisclos_relay::store::RelayStore;
    use huisclos_relay::store::postgres_store::PostgresStore;
    let store = Arc::new(PostgresStore::open(url).unwrap());
    let expires = huisclos_protocol::ids::UnixSeconds::new(4_000_000_000).unwrap();
    let groups: Vec<GroupAccess> = (0..writers)
        .map(|_| {
            let (access, verifier) = group_keys();
            store.create_group(access.group, verifier, LogRetention::Keep).unwrap();
            access
        })
        .collect();
    let start = Instant::now();
    let threads: Vec<_> = groups
        .into_iter()
        .map(|access| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..per_writer {
                    store.append(access.group, Epoch::ZERO, &append(access.clone(), i, 256).message, expires).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    start.elapsed().as_secs_f64()
}

/// `huisclos-bench store-postgres-process URL WRITERS PER_WRITER`: one relay process's
/// share of the two-process row, run as its own OS process; prints its seconds.
pub(crate) fn postgres_store_process(args: &[String]) {
    let writers = args[1].parse().expect("WRITERS");
    let per_writer = args[2].parse().expect("PER_WRITER");
    println!("{}", postgres_appends(&args[0], writers, per_writer));
}

/// Raw inserts of the same bytes, each committed on its own (autocommit), by
/// `connections` connections at once into one table: the ceiling.
fn raw_postgres_inserts(url: &str, connections: usize, per_connection: u64) -> f64 {
    let mut setup = postgres::Client::connect(url, postgres::NoTls).unwrap();
    setup.batch_execute("DROP TABLE IF EXISTS raw_log; CREATE TABLE raw_log (writer int, seq bigint, message bytea, PRIMARY KEY (writer, seq))").unwrap();
    let start = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|writer| {
            let url = url.to_owned();
            std::thread::spawn(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                let insert = client.prepare("INSERT INTO raw_log (writer, seq, message) VALUES ($1, $2, $3)").unwrap();
                let (access, _) = group_keys();
                for i in 0..per_connection {
                    let message = append(access.clone(), i, 256).message;
                    client.execute(&insert, &[&(writer as i32), &(i as i64), &message.as_bytes()]).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    start.elapsed().as_secs_f64()
}

/// Benchmark 5b: durable appends per second in the relay's PostgreSQL store, one and two
/// relay processes on one database, against raw PostgreSQL inserts committed the same
/// way (one commit each) in the same run, and against sled. The server is the one
/// `HUISCLOS_TEST_POSTGRES` names (`scripts/bench-postgres.sh` starts one).
pub(crate) fn postgres_store_bench(count: u64) {
    use huisclos_relay::store::RelayStore;
    use huisclos_relay::store::sled_store::SledStore;
    let server = std::env::var("HUISCLOS_TEST_POSTGRES")
        .expect("HUISCLOS_TEST_POSTGRES names the server (scripts/bench-postgres.sh starts one)");
    let schema = |name: &str| {
        let mut client = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")).unwrap();
        format!("{server} options='-c search_path={name}'")
    };
    let rate = |n: u64, secs: f64| n as f64 / secs;
    // Warm the server up once.
    let warm = schema("bench_warm");
    let _ = raw_postgres_inserts(&warm, 1, 200);

    let raw_one = rate(count, raw_postgres_inserts(&schema("bench_raw1"), 1, count));
    let raw_sixteen = rate(count / 16 * 16, raw_postgres_inserts(&schema("bench_raw16"), 16, count / 16));
    let one = rate(count, postgres_appends(&schema("bench_one"), 1, count));
    let sixteen = rate(count / 16 * 16, postgres_appends(&schema("bench_sixteen"), 16, count / 16));
    // Two relay processes on one database, 8 writers each, started together.
    let shared = schema("bench_two");
    // The schema is made before either process starts.
    drop(huisclos_relay::store::postgres_store::PostgresStore::open(&shared).unwrap());
    let me = std::env::current_exe().unwrap();
    let start = Instant::now();
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&me)
                .args(["store-postgres-process", &shared, "8", &(count / 16).to_string()])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a relay process of the two-process row failed");
    }
    let two = rate(count / 16 * 16, start.elapsed().as_secs_f64());

    // sled in the same run, the same ways.
    let expires = huisclos_protocol::ids::UnixSeconds::new(4_000_000_000).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(&dir.path().join("store")).unwrap());
    let (access, verifier) = group_keys();
    store.create_group(access.group, verifier, LogRetention::Keep).unwrap();
    let start = Instant::now();
    for i in 0..count {
        store.append(access.group, Epoch::ZERO, &append(access.clone(), i, 256).message, expires).unwrap();
    }
    let sled_one = rate(count, start.elapsed().as_secs_f64());
    let start = Instant::now();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                let (access, verifier) = group_keys();
                store.create_group(access.group, verifier, LogRetention::Keep).unwrap();
                for i in 0..count / 16 {
                    store.append(access.group, Epoch::ZERO, &append(access.clone(), i, 256).message, expires).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let sled_sixteen = rate(count / 16 * 16, start.elapsed().as_secs_f64());

    println!(
        "relay store on PostgreSQL 15 (local server, fsync and synchronous_commit on): {count} appends of a 256-byte \
         message, each committed before it returns; by one writer, by 16 writers each on a group of its own, and by \
         two relay processes (two OS processes, 8 writers each) on one database; ceilings: raw PostgreSQL inserts of \
         the same bytes, each committed on its own, by one connection and by 16; and sled, the same ways"
    );
    println!();
    println!("| path | appends/s | ratio to raw PostgreSQL (same concurrency) |");
    println!("|---|---:|---:|");
    println!("| raw PostgreSQL insert, autocommit, 1 connection (ceiling) | {raw_one:.0} | 1.00 |");
    println!("| relay store append on PostgreSQL, 1 writer | {one:.0} | {:.2} |", one / raw_one);
    println!("| sled relay store append, 1 writer | {sled_one:.0} | {:.2} |", sled_one / raw_one);
    println!("| raw PostgreSQL insert, autocommit, 16 connections (ceiling) | {raw_sixteen:.0} | 1.00 |");
    println!(
        "| relay store append on PostgreSQL, 1 process, 16 writers | {sixteen:.0} | {:.2} |",
        sixteen / raw_sixteen
    );
    println!("| relay store append on PostgreSQL, 2 processes × 8 writers | {two:.0} | {:.2} |", two / raw_sixteen);
    println!("| sled relay store append, 16 writers | {sled_sixteen:.0} | {:.2} |", sled_sixteen / raw_sixteen);
}
