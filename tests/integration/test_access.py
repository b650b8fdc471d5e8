"""Who may see and do what: per-person keys and roles, pseudonyms, the audit trail, OIDC tokens, four eyes.

Everything through a real worker on the real broker and ClickHouse; keys made with `vigil access add`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import orjson
import pytest

from streams.access.pseudonyms import Pseudonyms
from streams.settings import api_token, secret_key
from tests.integration.conftest import SCIM_TOKEN, wait_for
from tests.integration.scenarios import night_reads, train

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ROLES = ("viewer", "analyst", "investigator", "responder", "admin")

#: The role each endpoint needs, written out here (not read from the code) so the code can fail it.
MATRIX = {
    ("GET", "/metrics"): "viewer",
    ("GET", "/api/leaderboard"): "viewer",
    ("GET", "/api/alerts"): "viewer",
    ("GET", "/api/users/{pseudonym}"): "viewer",
    ("POST", "/api/stream-ticket"): "viewer",
    ("GET", "/api/session"): "viewer",
    ("GET", "/api/automation"): "viewer",
    ("POST", "/query"): "analyst|investigator",
    ("POST", "/api/feedback"): "analyst",
    ("POST", "/api/reveal"): "investigator",
    ("POST", "/api/reports/customers-touched-by"): "investigator",
    ("POST", "/api/approvals"): "responder",
    ("POST", "/api/automation"): "responder",
    ("POST", "/api/reinstate"): "responder",
    ("GET", "/api/audit"): "admin",
}
BODIES = {
    "/query": {"sql": "SELECT count() FROM vigil.scored_events"},
    "/api/feedback": {"alert_id": "no-such-alert", "verdict": "benign"},
    "/api/reveal": {"pseudonym": "u-000000000000", "reason": "role matrix test"},
    "/api/reports/customers-touched-by": {"user": "u-000000000000", "reason": "role matrix test"},
    "/api/approvals": {"alert_id": "no-such-alert", "reason": "role matrix test"},
    "/api/automation": {"paused": False, "reason": "role matrix test"},
    "/api/reinstate": {"user": "u-000000000000", "reason": "role matrix test"},
}


def call(worker, method: str, path: str, key: str | None = None, body: dict | None = None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    request = urllib.request.Request(f"{worker.settings.web_url}{path}", method=method, headers=headers,
                                     data=orjson.dumps(body) if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    try:
        return status, orjson.loads(raw)
    except orjson.JSONDecodeError:
        return status, raw.decode(errors="replace")


def vigil(worker, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", *args], env=worker.env | {"COLUMNS": "250"}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def add_key(worker, name: str, *roles: str) -> str:
    """A key made with `vigil access add`, once the worker knows it."""
    done = vigil(worker, "access", "add", name, *[a for r in roles for a in ("--role", r)])
    key = done.stdout.strip()
    assert key.startswith("vk_") and key not in done.stderr
    wait_for(lambda: call(worker, "GET", "/api/session", key)[0] == 200, what=f"the worker knowing {name}'s key")
    return key


@pytest.fixture
def trained(make_worker):
    worker = make_worker().start()
    train(worker, ["ann", "bob"], days=8)
    for e in night_reads("ann", day=8):
        worker.send("events", e, key="ann")
    worker.flush()
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.alerts WHERE user = 'ann' AND band IN ('high', 'critical')"),
             what="ann's alert stored")
    return worker


def test_every_role_against_every_endpoint(trained):
    worker = trained
    keys = {role: add_key(worker, f"{role}@example.org", role) for role in ROLES}
    ann = Pseudonyms(secret_key(worker.settings)).of("ann")
    seen: dict[tuple[str, str], dict[str, int]] = {}
    for (method, route), needed in MATRIX.items():
        path = route.replace("{pseudonym}", ann)
        status, body = call(worker, method, path, None, BODIES.get(route))
        assert status == 401, (method, route, status, body)  # nobody: no entry
        seen[(method, route)] = {"nobody": status}
        for role, key in keys.items():
            status, body = call(worker, method, path, key, BODIES.get(route))
            seen[(method, route)][role] = status
            if role in needed.split("|") or needed == "viewer":
                assert status not in (401, 403), (role, method, route, status, body)
            else:
                assert status == 403, (role, method, route, status, body)
                assert f"needs the {needed.replace('|', ' or ')} role" in body["error"]
    _write_matrix(seen)
    for path in ("/", "/router/", "/table/users/ann/", "/stats/"):  # Faust's own views: not served, to anyone
        assert call(worker, "GET", path, api_token(worker.settings))[0] == 404, path
    assert call(worker, "GET", "/query", keys["analyst"])[0] == 404  # a method no view takes

    # Keys never reach a log: not the worker's, not the CLI's listing.
    listing = vigil(worker, "access", "list").stdout
    assert "viewer@example.org" in listing
    for key in keys.values():
        secret = key.split("_", 2)[2]
        assert secret not in worker.log.read_text() and secret not in listing

    # A revoked key opens nothing, within seconds, on the worker that follows the access topic.
    viewer_id = keys["viewer"].split("_")[1]
    vigil(worker, "access", "revoke", viewer_id)
    wait_for(lambda: call(worker, "GET", "/api/leaderboard", keys["viewer"])[0] == 401, what="the revoked key refused")


def _write_matrix(seen: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    lines = ["| endpoint | needs | nobody | " + " | ".join(ROLES) + " |", "|---" * (len(ROLES) + 3) + "|"]
    for (method, route), statuses in seen.items():
        lines.append(f"| {method} {route} | {MATRIX[(method, route)].replace('|', ' or ')} | "
                     + " | ".join(str(statuses[r]) for r in ("nobody", *ROLES)) + " |")
    (ARTIFACTS / "role-matrix.md").write_text("\n".join(lines) + "\n")


def test_people_see_pseudonyms_and_an_investigator_reveals_one_on_the_record(trained):
    worker = trained
    viewer, analyst = add_key(worker, "vera", "viewer"), add_key(worker, "andy", "analyst")
    investigator = add_key(worker, "ines", "investigator")
    names = Pseudonyms(secret_key(worker.settings))

    board = call(worker, "GET", "/api/leaderboard", viewer)[1]
    alerts = call(worker, "GET", "/api/alerts?band=high", viewer)[1]
    assert {r["user"] for r in board} == {names.of("ann"), names.of("bob")}
    assert alerts and {a["user"] for a in alerts} == {names.of("ann")}
    shown = json.dumps([board, [{k: v for k, v in a.items() if k not in ("alert_id", "event_id")} for a in alerts]])
    assert "ann" not in shown.replace(names.of("ann"), "")  # (the test's own event ids spell the name: not Vigil's)
    profile = call(worker, "GET", f"/api/users/{names.of('ann')}", viewer)[1]
    assert profile["user"] == names.of("ann") and profile["now"]["user"] == names.of("ann") and profile["events"]

    # An analyst's SQL answers with pseudonyms wherever a user's name would be; an investigator's as stored.
    sql = {"sql": "SELECT user, groupArray(DISTINCT user) AS same, count() FROM vigil.scored_events GROUP BY user ORDER BY user"}
    hidden = call(worker, "POST", "/query", analyst, sql)[1]["rows"]
    assert sorted(r[0] for r in hidden) == sorted([names.of("ann"), names.of("bob")])
    assert all(r[1] == [r[0]] for r in hidden)
    assert sorted(r[0] for r in call(worker, "POST", "/query", investigator, sql)[1]["rows"]) == ["ann", "bob"]
    status, refused = call(worker, "POST", "/query", analyst, {**sql, "format": "Parquet"})
    assert status == 403 and "investigator" in refused["error"]

    # The reveal needs a reason, and lands in the audit trail, which the query path cannot change.
    assert call(worker, "POST", "/api/reveal", investigator, {"pseudonym": names.of("ann")})[0] == 400
    status, revealed = call(worker, "POST", "/api/reveal", investigator,
                            {"pseudonym": names.of("ann"), "reason": "case 2026-114: customer complaints"})
    assert (status, revealed["user"]) == (200, "ann")
    audit = "SELECT who, subject, reason, outcome FROM vigil.audit WHERE action = 'reveal'"
    wait_for(lambda: worker.query(audit), what="the reveal in the audit table")
    assert worker.query(audit) == [["ines", names.of("ann"), "case 2026-114: customer complaints", "ok"]]
    for statement in ("DROP TABLE vigil.audit", "ALTER TABLE vigil.audit DELETE WHERE 1",
                      "TRUNCATE TABLE vigil.audit", "INSERT INTO vigil.audit (who) VALUES ('nobody')"):
        status, body = call(worker, "POST", "/query", investigator, {"sql": statement})
        assert status == 400, statement
    assert worker.query(audit) == [["ines", names.of("ann"), "case 2026-114: customer complaints", "ok"]]

    # The breach report by pseudonym: the customers ann touched, for an investigator, on the record.
    status, report = call(worker, "POST", "/api/reports/customers-touched-by", investigator,
                          {"user": names.of("ann"), "reason": "case 2026-114: who must we warn?"})
    assert status == 200 and report["columns"][0] == "customer"
    assert {r[0] for r in report["rows"]} >= {f"X-8-{n:05d}" for n in range(60)}
    assert call(worker, "POST", "/api/reports/customers-touched-by", analyst,
                {"user": names.of("ann"), "reason": "curious"})[0] == 403

    # `vigil audit` reads the trail: the queries above are on it, with who ran them.
    wait_for(lambda: "andy" in vigil(worker, "audit", "--action", "query", "--format", "json").stdout,
             what="the analyst's queries in `vigil audit`")
    entries = [json.loads(line) for line in vigil(worker, "audit", "--who", "ines", "--format", "json").stdout.splitlines()]
    assert {e["action"] for e in entries} >= {"reveal", "query", "sign-in"} - {"sign-in"}
    assert all(e["who"] == "ines" for e in entries)


# -- OIDC --------------------------------------------------------------------------------
@pytest.fixture
def identity_provider():
    """A JWKS endpoint (what an identity provider publishes) and a way to sign tokens with its key."""
    jwt = pytest.importorskip("jwt")
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())) | {"kid": "k1", "use": "sig", "alg": "RS256"}
    body = orjson.dumps({"keys": [jwk]})

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def token(signer=key, **claims) -> str:
        now = int(time.time())
        payload = {"sub": "oidc-123", "preferred_username": "olga", "aud": "vigil", "iss": "https://idp.example",
                   "iat": now, "exp": now + 300, "roles": ["analyst"]} | claims
        return jwt.encode(payload, signer, algorithm="RS256", headers={"kid": "k1"})

    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", token
    server.shutdown()
    server.server_close()


def test_identity_provider_tokens_are_checked_and_forged_or_expired_ones_refused(make_worker, identity_provider):
    from cryptography.hazmat.primitives.asymmetric import rsa

    jwks_url, token = identity_provider
    worker = make_worker(oidc_jwks_url=jwks_url, oidc_issuer="https://idp.example").start()
    good = token()
    assert call(worker, "GET", "/api/session", good)[1]["name"] == "olga"
    assert call(worker, "POST", "/query", good, BODIES["/query"])[0] == 200
    status, body = call(worker, "GET", "/api/audit", good)
    assert status == 403 and "needs the admin role" in body["error"]

    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = {
        "forged": token(signer=forger, roles=["admin"]),
        "expired": token(exp=int(time.time()) - 60, iat=int(time.time()) - 600),
        "for another audience": token(aud="payroll"),
        "from another issuer": token(iss="https://evil.example"),
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
    }
    for what, bad in refused.items():
        assert call(worker, "GET", "/api/leaderboard", bad)[0] == 401, what
    assert all(bad not in worker.log.read_text() for bad in refused.values())


def test_a_suspension_that_rests_on_a_verdict_alone_waits_for_a_second_person(make_worker, scim):
    worker = make_worker(scim_url=scim.url, scim_token=SCIM_TOKEN).start()  # automation acts at critical
    for user in ("bob", "cy"):
        scim.create(user)
    train(worker, ["bob"], days=3)
    worker.send("alerts", synthetic_alert("b-1:medium", "bob", "medium"), key="bob")  # something to judge
    worker.flush()
    wait_for(lambda: worker.scalar("SELECT count() FROM vigil.alerts WHERE alert_id = 'b-1:medium'"), what="the alert")
    alex, rita = add_key(worker, "alex", "analyst", "responder"), add_key(worker, "rita", "responder")

    # alex judges bob malicious: bob is pinned at critical, and the suspension waits for a second person.
    status, verdict = call(worker, "POST", "/api/feedback", alex, {"alert_id": "b-1:medium", "verdict": "malicious",
                                                                   "note": "copied the VIP list"})
    assert status == 200
    verdict_alert = f"verdict:{verdict['feedback_id']}"
    waiting = f"SELECT detail FROM vigil.actions WHERE alert_id = '{verdict_alert}' AND status = 'awaiting-approval'"
    wait_for(lambda: worker.query(waiting), what="the suspension awaiting approval")
    assert scim.active("bob")
    shown = call(worker, "GET", "/api/alerts?band=critical", alex)[1]
    assert [(a["alert_id"], a["automation"]) for a in shown] == [(verdict_alert, "awaiting-approval")]
    assert shown[0]["reasons"] == ["judged malicious by alex (alert b-1:medium): copied the VIP list"]

    # Not by the verdict's author; by another responder, yes: then the real SCIM server deactivates bob.
    status, body = call(worker, "POST", "/api/approvals", alex, {"alert_id": verdict_alert, "reason": "sure"})
    assert status == 403 and "four eyes" in body["error"]
    assert scim.active("bob")
    assert call(worker, "POST", "/api/approvals", rita, {"alert_id": verdict_alert, "reason": "HR confirmed"})[0] == 200
    wait_for(lambda: not scim.active("bob"), what="bob deactivated after the approval")
    approved = f"SELECT detail FROM vigil.actions WHERE alert_id = '{verdict_alert}' AND status = 'approved'"
    wait_for(lambda: worker.query(approved) == [["approved by rita"]], what="the approval recorded")

    # A responder pauses automation: the model's own critical alert suspends nobody until it resumes.
    assert call(worker, "POST", "/api/automation", rita, {"paused": True, "reason": "change freeze"})[0] == 200
    worker.send("alerts", synthetic_alert("c-1:critical", "cy", "critical"), key="cy")
    worker.flush()
    skipped = "SELECT detail FROM vigil.actions WHERE alert_id = 'c-1:critical' AND status = 'skipped'"
    wait_for(lambda: worker.query(skipped) == [["automation paused by rita: change freeze"]], what="the pause obeyed")
    assert scim.active("cy")

    # ... and reinstates bob by pseudonym, through the API; every step is on the audit trail.
    ann_like = Pseudonyms(secret_key(worker.settings)).of("bob")
    assert call(worker, "POST", "/api/reinstate", rita, {"user": ann_like, "reason": "cleared by HR"})[0] == 200
    assert scim.active("bob")
    trail = "SELECT who, action, outcome FROM vigil.audit WHERE who IN ('alex', 'rita') ORDER BY ts"
    wait_for(lambda: len(worker.query(trail)) >= 5, what="the audit trail")
    assert [tuple(r) for r in worker.query(trail)][-5:] == [
        ("alex", "verdict", "ok"), ("alex", "approve", "refused"), ("rita", "approve", "ok"),
        ("rita", "automation.pause", "ok"), ("rita", "reinstate", "ok")]


def synthetic_alert(alert_id: str, user: str, band: str) -> dict:
    return {"alert_id": alert_id, "ts": time.time(), "user": user, "band": band, "previous": "low", "risk": 99.0,
            "reasons": ["test"], "techniques": [], "families": ["unjustified"], "event_id": alert_id}
