"""`vigil eval`: replay labelled events through the models, in event-time order, and measure detection.

The replay drives the worker's own `Scorer` (streams/worker/scorer.py), minus Kafka:
the worker's partitioning (a population per partition), the directory and the
tickets known before the events, as `vigil ingest` and `vigil demo` feed them.
An integration test holds the worker and this replay to the same alerts.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Iterable, Iterator

from models import DetectorConfig, Profile
from models.risk import BANDS
from streams.contract import (
    InvalidRecord,
    parse_directory_entry,
    parse_event,
    parse_ticket,
)
from streams.envelopes import PER_ENVELOPE, Envelope, envelopes, in_event_time_order
from streams.errors import VigilError
from streams.sources.files import read_records
from streams.worker import saved
from streams.worker.scorer import MemoryStore, Scorer

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
    confounder_days: dict[str, list[str]] = field(default_factory=dict)  # confounder -> [first, last] ISO date
    intensity: dict[str, float] = field(default_factory=dict)  # insider -> intensity of their scenario, if known
    zone: tzinfo = timezone.utc  # of date-only dates in the directory and tickets
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file:line, reason) of records left out


@dataclass
class RunResult:
    """What one replay measured."""

    name: str
    events: int
    users: int
    model_seconds: float
    state_bytes_mean: float
    state_bytes_max: int
    alerts: list[dict]  # the worker's alert records (scorer.alert_record), in order
    first_malicious: dict[str, float]
    insiders: dict[str, str]
    confounders: dict[str, list[str]]
    benign_days: set[tuple[str, int]]  # (user, day since the epoch) of benign users' active days
    confounder_days: dict[str, tuple[int, int]]  # confounder -> (first, last) day since the epoch
    daily_peaks: dict[str, dict[str, float]]  # day -> user -> peak risk
    series: dict[str, list[tuple[float, float]]]  # tracked user -> (ts, risk)
    intensity: dict[str, float] = field(default_factory=dict)  # insider -> intensity of their scenario

    @property
    def us_per_event(self) -> float:
        return self.model_seconds / max(self.events, 1) * 1e6

    @property
    def benign_user_days(self) -> int:
        return len(self.benign_days)

    def confounders_on(self, user: str, day: int) -> list[str]:
        """The confounders that count for `user` on `day` ("none" if none): each only within its days."""
        active = [c for c in self.confounders.get(user, ())
                  if c not in self.confounder_days or self.confounder_days[c][0] <= day <= self.confounder_days[c][1]]
        return active or ["none"]


def _epoch_day(iso_date: str) -> int:
    return int(datetime.fromisoformat(iso_date).replace(tzinfo=timezone.utc).timestamp() // DAY)


def replay(data: Labelled, config: DetectorConfig, track: Iterable[str] = (), partitions: int = 1,
           per_envelope: int = PER_ENVELOPE) -> RunResult:
    """Score every event of `data` through the worker's `Scorer`, in the messages and order the worker takes.

    As the worker scores a backfill fed by `vigil ingest` or `vigil demo`: the directory and every ticket are
    known before the first event; the events travel in the envelopes `EventProducer` cuts (`per_envelope`
    events at most; 1 replays each event in event-time order on its own), each to its partition of
    `partitions`; and the consumer takes them in event time (`streams/envelopes.py`).
    """
    profiles = {e["user"].encode(): Profile.from_entry(parse_directory_entry(e, data.zone)) for e in data.directory}
    store = MemoryStore(config)
    scorer = Scorer(config, partitions, store, lambda key: profiles.get(key) or Profile())
    for raw in data.tickets:
        ticket = parse_ticket(raw, data.zone)
        scorer.book(ticket["assignee"].encode(), ticket)
    track = set(track)
    alerts, first_malicious, series = [], {}, defaultdict(list)
    daily_peaks: dict[str, dict[str, float]] = defaultdict(dict)
    active_days: set[tuple[str, int]] = set()
    model_seconds = 0.0
    clock = time.perf_counter
    for partition, (offset, message) in _as_the_worker_reads(data.events, partitions, per_envelope):
        started = clock()
        out = scorer.score(message.value, partition, offset, None)
        model_seconds += clock() - started
        for record in out.records:  # a dead-lettered event has none, as in the worker (an event dated in the future)
            user, day = record.user, int(record.ts // DAY)
            if record.event_id in data.malicious:
                first_malicious.setdefault(user, record.ts)
            elif user not in data.insiders:
                active_days.add((user, day))
            peaks = daily_peaks[str(day)]
            peaks[user] = max(peaks.get(user, 0.0), record.risk)
            if user in track:
                series[user].append((record.ts, record.risk))
        alerts.extend(alert for _, alert in out.alerts)
    sizes = [len(saved.encode(e.state())) for e in store.users.values()]  # as the worker's table holds it
    return RunResult(
        name=data.name, events=len(data.events), users=len(store.users), model_seconds=model_seconds,
        state_bytes_mean=statistics.fmean(sizes) if sizes else 0.0, state_bytes_max=max(sizes, default=0),
        alerts=alerts, first_malicious=first_malicious, insiders=data.insiders, confounders=data.confounders,
        benign_days=active_days, confounder_days={c: tuple(_epoch_day(d) for d in days)
                                                  for c, days in data.confounder_days.items()},
        daily_peaks=dict(daily_peaks), series=dict(series), intensity=data.intensity,
    )


def _as_the_worker_reads(events: list[dict], partitions: int,
                         per_envelope: int) -> Iterator[tuple[int, tuple[int, Envelope]]]:
    """(partition, (offset, envelope)) of every envelope `events` make, in the worker's event-time order."""
    queues: dict[int, list[tuple[int, tuple[int, Envelope]]]] = defaultdict(list)
    for one in envelopes(events, partitions, per_envelope):
        queue = queues[one.partition]
        queue.append((one.time_ms or 0, (len(queue), one)))  # none: every event dead-lettered, scored nothing
    return in_event_time_order(queues)


