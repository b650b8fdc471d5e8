"""`vigil eval --matrix`: every insider scenario at random intensity, pacing and duration, beside every confounder.

Runs go through `evaluation.replay`, the worker's own scorer with the worker's
partitioning (an integration test holds the two to the same alerts). The sets
are kept apart: the *tuned* sets (seeds and organisation shapes the detectors
were adjusted on) and the report sets (*held-out*, *sealed*, *fresh*, *set-aside*
and *reserve*: other seeds, other sizes and periods), which nobody looks at
while tuning.
Detection is reported against intensity, as a table and a chart, so it shows
where detection starts.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import chi2

from models import DetectorConfig
from streams.ops.evaluation import (
    Report,
    RunResult,
    detection,
    replay,
    score,
    simulated,
)
from streams.sources.insiders import LOW_AND_SLOW

INTENSITY_BINS = ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0001))


@dataclass(frozen=True)
class MatrixSet:
    """One set of runs: which seeds, and the organisation they simulate."""

    name: str
    seeds: tuple[int, ...]
    users: int
    days: int
    insiders: int = 4  # per scenario and run

    def describe(self) -> str:
        return f"seeds {self.seeds[0]}–{self.seeds[-1]}, {self.users} users × {self.days} days, {self.insiders} per scenario"


TUNED = MatrixSet("tuned", tuple(range(1, 5)), users=300, days=28)
#: Tuned on too: large and long enough that one team's incident raises false alerts (the tuned set's surges raised
#: none, so nothing about them could be decided there).
TUNED_LARGE = MatrixSet("tuned-large", tuple(range(21, 29)), users=500, days=42)
#: Tuned on too: twelve more runs of that shape, enough on-call weeks and team transfers (a few hundred user-days
#: each) for their false alerts to be looked into.
TUNED_WIDE = MatrixSet("tuned-wide", tuple(range(29, 41)), users=500, days=42)
HELD_OUT = MatrixSet("held-out", tuple(range(1001, 1005)), users=400, days=35)
#: Kept sealed until the last round of tuning was done: a smaller organisation over three weeks.
SEALED = MatrixSet("sealed", tuple(range(2001, 2005)), users=240, days=21)
#: Defined after the last change to detection, never run before it was reported: a larger organisation, six weeks.
FRESH = MatrixSet("fresh", tuple(range(3001, 3005)), users=500, days=42)
#: Defined like *fresh*: many short runs, so that each confounder holds thousands of benign user-days (in the
#: other sets a few hundred, where one false alert reads as several per 1,000) and each scenario hundreds of
#: insiders. Thirty days take in a monthly report (the 1st of October). Reported once, then tuned on: its false
#: alerts under quarter ends and incidents were looked into.
MANY_SHORT = MatrixSet("many-short", tuple(range(4001, 4049)), users=260, days=30)
#: Defined before many-short's false alerts were tuned on, never run before that change was reported: as many
#: user-days again, in larger organisations over five weeks. Tuned on since: its false alerts were read, and one
#: of them decided the first-days change.
MANY_MORE = MatrixSet("many-more", tuple(range(5001, 5033)), users=300, days=35)
#: Kept back for the first-days change to detection: defined before it and run once, to report it once settled.
#: A mid-sized organisation over five weeks. Tuned on since: its on-call false alerts decided the sessions change.
KEPT_BACK = MatrixSet("kept-back", tuple(range(6001, 6033)), users=350, days=35)
#: Held back for the sessions change to detection: defined before it, run once to report it. Its misses were read
#: after that report: seen since.
HELD_BACK = MatrixSet("held-back", tuple(range(7001, 7033)), users=320, days=35)
#: Set aside for the look-back change to detection: defined before it, run once to report it once it was settled.
#: A smaller organisation over six weeks.
SET_ASIDE = MatrixSet("set-aside", tuple(range(8001, 8033)), users=280, days=42)
#: Kept in reserve for the change that says a leaver's first week once: defined before it, run once to report it
#: once it was settled.
RESERVE = MatrixSet("reserve", tuple(range(9001, 9033)), users=330, days=35)
#: Spare, for the change that keeps an alerted day out of the peers' norms: defined before it, run once to report
#: it once it was settled. A larger organisation over four weeks.
SPARE = MatrixSet("spare", tuple(range(10001, 10033)), users=380, days=28)
#: Standby, for the next change to detection: defined before it, not run by `vigil eval --matrix` unless named, and
#: named only to report that change once it is settled. A mid-sized organisation over five weeks.
STANDBY = MatrixSet("standby", tuple(range(11001, 11033)), users=360, days=35)
#: The sets reported, never tuned on.
REPORT_SETS = (HELD_OUT.name, SEALED.name, FRESH.name, SET_ASIDE.name, RESERVE.name, SPARE.name, STANDBY.name)


def simulate_and_replay(seed: int, users: int, days: int, insiders: int, config: DetectorConfig,
                        partitions: int) -> RunResult:
    return replay(simulated(seed, users, days, insiders), config, partitions=partitions)


def run_set(matrix: MatrixSet, config: DetectorConfig, partitions: int, jobs: int, progress=None) -> list[RunResult]:
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(simulate_and_replay, seed, matrix.users, matrix.days, matrix.insiders, config, partitions)
                   for seed in matrix.seeds]
        results = []
        for future in futures:
            results.append(future.result())
            if progress:
                progress()
    return results


def curve(results: list[RunResult]) -> dict[str, list[dict]]:
    """Per scenario and intensity bin: insiders, detected, median delay (hours)."""
    table: dict[str, list[dict]] = {}
    for run in results:
        for user, scenario in run.insiders.items():
            if user not in run.first_malicious:
                continue  # never acted within the run (counted apart in the report)
            bins = table.setdefault(scenario, [{"from": lo, "to": min(hi, 1.0), "insiders": 0, "detected": 0,
                                                "delays": []} for lo, hi in INTENSITY_BINS])
            intensity = run.intensity[user]
            cell = next(b for (lo, hi), b in zip(INTENSITY_BINS, bins) if lo <= intensity < hi)
            cell["insiders"] += 1
            delay = detection(run, user)
            if delay is not None:
                cell["detected"] += 1
                cell["delays"].append(delay)
    for bins in table.values():
        for cell in bins:
            delays = cell.pop("delays")
            cell["median_delay_h"] = statistics.median(delays) if delays else None
    return dict(sorted(table.items()))


def summary(name: str, matrix: MatrixSet, results: list[RunResult]) -> dict:
    report: Report = score(results)
    return {"set": name, "runs": matrix.describe(), "report": report.to_dict(), "curve": curve(results)}


def markdown(summaries: list[dict]) -> str:
    """The matrix as Markdown tables: detection per scenario and intensity, false alerts per confounder."""
    lines = []
    for s in summaries:
        report = s["report"]
        lines += [f"### {s['set']} ({s['runs']})", "",
                  "| scenario | detected | median delay | intensity 0–¼ | ¼–½ | ½–¾ | ¾–1 |", "|---|---|---|---|---|---|---|"]
        for row in report["scenarios"]:
            cells = [_cell(c) for c in s["curve"].get(row["scenario"], [])] or ["—"] * len(INTENSITY_BINS)
            slow = " (low and slow)" if row["scenario"] in LOW_AND_SLOW else ""
            idle = f" ({row['idle']} never acted)" if row.get("idle") else ""
            lines.append(f"| {row['scenario']}{slow} | {row['detected']}/{row['runs']}{idle} | "
                         f"{_hours(row['median_delay_h'])} | " + " | ".join(cells) + " |")
        worst = report["worst_day"]
        lines += ["", f"False alerts (high+): **{report['false_alerts_per_1000_benign_user_days']:.2f} per 1,000 benign "
                      f"user-days** ({report['false_alerts']} in {report['benign_user_days']:,}); worst day "
                      f"{worst['per_1000_users']:.1f} per 1,000 users ({worst['false_alerts']} on {worst['day'] or '—'}).", ""]
        lines += _confounder_table(report["false_alerts_by_confounder"])
    pooled = [s for s in summaries if s["set"] in REPORT_SETS]
    if len(pooled) > 1:
        lines += [f"### the report sets together ({', '.join(s['set'] for s in pooled)}): false alerts per confounder", "",
                  "A confounder holds a few hundred user-days in one set, where one alert is several per 1,000; "
                  "together, and with the exact 95 % interval of a Poisson rate, they show what the sets can tell.", ""]
        lines += _confounder_table(_pooled_confounders(pooled))
    return "\n".join(lines)


def _confounder_table(confounders: dict[str, dict]) -> list[str]:
    lines = ["| confounder | user-days | false alerts | per 1,000 | 95 % interval |", "|---|---|---|---|---|"]
    for name, c in confounders.items():
        low, high = rate_interval(c["alerts"], c["user_days"])
        lines.append(f"| {name} | {c['user_days']:,} | {c['alerts']} | {c['per_1000']:.2f} | {low:.2f}–{high:.2f} |")
    return lines + [""]


def _pooled_confounders(summaries: list[dict]) -> dict[str, dict]:
    """Every confounder's false alerts and benign user-days summed over `summaries`."""
    pooled: dict[str, dict] = {}
    for s in summaries:
        for name, c in s["report"]["false_alerts_by_confounder"].items():
            total = pooled.setdefault(name, {"alerts": 0, "user_days": 0})
            total["alerts"] += c["alerts"]
            total["user_days"] += c["user_days"]
    for total in pooled.values():
        total["per_1000"] = 1000 * total["alerts"] / max(total["user_days"], 1)
    return dict(sorted(pooled.items()))


