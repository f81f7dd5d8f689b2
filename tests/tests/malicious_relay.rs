//! A malicious relay, attack by attack. The relay's real handler and store answer every
//! request ([`huisclos_tests::sim`]); between the relay and the device, the attacker
//! changes the true answer as a compromised relay could: drops, duplicates, replays,
//! reorders, truncates or flips bits in what it serves, swaps two spaces' logs or
//! records, forks the log, withholds a commit, substitutes a key package or serves
//! another person's certificate, tampers with or replays a Welcome.
//!
//! For each, the devices refuse what is forged and either converge or report the fault
//! explicitly; no device ever shows forged content. SECURITY.md lists every attack with
//! its test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use huisclos_core::engine::ClientEvent;
use huisclos_core::space::{HistoryMode, Policy, Role, SpaceDescription, SpaceName};
use huisclos_protocol::codec::BoundedVec;
use huisclos_protocol::ids::{GroupId, Seq};
use huisclos_protocol::messages::{
    ContentRecordBytes, EntryKind, LogPageEnd, MlsMessageBytes, RelayError, RequestBody, ResponseBody, WelcomeBytes,
};
use huisclos_tests::sim::{SimDevice, SimRelay, create_space, settle, space_with};

type Answer = Result<ResponseBody, RelayError>;

/// Rebuilds a bounded list after `change`.
fn edit<T: Clone, const MAX: usize>(list: &mut BoundedVec<T, MAX>, change: impl FnOnce(&mut Vec<T>)) {
    let mut items = list.to_vec();
    change(&mut items);
    *list = BoundedVec::new(items).unwrap();
}

/// The space a log or content request is about.
fn group_of(request: &RequestBody) -> Option<GroupId> {
    match request {
        RequestBody::FetchLog(fetch) => Some(fetch.access.group),
        RequestBody::FetchContent(fetch) => Some(fetch.access.group),
        _ => None,
    }
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    let at = at.min(bytes.len() - 1);
    bytes[at] ^= 0x40;
    bytes
}

