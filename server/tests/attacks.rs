//! The relay binary attacked on loopback, from outside and from ordinary accounts.
//!
//! Each test mounts one attack against the real `huisclos-relay` process while an
//! honest member keeps posting and fetching, and measures what an operator would: the
//! relay's resident memory during and after the attack (from `/proc`) and the honest
//! member's round trips. The numbers are printed (run with `--nocapture` to see them)
//! and bounded by assertions.
//!
//! `cargo test -p huisclos-relay --test attacks` runs the quick ones; the slow ones
//! (floods that need many seconds or thousands of connections) are `#[ignore]`d and run
//! with `cargo test -p huisclos-relay --test attacks -- --ignored --nocapture`.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::raw::{HonestProbe, MemorySampler, RawTcp};
use common::*;
use huisclos_protocol::ids::Seq;
use huisclos_protocol::limits::{MAX_CHUNK_LEN, MAX_MLS_MESSAGE_LEN};
use huisclos_protocol::messages::*;
use huisclos_protocol::messages::{LimitKind, RelayError};
use huisclos_transport::client::TransportKind;

/// The default limits, except a larger quota so that the attackers can store what they
/// need.
const ATTACK_CONFIG: &str = r#"
[limits]
quota_bytes = 4000000000
"#;

/// An account with a group holding `entries` log entries of almost a frame each.
struct Hoard {
    device: Device,
    group: GroupKeys,
    entries: u64,
}

async fn hoard(relay: &RelayProcess, entries: u64) -> Hoard {
    let device = Device::register(relay, TransportKind::Quic).await;
    let group = GroupKeys::new();
    device
        .client
        .request(CreateGroup { group: group.group, verifier: group.token.verifier(), retention: LogRetention::Keep })
        .await
        .expect("group created");
    for n in 0..entries {
        let mut message = vec![n as u8; MAX_MLS_MESSAGE_LEN];
        message[..8].copy_from_slice(&n.to_be_bytes());
        device.client.request(AppendMessage { access: group.access(), message: mls(message) }).await.expect("append");
    }
    Hoard { device, group, entries }
}

/// An honest member in a group of their own.
async fn honest_member(relay: &RelayProcess) -> (Arc<huisclos_transport::client::RelayClient>, GroupKeys) {
    let device = Device::register(relay, TransportKind::Quic).await;
    let group = GroupKeys::new();
    device
        .client
        .request(CreateGroup { group: group.group, verifier: group.token.verifier(), retention: LogRetention::Keep })
        .await
        .expect("group created");
    (Arc::new(device.client), group)
}

