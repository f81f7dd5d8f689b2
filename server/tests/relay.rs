//! The relay over real QUIC and real TCP+TLS on loopback, with its real sled files:
//! the relay binary is started as a process and driven by protocol-level clients.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use huisclos_protocol::access::InvitationToken;
use huisclos_protocol::auth::{AuthPurpose, DevicePublicKey, sign_device_auth, sign_device_link};
use huisclos_protocol::codec::{Wire, put_varint};
use huisclos_protocol::frame::{Padding, encode_frame};
use huisclos_protocol::ids::{ChunkOffset, ChunkRef, ContentId, ContentSeq, Epoch, InboxSeq};
use huisclos_protocol::limits::{MAX_CHUNK_LEN, MAX_CHUNK_PIECE_LEN};
use huisclos_protocol::messages::*;
use huisclos_transport::TransportError;
use huisclos_transport::client::TransportKind;
use sha2::{Digest, Sha256};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accounts_and_device_authentication() -> TestResult {
    let relay = RelayProcess::start();
    for kind in BOTH {
        // The first start's invitation opens an account; it cannot be used twice.
        let key = signing_key();
        let client = relay.connect(kind).await;
        let invitation = relay.invite();
        let (account, device) = client.create_account(&invitation, &key).await?;
        assert_eq!(device, DevicePublicKey::from_signing_key(&key).device_id());
        let again = relay.connect(kind).await;
        let reused = again.create_account(&invitation, &signing_key()).await;
        assert!(matches!(reused, Err(TransportError::Relay(RelayError::InvitationInvalid))), "{reused:?}");
        let forged = again.create_account(&InvitationToken::from_bytes(random()), &signing_key()).await;
        assert!(matches!(forged, Err(TransportError::Relay(RelayError::InvitationInvalid))), "{forged:?}");

        // Requests need authentication.
        let anonymous = relay.connect(kind).await;
        assert_eq!(refusal(anonymous.request(ListDevices {}).await), RelayError::AuthRequired);
        assert!(matches!(anonymous.request(Ping {}).await, Ok(ResponseBody::Pong(_))));

        // Authentication works on a new connection...
        let second = relay.connect(kind).await;
        assert_eq!(second.authenticate(&key).await?, account);

        // ...but a signature made on one connection fails on another: it signs the
        // first connection's TLS exporter.
        let first = relay.connect(kind).await;
        let victim_nonce = first.challenge().await?;
        let stolen = sign_device_auth(&key, first.exporter(), &victim_nonce, AuthPurpose::Authenticate);
        let attacker = relay.connect(kind).await;
        let _their_nonce = attacker.challenge().await?;
        let replayed = attacker.request(Authenticate { device, signature: stolen }).await;
        assert_eq!(refusal(replayed), RelayError::AuthFailed);
        // The challenge is used up by the failure; the attacker must ask again.
        assert_eq!(refusal(attacker.request(Authenticate { device, signature: stolen }).await), RelayError::AuthFailed);

        // Linking and revoking a device.
        let new_device = signing_key();
        let new_public = DevicePublicKey::from_signing_key(&new_device);
        let wrong_proof = sign_device_link(&new_device, &huisclos_protocol::ids::AccountId::from_bytes(random()));
        assert_eq!(
            refusal(second.request(AddDevice { device_key: new_public, possession: wrong_proof }).await),
            RelayError::AuthFailed
        );
        let proof = sign_device_link(&new_device, &account);
        let added = second.request(AddDevice { device_key: new_public, possession: proof }).await?;
        assert!(matches!(added, ResponseBody::DeviceAdded(DeviceAdded { device }) if device == new_public.device_id()));
        let linked = relay.connect(kind).await;
        linked.authenticate(&new_device).await?;
        let ResponseBody::DeviceList(list) = second.request(ListDevices {}).await? else { panic!("device list") };
        assert_eq!(list.devices.len(), 2);
        second.request(RevokeDevice { device: new_public.device_id() }).await?;
        // The revoked device's connection is closed and its key refused for good.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(linked.request(Ping {}).await.is_err(), "the revoked device's connection is closed");
        let retry = relay.connect(kind).await;
        assert!(matches!(retry.authenticate(&new_device).await, Err(TransportError::Relay(RelayError::AuthFailed))));
        let readd = second.request(AddDevice { device_key: new_public, possession: proof }).await;
        assert_eq!(refusal(readd), RelayError::Conflict);
        let again = second.request(RevokeDevice { device: new_public.device_id() }).await?;
        assert_eq!(again, ResponseBody::DeviceRevoked(DeviceRevoked {}), "revoking twice is idempotent");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_packages_are_claimed_once_then_last_resort() -> TestResult {
    let relay = RelayProcess::start();
    for kind in BOTH {
        let owner = Device::register(&relay, kind).await;
        let claimer = Arc::new(Device::register(&relay, kind).await);
        // Sealed packages (the tag, then opaque bytes; the second byte tells them apart).
        let package = |n: u8| {
            let mut bytes = vec![n; 300];
            bytes[0] = SEALED_KEY_PACKAGE_TAG;
            KeyPackageBytes::new(bytes).expect("fits")
        };
        // A package in clear (as an MLS message begins) is refused, and nothing of the
        // upload is stored.
        let clear = KeyPackageBytes::new([&[0u8, 1][..], &[7; 298]].concat())?;
        for upload in [
            UploadKeyPackages { one_time: list(vec![package(1), clear.clone()]), last_resort: None },
            UploadKeyPackages { one_time: list(vec![]), last_resort: Some(clear.clone()) },
        ] {
            assert_eq!(refusal(owner.client.request(upload).await), RelayError::BadRequest);
        }
        let status = owner
            .client
            .request(UploadKeyPackages {
                one_time: list(vec![package(1), package(2), package(3)]),
                last_resort: Some(package(9)),
            })
            .await?;
        assert_eq!(
            status,
            ResponseBody::KeyPackageStatus(KeyPackageStatus { one_time_left: 3, has_last_resort: true })
        );

        // Four concurrent claims: three distinct one-time packages, then the last resort.
        let claims = futures_join(
            (0..4)
                .map(|_| {
                    let claimer = claimer.clone();
                    let owner = owner.id;
                    async move { claimer.client.request(ClaimKeyPackages { devices: list(vec![owner]) }).await }
                })
                .collect(),
        )
        .await;
        let mut one_time = Vec::new();
        let mut last_resort = 0;
        for claim in claims {
            let ResponseBody::ClaimedKeyPackages(claimed) = claim? else { panic!("claim") };
            let package = claimed.claims[0].package.clone().expect("a package");
            match package.kind {
                KeyPackageKind::OneTime => one_time.push(package.package.as_bytes()[1]),
                KeyPackageKind::LastResort => last_resort += 1,
            }
        }
        one_time.sort_unstable();
        assert_eq!(one_time, vec![1, 2, 3], "each one-time package is handed out exactly once");
        assert_eq!(last_resort, 1);
        let status = owner.client.request(GetKeyPackageStatus {}).await?;
        assert_eq!(
            status,
            ResponseBody::KeyPackageStatus(KeyPackageStatus { one_time_left: 0, has_last_resort: true })
        );

        // An unknown device has nothing to claim; too many packages are refused whole.
        let ResponseBody::ClaimedKeyPackages(unknown) = claimer
            .client
            .request(ClaimKeyPackages { devices: list(vec![huisclos_protocol::ids::DeviceId::from_bytes(random())]) })
            .await?
        else {
            panic!("claim")
        };
        assert_eq!(unknown.claims[0].package, None);
        for _ in 0..2 {
            owner
                .client
                .request(UploadKeyPackages { one_time: list(vec![package(4); 100]), last_resort: None })
                .await?;
        }
        let over =
            owner.client.request(UploadKeyPackages { one_time: list(vec![package(5)]), last_resort: None }).await;
        assert_eq!(refusal(over), RelayError::LimitExceeded { limit: LimitKind::KeyPackages });
    }
    Ok(())
}

async fn futures_join<F: std::future::Future + Send + 'static>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("task"));
    }
    outputs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commits_race_and_logs_order() -> TestResult {
    let relay = RelayProcess::start();
    for kind in BOTH {
        let alice = Arc::new(Device::register(&relay, kind).await);
        let bob = Arc::new(Device::register(&relay, kind).await);
        let epoch0 = GroupKeys::new();
        alice
            .client
            .request(CreateGroup {
                group: epoch0.group,
                verifier: epoch0.token.verifier(),
                retention: LogRetention::Keep,
            })
            .await?;
        // A resend of the creation (the same first verifier) changes nothing; another
        // first verifier for a taken id is refused.
        let resent = bob
            .client
            .request(CreateGroup {
                group: epoch0.group,
                verifier: epoch0.token.verifier(),
                retention: LogRetention::Keep,
            })
            .await?;
        assert_eq!(resent, ResponseBody::GroupCreated(GroupCreated {}));
        let conflict = bob
            .client
            .request(CreateGroup {
                group: epoch0.group,
                verifier: GroupKeys::new().token.verifier(),
                retention: LogRetention::Keep,
            })
            .await;
        assert_eq!(refusal(conflict), RelayError::Conflict);

        let appended = alice.client.request(AppendMessage { access: epoch0.access(), message: mls("hello") }).await?;
        assert_eq!(appended, ResponseBody::Appended(Appended { seq: seq(0) }));
        // A resend of the same message is stored once.
        let resent = bob.client.request(AppendMessage { access: epoch0.access(), message: mls("hello") }).await?;
        assert_eq!(resent, ResponseBody::Appended(Appended { seq: seq(0) }));

        // Two commits for epoch 0 race: exactly one wins.
        let (alice_next, bob_next) = (epoch0.next(), epoch0.next());
        let submit = |device: Arc<Device>, next: GroupKeys, text: &'static str| {
            let access = epoch0.access();
            tokio::spawn(async move {
                device
                    .client
                    .request(SubmitCommit { access, commit: mls(text), next_verifier: next.token.verifier() })
                    .await
            })
        };
        let a = submit(alice.clone(), alice_next.clone(), "alice's commit");
        let b = submit(bob.clone(), bob_next.clone(), "bob's commit");
        let outcomes = [a.await?, b.await?];
        let winners: Vec<usize> = (0..2).filter(|&i| outcomes[i].is_ok()).collect();
        assert_eq!(winners.len(), 1, "exactly one commit wins: {outcomes:?}");
        let winner = winners[0];
        assert_eq!(
            outcomes[winner].as_ref().ok(),
            Some(&ResponseBody::CommitAccepted(CommitAccepted { seq: seq(1), epoch: Epoch::new(1)? }))
        );
        let loser = match &outcomes[1 - winner] {
            Err(TransportError::Relay(error)) => error.clone(),
            other => panic!("the losing commit must be refused: {other:?}"),
        };
        assert_eq!(loser, RelayError::StaleEpoch { current: Epoch::new(1)?, next_seq: seq(2) });
        let epoch1 = if winner == 0 { alice_next } else { bob_next };

        // Writes with the old epoch are stale; with a forged token, forbidden.
        let stale = bob.client.request(AppendMessage { access: epoch0.access(), message: mls("late") }).await;
        assert_eq!(refusal(stale), RelayError::StaleEpoch { current: Epoch::new(1)?, next_seq: seq(2) });
        let mut forged = epoch1.access();
        forged.token = huisclos_protocol::access::AccessToken::from_bytes(random());
        assert_eq!(
            refusal(bob.client.request(AppendMessage { access: forged, message: mls("x") }).await),
            RelayError::Forbidden
        );
        let unknown = GroupKeys::new();
        assert_eq!(
            refusal(bob.client.request(FetchLog { access: unknown.access(), from: seq(0), limit: page(10) }).await),
            RelayError::Forbidden,
            "an unknown group looks like a wrong token"
        );

        // The old token reads epoch 0 up to and including the commit that closed it.
        let ResponseBody::LogPage(old) =
            bob.client.request(FetchLog { access: epoch0.access(), from: seq(0), limit: page(100) }).await?
        else {
            panic!("log page")
        };
        assert_eq!(
            old.entries.iter().map(|e| (e.seq.get(), e.kind)).collect::<Vec<_>>(),
            vec![(0, EntryKind::Message), (1, EntryKind::Commit)]
        );
        assert_eq!(old.end, LogPageEnd::EpochClosed);

        // The new epoch: subscribe, append from the other side, get the event, fetch.
        let subscribed = bob.client.request(Subscribe { groups: list(vec![epoch1.access()]) }).await?;
        assert_eq!(subscribed, ResponseBody::Subscribed(Subscribed { refused: list(vec![]) }));
        // A stale epoch's token is refused, and leaves the current subscription as it was.
        let stale = bob.client.request(Subscribe { groups: list(vec![epoch0.access()]) }).await?;
        assert_eq!(stale, ResponseBody::Subscribed(Subscribed { refused: list(vec![epoch0.group]) }));
        for n in 0..10u8 {
            alice.client.request(AppendMessage { access: epoch1.access(), message: mls(vec![n; 50]) }).await?;
        }
        let event = bob.client.next_event(Duration::from_secs(5)).await;
        assert!(
            matches!(event, Some(Event::LogAdvanced(LogAdvanced { group, .. })) if group == epoch1.group),
            "{event:?}"
        );
        let mut fetched = Vec::new();
        let mut from = seq(0);
        loop {
            let ResponseBody::LogPage(page) =
                bob.client.request(FetchLog { access: epoch1.access(), from, limit: page(3) }).await?
            else {
                panic!("log page")
            };
            fetched.extend(page.entries.iter().map(|e| e.seq.get()));
            from = page.next;
            if page.end == LogPageEnd::UpToDate {
                break;
            }
            assert_eq!(page.end, LogPageEnd::More);
        }
        assert_eq!(fetched, (2..12).collect::<Vec<_>>(), "dense sequence numbers, in order, from the epoch's start");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn welcomes_and_content_records() -> TestResult {
    let relay = RelayProcess::start();
    for kind in BOTH {
        let alice = Device::register(&relay, kind).await;
        let bob = Device::register(&relay, kind).await;
        let bob_events = bob.reconnect(&relay, kind).await;
        let welcome = WelcomeBytes::new(vec![7; 2000])?;
        alice
            .client
            .request(DepositWelcome { recipients: list(vec![bob.id, bob.id]), welcome: welcome.clone() })
            .await?;
        let event = bob_events.next_event(Duration::from_secs(5)).await;
        assert!(matches!(event, Some(Event::WelcomeAvailable(_))), "{event:?}");
        let ResponseBody::Welcomes(inbox) = bob.client.request(FetchWelcomes { after: None, limit: page(10) }).await?
        else {
            panic!("welcomes")
        };
        assert_eq!(inbox.entries.len(), 1, "a recipient listed twice gets one copy");
        assert_eq!(inbox.entries[0].welcome, welcome);
        bob.client.request(AckWelcomes { up_to: inbox.entries[0].position }).await?;
        let ResponseBody::Welcomes(empty) = bob.client.request(FetchWelcomes { after: None, limit: page(10) }).await?
        else {
            panic!("welcomes")
        };
        assert!(empty.entries.is_empty());
        let nobody = huisclos_protocol::ids::DeviceId::from_bytes(random());
        let refused = alice.client.request(DepositWelcome { recipients: list(vec![bob.id, nobody]), welcome }).await;
        assert_eq!(refusal(refused), RelayError::NotFound);
        let ResponseBody::Welcomes(still_empty) =
            bob.client.request(FetchWelcomes { after: Some(InboxSeq::ZERO), limit: page(10) }).await?
        else {
            panic!("welcomes")
        };
        assert!(still_empty.entries.is_empty(), "a refused deposit leaves nothing in any inbox");

        let group = GroupKeys::new();
        alice
            .client
            .request(CreateGroup {
                group: group.group,
                verifier: group.token.verifier(),
                retention: LogRetention::Keep,
            })
            .await?;
        let record = ContentId::from_bytes(random());
        let sealed = ContentRecordBytes::new(b"sealed under the history key".to_vec())?;
        let put = PutContent { access: group.access(), record, sealed: sealed.clone() };
        assert_eq!(
            alice.client.request(put.clone()).await?,
            ResponseBody::ContentStored(ContentStored { seq: ContentSeq::ZERO })
        );
        assert_eq!(
            alice.client.request(put).await?,
            ResponseBody::ContentStored(ContentStored { seq: ContentSeq::ZERO })
        );
        let conflicting =
            PutContent { access: group.access(), record, sealed: ContentRecordBytes::new(b"other".to_vec())? };
        assert_eq!(refusal(alice.client.request(conflicting).await), RelayError::Conflict);
        let ResponseBody::ContentPage(page_) = bob
            .client
            .request(FetchContent { access: group.access(), from: ContentSeq::ZERO, limit: page(10) })
            .await?
        else {
            panic!("content page")
        };
        assert_eq!(page_.records.len(), 1);
        assert_eq!(page_.records[0].sealed, sealed);
        assert!(!page_.more);

        // Quota: usage counts what the account stored.
        let ResponseBody::Usage(usage) = alice.client.request(GetUsage {}).await? else { panic!("usage") };
        // The Welcome (listed twice, deposited once), the group (GROUP_COST) and the record.
        assert_eq!(usage.used.get(), 2000 + 1024 + sealed.len() as u64);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_gets_typed_errors_and_changes_nothing() -> TestResult {
    let relay = RelayProcess::start();
    for kind in BOTH {
        let device = Device::register(&relay, kind).await;
        // A request that does not decode, with a readable id: BadRequest, stream kept.
        let mut garbage = Vec::new();
        put_varint(&mut garbage, 4242);
        garbage.push(0xee);
        device.client.send_raw_payload(garbage).await?;
        assert!(matches!(device.client.request(Ping {}).await, Ok(ResponseBody::Pong(_))), "the connection survives");

        // A chunk piece that runs past its announced length, and a forged chunk hash.
        let group = GroupKeys::new();
        device
            .client
            .request(CreateGroup {
                group: group.group,
                verifier: group.token.verifier(),
                retention: LogRetention::Keep,
            })
            .await?;
        let data = vec![1u8; 1000];
        let overrun = PutChunk {
            access: group.access(),
            chunk: ChunkRef::from_bytes(random()),
            total_len: ChunkOffset::new(500)?,
            offset: ChunkOffset::ZERO,
            data: ChunkPiece::new(data.clone())?,
        };
        assert_eq!(refusal(device.client.request(overrun).await), RelayError::BadRequest);
        let lie = ChunkRef::from_bytes(random());
        let forged = PutChunk {
            access: group.access(),
            chunk: lie,
            total_len: ChunkOffset::new(1000)?,
            offset: ChunkOffset::ZERO,
            data: ChunkPiece::new(data)?,
        };
        assert_eq!(refusal(device.client.request(forged).await), RelayError::BadRequest);
        let status = device.client.request(GetChunkStatus { access: group.access(), chunk: lie }).await;
        assert_eq!(refusal(status), RelayError::NotFound, "a chunk whose hash lies is not kept");

        // Quota: a chunk beyond the account's quota is refused before anything is stored.
        let ResponseBody::Usage(usage) = device.client.request(GetUsage {}).await? else { panic!("usage") };
        let quota_left = usage.quota.get() - usage.used.get();
        if quota_left < MAX_CHUNK_LEN as u64 {
            let chunk = PutChunk {
                access: group.access(),
                chunk: ChunkRef::from_bytes(random()),
                total_len: ChunkOffset::new(MAX_CHUNK_LEN as u32)?,
                offset: ChunkOffset::ZERO,
                data: ChunkPiece::new(vec![])?,
            };
            assert!(matches!(refusal(device.client.request(chunk).await), RelayError::QuotaExceeded { .. }));
        }
    }

    // A bystander, connected throughout, must not notice any of what follows.
    let bystander = Device::register(&relay, TransportKind::Quic).await;
    // A frame of another protocol version: refused, and the stream closed.
    let client = relay.connect(TransportKind::Tcp).await;
    let mut frame = encode_frame(
        &Request { id: huisclos_protocol::ids::RequestId::new(1)?, body: Ping {}.into() }.to_wire(),
        Padding::None,
    )?;
    frame[0] = 2;
    raw_tcp_exchange(&relay, &frame, true).await?;
    // A frame announcing more than MAX_FRAME_LEN: the connection is closed at once.
    let mut huge = vec![1u8];
    huge.extend_from_slice(&(64u32 << 20).to_be_bytes());
    huge.extend_from_slice(&0u32.to_be_bytes());
    raw_tcp_exchange(&relay, &huge, false).await?;
    // A slow sender that starts a frame and stops is cut off at the frame deadline.
    raw_tcp_exchange(&relay, &[1u8, 0, 0], false).await?;
    drop(client);
    assert!(matches!(bystander.client.request(ListDevices {}).await, Ok(ResponseBody::DeviceList(_))));
    Ok(())
}

/// Sends raw bytes on a fresh TCP+TLS connection and checks that the relay closes it
/// (after answering `UnsupportedVersion`, when `expect_answer`).
async fn raw_tcp_exchange(relay: &RelayProcess, bytes: &[u8], expect_answer: bool) -> TestResult {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tcp = tokio::net::TcpStream::connect(relay.tcp_address).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(huisclos_transport::tls::client_config(relay.pin)));
    let mut tls = connector.connect(huisclos_transport::tls::server_name(), tcp).await?;
    tls.write_all(bytes).await?;
    tls.flush().await?;
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the relay closes the connection");
    if expect_answer {
        let message: RelayMessage = huisclos_protocol::frame::decode_message(&received)?;
        assert!(matches!(
            message,
            RelayMessage::Failure(Failure { error: RelayError::UnsupportedVersion { supported: 1 }, .. })
        ));
    } else {
        assert!(received.is_empty(), "no answer to a broken frame");
    }
    Ok(())
}

/// Sends a request, waiting and retrying as long as the relay says `RateLimited`, as a
/// real client does.
async fn polite(
    client: &huisclos_transport::client::RelayClient,
    body: impl Into<RequestBody>,
) -> Result<ResponseBody, TransportError> {
    let body = body.into();
    loop {
        match client.request(body.clone()).await {
            Err(TransportError::Relay(RelayError::RateLimited { retry_after_ms })) => {
                tokio::time::sleep(Duration::from_millis(u64::from(retry_after_ms) + 1)).await;
            }
            other => return other,
        }
    }
}

/// Incompressible, non-repeating test data (xorshift64*), so that no two chunks are
/// equal and the relay's per-group deduplication cannot shortcut an upload.
fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Uploads `blob` to `group` as chunks of `MAX_CHUNK_LEN`, in pieces, resuming from what
/// the relay reports; stops after `stop_after` bytes sent if given. Returns bytes sent.
async fn upload(
    client: &huisclos_transport::client::RelayClient,
    group: &GroupKeys,
    chunks: &[(ChunkRef, &[u8])],
    stop_after: Option<u64>,
) -> Result<u64, TransportError> {
    let mut sent = 0u64;
    for (chunk, bytes) in chunks {
        let total_len = ChunkOffset::new(bytes.len() as u32)?;
        let mut offset = match polite(client, GetChunkStatus { access: group.access(), chunk: *chunk }).await {
            Ok(ResponseBody::ChunkStatus(status)) => status.received.get() as usize,
            Err(TransportError::Relay(RelayError::NotFound)) => 0,
            other => panic!("chunk status: {other:?}"),
        };
        while offset < bytes.len() {
            let end = (offset + MAX_CHUNK_PIECE_LEN).min(bytes.len());
            let piece = PutChunk {
                access: group.access(),
                chunk: *chunk,
                total_len,
                offset: ChunkOffset::new(offset as u32)?,
                data: ChunkPiece::new(bytes[offset..end].to_vec())?,
            };
            let ResponseBody::ChunkStatus(status) = polite(client, piece).await? else { panic!("status") };
            sent += (end - offset) as u64;
            offset = status.received.get() as usize;
            if stop_after.is_some_and(|limit| sent >= limit) {
                return Ok(sent);
            }
        }
    }
    Ok(sent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_50_mib_blob_resumes_after_a_cut_without_resending_chunks() -> TestResult {
    let relay = RelayProcess::start();
    for kind in BOTH {
        let uploader = Device::register(&relay, kind).await;
        let group = GroupKeys::new();
        uploader
            .client
            .request(CreateGroup {
                group: group.group,
                verifier: group.token.verifier(),
                retention: LogRetention::Keep,
            })
            .await?;
        let blob = pseudo_random_bytes(50 << 20, 0x5eed_0001);
        let chunks: Vec<(ChunkRef, &[u8])> =
            blob.chunks(MAX_CHUNK_LEN).map(|c| (ChunkRef::from_bytes(Sha256::digest(c).into()), c)).collect();

        // Cut the connection after about half, in the middle of a chunk.
        let half = blob.len() as u64 / 2 + 100_000;
        let sent_before_cut = upload(&uploader.client, &group, &chunks, Some(half)).await?;
        uploader.client.abort();

        // Resume on a new connection: only what the relay lacks is sent again.
        let resumed = uploader.reconnect(&relay, kind).await;
        let sent_after = upload(&resumed, &group, &chunks, None).await?;
        assert_eq!(
            sent_before_cut + sent_after,
            blob.len() as u64,
            "no byte the relay acknowledged was sent twice ({kind:?})"
        );

        // Another member downloads it, piece by piece, and it is byte-identical.
        let reader = Device::register(&relay, kind).await;
        let mut downloaded = Vec::with_capacity(blob.len());
        for (chunk, bytes) in &chunks {
            let mut offset = 0usize;
            while offset < bytes.len() {
                let request = GetChunk {
                    access: group.access(),
                    chunk: *chunk,
                    offset: ChunkOffset::new(offset as u32)?,
                    max_len: ChunkOffset::new(MAX_CHUNK_PIECE_LEN as u32)?,
                };
                let ResponseBody::ChunkData(data) = polite(&reader.client, request).await? else {
                    panic!("chunk data")
                };
                assert!(!data.data.is_empty());
                offset += data.data.len();
                downloaded.extend_from_slice(data.data.as_bytes());
            }
        }
        assert!(downloaded == blob, "the downloaded blob is byte-identical ({kind:?})");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_concurrent_appends_loses_no_acknowledged_entry() -> TestResult {
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join("relay");
    let mut relay = RelayProcess::start_in(&dir);
    let group = GroupKeys::new();
    let creator = Device::register(&relay, TransportKind::Quic).await;
    creator
        .client
        .request(CreateGroup { group: group.group, verifier: group.token.verifier(), retention: LogRetention::Keep })
        .await?;

    // 8 connections with 40 appends in flight each: 320 concurrent appends.
    let mut writers = Vec::new();
    for _ in 0..8 {
        writers.push(Arc::new(Device::register(&relay, TransportKind::Quic).await));
    }
    let acknowledged = Arc::new(std::sync::Mutex::new(BTreeMap::<u64, Vec<u8>>::new()));
    let mut tasks = Vec::new();
    for (w, writer) in writers.iter().enumerate() {
        for n in 0..40u32 {
            let writer = writer.clone();
            let access = group.access();
            let acknowledged = acknowledged.clone();
            tasks.push(tokio::spawn(async move {
                let message = format!("writer {w} message {n}").into_bytes();
                if let Ok(ResponseBody::Appended(Appended { seq })) =
                    writer.client.request(AppendMessage { access, message: mls(message.clone()) }).await
                {
                    acknowledged.lock().expect("lock").insert(seq.get(), message);
                }
            }));
        }
    }
    // Kill the relay while appends are in flight.
    for _ in 0..400 {
        if acknowledged.lock().expect("lock").len() >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    relay.kill();
    let acknowledged_at_kill = acknowledged.lock().expect("lock").len();
    for writer in &writers {
        writer.client.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    // An acknowledgement the relay sent just before SIGKILL can still be in the
    // client's socket buffer and be read after the kill: not one from a dead relay.
    // That every acknowledgement, early or late, was durable is what the check after
    // the restart shows, entry by entry.
    let read_after_kill = acknowledged.len() - acknowledged_at_kill;
    assert!(
        (40..=120).contains(&acknowledged.len()),
        "killed with at least 200 of 320 appends in flight: {} acknowledged",
        acknowledged.len()
    );

    // After restart every acknowledged append is there, at its sequence number, and the
    // log is dense with no duplicate.
    let relay = RelayProcess::start_in(&dir);
    let reader = creator.reconnect(&relay, TransportKind::Tcp).await;
    let mut log = BTreeMap::new();
    let mut from = seq(0);
    loop {
        let ResponseBody::LogPage(page) =
            reader.request(FetchLog { access: group.access(), from, limit: page(256) }).await?
        else {
            panic!("log page")
        };
        for entry in page.entries.iter() {
            assert!(log.insert(entry.seq.get(), entry.message.as_bytes().to_vec()).is_none());
        }
        from = page.next;
        if page.end == LogPageEnd::UpToDate {
            break;
        }
    }
    assert_eq!(log.keys().copied().collect::<Vec<_>>(), (0..log.len() as u64).collect::<Vec<_>>(), "dense");
    let unique: std::collections::HashSet<&Vec<u8>> = log.values().collect();
    assert_eq!(unique.len(), log.len(), "no duplicate");
    for (seq, message) in &acknowledged {
        assert_eq!(log.get(seq), Some(message), "acknowledged entry {seq} survived the crash");
    }
    eprintln!(
        "crash test: {} acknowledged before SIGKILL ({read_after_kill} of them read after it), {} in the log after restart",
        acknowledged.len(),
        log.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_database_does_not_link_devices_or_accounts_to_groups() -> TestResult {
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join("relay");
    let mut relay = RelayProcess::start_in(&dir);
    let mut devices = Vec::new();
    let mut invitations = Vec::new();
    for n in 0..5 {
        let kind = if n % 2 == 0 { TransportKind::Quic } else { TransportKind::Tcp };
        let key = signing_key();
        let client = relay.connect(kind).await;
        let invitation = relay.invite();
        let (account, id) = client.create_account(&invitation, &key).await?;
        invitations.push(invitation);
        devices.push(Device { key, id, account, client });
    }
    let mut groups = Vec::new();
    for g in 0..3usize {
        let keys = GroupKeys::new();
        let creator = &devices[g];
        // One group's messages expire, so the scan covers their deadlines too.
        let retention = if g == 0 { LogRetention::Expire } else { LogRetention::Keep };
        creator.client.request(CreateGroup { group: keys.group, verifier: keys.token.verifier(), retention }).await?;
        let next = keys.next();
        creator
            .client
            .request(SubmitCommit {
                access: keys.access(),
                commit: mls(vec![g as u8; 400]),
                next_verifier: next.token.verifier(),
            })
            .await?;
        for (d, device) in devices.iter().enumerate() {
            device.client.request(AppendMessage { access: next.access(), message: mls(format!("g{g} d{d}")) }).await?;
            device
                .client
                .request(PutContent {
                    access: next.access(),
                    record: ContentId::from_bytes(random()),
                    sealed: ContentRecordBytes::new(vec![d as u8 + 1; 100])?,
                })
                .await?;
            device.client.request(Subscribe { groups: list(vec![next.access()]) }).await?;
        }
        let bytes = vec![g as u8; 5000];
        let chunk = ChunkRef::from_bytes(Sha256::digest(&bytes).into());
        upload(&devices[(g + 1) % 5].client, &next, &[(chunk, &bytes)], None).await?;
        devices[g]
            .client
            .request(DepositWelcome {
                recipients: list(vec![devices[(g + 2) % 5].id]),
                welcome: WelcomeBytes::new(vec![0x77; 300])?,
            })
            .await?;
        groups.push(next);
    }
    assert!(relay.terminate(), "SIGTERM shuts the relay down cleanly");

    // Every file of the data directory: no access token and no invitation token is
    // stored, only their verifiers and digests.
    let mut secrets: Vec<(String, Vec<u8>)> = groups
        .iter()
        .flat_map(|g| [g.token.expose_secret().to_vec()])
        .map(|t| ("an access token".to_owned(), t))
        .collect();
    secrets.extend(invitations.iter().map(|t| ("an invitation token".to_owned(), t.expose_secret().to_vec())));
    let mut files = 0;
    let mut pending = vec![dir.clone()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = std::fs::read(&path)?;
            files += 1;
            for (what, secret) in &secrets {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_slice()),
                    "{what} is stored in {}",
                    path.display()
                );
            }
        }
    }
    assert!(files >= 3, "scanned the store, key and certificate ({files} files)");

    if on_postgres() {
        // The same families, as tables: a group's tables name no device or account,
        // a device's and an account's tables name no group, and `meta` names neither.
        let hex_of = |what: String, bytes: &[u8]| (what, hex::encode(bytes));
        let people: Vec<(String, String)> = devices
            .iter()
            .flat_map(|d| {
                [
                    hex_of(format!("device {}", d.id), d.id.as_bytes()),
                    hex_of(format!("account {}", d.account), d.account.as_bytes()),
                ]
            })
            .collect();
        let group_names: Vec<(String, String)> =
            groups.iter().map(|g| hex_of(format!("group {}", g.group), g.group.as_bytes())).collect();
        let group_tables = ["groups", "verifiers", "log", "content", "chunks", "chunk_pieces"];
        let device_tables = [
            "invitations",
            "accounts",
            "devices",
            "key_package_queues",
            "key_packages",
            "last_resort",
            "inbox_queues",
            "inbox",
        ];
        let rows = database_rows(&dir);
        let mut scanned = 0;
        for (table, row) in &rows {
            let forbidden: Vec<&(String, String)> = if group_tables.contains(&table.as_str()) {
                people.iter().collect()
            } else if device_tables.contains(&table.as_str()) {
                group_names.iter().collect()
            } else {
                assert_eq!(table, "meta", "unexpected table {table}");
                people.iter().chain(group_names.iter()).collect()
            };
            scanned += 1;
            for (what, needle) in forbidden {
                assert!(!row.contains(needle.as_str()), "{what} appears in table {table}");
            }
            for (what, secret) in &secrets {
                assert!(!row.contains(&hex::encode(secret)), "{what} is stored in table {table}");
            }
        }
        assert!(scanned > 50, "the scan saw the scenario's records ({scanned})");
        return Ok(());
    }

    let db = sled::open(dir.join("store"))?;
    let needles: Vec<(String, Vec<u8>)> = devices
        .iter()
        .flat_map(|d| {
            [
                (format!("device {}", d.id), d.id.as_bytes().to_vec()),
                (format!("account {}", d.account), d.account.as_bytes().to_vec()),
            ]
        })
        .collect();
    let group_needles: Vec<(String, Vec<u8>)> =
        groups.iter().map(|g| (format!("group {}", g.group), g.group.as_bytes().to_vec())).collect();
    let group_trees = [
        "groups",
        "verifiers",
        "log",
        "log_dedup",
        "expiry",
        "epoch_starts",
        "content",
        "content_ids",
        "chunks",
        "chunk_pieces",
    ];
    let device_trees = [
        "invitations",
        "accounts",
        "devices",
        "account_devices",
        "key_packages",
        "key_package_meta",
        "last_resort",
        "inbox",
        "inbox_meta",
    ];
    // Trees that belong to neither family, and may name neither.
    let neutral_trees = ["meta"];
    let names: Vec<String> = db.tree_names().iter().map(|n| String::from_utf8_lossy(n).into_owned()).collect();
    for tree in group_trees.iter().chain(device_trees.iter()) {
        assert!(names.contains(&tree.to_string()), "tree {tree} exists");
    }
    let mut scanned = 0;
    let all_needles: Vec<(String, Vec<u8>)> = needles.iter().chain(group_needles.iter()).cloned().collect();
    for (trees, forbidden) in
        [(&group_trees[..], &needles), (&device_trees[..], &group_needles), (&neutral_trees[..], &all_needles)]
    {
        for name in trees {
            for item in db.open_tree(name)?.iter() {
                let (key, value) = item?;
                scanned += 1;
                for (what, needle) in forbidden.iter() {
                    let found = key.windows(needle.len()).any(|w| w == needle.as_slice())
                        || value.windows(needle.len()).any(|w| w == needle.as_slice());
                    assert!(!found, "{what} appears in tree {name}");
                }
            }
        }
    }
    // And no tree outside these two families exists to hold such a link.
    for name in &names {
        assert!(
            name == "__sled__default"
                || group_trees.contains(&name.as_str())
                || device_trees.contains(&name.as_str())
                || neutral_trees.contains(&name.as_str()),
            "unexpected tree {name}"
        );
    }
    assert!(scanned > 50, "the scan saw the scenario's records ({scanned})");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_count_requests_without_naming_anyone() -> TestResult {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let relay = RelayProcess::start();
    let device = Device::register(&relay, TransportKind::Quic).await;
    device.client.request(Ping {}).await?;
    let _ = device.client.request(FetchLog { access: GroupKeys::new().access(), from: seq(0), limit: page(1) }).await;
    let mut socket = tokio::net::TcpStream::connect(relay.metrics.expect("metrics enabled")).await?;
    socket.write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n").await?;
    let mut text = String::new();
    socket.read_to_string(&mut text).await?;
    assert!(text.contains("huisclos_requests_total{kind=\"Ping\"} 1"), "{text}");
    assert!(text.contains("huisclos_errors_total{kind=\"Forbidden\"} 1"), "{text}");
    assert!(text.contains("huisclos_connections_total{transport=\"quic\"}"));
    assert!(!text.contains(&device.id.to_string()) && !text.contains(&device.account.to_string()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn request_rate_is_limited_per_connection() -> TestResult {
    let relay = RelayProcess::start();
    let device = Arc::new(Device::register(&relay, TransportKind::Quic).await);
    // Waves below the in-flight limit, as fast as answers come back: the rate limit,
    // not the in-flight limit, is what refuses.
    let mut outcomes = Vec::new();
    for _ in 0..8 {
        let wave: Vec<_> = (0..50)
            .map(|_| {
                let d = device.clone();
                async move { d.client.request(Ping {}).await }
            })
            .collect();
        outcomes.extend(futures_join(wave).await);
    }
    let limited =
        outcomes.iter().filter(|o| matches!(o, Err(TransportError::Relay(RelayError::RateLimited { .. })))).count();
    let limited_in_flight = outcomes
        .iter()
        .filter(|o| matches!(o, Err(TransportError::Relay(RelayError::LimitExceeded { limit: LimitKind::InFlight }))))
        .count();
    assert!(
        limited > 0,
        "400 requests in a burst exceed the burst allowance of 200 ({limited_in_flight} hit the in-flight limit)"
    );
    assert!(outcomes.iter().filter(|o| o.is_ok()).count() >= 150, "the burst itself is served");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unauthenticated_connections_are_closed_after_their_deadline() -> TestResult {
    let relay = RelayProcess::start();
    for kind in BOTH {
        let idle = relay.connect(kind).await;
        assert!(idle.request(Ping {}).await.is_ok());
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(idle.request(Ping {}).await.is_err(), "closed after unauthenticated_secs ({kind:?})");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_that_floods_without_reading_is_cut_off() -> TestResult {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let relay = RelayProcess::start();
    let tcp = tokio::net::TcpStream::connect(relay.tcp_address).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(huisclos_transport::tls::client_config(relay.pin)));
    let mut tls = connector.connect(huisclos_transport::tls::server_name(), tcp).await?;
    // Thousands of requests, none of whose answers are read.
    let ping = encode_frame(
        &Request { id: huisclos_protocol::ids::RequestId::new(1)?, body: Ping {}.into() }.to_wire(),
        Padding::SizeClasses,
    )?;
    let flood: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * 5000).collect();
    let _ = tokio::time::timeout(Duration::from_secs(5), tls.write_all(&flood)).await;
    // The relay closes the connection (unauthenticated deadline, write deadline) even
    // though its answers are stuck: reading now drains them and then meets the end.
    let mut sink = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(15), tls.read_to_end(&mut sink)).await;
    assert!(ended.is_ok(), "the relay let go of a peer that does not read");
    let bystander = Device::register(&relay, TransportKind::Quic).await;
    assert!(matches!(bystander.client.request(Ping {}).await, Ok(ResponseBody::Pong(_))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_graceful_shutdown_answers_every_write_it_stored() -> TestResult {
    for kind in BOTH {
        graceful_shutdown_answers(kind).await?;
    }
    Ok(())
}

async fn graceful_shutdown_answers(kind: TransportKind) -> TestResult {
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join("relay");
    let mut relay = RelayProcess::start_in(&dir);
    let alice = Device::register(&relay, TransportKind::Tcp).await;
    let keys = GroupKeys::new();
    alice
        .client
        .request(CreateGroup { group: keys.group, verifier: keys.token.verifier(), retention: LogRetention::Keep })
        .await?;
    let mut raw = match kind {
        TransportKind::Tcp => common::raw::RawTcp::connect(&relay).await?,
        TransportKind::Quic => common::raw::RawTcp::connect_quic(&relay).await?,
    };
    assert!(raw.authenticate(&alice.key).await?.is_ok());
    // Writes pipelined, and SIGTERM while they are in flight.
    let pid = relay.pid();
    let stop = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    });
    for n in 0..400u32 {
        let mut message = vec![0u8; 16 * 1024];
        message[..4].copy_from_slice(&n.to_be_bytes());
        if raw.send(AppendMessage { access: keys.access(), message: mls(message) }).await.is_err() {
            break;
        }
    }
    stop.await?;
    assert!(relay.terminate(), "clean shutdown");
    let mut answered = std::collections::BTreeSet::new();
    while let Ok(message) = raw.recv(Duration::from_secs(5)).await {
        if let RelayMessage::Response(Response { body: ResponseBody::Appended(appended), .. }) = message {
            answered.insert(appended.seq.get());
        }
    }
    let relay = RelayProcess::start_in(&dir);
    let client = relay.connect(TransportKind::Tcp).await;
    client.authenticate(&alice.key).await?;
    let mut stored = std::collections::BTreeSet::new();
    let mut from = 0;
    loop {
        let ResponseBody::LogPage(page) =
            client.request(FetchLog { access: keys.access(), from: seq(from), limit: page(256) }).await?
        else {
            panic!("log page")
        };
        stored.extend(page.entries.iter().map(|e| e.seq.get()));
        if page.end != LogPageEnd::More {
            break;
        }
        from = page.next.get();
    }
    println!("{kind:?}: {} writes stored before the shutdown, {} answered", stored.len(), answered.len());
    assert_eq!(stored, answered, "every stored write was answered before the connection closed");
    Ok(())
}

/// The edges a client written from `protocol-spec/` alone found unclear, each as the
/// spec now states it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_spec_holds_at_its_edges() -> TestResult {
    let relay = RelayProcess::start();
    let alice = Device::register(&relay, TransportKind::Quic).await;

    // ListDevices: in order of registration, the same second by id (4.6).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..4 {
        let key = signing_key();
        let possession = sign_device_link(&key, &alice.account);
        alice.client.request(AddDevice { device_key: DevicePublicKey::from_signing_key(&key), possession }).await?;
    }
    let ResponseBody::DeviceList(devices) = alice.client.request(ListDevices {}).await? else { panic!("list") };
    let order: Vec<_> = devices.devices.iter().map(|d| (d.registered_at, d.device)).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "registration order, then id");
    assert_eq!(order[0].1, alice.id, "the first device first");

    // A resent append or content record pushes no event (7.2, 9.1): `latest` never goes
    // back.
    let keys = GroupKeys::new();
    alice
        .client
        .request(CreateGroup { group: keys.group, verifier: keys.token.verifier(), retention: LogRetention::Keep })
        .await?;
    let watcher = alice.reconnect(&relay, TransportKind::Quic).await;
    watcher.request(Subscribe { groups: list(vec![keys.access()]) }).await?;
    alice.client.request(AppendMessage { access: keys.access(), message: mls("first") }).await?;
    alice.client.request(AppendMessage { access: keys.access(), message: mls("second") }).await?;
    let mut latest = Vec::new();
    while let Some(event) = watcher.next_event(Duration::from_millis(300)).await {
        if let Event::LogAdvanced(advanced) = event {
            latest.push(advanced.latest.get());
        }
    }
    alice.client.request(AppendMessage { access: keys.access(), message: mls("first") }).await?;
    let record = ContentId::from_bytes(random());
    let sealed = ContentRecordBytes::new(vec![1; 40])?;
    alice.client.request(PutContent { access: keys.access(), record, sealed: sealed.clone() }).await?;
    alice.client.request(PutContent { access: keys.access(), record, sealed }).await?;
    let mut after = Vec::new();
    while let Some(event) = watcher.next_event(Duration::from_millis(300)).await {
        after.push(event);
    }
    assert_eq!(latest.last(), Some(&1));
    assert!(!after.iter().any(|e| matches!(e, Event::LogAdvanced(_))), "a resent append pushes nothing: {after:?}");
    // A small record comes whole (8.3), once.
    let pushed: Vec<_> =
        after.iter().filter(|e| matches!(e, Event::ContentPushed(_) | Event::ContentAdvanced(_))).collect();
    assert!(
        matches!(pushed.as_slice(), [Event::ContentPushed(p)] if p.record == record && p.sealed.as_bytes() == [1; 40]),
        "{after:?}"
    );

    // The same group twice in one Subscribe is malformed (8.1).
    let twice = watcher.request(Subscribe { groups: list(vec![keys.access(), keys.access()]) }).await;
    assert_eq!(refusal(twice), RelayError::BadRequest);

    // A fetch from past the end of the log answers a `next` within it (7.4).
    let ResponseBody::LogPage(page) =
        alice.client.request(FetchLog { access: keys.access(), from: seq(1000), limit: page(10) }).await?
    else {
        panic!("page")
    };
    assert!(page.entries.is_empty());
    assert_eq!((page.next.get(), page.end), (2, LogPageEnd::UpToDate), "next is the log's end, not `from`");

    // A whole chunk in one piece whose hash does not match is refused and still paid
    // for (10.1).
    let ResponseBody::Usage(before) = alice.client.request(GetUsage {}).await? else { panic!("usage") };
    let bad = PutChunk {
        access: keys.access(),
        chunk: ChunkRef::from_bytes([9; 32]),
        total_len: ChunkOffset::new(1000)?,
        offset: ChunkOffset::ZERO,
        data: ChunkPiece::new(vec![5; 1000])?,
    };
    assert_eq!(refusal(alice.client.request(bad).await), RelayError::BadRequest);
    let ResponseBody::Usage(after_bad) = alice.client.request(GetUsage {}).await? else { panic!("usage") };
    assert_eq!(after_bad.used.get(), before.used.get() + 1000, "the reservation is kept");
    let status = alice.client.request(GetChunkStatus { access: keys.access(), chunk: ChunkRef::from_bytes([9; 32]) });
    assert_eq!(refusal(status.await), RelayError::NotFound, "and the chunk is gone");

    // `admin invite --valid-hours 0` is refused with a plain message.
    let output = std::process::Command::new(relay_binary())
        .arg("--data-dir")
        .arg(&relay.data_dir)
        .args(["admin", "invite", "--valid-hours", "0"])
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("0 is not in 1..=8760") && !stderr.contains("backtrace"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signals_reach_the_other_subscribers_now_and_are_never_stored() -> TestResult {
    let mut relay = RelayProcess::start();
    let marker: [u8; 48] = random();
    for kind in BOTH {
        let alice = Device::register(&relay, kind).await;
        let bob = Device::register(&relay, kind).await;
        let carol = Device::register(&relay, kind).await;
        let group = GroupKeys::new();
        alice
            .client
            .request(CreateGroup {
                group: group.group,
                verifier: group.token.verifier(),
                retention: LogRetention::Keep,
            })
            .await?;
        for device in [&alice, &bob] {
            device.client.request(Subscribe { groups: list(vec![group.access()]) }).await?;
        }
        let usage_before = usage(&alice.client).await;
        let signal = SignalBytes::new(marker.to_vec())?;
        let answer = alice.client.request(Signal { access: group.access(), payload: signal.clone() }).await?;
        assert_eq!(answer, ResponseBody::Signalled(Signalled {}));
        // Bob, subscribed, gets it as sent; Alice's own connection does not, and Carol,
        // who did not subscribe, gets nothing.
        let event = bob.client.next_event(Duration::from_secs(5)).await;
        assert_eq!(event, Some(Event::Signal(GroupSignal { group: group.group, payload: signal.clone() })));
        assert_eq!(alice.client.next_event(Duration::from_millis(300)).await, None);
        assert_eq!(carol.client.next_event(Duration::from_millis(100)).await, None);
        // It cost no quota, and left nothing to read: no log entry, no content record.
        assert_eq!(usage(&alice.client).await, usage_before);
        let ResponseBody::LogPage(log) =
            bob.client.request(FetchLog { access: group.access(), from: seq(0), limit: page(10) }).await?
        else {
            panic!("log page")
        };
        assert!(log.entries.is_empty());
        let ResponseBody::ContentPage(content) = bob
            .client
            .request(FetchContent { access: group.access(), from: ContentSeq::new(0)?, limit: page(10) })
            .await?
        else {
            panic!("content page")
        };
        assert!(content.records.is_empty());
        // Without the current epoch's token: refused, and forwarded to nobody.
        let mut forged = group.access();
        forged.token = huisclos_protocol::access::AccessToken::from_bytes(random());
        let refused = carol.client.request(Signal { access: forged, payload: signal.clone() }).await;
        assert_eq!(refusal(refused), RelayError::Forbidden);
        assert_eq!(bob.client.next_event(Duration::from_millis(300)).await, None);
        // A burst beyond the signal budget (16, then 4/s) is refused with a wait.
        let mut limited = 0;
        for _ in 0..40 {
            match alice.client.request(Signal { access: group.access(), payload: signal.clone() }).await {
                Err(TransportError::Relay(RelayError::RateLimited { retry_after_ms })) => {
                    assert!(retry_after_ms > 0 && retry_after_ms <= 1000, "{retry_after_ms}");
                    limited += 1;
                }
                other => {
                    other?;
                }
            }
        }
        assert!(limited >= 20, "{kind:?}: only {limited} of 40 signals in a burst were refused");
    }
    // Nothing of any signal is in the relay's files, even after it stopped cleanly.
    assert!(relay.terminate(), "the relay stops cleanly");
    let on_disk = if on_postgres() { 100 } else { 1024 };
    let found = found_in(&relay.data_dir, &[("a signal".to_owned(), marker.to_vec())], on_disk);
    assert!(found.is_empty(), "a signal was written to the relay's store: {found:?}");
    let marker_hex = hex::encode(marker);
    for (table, row) in database_rows(&relay.data_dir) {
        assert!(!row.contains(&marker_hex), "a signal was written to the database's {table}");
    }
    Ok(())
}

/// `FetchMany` answers each read exactly as its own request would be, in order, within
/// one frame: a refused read is answered `Refused` and the others still are; past the
/// frame, reads are `Deferred`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fetch_many_answers_each_read_as_its_own_request() -> TestResult {
    let relay = RelayProcess::start();
    for kind in BOTH {
        let device = Device::register(&relay, kind).await;
        let (one, two) = (GroupKeys::new(), GroupKeys::new());
        for keys in [&one, &two] {
            device
                .client
                .request(CreateGroup {
                    group: keys.group,
                    verifier: keys.token.verifier(),
                    retention: LogRetention::Keep,
                })
                .await?;
        }
        for n in 0..3u8 {
            device.client.request(AppendMessage { access: one.access(), message: mls(vec![n; 300]) }).await?;
            let sealed = ContentRecordBytes::new(vec![n + 1; 500])?;
            let record = ContentId::from_bytes(random());
            device.client.request(PutContent { access: two.access(), record, sealed }).await?;
        }
        let log = FetchLog { access: one.access(), from: seq(0), limit: page(100) };
        let content = FetchContent { access: two.access(), from: ContentSeq::ZERO, limit: page(100) };
        let stranger = GroupKeys::new();
        let items = vec![
            FetchItem::Log(log.clone()),
            FetchItem::Log(FetchLog { access: stranger.access(), from: seq(0), limit: page(10) }),
            FetchItem::Content(content.clone()),
            FetchItem::Content(FetchContent { access: one.next().access(), from: ContentSeq::ZERO, limit: page(10) }),
        ];
        let ResponseBody::Fetched(fetched) = device.client.request(FetchMany { items: list(items) }).await? else {
            panic!("fetched")
        };
        let ResponseBody::LogPage(alone) = device.client.request(log).await? else { panic!("log") };
        let ResponseBody::ContentPage(content_alone) = device.client.request(content).await? else { panic!("content") };
        assert_eq!(fetched.results.len(), 4);
        assert_eq!(fetched.results[0], FetchResult::Log(alone), "as its own request");
        assert_eq!(fetched.results[1], FetchResult::Refused(RelayError::Forbidden), "an unknown group");
        assert_eq!(fetched.results[2], FetchResult::Content(content_alone), "the others still answered");
        assert_eq!(fetched.results[3], FetchResult::Refused(RelayError::Forbidden), "a token for no epoch");
    }

    // Past the frame: a log of large entries fills the answer, and what follows waits.
    let device = Device::register(&relay, TransportKind::Quic).await;
    let big = GroupKeys::new();
    device
        .client
        .request(CreateGroup { group: big.group, verifier: big.token.verifier(), retention: LogRetention::Keep })
        .await?;
    for n in 0..6u8 {
        device.client.request(AppendMessage { access: big.access(), message: mls(vec![n; 200_000]) }).await?;
    }
    let read = FetchItem::Log(FetchLog { access: big.access(), from: seq(0), limit: page(100) });
    let ResponseBody::Fetched(fetched) =
        device.client.request(FetchMany { items: list(vec![read.clone(), read]) }).await?
    else {
        panic!("fetched")
    };
    let FetchResult::Log(first) = &fetched.results[0] else { panic!("the first read is never deferred") };
    assert!(!first.entries.is_empty() && first.entries.len() < 6, "{} entries fit", first.entries.len());
    assert_eq!(fetched.results[1], FetchResult::Deferred(Deferred {}), "no room left: asked again later");
    Ok(())
}

/// A device signs in in one round trip (`SignIn`), on both transports. Its signature is
/// bound to the connection's TLS exporter alone: captured on one connection, it opens no
/// other; it is no answer to a challenge either; and a connection signs in once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_signs_in_in_one_round_trip_bound_to_its_connection() -> TestResult {
    use common::raw::RawTcp;
    use huisclos_protocol::auth::ChallengeNonce;
    let relay = RelayProcess::start();
    let device = Device::register(&relay, TransportKind::Quic).await;
    for kind in BOTH {
        let client = relay.connect(kind).await;
        assert_eq!(client.sign_in(&device.key).await?, device.account, "signed in, {kind:?}");
        assert!(matches!(client.request(GetUsage {}).await?, ResponseBody::Usage(_)), "and served");
    }

    // Captured on one connection...
    let mut first = RawTcp::connect(&relay).await?;
    let signature = sign_device_auth(&device.key, first.exporter(), &ChallengeNonce::NONE, AuthPurpose::SignIn);
    let signed_in = first.call(SignIn { device: device.id, signature }).await?;
    assert!(matches!(signed_in, Ok(ResponseBody::Authenticated(_))), "{signed_in:?}");
    // ...it signs in no second time on the same connection...
    let again = first.call(SignIn { device: device.id, signature }).await?;
    assert_eq!(again, Err(RelayError::BadRequest), "one sign-in per connection");
    // ...opens no other connection, over TCP or QUIC...
    for mut other in [RawTcp::connect(&relay).await?, RawTcp::connect_quic(&relay).await?] {
        let replayed = other.call(SignIn { device: device.id, signature }).await?;
        assert_eq!(replayed, Err(RelayError::AuthFailed), "a signature for another connection");
        // ...and answers no challenge.
        let Ok(ResponseBody::Challenge(_)) = other.call(GetChallenge {}).await? else { panic!("challenge") };
        let as_answer = other.call(Authenticate { device: device.id, signature }).await?;
        assert_eq!(as_answer, Err(RelayError::AuthFailed), "a sign-in is no answer to a challenge");
    }
    Ok(())
}
