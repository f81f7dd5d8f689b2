"""Fixtures for the Python suite: the real relay binary on a fresh sled store, and
profiles made through the generated bindings.

`scripts/bindings.sh` builds the library and writes the bindings to
target/bindings/python; `scripts/test.sh` runs this suite after it. The paths can
be overridden with HUISCLOS_BINDINGS and HUISCLOS_RELAY.
"""

import os
import pathlib
import subprocess
import sys
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
BINDINGS = pathlib.Path(os.environ.get("HUISCLOS_BINDINGS", ROOT / "target" / "bindings" / "python"))
RELAY = pathlib.Path(os.environ.get("HUISCLOS_RELAY", ROOT / "target" / "debug" / "huisclos-relay"))

sys.path.insert(0, str(BINDINGS))
sys.path.insert(0, str(ROOT / "tests" / "python"))
import huisclos  # noqa: E402  (generated; found through the path above)
from relay_process import Relay as RelayProcess  # noqa: E402

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def relay(tmp_path):
    running = RelayProcess(RELAY, tmp_path / "relay")
    yield running
    running.stop()


class Recorder(huisclos.ProfileListener):
    """A listener that keeps every event, for assertions."""

    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def on_event(self, event):
        with self.lock:
            self.events.append(event)

    def of(self, check):
        with self.lock:
            return [e for e in self.events if check(e)]

    def wait_for(self, check, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(check)
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError("no such event within the time allowed")


class MemoryKeystore(huisclos.Keystore):
    """A keystore as a phone's would behave, in memory: what Android Keystore or the
    iOS Keychain do for the app."""

    def __init__(self):
        self.keys = {}
        self.deleted = []

    def store_key(self, name, key):
        self.keys[name] = bytes(key)

    def load_key(self, name):
        if name not in self.keys:
            raise huisclos.HuisClosError.Keystore("no key under that name")
        return self.keys[name]

    def delete_key(self, name):
        self.keys.pop(name, None)
        self.deleted.append(name)


def sync(profile):
    """Runs the async sync on asyncio, as an app's coroutine would."""
    import asyncio

    return asyncio.run(profile.sync())


def person(tmp_path, relay, name, invitation=None, keystore=None):
    """A profile that joined the relay: (profile, listener)."""
    directory = str(tmp_path / name.lower())
    if keystore is None:
        profile = huisclos.Profile.create_with_passphrase(directory, name, PASSPHRASE)
    else:
        profile = huisclos.Profile.create_with_keystore(directory, name, keystore)
    listener = Recorder()
    profile.set_listener(listener)
    profile.join_relay(invitation or relay.invite())
    sync(profile)
    assert profile.whoami().account is not None
    return profile, listener