/// Waits until the relay's resident memory is below `bound` MiB, up to `within`, and
/// returns the last reading.
async fn settle_memory(relay: &RelayProcess, bound: f64, within: Duration) -> f64 {
    let deadline = Instant::now() + within;
    loop {
        let (rss, _) = relay.memory();
        if rss < bound || Instant::now() > deadline {
            return rss;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Attack 1: connections that ask for large answers and never read them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_that_never_read_pin_bounded_memory() -> TestResult {
    const HOSTILE: usize = 16;
    const PIPELINED: u64 = 200;
    let relay = RelayProcess::start_with(ATTACK_CONFIG);
    // Four accounts, four hostile connections each.
    let mut hoards = Vec::new();
    for _ in 0..4 {
        hoards.push(hoard(&relay, 8).await);
    }
    let (honest, honest_group) = honest_member(&relay).await;
    let (before, _) = relay.memory();

    let sampler = MemorySampler::start(relay.pid());
    let probe = HonestProbe::start(honest.clone(), honest_group.clone());
    let mut hostile = Vec::new();
    for n in 0..HOSTILE {
        let hoard = &hoards[n % hoards.len()];
        let mut raw = RawTcp::connect(&relay).await?;
        let authenticated = raw.authenticate(&hoard.device.key).await?;
        assert!(authenticated.is_ok(), "hostile connection {n}: {authenticated:?}");
        for i in 0..PIPELINED {
            raw.send(FetchLog { access: hoard.group.access(), from: Seq::new(i % hoard.entries)?, limit: page(1) })
                .await?;
        }
        hostile.push(raw);
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    let (during, threads) = relay.memory();
    drop(hostile);
    let report = probe.stop().await;
    let (peak, peak_threads) = sampler.stop();
    let after = settle_memory(&relay, before + 16.0, Duration::from_secs(40)).await;
    println!(
        "attack 1, {HOSTILE} connections not reading: memory before {before:.0} MiB, during {during:.0} MiB \
         ({threads} threads), peak {peak:.0} MiB ({peak_threads} threads), after {after:.0} MiB; honest round \
         trips median {:?}, worst {:?}, {} failures",
        report.median(),
        report.worst(),
        report.failures.len()
    );
    assert!(report.failures.is_empty(), "the honest member was refused: {:?}", report.failures);
    assert!(report.worst() < Duration::from_secs(2), "honest round trips stayed short: {:?}", report.worst());
    // On PostgreSQL each read of an entry of almost a frame passes through a pooled
    // connection's read buffer (16 connections at most, each growing to about 2 MiB) and
    // is copied out of it, where sled hands out its cached bytes; the buffers stay until
    // the connections close, idle, after 10 s. Peaks seen on PostgreSQL: 185 to 230 MiB
    // alone or beside the rest of this file's tests, 284 in a CI run with the machine
    // loaded (22 threads); on sled, 209 to 221. After the attack: 60 to 96 MiB from 44
    // to 48 on PostgreSQL.
    let ceiling = if on_postgres() { 320.0 } else { 256.0 };
    assert!(peak < ceiling, "the relay's memory stayed under {ceiling} MiB (peak {peak:.0} MiB)");
    let allowed = if on_postgres() { 48.0 + 16.0 * 2.0 } else { 48.0 };
    assert!(after < before + allowed, "memory came back after the attack ({before:.0} → {after:.0} MiB)");
    Ok(())
}

/// Attack 1, second part: one account opening connection after connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_account_cannot_open_hundreds_of_connections() -> TestResult {
    const ATTEMPTS: usize = 300;
    let relay = RelayProcess::start_with(ATTACK_CONFIG);
    let mallory = Device::register(&relay, TransportKind::Quic).await;
    let (honest, honest_group) = honest_member(&relay).await;
    let (before, _) = relay.memory();
    let sampler = MemorySampler::start(relay.pid());
    let probe = HonestProbe::start(honest.clone(), honest_group.clone());
    let started = Instant::now();
    let (mut admitted, mut refused, mut other) = (Vec::new(), 0, Vec::new());
    for _ in 0..ATTEMPTS {
        let mut raw = RawTcp::connect(&relay).await?;
        match raw.authenticate(&mallory.key).await? {
            Ok(_) => admitted.push(raw),
            Err(RelayError::LimitExceeded { limit: LimitKind::Connections }) => {
                refused += 1;
                if refused <= 3 {
                    assert!(raw.closed_within(Duration::from_secs(2)).await, "a refused connection is closed");
                }
            }
            Err(error) => other.push(error),
        }
    }
    let elapsed = started.elapsed();
    let report = probe.stop().await;
    let (peak, threads) = sampler.stop();
    println!(
        "attack 1b, {ATTEMPTS} connections of one account in {elapsed:?}: {} admitted, {refused} refused \
         (LimitExceeded{{Connections}}), other {other:?}; memory before {before:.0} MiB, peak {peak:.0} MiB \
         ({threads} threads); honest worst {:?}",
        admitted.len(),
        report.worst()
    );
    // Mallory's own first connection counts too.
    assert_eq!(admitted.len(), 31, "32 connections per account, the first one included");
    assert_eq!(refused, ATTEMPTS - 31);
    assert!(other.is_empty());
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    // Closing connections gives the account its places back.
    drop(admitted);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut again = RawTcp::connect(&relay).await?;
    assert!(again.authenticate(&mallory.key).await?.is_ok(), "admitted again once its connections closed");
    Ok(())
}

/// Attack 4: peers that never authenticate, from many addresses, each starting the
/// largest frame it may and never finishing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unauthenticated_peers_are_kept_small() -> TestResult {
    let relay = RelayProcess::start_with(ATTACK_CONFIG);

    // A frame above the unauthenticated limit is refused before its body is read.
    let mut raw = RawTcp::connect(&relay).await?;
    let mut header = vec![1u8];
    header.extend_from_slice(&((1u32 << 20) - 9).to_be_bytes());
    header.extend_from_slice(&16u32.to_be_bytes());
    raw.send_bytes(&header).await?;
    raw.send_bytes(&[0u8; 4096]).await?;
    assert!(raw.closed_within(Duration::from_secs(5)).await, "a 1 MiB frame before authentication ends the connection");

    // QUIC: one stream until the peer authenticates, then the configured sixteen.
    let (_endpoint, quic) = common::raw::quic_from(&relay, std::net::Ipv4Addr::LOCALHOST).await?;
    let (mut first_send, _first_recv) = quic.open_bi().await?;
    first_send.write_all(&[0]).await?; // a stream exists for the relay once it carries data
    let second = tokio::time::timeout(Duration::from_secs(1), quic.open_bi()).await;
    assert!(second.is_err(), "a second stream waits until the peer authenticates");
    drop(quic);

    // One address may have 32 connections waiting to authenticate, no more.
    let one_address = common::raw::loopback(200);
    let mut waiting = Vec::new();
    let mut refused_here = 0;
    for _ in 0..40 {
        // Refused: dropped before or just after the handshake.
        let Ok(mut raw) = RawTcp::connect_from(&relay, one_address).await else {
            refused_here += 1;
            continue;
        };
        if raw.closed_within(Duration::from_millis(100)).await {
            refused_here += 1;
        } else {
            waiting.push(raw);
        }
    }
    assert_eq!((waiting.len(), refused_here), (32, 8), "unauthenticated_per_address = 32");
    drop(waiting);

    // Many peers, from 64 addresses at once: each starts a frame of almost 4 KiB and
    // stalls. Three waves: memory must not grow from one to the next, and every
    // connection must be gone once the relay has closed them.
    drop(relay);
    let relay = Arc::new(RelayProcess::start_with(&format!("{ATTACK_CONFIG}unauthenticated_secs = 6\n")));
    let (honest, honest_group) = honest_member(&relay).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (before, _) = relay.memory();
    let mut after_waves = Vec::new();
    for wave in 1..=3 {
        let sampler = MemorySampler::start(relay.pid());
        let probe = HonestProbe::start(honest.clone(), honest_group.clone());
        let (tcp_open, quic_open, stalled) = stall_from_many_addresses(&relay).await;
        let (during, threads) = relay.memory();
        let open_during = metric(&metrics(&relay).await?, "huisclos_connections_unauthenticated");
        let report = probe.stop().await;
        let (peak, _) = sampler.stop();
        drop(stalled);
        // The relay closes them at the unauthenticated deadline (6 s here).
        tokio::time::sleep(Duration::from_secs(9)).await;
        let text = metrics(&relay).await?;
        let (unauthenticated, open) =
            (metric(&text, "huisclos_connections_unauthenticated"), metric(&text, "huisclos_connections_open"));
        let (after, _) = relay.memory();
        println!(
            "attack 4, wave {wave}: stalled unauthenticated peers from 64 addresses: TCP {tcp_open} of 768 and QUIC \
             {quic_open} of 256 admitted ({open_during} waiting at once), the rest refused; memory before \
             {before:.0} MiB, during {during:.0} MiB ({threads} threads), peak {peak:.0} MiB, after {after:.0} MiB; \
             connections open after: {open} ({unauthenticated} unauthenticated); honest median {:?} worst {:?}, {} \
             failures",
            report.median(),
            report.worst(),
            report.failures.len()
        );
        assert!(open_during <= 512, "at most max_unauthenticated (512) wait at once");
        assert!(tcp_open + quic_open >= 400, "the relay took connections up to its limit");
        assert!(tcp_open + quic_open < 1024, "and refused the rest");
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert!(peak < before + 64.0, "stalled peers pinned little ({before:.0} → {peak:.0} MiB)");
        assert_eq!((open, unauthenticated), (1, 0), "every stalled connection is gone; the honest one stays");
        after_waves.push(after);
    }
    // On PostgreSQL the store's pool opens connections as the honest member's requests
    // need them and closes them after 10 s idle, each with a runtime and buffers of its
    // own: between waves it may hold a few more (seen: 54.5, 62.8, 64.0 MiB after the
    // three waves in one run; the same test had passed within 4 MiB in earlier runs).
    let growth = if on_postgres() { 16.0 } else { 4.0 };
    assert!(
        after_waves[2] <= after_waves[0] + growth,
        "memory does not grow from wave to wave ({after_waves:?} MiB): nothing is kept of closed connections"
    );
    Ok(())
}

/// From 64 loopback addresses at once, 4 QUIC and 12 TCP connections each, that send
/// all of a 4 KiB frame but its last bytes and stall. Returns how many of each the relay
/// admitted, and the connections (to be dropped by the caller).
async fn stall_from_many_addresses(relay: &Arc<RelayProcess>) -> (usize, usize, Vec<Box<dyn std::any::Any + Send>>) {
    let mut stall = vec![1u8];
    stall.extend_from_slice(&(4096u32 - 9).to_be_bytes());
    stall.extend_from_slice(&4000u32.to_be_bytes());
    stall.extend_from_slice(&[0u8; 4000]);
    let stall = Arc::new(stall);
    let mut peers = Vec::new();
    for address in 0..64 {
        let (relay, stall) = (relay.clone(), stall.clone());
        peers.push(tokio::spawn(async move {
            let local = common::raw::loopback(address);
            let mut kept: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
            let (mut tcp_open, mut quic_open) = (0usize, 0usize);
            for _ in 0..4 {
                let connected = async {
                    let (endpoint, connection) = common::raw::quic_from(&relay, local).await?;
                    let (mut send, recv) = connection.open_bi().await?;
                    send.write_all(&stall).await?;
                    Ok::<_, common::raw::BoxError>((endpoint, connection, send, recv))
                };
                if let Ok(Ok(quic)) = tokio::time::timeout(Duration::from_secs(3), connected).await {
                    quic_open += 1;
                    kept.push(Box::new(quic));
                }
            }
            for _ in 0..12 {
                let connected = async {
                    let mut raw = RawTcp::connect_from(&relay, local).await?;
                    raw.send_bytes(&stall).await?;
                    // Refused connections are closed at once; admitted ones stay open.
                    if raw.closed_within(Duration::from_millis(100)).await {
                        return Err("closed".into());
                    }
                    Ok::<_, common::raw::BoxError>(raw)
                };
                if let Ok(Ok(raw)) = tokio::time::timeout(Duration::from_secs(3), connected).await {
                    tcp_open += 1;
                    kept.push(Box::new(raw));
                }
            }
            (tcp_open, quic_open, kept)
        }));
    }
    let (mut tcp_open, mut quic_open, mut stalled) = (0, 0, Vec::new());
    for peer in peers {
        if let Ok((tcp, quic, kept)) = peer.await {
            tcp_open += tcp;
            quic_open += quic;
            stalled.extend(kept);
        }
    }
    (tcp_open, quic_open, stalled)
}

/// Reads the relay's metrics page.
async fn metrics(relay: &RelayProcess) -> Result<String, common::raw::BoxError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(relay.metrics.ok_or("metrics enabled")?).await?;
    socket.write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n").await?;
    let mut text = String::new();
    socket.read_to_string(&mut text).await?;
    Ok(text)
}

/// One counter or gauge of the metrics page.
fn metric(text: &str, name: &str) -> u64 {
    text.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0)
}

