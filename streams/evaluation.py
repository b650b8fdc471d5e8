"""`vigil eval`: replay labelled events through the models, in event-time order, and measure detection.

The replay calls exactly what the worker calls (`UserDetector.observe` with a
`Context`), minus Kafka: one `Population` for the whole organisation, ticket
assignments applied as they open, directory profiles from the directory.
"""

from __future__ import annotations

import heapq
import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from models import Context, DetectorConfig, Population, Profile, TicketBook, UserDetector
from models.risk import BANDS
from streams.contract import InvalidRecord, parse_directory_entry, parse_event, parse_ticket

DAY = 86400
ALERTING = ("high", "critical")  # an alert at these bands is what the SOC acts on


@dataclass
class Labelled:
    """A labelled data set: events plus what really happened."""

    name: str
    events: list[dict]
    insiders: dict[str, str]  # user -> scenario
    malicious: set[str]
    directory: list[dict] = field(default_factory=list)
    tickets: list[dict] = field(default_factory=list)
    confounders: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class RunResult:
    """What one replay measured."""

    name: str
    events: int
    users: int
    model_seconds: float
    state_bytes_mean: float
    state_bytes_max: int
    alerts: list[tuple[float, str, str, list[str]]]  # (ts, user, band, reasons)
    first_malicious: dict[str, float]
    insiders: dict[str, str]
    confounders: dict[str, list[str]]
    benign_user_days: int
    daily_peaks: dict[str, dict[str, float]]  # day -> user -> peak risk
    series: dict[str, list[tuple[float, float]]]  # tracked user -> (ts, risk)

    @property
    def us_per_event(self) -> float:
        return self.model_seconds / max(self.events, 1) * 1e6


