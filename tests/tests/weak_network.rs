//! A lawyer on a poor 2G link: Bob reaches the real relay binary only through the
//! emulated link of [`huisclos_tests::netem`] (64 kbit/s each way, 800 ms round trip,
//! 5 % loss, seeded), Alice directly. A post and a comment still arrive — over QUIC,
//! across a change of network in the middle of a sync, and over TCP+TLS when UDP is
//! blocked. Each test prints the time Bob's side took against the raw byte time of what
//! crossed the link (`cargo test -p huisclos-tests --test weak_network -- --nocapture`).
//! A 2 MiB file over the same link, across a network change and with UDP blocked, takes
//! over four minutes each, so those two tests are kept out of the test command: run them
//! with `-- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use huisclos_core::engine::ClientEvent;
use huisclos_protocol::ids::GroupId;
use huisclos_tests::netem::{Link, LinkConfig};
use huisclos_tests::process::{Person, RelayProcess, settle, shared_space, shared_space_named};
use huisclos_transport::client::TransportKind;

/// A QUIC handshake over the 2G link resends nothing for nothing. Its first flight is
/// answered after about 1.1 s (800 ms round trip, and 150 ms to send each of the
/// handshake's packets); with RFC 9002's first round-trip estimate (333 ms) the
/// client's first retransmission timer fired at 1 s on every connection, resent the
/// flight, and left a backoff that made a lost handshake completion cost over 10 s
/// (the cold start's slow seeds). With `QUIC_INITIAL_RTT` the client sends the same
/// handshake frames as over loopback, where no timer can fire first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quic_handshake_over_2g_resends_nothing_for_nothing() {
    use huisclos_transport::client::RelayClient;
    let relay = RelayProcess::start();
    let lossless = LinkConfig { loss: 0.0, ..LinkConfig::poor_2g(1) };
    let link = Link::start(relay.address, relay.tcp_address, lossless).await;
    let direct = RelayClient::connect(TransportKind::Quic, relay.address, relay.pin).await.unwrap();
    let slow = RelayClient::connect(TransportKind::Quic, link.address(), relay.pin).await.unwrap();
    let sent = |client: &RelayClient| client.quic_stats().unwrap().frame_tx.crypto;
    assert!(sent(&direct) > 0);
    assert_eq!(sent(&slow), sent(&direct), "handshake frames sent over 2G, and over loopback");
    direct.abort();
    slow.abort();
}

/// Alice (direct) and Bob (through `link`) in a confidential space.
async fn alice_and_bob(relay: &RelayProcess, link: &Link) -> (Person, Person, GroupId) {
    let mut alice = Person::join(relay, "Alice").await;
    let mut bob = Person::join_via(relay, "Bob", vec![link.address()]).await;
    let space = shared_space(&mut alice, &mut bob).await;
    (alice, bob, space)
}

/// A post from Alice read by Bob, and Bob's comment read by Alice; returns the time
/// Bob's two syncs took and the bytes the link carried meanwhile.
async fn post_and_comment(alice: &mut Person, bob: &mut Person, space: &GroupId, link: &Link) -> (Duration, u64) {
    let post = alice.engine.post(space, "The hearing moved to Thursday").unwrap();
    alice.sync().await;
    let (start, bytes) = (Instant::now(), link.bytes());
    bob.sync().await;
    assert!(bob.texts(space).contains(&("Alice".into(), "The hearing moved to Thursday".into())));
    bob.engine.comment(space, &post, "I will bring the file").unwrap();
    bob.sync().await;
    let taken = (start.elapsed(), link.bytes() - bytes);
    alice.sync().await;
    assert!(alice.texts(space).contains(&("Bob".into(), "I will bring the file".into())));
    taken
}

