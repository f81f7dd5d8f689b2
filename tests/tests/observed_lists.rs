//! Lists an app observes, against the real `huisclos-relay` binary over QUIC: each
//! observer's copy, rebuilt from the diffs alone, is at every point the list the
//! engine holds; an older page joins the window where it belongs; a change to an item
//! not loaded yet reaches the observer with its page; stopped lists hear nothing.

// Test helpers outside `#[test]` functions: a failure here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use huisclos_core::engine::{Engine, FeedItem, ListId, ListUpdate, MemberSummary, SpaceSummary};
use huisclos_core::library::NodeView;
use huisclos_core::lists::VectorDiff;
use huisclos_core::space::Role;
use huisclos_tests::process::{Person, RelayProcess, settle, shared_space};

/// What an app holds: one array per observed list, and every diff it heard.
#[derive(Default)]
struct App {
    feeds: BTreeMap<ListId, Vec<FeedItem>>,
    spaces: BTreeMap<ListId, Vec<SpaceSummary>>,
    members: BTreeMap<ListId, Vec<MemberSummary>>,
    folders: BTreeMap<ListId, Vec<NodeView>>,
    heard: Vec<(ListId, &'static str)>,
}

fn kind<T>(diff: &VectorDiff<T>) -> &'static str {
    match diff {
        VectorDiff::Append { .. } => "append",
        VectorDiff::Insert { .. } => "insert",
        VectorDiff::Set { .. } => "set",
        VectorDiff::Remove { .. } => "remove",
        VectorDiff::Reset { .. } => "reset",
        _ => "unknown",
    }
}

impl App {
    /// Applies every update the engine has, as an app does after each call.
    fn catch_up(&mut self, engine: &mut Engine) {
        while let Some(update) = engine.poll_list_update().unwrap() {
            match update {
                ListUpdate::Feed { list, diffs } => {
                    for diff in diffs {
                        self.heard.push((list, kind(&diff)));
                        diff.apply(self.feeds.get_mut(&list).expect("an observed feed")).unwrap();
                    }
                }
                ListUpdate::Spaces { list, diffs } => {
                    for diff in diffs {
                        self.heard.push((list, kind(&diff)));
                        diff.apply(self.spaces.get_mut(&list).expect("an observed space list")).unwrap();
                    }
                }
                ListUpdate::Members { list, diffs } => {
                    for diff in diffs {
                        self.heard.push((list, kind(&diff)));
                        diff.apply(self.members.get_mut(&list).expect("observed members")).unwrap();
                    }
                }
                ListUpdate::Folder { list, diffs } => {
                    for diff in diffs {
                        self.heard.push((list, kind(&diff)));
                        diff.apply(self.folders.get_mut(&list).expect("an observed folder")).unwrap();
                    }
                }
                other => panic!("an update of a kind this test does not know: {other:?}"),
            }
        }
    }

    fn heard(&mut self, list: ListId) -> Vec<&'static str> {
        let (this, rest): (Vec<_>, Vec<_>) = self.heard.drain(..).partition(|(l, _)| *l == list);
        self.heard = rest;
        this.into_iter().map(|(_, kind)| kind).collect()
    }
}

