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
use huisclos_protocol::limits::MAX_MLS_MESSAGE_LEN;
use huisclos_protocol::messages::*;
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
    assert!(peak < 256.0, "the relay's memory stayed under 256 MiB (peak {peak:.0} MiB)");
    assert!(after < before + 48.0, "memory came back after the attack ({before:.0} → {after:.0} MiB)");
    Ok(())
}