fn texts(device: &SimDevice, space: &GroupId) -> Vec<String> {
    device.texts(space).into_iter().map(|(_, text)| text).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipped_and_truncated_log_entries_are_refused_and_the_log_goes_on() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::None).await;
    for text in ["one", "two", "three"] {
        alice.engine_mut().post(&space, text).unwrap();
    }
    alice.drive(&relay).await;

    let mut done = false;
    bob.sync_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::LogPage(page)) = answer
            && page.entries.len() >= 3
            && !done
        {
            done = true;
            edit(&mut page.entries, |entries| {
                let first = entries[0].message.as_bytes();
                entries[0].message = MlsMessageBytes::new(flip(first, first.len() / 2)).unwrap();
                let second = entries[1].message.as_bytes();
                entries[1].message = MlsMessageBytes::new(second[..second.len() / 2].to_vec()).unwrap();
            });
        }
    })
    .await;
    assert!(done, "the attack ran");
    assert_eq!(texts(&bob, &space), ["three"], "nothing forged, the rest of the log read");
    assert_eq!(bob.rejections().len(), 2, "both reported: {:?}", bob.rejections());

    alice.engine_mut().post(&space, "four").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(texts(&bob, &space), ["three", "four"], "the space goes on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_entries_and_a_replayed_message_are_shown_once() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::None).await;
    alice.engine_mut().post(&space, "one").unwrap();
    alice.drive(&relay).await;

    // Every entry served twice; the first message kept for a replay.
    let kept: Arc<Mutex<Option<MlsMessageBytes>>> = Arc::default();
    let keep = kept.clone();
    bob.sync_through(&relay, &mut move |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::LogPage(page)) = answer
            && !page.entries.is_empty()
        {
            keep.lock().unwrap().get_or_insert_with(|| page.entries[0].message.clone());
            edit(&mut page.entries, |entries| {
                let doubled: Vec<_> = entries.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
                *entries = doubled;
            });
        }
    })
    .await;
    assert_eq!(texts(&bob, &space), ["one"]);
    assert!(bob.rejections().is_empty(), "a duplicate at the same position is simply skipped");

    // Alice's next message is replaced by the first one, replayed.
    alice.engine_mut().post(&space, "two").unwrap();
    alice.drive(&relay).await;
    let replay = kept.lock().unwrap().clone().unwrap();
    bob.sync_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::LogPage(page)) = answer {
            edit(&mut page.entries, |entries| {
                for entry in entries.iter_mut().filter(|e| e.kind == EntryKind::Message) {
                    entry.message = replay.clone();
                }
            });
        }
    })
    .await;
    assert_eq!(texts(&bob, &space), ["one"], "the replay is not shown again");
    assert_eq!(bob.rejections().len(), 1, "{:?}", bob.rejections());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_records_swapped_between_spaces_or_flipped_are_refused() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let a = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let b = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.engine_mut().post(&a, "A1").unwrap();
    alice.engine_mut().post(&a, "A2").unwrap();
    alice.engine_mut().post(&b, "B1").unwrap();
    alice.drive(&relay).await;

    // First the relay keeps A's records back and takes B's; then it serves B's record
    // in A's first place, and A's second with one bit flipped.
    let mut from_b = None;
    bob.sync_through(&relay, &mut |request: &RequestBody, answer: &mut Answer| {
        let Ok(ResponseBody::ContentPage(page)) = answer else { return };
        if group_of(request) == Some(b) {
            from_b = page.records.first().map(|r| (r.record, r.sealed.clone()));
        } else if group_of(request) == Some(a) {
            edit(&mut page.records, Vec::clear);
        }
    })
    .await;
    let (id, sealed) = from_b.expect("B's record was served");
    bob.sync_through(&relay, &mut |request: &RequestBody, answer: &mut Answer| {
        let Ok(ResponseBody::ContentPage(page)) = answer else { return };
        if group_of(request) == Some(a) && page.records.len() == 2 {
            edit(&mut page.records, |records| {
                records[0].record = id;
                records[0].sealed = sealed.clone();
                records[1].sealed = ContentRecordBytes::new(flip(records[1].sealed.as_bytes(), 40)).unwrap();
            });
        }
    })
    .await;
    assert_eq!(texts(&bob, &b), ["B1"]);
    assert!(texts(&bob, &a).is_empty(), "nothing forged in A: {:?}", texts(&bob, &a));
    assert_eq!(bob.rejections().len(), 2, "{:?}", bob.rejections());
    assert!(bob.warnings().is_empty(), "positions were not skipped: {:?}", bob.warnings());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_swapped_between_spaces_are_refused() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let a = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::None).await;
    let b = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::None).await;
    alice.engine_mut().post(&b, "B1").unwrap();
    alice.drive(&relay).await;

    // The relay keeps B's message as Bob reads it...
    let mut from_b = None;
    bob.sync_through(&relay, &mut |request: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::LogPage(page)) = answer
            && group_of(request) == Some(b)
        {
            if let Some(entry) = page.entries.iter().find(|e| e.kind == EntryKind::Message) {
                from_b = Some(entry.message.clone());
            }
        }
    })
    .await;
    assert_eq!(texts(&bob, &b), ["B1"]);
    let b_message = from_b.expect("B's log served a message");

    // ...and serves it in A's log in place of A's own.
    alice.engine_mut().post(&a, "A1").unwrap();
    alice.drive(&relay).await;
    bob.sync_through(&relay, &mut |request: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::LogPage(page)) = answer
            && group_of(request) == Some(a)
        {
            edit(&mut page.entries, |entries| {
                for entry in entries.iter_mut().filter(|e| e.kind == EntryKind::Message) {
                    entry.message = b_message.clone();
                }
            });
        }
    })
    .await;
    assert!(texts(&bob, &a).is_empty(), "B's message is not shown in A: {:?}", texts(&bob, &a));
    assert_eq!(texts(&bob, &b), ["B1"], "nor again in B");
    assert_eq!(bob.rejections().len(), 1, "{:?}", bob.rejections());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_substituted_key_package_or_another_persons_certificate_is_refused() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut mallory = SimDevice::join(&relay, "Mallory").await;
    let space = create_space(&mut alice, "Case 207", Policy::Confidential, HistoryMode::Keep);
    alice.drive(&relay).await;

    for (round, serve_as_asked) in [(0, true), (1, false)] {
        let mallorys = relay.take_key_package(mallory.engine().device_id());
        let mallory_device = mallory.engine().device_id();
        alice.engine_mut().invite(&space, &bob.engine().contact_card().unwrap(), Role::Contributor).unwrap();
        let mut attacked = false;
        alice
            .drive_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
                if let Ok(ResponseBody::ClaimedKeyPackages(claimed)) = answer {
                    attacked = true;
                    edit(&mut claimed.claims, |claims| {
                        // As asked: Mallory's package under Bob's device id. Otherwise:
                        // Mallory's own device, which nobody asked for.
                        if !serve_as_asked {
                            claims[0].device = mallory_device;
                        }
                        claims[0].package = Some(mallorys.clone());
                    });
                }
            })
            .await;
        assert!(attacked, "round {round}");
        let warnings = alice.warnings();
        assert_eq!(warnings.len(), round + 1, "{warnings:?}");
        let expected = if serve_as_asked { "not the invited person's device" } else { "not asked for" };
        assert!(warnings[round].contains(expected), "{warnings:?}");
        assert!(alice.rejections().last().unwrap().contains("the invitation failed"), "{:?}", alice.rejections());
    }
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory]).await;
    let members: Vec<String> = alice.engine().members(&space).unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(members, ["Alice"]);
    for device in [&bob, &mallory] {
        assert!(device.engine().spaces().is_empty(), "{} got nothing", device.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_log_is_reported_and_shows_nothing_forged() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let space = space_with(
        &relay,
        &mut alice,
        &mut [(&mut bob, Role::SpaceManager), (&mut carol, Role::Contributor)],
        HistoryMode::None,
    )
    .await;

    // Two commits for one epoch: the relay orders Alice's and refuses Bob's, but keeps
    // Bob's to show Carol a different history.
    alice.engine_mut().rename(&space, SpaceName::new("Fork A").unwrap()).unwrap();
    bob.engine_mut().describe(&space, SpaceDescription::new("Described by Bob").unwrap()).unwrap();
    alice.hold_commit(&relay).await;
    let bobs = bob.hold_commit(&relay).await;
    assert!(alice.step(&relay).await);
    assert!(bob.step(&relay).await);
    carol
        .sync_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
            if let Ok(ResponseBody::LogPage(page)) = answer {
                edit(&mut page.entries, |entries| {
                    for entry in entries.iter_mut().filter(|e| e.kind == EntryKind::Commit) {
                        entry.message = bobs.clone();
                    }
                });
            }
        })
        .await;
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    alice.engine_mut().post(&space, "After the fork").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    carol.sync(&relay).await;

    // Carol is on another branch: she cannot read on, and is told so; she shows
    // nothing she did not really receive, and the divergence is visible.
    assert!(!texts(&carol, &space).contains(&"After the fork".to_owned()));
    assert!(
        carol.warnings().iter().any(|w| w.contains("refused this device's access")),
        "the fork is reported: {:?}",
        carol.warnings()
    );
    assert_ne!(
        carol.engine().epoch_authenticator(&space).unwrap(),
        alice.engine().epoch_authenticator(&space).unwrap()
    );
    // Carol's branch has Bob's refused change and not Alice's accepted one.
    let (carols, alices) = (&carol.engine().spaces()[0], &alice.engine().spaces()[0]);
    assert_eq!((carols.name.as_str(), carols.description.as_str()), ("Case 207", "Described by Bob"));
    assert_eq!((alices.name.as_str(), alices.description.as_str()), ("Fork A", "Described by Bob"));
    assert_eq!(texts(&bob, &space), ["After the fork"], "the honest branch goes on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withheld_commit_is_reported_instead_of_asked_for_for_ever() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.engine_mut().rename(&space, SpaceName::new("Case 207 (appeal)").unwrap()).unwrap();
    alice.drive(&relay).await;

    // Bob writes in the epoch he knows; the relay says it is stale, but never shows him
    // the commit that closed it.
    bob.engine_mut().post(&space, "Written in the old epoch").unwrap();
    let mut withheld = 0;
    bob.drive_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::LogPage(page)) = answer
            && page.entries.iter().any(|e| e.kind == EntryKind::Commit)
        {
            withheld += 1;
            edit(&mut page.entries, |entries| entries.retain(|e| e.kind != EntryKind::Commit));
            page.end = LogPageEnd::UpToDate;
        }
    })
    .await;
    assert!(withheld >= 3, "asked a few times ({withheld}), then stopped");
    let warnings = bob.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("withholding"), "{warnings:?}");
    assert!(bob.engine().poll_timeout().is_some(), "it waits before asking again");

    // Once the relay serves the log honestly, Bob catches up and his post goes out.
    bob.advance(3600);
    bob.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(bob.engine().spaces()[0].name, "Case 207 (appeal)");
    assert_eq!(texts(&alice, &space), ["Written in the old epoch"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thinned_content_and_a_renumbered_log_are_reported() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    for text in ["first", "second", "third"] {
        alice.engine_mut().post(&space, text).unwrap();
    }
    alice.drive(&relay).await;

    // The middle record is dropped from Bob's page.
    bob.sync_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::ContentPage(page)) = answer
            && page.records.len() == 3
        {
            edit(&mut page.records, |records| {
                records.remove(1);
            });
        }
    })
    .await;
    assert_eq!(texts(&bob, &space), ["first", "third"]);
    assert_eq!(bob.warnings().len(), 1, "{:?}", bob.warnings());
    assert!(bob.warnings()[0].contains("skipped content records 1 to 1"), "{:?}", bob.warnings());

    // A commit served under a later position than its own: the gap is reported.
    alice.engine_mut().rename(&space, SpaceName::new("Renamed").unwrap()).unwrap();
    alice.drive(&relay).await;
    bob.sync_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::LogPage(page)) = answer {
            edit(&mut page.entries, |entries| {
                for entry in entries.iter_mut().filter(|e| e.kind == EntryKind::Commit) {
                    entry.seq = Seq::new(entry.seq.get() + 1).unwrap();
                }
            });
        }
    })
    .await;
    assert!(bob.warnings().iter().any(|w| w.contains("skipped log entries")), "{:?}", bob.warnings());
    assert_eq!(texts(&bob, &space), ["first", "third"], "nothing forged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_or_replayed_welcome_is_refused() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let first = create_space(&mut alice, "First", Policy::Confidential, HistoryMode::Keep);
    let second = create_space(&mut alice, "Second", Policy::Confidential, HistoryMode::Keep);
    let card = bob.engine().contact_card().unwrap();
    alice.engine_mut().invite(&first, &card, Role::Contributor).unwrap();
    alice.drive(&relay).await;

    // The first Welcome is kept as it was served.
    let kept: Arc<Mutex<Option<WelcomeBytes>>> = Arc::default();
    let keep = kept.clone();
    bob.sync_through(&relay, &mut move |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::Welcomes(welcomes)) = answer
            && let Some(item) = welcomes.entries.first()
        {
            keep.lock().unwrap().get_or_insert(item.welcome.clone());
        }
    })
    .await;
    assert!(bob.events.iter().any(|e| matches!(e, ClientEvent::Invited { space, .. } if *space == first)));

    // The second arrives with a bit flipped; the first is served again in its place.
    alice.engine_mut().invite(&second, &card, Role::Contributor).unwrap();
    alice.drive(&relay).await;
    let replay = kept.lock().unwrap().clone().unwrap();
    let mut served = 0;
    bob.sync_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::Welcomes(welcomes)) = answer
            && !welcomes.entries.is_empty()
        {
            served += 1;
            edit(&mut welcomes.entries, |items| {
                let genuine = items[0].clone();
                let mut flipped = genuine.clone();
                flipped.welcome = WelcomeBytes::new(flip(genuine.welcome.as_bytes(), 200)).unwrap();
                let mut replayed = genuine;
                replayed.welcome = replay.clone();
                *items = vec![flipped, replayed];
            });
        }
    })
    .await;
    assert_eq!(served, 1);
    let rejections = bob.rejections();
    assert_eq!(rejections.len(), 2, "{rejections:?}");
    assert!(rejections.iter().all(|r| r.contains("an invitation was refused")), "{rejections:?}");
    let spaces: Vec<GroupId> = bob.engine().spaces().into_iter().map(|s| s.id).collect();
    assert_eq!(spaces, [first], "only the genuine invitation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_or_swapped_chunk_is_refused_and_the_download_resumes_later() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let work = tempfile::tempdir().unwrap();
    let chunk = huisclos_core::chunk::CHUNK_LEN;
    let content: Vec<u8> = (0..2 * chunk + 99).map(|i| (i % 239) as u8).collect();
    std::fs::write(work.path().join("a"), &content).unwrap();
    let node = alice.engine_mut().put_file(&space, None, "witness.mp3", None, &work.path().join("a")).unwrap();
    alice.drive(&relay).await;
    bob.sync(&relay).await;

    // The relay flips a bit in the first piece it serves, then serves another chunk of
    // the file in place of the second.
    let dest = work.path().join("b");
    bob.engine_mut().get_file(&space, &node, None, &dest).unwrap();
    let mut pieces = 0;
    let mut first_piece = None;
    bob.drive_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::ChunkData(data)) = answer {
            pieces += 1;
            if pieces == 1 {
                data.data = huisclos_protocol::messages::ChunkPiece::new(flip(data.data.as_bytes(), 100)).unwrap();
            } else if first_piece.is_none() {
                first_piece = Some(data.data.clone());
            } else if data.offset.get() == 0 {
                data.data = first_piece.clone().unwrap();
            }
        }
    })
    .await;
    assert!(!dest.exists(), "nothing forged is written");
    assert!(bob.rejections().len() >= 2, "{:?}", bob.rejections());
    assert_eq!(bob.engine().pending_transfers().unwrap(), (0, 1), "the download waits");

    // The relay behaves again: the download goes on and the file is exact.
    bob.advance(3600);
    bob.drive(&relay).await;
    assert_eq!(std::fs::read(&dest).unwrap(), content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_reordered_for_one_device_still_show_once_each() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::None).await;
    for text in ["first", "second", "third"] {
        alice.engine_mut().post(&space, text).unwrap();
    }
    alice.drive(&relay).await;
    // Bob's page comes with its messages in reverse order (their positions kept).
    bob.sync_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::LogPage(page)) = answer {
            edit(&mut page.entries, |entries| {
                let messages: Vec<MlsMessageBytes> = entries.iter().rev().map(|e| e.message.clone()).collect();
                for (entry, message) in entries.iter_mut().zip(messages) {
                    entry.message = message;
                }
            });
        }
    })
    .await;
    let mut shown = texts(&bob, &space);
    assert_eq!(shown, ["third", "second", "first"], "in the order served, each once");
    shown.sort();
    let mut sent = texts(&alice, &space);
    sent.sort();
    assert_eq!(shown, sent, "the same items as the author's");
    assert!(bob.rejections().is_empty() && bob.warnings().is_empty());
}