def rate_interval(events: int, exposure: float, per: float = 1000.0, level: float = 0.95) -> tuple[float, float]:
    """The exact (Garwood) interval of a Poisson rate: `events` in `exposure` user-days, per `per` of them.

    One false alert in 205 user-days is 4.9 per 1,000, and may as well be 0.1 or 27:

    >>> [round(x, 2) for x in rate_interval(1, 205)]
    [0.12, 27.18]
    >>> [round(x, 2) for x in rate_interval(0, 6_000)]  # none in 6,000: at most 0.61 per 1,000
    [0.0, 0.61]
    """
    if exposure <= 0:
        return 0.0, math.inf
    tail = (1 - level) / 2
    low = float(chi2.ppf(tail, 2 * events)) / 2 if events else 0.0
    high = float(chi2.ppf(1 - tail, 2 * events + 2)) / 2
    return per * low / exposure, per * high / exposure


def _cell(c: dict) -> str:
    if not c["insiders"]:
        return "—"
    return f"{c['detected']}/{c['insiders']}" + (f" · {_hours(c['median_delay_h'])}" if c["median_delay_h"] is not None else "")


def _hours(h: float | None) -> str:
    return "—" if h is None else f"{h * 60:.0f} min" if h < 1 else f"{h:.0f} h"


