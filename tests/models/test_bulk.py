"""BulkRead: one read that returns far more records than the user's, or a newcomer's peers', reads do."""

from __future__ import annotations

import json

from models import AccessEvent, Context, Population, Profile
from models.bulk import BulkRead

DAY = 86400


def search(user: str, day: int, records: int, minute: int = 0) -> AccessEvent:
    return AccessEvent(f"{user}-{day}-{minute}", day * DAY + 36000 + minute * 60, user, "record.search",
                       resource="crm.customers", records=records)


def fired(bulk: BulkRead, ctx: Context, event: AccessEvent) -> list[str]:
    return [s.reason for s in bulk.observe(event, ctx)]


def test_someone_whose_searches_always_return_hundreds_is_judged_by_their_own():
    ctx, bulk = Context(Population(), Profile(role="analyst")), BulkRead()
    for day in range(10):
        bulk.observe(search("ann", day, 100 + 10 * (day % 3)), ctx)
    assert fired(bulk, ctx, search("ann", 10, 130)) == []
    assert fired(bulk, ctx, search("ann", 10, 400, minute=5))  # four times their usual is not


def test_a_newcomer_is_judged_against_the_peers_largest_read_of_a_day():
    population = Population()
    for member in ("bo", "cy", "di"):
        ctx, bulk = Context(population, Profile(role="agent")), BulkRead()
        for day in range(5):
            bulk.observe(search(member, day, 4 + day), ctx)
    newcomer, ctx = BulkRead(), Context(population, Profile(role="agent"))
    assert fired(newcomer, ctx, search("new", 5, 8)) == []
    [reason] = fired(newcomer, ctx, search("new", 5, 45, minute=1))
    assert "the largest of a day for peers (agent)" in reason


def test_fires_again_only_when_the_days_bulk_records_double_and_state_round_trips():
    ctx, bulk = Context(Population()), BulkRead()
    for day in range(10):
        bulk.observe(search("ann", day, 5), ctx)
    assert fired(bulk, ctx, search("ann", 10, 40))
    assert fired(bulk, ctx, search("ann", 10, 30, minute=1)) == []  # 70 in bulk reads today: not yet twice 40
    restored = BulkRead().restore(json.loads(json.dumps(bulk.state())))
    assert fired(restored, ctx, search("ann", 10, 30, minute=2))  # 100: twice 40, from the saved state
