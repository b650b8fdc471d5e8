"""The organisation-wide population: judgements do not depend on how many partitions the events are spread over."""

from __future__ import annotations

import dataclasses

import pytest

from models import DetectorConfig
from streams.ops import evaluation

ALERTING = ("high", "critical")


def alert_keys(alerts: list[dict], bands=("medium", "high", "critical")) -> list[tuple[str, str, int, float]]:
    return sorted((a["user"], a["band"], int(a["ts"] // 60), a["risk"]) for a in alerts if a["band"] in bands)


@pytest.fixture(scope="module")
def organisation():
    return evaluation.simulated(seed=5, users=120, days=21, insiders_per_scenario=1)


def test_every_alert_is_the_same_with_1_4_and_16_partitions(organisation):
    # Every judgement reads the same organisation: peer baselines, prevalence, the group's day and the
    # multivariate model's reference masses are sums over partitions. Each event its own message, so that
    # every partition count replays the same event-time order (envelopes span minutes: test_envelopes.py).
    runs = {p: evaluation.replay(organisation, DetectorConfig(), partitions=p, per_envelope=1) for p in (1, 4, 16)}
    alerts = {p: alert_keys(run.alerts) for p, run in runs.items()}
    assert alerts[1], "the set must raise alerts worth comparing"
    without = evaluation.replay(organisation, dataclasses.replace(DetectorConfig(), multivariate=False),
                                partitions=1, per_envelope=1)
    assert alert_keys(without.alerts) != alerts[1], "the multivariate model must weigh in the alerts compared"
    assert alerts[1] == alerts[4] == alerts[16]
