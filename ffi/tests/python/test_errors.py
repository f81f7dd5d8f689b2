"""Bad input and misuse cross the boundary as typed exceptions with a message, and
change nothing."""

import huisclos
import pytest
from conftest import PASSPHRASE, MemoryKeystore, RelayProcess, person, sync


def test_typed_errors(tmp_path, relay):
    alice, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    space = alice.create_space("Case 114", "", huisclos.Policy.CONFIDENTIAL, True)

    with pytest.raises(huisclos.HuisClosError.Invalid) as error:
        alice.space("not-hex").feed().post("hello")
    assert "space" in error.value.reason
    with pytest.raises(huisclos.HuisClosError.NotFound) as error:
        alice.space("00" * 16).feed().post("hello")
    # The reason is typed, for the app to say in the person's language.
    assert error.value.what == huisclos.Missing.SPACE
    with pytest.raises(huisclos.HuisClosError.Invalid):
        alice.space(space).members().invite("huisclos-contact:garbage", huisclos.Role.READER)
    with pytest.raises(huisclos.HuisClosError.Invalid):
        alice.join_relay("not an invitation")
    with pytest.raises(huisclos.HuisClosError.Invalid):
        alice.create_space("", "", huisclos.Policy.OPEN, True)
    with pytest.raises(huisclos.HuisClosError.NotFound) as error:
        alice.space(space).feed().comment("11" * 16, "to nothing")
    assert error.value.what == huisclos.Missing.ITEM
    with pytest.raises(huisclos.HuisClosError.Storage):
        alice.space(space).library().put_file(None, "missing.pdf", None, str(tmp_path / "missing.pdf"))
    # Nothing of the refused calls was queued or kept.
    assert alice.space(space).feed().items() == []
    assert [s.name for s in alice.spaces()] == ["Case 114"]
    assert sync(alice).outbox == 0

    directory = str(tmp_path / "alice")
    with pytest.raises(huisclos.HuisClosError.ProfileExists):
        huisclos.Profile.create_with_passphrase(directory, "Alice", PASSPHRASE)
    alice.lock()
    with pytest.raises(huisclos.HuisClosError.Closed):
        alice.spaces()
    with pytest.raises(huisclos.HuisClosError.WrongPassphrase) as error:
        huisclos.Profile.open_with_passphrase(directory, "not the passphrase")
    assert PASSPHRASE not in str(error.value) and "not the passphrase" not in str(error.value)
    with pytest.raises(huisclos.HuisClosError.NoProfile):
        huisclos.Profile.open_with_passphrase(str(tmp_path / "nobody"), PASSPHRASE)
    with pytest.raises(huisclos.HuisClosError.Keystore):
        huisclos.Profile.open_with_keystore(directory, MemoryKeystore())
    # The core's passphrase rule reaches the app: a short one creates nothing.
    with pytest.raises(huisclos.HuisClosError.Invalid) as error:
        huisclos.Profile.create_with_passphrase(str(tmp_path / "short"), "Carol", "1234567")
    # Arguments are isolated (FSI … PDI) so that they keep their direction in any language.
    reason = error.value.reason.replace("\u2068", "").replace("\u2069", "")
    assert "10 characters" in reason and "1234567" not in reason
    # Long enough but easy to guess: refused as well.
    with pytest.raises(huisclos.HuisClosError.Invalid) as error:
        huisclos.Profile.create_with_passphrase(str(tmp_path / "weak"), "Carol", "password1234")
    assert "guess" in error.value.reason and "password1234" not in error.value.reason
    assert not (tmp_path / "short" / "profile.key").exists()


