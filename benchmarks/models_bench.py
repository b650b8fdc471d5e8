"""Model cost on this machine: µs per event and state bytes per user (as JSON and as stored), in one quiet process.

    python -m benchmarks.models_bench [--users 500] [--days 30]

Events are parsed and the simulation built before the clock starts; the timed
loop is exactly what the worker runs per event (UserDetector.observe with its
Context), with detectors kept in memory.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections import defaultdict

from models import (
    Context,
    DetectorConfig,
    Population,
    Profile,
    TicketBook,
    UserDetector,
)
from streams.contract import parse_directory_entry, parse_event, parse_ticket
from streams.sources.simulator import SupportOrg
from streams.worker import saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    org = SupportOrg(users=args.users, days=args.days, seed=args.seed, insiders_per_scenario=2)
    events = [parse_event(e) for e in org.events()]
    profiles = {e["user"]: Profile.from_entry(parse_directory_entry(e)) for e in org.directory()}
    books: dict[str, TicketBook] = defaultdict(TicketBook)
    for t in map(parse_ticket, org.ticket_log):  # all tickets up front, as the demo loads them
        books[t["assignee"]].assign(t["customer_id"], t["opened"], t["closed"])

    timings = []
    for _ in range(args.repeats):
        population = Population()
        contexts = {u: Context(population, profiles.get(u, Profile()), books[u]) for u in profiles}
        detectors = {u: UserDetector(DetectorConfig()) for u in profiles}
        gc.collect()
        started = time.perf_counter()
        for event in events:
            detectors[event.user].observe(event, contexts[event.user])
        timings.append((time.perf_counter() - started) / len(events) * 1e6)
    states = [d.state() for d in detectors.values()]
    sizes = [len(json.dumps(state, separators=(",", ":"))) for state in states]
    stored = [len(saved.encode(state)) for state in states]  # compressed as the worker's table holds it
    print(json.dumps({
        "events": len(events), "users": len(detectors),
        "us_per_event_median": round(statistics.median(timings), 2), "us_per_event_runs": [round(t, 2) for t in timings],
        "state_bytes_per_user_mean": round(statistics.fmean(sizes)), "state_bytes_per_user_max": max(sizes),
        "stored_state_bytes_per_user_mean": round(statistics.fmean(stored)), "stored_state_bytes_per_user_max": max(stored),
        "population_state_bytes": len(json.dumps(population.state(), separators=(",", ":"))),
    }, indent=2))


if __name__ == "__main__":
    main()