def simulated(seed: int, users: int, days: int, insiders_per_scenario: int = 1) -> Labelled:
    from streams.sources.simulator import SupportOrg

    org = SupportOrg(users=users, days=days, seed=seed, insiders_per_scenario=insiders_per_scenario)
    events = list(org.events())
    return Labelled(f"seed {seed}", events, org.truth.insiders, set(org.truth.malicious), org.directory(),
                    org.ticket_log, org.truth.confounders, org.truth.confounder_days, org.truth.intensity)


def from_files(events: Path, truth: Path, directory: Path | None = None, tickets: Path | None = None,
               zone: tzinfo = timezone.utc) -> Labelled:
    """A labelled set from files: events (NDJSON or CSV), a truth JSON (insiders, malicious_event_ids), optional
    directory and tickets. A record the contract refuses is left out and listed in `rejected` with its file, line and
    reason; the events' are also left out by the worker, which dead-letters them."""
    rejected: list[tuple[str, str]] = []

    def valid(path: Path | None, validate) -> list[dict]:
        kept = []
        for line in read_records(path) if path is not None else ():
            try:
                kept.append((validate(line.obj if line.obj is not None else line.raw), line.obj))
            except InvalidRecord as bad:
                rejected.append((line.where, bad.reason))
        return kept

    try:
        labels = json.loads(truth.read_text())
    except json.JSONDecodeError as e:
        raise VigilError(f"{truth.name}:{e.lineno}: not valid JSON ({e.msg}); the truth file is one JSON object "
                         'with "insiders" and "malicious_event_ids"') from None
    rows = [obj for _, obj in sorted(valid(events, parse_event), key=lambda pair: pair[0].ts)]
    return Labelled(events.name, rows, dict(labels.get("insiders", {})), set(labels.get("malicious_event_ids", [])),
                    [obj for _, obj in valid(directory, lambda raw: parse_directory_entry(raw, zone))],
                    [obj for _, obj in valid(tickets, lambda raw: parse_ticket(raw, zone))],
                    labels.get("confounders", {}), labels.get("confounder_days", {}), labels.get("intensity", {}),
                    zone=zone, rejected=rejected)