def replay(data: Labelled, config: DetectorConfig, track: Iterable[str] = (), seed: int = 42) -> RunResult:
    """Score every event of `data` in event-time order; keep what the metrics need."""
    population = Population(seed=seed)
    profiles = {e["user"]: Profile.from_entry(parse_directory_entry(e)) for e in data.directory}
    books: dict[str, TicketBook] = defaultdict(TicketBook)
    tickets = [parse_ticket(t) for t in data.tickets]
    # Tickets are known from an hour before they open (the assignment precedes the work).
    pending = [(t["opened"] - 3600, i) for i, t in enumerate(tickets)]
    heapq.heapify(pending)
    detectors: dict[str, UserDetector] = {}
    contexts: dict[str, Context] = {}
    track = set(track)
    alerts, first_malicious, series = [], {}, defaultdict(list)
    daily_peaks: dict[str, dict[str, float]] = defaultdict(dict)
    active_days: set[tuple[str, int]] = set()
    model_seconds = 0.0
    clock = time.perf_counter
    for raw in data.events:
        try:
            event = parse_event(raw)
        except InvalidRecord:
            continue
        while pending and pending[0][0] <= event.ts:
            t = tickets[heapq.heappop(pending)[1]]
            books[t["assignee"]].assign(t["customer_id"], t["opened"], t["closed"])
        user = event.user
        detector = detectors.get(user)
        if detector is None:
            detector = detectors[user] = UserDetector(config)
            contexts[user] = Context(population, profiles.get(user, Profile()), books[user])
        started = clock()
        assessment = detector.observe(event, contexts[user])
        model_seconds += clock() - started

        day = int(event.ts // DAY)
        if event.event_id in data.malicious:
            first_malicious.setdefault(user, event.ts)
        elif user not in data.insiders:
            active_days.add((user, day))
        peaks = daily_peaks[str(day)]
        peaks[user] = max(peaks.get(user, 0.0), assessment.risk)
        if assessment.alert:
            alerts.append((event.ts, user, assessment.alert.band, assessment.alert.reasons))
        if user in track:
            series[user].append((event.ts, assessment.risk))
    sizes = [len(json.dumps(d.state(), separators=(",", ":"))) for d in detectors.values()]
    return RunResult(
        name=data.name, events=len(data.events), users=len(detectors), model_seconds=model_seconds,
        state_bytes_mean=statistics.fmean(sizes) if sizes else 0.0, state_bytes_max=max(sizes, default=0),
        alerts=alerts, first_malicious=first_malicious, insiders=data.insiders, confounders=data.confounders,
        benign_user_days=len(active_days), daily_peaks=dict(daily_peaks), series=dict(series),
    )


def simulated(seed: int, users: int, days: int, insiders_per_scenario: int = 1) -> Labelled:
    from streams.sources.simulator import SupportOrg

    org = SupportOrg(users=users, days=days, seed=seed, insiders_per_scenario=insiders_per_scenario)
    events = list(org.events())
    return Labelled(f"seed {seed}", events, org.truth.insiders, set(org.truth.malicious), org.directory(),
                    org.ticket_log, org.truth.confounders)


def from_files(events: Path, truth: Path, directory: Path | None = None, tickets: Path | None = None) -> Labelled:
    """A labelled NDJSON set: events, a truth JSON (insiders, malicious_event_ids), optional directory and tickets."""
    def ndjson(path: Path | None) -> list[dict]:
        if path is None:
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    labels = json.loads(truth.read_text())
    rows = sorted(ndjson(events), key=lambda e: parse_event(e).ts if _valid(e) else 0)
    return Labelled(events.name, rows, dict(labels.get("insiders", {})), set(labels.get("malicious_event_ids", [])),
                    ndjson(directory), ndjson(tickets), labels.get("confounders", {}))


def _valid(e: dict) -> bool:
    try:
        parse_event(e)
        return True
    except InvalidRecord:
        return False


# -- metrics ---------------------------------------------------------------------------------
@dataclass
class ScenarioScore:
    scenario: str
    runs: int
    detected: int
    delays_h: list[float]

    @property
    def rate(self) -> float:
        return self.detected / self.runs if self.runs else 0.0

    @property
    def median_h(self) -> float | None:
        return statistics.median(self.delays_h) if self.delays_h else None

    @property
    def max_h(self) -> float | None:
        return max(self.delays_h) if self.delays_h else None


@dataclass
class Report:
    scenarios: list[ScenarioScore]
    false_alerts: int
    benign_user_days: int
    precision_at_budget: float
    budget: int
    false_by_confounder: dict[str, int]
    events: int
    us_per_event: float
    state_bytes_mean: float
    state_bytes_max: int

    @property
    def false_per_1000(self) -> float:
        return 1000 * self.false_alerts / max(self.benign_user_days, 1)

    def to_dict(self) -> dict:
        return {
            "scenarios": [{"scenario": s.scenario, "runs": s.runs, "detected": s.detected, "rate": s.rate,
                           "median_delay_h": s.median_h, "max_delay_h": s.max_h} for s in self.scenarios],
            "false_alerts": self.false_alerts, "benign_user_days": self.benign_user_days,
            "false_alerts_per_1000_benign_user_days": self.false_per_1000,
            "false_alerts_by_confounder": self.false_by_confounder,
            "precision_at_daily_budget": self.precision_at_budget, "daily_budget": self.budget,
            "events": self.events, "model_us_per_event": self.us_per_event,
            "state_bytes_per_user_mean": self.state_bytes_mean, "state_bytes_per_user_max": self.state_bytes_max,
        }


def score(results: list[RunResult], budget: int = 5) -> Report:
    by_scenario: dict[str, ScenarioScore] = {}
    false_alerts, benign_days, selected, hits = 0, 0, 0, 0
    false_by_confounder: dict[str, int] = defaultdict(int)
    for run in results:
        benign_days += run.benign_user_days
        for user, scenario in run.insiders.items():
            entry = by_scenario.setdefault(scenario, ScenarioScore(scenario, 0, 0, []))
            entry.runs += 1
            start = run.first_malicious.get(user)
            hit = next((ts for ts, u, band, _ in run.alerts
                        if u == user and band in ALERTING and start is not None and ts >= start), None)
            if hit is not None:
                entry.detected += 1
                entry.delays_h.append((hit - start) / 3600)
        for ts, user, band, _ in run.alerts:
            if band not in ALERTING:
                continue
            start = run.first_malicious.get(user)
            if user not in run.insiders or start is None or ts < start:
                false_alerts += 1
                for confounder in run.confounders.get(user, ["none"]):
                    false_by_confounder[confounder] += 1
        threshold = 25.0
        for day, peaks in run.daily_peaks.items():
            top = [u for u, r in sorted(peaks.items(), key=lambda kv: kv[1], reverse=True)[:budget] if r >= threshold]
            selected += len(top)
            for user in top:
                start = run.first_malicious.get(user)
                hits += user in run.insiders and start is not None and int(start // DAY) <= int(day)
    events = sum(r.events for r in results)
    model_seconds = sum(r.model_seconds for r in results)
    return Report(
        scenarios=sorted(by_scenario.values(), key=lambda s: s.scenario),
        false_alerts=false_alerts, benign_user_days=benign_days,
        precision_at_budget=hits / selected if selected else 0.0, budget=budget,
        false_by_confounder=dict(false_by_confounder), events=events,
        us_per_event=model_seconds / max(events, 1) * 1e6,
        state_bytes_mean=statistics.fmean(r.state_bytes_mean for r in results),
        state_bytes_max=max(r.state_bytes_max for r in results),
    )


def plot_risk(run: RunResult, user: str, path: Path, config: DetectorConfig) -> Path:
    """A PNG of `user`'s risk over event time, with bands, alerts and the first malicious event."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import datetime, timezone

    import matplotlib.pyplot as plt

    points = run.series.get(user, [])
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=110)
    when = lambda ts: datetime.fromtimestamp(ts, tz=timezone.utc)  # noqa: E731
    ax.plot([when(t) for t, _ in points], [r for _, r in points], lw=1.2, color="#1f4e79", label="risk",
            drawstyle="steps-post")  # risk changes only at events; a line between them would invent a ramp
    colors = {"medium": "#f2c14e", "high": "#f78154", "critical": "#c0392b"}
    for threshold, band in zip(config.band_thresholds, BANDS[1:]):
        ax.axhline(threshold, ls="--", lw=0.8, color=colors[band])
        ax.text(when(points[0][0]) if points else 0, threshold + 1, band, color=colors[band], fontsize=8)
    for ts, u, band, _ in run.alerts:
        if u == user:
            ax.scatter([when(ts)], [next((r for t, r in points if t >= ts), 0)], color=colors.get(band, "k"),
                       zorder=3, s=40, label=f"alert: {band}")
    if user in run.first_malicious:
        ax.axvline(when(run.first_malicious[user]), color="k", lw=1, ls=":", label="first malicious event")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), loc="upper left", fontsize=8)
    scenario = run.insiders.get(user, "benign")
    ax.set_title(f"{user} ({scenario}) — risk over event time, {run.name}")
    ax.set_ylabel("risk")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# -- the command ---------------------------------------------------------------------------------
def _simulated_run(seed: int, users: int, days: int, insiders: int, config: DetectorConfig) -> RunResult:
    data = simulated(seed, users, days, insiders)
    return replay(data, config, track=sorted(data.insiders), seed=seed)


def run_cli(console, config: DetectorConfig, *, seeds: int, users: int, days: int, insiders: int, events, truth,
            directory, tickets, budget: int, out: Path, plot_user: str | None, jobs: int) -> Report:
    from concurrent.futures import ProcessPoolExecutor

    from rich.table import Table

    from streams.sources.loading import progress

    started = time.monotonic()
    if events is not None:
        data = from_files(events, truth, directory, tickets)
        with console.status(f"replaying {len(data.events):,} events…"):
            results = [replay(data, config, track=[plot_user] if plot_user else sorted(data.insiders)[:1])]
    else:
        results = []
        with progress(console) as bar, ProcessPoolExecutor(max_workers=jobs) as pool:
            task = bar.add_task(f"replaying {seeds} runs of {users} users × {days} days", total=seeds)
            futures = [pool.submit(_simulated_run, seed, users, days, insiders, config) for seed in range(1, seeds + 1)]
            for future in futures:
                results.append(future.result())
                bar.advance(task)
    report = score(results, budget=budget)
    elapsed = time.monotonic() - started

    table = Table("scenario", "runs", "detected", "median delay", "max delay", title="Insider scenarios (alert at high or above)")
    for s in report.scenarios:
        hours = lambda h: "—" if h is None else f"{h * 60:.0f} min" if h < 1 else f"{h:.1f} h"  # noqa: E731
        table.add_row(s.scenario, str(s.runs), f"{s.detected} ({s.rate:.0%})", hours(s.median_h), hours(s.max_h))
    console.print(table)
    summary = Table("measure", "value", title="Benign behaviour and cost")
    summary.add_row("false alerts (high+) per 1,000 benign user-days",
                    f"{report.false_per_1000:.2f}  ({report.false_alerts} in {report.benign_user_days:,} user-days)")
    for confounder, n in sorted(report.false_by_confounder.items()):
        summary.add_row(f"  of which on {confounder}", str(n))
    summary.add_row(f"precision at {budget} alerts a day", f"{report.precision_at_budget:.0%}")
    summary.add_row("events replayed", f"{report.events:,} in {elapsed:.0f} s")
    summary.add_row("model time per event", f"{report.us_per_event:.1f} µs")
    summary.add_row("state per user (mean / max)", f"{report.state_bytes_mean:,.0f} / {report.state_bytes_max:,} bytes")
    console.print(summary)

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report.to_dict() | {"config": {
        "seeds": seeds, "users": users, "days": days, "insiders_per_scenario": insiders}}, indent=2))
    run = results[0]
    user = plot_user or next(iter(run.series), None)
    if user is not None and user in run.series:
        chart = plot_risk(run, user, out / f"risk-{user}.png", config)
        console.print(f"report: {out / 'report.json'}   chart: {chart}")
    else:
        console.print(f"report: {out / 'report.json'}")
    return report

