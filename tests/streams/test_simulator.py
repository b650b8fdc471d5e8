from __future__ import annotations

from collections import Counter

import pytest

from streams.contract import parse_directory_entry, parse_event, parse_ticket
from streams.sources.simulator import SCENARIOS, SupportOrg


def test_same_seed_same_organisation():
    a, b = SupportOrg(users=40, days=4, seed=3), SupportOrg(users=40, days=4, seed=3)
    assert list(a.events()) == list(b.events())
    assert list(SupportOrg(users=40, days=4, seed=4).events()) != list(a.events())


def test_everything_meets_the_contract_and_events_are_in_time_order():
    org = SupportOrg(users=40, days=5, seed=1)
    events = [parse_event(e) for e in org.events()]
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    assert all(parse_directory_entry(d) for d in org.directory())
    assert all(parse_ticket(t) for t in org.ticket_log)


def test_every_scenario_has_its_insiders_and_their_events_are_labelled():
    org = SupportOrg(users=100, days=20, seed=5, insiders_per_scenario=2)
    events = list(org.events())
    assert Counter(org.truth.insiders.values()) == {s: 2 for s in SCENARIOS}
    malicious = set(org.truth.malicious)
    assert {e["user"] for e in events if e["event_id"] in malicious} == set(org.truth.insiders)
    assert not set(org.truth.insiders) & set(org.truth.confounders)


def test_the_harvester_reads_customers_outside_their_tickets_at_night_more_each_night():
    org = SupportOrg(users=40, days=12, seed=5, scenarios=("harvest",))
    events = list(org.events())
    (insider,) = org.truth.insiders
    malicious = set(org.truth.malicious)
    reads = [parse_event(e) for e in events if e["event_id"] in malicious and e["action"] == "record.view"]
    ticket_customers = {t["customer_id"] for t in org.ticket_log if t["assignee"] == insider}
    assert sum(e.record_id in ticket_customers for e in reads) <= len(reads) * 0.05  # chance overlaps only
    per_night = Counter(int((e.ts + 6 * 3600) // 86400) for e in reads)  # nights from 18:00 UTC: a session is one night
    counts = [per_night[d] for d in sorted(per_night)]
    assert counts == sorted(counts) and counts[-1] > counts[0]


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="at least 20"):
        SupportOrg(users=5)
    with pytest.raises(ValueError, match="unknown scenarios"):
        SupportOrg(users=20, scenarios=("heist",))
