"""Model cost of two or more commits side by side: the same events, passes alternated, in one run.

    python -m benchmarks.models_side_by_side abb4474 HEAD [--rounds 20] [--users 300] [--days 21] [--seed 7]

Each commit is checked out into a worktree of its own and gets a process of its
own, which parses the events once (simulated by the *current* tree, so every
commit scores the very same events) and then, on each request, scores all of
them with fresh detectors: exactly `UserDetector.observe` with its Context, as
`benchmarks.models_bench` times it. Passes are alternated between the commits,
in reverse order every other round, so a noisy machine slows them alike; the
ratio of each round's pair is reported with its spread. Times are the process's
CPU time per event.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

#: What each commit's process runs: load once, then one timed pass per line read. It is `models_bench`'s timed loop
#: written out, not imported: it runs inside older checkouts, whose benchmarks differ or are missing.
SCORER = r"""
import gc, json, sys, time
from collections import defaultdict
from models import Context, DetectorConfig, Population, Profile, TicketBook, UserDetector
from streams.contract import parse_directory_entry, parse_event, parse_ticket

folder = sys.argv[1]
events = [parse_event(line) for line in open(f"{folder}/events.ndjson", "rb") if line.strip()]
directory = [parse_directory_entry(line) for line in open(f"{folder}/directory.ndjson", "rb") if line.strip()]
profiles = {entry["user"]: Profile.from_entry(entry) for entry in directory}
tickets = [parse_ticket(line) for line in open(f"{folder}/tickets.ndjson", "rb") if line.strip()]
users = set(profiles) | {e.user for e in events}
print("ready", flush=True)
for _ in sys.stdin:
    books = defaultdict(TicketBook)
    for t in tickets:
        books[t["assignee"]].assign(t["customer_id"], t["opened"], t["closed"])
    population = Population()
    contexts = {u: Context(population, profiles.get(u, Profile()), books[u]) for u in users}
    detectors = {u: UserDetector(DetectorConfig()) for u in users}
    gc.collect()
    started = time.process_time()
    for event in events:
        detectors[event.user].observe(event, contexts[event.user])
    print((time.process_time() - started) / len(events) * 1e6, flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commits", nargs="+", help="git commits; the first is the one the others are compared to")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="vigil-cost-") as scratch:
        work = Path(scratch)
        subprocess.run([sys.executable, "-m", "streams.ops.cli", "simulate", "--users", str(args.users),
                        "--days", str(args.days), "--seed", str(args.seed), "--out", str(work / "sim")],
                       cwd=root, check=True, stdout=subprocess.DEVNULL)
        trees = [_worktree(root, commit, work / f"tree{i}") for i, commit in enumerate(args.commits)]
        try:
            times = _alternate(trees, work / "sim", args.rounds)
        finally:
            for tree in trees:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, check=False)
    _report(args.commits, times)


def _worktree(root: Path, commit: str, path: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], cwd=root, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def _alternate(trees: list[Path], events: Path, rounds: int) -> list[list[float]]:
    processes = [subprocess.Popen([sys.executable, "-c", SCORER, str(events)], cwd=tree, env={"PYTHONPATH": str(tree)},
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for tree in trees]
    try:
        for process in processes:
            if process.stdout.readline().strip() != "ready":
                raise SystemExit("a scorer process failed to load the events (see its error above)")
        times: list[list[float]] = [[] for _ in trees]
        for round_ in track(range(rounds), description="alternating passes"):
            order = range(len(trees)) if round_ % 2 == 0 else reversed(range(len(trees)))
            for i in order:
                processes[i].stdin.write("pass\n")
                processes[i].stdin.flush()
                times[i].append(float(processes[i].stdout.readline()))
        return times
    finally:
        for process in processes:
            process.stdin.close()
            process.wait()


def _report(commits: list[str], times: list[list[float]]) -> None:
    table = Table(title=f"µs per event (CPU), {len(times[0])} alternated passes each")
    for column in ("commit", "min", "median", "max", "median of paired ratios", "ratio range"):
        table.add_column(column)
    for commit, runs in zip(commits, times):
        ratios = sorted(a / b for a, b in zip(runs, times[0]))
        table.add_row(commit, f"{min(runs):.1f}", f"{statistics.median(runs):.1f}", f"{max(runs):.1f}",
                      f"{statistics.median(ratios):.2f}×", f"{ratios[0]:.2f}–{ratios[-1]:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
