//! Real people's devices (the client engine, MLS, the history keys) spread across three
//! processes of one relay on one PostgreSQL database: they share a space, post and
//! comment at once through different processes, and all end with the same feed; a
//! process killed mid-stream loses nothing its devices were told was stored, and its
//! devices go on through another process.
//!
//! Runs when `HUISCLOS_TEST_POSTGRES` names a server (`scripts/test.sh` starts one);
//! says it was skipped otherwise, unless `HUISCLOS_REQUIRE_POSTGRES` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_tests::process::{Person, RelayProcess, settle, shared_space_named};

/// A new schema on the test server, as the relay's `postgres_url` in a configuration
/// file, or `None` (skipped) without a server.
fn database() -> Option<String> {
    let server = match std::env::var("HUISCLOS_TEST_POSTGRES") {
        Ok(server) if !server.is_empty() => server,
        _ => {
            assert!(std::env::var_os("HUISCLOS_REQUIRE_POSTGRES").is_none(), "no PostgreSQL server");
            eprintln!("skipped: no PostgreSQL server (scripts/postgres.sh starts one)");
            return None;
        }
    };
    let schema = format!("people_{}", std::process::id());
    let create = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
    let admin = server.clone();
    std::thread::spawn(move || {
        postgres::Client::connect(&admin, postgres::NoTls).unwrap().batch_execute(&create).unwrap()
    })
    .join()
    .unwrap();
    Some(format!("postgres_url = \"{server} options='-c search_path={schema}'\"\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn people_on_three_relay_processes_share_one_space() {
    let Some(config) = database() else { return };
    let first = RelayProcess::start_with_config(&config);
    let second = RelayProcess::start_beside(&first, &config);
    let third = RelayProcess::start_beside(&first, &config);
    assert!(first.pin == second.pin && second.pin == third.pin, "one relay key");

    // Each person's invitation names the process that issued it, so each reaches the
    // relay through a different process.
    let mut alice = Person::join(&first, "Alice").await;
    let mut bob = Person::join(&second, "Bob").await;
    let mut carol = Person::join(&third, "Carol").await;
    let space = shared_space_named(&mut alice, &mut bob, "Detentions, north").await;
    alice
        .engine
        .invite(&space, &carol.engine.contact_card().unwrap(), huisclos_core::space::Role::Contributor)
        .unwrap();
    settle(&mut [&mut alice, &mut bob, &mut carol]).await;
    carol.engine.accept_invitation(&space).unwrap();
    settle(&mut [&mut alice, &mut bob, &mut carol]).await;

    // Everyone posts and comments at once, each through their own process.
    let opening = alice.engine.post(&space, "Hearing moved to Thursday").unwrap();
    settle(&mut [&mut alice, &mut bob, &mut carol]).await;
    for round in 0..3 {
        alice.engine.post(&space, &format!("Alice, note {round}")).unwrap();
        bob.engine.post(&space, &format!("Bob, note {round}")).unwrap();
        carol.engine.comment(&space, &opening, &format!("Carol, reply {round}")).unwrap();
        bob.engine.comment(&space, &opening, &format!("Bob, reply {round}")).unwrap();
        // Sent together: the three syncs run at once, through three processes.
        tokio::join!(alice.sync(), bob.sync(), carol.sync());
    }
    settle(&mut [&mut alice, &mut bob, &mut carol]).await;
    let mut seen = alice.texts(&space);
    seen.sort();
    for person in [&bob, &carol] {
        let mut theirs = person.texts(&space);
        theirs.sort();
        assert_eq!(theirs, seen, "{} sees what Alice sees", person.engine.name());
    }
    assert_eq!(seen.len(), 1 + 3 * 4, "every post and comment: {seen:?}");
    for person in [&alice, &bob, &carol] {
        assert!(person.warnings().is_empty(), "{}: {:?}", person.engine.name(), person.warnings());
    }

    // Bob's process dies with his posts in flight; he goes on through the first
    // process (another address of the same relay), and nothing is lost or doubled.
    for n in 0..5 {
        bob.engine.post(&space, &format!("Bob, before the crash {n}")).unwrap();
    }
    tokio::select! {
        () = bob.sync() => {}
        () = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
    }
    // Dropping the process kills it (SIGKILL).
    drop(second);
    bob.reach_via(vec![first.address]);
    settle(&mut [&mut alice, &mut bob, &mut carol]).await;
    let mut after = alice.texts(&space);
    after.sort();
    for person in [&bob, &carol] {
        let mut theirs = person.texts(&space);
        theirs.sort();
        assert_eq!(theirs, after, "{} sees what Alice sees after the crash", person.engine.name());
    }
    let crash_posts = after.iter().filter(|(_, text)| text.starts_with("Bob, before the crash")).count();
    assert_eq!(crash_posts, 5, "each of Bob's posts once: {after:?}");
    eprintln!(
        "three relay processes, one database: {} items in one feed on every device; one process killed, nothing lost",
        after.len()
    );
}
