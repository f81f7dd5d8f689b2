"""Memory stays bounded across many calls and callbacks: 10,000 calls through the
boundary and 100 listener callbacks leave the process's resident memory within
MAX_GROWTH_MIB of where it stood after a warm-up."""

import huisclos
from conftest import person, sync

MAX_GROWTH_MIB = 16


def resident_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def calls(profile, space, count):
    for i in range(count):
        if i % 4 == 0:
            profile.whoami()
        elif i % 4 == 1:
            profile.spaces()
        elif i % 4 == 2:
            profile.space(space).feed().items()
        else:
            try:
                profile.space("zz").feed().post("refused at the boundary")
            except huisclos.HuisClosError.Invalid:
                pass


def test_ten_thousand_calls_and_a_hundred_callbacks_stay_bounded(tmp_path, relay):
    alice, events = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    space = alice.create_space("Case 5", "", huisclos.Policy.CONFIDENTIAL, True)
    alice.space(space).feed().post("warm-up")
    sync(alice)
    calls(alice, space, 1_000)

    before = resident_mib()
    seen_before = len(events.events)
    calls(alice, space, 10_000)
    # 50 posts and their 50 deliveries: 100 callbacks at least (new content too).
    for n in range(50):
        alice.space(space).feed().post(f"update {n}")
    sync(alice)
    callbacks = len(events.events) - seen_before
    after = resident_mib()
    print(f"resident memory {before:.1f} MiB -> {after:.1f} MiB after 10,000 calls and {callbacks} callbacks")
    assert callbacks >= 100
    assert after - before < MAX_GROWTH_MIB
    alice.lock()
