"""The real relay binary as a child process on loopback ports the system chose, for the
Python suites (the bindings' tests and the desktop app's end-to-end test)."""

import os
import pathlib
import subprocess
import threading
import time


class Relay:
    """`huisclos-relay` on a fresh sled store in `data_dir`, listening on `quic` and
    `tcp` (ports the system chooses unless given)."""

    def __init__(self, binary: pathlib.Path, data_dir: pathlib.Path, quic="127.0.0.1:0", tcp="127.0.0.1:0"):
        self.binary = binary
        self.data_dir = data_dir
        # Where it listens, as it says once started.
        self.quic = None
        self.tcp = None
        env = dict(
            os.environ,
            HUISCLOS_RELAY_QUIC_LISTEN=quic,
            HUISCLOS_RELAY_TCP_LISTEN=tcp,
            HUISCLOS_RELAY_METRICS_LISTEN="off",
            RUST_LOG="warn",
        )
        self.process = subprocess.Popen(
            [str(binary), "--data-dir", str(data_dir)], env=env, stdout=subprocess.PIPE, text=True
        )
        self.first_invitation = None
        deadline = time.monotonic() + 30
        for line in self.process.stdout:
            if line.startswith("huisclos-relay: quic "):
                self.quic = line.split(" ", 2)[2].strip()
            if line.startswith("huisclos-relay: tcp "):
                self.tcp = line.split(" ", 2)[2].strip()
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
        """A new invitation, from the operator's `admin invite`."""
        out = subprocess.run(
            [str(self.binary), "--data-dir", str(self.data_dir), "admin", "invite", "--valid-hours", "1"],
            check=True, capture_output=True, text=True,
        )
        return out.stdout.strip()

    def stop(self):
        self.process.kill()
        self.process.wait()
