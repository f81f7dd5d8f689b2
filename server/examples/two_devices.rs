//! The relay on its embedded sled store, and two devices talking to it: one over QUIC,
//! one over TCP+TLS (as a phone behind a network that drops UDP would).
//!
//! The MLS layer arrives with the client engine; until then the "messages" below are
//! opaque bytes and the group's access token is handed over in a stand-in Welcome, so
//! that the relay's side of a space can be watched working.
//!
//! Run: `cargo run -p huisclos-relay --example two_devices`
#![allow(missing_docs)]

use std::time::Duration;

use anyhow::{Context, bail};
use ed25519_dalek::SigningKey;
use huisclos_protocol::access::AccessToken;
use huisclos_protocol::codec::BoundedVec;
use huisclos_protocol::ids::{Epoch, GroupId, PageLimit, Seq};
use huisclos_protocol::invitation::Invitation;
use huisclos_protocol::messages::*;
use huisclos_relay::config::RelayConfig;
use huisclos_transport::TransportError;
use huisclos_transport::client::{RelayClient, TransportKind};
use rand_core::{OsRng, RngCore};

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let mut config = RelayConfig { data_dir: data.path().join("relay"), ..RelayConfig::default() };
    config.quic_listen = ([127, 0, 0, 1], 0).into();
    config.tcp_listen = ([127, 0, 0, 1], 0).into();
    config.metrics_listen = None;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let relay_config = config.clone();
    let relay = tokio::spawn(async move {
        huisclos_relay::run(relay_config, stopped, |started| {
            let _ = ready_tx.send(started.clone());
        })
        .await
    });
    let started = ready_rx.await.context("the relay did not start")?;
    println!("relay: sled store in {}", config.data_dir.display());
    println!("relay: QUIC and TCP+TLS on {}, key pin {:?}", started.quic, started.pin);

    // Alice redeems the relay's first invitation over QUIC.
    let first = started.first_invitation.clone().context("a fresh relay prints an invitation")?;
    let first = Invitation::from_text(&first)?;
    let alice_key = SigningKey::from_bytes(&random());
    let alice = RelayClient::connect(TransportKind::Quic, started.quic, started.pin).await?;
    let (_, alice_device) = alice.create_account(first.token(), &alice_key).await?;
    println!("alice: account opened over QUIC, device {alice_device}");

    // The operator invites Bob; Bob's network drops UDP, so he uses TCP+TLS.
    let text = huisclos_relay::admin::request_invitation(&config.data_dir, Duration::from_secs(3600)).await?;
    let bob_key = SigningKey::from_bytes(&random());
    let bob = RelayClient::connect(TransportKind::Tcp, started.tcp, started.pin).await?;
    let (_, bob_device) = bob.create_account(Invitation::from_text(&text)?.token(), &bob_key).await?;
    println!("bob:   account opened over TCP+TLS, device {bob_device}");

    // Alice creates a space. The relay stores only the verifier of epoch 0's token.
    let group = GroupId::from_bytes(random());
    let token0 = AccessToken::from_bytes(random());
    alice.request(CreateGroup { group, verifier: token0.verifier(), retention: LogRetention::Keep }).await?;
    let access0 = GroupAccess { group, epoch: Epoch::ZERO, token: token0.clone() };
    println!("alice: created group {group} (the relay does not record who did)");

    // Stand-in for the MLS Welcome that will carry the group's secrets to Bob.
    let welcome = WelcomeBytes::new([group.as_bytes().as_slice(), token0.expose_secret()].concat())?;
    alice.request(DepositWelcome { recipients: BoundedVec::new(vec![bob_device])?, welcome }).await?;
    let ResponseBody::Welcomes(inbox) = bob.request(FetchWelcomes { after: None, limit: PageLimit::new(8)? }).await?
    else {
        bail!("expected Bob's inbox")
    };
    let bytes = inbox.entries.first().context("Bob has a Welcome")?.welcome.as_bytes().to_vec();
    let bob_token = AccessToken::from_bytes(bytes[16..48].try_into()?);
    bob.request(AckWelcomes { up_to: inbox.entries[0].position }).await?;
    println!("bob:   took the Welcome from his inbox");

    // Bob subscribes; Alice posts; Bob is told and fetches.
    let bob_access = GroupAccess { group, epoch: Epoch::ZERO, token: bob_token };
    bob.request(Subscribe { groups: BoundedVec::new(vec![bob_access.clone()])? }).await?;
    let post = MlsMessageBytes::new(b"(ciphertext of: 'hearing moved to Thursday')".to_vec())?;
    let ResponseBody::Appended(appended) =
        alice.request(AppendMessage { access: access0.clone(), message: post }).await?
    else {
        bail!("expected Appended")
    };
    println!("alice: posted, sequence number {}", appended.seq);
    loop {
        match bob.next_event(Duration::from_secs(5)).await.context("Bob is told of the post")? {
            Event::LogAdvanced(advanced) => {
                println!(
                    "bob:   pushed LogAdvanced: group {} is at sequence number {}",
                    advanced.group, advanced.latest
                );
                break;
            }
            other => println!("bob:   pushed {}", other.name()),
        }
    }
    let ResponseBody::LogPage(page) =
        bob.request(FetchLog { access: bob_access.clone(), from: Seq::ZERO, limit: PageLimit::new(16)? }).await?
    else {
        bail!("expected a log page")
    };
    println!(
        "bob:   fetched {} entr{} ({:?})",
        page.entries.len(),
        if page.entries.len() == 1 { "y" } else { "ies" },
        page.end
    );

    // Alice commits (say, to remove someone): the epoch moves on and Bob's old token
    // can no longer write.
    let token1 = AccessToken::from_bytes(random());
    let commit = MlsMessageBytes::new(b"(an encrypted MLS commit)".to_vec())?;
    alice.request(SubmitCommit { access: access0, commit, next_verifier: token1.verifier() }).await?;
    let late = MlsMessageBytes::new(b"(a post in the old epoch)".to_vec())?;
    match bob.request(AppendMessage { access: bob_access, message: late }).await {
        Err(TransportError::Relay(error)) => println!("bob:   old epoch refused: {error}"),
        other => bail!("expected a stale-epoch refusal, got {other:?}"),
    }

    let _ = stop.send(true);
    relay.await??;
    println!("relay: shut down gracefully, store flushed");
    Ok(())
}
