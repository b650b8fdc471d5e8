"""The dashboard in a real browser (Debian's Chromium, driven by Playwright): an alert arrives live, without reload."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from streams.access.pseudonyms import Pseudonyms
from streams.settings import api_token, secret_key
from tests.integration.conftest import wait_for
from tests.integration.scenarios import night_reads, train

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `apt-get install chromium` (.ci/run installs it)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def sign_in(browser, worker, key: str):
    """A page signed in through the dashboard's form, as a person would."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{worker.settings.web_url}/dashboard")
    page.fill("#key", key)
    page.click("#login button")
    page.wait_for_selector("#main:not([hidden])")
    return page


def test_alert_arrives_live_on_the_open_dashboard(make_worker, browser):
    worker = make_worker().start()
    train(worker, ["ann", "bob", "cy"], days=8)
    names = Pseudonyms(secret_key(worker.settings))
    page = sign_in(browser, worker, api_token(worker.settings))  # the break-glass token: every role
    assert "token" not in page.url and "vk_" not in page.url
    page.wait_for_selector(f"#leaderboard tbody tr[data-user='{names.of('ann')}']")
    page.wait_for_selector("#status.live")
    page.evaluate("window.__notReloaded = true")

    for e in night_reads("ann", day=8):
        worker.send("events", e, key="ann")
    worker.flush()

    alert = page.wait_for_selector("#alerts li.high[data-alert*='ann-night'], #alerts li.critical[data-alert*='ann-night']",
                                   timeout=60_000)
    assert page.evaluate("window.__notReloaded") is True
    assert "no ticket of theirs" in alert.inner_text()

    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.scored_events WHERE event_id LIKE 'ann-night%'") == 60
             and worker.scalar("SELECT count() FROM vigil.alerts WHERE user = 'ann'") > 0, what="the night stored")
    page.click(f"#leaderboard tbody tr[data-user='{names.of('ann')}']")
    page.wait_for_selector("#chart .main-svg")
    page.wait_for_selector("#reasons li")
    assert page.locator("#leaderboard tbody tr").count() == 3

    # A user name that is HTML arrives live as a pseudonym; revealed, it shows as text and runs nothing. The profile
    # is made to load slower than the reveal answers (as a first profile can under load): it must not wipe the reveal.
    page.evaluate("""() => { const plain = window.fetch; window.fetch = async (url, options) => {
        const response = await plain(url, options);
        if (String(url).includes('/api/users/')) await new Promise((done) => setTimeout(done, 2000));
        return response; }; }""")
    hostile = '<img src=x onerror="window.__pwned=1">'
    worker.send("events", {"event_id": "hostile-1", "ts": 1793620000000, "user": hostile, "action": "login"}, key=hostile)
    worker.flush()
    page.wait_for_selector(f"#leaderboard tbody tr[data-user='{names.of(hostile)}']").click()
    page.fill("#reveal-reason", "checking the odd account")
    page.click("#reveal button")
    page.wait_for_function("document.getElementById('revealed').textContent.length > 0")
    page.wait_for_selector("#user-title:has-text('risk over time')")
    page.wait_for_timeout(2500)  # the slowed profile has arrived by now
    assert page.inner_text("#user-title").startswith(names.of(hostile))
    assert page.inner_text("#revealed") == hostile
    assert page.evaluate("window.__pwned") is None and page.locator("main img").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


def test_dashboard_api_needs_the_token(make_worker, browser):
    worker = make_worker().start()
    page = browser.new_page()
    response = page.request.get(f"{worker.settings.web_url}/api/leaderboard")
    assert response.status == 401
    assert page.request.get(f"{worker.settings.web_url}/dashboard").status == 200  # the shell asks for the token


BAD_QUERIES = {
    "/api/alerts?limit=lots": "Expected `int`, got `str` - at `$.limit`",
    "/api/alerts?limit=0": "Expected `int` >= 1 - at `$.limit`",
    "/api/alerts?band=severe": "at `$.band`",
    "/api/alerts?status=closed": "at `$.status`",
    "/api/alerts?colour=red": "unknown field `colour`",
    "/api/leaderboard?limit=9999": "Expected `int` <= 500 - at `$.limit`",
}


def test_bad_query_parameters_are_a_400_that_says_why(make_worker):
    import urllib.error
    import urllib.request

    worker = make_worker().start()
    headers = {"Authorization": f"Bearer {api_token(worker.settings)}"}
    for path, complaint in BAD_QUERIES.items():
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(f"{worker.settings.web_url}{path}", headers=headers), timeout=10)
        assert (refused.value.code, path) == (400, path)
        assert complaint in orjson.loads(refused.value.read())["error"], path
    with urllib.request.urlopen(urllib.request.Request(f"{worker.settings.web_url}/api/alerts?band=high&limit=5",
                                                       headers=headers), timeout=10) as fine:
        assert orjson.loads(fine.read()) == []