/// Attack 4, QUIC: thousands of Initial packets whose handshakes are never finished,
/// from 64 addresses. Each is a real client Initial (made by quinn-proto), sent once;
/// nothing the relay answers is ever read.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn abandoned_quic_handshakes_keep_no_state() -> TestResult {
    const INITIALS: usize = 4000;
    let relay = RelayProcess::start_with(ATTACK_CONFIG);
    let (honest, honest_group) = honest_member(&relay).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (before, _) = relay.memory();
    let sampler = MemorySampler::start(relay.pid());
    let probe = HonestProbe::start(honest.clone(), honest_group.clone());

    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(huisclos_transport::tls::client_config(relay.pin))?;
    let client_config = quinn_proto::ClientConfig::new(Arc::new(crypto));
    let mut endpoint = quinn_proto::Endpoint::new(Arc::new(quinn_proto::EndpointConfig::default()), None, false, None);
    let mut sockets = Vec::new();
    for n in 0..64 {
        sockets.push(tokio::net::UdpSocket::bind((common::raw::loopback(n), 0)).await?);
    }
    let started = Instant::now();
    let mut sent = 0;
    let mut connections = Vec::new();
    for n in 0..INITIALS {
        let now = std::time::Instant::now();
        let (_, mut connection) =
            endpoint.connect(now, client_config.clone(), relay.address, huisclos_transport::tls::RELAY_SERVER_NAME)?;
        let mut buffer = Vec::new();
        if let Some(transmit) = connection.poll_transmit(now, 1, &mut buffer) {
            sockets[n % sockets.len()].send_to(&buffer[..transmit.size], relay.address).await?;
            sent += 1;
        }
        // Kept so that connection ids are not reused; never driven again.
        connections.push(connection);
        if n % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let flood = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (during, threads) = relay.memory();
    // A new honest connection still gets through (proving its address if asked to).
    let newcomer = relay.connect(TransportKind::Quic).await;
    let pong = newcomer.request(Ping {}).await;
    let report = probe.stop().await;
    let (peak, _) = sampler.stop();
    let text = metrics(&relay).await?;
    let retries = metric(&text, "huisclos_quic_retries_total");
    let refused = metric(&text, "huisclos_connections_refused_total{limit=\"unauthenticated\"}");
    // Handshakes the relay started time out after 10 s; their state goes with them.
    let after = settle_memory(&relay, before + 4.0, Duration::from_secs(20)).await;
    println!(
        "attack 4, {sent} QUIC Initials in {flood:?} from 64 addresses, never completed: {retries} answered by \
         Retry, {refused} refused; memory before {before:.0} MiB, during {during:.0} MiB ({threads} threads), peak \
         {peak:.0} MiB, after {after:.0} MiB; a new honest connection: {pong:?}; honest median {:?} worst {:?}",
        report.median(),
        report.worst()
    );
    assert!(matches!(pong, Ok(ResponseBody::Pong(_))), "a new client still connects");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(retries > 0, "under load, unvalidated clients are sent a Retry");
    assert!(peak < before + 64.0, "abandoned handshakes pinned little ({before:.0} → {peak:.0} MiB)");
    // What stays is the honest member's own traffic (its appends fill the store's cache),
    // not the handshakes: a few MiB at most.
    assert!(after < before + 16.0, "and nothing stays ({before:.0} → {after:.0} MiB)");
    Ok(())
}