/// Reads sent together (`FetchMany`) are attacked as a whole. The relay drops one
/// space's answers, so that the rest would be taken for the wrong spaces: the device
/// takes nothing of the answer. Or it answers a content page where the first space's log
/// page belongs: that space's answers are refused, the other space's are taken. Either
/// way the device says so, and reads everything at the next sync from an honest
/// answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_to_reads_sent_together_that_does_not_match_them_is_refused_whole() {
    use huisclos_protocol::messages::FetchResult;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let a = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let b = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.engine_mut().post(&a, "A1").unwrap();
    alice.engine_mut().post(&b, "B1").unwrap();
    alice.drive(&relay).await;

    for attack in 0..2 {
        let rejected = bob.rejections().len();
        bob.engine_mut().sync_all();
        let mut attacked = false;
        while bob
            .step_through_whole(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
                if let Ok(ResponseBody::Fetched(fetched)) = answer {
                    edit(&mut fetched.results, |results| {
                        if attack == 0 {
                            results.pop();
                        } else if let Some(FetchResult::Content(page)) = results.get(1).cloned() {
                            results[0] = FetchResult::Content(page);
                        }
                    });
                    attacked = true;
                }
            })
            .await
        {}
        assert!(attacked, "the reads went together");
        let shown = [&a, &b].iter().filter(|space| !texts(&bob, space).is_empty()).count();
        if attack == 0 {
            assert_eq!(shown, 0, "nothing taken from an answer short of a space");
        } else {
            assert_eq!(shown, 1, "the space answered out of shape is refused, the other taken");
        }
        assert!(bob.rejections().len() > rejected, "and the device says so");
    }
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(texts(&bob, &a), ["A1"]);
    assert_eq!(texts(&bob, &b), ["B1"]);
}

