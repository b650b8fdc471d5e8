"""The organisation-wide population: judgements do not depend on how many partitions the events are spread over."""

from __future__ import annotations

import pytest

from models import DetectorConfig
from streams.ops import evaluation

ALERTING = ("high", "critical")


def alert_keys(alerts: list[dict], bands=("medium", "high", "critical")) -> list[tuple[str, str, int]]:
    return sorted((a["user"], a["band"], int(a["ts"] // 60)) for a in alerts if a["band"] in bands)


@pytest.fixture(scope="module")
def organisation():
    return evaluation.simulated(seed=5, users=120, days=21, insiders_per_scenario=1)


def test_every_alert_is_the_same_with_1_4_and_16_partitions(organisation):
    # Without the per-partition multivariate model, every judgement reads the same organisation.
    config = DetectorConfig(multivariate=False)
    alerts = {p: alert_keys(evaluation.replay(organisation, config, partitions=p).alerts) for p in (1, 4, 16)}
    assert alerts[1], "the set must raise alerts worth comparing"
    assert alerts[1] == alerts[4] == alerts[16]


def test_with_the_multivariate_model_the_same_insiders_are_caught(organisation):
    caught = {}
    for partitions in (1, 4, 16):
        run = evaluation.replay(organisation, DetectorConfig(), partitions=partitions)
        caught[partitions] = {u for u in run.insiders if evaluation.detection(run, u) is not None}
    assert caught[1] and caught[1] == caught[4] == caught[16]