# -- metrics ---------------------------------------------------------------------------------
@dataclass
class ScenarioScore:
    scenario: str
    runs: int  # insiders who acted within the run
    detected: int
    delays_h: list[float]
    idle: int = 0  # insiders whose scenario had not begun when the run ended: nothing to detect, not counted

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
    days_by_confounder: dict[str, int]  # benign user-days of the users under each confounder
    worst_day: tuple[str, int, int]  # (run and day, false alerts, users active that day) of the worst day
    events: int
    us_per_event: float
    state_bytes_mean: float
    state_bytes_max: int

    @property
    def false_per_1000(self) -> float:
        return 1000 * self.false_alerts / max(self.benign_user_days, 1)

    def confounder_rate(self, confounder: str) -> float:
        """False alerts per 1,000 benign user-days of the users under `confounder`."""
        return 1000 * self.false_by_confounder.get(confounder, 0) / max(self.days_by_confounder.get(confounder, 0), 1)

    @property
    def worst_day_per_1000(self) -> float:
        _, alerts, users = self.worst_day
        return 1000 * alerts / max(users, 1)

    def to_dict(self) -> dict:
        return {
            "scenarios": [{"scenario": s.scenario, "runs": s.runs, "idle": s.idle, "detected": s.detected, "rate": s.rate,
                           "median_delay_h": s.median_h, "max_delay_h": s.max_h} for s in self.scenarios],
            "false_alerts": self.false_alerts, "benign_user_days": self.benign_user_days,
            "false_alerts_per_1000_benign_user_days": self.false_per_1000,
            "false_alerts_by_confounder": {c: {"alerts": self.false_by_confounder.get(c, 0), "user_days": d,
                                               "per_1000": self.confounder_rate(c)}
                                           for c, d in sorted(self.days_by_confounder.items())},
            "worst_day": {"day": self.worst_day[0], "false_alerts": self.worst_day[1], "users": self.worst_day[2],
                          "per_1000_users": self.worst_day_per_1000},
            "precision_at_daily_budget": self.precision_at_budget, "daily_budget": self.budget,
            "events": self.events, "model_us_per_event": self.us_per_event,
            "state_bytes_per_user_mean": self.state_bytes_mean, "state_bytes_per_user_max": self.state_bytes_max,
        }


def is_false(run: RunResult, alert: dict) -> bool:
    """A high+ alert on a benign user, or on an insider before their first malicious event."""
    start = run.first_malicious.get(alert["user"])
    return alert["band"] in ALERTING and (alert["user"] not in run.insiders or start is None or alert["ts"] < start)


def detection(run: RunResult, user: str) -> float | None:
    """Hours from the user's first malicious event to their first high+ alert, or None if never."""
    start = run.first_malicious.get(user)
    if start is None:
        return None
    hit = next((a["ts"] for a in run.alerts if a["user"] == user and a["band"] in ALERTING and a["ts"] >= start), None)
    return None if hit is None else (hit - start) / 3600


