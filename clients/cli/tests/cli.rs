//! The `huisclos` CLI as people use it: separate processes for each command, profiles
//! on disk, the real `huisclos-relay` binary over QUIC on loopback. What the README's
//! main job shows, with its results checked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use huisclos_tests::process::RelayProcess;
use huisclos_tests::scan::{contains, files};

const PASSPHRASE: &str = "a passphrase for the CLI test";

fn cli_binary() -> &'static str {
    env!("CARGO_BIN_EXE_huisclos")
}

struct Profile {
    dir: PathBuf,
}

impl Profile {
    fn new(root: &Path, name: &str) -> Self {
        Self { dir: root.join(name) }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(cli_binary());
        command.arg("--profile").arg(&self.dir).args(args).env("HUISCLOS_PASSPHRASE", PASSPHRASE);
        // English whatever the machine's locale, unless a test asks for another.
        command.env_remove("LC_ALL").env_remove("LC_MESSAGES").env("LANG", "C.UTF-8");
        command
    }

    /// Runs a command that must succeed; its standard output.
    fn run(&self, args: &[&str]) -> String {
        let output = self.command(args).output().unwrap();
        assert!(
            output.status.success(),
            "huisclos {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs a command that must fail.
    fn fail(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().unwrap();
        assert!(!output.status.success(), "huisclos {args:?} should fail");
        output
    }

    fn card(&self) -> String {
        let whoami = self.run(&["whoami"]);
        whoami.lines().find_map(|l| l.strip_prefix("card:")).unwrap().trim().to_owned()
    }

    fn feed(&self, space: &str) -> Vec<serde_json::Value> {
        self.run(&["feed", space, "--json"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

fn texts(feed: &[serde_json::Value]) -> Vec<String> {
    feed.iter().map(|i| i["text"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn two_people_create_a_space_and_exchange_posts_with_the_cli() {
    let relay = RelayProcess::start();
    let root = tempfile::tempdir().unwrap();
    let alice = Profile::new(root.path(), "alice");
    let bob = Profile::new(root.path(), "bob");

    assert!(alice.run(&["init", "--name", "Alice"]).contains("Profile created"));
    assert!(alice.run(&["join", &relay.first_invitation]).contains("Joined the relay"));
    bob.run(&["init", "--name", "Bob"]);
    bob.run(&["join", &relay.invite().to_text()]);

    assert!(alice.run(&["space", "create", "Case 207", "--description", "Beirut"]).contains("created"));
    alice.run(&["space", "invite", "Case 207", &bob.card(), "--role", "contributor"]);
    assert!(bob.run(&["sync"]).contains("Alice invited you to \"Case 207\""));
    assert!(bob.run(&["space", "accept", "Case 207"]).contains("You are in \"Case 207\""));

    alice.run(&["post", "Case 207", "The hearing moved to Thursday"]);
    let feed = bob.feed("Case 207");
    assert_eq!(texts(&feed), ["The hearing moved to Thursday"]);
    assert_eq!(feed[0]["author_name"], "Alice");
    let post = feed[0]["id"].as_str().unwrap().to_owned();
    bob.run(&["comment", "Case 207", &post[..8], "I will bring the file"]);
    bob.run(&["react", "Case 207", &post[..8], "👍"]);
    let feed = alice.feed("Case 207");
    assert_eq!(texts(&feed), ["The hearing moved to Thursday", "I will bring the file"]);
    assert_eq!(feed[1]["parent"].as_str().unwrap(), post);
    assert_eq!(feed[0]["reactions"]["👍"], 1);
    let human = alice.run(&["feed", "Case 207"]);
    assert!(human.contains("Alice: The hearing moved to Thursday  [👍 1]"), "{human}");
    assert!(human.contains("    ") && human.contains("Bob: I will bring the file"), "comments indented: {human}");

    // The library: folders and notes, moved, renamed, trashed and restored.
    alice.run(&["mkdir", "Case 207", "Evidence"]);
    alice.run(&["mkdir", "Case 207", "Hearings"]);
    alice.run(&["note", "Case 207", "Evidence/Chain of custody", "Received on 3 May, sealed"]);
    assert_eq!(bob.run(&["cat", "Case 207", "Evidence/Chain of custody"]).trim(), "Received on 3 May, sealed");
    // Bob adds a line while Alice, offline, edits the note in her editor (here sed, as
    // $EDITOR): both changes are kept, and the file her editor had is gone. (Their
    // edits are at different places: two insertions at one place are both kept too,
    // in an order the CRDT picks by device, which a test cannot know beforehand.)
    bob.run(&["note", "Case 207", "Evidence/Chain of custody", "Received on 3 May, sealed\nOpened on 9 May"]);
    let runtime = root.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let edited = alice
        .command(&["--offline", "edit-note", "Case 207", "Evidence/Chain of custody"])
        .env("EDITOR", "sed -i s/3\\ May/3\\ May\\ 2026/")
        .env_remove("VISUAL")
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .unwrap();
    assert!(edited.status.success(), "{}", String::from_utf8_lossy(&edited.stderr));
    assert_eq!(std::fs::read_dir(&runtime).unwrap().count(), 0, "the editor's file is removed");
    assert_eq!(
        alice.run(&["--offline", "cat", "Case 207", "Evidence/Chain of custody"]).trim(),
        "Received on 3 May 2026, sealed",
        "Alice edited the text she had, without Bob's line"
    );
    alice.run(&["sync"]);
    let merged = "Received on 3 May 2026, sealed\nOpened on 9 May";
    assert_eq!(bob.run(&["cat", "Case 207", "Evidence/Chain of custody"]).trim(), merged);
    assert_eq!(alice.run(&["cat", "Case 207", "Evidence/Chain of custody"]).trim(), merged);
    // A named version, listed on the other side, restored after a rewrite.
    let version = alice.run(&["note-version", "Case 207", "Evidence/Chain of custody", "As received"]);
    let version = version.trim().to_owned();
    bob.run(&["note", "Case 207", "Evidence/Chain of custody", "Lost"]);
    let log = bob.run(&["note-log", "Case 207", "Evidence/Chain of custody"]);
    assert!(log.contains(&version) && log.contains("Alice  As received") && log.contains(" UTC "), "{log}");
    let ambiguous = bob.fail(&["note-restore", "Case 207", "Evidence/Chain of custody", "zz"]);
    assert!(String::from_utf8_lossy(&ambiguous.stderr).contains("no version"), "{ambiguous:?}");
    bob.run(&["note-restore", "Case 207", "Evidence/Chain of custody", &version[..4]]);
    assert_eq!(alice.run(&["cat", "Case 207", "Evidence/Chain of custody"]).trim(), merged, "restored everywhere");
    bob.run(&["mv", "Case 207", "Evidence", "Hearings"]);
    bob.run(&["mv", "Case 207", "Hearings/Evidence", "Hearings/Evidence (sealed)"]);
    let listing = alice.run(&["ls", "Case 207", "Hearings"]);
    assert!(listing.contains("folder  Evidence (sealed)"), "{listing}");
    alice.run(&["rm", "Case 207", "Hearings"]);
    assert!(bob.run(&["ls", "Case 207"]).contains("Nothing here"));
    assert!(bob.run(&["trash", "Case 207"]).contains("Hearings"));
    bob.run(&["restore", "Case 207", "Hearings"]);
    assert!(alice.run(&["ls", "Case 207", "Hearings/Evidence (sealed)"]).contains("note    Chain of custody"));

    // A file into the library, and back out on Bob's computer, byte for byte.
    let document: Vec<u8> = (0..1_300_000u32).map(|i| (i % 253) as u8).collect();
    let local = root.path().join("witness-statement.pdf");
    std::fs::write(&local, &document).unwrap();
    assert!(alice.run(&["put", "Case 207", local.to_str().unwrap(), "Hearings"]).contains("Done"));
    let listing = bob.run(&["ls", "Case 207", "Hearings"]);
    assert!(listing.contains("file    witness-statement.pdf  1300000 bytes, 1 version"), "{listing}");
    let fetched = root.path().join("fetched.pdf");
    bob.run(&["get", "Case 207", "Hearings/witness-statement.pdf", fetched.to_str().unwrap()]);
    assert_eq!(std::fs::read(&fetched).unwrap(), document);

    // A photo loses its GPS position on the way, unless kept knowingly; a HEIC photo,
    // which cannot be cleaned, is refused with a clear reason.
    let photo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photo-with-gps.jpg");
    let photo = photo.to_str().unwrap();
    let gps = b"GPSLatitude";
    let holds = |path: &std::path::Path| std::fs::read(path).unwrap().windows(gps.len()).any(|w| w == gps);
    alice.run(&["put", "Case 207", photo, "Hearings/IMG_2041.jpg"]);
    alice.run(&["put", "--keep-metadata", "Case 207", photo, "Hearings/IMG_2041 as taken.jpg"]);
    let (clean, kept) = (root.path().join("clean.jpg"), root.path().join("kept.jpg"));
    bob.run(&["get", "Case 207", "Hearings/IMG_2041.jpg", clean.to_str().unwrap()]);
    bob.run(&["get", "Case 207", "Hearings/IMG_2041 as taken.jpg", kept.to_str().unwrap()]);
    assert!(!holds(&clean) && holds(&kept));
    let heic = root.path().join("IMG_2042.heic");
    std::fs::write(&heic, b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").unwrap();
    let refused = alice.fail(&["put", "Case 207", heic.to_str().unwrap(), "Hearings"]);
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("HEIF") && message.contains("keeping its metadata"), "{message}");

    // Written offline: kept in the outbox, sent by the next sync.
    assert!(alice.run(&["--offline", "post", "Case 207", "Written on the train"]).contains("next sync"));
    assert_eq!(bob.feed("Case 207").len(), 2);
    alice.run(&["sync"]);
    assert!(texts(&bob.feed("Case 207")).contains(&"Written on the train".to_owned()));

    // Members and roles, from both sides.
    let members = bob.run(&["space", "members", "Case 207"]);
    assert!(members.contains("Alice  space manager") && members.contains("Bob  contributor"), "{members}");
    let contacts = alice.run(&["contacts"]);
    assert!(contacts.contains("Bob  not verified"), "{contacts}");
    let number = alice.run(&["safety-number", "Bob"]);
    let theirs = bob.run(&["safety-number", "Alice"]);
    assert_eq!(number.lines().last(), theirs.lines().last(), "the same sixty digits on both sides");
    alice.run(&["verify", "Bob"]);
    assert!(alice.run(&["contacts"]).contains("Bob  verified"));

    // Bad input: a typed error, nothing changed, no secret in the message.
    let wrong = alice.command(&["whoami"]).env("HUISCLOS_PASSPHRASE", "not the passphrase").output().unwrap();
    assert!(!wrong.status.success());
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(message.contains("wrong passphrase") && !message.contains("not the passphrase"), "{message}");
    let forged = alice.fail(&["space", "invite", "Case 207", "huisclos-contact:AAAA"]);
    assert!(String::from_utf8_lossy(&forged.stderr).starts_with("huisclos: "));
    let unknown = alice.fail(&["post", "No such space", "text"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no space matches"));
    assert!(bob.fail(&["space", "remove", "Case 207", "Alice"]).status.code() == Some(1), "a contributor");
    assert_eq!(alice.feed("Case 207").len(), 3);

    // No text reached a file unencrypted, at the relay or in either profile.
    let mut needles: Vec<&[u8]> = vec![
        b"The hearing moved to Thursday",
        b"I will bring the file",
        b"Written on the train",
        b"Received on 3 May, sealed",
        b"Chain of custody",
        b"witness-statement.pdf",
        PASSPHRASE.as_bytes(),
    ];
    // And the file's content, a few kilobytes at several places.
    needles.extend(document.chunks(4096).step_by(60));
    for needle in needles {
        for dir in [relay.data_dir(), alice.dir.as_path(), bob.dir.as_path()] {
            for (path, bytes) in files(dir) {
                assert!(!contains(&bytes, needle), "{:?}… in {}", &needle[..needle.len().min(16)], path.display());
            }
        }
    }
}

#[test]
fn a_new_device_is_linked_with_the_cli_and_reads_its_persons_spaces() {
    let relay = RelayProcess::start();
    let root = tempfile::tempdir().unwrap();
    let alice = Profile::new(root.path(), "alice");
    let laptop = Profile::new(root.path(), "laptop");
    alice.run(&["init", "--name", "Alice"]);
    alice.run(&["join", &relay.first_invitation]);
    alice.run(&["space", "create", "Notes", "--policy", "on-request"]);
    alice.run(&["post", "Notes", "Call the family first"]);

    // The offer, then the new device's request, then the approval on the old device.
    let offer = alice.run(&["devices", "link"]).trim().to_owned();
    assert!(offer.starts_with("huisclos-link-offer:"));
    let mut new_device = laptop
        .command(&["init", "--name", "Alice (laptop)", "--link", &offer, "--wait", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(new_device.stdout.take().unwrap()).lines();
    let request = lines.next().unwrap().unwrap();
    assert!(request.starts_with("huisclos-link-request:"));
    let mut errors = BufReader::new(new_device.stderr.take().unwrap()).lines();
    let stderr = errors.next().unwrap().unwrap();
    // Keep reading, or the new device's next line would find its stderr closed.
    std::thread::spawn(move || for _ in errors {});
    let code = stderr.split("confirmation code ").nth(1).unwrap()[..6].to_owned();

    // Without --yes the old device asks, and anything but "yes" declines.
    let mut asking =
        alice.command(&["devices", "approve", &request]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(asking.stdin.as_mut().unwrap(), b"no\n").unwrap();
    let declined = asking.wait_with_output().unwrap();
    let prompt = String::from_utf8_lossy(&declined.stdout);
    assert!(prompt.contains(&code), "the same code on both devices: {prompt}");
    assert!(prompt.contains("Not approved"));
    alice.run(&["devices", "approve", &request, "--yes"]);

    let linked: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(new_device.wait().unwrap().success(), "{linked:?}");
    assert!(linked.iter().any(|l| l.contains("linked to Alice")), "{linked:?}");
    assert!(alice.run(&["devices", "list"]).contains("Alice (laptop)"));
    // Alice's first device adds the laptop to her space at its next sync.
    alice.run(&["sync"]);
    assert_eq!(texts(&laptop.feed("Notes")), ["Call the family first"]);
    laptop.run(&["post", "Notes", "Posted from the laptop"]);
    assert_eq!(texts(&alice.feed("Notes")), ["Call the family first", "Posted from the laptop"]);
    let spaces = laptop.run(&["space", "list", "--json"]);
    let space: serde_json::Value = serde_json::from_str(spaces.lines().next().unwrap()).unwrap();
    assert_eq!((space["name"].as_str(), space["role"].as_str()), (Some("Notes"), Some("space manager")));

    // The laptop is lost: revoked from the first device, it is refused from then on.
    assert!(alice.run(&["devices", "revoke", "Alice (laptop)"]).contains("revoked"));
    assert!(!alice.run(&["devices", "list"]).contains("Alice (laptop)"));
    alice.run(&["post", "Notes", "After the laptop was lost"]);
    let refused = laptop.command(&["sync"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let feed = laptop.run(&["--offline", "feed", "Notes", "--json"]);
    assert!(!feed.contains("After the laptop was lost"));
}

#[test]
fn help_lists_every_command() {
    let output = Command::new(cli_binary()).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for command in [
        "init",
        "join",
        "whoami",
        "safety-number",
        "space",
        "post",
        "comment",
        "react",
        "feed",
        "sync",
        "watch",
        "devices",
        "ls",
        "mkdir",
        "note",
        "edit-note",
        "note-version",
        "note-log",
        "note-restore",
        "mv",
        "rm",
        "put",
        "get",
        "duress",
        "wipe",
    ] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
    let output = Command::new(cli_binary()).args(["space", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for command in ["create", "list", "invite", "accept", "request", "approve", "leave", "remove", "role"] {
        assert!(help.contains(command), "space {command} missing from:\n{help}");
    }
}

#[test]
fn duress_and_panic_wipe_from_the_cli() {
    let relay = RelayProcess::start();
    let root = tempfile::tempdir().unwrap();
    let alice = Profile::new(root.path(), "alice");
    alice.run(&["init", "--name", "Alice"]);
    alice.run(&["join", &relay.first_invitation]);
    alice.run(&["space", "create", "Witnesses"]);
    alice.run(&["post", "Witnesses", "The names of the witnesses"]);
    let duress = "nothing to see here";
    let set = alice.command(&["duress"]).env("HUISCLOS_DURESS_PASSPHRASE", duress).output().unwrap();
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));

    // Under coercion, Alice gives the duress passphrase: an empty profile under her name.
    let opened = alice.command(&["--offline", "whoami"]).env("HUISCLOS_PASSPHRASE", duress).output().unwrap();
    let whoami = String::from_utf8_lossy(&opened.stdout);
    assert!(opened.status.success() && whoami.contains("name:     Alice"), "{whoami}");
    assert!(!whoami.contains("account:"), "no account: {whoami}");
    let spaces = alice.command(&["--offline", "space", "list"]).env("HUISCLOS_PASSPHRASE", duress).output().unwrap();
    assert!(String::from_utf8_lossy(&spaces.stdout).contains("Nothing here yet"));
    let real = alice.fail(&["--offline", "whoami"]);
    assert!(String::from_utf8_lossy(&real.stderr).contains("wrong passphrase"), "the real profile is gone");
    for (path, bytes) in files(&alice.dir) {
        assert!(!contains(&bytes, b"The names of the witnesses"), "{}", path.display());
    }

    // The panic wipe leaves nothing.
    let bob = Profile::new(root.path(), "bob");
    bob.run(&["init", "--name", "Bob"]);
    bob.run(&["join", &relay.invite().to_text()]);
    assert!(bob.run(&["wipe", "--yes"]).contains("destroyed"));
    assert!(!bob.dir.exists());
    assert!(String::from_utf8_lossy(&bob.fail(&["whoami"]).stderr).contains("no profile"));
}

#[test]
fn a_lost_identity_is_recovered_from_the_words_and_readmitted_with_the_cli() {
    let relay = RelayProcess::start();
    let root = tempfile::tempdir().unwrap();
    let alice = Profile::new(root.path(), "alice");
    alice.run(&["init", "--name", "Alice"]);
    alice.run(&["join", &relay.first_invitation]);
    let bob_phone = Profile::new(root.path(), "bob-phone");
    bob_phone.run(&["init", "--name", "Bob"]);
    bob_phone.run(&["join", &relay.invite().to_text()]);
    alice.run(&["space", "create", "Case 311"]);
    alice.run(&["space", "invite", "Case 311", &bob_phone.card(), "--role", "contributor"]);
    bob_phone.run(&["sync"]);
    bob_phone.run(&["space", "accept", "Case 311"]);
    alice.run(&["post", "Case 311", "Statement of the second witness"]);
    bob_phone.run(&["sync"]);
    let bob_identity = |p: &Profile| {
        p.run(&["--offline", "whoami"]).lines().find_map(|l| l.strip_prefix("identity:").map(|k| k.trim().to_owned()))
    };
    let identity = bob_identity(&bob_phone).unwrap();

    // Bob wrote his words down; his phone is then seized.
    let shown = bob_phone.run(&["recovery-words", "--yes"]);
    let words = shown.lines().next().unwrap().to_owned();
    assert_eq!(words.split(' ').count(), 24, "{shown}");

    // A new phone: the words, a new invitation, and his new card to Alice.
    let bob = Profile::new(root.path(), "bob-new");
    let mistyped = words.replacen(' ', "  x", 1);
    let refused =
        bob.command(&["init", "--name", "Bob", "--recover"]).env("HUISCLOS_RECOVERY_WORDS", &mistyped).output();
    assert!(!refused.unwrap().status.success(), "mistyped words are refused");
    let restored = bob.command(&["init", "--name", "Bob", "--recover"]).env("HUISCLOS_RECOVERY_WORDS", &words).output();
    let restored = restored.unwrap();
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    bob.run(&["join", &relay.invite().to_text()]);
    // The words restore the old key only to sign it over to a new one: the seized
    // phone holds the old key.
    assert_ne!(bob_identity(&bob).unwrap(), identity, "a new identity key, signed over by the old one");
    let readmitted = alice.command(&["space", "readmit", "Case 311", &bob.card()]).output().unwrap();
    assert!(readmitted.status.success());
    let said = String::from_utf8_lossy(&readmitted.stderr);
    assert!(said.contains("replaced their identity key"), "the change of key is shown: {said}");
    bob.run(&["sync"]);
    bob.run(&["space", "accept", "Case 311"]);
    alice.run(&["sync"]);

    // Back in the space with the history; the seized phone reads nothing newer.
    assert_eq!(texts(&bob.feed("Case 311")), vec!["Statement of the second witness"]);
    let members = alice.run(&["space", "members", "Case 311"]);
    assert!(
        members.lines().any(|l| l.contains("Bob") && l.contains("contributor") && l.contains("(1 device)")),
        "{members}"
    );
    bob.run(&["post", "Case 311", "Back on a new phone"]);
    alice.run(&["post", "Case 311", "The hearing is on Monday"]);
    alice.run(&["sync"]);
    assert!(texts(&alice.feed("Case 311")).contains(&"Back on a new phone".to_owned()));
    bob_phone.run(&["sync"]);
    let seized = texts(&bob_phone.feed("Case 311"));
    assert!(!seized.iter().any(|t| t == "The hearing is on Monday" || t == "Back on a new phone"), "{seized:?}");
}

#[test]
fn the_cli_speaks_the_language_asked_for_and_its_json_stays_the_same() {
    use huisclos_l10n::{Language, Localizer, Message};
    let relay = RelayProcess::start();
    let root = tempfile::tempdir().unwrap();
    let alice = Profile::new(root.path(), "alice");
    let dir = alice.dir.display().to_string();

    // --lang: French, exactly as the shared messages say it.
    let created = alice.run(&["--lang", "fr", "init", "--name", "Alice"]);
    let french = Localizer::with_isolation(Language::French, false);
    let expected = french.render(&Message::new("cli-profile-created").with("dir", dir.as_str()));
    assert_eq!(created.trim(), expected);
    assert_ne!(
        expected,
        Localizer::with_isolation(Language::English, false)
            .render(&Message::new("cli-profile-created").with("dir", dir.as_str()))
    );

    // LANG: German, as any program reads it; LC_ALL wins over it.
    let joined = alice.command(&["join", &relay.first_invitation]).env("LANG", "de_DE.UTF-8").output().unwrap();
    assert!(joined.status.success());
    let german = Localizer::with_isolation(Language::German, false);
    let said = String::from_utf8(joined.stdout).unwrap();
    // The account's creation (an engine event), then the CLI's own line.
    assert!(said.contains(&german.text("event-account-created")), "{said}");
    let first_word = german.text("cli-joined").split(' ').next().unwrap().to_owned();
    assert!(said.lines().any(|line| line.starts_with(&first_word)), "{said}");
    let created = alice
        .command(&["space", "create", "Case 207"])
        .env("LANG", "de_DE.UTF-8")
        .env("LC_ALL", "pt_BR.UTF-8")
        .output()
        .unwrap();
    let said = String::from_utf8(created.stdout).unwrap();
    let portuguese = Localizer::with_isolation(Language::Portuguese, false);
    let id = said.split(['(', ')']).nth(1).unwrap_or_default().to_owned();
    assert_eq!(
        said.trim(),
        portuguese.render(&Message::new("cli-space-created").with("id", id.as_str()).with("name", "Case 207"))
    );

    // Arabic, right to left: a core error in Arabic, with the Latin name isolated so
    // it keeps its own direction in a bidi-aware terminal.
    let refused = alice.fail(&["--lang", "ar", "post", "Case 208", "hello"]);
    let message = String::from_utf8(refused.stderr).unwrap();
    assert!(message.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "{message}");
    assert!(message.contains("\u{2068}Case 208\u{2069}"), "{message:?}");

    // Machine-readable output is the same in every language.
    let json = alice.run(&["--lang", "ar", "space", "list", "--json"]);
    let space: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!((space["role"].as_str(), space["policy"].as_str()), (Some("space manager"), Some("confidential")));

    // A language it does not speak is refused, and says which it does.
    let unknown = alice.fail(&["--lang", "xx", "whoami"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("en, fr, de, ar"), "{unknown:?}");
}