def plot(summaries: list[dict], path: Path) -> Path:
    """Detection rate against intensity, one line per scenario, a panel per set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(len(summaries), 3)
    rows = -(-len(summaries) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6.5 * columns, 4.6 * rows), dpi=110, sharey=True, squeeze=False)
    for ax in axes.flat[len(summaries):]:
        ax.set_visible(False)
    rates = [c["detected"] / c["insiders"] for s in summaries for bins in s["curve"].values() for c in bins
             if c["insiders"]]
    low = min([0.7, *rates]) - 0.03  # detection is mostly near 1: a 0–1 axis would hide the misses
    for ax, s in zip(axes.flat, summaries):
        for scenario, bins in s["curve"].items():
            xs = [(c["from"] + c["to"]) / 2 for c in bins if c["insiders"]]
            ys = [c["detected"] / c["insiders"] for c in bins if c["insiders"]]
            ax.plot(xs, ys, marker="o", lw=1.4, ls="-" if scenario in LOW_AND_SLOW else "--", label=scenario)
        ax.axhline(0.95, color="grey", lw=0.8, ls=":")
        ax.set_title(f"{s['set']}: {s['runs']}", fontsize=9)
        ax.set_xlabel("insider intensity (0 = quietest)")
        ax.set_ylim(low, 1.02)
    for row in axes:
        row[0].set_ylabel("detected at high or above")
    axes.flat[len(summaries) - 1].legend(fontsize=7, loc="lower right")
    fig.suptitle("Vigil: detection against intensity (solid: low and slow)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))  # room for the title above the first row's
    fig.savefig(path)
    plt.close(fig)
    return path


SETS = {s.name: s for s in (TUNED, TUNED_LARGE, TUNED_WIDE, HELD_OUT, SEALED, FRESH, MANY_SHORT, MANY_MORE, KEPT_BACK,
                            HELD_BACK, SET_ASIDE, RESERVE, SPARE, STANDBY)}


def chosen(names: Iterable[str]) -> tuple[MatrixSet, ...]:
    """The sets named, or with none named every set but the standby one (`STANDBY`).

    >>> [s.name for s in chosen(["sealed", "standby"])], "standby" in [s.name for s in chosen([])]
    (['sealed', 'standby'], False)
    >>> chosen(["sealed", "nope"])
    Traceback (most recent call last):
    ...
    ValueError: --set nope: choose from tuned, tuned-large, tuned-wide, held-out, sealed, fresh, many-short, many-more, kept-back, held-back, set-aside, reserve, spare, standby
    """
    names = list(names)
    if unknown := sorted(set(names) - set(SETS)):
        raise ValueError(f"--set {', '.join(unknown)}: choose from {', '.join(SETS)}")
    return tuple(SETS[name] for name in names) or tuple(s for s in SETS.values() if s is not STANDBY)


def run_cli(console, config: DetectorConfig, *, partitions: int, jobs: int, out: Path,
            sets: tuple[MatrixSet, ...]) -> list[dict]:
    from streams.sources.loading import progress

    summaries = []
    with progress(console) as bar:
        for matrix in sets:
            task = bar.add_task(f"{matrix.name}: {matrix.describe()}", total=len(matrix.seeds))
            results = run_set(matrix, config, partitions, jobs, progress=lambda t=task: bar.advance(t))
            summaries.append(summary(matrix.name, matrix, results))
    out.mkdir(parents=True, exist_ok=True)
    (out / "matrix.json").write_text(json.dumps(summaries, indent=2))
    table = markdown(summaries)
    (out / "matrix.md").write_text(table)
    chart = plot(summaries, out / "matrix.png")
    console.print(table, markup=False, highlight=False, soft_wrap=True)
    console.print(f"matrix: {out / 'matrix.md'}, {out / 'matrix.json'}   chart: {chart}")
    return summaries