/// Attack 5: what an account stores outside its quota, and requests that do many
/// requests' work.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_stored_byte_is_charged_and_heavy_requests_weigh_more() -> TestResult {
    let relay = RelayProcess::start_with(ATTACK_CONFIG);
    let mallory = Device::register(&relay, TransportKind::Quic).await;
    assert_eq!(usage(&mallory.client).await, 0);
    let mut groups = Vec::new();
    for _ in 0..50 {
        let keys = GroupKeys::new();
        mallory
            .client
            .request(CreateGroup { group: keys.group, verifier: keys.token.verifier(), retention: LogRetention::Keep })
            .await?;
        groups.push(keys);
    }
    let after_groups = usage(&mallory.client).await;
    println!("attack 5: 50 groups created: usage {after_groups} bytes");
    assert_eq!(after_groups, 50 * 1024, "each group is charged (GROUP_COST)");
    // A resend of a creation whose answer was lost is not charged twice, and another
    // creator's verifier for a taken id is refused.
    let again = &groups[0];
    mallory
        .client
        .request(CreateGroup { group: again.group, verifier: again.token.verifier(), retention: LogRetention::Keep })
        .await?;
    let other = GroupKeys { group: again.group, ..GroupKeys::new() };
    let taken = mallory
        .client
        .request(CreateGroup { group: other.group, verifier: other.token.verifier(), retention: LogRetention::Keep })
        .await;
    assert!(matches!(taken, Err(huisclos_transport::TransportError::Relay(RelayError::Conflict))), "{taken:?}");
    assert_eq!(usage(&mallory.client).await, 50 * 1024);
    let next = groups[1].next();
    mallory
        .client
        .request(SubmitCommit {
            access: groups[1].access(),
            commit: mls(vec![1; 1000]),
            next_verifier: next.token.verifier(),
        })
        .await?;
    assert_eq!(usage(&mallory.client).await, 50 * 1024 + 1000 + 128, "a commit pays for its next epoch's records");

    // A Subscribe naming 1024 groups weighs 128 requests: two in a row exceed the burst.
    let many: Vec<GroupAccess> = (0..1024).map(|_| GroupKeys::new().access()).collect();
    let started = Instant::now();
    let first = mallory.client.request(Subscribe { groups: list(many.clone()) }).await;
    let first_took = started.elapsed();
    let second = mallory.client.request(Subscribe { groups: list(many) }).await;
    println!("attack 5: a Subscribe to 1024 groups took {first_took:?}; the next one: {second:?}");
    assert!(first.is_ok());
    assert!(
        matches!(second, Err(huisclos_transport::TransportError::Relay(RelayError::RateLimited { .. }))),
        "{second:?}"
    );
    Ok(())
}

