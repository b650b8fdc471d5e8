"""The scorer without a broker: one message in, scored records, alerts, dead letters and re-routes out."""

from __future__ import annotations

import orjson

from models import DetectorConfig
from streams.contract import envelope, partition_for
from streams.worker.scorer import MemoryStore, Scorer

DAY0 = 1793577600  # 2026-11-02 00:00 UTC
NOW = DAY0 + 30 * 86400


def scorer(partitions: int = 1) -> Scorer:
    config = DetectorConfig()
    return Scorer(config, partitions, MemoryStore(config), clock=lambda: NOW)


def view(n: int, user: str = "ann", day: int = 0, customer: str | None = None, hour: int = 10) -> dict:
    return {"event_id": f"{user}-{day}-{n}", "ts": (DAY0 + day * 86400 + hour * 3600 + n * 30) * 1000, "user": user,
            "action": "record.view", "resource": "crm.customers", "record_id": customer or f"C{day}{n:03d}"}


def test_a_redelivered_message_is_not_counted_twice():
    s = scorer()
    first = s.score(orjson.dumps(view(1)), partition=0, offset=7, key=b"ann")
    again = s.score(orjson.dumps(view(1)), partition=0, offset=7, key=b"ann")  # after a crash before the commit
    assert [r.user_events for r in first.records] == [1]
    assert again.records == [] and again.users == {}
    later = s.score(orjson.dumps(view(2)), partition=0, offset=8, key=b"ann")
    assert [r.user_events for r in later.records] == [2]


def test_an_envelope_keeps_its_good_events_and_dead_letters_each_bad_one_with_its_index():
    bad = view(2) | {"ts": "yesterday"}
    out = scorer().score(envelope([view(1), bad, view(3)]), partition=0, offset=0, key=None)
    assert [r.event_id for r in out.records] == ["ann-0-1", "ann-0-3"]
    [(reason, item, index)] = out.dead_letters
    assert "ts" in reason and index == 1 and orjson.loads(item) == bad


def test_events_in_the_wrong_partition_are_rerouted_as_they_came():
    s = scorer(partitions=8)
    home = partition_for(b"bob", 8)
    elsewhere = (home + 1) % 8
    out = s.score(envelope([view(1, user="bob")]), partition=elsewhere, offset=0, key=None)
    assert out.records == [] and [(k, orjson.loads(v)["event_id"]) for k, v in out.reroutes] == [(b"bob", "bob-0-1")]
    assert s.score(envelope([view(1, user="bob")]), partition=home, offset=0, key=None).records


def test_an_event_from_the_future_is_dead_lettered_not_scored():
    future = view(1) | {"ts": (NOW + 3 * 86400) * 1000}
    out = scorer().score(orjson.dumps(future), partition=0, offset=0, key=b"ann")
    assert out.records == [] and out.dead_letters[0][0] == "'ts' is 72 h in the future"


def test_customers_on_the_users_tickets_are_justified_and_others_raise_an_alert_with_reasons():
    s = scorer()
    for day in range(8):  # a week of ordinary ticketed work
        for n in range(10):
            customer = f"T{day}-{n}"
            s.book(b"ann", {"customer_id": customer, "opened": DAY0 + day * 86400, "closed": None})
            s.score(orjson.dumps(view(n, day=day, customer=customer)), partition=0, offset=day * 100 + n, key=b"ann")
    ticketed = s.score(orjson.dumps(view(1, day=8, customer="T0-1")), partition=0, offset=900, key=b"ann")
    assert ticketed.records[0].unjustified is False
    alerts = []
    for n in range(40):  # a night of customers nobody assigned to her
        out = s.score(orjson.dumps(view(n, day=8, customer=f"X{n}", hour=2)), partition=0, offset=1000 + n, key=b"ann")
        alerts += [alert for _, alert in out.alerts]
    assert alerts and alerts[-1]["band"] in ("high", "critical")
    assert any("no ticket of theirs" in reason for reason in alerts[-1]["reasons"])


def test_a_malicious_verdict_pins_the_user_at_critical_and_clear_releases_them():
    s = scorer()
    s.score(orjson.dumps(view(1)), partition=0, offset=0, key=b"ann")
    verdict = {"user": "ann", "verdict": "malicious", "families": [], "alert_ts": DAY0, "feedback_id": "f1",
               "ts": DAY0 + 60, "analyst": "ann-analyst", "alert_id": "a1", "note": "sold records"}
    _, _, alert = s.apply_verdict(verdict, suppress_days=7)
    assert (alert["band"], alert["families"], alert["alert_id"]) == ("critical", ["verdict"], "verdict:f1")
    assert alert["reasons"] == ["judged malicious by ann-analyst (alert a1): sold records"]
    assert s.apply_verdict(verdict | {"feedback_id": "f2"}, suppress_days=7)[2] is None  # already critical
    pinned = s.score(orjson.dumps(view(2)), partition=0, offset=1, key=b"ann")
    assert pinned.records[0].band == "critical"
    s.apply_verdict(verdict | {"verdict": "clear"}, suppress_days=7)
    assert s.score(orjson.dumps(view(3, day=3)), partition=0, offset=2, key=b"ann").records[0].risk < 80