/// Bob, watching with the app open, is pushed Alice's new post whole (messages.md 8.3):
/// he shows it without reading the log or the content store. Returns the time from
/// Alice handing the post to her engine to Bob's showing it, the bytes the link carried
/// meanwhile, and the requests Bob sent meanwhile (each one round trip).
async fn pushed_post(
    alice: &mut Person,
    bob: &mut Person,
    space: &GroupId,
    link: &Link,
) -> (Duration, u64, std::collections::BTreeMap<&'static str, u64>) {
    // Quiet first: nothing of earlier work still in flight.
    for _ in 0..3 {
        bob.watch(Duration::from_millis(300)).await;
    }
    let (sent, bytes) = (bob.engine.requests_sent(), link.bytes());
    let text = "Released on bail at 16:40";
    let start = Instant::now();
    alice.engine.post(space, text).unwrap();
    alice.sync().await;
    let deadline = start + Duration::from_secs(30);
    while !bob.texts(space).iter().any(|(_, t)| t == text) && Instant::now() < deadline {
        bob.watch(Duration::from_millis(50)).await;
    }
    let taken = start.elapsed();
    assert!(bob.texts(space).iter().any(|(_, t)| t == text), "the post reached Bob");
    let mut asked = bob.engine.requests_sent();
    for (kind, before) in sent {
        if let Some(count) = asked.get_mut(kind) {
            *count -= before;
        }
    }
    asked.retain(|_, count| *count > 0);
    (taken, link.bytes() - bytes, asked)
}

/// Bob, behind the link with the app open (the connection up), writes a post and then
/// a comment on it. Each is sent at once and acknowledged by the relay's answer to its
/// one request. Returns, for each, the time from handing it to the engine to the
/// engine reporting it delivered, the bytes the link carried meanwhile, and the
/// requests Bob sent meanwhile.
async fn acknowledged(
    bob: &mut Person,
    space: &GroupId,
    link: &Link,
) -> Vec<(Duration, u64, std::collections::BTreeMap<&'static str, u64>)> {
    for _ in 0..3 {
        bob.watch(Duration::from_millis(300)).await;
    }
    let mut measured = Vec::new();
    let mut post = None;
    for text in ["Bob: the court wants the file by Friday", "Bob: I will bring it"] {
        let (sent, trips, bytes, start) =
            (bob.engine.requests_sent(), bob.engine.round_trips(), link.bytes(), Instant::now());
        let id = match post {
            None => bob.engine.post(space, text).unwrap(),
            Some(parent) => bob.engine.comment(space, &parent, text).unwrap(),
        };
        post.get_or_insert(id);
        let delivered = |bob: &Person| bob.events.iter().any(|e| matches!(e, ClientEvent::Delivered(d) if *d == id));
        let deadline = start + Duration::from_secs(30);
        while !delivered(bob) && Instant::now() < deadline {
            bob.watch(Duration::from_millis(20)).await;
        }
        let taken = start.elapsed();
        assert!(delivered(bob), "{text:?} acknowledged");
        let mut asked = bob.engine.requests_sent();
        for (kind, before) in sent {
            if let Some(count) = asked.get_mut(kind) {
                *count -= before;
            }
        }
        asked.retain(|_, count| *count > 0);
        assert_eq!(bob.engine.round_trips() - trips, 1, "{text:?} acknowledged in one round trip: {asked:?}");
        measured.push((taken, link.bytes() - bytes, asked));
    }
    measured
}

/// Prints the acknowledgements' times against the bound (one round trip, the
/// raw byte time, half a second) and checks that each took one request.
fn report_acknowledged(what: &str, link: &Link, measured: Vec<(Duration, u64, std::collections::BTreeMap<&str, u64>)>) {
    for ((taken, bytes, asked), item) in measured.into_iter().zip(["post", "comment"]) {
        let raw = link.config().raw_byte_time(bytes);
        let bound = 2 * link.config().one_way_delay + raw + Duration::from_millis(500);
        eprintln!(
            "{what}: a {item} from the 2G device acknowledged in {:.2} s ({bytes} bytes; bound: round trip + byte time \
             + 0.5 s = {:.2} s); requests: {asked:?}",
            taken.as_secs_f64(),
            bound.as_secs_f64(),
        );
        assert_eq!(asked.values().sum::<u64>(), 1, "one request, one round trip: {asked:?}");
    }
}

/// Prints a pushed post's time against its bound (the issue's: one round trip, the raw
/// byte time, and half a second), and checks that Bob read nothing to show it.
fn report_pushed(
    what: &str,
    link: &Link,
    (taken, bytes, asked): (Duration, u64, std::collections::BTreeMap<&str, u64>),
) {
    let raw = link.config().raw_byte_time(bytes);
    let bound = 2 * link.config().one_way_delay + raw + Duration::from_millis(500);
    eprintln!(
        "{what}: a pushed post shown in {:.2} s ({bytes} bytes; bound: round trip + byte time + 0.5 s = {:.2} s); \
         requests Bob sent meanwhile: {asked:?}",
        taken.as_secs_f64(),
        bound.as_secs_f64(),
    );
    assert!(!asked.contains_key("FetchContent") && !asked.contains_key("FetchLog"), "no read: {asked:?}");
}

