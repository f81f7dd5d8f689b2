"""Benchmarks of the desktop app in a real window (not part of the test command; run
by scripts/bench-desktop.sh, which prints and records the numbers):

- the web view's JS and CSS, raw and gzipped, against the 300 KiB target;
- cold start: the app launched on an existing profile, to its unlock screen, then the
  passphrase to the space list (the second includes the passphrase's KDF);
- a space of FEED_POSTS posts: the first page on screen after the click, then the feed
  scrolled from the newest to the oldest, loading older pages as it goes (infinite
  scroll), with every frame's interval measured in the page (requestAnimationFrame);
- memory (resident set of the app and its web processes) before and after.

The app is the build at HUISCLOS_DESKTOP (scripts/bench-desktop.sh builds it in
release)."""

import gzip
import json
import os
import pathlib
import time

from conftest import ROOT, Launched, confirm_recovery_words
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as when
from selenium.webdriver.support.wait import WebDriverWait

PASSPHRASE = "orbit lantern seventy quiet harbor maple"
FEED_POSTS = int(os.environ.get("HUISCLOS_BENCH_POSTS", "10000"))
# Long enough to reach the oldest of 10,000 posts at 400 px a frame; the scroll stops there.
SCROLL_SECONDS = float(os.environ.get("HUISCLOS_BENCH_SCROLL_SECONDS", "120"))
RESULTS = pathlib.Path(os.environ.get("HUISCLOS_BENCH_RESULTS", ROOT / "target" / "bench-desktop.json"))


def wait(driver, timeout=60):
    return WebDriverWait(driver, timeout)


def rss_kib() -> dict:
    """Resident memory of the app and of WebKit's processes, in KiB."""
    totals = {}
    for status in pathlib.Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        name = fields.get("Name", "").strip()
        if name.startswith(("huisclos-deskto", "WebKitWebProces", "WebKitNetworkPr")):
            totals[name] = totals.get(name, 0) + int(fields.get("VmRSS", "0 kB").split()[0])
    return totals


def bundle() -> dict:
    dist = ROOT / "clients" / "desktop" / "ui" / "dist" / "assets"
    raw = gz = 0
    for path in dist.iterdir():
        if path.suffix in (".js", ".css"):
            data = path.read_bytes()
            raw += len(data)
            gz += len(gzip.compress(data, 9))
    return {"raw_bytes": raw, "gzip_bytes": gz, "target_gzip_bytes": 300 * 1024, "ratio_to_target": gz / (300 * 1024)}


INVOKE = "return window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]);"


def invoke(driver, command, args):
    driver.set_script_timeout(600)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(done, (e) => done({ error: e }));",
        command, args,
    )


def test_bench_the_desktop_app(relay, tmp_path, display):
    results = {"posts": FEED_POSTS, "bundle": bundle()}

    # A profile with a space of FEED_POSTS posts, written through the app's own commands.
    first = Launched(tmp_path, display, "setup.log")
    app = first.driver
    try:
        wait(app).until(when.element_to_be_clickable((By.ID, "name"))).send_keys("Alice")
        app.find_element(By.ID, "passphrase").send_keys(PASSPHRASE)
        app.find_element(By.ID, "passphrase-again").send_keys(PASSPHRASE)
        app.find_element(By.ID, "submit").click()
        confirm_recovery_words(app)
        wait(app).until(when.element_to_be_clickable((By.ID, "invitation"))).send_keys(relay.first_invitation)
        app.find_element(By.ID, "join").click()
        wait(app).until(when.text_to_be_present_in_element((By.ID, "connection"), "Connected"))
        space = invoke(app, "create_space", {"name": "Archive", "description": "", "policyName": "confidential", "keepHistory": True})
        assert isinstance(space, str), space
        started = time.monotonic()
        app.set_script_timeout(3600)
        written = app.execute_async_script(
            """const [space, count, done] = arguments;
            (async () => {
              for (let i = 0; i < count; i++) {
                await window.__TAURI_INTERNALS__.invoke("post", { space, text: `Post ${i}: the hearing notes of the day, in a few plain lines.` });
              }
              return count;
            })().then(done, (e) => done(String(e)));""",
            space, FEED_POSTS,
        )
        assert written == FEED_POSTS, written
        results["write_posts_seconds"] = time.monotonic() - started
    finally:
        first.close()

    # Cold start on that profile.
    started = time.monotonic()
    second = Launched(tmp_path, display, "bench.log")
    app = second.driver
    try:
        wait(app).until(when.element_to_be_clickable((By.ID, "passphrase")))
        launched = time.monotonic()
        app.find_element(By.ID, "passphrase").send_keys(PASSPHRASE)
        typed = time.monotonic()
        app.find_element(By.ID, "submit").click()
        wait(app).until(when.presence_of_element_located((By.CSS_SELECTOR, ".space-link")))
        listed = time.monotonic()
        results["cold_start"] = {
            "launch_to_unlock_screen_ms": 1000 * (launched - started),
            "unlock_to_space_list_ms": 1000 * (listed - typed),
        }
        time.sleep(2)
        results["rss_kib_space_list"] = rss_kib()

        # The feed: the first page, then scrolled to the oldest post.
        clicked = time.monotonic()
        app.find_element(By.CSS_SELECTOR, ".space-link").click()
        wait(app).until(when.presence_of_element_located((By.CSS_SELECTOR, ".post")))
        results["first_page_ms"] = 1000 * (time.monotonic() - clicked)
        app.set_script_timeout(SCROLL_SECONDS + 60)
        scroll = app.execute_async_script(
            """const [seconds, total, done] = arguments;
            const content = document.getElementById("content");
            const frames = [];
            let shown = 0;
            let inDom = 0;
            let last = performance.now();
            const end = last + seconds * 1000;
            function step(now) {
              frames.push(now - last);
              last = now;
              content.scrollTop += 400;
              // The feed is virtualized: how far it got is the place of the last row
              // in the DOM, not how many rows the DOM holds.
              const rows = document.querySelectorAll(".post");
              inDom = Math.max(inDom, rows.length);
              const lastRow = rows[rows.length - 1];
              shown = Math.max(shown, Number(lastRow?.getAttribute("aria-posinset") ?? 0));
              if (now < end && shown < total) requestAnimationFrame(step);
              else done({ frames, shown, inDom, seconds: (now - (end - seconds * 1000)) / 1000 });
            }
            requestAnimationFrame(step);""",
            SCROLL_SECONDS, FEED_POSTS,
        )
        frames = sorted(scroll["frames"][1:])
        n = len(frames)
        results["scroll"] = {
            "posts_shown": scroll["shown"],
            "most_posts_in_dom": scroll["inDom"],
            "seconds": scroll["seconds"],
            "frames": n,
            "frame_ms_p50": frames[n // 2] if n else None,
            "frame_ms_p95": frames[int(n * 0.95)] if n else None,
            "frame_ms_max": frames[-1] if n else None,
            "share_under_16_7_ms": sum(1 for f in frames if f <= 16.7) / n if n else None,
            # A frame that took longer than one and a half refresh periods missed a
            # refresh: that is what a person sees as a stutter.
            "share_over_25_ms": sum(1 for f in frames if f > 25) / n if n else None,
        }
        time.sleep(2)
        results["rss_kib_feed_scrolled"] = rss_kib()
    finally:
        second.close()

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