def test_watch_and_metrics_show_the_same_worker(make_worker):
    import subprocess
    import sys
    import urllib.request

    worker = make_worker().start()
    train(worker, ["ann"], days=3)
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "watch", "--once", "--band", "low"], env=worker.env | {"COLUMNS": "160"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Leaderboard" in done.stdout and Pseudonyms(secret_key(worker.settings)).of("ann") in done.stdout
    assert "ann" not in done.stdout.replace(Pseudonyms(secret_key(worker.settings)).of("ann"), "")

    request = urllib.request.Request(f"{worker.settings.web_url}/metrics",
                                     headers={"Authorization": f"Bearer {api_token(worker.settings)}"})
    metrics = urllib.request.urlopen(request, timeout=10).read().decode()
    assert "vigil_events_scored_total 96.0" in metrics
    assert 'vigil_consumer_lag{partition="0"}' in metrics


def test_a_users_profile_is_answered_by_the_worker_that_owns_the_users_partition(make_worker):
    import urllib.error
    import urllib.request

    import orjson

    from tests.integration.conftest import event

    first = make_worker(partitions=4, api_token="one-token-for-the-group", secret_key="one-secret-for-the-group").start()
    second = make_worker(partitions=4, like=first, api_token="one-token-for-the-group",
                         secret_key="one-secret-for-the-group").start()
    users = [f"r{i}" for i in range(8)]
    names = Pseudonyms(secret_key(first.settings))  # the group's secret: both workers name users alike
    assert secret_key(second.settings) == secret_key(first.settings)

    def get(w, path: str):
        request = urllib.request.Request(f"{w.settings.web_url}{path}",
                                         headers={"Authorization": f"Bearer {api_token(w.settings)}"})
        return urllib.request.urlopen(request, timeout=30).read()

    def partitions(w) -> int:  # events partitions this worker holds, from its metrics
        return get(w, "/metrics").decode().count("vigil_consumer_lag{partition=")

    def board(w) -> set[str]:  # by name: the boards show pseudonyms
        shown = {names.of(u): u for u in users}
        return {shown[r["user"]] for r in orjson.loads(get(w, "/api/leaderboard"))}

    wait_for(lambda: partitions(first) == partitions(second) == 2, timeout=120, what="the group balanced")
    for user in users:
        for n in range(5):
            first.send("events", event(n, user), key=user)
    first.flush()
    # A late rebalance may move users (and score a batch twice): each board shows the users it owns now.
    wait_for(lambda: board(first) | board(second) == set(users), timeout=120, what="every user scored")
    on_first, on_second = board(first), board(second)
    assert on_first and on_second and not on_first & on_second  # each worker owns some users, none owns one twice

    def profile_of(w, user: str) -> dict | None:  # None until the worker has heard the pseudonym (vigil.pseudonyms)
        try:
            return orjson.loads(get(w, f"/api/users/{names.of(user)}"))
        except urllib.error.HTTPError:
            return None

    for user in users:
        for asked in (first, second):  # whichever worker is asked, the owner's live view answers
            profile = wait_for(lambda: profile_of(asked, user), timeout=30, what=f"{user}'s profile")
            assert profile["now"] is not None and profile["now"]["user"] == names.of(user)

    # The survivor takes the leaver's partitions and shows their users from the stored state, with no new event.
    first.stop()
    wait_for(lambda: board(second) == set(users), timeout=120, what="the survivor's board showing every user")
    risks = {r["user"]: r for r in orjson.loads(get(second, "/api/leaderboard"))}
    risks = {u: risks[names.of(u)] for u in users}
    assert all(risks[u]["ts"] == event(4, u)["ts"] / 1000 for u in on_first)  # as of each user's last event


def test_the_live_stream_opens_with_a_single_use_ticket_never_the_token(make_worker):
    import urllib.error
    import urllib.request

    worker = make_worker().start()
    base, token = worker.settings.web_url, api_token(worker.settings)

    def status(url: str, **kwargs) -> int:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, **kwargs), timeout=5) as response:
                assert response.read(12) == b": connected\n" if "/api/stream?" in url else True
                return response.status
        except urllib.error.HTTPError as refused:
            return refused.code

    assert status(f"{base}/api/stream?token={token}") == 401  # the token in a URL opens nothing
    ticket = orjson.loads(urllib.request.urlopen(urllib.request.Request(
        f"{base}/api/stream-ticket", method="POST", headers={"Authorization": f"Bearer {token}"}), timeout=5).read())
    assert status(f"{base}/api/stream?ticket={ticket['ticket']}") == 200
    assert status(f"{base}/api/stream?ticket={ticket['ticket']}") == 401  # once only
    assert status(f"{base}/api/stream-ticket", method="POST") == 401  # a ticket takes the token