/// A relay built before `SignIn` and `FetchMany` answers them `BadRequest` (it cannot
/// decode them). A device of this release still signs in (with a challenge, as before)
/// and reads every space (one by one on that connection), and shows everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_from_before_sign_in_and_fetch_many_is_still_served() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let a = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let b = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.engine_mut().post(&a, "A1").unwrap();
    alice.engine_mut().post(&b, "B1").unwrap();
    alice.drive(&relay).await;

    bob.disconnect(&relay);
    bob.connect(&relay);
    let (mut sign_ins, mut batches) = (0, 0);
    for _ in 0..200 {
        let unknown = match bob.hold() {
            Some(RequestBody::SignIn(_)) => {
                sign_ins += 1;
                true
            }
            Some(RequestBody::FetchMany(_)) => {
                batches += 1;
                true
            }
            Some(_) => false,
            None => break,
        };
        if unknown {
            assert!(bob.refuse_next(RelayError::BadRequest));
        } else {
            bob.step(&relay).await;
        }
    }
    assert_eq!((sign_ins, batches), (1, 1), "each tried once, then the old way");
    assert_eq!(texts(&bob, &a), ["A1"]);
    assert_eq!(texts(&bob, &b), ["B1"]);
    assert!(bob.warnings().is_empty(), "{:?}", bob.warnings());
}

