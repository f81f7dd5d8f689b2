"""A freedesktop notification service on a private session bus, for the desktop test:
it records each notification the app sends (application, title, body) instead of
showing it, so the test can read what the OS would have shown."""

import asyncio
import subprocess
import threading
import time

from dbus_next.aio import MessageBus
from dbus_next.service import ServiceInterface, method


class Notifications(ServiceInterface):
    """org.freedesktop.Notifications, as much of it as a client calls."""

    def __init__(self, received: list):
        super().__init__("org.freedesktop.Notifications")
        self.received = received

    @method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",  # noqa: F821
               actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":  # noqa: F821
        self.received.append({"app": app_name, "summary": summary, "body": body})
        return len(self.received)

    @method()
    def GetCapabilities(self) -> "as":  # noqa: F821
        return ["body"]

    @method()
    def GetServerInformation(self) -> "ssss":  # noqa: F821
        return ["huisclos-test", "huisclos", "1", "1.2"]

    @method()
    def CloseNotification(self, notification: "u"):  # noqa: F821
        return None


class SessionBus:
    """A session bus of the test's own (dbus-daemon), with the service on it."""

    def __init__(self):
        self.daemon = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.address = self.daemon.stdout.readline().strip()
        assert self.address, "dbus-daemon gave no address"
        self.received: list[dict] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        assert ready.wait(15), "the notification service did not start"

    def _serve(self, ready: threading.Event):
        asyncio.set_event_loop(self.loop)

        async def start():
            bus = await MessageBus(bus_address=self.address).connect()
            self.bus = bus
            bus.export("/org/freedesktop/Notifications", Notifications(self.received))
            await bus.request_name("org.freedesktop.Notifications")
            ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def stop(self):
        # Disconnected first, so that its reader does not see the daemon vanish.
        self.loop.call_soon_threadsafe(self.bus.disconnect)
        time.sleep(0.2)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.daemon.kill()
        self.daemon.wait()