/// Attack 7b: an account fills its quota on purpose. It must be told so at once, and
/// nobody else's storing may wait on it. (Before this test, the relay kept its quota
/// books locked while it read the full account's usage, which takes the same lock: the
/// refusal never came, and every account's next reservation, usage reading and the
/// shutdown waited for ever.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_over_its_quota_is_refused_at_once_and_blocks_nobody() -> TestResult {
    const SMALL_QUOTA: &str = "[limits]\nquota_bytes = 3000000\n";
    let mut relay = RelayProcess::start_with(SMALL_QUOTA);
    let mallory = Device::register(&relay, TransportKind::Quic).await;
    let alice = Device::register(&relay, TransportKind::Tcp).await;
    let keys = GroupKeys::new();
    mallory
        .client
        .request(CreateGroup { group: keys.group, verifier: keys.token.verifier(), retention: LogRetention::Keep })
        .await?;
    let within = Duration::from_secs(10);
    let mut refused_at = None;
    for n in 0..8u64 {
        let chunk = PutChunk {
            access: keys.access(),
            chunk: huisclos_protocol::ids::ChunkRef::from_bytes(random()),
            total_len: huisclos_protocol::ids::ChunkOffset::new(MAX_CHUNK_LEN as u32)?,
            offset: huisclos_protocol::ids::ChunkOffset::ZERO,
            data: ChunkPiece::new(vec![])?,
        };
        let answer = tokio::time::timeout(within, mallory.client.request(chunk)).await;
        let Ok(answer) = answer else { panic!("no answer within {within:?} to chunk {n}: the quota books are stuck") };
        if let Err(huisclos_transport::TransportError::Relay(RelayError::QuotaExceeded { used, quota })) = answer {
            assert_eq!(quota.get(), 3_000_000);
            assert!(used.get() <= quota.get());
            refused_at = Some(n);
            break;
        }
        answer?;
    }
    let refused_at = refused_at.expect("a 3 MB quota is reached within 8 chunks of 1 MiB");
    println!("attack 7b: refused at chunk {refused_at}, promptly");
    // Others go on: Alice stores, and both read their usage.
    let theirs = GroupKeys::new();
    let stored = tokio::time::timeout(
        within,
        alice.client.request(CreateGroup {
            group: theirs.group,
            verifier: theirs.token.verifier(),
            retention: LogRetention::Keep,
        }),
    )
    .await;
    assert!(matches!(stored, Ok(Ok(_))), "another account stores: {stored:?}");
    assert!(tokio::time::timeout(within, alice.client.request(GetUsage {})).await.is_ok_and(|usage| usage.is_ok()));
    assert!(tokio::time::timeout(within, mallory.client.request(GetUsage {})).await.is_ok_and(|usage| usage.is_ok()));
    assert!(relay.terminate(), "and the relay still stops cleanly, giving back unspent credit");
    Ok(())
}

