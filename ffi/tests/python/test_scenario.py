"""The life of a space through the Python bindings, against the real relay: two
profiles create a space, post, comment, react, share a file both ways of the
library, and one removes the other. Every step is asserted on both sides."""

import hashlib
import os
from pathlib import Path

import huisclos
import pytest
from conftest import PASSPHRASE, MemoryKeystore, person, sync


def test_two_profiles_share_a_space(tmp_path, relay):
    alice, alice_events = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    keystore = MemoryKeystore()
    bob, bob_events = person(tmp_path, relay, "Bob", keystore=keystore)
    assert list(keystore.keys) == [str(tmp_path / "bob")], "the storage key went to the keystore"
    assert alice_events.of(lambda e: e.is_account_created())

    # A space, and Bob invited into it by his contact card.
    space = alice.create_space("Case 207", "Detention of the Beirut journalists", huisclos.Policy.CONFIDENTIAL, True)
    assert len(space) == 32
    alice.space(space).members().invite(bob.contact_card(), huisclos.Role.CONTRIBUTOR)
    sync(alice)
    sync(bob)
    invited = bob_events.of(lambda e: e.is_invited())
    assert [(e.space, e.name, e.by) for e in invited] == [(space, "Case 207", "Alice")]
    bob.space(space).accept_invitation()
    sync(bob)
    assert bob_events.of(lambda e: e.is_joined() and e.space == space)
    [listed] = bob.spaces()
    assert (listed.id, listed.name, listed.my_role, listed.policy) == (
        space, "Case 207", huisclos.Role.CONTRIBUTOR, huisclos.Policy.CONFIDENTIAL)
    sync(alice)
    members = {m.name: m.role for m in alice.space(space).members().list()}
    assert members == {"Alice": huisclos.Role.SPACE_MANAGER, "Bob": huisclos.Role.CONTRIBUTOR}

    # Both see the same safety number.
    alice_id, bob_id = alice.whoami().identity, bob.whoami().identity
    assert alice.contacts().safety_number(bob_id) == bob.contacts().safety_number(alice_id)

    # A post, a comment and a reaction.
    post = alice.space(space).feed().post("The hearing moved to Thursday, 9:00.")
    sync(alice)
    assert alice_events.of(lambda e: e.is_delivered() and e.item == post)
    sync(bob)
    assert bob_events.of(lambda e: e.is_new_content() and e.item == post)
    assert bob_events.of(lambda e: e.is_notify() and e.item == post and e.kind == huisclos.NotificationKind.POST)
    [item] = bob.space(space).feed().items()
    assert (item.id, item.author, item.author_name, item.text) == (
        post, alice_id, "Alice", "The hearing moved to Thursday, 9:00.")
    comment = bob.space(space).feed().comment(post, "I will be there with the file.")
    bob.space(space).feed().react(post, "👍", True)
    sync(bob)
    sync(alice)
    feed = {i.id: i for i in alice.space(space).feed().items()}
    assert feed[comment].parent == post and feed[comment].author_name == "Bob"
    assert [(r.reaction, r.by) for r in feed[post].reactions] == [("👍", [bob_id])]
    assert alice_events.of(lambda e: e.is_notify() and e.kind == huisclos.NotificationKind.REPLY)

    # A file: 1.3 MB from Alice, sealed into her profile and uploaded with progress.
    source = tmp_path / "statement.pdf"
    data = os.urandom(1_300_000)
    source.write_bytes(data)
    folder = alice.space(space).library().create_folder(None, "Evidence")
    node = alice.space(space).library().put_file(folder, "statement.pdf", None, str(source))
    outcome = sync(alice)
    assert (outcome.uploads, outcome.outbox) == (0, 0)
    uploads = alice_events.of(lambda e: e.is_transfer() and e.node == node)
    assert uploads[-1].finished and uploads[-1].done == uploads[-1].total == len(data)
    assert all(u.direction == huisclos.Direction.UPLOAD for u in uploads)

    # Bob sees it in the library and downloads it, byte for byte.
    sync(bob)
    library = {n.id: n for n in bob.space(space).library().nodes()}
    assert library[folder].kind == huisclos.NodeKind.FOLDER and library[folder].name == "Evidence"
    assert (library[node].name, library[node].parent, library[node].length) == ("statement.pdf", folder, len(data))
    [version] = bob.space(space).library().versions(node)
    assert version.author == alice_id and version.length == len(data)
    dest = tmp_path / "downloaded.pdf"
    bob.space(space).library().get_file(node, None, str(dest))
    outcome = sync(bob)
    assert outcome.downloads == 0
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(data).digest()
    downloads = bob_events.of(lambda e: e.is_transfer() and e.direction == huisclos.Direction.DOWNLOAD)
    assert downloads[-1].finished

    # A file handed over as bytes (a phone's content URI, a desktop's drop): Bob adds a
    # second version, and Alice reads that version byte for byte.
    second = os.urandom(300_000)
    assert bob.space(space).library().put_file_bytes(None, "statement.pdf", node, second) == node
    assert sync(bob).uploads == 0
    sync(alice)
    assert [v.length for v in alice.space(space).library().versions(node)] == [len(data), len(second)]
    newest = tmp_path / "newest.pdf"
    alice.space(space).library().get_file(node, None, str(newest))
    assert sync(alice).downloads == 0
    assert newest.read_bytes() == second

    # A photo handed over as bytes loses its GPS position on the way; one kept
    # knowingly (by path) arrives as taken; a HEIC photo is refused, with its reason.
    photo = (Path(__file__).parents[3] / "tests" / "fixtures" / "photo-with-gps.jpg").read_bytes()
    assert b"GPSLatitude" in photo and b"HuisClosPhone" in photo
    cleaned = alice.space(space).library().put_file_bytes(folder, "IMG_2041.jpg", None, photo)
    (tmp_path / "IMG_2041.jpg").write_bytes(photo)
    kept = alice.space(space).library().put_file_keeping_metadata(
        folder, "IMG_2041 as taken.jpg", None, str(tmp_path / "IMG_2041.jpg"))
    (tmp_path / "IMG_2042.heic").write_bytes(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic")
    with pytest.raises(huisclos.HuisClosError.Invalid) as refused:
        alice.space(space).library().put_file(folder, "IMG_2042.heic", None, str(tmp_path / "IMG_2042.heic"))
    assert "HEIF" in str(refused.value) and "metadata" in str(refused.value)
    assert sync(alice).uploads == 0
    sync(bob)
    for node_id, name in ((cleaned, "clean.jpg"), (kept, "kept.jpg")):
        bob.space(space).library().get_file(node_id, None, str(tmp_path / name))
    assert sync(bob).downloads == 0
    clean = (tmp_path / "clean.jpg").read_bytes()
    assert clean.startswith(b"\xff\xd8") and clean.endswith(b"\xff\xd9")
    assert b"GPSLatitude" not in clean and b"HuisClosPhone" not in clean and b"safe house" not in clean
    assert (tmp_path / "kept.jpg").read_bytes() == photo
    # Bob had their previews without downloading: small JPEGs drawn from the pixels, so
    # the one of the photo kept as taken holds none of what the file keeps.
    for node_id in (cleaned, kept):
        preview = bob.space(space).library().file_preview(node_id, None)
        assert preview.startswith(b"\xff\xd8") and len(preview) < 16_384
        assert b"GPS" not in preview and b"HuisClosPhone" not in preview and b"safe house" not in preview

    # A note from Bob, read by Alice.
    note = bob.space(space).library().create_note(folder, "Hearing notes.md", "# Thursday\n- judge: Haddad")
    sync(bob)
    sync(alice)
    assert alice.space(space).library().read_note(note) == "# Thursday\n- judge: Haddad"

    # Both type into it at once, as an editor reports edits (UTF-16 offsets): each
    # keeps the other's words, and Alice is told what Bob's edit changed in her text.
    end = len("# Thursday\n- judge: Haddad".encode("utf-16-le")) // 2
    told_before = len(alice_events.of(lambda e: e.is_note_changed() and e.note == note))
    alice.space(space).library().show_in_note(note, 0, 0)  # her editor has it open
    alice.space(space).library().edit_note(note, [huisclos.NoteTextEdit(at=0, delete=0, insert="📌 ")])
    shown = "📌 # Thursday\n- judge: Haddad"  # Alice's editor, with her own edit
    bob.space(space).library().edit_note(note, [huisclos.NoteTextEdit(at=end, delete=0, insert="\n- clerk: Nassar")])
    sync(alice)
    sync(bob)
    sync(alice)
    expected = "📌 # Thursday\n- judge: Haddad\n- clerk: Nassar"
    assert alice.space(space).library().read_note(note) == expected
    assert bob.space(space).library().read_note(note) == expected
    told = alice_events.of(lambda e: e.is_note_changed() and e.space == space and e.note == note)[told_before:]
    assert told, "Alice heard Bob's edit"
    # Her editor applies the edits it is told, in UTF-16 units, and shows the note as
    # it is now without reading it again.
    for event in told:
        assert event.edits is not None, "the note she shows comes with its edits"
        for edit in event.edits:
            units = shown.encode("utf-16-le")
            shown = (
                units[: 2 * edit.at] + edit.insert.encode("utf-16-le") + units[2 * (edit.at + edit.delete) :]
            ).decode("utf-16-le")
    assert shown == expected

    # Alice undoes her own edit (only hers: Bob's line stays), on both devices; there
    # is nothing more of hers to undo, and redo brings it back.
    assert alice.space(space).library().undo_note(note)
    assert not alice.space(space).library().undo_note(note)
    sync(alice)
    sync(bob)
    assert bob.space(space).library().read_note(note) == "# Thursday\n- judge: Haddad\n- clerk: Nassar"
    assert alice.space(space).library().redo_note(note)
    sync(alice)
    sync(bob)
    assert bob.space(space).library().read_note(note) == expected

    # Bob names a version; after Alice rewrites the note, she lists it, reads it and
    # restores it.
    version = bob.space(space).library().name_note_version(note, "Before the hearing")
    sync(bob)
    sync(alice)
    alice.space(space).library().write_note(note, "Postponed")
    [listed] = alice.space(space).library().note_versions(note)
    assert (listed.id, listed.name, listed.author_name) == (version, "Before the hearing", "Bob")
    assert alice.space(space).library().note_version_text(note, version) == expected
    alice.space(space).library().restore_note_version(note, version)
    sync(alice)
    sync(bob)
    assert bob.space(space).library().read_note(note) == expected
    assert bob_events.of(lambda e: e.is_note_versions_changed() and e.note == note)

    # Alice removes Bob: he is told, and can no longer post.
    alice.space(space).members().remove(bob_id)
    sync(alice)
    assert [m.name for m in alice.space(space).members().list()] == ["Alice"]
    sync(bob)
    assert bob_events.of(lambda e: e.is_removed_from_space() and e.space == space)
    [listed] = bob.spaces()
    assert listed.removed
    try:
        bob.space(space).feed().post("still here?")
        raise AssertionError("a removed member posted")
    except huisclos.HuisClosError as error:
        assert error.reason

    # The keystore profile opens again with the keystore's key alone.
    bob.lock()
    again = huisclos.Profile.open_with_keystore(str(tmp_path / "bob"), keystore)
    assert again.whoami().identity == bob_id
    again.lock()
    alice.lock()


def test_a_watching_profile_hears_new_posts_without_asking(tmp_path, relay):
    alice, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    bob, bob_events = person(tmp_path, relay, "Bob")
    space = alice.create_space("Urgent appeals", "", huisclos.Policy.CONFIDENTIAL, True)
    alice.space(space).members().invite(bob.contact_card(), huisclos.Role.READER)
    sync(alice)
    sync(bob)
    bob.space(space).accept_invitation()
    sync(bob)
    sync(alice)

    # A reader's post is refused with a typed reason, for the app to translate.
    with pytest.raises(huisclos.HuisClosError.Forbidden) as refused:
        bob.space(space).feed().post("a reader writes")
    assert refused.value.why.is_reader_writes()
    bob.start_watching()
    assert bob.is_watching()
    online = bob_events.wait_for(lambda e: e.is_sync_state() and e.online and e.transport is not None)
    assert online[0].transport == huisclos.Transport.QUIC
    post = alice.space(space).feed().post("Detained at the border: please call.")
    sync(alice)
    bob_events.wait_for(lambda e: e.is_new_content() and e.item == post)
    assert [i.text for i in bob.space(space).feed().items()] == ["Detained at the border: please call."]

    # Alice opens a note and selects a word: Bob, watching, is told at once, and sees
    # her selection in his copy of the text. The relay forwards it and stores nothing.
    note = alice.space(space).library().create_note(None, "Call list.md", "Call the consulate")
    sync(alice)
    bob_events.wait_for(lambda e: e.is_library_changed() and e.space == space)
    alice.space(space).library().show_in_note(note, 5, 8)
    sync(alice)
    bob_events.wait_for(lambda e: e.is_presence_changed() and e.note == note)
    [peer] = bob.space(space).library().note_presence(note)
    assert (peer.name, peer.anchor, peer.head) == ("Alice", 5, 8)
    assert peer.identity == alice.whoami().identity
    bob.stop_watching()
    bob_events.wait_for(lambda e: e.is_sync_state() and not e.online)
    bob.lock()
    alice.lock()


def test_a_lost_identity_is_recovered_from_the_words_and_readmitted(tmp_path, relay):
    alice, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    phone, _ = person(tmp_path, relay, "Bob")
    space = alice.create_space("Case 88", "", huisclos.Policy.CONFIDENTIAL, True)
    alice.space(space).members().invite(phone.contact_card(), huisclos.Role.CONTRIBUTOR)
    sync(alice)
    sync(phone)
    phone.space(space).accept_invitation()
    sync(phone)
    alice.space(space).feed().post("Before the seizure")
    sync(alice)
    words = phone.recovery_words()
    assert len(words.split()) == 24

    with pytest.raises(huisclos.HuisClosError.Invalid) as error:
        huisclos.Profile.recover_with_passphrase(str(tmp_path / "typo"), "Bob", words + " extra", PASSPHRASE)
    assert words.split()[0] not in error.value.reason.split()
    bob = huisclos.Profile.recover_with_passphrase(str(tmp_path / "bob-new"), "Bob", words, PASSPHRASE)
    bob.join_relay(relay.invite())
    sync(bob)
    # The restored identity moves to a new key (the seized phone holds the old one),
    # with a transition signed by the old key.
    assert bob.whoami().identity != phone.whoami().identity
    alice.space(space).readmit(bob.contact_card())
    sync(alice)
    sync(bob)
    bob.space(space).accept_invitation()
    sync(bob)
    sync(alice)
    assert [i.text for i in bob.space(space).feed().items()] == ["Before the seizure"]
    [entry] = [m for m in alice.space(space).members().list() if m.name == "Bob"]
    assert entry.devices == [bob.whoami().device] and entry.role == huisclos.Role.CONTRIBUTOR
    for profile in (alice, phone, bob):
        profile.lock()


def test_a_new_device_is_linked_through_the_bindings_and_reads_the_persons_space(tmp_path, relay):
    import asyncio

    phone, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    space = phone.create_space("Case 12", "", huisclos.Policy.CONFIDENTIAL, True)
    phone.space(space).feed().post("Written on the phone")
    sync(phone)
    offer = phone.devices().link_offer()

    with pytest.raises(huisclos.HuisClosError.Invalid):
        huisclos.LinkingDevice.start_with_passphrase(str(tmp_path / "bad"), "Alice", PASSPHRASE, "not an offer")
    assert not huisclos.profile_exists(str(tmp_path / "bad")), "a refused start left a profile behind"
    laptop_dir = str(tmp_path / "laptop")
    laptop = huisclos.LinkingDevice.start_with_passphrase(laptop_dir, "Alice", PASSPHRASE, offer)
    # The person compares the code both devices show.
    assert phone.devices().link_confirmation_code(laptop.request()) == laptop.confirmation_code()
    # Not approved yet: the wait ends without a profile, and can be asked again.
    assert asyncio.run(laptop.wait_for_approval(3)) is None
    # The app was closed while waiting: the link is taken up again from the disk, with
    # the same request.
    request = laptop.request()
    del laptop
    laptop = huisclos.LinkingDevice.resume_with_passphrase(laptop_dir, PASSPHRASE)
    assert laptop.request() == request
    with pytest.raises(huisclos.HuisClosError.WrongPassphrase):
        huisclos.LinkingDevice.resume_with_passphrase(laptop_dir, "not the passphrase at all")

    phone.devices().approve_link(laptop.request())
    sync(phone)
    linked = asyncio.run(laptop.wait_for_approval(60))
    assert linked is not None
    assert linked.whoami().identity == phone.whoami().identity
    assert len(phone.devices().list()) == 2
    # The phone adds the new device to its space; the laptop then reads its history.
    for _ in range(10):
        sync(phone)
        sync(linked)
        if [s.name for s in linked.spaces()] == ["Case 12"] and linked.space(space).feed().items():
            break
    assert [i.text for i in linked.space(space).feed().items()] == ["Written on the phone"]
    linked.lock()
    assert huisclos.Profile.open_with_passphrase(laptop_dir, PASSPHRASE).whoami().name == "Alice"
    phone.lock()