def test_offline_is_an_error_and_keeps_the_work(tmp_path, relay):
    alice, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    space = alice.create_space("Case 9", "", huisclos.Policy.CONFIDENTIAL, True)
    sync(alice)
    relay.stop()
    alice.space(space).feed().post("written on the train")
    with pytest.raises(huisclos.HuisClosError.Offline):
        sync(alice)
    assert [i.text for i in alice.space(space).feed().items()] == ["written on the train"]
    # A long feed opens a page at a time, newest first; the last position asks for the next.
    for n in range(4):
        alice.space(space).feed().post(f"page note {n}")
    first = alice.space(space).feed().page(None, 3)
    assert [i.text for i in first] == ["page note 3", "page note 2", "page note 1"]
    rest = alice.space(space).feed().page(first[-1].position, 3)
    assert [i.text for i in rest] == ["page note 0", "written on the train"]
    assert alice.space(space).feed().page(rest[-1].position, 3) == []
    alice.lock()


def test_panic_wipe_and_duress(tmp_path, relay):
    keystore = MemoryKeystore()
    alice, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation, keystore=keystore)
    directory = str(tmp_path / "alice")
    alice.create_space("Case 3", "", huisclos.Policy.CONFIDENTIAL, True)
    alice.wipe()
    assert keystore.deleted == [directory] and keystore.keys == {}
    assert not huisclos.profile_exists(directory)
    with pytest.raises(huisclos.HuisClosError.Closed):
        alice.whoami()

    bob, _ = person(tmp_path, relay, "Bob")
    bob_dir = str(tmp_path / "bob")
    bob.create_space("Case 4", "", huisclos.Policy.CONFIDENTIAL, True)
    # The decoy is made now, with an account of its own at the relay.
    import asyncio

    asyncio.run(bob.set_duress_passphrase(PASSPHRASE, "open sesame, they are watching", None, relay.invite()))
    # Asking for the passphrase again (before showing the recovery words) accepts only
    # the real one, and the duress passphrase given there destroys nothing.
    bob.verify_passphrase(PASSPHRASE)
    for wrong in ["not it at all, not it", "open sesame, they are watching"]:
        with pytest.raises(huisclos.HuisClosError.WrongPassphrase):
            bob.verify_passphrase(wrong)
    assert [s.name for s in bob.spaces()] == ["Case 4"]
    bob.lock()
    decoy = huisclos.Profile.open_with_passphrase(bob_dir, "open sesame, they are watching")
    me = decoy.whoami()
    assert me.name == "Bob" and decoy.spaces() == [] and me.account is not None
    decoy.lock()
    with pytest.raises(huisclos.HuisClosError.WrongPassphrase):
        huisclos.Profile.open_with_passphrase(bob_dir, PASSPHRASE)

    # A locked profile is wiped without its passphrase.
    carol, _ = person(tmp_path, relay, "Carol")
    carol_dir = str(tmp_path / "carol")
    carol.lock()
    huisclos.wipe_profile(carol_dir, None)
    assert not huisclos.profile_exists(carol_dir)


def test_a_server_with_another_key_at_the_relays_address_is_named_not_offline(tmp_path, relay):
    """Another server answering at the relay's address (an impostor, or a relay whose
    key was replaced without the rotation devices learn) is refused, and the app is told
    so, as a distinct error it can warn of: not "offline", which it would only wait out.
    Nothing is sent to it, and the work stays queued."""
    alice, events = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    space = alice.create_space("Case 31", "", huisclos.Policy.CONFIDENTIAL, True)
    sync(alice)
    relay.stop()
    impostor = RelayProcess(relay.binary, tmp_path / "impostor", quic=relay.quic, tcp=relay.tcp)
    try:
        assert (impostor.quic, impostor.tcp) == (relay.quic, relay.tcp)
        alice.space(space).feed().post("for our relay only")
        with pytest.raises(huisclos.HuisClosError.RelayKeyNotPinned) as error:
            sync(alice)
        assert "for our relay only" not in error.value.reason
        assert [i.text for i in alice.space(space).feed().items()] == ["for our relay only"]
        # Watching, the app hears it on the connection's state, in words it can show.
        alice.start_watching()
        refused = events.wait_for(
            lambda e: e.is_sync_state() and e.relay_key_not_pinned
        )[0]
        alice.stop_watching()
        assert not refused.online and refused.reason == error.value.reason
    finally:
        impostor.stop()
    alice.lock()