/// Attack 7: quota across restarts, usage right after creation, and claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarts_forfeit_no_quota_and_usage_is_exact() -> TestResult {
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join("relay");
    let mut relay = RelayProcess::start_in_with(&dir, ATTACK_CONFIG);
    // Usage right after an account is opened: nothing, every time.
    let mut readings = Vec::new();
    for _ in 0..12 {
        let device = Device::register(&relay, TransportKind::Tcp).await;
        readings.push(usage(&device.client).await);
    }
    assert!(readings.iter().all(|&u| u == 0), "usage after account creation: {readings:?}");
    let alice = Device::register(&relay, TransportKind::Tcp).await;
    let keys = GroupKeys::new();
    alice
        .client
        .request(CreateGroup { group: keys.group, verifier: keys.token.verifier(), retention: LogRetention::Keep })
        .await?;
    alice.client.request(AppendMessage { access: keys.access(), message: mls(vec![7; 5000]) }).await?;
    let used = usage(&alice.client).await;
    assert_eq!(used, 1024 + 5000);
    for restart in 1..=3 {
        assert!(relay.terminate());
        relay = RelayProcess::start_in_with(&dir, ATTACK_CONFIG);
        let client = relay.connect(TransportKind::Tcp).await;
        client.authenticate(&alice.key).await?;
        let after = usage(&client).await;
        println!("restart {restart}: usage {after} bytes (before the restarts: {used})");
        assert_eq!(after, used, "a restart forfeits nothing");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_authentication_takes_the_same_time_known_device_or_not() -> TestResult {
    let relay = RelayProcess::start_with(ATTACK_CONFIG);
    let known = Device::register(&relay, TransportKind::Tcp).await;
    let stranger = signing_key();
    let mut raw = RawTcp::connect(&relay).await?;
    let mut timings = [Vec::new(), Vec::new()];
    for round in 0..20 {
        for (which, device) in
            [known.id, huisclos_protocol::auth::DevicePublicKey::from_signing_key(&stranger).device_id()]
                .into_iter()
                .enumerate()
        {
            let Ok(ResponseBody::Challenge(challenge)) = raw.call(GetChallenge {}).await? else { panic!("challenge") };
            // Signed by the wrong key: refused either way.
            let signature = huisclos_protocol::auth::sign_device_auth(
                &stranger,
                &huisclos_protocol::auth::TlsExporter::from_bytes([round as u8; 32]),
                &challenge.nonce,
                huisclos_protocol::auth::AuthPurpose::Authenticate,
            );
            let started = Instant::now();
            let answer = raw.call(Authenticate { device, signature }).await?;
            timings[which].push(started.elapsed());
            assert!(matches!(answer, Err(RelayError::AuthFailed)), "{answer:?}");
        }
    }
    let median = |t: &mut Vec<Duration>| {
        t.sort();
        t[t.len() / 2]
    };
    let (known_median, unknown_median) = (median(&mut timings[0]), median(&mut timings[1]));
    println!(
        "attack 7: refused authentication, median {known_median:?} for a known device, {unknown_median:?} for an unknown one"
    );
    assert!(known_median >= Duration::from_millis(100) && unknown_median >= Duration::from_millis(100));
    let gap = known_median.abs_diff(unknown_median);
    assert!(gap < Duration::from_millis(15), "timing tells nothing: {gap:?}");

    // The same without a challenge (`SignIn`).
    let mut timings = [Vec::new(), Vec::new()];
    for round in 0..20 {
        for (which, device) in
            [known.id, huisclos_protocol::auth::DevicePublicKey::from_signing_key(&stranger).device_id()]
                .into_iter()
                .enumerate()
        {
            let signature = huisclos_protocol::auth::sign_device_auth(
                &stranger,
                &huisclos_protocol::auth::TlsExporter::from_bytes([round as u8; 32]),
                &huisclos_protocol::auth::ChallengeNonce::NONE,
                huisclos_protocol::auth::AuthPurpose::SignIn,
            );
            let started = Instant::now();
            let answer = raw.call(SignIn { device, signature }).await?;
            timings[which].push(started.elapsed());
            assert!(matches!(answer, Err(RelayError::AuthFailed)), "{answer:?}");
        }
    }
    let (known_median, unknown_median) = (median(&mut timings[0]), median(&mut timings[1]));
    println!(
        "attack 7: refused sign-in, median {known_median:?} for a known device, {unknown_median:?} for an unknown one"
    );
    assert!(known_median >= Duration::from_millis(100) && unknown_median >= Duration::from_millis(100));
    let gap = known_median.abs_diff(unknown_median);
    assert!(gap < Duration::from_millis(15), "timing tells nothing: {gap:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_account_cannot_drain_a_devices_key_packages() -> TestResult {
    let relay = RelayProcess::start_with(ATTACK_CONFIG);
    let bob = Device::register(&relay, TransportKind::Tcp).await;
    let sealed = |n: u8| KeyPackageBytes::new([&[SEALED_KEY_PACKAGE_TAG][..], &[n; 199]].concat()).unwrap();
    let packages: Vec<KeyPackageBytes> = (0..100).map(|n| sealed(n as u8)).collect();
    bob.client.request(UploadKeyPackages { one_time: list(packages), last_resort: Some(sealed(9)) }).await?;
    let mallory = Device::register(&relay, TransportKind::Tcp).await;
    let twice = mallory.client.request(ClaimKeyPackages { devices: list(vec![bob.id, bob.id]) }).await;
    assert!(
        matches!(twice, Err(huisclos_transport::TransportError::Relay(RelayError::BadRequest))),
        "a device named twice in one claim: {twice:?}"
    );
    let mut claimed = 0;
    let mut limited = false;
    for _ in 0..40 {
        match mallory.client.request(ClaimKeyPackages { devices: list(vec![bob.id]) }).await {
            Ok(_) => claimed += 1,
            Err(huisclos_transport::TransportError::Relay(RelayError::RateLimited { .. })) => {
                limited = true;
                break;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    let ResponseBody::KeyPackageStatus(status) = bob.client.request(GetKeyPackageStatus {}).await? else {
        panic!("status")
    };
    println!(
        "attack 7: one account claimed {claimed} of Bob's packages before being limited; {} left",
        status.one_time_left
    );
    assert!(limited && claimed <= 20, "claims of one device by one account are limited ({claimed})");
    assert!(status.one_time_left >= 80);
    Ok(())
}

/// Attack 3: a stranger who learned a device's id fills its inbox, so that a real
/// invitation cannot be delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stranger_cannot_fill_an_inbox() -> TestResult {
    let relay = RelayProcess::start_with(ATTACK_CONFIG);
    let bob = Device::register(&relay, TransportKind::Quic).await;
    let stranger = Device::register(&relay, TransportKind::Quic).await;
    let started = Instant::now();
    let (mut accepted, mut refused) = (0, 0);
    for n in 0..256 {
        let junk = WelcomeBytes::new(vec![n as u8; 100])?;
        let deposit = DepositWelcome { recipients: list(vec![bob.id]), welcome: junk };
        match deposit_after_any_wait(&stranger.client, deposit).await {
            Ok(_) => accepted += 1,
            Err(huisclos_transport::TransportError::Relay(RelayError::LimitExceeded {
                limit: LimitKind::WelcomeInbox,
            })) => refused += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    let alice = Device::register(&relay, TransportKind::Quic).await;
    let real = WelcomeBytes::new(b"a real invitation".to_vec())?;
    let delivered =
        alice.client.request(DepositWelcome { recipients: list(vec![bob.id]), welcome: real.clone() }).await;
    println!(
        "attack 3: a stranger's 256 deposits into Bob's inbox in {:?}: {accepted} taken, {refused} refused; Alice's \
         invitation: {delivered:?}",
        started.elapsed()
    );
    assert_eq!(accepted, 32, "one account holds at most welcomes_per_sender places");
    assert!(delivered.is_ok(), "a real invitation still gets in");
    // Once Bob has read (and acknowledged) his inbox, the stranger's places are free
    // again: the bound is on what waits, not on what was ever sent.
    let ResponseBody::Welcomes(inbox) = bob.client.request(FetchWelcomes { after: None, limit: page(64) }).await?
    else {
        panic!("welcomes")
    };
    assert!(inbox.entries.iter().any(|item| item.welcome == real));
    let last = inbox.entries.last().map(|item| item.position).expect("items");
    bob.client.request(AckWelcomes { up_to: last }).await?;
    // The stranger's rate limit is its own bound: waited out, as above.
    let again = deposit_after_any_wait(
        &stranger.client,
        DepositWelcome { recipients: list(vec![bob.id]), welcome: WelcomeBytes::new(vec![1; 10])? },
    )
    .await;
    assert!(again.is_ok(), "{again:?}");
    Ok(())
}

/// Deposits a welcome, waiting as often as the relay says it is rate-limited.
async fn deposit_after_any_wait(
    client: &huisclos_transport::client::RelayClient,
    deposit: DepositWelcome,
) -> Result<ResponseBody, huisclos_transport::TransportError> {
    loop {
        match client.request(deposit.clone()).await {
            Err(huisclos_transport::TransportError::Relay(RelayError::RateLimited { retry_after_ms })) => {
                tokio::time::sleep(Duration::from_millis(u64::from(retry_after_ms) + 1)).await;
            }
            other => return other,
        }
    }
}
