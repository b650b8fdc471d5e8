"""How the evaluation counts: an insider who never acted within the run is not a miss, and is reported apart."""

from __future__ import annotations

from streams.ops.evaluation import RunResult, score
from streams.ops.matrix import curve, markdown

DAY = 86400.0


def run_with(alerts: list[dict]) -> RunResult:
    return RunResult(
        name="t", events=10, users=3, model_seconds=0.0, state_bytes_mean=0.0, state_bytes_max=0, alerts=alerts,
        first_malicious={"ann": 10 * DAY}, insiders={"ann": "slow_harvest", "bob": "slow_harvest"},
        confounders={}, benign_days={("cy", 10)}, confounder_days={}, daily_peaks={"10": {"ann": 60.0}},
        series={}, intensity={"ann": 0.1, "bob": 0.1},
    )


def test_an_insider_who_never_acted_is_neither_detected_nor_missed():
    # bob's scenario had not begun when the run ended: there was nothing to detect
    [row] = score([run_with([{"user": "ann", "band": "high", "ts": 10 * DAY + 3600}])]).scenarios
    assert (row.runs, row.detected, row.idle, row.median_h) == (1, 1, 1, 1.0)
    [row] = score([run_with([])]).scenarios
    assert (row.runs, row.detected, row.idle) == (1, 0, 1)
    assert sum(cell["insiders"] for cell in curve([run_with([])])["slow_harvest"]) == 1


def test_an_alert_before_the_first_malicious_event_is_a_false_alert():
    report = score([run_with([{"user": "ann", "band": "high", "ts": 9 * DAY}])])
    assert report.false_alerts == 1 and report.scenarios[0].detected == 0


def test_the_report_sets_false_alerts_are_pooled_per_confounder_with_their_interval():
    def summary(name: str, alerts: int, user_days: int) -> dict:
        report = score([run_with([])]).to_dict()
        report["false_alerts_by_confounder"] = {"quarter_end": {"alerts": alerts, "user_days": user_days,
                                                                "per_1000": 1000 * alerts / user_days}}
        return {"set": name, "runs": "…", "report": report, "curve": {}}

    table = markdown([summary("held-out", 1, 671), summary("fresh", 0, 529), summary("tuned", 5, 400)])
    pooled = table.split("### the report sets together (held-out, fresh)")[1]
    assert "| quarter_end | 1,200 | 1 | 0.83 | 0.02–4.64 |" in pooled  # the tuned set is not among them
    assert "| quarter_end | 671 | 1 | 1.49 | 0.04–8.30 |" in table
    assert "report sets together" not in markdown([summary("held-out", 1, 671)])
