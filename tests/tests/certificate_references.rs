//! A certificate once per space: records refer to their author's certificate once the
//! space's store holds one of the author's records carrying it, in the same history
//! generation. These tests drive real engines and the relay's real handler
//! (in-process, [`huisclos_tests::sim`]) and look at the records as the relay stores
//! them: which carry the certificate, which refer to it, and that every reader, a later
//! member included, takes them with the same checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use huisclos_core::content::{ContentBody, HistoryKey, Post, React, Reaction, Text};
use huisclos_core::engine::adversary::Adversary;
use huisclos_core::error::Unverified;
use huisclos_core::space::{HistoryMode, Role};
use huisclos_protocol::ids::{ContentId, GroupId};
use huisclos_tests::sim::{SimDevice, SimRelay, settle, space_with};

/// The version byte of each record the relay stores for the space, by record id:
/// 1 carries the author's certificate, 2 refers to it.
fn forms(relay: &SimRelay, space: &GroupId) -> HashMap<ContentId, u8> {
    relay.content_records(*space).into_iter().map(|(id, sealed)| (id, sealed[0])).collect()
}

fn texts(device: &SimDevice, space: &GroupId) -> Vec<String> {
    let mut texts: Vec<String> = device.texts(space).into_iter().map(|(_, text)| text).collect();
    texts.sort();
    texts
}

fn post(text: &str) -> ContentBody {
    ContentBody::Post(Post { text: Text::new(text).unwrap() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_refer_to_a_certificate_the_store_holds_and_a_later_member_still_reads_them() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;

    // Bob's first record carries his certificate; once the relay stored it, his next
    // ones refer to it.
    let first = bob.engine_mut().post(&space, "Bob: the first statement").unwrap();
    bob.drive(&relay).await;
    let later: Vec<ContentId> =
        (0..3).map(|n| bob.engine_mut().post(&space, &format!("Bob: statement {n}")).unwrap()).collect();
    bob.drive(&relay).await;
    let stored = forms(&relay, &space);
    assert_eq!(stored[&first], 1, "the first record carries the certificate");
    for id in &later {
        assert_eq!(stored[id], 2, "later records refer to it");
    }
    // A referring record is smaller by the certificate (about 170 bytes here).
    let sizes: HashMap<ContentId, usize> =
        relay.content_records(space).into_iter().map(|(id, sealed)| (id, sealed.len())).collect();
    assert!(sizes[&later[0]] + 120 < sizes[&first], "{} against {}", sizes[&later[0]], sizes[&first]);

    settle(&relay, &mut [&mut alice, &mut bob]).await;
    let expected =
        ["Bob: statement 0", "Bob: statement 1", "Bob: statement 2", "Bob: the first statement"].map(String::from);
    assert_eq!(texts(&alice, &space), expected);

    // Bob is removed. Carol, added later, reads his records from the store: the
    // certificate comes from the record that carried it, as Bob's leaf is gone.
    let bob_identity = bob.engine().identity();
    alice.engine_mut().remove(&space, &bob_identity).unwrap();
    alice.drive(&relay).await;
    settle(&relay, &mut [&mut alice]).await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let card = carol.engine().contact_card().unwrap();
    alice.engine_mut().invite(&space, &card, Role::Reader).unwrap();
    alice.drive(&relay).await;
    carol.sync(&relay).await;
    carol.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut carol]).await;
    assert_eq!(texts(&carol, &space), expected, "{:?}", carol.rejections());
    let names: Vec<String> = carol.engine().feed(&space).unwrap().into_iter().map(|item| item.author_name).collect();
    assert!(names.iter().all(|name| name == "Bob"), "{names:?}");
    // And after a restart, from the certificates its profile kept.
    carol.restart(&relay);
    assert_eq!(texts(&carol, &space), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_referring_to_someone_elses_or_an_unknown_certificate_is_refused_everywhere() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut mallory = SimDevice::join(&relay, "Mallory").await;
    let space = space_with(
        &relay,
        &mut alice,
        &mut [(&mut bob, Role::Contributor), (&mut mallory, Role::Contributor)],
        HistoryMode::Keep,
    )
    .await;
    alice.engine_mut().post(&space, "Alice: hearing on Thursday").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory]).await;

    // Mallory's modified client seals records under the space's key that refer to
    // Alice's certificate (signed with Mallory's key), and to a certificate of her
    // key under a stranger's identity that no member was ever shown.
    let (generation, key) = *mallory.engine_mut().adversary().history_keys(&space).last().unwrap();
    let key = HistoryKey::from_parts(generation, key);
    let access = mallory.engine_mut().adversary().access(&space).unwrap();
    let alices = alice.engine_mut().adversary().certificate().unwrap();
    let strangers = mallory.engine_mut().adversary().certificate_as_stranger("Alice").unwrap();
    let at = mallory.clock();
    for (text, certificate) in [("Alice: hearing cancelled", &alices), ("Alice: hearing moved", &strangers)] {
        let (id, sealed) =
            mallory.engine_mut().adversary().referring_record(&space, &key, post(text), at, Some(certificate)).unwrap();
        let put = Adversary::put_record(access.clone(), id, sealed).unwrap();
        mallory.send_raw(&relay, put).await.expect("the relay takes what it cannot judge");
    }
    // And one that honestly refers to her own certificate, which no record of the
    // store carries yet: her leaf does, so current members take it.
    let (id, sealed) =
        mallory.engine_mut().adversary().referring_record(&space, &key, post("Mallory: noted"), at, None).unwrap();
    mallory.send_raw(&relay, Adversary::put_record(access, id, sealed).unwrap()).await.unwrap();

    settle(&relay, &mut [&mut alice, &mut bob]).await;
    for device in [&alice, &bob] {
        assert_eq!(
            texts(device, &space),
            ["Alice: hearing on Thursday", "Mallory: noted"].map(String::from),
            "{}",
            device.name
        );
        let refusals = device.refusals();
        let faults: Vec<String> = refusals.iter().map(|r| format!("{r:?}")).collect();
        assert!(
            faults.iter().any(|f| f.contains("Signature")),
            "{}: Alice's certificate with Mallory's signature does not verify: {faults:?}",
            device.name
        );
        assert!(
            refusals.iter().any(|r| format!("{r:?}").contains(&format!("{:?}", Unverified::UnknownAuthor))),
            "{}: the stranger's certificate is unknown: {faults:?}",
            device.name
        );
    }
}