/// A relay that always says more records follow, and serves nothing new (the same
/// records again, or none), would keep a device asking page after page for ever:
/// battery and a 2G link's bytes spent on nothing. An honest relay always serves a
/// record when one is due (messages.md 9.2), so a page with `more` that moves the
/// reading nowhere ends the reading on; the next sync or push asks again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_saying_more_follows_without_serving_it_cannot_keep_a_device_asking() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    for text in ["first", "second", "third"] {
        alice.engine_mut().post(&space, text).unwrap();
    }
    alice.drive(&relay).await;

    // Every page says more follows; once Bob has read all three, the pages are empty
    // or hold what he already read.
    let mut pages = 0;
    bob.sync_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
        if let Ok(ResponseBody::ContentPage(page)) = answer {
            pages += 1;
            page.more = true;
        }
    })
    .await;
    assert!(pages <= 4, "Bob stopped asking ({pages} pages)");
    assert_eq!(texts(&bob, &space), ["first", "second", "third"]);
    // The relay honest again, the next sync reads on as usual.
    alice.engine_mut().post(&space, "fourth").unwrap();
    alice.drive(&relay).await;
    bob.sync(&relay).await;
    assert_eq!(texts(&bob, &space), ["first", "second", "third", "fourth"]);
    assert!(bob.rejections().is_empty(), "{:?}", bob.rejections());

    // The same with the log: every page says more follows, or that the epoch is closed
    // without serving the commit that closed it.
    for end in [LogPageEnd::More, LogPageEnd::EpochClosed] {
        let mut pages = 0;
        bob.sync_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
            if let Ok(ResponseBody::LogPage(page)) = answer {
                pages += 1;
                page.end = end;
            }
        })
        .await;
        // A closed epoch is asked again a few times (as a stale epoch is) before it
        // is reported and waited out.
        assert!(pages <= 6, "Bob stopped asking ({end:?}: {pages} pages)");
    }
    let warnings = bob.warnings();
    assert_eq!(warnings.len(), 1, "a closed epoch whose commit never comes is reported: {warnings:?}");
    assert!(warnings[0].contains("withholding"), "{warnings:?}");
    bob.advance(3600);
    alice.engine_mut().post(&space, "fifth").unwrap();
    alice.drive(&relay).await;
    bob.sync(&relay).await;
    assert_eq!(texts(&bob, &space).last().map(String::as_str), Some("fifth"));
}

