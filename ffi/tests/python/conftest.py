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
import huisclos  # noqa: E402  (generated; found through the path above)

PASSPHRASE = "correct horse battery staple"


class Relay:
    """The relay binary as a child process, with loopback ports the system chose."""

    def __init__(self, data_dir: pathlib.Path):
        self.data_dir = data_dir
        env = dict(
            os.environ,
            HUISCLOS_RELAY_QUIC_LISTEN="127.0.0.1:0",
            HUISCLOS_RELAY_TCP_LISTEN="127.0.0.1:0",
            HUISCLOS_RELAY_METRICS_LISTEN="off",
            RUST_LOG="warn",
        )
        self.process = subprocess.Popen(
            [str(RELAY), "--data-dir", str(data_dir)], env=env, stdout=subprocess.PIPE, text=True
        )
        self.first_invitation = None
        deadline = time.monotonic() + 30
        for line in self.process.stdout:
            if line.startswith("huisclos-relay: invitation "):
                self.first_invitation = line.split(" ", 2)[2].strip()
            if line.startswith("huisclos-relay: ready"):
                break
            if time.monotonic() > deadline:
                break
        assert self.first_invitation, "the relay printed no invitation"
        # Keep reading its output so the pipe never fills.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def invite(self) -> str:
        out = subprocess.run(
            [str(RELAY), "--data-dir", str(self.data_dir), "admin", "invite", "--valid-hours", "1"],
            check=True, capture_output=True, text=True,
        )
        return out.stdout.strip()

    def stop(self):
        self.process.kill()
        self.process.wait()


@pytest.fixture
def relay(tmp_path):
    running = Relay(tmp_path / "relay")
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
