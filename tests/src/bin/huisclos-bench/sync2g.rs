//! Benchmark 6: a lawyer's first sync of a space that already holds 1,000 posts, over
//! the emulated 2G link (64 kbit/s each way, 800 ms round trip, 5 % loss), against the
//! raw byte time of what crossed the link: over QUIC, and over TCP+TLS with UDP blocked.

use std::time::Instant;

use huisclos_core::space::Role;
use huisclos_tests::netem::{Link, LinkConfig};
use huisclos_tests::process::{Person, RelayProcess};

pub(crate) async fn first_sync_bench(posts: usize, text_len: usize) {
    println!(
        "first sync of a space holding {posts} posts of {text_len} bytes, over the emulated link (64 kbit/s each \
         way, 800 ms round trip, 5 % loss, seeded) to the real relay binary, over QUIC and over TCP+TLS with UDP \
         blocked: from the invitation to the last post shown; ceiling: the raw byte time of the bytes that crossed \
         the link. The relay runs with its default limits."
    );
    println!();
    println!(
        "| transport | time | bytes on the link | per post: target ≤ 600 | raw byte time | ratio | target ≤ 1.5× | plaintext raw byte time | packets lost | syncs |"
    );
    println!("|---|---:|---:|---|---:|---:|---|---:|---:|---:|");
    for (what, udp_blocked) in [("QUIC", false), ("TCP+TLS, UDP blocked", true)] {
        first_sync(posts, text_len, what, udp_blocked).await;
    }
}

async fn first_sync(posts: usize, text_len: usize, what: &str, udp_blocked: bool) {
    let relay = RelayProcess::start();
    let link = Link::start(relay.address, relay.tcp_address, LinkConfig::poor_2g(2026)).await;
    link.block_udp(udp_blocked);
    let mut alice = Person::join(&relay, "Alice").await;
    let mut bob = Person::join_via(&relay, "Bob", vec![link.address()]).await;
    let space = huisclos_tests::process::case_207(&mut alice.engine);
    for n in 0..posts {
        let text: String =
            format!("Statement {n}: ").chars().chain("the witness saw ".chars().cycle()).take(text_len).collect();
        alice.engine.post(&space, &text).unwrap();
    }
    // The relay's default rate limit (50 requests a second after a burst of 200) holds
    // Alice's 1,000 uploads back: she syncs until her outbox is empty.
    while alice.engine.outbox_len().unwrap() > 0 {
        alice.sync().await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    alice.engine.invite(&space, &bob.engine.contact_card().unwrap(), Role::Reader).unwrap();
    for _ in 0..3 {
        alice.sync().await;
    }

    // Bob's first sync of the space: the invitation, his acceptance, then the history.
    let (start, bytes, lost) = (Instant::now(), link.bytes(), link.lost());
    let mut rounds = 0;
    loop {
        bob.sync().await;
        rounds += 1;
        if bob.engine.accept_invitation(&space).is_ok() || rounds > 5 {
            break;
        }
        alice.sync().await;
    }
    let mut stalled = 0;
    while bob.texts(&space).len() < posts && stalled < 3 {
        let before = bob.texts(&space).len();
        bob.sync().await;
        rounds += 1;
        stalled = if bob.texts(&space).len() > before { 0 } else { stalled + 1 };
        eprintln!("round {rounds}: {} posts after {:.1} s", bob.texts(&space).len(), start.elapsed().as_secs_f64());
    }
    let taken = start.elapsed();
    let crossed = link.bytes() - bytes;
    assert_eq!(bob.texts(&space).len(), posts, "every post arrived ({:?})", bob.warnings());
    let raw = link.config().raw_byte_time(crossed);
    let plaintext = (posts * text_len) as u64;
    let ratio = taken.as_secs_f64() / raw.as_secs_f64();
    let per_post = crossed as f64 / posts as f64;
    println!(
        "| {what} | {:.1} s | {crossed} | {per_post:.0}: {} | {:.1} s | {ratio:.2}× | {} | {:.1} s | {} | {rounds} |",
        taken.as_secs_f64(),
        if per_post <= 600.0 { "met" } else { "missed" },
        raw.as_secs_f64(),
        if ratio <= 1.5 { "met" } else { "missed" },
        link.config().raw_byte_time(plaintext).as_secs_f64(),
        link.lost() - lost
    );
}