/// A relay that accepts a device's own commit and then leaves it out of the log (every
/// read answered "up to date" in the old epoch) would keep the device reading for the
/// commit it waits to merge, for ever. It is counted as a withheld commit is: asked
/// again a few times, reported, then waited out; served honestly, it is merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_commit_left_out_of_the_log_is_reported_instead_of_read_for_for_ever() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.engine_mut().rename(&space, SpaceName::new("Case 207 (appeal)").unwrap()).unwrap();
    let mut left_out = 0;
    alice
        .drive_through(&relay, &mut |_: &RequestBody, answer: &mut Answer| {
            if let Ok(ResponseBody::LogPage(page)) = answer
                && page.entries.iter().any(|e| e.kind == EntryKind::Commit)
            {
                left_out += 1;
                edit(&mut page.entries, |entries| entries.retain(|e| e.kind != EntryKind::Commit));
                page.end = LogPageEnd::UpToDate;
            }
        })
        .await;
    assert!((1..=6).contains(&left_out), "asked a few times ({left_out}), then stopped");
    let warnings = alice.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("withholding"), "{warnings:?}");

    alice.advance(3600);
    alice.drive(&relay).await;
    assert_eq!(alice.engine().spaces()[0].name, "Case 207 (appeal)", "merged once served");
}