fn report(what: &str, link: &Link, (taken, bytes): (Duration, u64)) {
    let raw = link.config().raw_byte_time(bytes);
    eprintln!(
        "{what}: {:.1} s for {bytes} bytes on the link; raw byte time {:.2} s; ratio {:.1}; {} packets lost",
        taken.as_secs_f64(),
        raw.as_secs_f64(),
        taken.as_secs_f64() / raw.as_secs_f64(),
        link.lost()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_and_a_comment_cross_a_poor_2g_link_over_quic() {
    let relay = RelayProcess::start();
    let link = Link::start(relay.address, relay.tcp_address, LinkConfig::poor_2g(2026)).await;
    let (mut alice, mut bob, space) = alice_and_bob(&relay, &link).await;
    assert_eq!(bob.transport(), Some(TransportKind::Quic));
    let measured = post_and_comment(&mut alice, &mut bob, &space, &link).await;
    report("QUIC, 64 kbit/s, 800 ms, 5 % loss", &link, measured);
    let pushed = pushed_post(&mut alice, &mut bob, &space, &link).await;
    report_pushed("QUIC", &link, pushed);
    let sent = acknowledged(&mut bob, &space, &link).await;
    report_acknowledged("QUIC", &link, sent);
    assert!(link.lost() > 0, "the link did lose packets");
    assert!(bob.warnings().is_empty() && alice.warnings().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_network_in_the_middle_of_a_sync_keeps_the_quic_session() {
    let relay = RelayProcess::start();
    let mut link = Link::start(relay.address, relay.tcp_address, LinkConfig::poor_2g(7)).await;
    let (mut alice, mut bob, space) = alice_and_bob(&relay, &link).await;
    for n in 0..12 {
        alice.engine.post(&space, &format!("Witness statement {n}: {}", "details ".repeat(40))).unwrap();
    }
    alice.sync().await;

    // Bob's phone moves to another network while it reads: two seconds without any
    // link, then a new address as the relay sees it.
    let start = Instant::now();
    let bytes = link.bytes();
    tokio::join!(bob.sync(), async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        link.change_network(Duration::from_secs(2)).await;
    });
    report("QUIC across a network change", &link, (start.elapsed(), link.bytes() - bytes));
    assert_eq!(bob.texts(&space).len(), 12, "every post arrived");
    assert_eq!(bob.reconnects, 0, "the session moved with the device");
    assert_eq!(bob.transport(), Some(TransportKind::Quic));
    let measured = post_and_comment(&mut alice, &mut bob, &space, &link).await;
    report("QUIC after the change", &link, measured);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_udp_blocked_the_client_falls_back_to_tcp_and_still_gets_through() {
    let relay = RelayProcess::start();
    let link = Link::start(relay.address, relay.tcp_address, LinkConfig::poor_2g(11)).await;
    link.block_udp(true);
    let (mut alice, mut bob, space) = alice_and_bob(&relay, &link).await;
    assert_eq!(bob.transport(), Some(TransportKind::Tcp));
    let measured = post_and_comment(&mut alice, &mut bob, &space, &link).await;
    report("TCP+TLS with UDP blocked", &link, measured);
    let pushed = pushed_post(&mut alice, &mut bob, &space, &link).await;
    report_pushed("TCP+TLS with UDP blocked", &link, pushed);
    let sent = acknowledged(&mut bob, &space, &link).await;
    report_acknowledged("TCP+TLS with UDP blocked", &link, sent);
}

/// Slow: a 2 MiB file needs 4 min 22 s of raw byte time at 64 kbit/s. Run with
/// `cargo test -p huisclos-tests --test weak_network -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: over four minutes at 64 kbit/s; run with --ignored"]
async fn a_2_mib_file_crosses_a_poor_2g_link_across_a_network_change() {
    let relay = RelayProcess::start();
    let mut link = Link::start(relay.address, relay.tcp_address, LinkConfig::poor_2g(3)).await;
    let (mut alice, mut bob, space) = alice_and_bob(&relay, &link).await;
    let work = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..2u32 * 1024 * 1024).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(work.path().join("hearing.m4a"), &content).unwrap();
    let node = alice.engine.put_file(&space, None, "hearing.m4a", None, &work.path().join("hearing.m4a")).unwrap();
    alice.sync().await;
    bob.sync().await;

    // Bob downloads it over the link; halfway, his phone changes network.
    let dest = work.path().join("downloaded.m4a");
    bob.engine.get_file(&space, &node, None, &dest).unwrap();
    let (start, bytes) = (Instant::now(), link.bytes());
    let half = (content.len() / 2) as u64;
    tokio::join!(bob.sync(), async {
        while link.bytes() - bytes < half {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        link.change_network(Duration::from_secs(2)).await;
    });
    if bob.engine.pending_transfers().unwrap() != (0, 0) {
        bob.sync().await;
    }
    let measured = (start.elapsed(), link.bytes() - bytes);
    assert_eq!(std::fs::read(&dest).unwrap(), content);
    report("2 MiB file over QUIC, network change halfway", &link, measured);
}

/// Slow, as above, with UDP blocked: the file comes over TCP+TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: over four minutes at 64 kbit/s; run with --ignored"]
async fn a_2_mib_file_crosses_a_poor_2g_link_with_udp_blocked() {
    let relay = RelayProcess::start();
    let link = Link::start(relay.address, relay.tcp_address, LinkConfig::poor_2g(5)).await;
    link.block_udp(true);
    let (mut alice, mut bob, space) = alice_and_bob(&relay, &link).await;
    assert_eq!(bob.transport(), Some(TransportKind::Tcp));
    let work = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..2u32 * 1024 * 1024).map(|i| (i.wrapping_mul(2_246_822_519) >> 24) as u8).collect();
    std::fs::write(work.path().join("a"), &content).unwrap();
    let node = alice.engine.put_file(&space, None, "statement.pdf", None, &work.path().join("a")).unwrap();
    alice.sync().await;
    bob.sync().await;
    let dest = work.path().join("b");
    bob.engine.get_file(&space, &node, None, &dest).unwrap();
    let (start, bytes) = (Instant::now(), link.bytes());
    bob.sync().await;
    let measured = (start.elapsed(), link.bytes() - bytes);
    assert_eq!(std::fs::read(&dest).unwrap(), content);
    report("2 MiB file over TCP+TLS with UDP blocked", &link, measured);
}

/// The nights of the cold start: the transport and the link's seed of each. By default
/// QUIC on seeds 11, 13 and 14 and TCP+TLS on seed 12; `HUISCLOS_COLD_START_NIGHTS`
/// names others to see the spread over more seeds, as `quic:11,tcp:12,quic:15`.
fn cold_start_nights() -> Vec<(&'static str, bool, u64)> {
    let named = std::env::var("HUISCLOS_COLD_START_NIGHTS").unwrap_or_else(|_| "quic:11,tcp:12,quic:13,quic:14".into());
    named
        .split(',')
        .map(|night| match night.trim().split_once(':') {
            Some(("quic", seed)) => ("QUIC", false, seed.parse().expect("a seed is a number")),
            Some(("tcp", seed)) => ("TCP+TLS, UDP blocked", true, seed.parse().expect("a seed is a number")),
            _ => panic!("a night is quic:SEED or tcp:SEED, not {night:?}"),
        })
        .collect()
}

/// A lawyer opens the app on a bus after a night offline: 20 spaces, 5 new posts in
/// each, over the 2G link, over QUIC and over TCP+TLS with UDP blocked. From
/// opening the connection to every post shown; reported against the bound
/// (3 round trips + 1.5 x the raw byte time), with the requests sent, the round trips
/// they took and the bytes the link carried. Sets up 20 spaces first (about a minute):
/// `cargo test -p huisclos-tests --test weak_network cold_start -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "sets up 20 spaces and crosses the 2G link four times (about five minutes); run with --ignored"]
async fn cold_start_after_a_night_offline_in_20_spaces() {
    // Setting up 20 spaces at once is more than the default request rate lets one
    // connection send (a person would take minutes); the cold start itself stays far
    // under it.
    let relay = RelayProcess::start_with_config("[limits]\nrequests_per_second = 2000\nrequest_burst = 20000\n");
    let mut alice = Person::join(&relay, "Alice").await;
    let mut bob = Person::join(&relay, "Bob").await;
    let mut spaces = Vec::new();
    for n in 0..20 {
        spaces.push(shared_space_named(&mut alice, &mut bob, &format!("Case {n}")).await);
    }
    settle(&mut [&mut alice, &mut bob]).await;
    // The losses fall where the seed puts them, and on QUIC a loss during the
    // handshake or among the first requests costs retransmission timeouts: QUIC is
    // measured on three seeds.
    let nights = cold_start_nights();
    for (night, (what, udp_blocked, seed)) in nights.into_iter().enumerate() {
        let what = format!("{what} (seed {seed})");
        let link = Link::start(relay.address, relay.tcp_address, LinkConfig::poor_2g(seed)).await;
        link.block_udp(udp_blocked);
        bob.reach_via(vec![link.address()]);
        for (n, space) in spaces.iter().enumerate() {
            for k in 0..5 {
                alice
                    .engine
                    .post(space, &format!("Night {night}: news {k} in case {n}, {}", "details ".repeat(20)))
                    .unwrap();
            }
        }
        alice.sync().await;

        let (sent, trips, bytes, start) =
            (bob.engine.requests_sent(), bob.engine.round_trips(), link.bytes(), Instant::now());
        // The moment the last new post shows, and what had crossed the link and been
        // asked by then.
        let shown = std::sync::Mutex::new(None);
        bob.sync_noting(|engine| {
            let done = spaces.iter().enumerate().all(|(n, space)| {
                engine.feed(space).is_ok_and(|feed| {
                    (0..5).all(|k| {
                        let start = format!("Night {night}: news {k} in case {n},");
                        feed.iter().any(|item| item.text.starts_with(&start))
                    })
                })
            });
            if done && let Ok(mut shown) = shown.lock() {
                shown.get_or_insert((
                    start.elapsed(),
                    link.bytes() - bytes,
                    engine.requests_sent(),
                    engine.round_trips() - trips,
                ));
            }
            done
        })
        .await;
        let taken = start.elapsed();
        for (n, space) in spaces.iter().enumerate() {
            let texts = bob.texts(space);
            assert!(
                (0..5).all(|k| texts
                    .iter()
                    .any(|(_, t)| t.starts_with(&format!("Night {night}: news {k} in case {n},"))))
            );
        }
        let mut asked = bob.engine.requests_sent();
        for (kind, before) in sent.clone() {
            if let Some(count) = asked.get_mut(kind) {
                *count -= before;
            }
        }
        asked.retain(|_, count| *count > 0);
        let bytes = link.bytes() - bytes;
        let raw = link.config().raw_byte_time(bytes);
        let round_trip = 2 * link.config().one_way_delay;
        let bound = 3 * round_trip + raw.mul_f64(1.5);
        let requests: u64 = asked.values().sum();
        let round_trips = bob.engine.round_trips() - trips;
        eprintln!(
            "cold start, 20 spaces x 5 posts, {what}: {:.1} s ({bytes} bytes; raw byte time {:.2} s; bound 3 round trips \
             + 1.5 x byte time = {:.2} s; ratio to the bound {:.2}); {requests} requests in {round_trips} round trips: \
             {asked:?}; {} packets lost",
            taken.as_secs_f64(),
            raw.as_secs_f64(),
            bound.as_secs_f64(),
            taken.as_secs_f64() / bound.as_secs_f64(),
            link.lost()
        );
        if let Some((at, shown_bytes, requests_then, trips_then)) = shown.lock().unwrap().take() {
            let mut then: u64 = 0;
            for (kind, count) in &requests_then {
                then += *count - sent.get(kind).copied().unwrap_or(0);
            }
            let raw = link.config().raw_byte_time(shown_bytes);
            let bound = 3 * round_trip + raw.mul_f64(1.5);
            eprintln!(
                "cold start, {what}: the last post shown at {:.1} s, after {then} requests in {trips_then} round trips \
                 ({shown_bytes} bytes; raw \
                 byte time {:.2} s; bound 3 round trips + 1.5 x byte time = {:.2} s; ratio to the bound {:.2})",
                at.as_secs_f64(),
                raw.as_secs_f64(),
                bound.as_secs_f64(),
                at.as_secs_f64() / bound.as_secs_f64(),
            );
            // Sign-in, subscription and the reads of every space, sent back to back.
            assert_eq!(trips_then, 1, "every post shown one round trip after connecting");
        }
        assert_eq!(asked.get("FetchMany"), Some(&1), "every space read at once: {asked:?}");
        // The inbox and the key packages' count went with the reads; only an upload of
        // key packages (after the set-up's invitations used them up) takes another.
        assert!(round_trips <= 2, "{round_trips} round trips: {asked:?}");
        bob.reach_via(vec![relay.address]);
        bob.sync().await;
    }
}
