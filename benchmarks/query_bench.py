"""Saved hunting queries and the breach report on ≥ 10 million scored events in the embedded engine.

    python -m benchmarks.query_bench [--rows 10000000] [--runs 5] [--keep DIR]

Rows are generated inside ClickHouse (INSERT … SELECT FROM numbers()), in
batches, through the same materialized views as the sink's inserts: 5,000
users over 90 days, 200,000 customers, 2 % of touches without a ticket.
Each query runs `--runs` times; the table gives the median (p50) and its rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from streams.store.clickhouse import ClickHouseStore
from streams.store.hunting import library

START = "2026-08-01 00:00:00"
GENERATE = """
INSERT INTO vigil.scored_events
(event_id, ts, user, action, outcome, resource, record_id, records, bytes, ticket_id, unjustified, src_ip, device,
 app, geo, attrs, score, risk, band, signals, reasons, user_events, src_partition, src_offset)
SELECT
    concat('b', toString(n)) AS event_id,
    toDateTime64('{start}', 3, 'UTC') + toIntervalMillisecond(intDiv(n * 7776000000, {total})) AS ts,
    concat('u', toString(cityHash64(n) % 5000)) AS user,
    multiIf(n % 200 = 0, 'record.export', n % 10 = 0, 'record.search', n % 7 = 0, 'record.update', n % 97 = 0, 'login', 'record.view') AS action,
    'success', 'crm.customers',
    if(action IN ('record.view', 'record.update'), concat('C', leftPad(toString(cityHash64(n, 1) % 200000), 6, '0')), '') AS record_id,
    if(action = 'record.export', 50 + n % 400, if(action = 'record.search', 1 + n % 20, 1)) AS records,
    NULL, concat('T', toString(n % 1000000)), toUInt8(cityHash64(n, 2) % 50 = 0) AS unjustified,
    concat('10.', toString(cityHash64(n) % 5000 % 250), '.', toString(cityHash64(n, 3) % 4), '.7') AS src_ip,
    concat('laptop-', toString(cityHash64(n) % 5000)), 'crm-web', '', '{{}}',
    if(unjustified, 5.0, 0.0) AS score, (cityHash64(n, 4) % 1000) / 10.0 AS risk,
    multiIf(risk >= 80, 'critical', risk >= 50, 'high', risk >= 25, 'medium', 'low'),
    if(unjustified, ['unjustified'], []), if(unjustified, ['touched customer records with no ticket assigned'], []),
    toUInt32(n % 100000), toUInt16(n % 24), n
FROM (SELECT number + {offset} AS n FROM numbers({count}))
"""
PARAMS = {
    "user-timeline": {"user": "u42", "since": "2026-09-01", "until": "2026-09-08"},
    "customer-accessors": {"customer": "C004242"},
    "customers-touched-by": {"user": "u42"},
    "unattributed-bulk": {"user": "u42"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Keep the generated store in this folder (and reuse it next time).")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    console = Console()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    store = ClickHouseStore(f"chdb://{folder}")
    store.migrate()
    started = time.perf_counter()
    have = store.query_readonly("SELECT count() FROM vigil.scored_events").rows[0][0]
    with Progress(console=console) as progress:
        task = progress.add_task("generating scored events", total=args.rows, completed=have)
        for offset in range(have, args.rows, args.batch):
            count = min(args.batch, args.rows - offset)
            store.client.command(GENERATE.format(start=START, total=args.rows, offset=offset, count=count))
            progress.advance(task, count)
    load_s = time.perf_counter() - started
    rows = store.query_readonly("SELECT count() FROM vigil.scored_events").rows[0][0]

    results = []
    queries = library()
    cases = [(name, q, PARAMS.get(name, {})) for name, q in queries.items()]
    for name, query, params in cases:
        bound = query.bind(params)
        timings, n = [], 0
        for _ in range(args.runs):
            t = time.perf_counter()
            n = len(store.query_readonly(query.sql, bound).rows)
            timings.append(time.perf_counter() - t)
        results.append({"query": name, "params": params, "p50_ms": round(statistics.median(timings) * 1000, 1),
                        "min_ms": round(min(timings) * 1000, 1), "rows": n})
    breach = next(r for r in results if r["query"] == "customers-touched-by")
    bulk = next(r for r in results if r["query"] == "unattributed-bulk")
    results.append({"query": "report breach (both queries)", "params": PARAMS["customers-touched-by"],
                    "p50_ms": round(breach["p50_ms"] + bulk["p50_ms"], 1), "min_ms": None, "rows": breach["rows"]})

    table = Table("query", "parameters", "p50", "rows", title=f"{rows:,} scored events, embedded ClickHouse (chdb)")
    for r in results:
        table.add_row(r["query"], ", ".join(f"{k}={v}" for k, v in r["params"].items()), f"{r['p50_ms']:,.1f} ms",
                      f"{r['rows']:,}")
    console.print(table)
    size = store.query_readonly("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'vigil' AND active").rows[0][0]
    if rows > have:
        console.print(f"generated {rows - have:,} events in {load_s:.0f} s "
                      f"({(rows - have) / load_s:,.0f} rows/s through the materialized views)")
    console.print(f"{size / 1e6:,.0f} MB on disk ({size / rows:.1f} bytes per event, all tables)")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "load_seconds": load_s, "bytes_on_disk": size, "queries": results}, indent=2))
    store.close()


if __name__ == "__main__":
    main()