/// Bob's first record of the generation carries his certificate but is refused by
/// every reader for what it says (a reaction to an item nobody holds): the certificate
/// is kept all the same, so his later records, which refer to it, are read by a member
/// added after he was removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_carried_by_a_refused_record_still_serves_the_records_that_refer_to_it() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let (generation, key) = *bob.engine_mut().adversary().history_keys(&space).last().unwrap();
    let key = HistoryKey::from_parts(generation, key);
    let access = bob.engine_mut().adversary().access(&space).unwrap();
    let at = bob.clock();
    let reaction = ContentBody::React(React {
        target: ContentId::from_bytes([0xee; 16]),
        reaction: Reaction::new("👍").unwrap(),
        on: true,
    });
    let (id, sealed) = bob.engine_mut().adversary().sealed_record(&space, &key, reaction, at).unwrap();
    bob.send_raw(&relay, Adversary::put_record(access.clone(), id, sealed).unwrap()).await.unwrap();
    let (id, sealed) =
        bob.engine_mut().adversary().referring_record(&space, &key, post("Bob: after the reaction"), at, None).unwrap();
    bob.send_raw(&relay, Adversary::put_record(access, id, sealed).unwrap()).await.unwrap();
    settle(&relay, &mut [&mut alice]).await;
    assert_eq!(texts(&alice, &space), ["Bob: after the reaction"]);

    let bob_identity = bob.engine().identity();
    alice.engine_mut().remove(&space, &bob_identity).unwrap();
    alice.drive(&relay).await;
    settle(&relay, &mut [&mut alice]).await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let card = carol.engine().contact_card().unwrap();
    alice.engine_mut().invite(&space, &card, Role::Reader).unwrap();
    alice.drive(&relay).await;
    carol.sync(&relay).await;
    carol.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut carol]).await;
    assert_eq!(texts(&carol, &space), ["Bob: after the reaction"], "{:?}", carol.rejections());
    assert_eq!(carol.rejections().len(), 1, "the reaction alone is refused: {:?}", carol.rejections());
}
