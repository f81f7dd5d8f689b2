"""The desktop app end to end, in a real window against the real relay binary: Alice
in the app, Bob with the `huisclos` CLI. First run, joining the relay, a space created,
Bob invited by his contact card, his post heard live, Alice's comment and reaction
read back by Bob, the whole window switched to Arabic (mirrored), and the panic wipe."""

import os
import subprocess
import time

from conftest import CLI, screenshot
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as when
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

PASSPHRASE = "orbit lantern seventy quiet harbor maple"


class Cli:
    """Bob: a profile of the `huisclos` CLI."""

    def __init__(self, directory):
        self.directory = directory

    def run(self, *args, check=True):
        env = dict(os.environ, HUISCLOS_PASSPHRASE=PASSPHRASE, LANG="C.UTF-8")
        env.pop("LC_ALL", None)
        out = subprocess.run([str(CLI), "--profile", str(self.directory), *args], env=env, capture_output=True,
                             text=True, timeout=120)
        if check:
            assert out.returncode == 0, out.stderr
        return out

    def until(self, check, *args, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.run(*args, check=False)
            if out.returncode == 0 and check(out.stdout):
                return out.stdout
            time.sleep(0.5)
        raise AssertionError(f"huisclos {args}: never as expected")


def wait(driver, timeout=30):
    return WebDriverWait(driver, timeout)


def type_into(driver, selector, text):
    field = wait(driver).until(when.element_to_be_clickable((By.CSS_SELECTOR, selector)))
    field.clear()
    field.send_keys(text)
    return field


def click(driver, selector):
    wait(driver).until(when.element_to_be_clickable((By.CSS_SELECTOR, selector))).click()


def test_a_person_works_with_a_cli_user_through_the_relay_in_a_real_window(app, relay, tmp_path):
    # First run: a profile under a strong passphrase (the meter says when it is).
    type_into(app, "#name", "Alice")
    type_into(app, "#passphrase", PASSPHRASE)
    type_into(app, "#passphrase-again", PASSPHRASE)
    click(app, "#submit")

    # Joining the relay with the operator's invitation.
    type_into(app, "#invitation", relay.first_invitation)
    click(app, "#join")
    wait(app).until(when.text_to_be_present_in_element((By.ID, "connection"), "Connected"))

    # A space.
    click(app, "#new-space")
    type_into(app, "#space-name", "Case 207")
    click(app, "#create-space")
    wait(app).until(when.text_to_be_present_in_element((By.ID, "space-heading"), "Case 207"))

    # Bob, on the command line, hands over his contact card.
    bob = Cli(tmp_path / "bob")
    bob.run("init", "--name", "Bob")
    bob.run("join", relay.invite())
    card = next(l for l in bob.run("whoami").stdout.splitlines() if l.startswith("card:")).split(None, 1)[1]
    type_into(app, "#invite-card", card)
    Select(app.find_element(By.ID, "invite-role")).select_by_value("contributor")
    click(app, "#invite")
    wait(app).until(when.text_to_be_present_in_element((By.CSS_SELECTOR, ".invite"), "on its way"))

    # Bob accepts and posts; the app, watching, shows it without being asked.
    bob.until(lambda out: "Case 207" in out, "sync")
    bob.run("space", "accept", "Case 207")
    bob.run("post", "Case 207", "The hearing moved to Thursday")
    post = wait(app, 60).until(
        when.presence_of_element_located((By.XPATH, "//li[@class='post' and .//p[contains(., 'The hearing moved to Thursday')]]"))
    )
    assert "Bob" in post.text

    # Alice answers and reacts; Bob reads both.
    reply = post.find_element(By.CSS_SELECTOR, ".reply-text")
    reply.send_keys("I will bring the file")
    post.find_element(By.CSS_SELECTOR, ".reply-button").click()
    post.find_element(By.CSS_SELECTOR, ".reaction").click()
    wait(app).until(lambda d: "I will bring the file" in d.find_element(By.CSS_SELECTOR, ".post .comments").text)
    feed = bob.until(lambda out: "I will bring the file" in out and "👍 1" in out, "feed", "Case 207")
    assert "Alice: I will bring the file" in feed

    # The whole window in Arabic: mirrored, and the names keep their own direction.
    click(app, "#open-settings")
    Select(app.find_element(By.ID, "language")).select_by_value("ar")
    wait(app).until(lambda d: d.execute_script("return document.documentElement.dir") == "rtl")
    assert app.execute_script("return document.documentElement.lang") == "ar"
    heading = app.find_element(By.ID, "settings-heading").text
    assert any("\u0600" <= c <= "\u06ff" for c in heading), heading
    sidebar = app.find_element(By.ID, "sidebar").rect
    content = app.find_element(By.ID, "content").rect
    assert sidebar["x"] > content["x"], f"the space list moved to the right: {sidebar} {content}"
    direction = app.execute_script("return getComputedStyle(document.getElementById('sidebar')).direction")
    assert direction == "rtl"
    # The space's name, Latin, stays itself inside the Arabic list.
    assert "Case 207" in app.find_element(By.ID, "sidebar").text
    screenshot(app, tmp_path / "arabic.png")

    # The panic wipe: confirmed, then the profile is gone.
    type_into(app, "#wipe-confirm", "WIPE")
    started = time.monotonic()
    click(app, "#wipe")
    wait(app).until(when.presence_of_element_located((By.ID, "wiped")))
    elapsed = time.monotonic() - started
    left = list(app.profile_dir.rglob("*")) if app.profile_dir.exists() else []
    assert not [p for p in left if p.is_file()], left
    print(f"panic wipe: {elapsed:.2f} s from the click to the confirmation on screen")
    assert elapsed < 5
