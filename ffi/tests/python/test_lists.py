"""Observed lists through the Python bindings, against the real relay: an app keeps
one array per list, applies the diffs it hears, and ends up with the same list the
engine holds, without ever asking for the whole list again."""

import threading

import huisclos
from conftest import person, sync


class ListRecorder:
    """An app's view of one list: the array it shows, rebuilt from diffs only."""

    def __init__(self):
        self.rows = []
        self.diffs = []
        self.lock = threading.Lock()

    def on_diffs(self, diffs):
        with self.lock:
            for diff in diffs:
                self.diffs.append(diff)
                if diff.is_append():
                    self.rows.extend(diff.values)
                elif diff.is_insert():
                    self.rows.insert(diff.index, diff.value)
                elif diff.is_set():
                    self.rows[diff.index] = diff.value
                elif diff.is_remove():
                    del self.rows[diff.index]
                elif diff.is_reset():
                    self.rows[:] = diff.values
                else:
                    raise AssertionError(f"an unknown diff: {diff}")

    def take(self):
        with self.lock:
            taken, self.diffs = self.diffs, []
            return taken


class FeedRecorder(ListRecorder, huisclos.FeedListener):
    pass


class SpacesRecorder(ListRecorder, huisclos.SpaceListListener):
    pass


class MembersRecorder(ListRecorder, huisclos.MemberListListener):
    pass


class FolderRecorder(ListRecorder, huisclos.FolderListener):
    pass


def shown(items):
    return [(i.id, i.text, i.edited, i.deleted, i.parent, [(r.reaction, r.by) for r in i.reactions]) for i in items]


def test_a_feed_heard_as_diffs_rebuilds_the_engines_feed(tmp_path, relay):
    alice, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    bob, _ = person(tmp_path, relay, "Bob")
    space = alice.create_space("Case 207", "", huisclos.Policy.CONFIDENTIAL, True)

    members = MembersRecorder()
    alice_members = alice.space(space).members().subscribe(members)
    assert [m.name for m in members.rows] == ["Alice"]
    assert [d.is_reset() for d in members.take()] == [True]

    alice.space(space).members().invite(bob.contact_card(), huisclos.Role.CONTRIBUTOR)
    sync(alice)
    sync(bob)
    bob.space(space).accept_invitation()
    sync(bob)
    sync(alice)
    # Bob's arrival is one Insert, and the list is the engine's.
    assert [d.is_insert() for d in members.take()] == [True]
    assert [(m.identity, m.role) for m in members.rows] == [(m.identity, m.role) for m in alice.space(space).members().list()]
    alice_members.stop()

    first = [alice.space(space).feed().post(f"Hearing {n}") for n in range(3)]
    sync(alice)
    sync(bob)

    # Bob opens the feed two items at a time: the newest two, then the rest.
    feed = FeedRecorder()
    subscription = bob.space(space).feed().subscribe(2, feed)
    assert [i.id for i in feed.rows] == [first[2], first[1]]
    assert subscription.load_more(2) is False
    assert [i.id for i in feed.rows] == [first[2], first[1], first[0]]
    assert [d.is_reset() or d.is_append() for d in feed.take()] == [True, True]

    spaces = SpacesRecorder()
    space_list = bob.subscribe_spaces(spaces)
    assert [(s.id, s.unread) for s in spaces.rows] == [(space, 3)]
    spaces.take()

    # A new post, a comment, an edit, a reaction and a deletion.
    post = alice.space(space).feed().post("The hearing moved to Thursday.")
    sync(alice)
    sync(bob)
    [diff] = feed.take()
    assert diff.is_insert() and diff.index == 0 and diff.value.id == post
    comment = bob.space(space).feed().comment(post, "I will be there.")
    [diff] = feed.take()
    assert diff.is_insert() and diff.index == 0 and diff.value.id == comment and diff.value.parent == post
    # Written here and not yet at the relay: shown as waiting to be sent.
    assert diff.value.waiting and not any(i.waiting for i in feed.rows if i.id != comment)
    alice.space(space).feed().edit(post, "The hearing moved to Friday.")
    alice.space(space).feed().react(first[1], "👍", True)
    alice.space(space).feed().delete(first[0])
    sync(alice)
    sync(bob)
    diffs = feed.take()
    # The edit, the reaction and the deletion; and Bob's comment, sent, no longer waiting.
    assert all(d.is_set() for d in diffs) and len(diffs) == 4
    assert [d.value.waiting for d in diffs if d.value.id == comment] == [False]
    by_id = {i.id: i for i in feed.rows}
    assert by_id[post].text == "The hearing moved to Friday." and by_id[post].edited
    assert by_id[first[0]].deleted and by_id[first[0]].text == ""
    assert [r.reaction for r in by_id[first[1]].reactions] == ["👍"]

    # What the diffs built is the engine's feed, item for item.
    assert shown(feed.rows) == shown(bob.space(space).feed().page(None, 50))

    # The space list heard the unread count move, as Sets only.
    diffs = spaces.take()
    assert diffs and all(d.is_set() for d in diffs)
    assert [(s.id, s.unread, s.name) for s in spaces.rows] == [(s.id, s.unread, s.name) for s in bob.spaces()]
    bob.space(space).mark_read()
    [diff] = spaces.take()
    assert diff.is_set() and diff.value.unread == 0

    # A stopped subscription hears nothing more.
    subscription.stop()
    space_list.stop()
    alice.space(space).feed().post("After the stop.")
    sync(alice)
    sync(bob)
    assert feed.take() == [] and spaces.take() == []
    assert subscription.load_more(10) is False
    bob.lock()
    alice.lock()


def test_a_folder_heard_as_diffs_follows_the_library(tmp_path, relay):
    alice, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    space = alice.create_space("Case 9", "", huisclos.Policy.CONFIDENTIAL, True)
    top = FolderRecorder()
    subscription = alice.space(space).library().subscribe_folder(None, top)
    assert top.rows == []
    evidence = alice.space(space).library().create_folder(None, "Evidence")
    note = alice.space(space).library().create_note(None, "Agenda", "Thursday")
    inside = FolderRecorder()
    inside_subscription = alice.space(space).library().subscribe_folder(evidence, inside)
    alice.space(space).library().create_note(evidence, "Chain of custody", "")
    assert [n.name for n in top.rows] == ["Agenda", "Evidence"]
    assert [n.name for n in inside.rows] == ["Chain of custody"], "a folder hears only its own items"
    alice.space(space).library().rename_node(note, "Witnesses")
    alice.space(space).library().trash_node(evidence)
    assert [n.name for n in top.rows] == ["Witnesses"]
    shown = sorted((n.name, n.id) for n in alice.space(space).library().nodes() if n.parent is None and not n.trashed)
    assert [(n.name, n.id) for n in top.rows] == shown
    subscription.stop()
    # A subscription the app lets go of stops too.
    del inside_subscription
    alice.space(space).library().create_note(evidence, "After", "")
    assert [n.name for n in inside.rows] == ["Chain of custody"]
    alice.lock()


def test_a_subscription_to_an_unknown_space_is_refused(tmp_path, relay):
    alice, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    try:
        alice.space("00" * 16).feed().subscribe(10, FeedRecorder())
        raise AssertionError("an unknown space was observed")
    except huisclos.HuisClosError.NotFound:
        pass
    try:
        alice.space("not hex").feed().subscribe(10, FeedRecorder())
        raise AssertionError("a malformed id was observed")
    except huisclos.HuisClosError.Invalid:
        pass
    alice.lock()