async fn sync(person: &mut Person, app: &mut App) {
    person.sync().await;
    app.catch_up(&mut person.engine);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_rebuilt_from_diffs_are_the_engines_lists() {
    let relay = RelayProcess::start();
    let mut alice = Person::join(&relay, "Alice").await;
    let mut bob = Person::join(&relay, "Bob").await;
    let mut carol = Person::join(&relay, "Carol").await;
    let space = shared_space(&mut alice, &mut bob).await;
    let posts: Vec<_> = (0..5).map(|n| alice.engine.post(&space, &format!("Hearing {n}")).unwrap()).collect();
    settle(&mut [&mut alice, &mut bob]).await;

    // Bob's app: two views of the same feed (a phone's list and a notification
    // preview), three items at first; his space list.
    let mut app = App::default();
    let (feed, first) = bob.engine.observe_feed(&space, 3).unwrap();
    assert_eq!(first.iter().map(|i| i.id).collect::<Vec<_>>(), [posts[4], posts[3], posts[2]]);
    app.feeds.insert(feed, first);
    let (preview, first) = bob.engine.observe_feed(&space, 1).unwrap();
    app.feeds.insert(preview, first);
    let (spaces, first) = bob.engine.observe_spaces().unwrap();
    app.spaces.insert(spaces, first);
    // Alice's app: the members.
    let mut alice_app = App::default();
    let (members, first) = alice.engine.observe_members(&space).unwrap();
    assert_eq!(first.len(), 2);
    alice_app.members.insert(members, first);

    // An edit of the oldest post, not loaded yet: no diff now; it comes with its page.
    alice.engine.edit(&space, &posts[0], "Hearing 0 (moved)").unwrap();
    alice.sync().await;
    sync(&mut bob, &mut app).await;
    assert_eq!(app.heard(feed), Vec::<&str>::new());
    assert!(bob.engine.extend_feed(feed, 10).is_ok_and(|more| !more), "the feed ends within the page");
    app.catch_up(&mut bob.engine);
    assert_eq!(app.heard(feed), ["append"]);
    let oldest = app.feeds[&feed].last().unwrap();
    assert_eq!((oldest.id, oldest.text.as_str(), oldest.edited), (posts[0], "Hearing 0 (moved)", true));

    // A post, a comment, a reaction, a deletion, from three hands.
    let post = alice.engine.post(&space, "The hearing moved to Thursday").unwrap();
    alice.sync().await;
    sync(&mut bob, &mut app).await;
    let comment = bob.engine.comment(&space, &post, "I will attend").unwrap();
    app.catch_up(&mut bob.engine);
    bob.engine.react(&space, &posts[2], "👍", true).unwrap();
    app.catch_up(&mut bob.engine);
    bob.sync().await;
    alice.sync().await;
    alice.engine.delete(&space, &posts[3]).unwrap();
    alice.sync().await;
    sync(&mut bob, &mut app).await;
    // Alice's post and Bob's comment as Inserts; Bob's reaction and Alice's deletion as
    // Sets, and two more as Bob's comment and reaction reach the relay (no longer
    // waiting to be sent).
    assert_eq!(app.heard(feed), ["insert", "insert", "set", "set", "set", "set"]);
    assert!(app.feeds[&feed].iter().all(|item| !item.waiting), "nothing still shows as waiting once sent");
    // The preview saw the post and the comment arrive at its top, and the comment
    // reach the relay; the reaction and the deletion were to items below it, not
    // loaded there.
    assert_eq!(app.heard(preview), ["insert", "insert", "set"]);
    let whole = bob.engine.feed_page(&space, None, 50).unwrap();
    assert_eq!(app.feeds[&feed], whole, "the feed rebuilt from diffs is the engine's");
    assert_eq!(app.feeds[&preview], whole[..3], "the preview holds what it loaded and what arrived since");
    assert_eq!(app.feeds[&feed][0].id, comment);
    assert!(app.feeds[&feed].iter().any(|i| i.id == posts[3] && i.deleted));
    // The unread count moved in Bob's space list; only by Sets.
    assert!(!app.heard(spaces).is_empty());
    assert_eq!(app.spaces[&spaces], bob.engine.spaces());

    // Members: Carol in, a role changed, Carol out.
    alice.engine.invite(&space, &carol.engine.contact_card().unwrap(), Role::Reader).unwrap();
    settle(&mut [&mut alice, &mut carol]).await;
    alice_app.catch_up(&mut alice.engine);
    assert_eq!(alice_app.heard(members), ["insert"]);
    let bob_identity = bob.engine.identity();
    alice.engine.set_role(&space, &bob_identity, Role::ContentManager).unwrap();
    alice.sync().await;
    alice_app.catch_up(&mut alice.engine);
    assert_eq!(alice_app.heard(members), ["set"]);
    alice.engine.remove(&space, &carol.engine.identity()).unwrap();
    alice.sync().await;
    alice_app.catch_up(&mut alice.engine);
    assert_eq!(alice_app.heard(members), ["remove"]);
    assert_eq!(alice_app.members[&members], alice.engine.members(&space).unwrap());

    // The library's top folder, observed by Bob while Alice files things.
    let (top, first) = bob.engine.observe_folder(&space, None).unwrap();
    assert!(first.is_empty());
    app.folders.insert(top, first);
    let evidence = alice.engine.create_folder(&space, None, "Evidence").unwrap();
    let note = alice.engine.create_note(&space, None, "Agenda", "Thursday").unwrap();
    alice.sync().await;
    sync(&mut bob, &mut app).await;
    assert_eq!(app.heard(top), ["insert", "insert"]);
    // Renamed past "Evidence": it leaves its place and takes another.
    alice.engine.rename_node(&space, &note, "Witnesses").unwrap();
    alice.sync().await;
    sync(&mut bob, &mut app).await;
    assert_eq!(app.heard(top), ["remove", "insert"]);
    alice.engine.trash_node(&space, &evidence).unwrap();
    alice.sync().await;
    sync(&mut bob, &mut app).await;
    assert_eq!(app.heard(top), ["remove"]);
    let names: Vec<String> = app.folders[&top].iter().map(|node| node.name.clone()).collect();
    assert_eq!(names, ["Witnesses"]);
    assert_eq!(app.folders[&top], bob.engine.library(&space).unwrap().children(None));
    bob.engine.unobserve(top);

    // Bob leaves the space: his space list shows it; then he stops observing, and a
    // post after that reaches no list.
    sync(&mut bob, &mut app).await;
    app.heard.clear();
    bob.engine.leave(&space).unwrap();
    sync(&mut bob, &mut app).await;
    assert_eq!(app.spaces[&spaces], bob.engine.spaces());
    for list in [feed, preview, spaces] {
        bob.engine.unobserve(list);
    }
    app.heard.clear();
    alice.engine.post(&space, "After Bob left").unwrap();
    alice.sync().await;
    sync(&mut bob, &mut app).await;
    assert!(app.heard.is_empty(), "stopped lists hear nothing: {:?}", app.heard);
    assert!(bob.engine.extend_feed(feed, 10).is_err(), "a stopped feed loads no page");
}