def score(results: list[RunResult], budget: int = 5) -> Report:
    by_scenario: dict[str, ScenarioScore] = {}
    false_alerts, benign_days, selected, hits = 0, 0, 0, 0
    false_by_confounder: dict[str, int] = defaultdict(int)
    days_by_confounder: dict[str, int] = defaultdict(int)
    worst = ("", 0, 1)
    for run in results:
        benign_days += run.benign_user_days
        for user, day in run.benign_days:
            for confounder in run.confounders_on(user, day):
                days_by_confounder[confounder] += 1
        for user, scenario in run.insiders.items():
            entry = by_scenario.setdefault(scenario, ScenarioScore(scenario, 0, 0, []))
            if user not in run.first_malicious:
                entry.idle += 1
                continue
            entry.runs += 1
            delay = detection(run, user)
            if delay is not None:
                entry.detected += 1
                entry.delays_h.append(delay)
        false_by_day: dict[int, int] = defaultdict(int)
        for alert in run.alerts:
            if is_false(run, alert):
                false_alerts += 1
                false_by_day[int(alert["ts"] // DAY)] += 1
                for confounder in run.confounders_on(alert["user"], int(alert["ts"] // DAY)):
                    false_by_confounder[confounder] += 1
        for day, n in false_by_day.items():  # per 1,000 people in the organisation
            if n / max(run.users, 1) > worst[1] / max(worst[2], 1):
                worst = (f"{run.name}, day {day - min(map(int, run.daily_peaks))}", n, run.users)
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
        false_by_confounder=dict(false_by_confounder), days_by_confounder=dict(days_by_confounder), worst_day=worst,
        events=events, us_per_event=model_seconds / max(events, 1) * 1e6,
        state_bytes_mean=statistics.fmean(r.state_bytes_mean for r in results),
        state_bytes_max=max(r.state_bytes_max for r in results),
    )


def plot_risk(run: RunResult, user: str, path: Path, config: DetectorConfig) -> Path:
    """A PNG of `user`'s risk over event time, with bands, alerts and the first malicious event."""
    import matplotlib

    matplotlib.use("Agg")
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
    for alert in run.alerts:
        if alert["user"] == user:
            ts, band = alert["ts"], alert["band"]
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
def _simulated_run(seed: int, users: int, days: int, insiders: int, config: DetectorConfig, partitions: int) -> RunResult:
    data = simulated(seed, users, days, insiders)
    return replay(data, config, track=sorted(data.insiders), partitions=partitions)


def run_cli(console, config: DetectorConfig, *, seeds: int, users: int, days: int, insiders: int, events, truth,
            directory, tickets, budget: int, out: Path, plot_user: str | None, jobs: int, partitions: int,
            alerts_file: Path | None = None, zone: tzinfo = timezone.utc, data_format: str | None = None,
            cert_files: tuple[str, ...] = ()) -> Report:
    from concurrent.futures import ProcessPoolExecutor

    from streams.sources.loading import progress

    started = time.monotonic()
    if events is not None:
        if data_format == "cert":
            from streams.ops.cert import from_cert

            data = from_cert(events, truth, kinds=cert_files, zone=zone)
        else:
            data = from_files(events, truth, directory, tickets, zone)
        for where, reason in data.rejected[:20]:
            console.print(f"[yellow]left out[/] {where}: {reason}", highlight=False, soft_wrap=True)
        if data.rejected:
            console.print(f"{len(data.rejected)} records left out, each named above or counted here", highlight=False)
        with console.status(f"replaying {len(data.events):,} events…"):
            results = [replay(data, config, track=[plot_user] if plot_user else sorted(data.insiders)[:1],
                              partitions=partitions)]
    else:
        results = []
        with progress(console) as bar, ProcessPoolExecutor(max_workers=jobs) as pool:
            task = bar.add_task(f"replaying {seeds} runs of {users} users × {days} days", total=seeds)
            futures = [pool.submit(_simulated_run, seed, users, days, insiders, config, partitions)
                       for seed in range(1, seeds + 1)]
            for future in futures:
                results.append(future.result())
                bar.advance(task)
    report = score(results, budget=budget)
    _print_report(console, report, elapsed=time.monotonic() - started)

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report.to_dict() | {"config": {
        "seeds": seeds, "users": users, "days": days, "insiders_per_scenario": insiders, "partitions": partitions}},
        indent=2))
    if alerts_file is not None:
        write_alerts(results, alerts_file)
        console.print(f"alerts: {alerts_file}")
    run = results[0]
    user = plot_user or next(iter(run.series), None)
    if user is not None and user in run.series:
        chart = plot_risk(run, user, out / f"risk-{user}.png", config)
        console.print(f"report: {out / 'report.json'}   chart: {chart}")
    else:
        console.print(f"report: {out / 'report.json'}")
    return report


def write_alerts(results: list[RunResult], path: Path) -> None:
    """Every alert as NDJSON (run, user, ts, band, risk, reasons, techniques), for anyone's own scoring."""
    with open(path, "w") as f:
        for run in results:
            for alert in run.alerts:
                f.write(json.dumps({"run": run.name, **{k: alert[k] for k in ALERT_FIELDS}}) + "\n")


ALERT_FIELDS = ("user", "ts", "band", "risk", "reasons", "techniques")


def _print_report(console, report: Report, elapsed: float) -> None:
    from rich.table import Table

    table = Table("scenario", "runs", "detected", "median delay", "max delay", title="Insider scenarios (alert at high or above)")
    for s in report.scenarios:
        table.add_row(s.scenario, str(s.runs), f"{s.detected} ({s.rate:.0%})", _hours(s.median_h), _hours(s.max_h))
    console.print(table)
    summary = Table("measure", "value", title="Benign behaviour and cost")
    summary.add_row("false alerts (high+) per 1,000 benign user-days",
                    f"{report.false_per_1000:.2f}  ({report.false_alerts} in {report.benign_user_days:,} user-days)")
    for confounder, days in sorted(report.days_by_confounder.items()):
        summary.add_row(f"  under {confounder}", f"{report.confounder_rate(confounder):.2f}  "
                                                 f"({report.false_by_confounder.get(confounder, 0)} in {days:,})")
    where, n, users = report.worst_day
    summary.add_row("worst day, false alerts per 1,000 users", f"{report.worst_day_per_1000:.1f}  "
                    + (f"({n} among {users} users, {where})" if n else ""))
    summary.add_row(f"precision at {report.budget} alerts a day", f"{report.precision_at_budget:.0%}")
    summary.add_row("events replayed", f"{report.events:,} in {elapsed:.0f} s")
    summary.add_row("scoring time per event", f"{report.us_per_event:.1f} µs")
    summary.add_row("state per user, stored (mean / max)", f"{report.state_bytes_mean:,.0f} / {report.state_bytes_max:,} bytes")
    console.print(summary)


def _hours(h: float | None) -> str:
    return "—" if h is None else f"{h * 60:.0f} min" if h < 1 else f"{h:.1f} h"