def test_a_viewer_sees_pseudonyms_only_and_cannot_judge_an_investigator_reveals_on_the_record(make_worker, browser):
    from tests.integration.test_access import add_key

    worker = make_worker().start()
    train(worker, ["ann", "bob", "cy"], days=8)
    for e in night_reads("ann", day=8):
        worker.send("events", e, key="ann")
    worker.flush()
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.alerts WHERE user = 'ann' AND band IN ('high', 'critical')"),
             what="ann's alert stored")
    names = Pseudonyms(secret_key(worker.settings))
    viewer, investigator = add_key(worker, "vera", "viewer"), add_key(worker, "ines", "investigator")

    page = sign_in(browser, worker, viewer)
    assert page.context.cookies()[0]["httpOnly"] and page.context.cookies()[0]["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # the session is out of the page's reach
    page.wait_for_selector(f"#leaderboard tbody tr[data-user='{names.of('ann')}']")
    page.wait_for_selector("#alerts li")
    page.click(f"#leaderboard tbody tr[data-user='{names.of('ann')}']")
    page.wait_for_selector("#chart .main-svg")
    text = page.inner_text("body")
    for name in ("ann", "bob", "cy"):
        assert names.of(name) in text or name == "cy"
        assert name not in text.replace(names.of(name), "").replace("annual", ""), name
    assert page.is_hidden("#reveal")  # a viewer has nothing to reveal with
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-pseudonymised.png"), full_page=True)

    page.click("#alerts li button[data-verdict='malicious']")
    refused = page.wait_for_selector("#alerts .refused")
    assert "needs the analyst role" in refused.inner_text()
    assert worker.scalar("SELECT count() FROM vigil.feedback") == 0
    page.click("#sign-out")
    page.wait_for_selector("#login:not([hidden])")
    assert page.request.get(f"{worker.settings.web_url}/api/leaderboard").status == 401  # the cookie is gone

    page = sign_in(browser, worker, investigator)
    page.wait_for_selector(f"#leaderboard tbody tr[data-user='{names.of('ann')}']").click()
    page.fill("#reveal-reason", "case 2026-114: customer complaints")
    page.click("#reveal button")
    page.wait_for_function("document.getElementById('revealed').textContent === 'ann'")
    wait_for(lambda: worker.query("SELECT who, subject, reason FROM vigil.audit WHERE action = 'reveal'") ==
             [["ines", names.of("ann"), "case 2026-114: customer complaints"]], what="the reveal in the audit table")


def test_a_cookie_without_its_csrf_token_changes_nothing_and_revoking_the_key_ends_the_session(make_worker):
    import http.cookiejar
    import urllib.error
    import urllib.request

    from tests.integration.test_access import add_key, vigil

    worker = make_worker().start()
    key = add_key(worker, "rita", "responder")
    jar = http.cookiejar.CookieJar()
    browser_like = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    signed_in = orjson.loads(browser_like.open(urllib.request.Request(
        f"{worker.settings.web_url}/api/session", data=orjson.dumps({"key": key}), method="POST"), timeout=10).read())
    assert signed_in["name"] == "rita" and len(jar) == 1
    change = {"paused": True, "reason": "a forged form post"}
    with pytest.raises(urllib.error.HTTPError) as refused:  # what a cross-site form would send: the cookie only
        browser_like.open(urllib.request.Request(f"{worker.settings.web_url}/api/automation",
                                                 data=orjson.dumps(change), method="POST"), timeout=10)
    assert refused.value.code == 401 and "X-CSRF-Token" in orjson.loads(refused.value.read())["error"]
    paused = orjson.loads(browser_like.open(urllib.request.Request(
        f"{worker.settings.web_url}/api/automation", data=orjson.dumps(change), method="POST",
        headers={"X-CSRF-Token": signed_in["csrf"]}), timeout=10).read())
    assert paused["paused"] and paused["by"] == "rita"

    vigil(worker, "access", "revoke", key.split("_")[1])

    def session_refused() -> bool:
        try:
            browser_like.open(f"{worker.settings.web_url}/api/session", timeout=10)
            return False
        except urllib.error.HTTPError as e:
            return e.code == 401
    wait_for(session_refused, what="the revoked key's session refused")
    with pytest.raises(urllib.error.HTTPError) as refused:  # nor can it sign in again, and the try is on record
        browser_like.open(urllib.request.Request(f"{worker.settings.web_url}/api/session",
                                                 data=orjson.dumps({"key": key}), method="POST"), timeout=10)
    assert refused.value.code == 401
    tried = "SELECT who, subject FROM vigil.audit WHERE action = 'sign-in' AND outcome = 'refused'"
    wait_for(lambda: worker.query(tried) == [["nobody", key.split("_")[1]]], what="the refused sign-in recorded")
