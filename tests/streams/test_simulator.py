from __future__ import annotations

from streams.contract import parse_event
from streams.sources.simulator import SupportOrg


def test_same_seed_same_organisation():
    a, b = SupportOrg(users=10, days=4, seed=3), SupportOrg(users=10, days=4, seed=3)
    assert list(a.events()) == list(b.events())
    assert list(SupportOrg(users=10, days=4, seed=4).events()) != list(a.events())


def test_every_event_meets_the_contract_and_is_in_time_order():
    events = [parse_event(e) for e in SupportOrg(users=20, days=5, seed=1).events()]
    assert [e.ts for e in events] == sorted(e.ts for e in events)


def test_the_insider_reads_customers_outside_their_tickets_at_night_more_each_day():
    org = SupportOrg(users=20, days=8, seed=5, insider_from_day=3)
    events = list(org.events())
    malicious = set(org.truth.malicious)
    theirs = [parse_event(e) for e in events if e["event_id"] in malicious]
    assert {e.user for e in theirs} == set(org.truth.insiders)
    ticket_customers = {t["customer_id"] for t in org.ticket_log if t["assignee"] == org.insider.user}
    reads = [e for e in theirs if e.action == "record.view"]
    assert sum(e.record_id in ticket_customers for e in reads) <= len(reads) * 0.05  # chance overlaps only
    per_night = {}
    for e in reads:
        per_night[int(e.ts // 86400)] = per_night.get(int(e.ts // 86400), 0) + 1
    counts = [per_night[d] for d in sorted(per_night)]
    assert counts == sorted(counts) and counts[-1] > counts[0]
