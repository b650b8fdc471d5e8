"""The hours model's masses add up: split over parts, they give the organisation's reference exactly."""

from __future__ import annotations

import random

import pytest

from models.multivariate import (
    FEATURES,
    HalfSpaces,
    HourAnomaly,
    HourMasses,
    HourReference,
)
from models.population import Organisation

TREES = HalfSpaces(seed=42)


def hours(seed: int, count: int) -> list[tuple[dict[str, float], int, int]]:
    """(features, the hour's day, the day it closed): a few late hours, closed the day after."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        day = i // 40
        closed = day + 1 if rng.random() < 0.1 else day
        out.append(({f: rng.random() ** 3 for f in FEATURES}, day, closed))
    return sorted(out, key=lambda h: h[2])


def scores(parts: int) -> list[float]:
    masses = [HourMasses(TREES.size) for _ in range(parts)]
    reference = HourReference(lambda: masses, TREES.size, masses[0].decay)
    models = [HourAnomaly(TREES, m, reference, warmup=30) for m in masses]
    return [round(models[i % parts].score_and_learn(x, day, closed), 9) for i, (x, day, closed) in enumerate(hours(1, 400))]


def test_the_score_does_not_depend_on_how_hours_are_spread_over_parts():
    one = scores(1)
    assert sum(s > 0 for s in one) > 300, "the model must be warm for most of the hours compared"
    assert one == scores(3) == scores(7)


def test_a_remembered_path_is_the_walk_of_every_point_in_its_cell():
    trees = HalfSpaces(seed=7)
    rng = random.Random(3)
    # Points on and beside the cuts, where a wrong cell would send a walk the other way.
    cuts = [c for per_feature in trees.cuts for c in per_feature]
    points = [{f: rng.choice((rng.random(), rng.choice(cuts), 0.0, 1.0)) for f in FEATURES} for _ in range(3000)]
    for x in points:
        assert trees.path(x) == trees._walk([x[f] for f in FEATURES])
    assert 0 < len(trees._paths) < len(points), "points that share a cell share a remembered path"


def test_remembered_scores_are_the_scores_of_the_reference_as_it_is_now():
    masses = HourMasses(TREES.size)
    reference = HourReference(lambda: [masses], TREES.size, masses.decay)
    model = HourAnomaly(TREES, masses, reference, warmup=30)
    rng = random.Random(4)
    for _, day, closed in hours(4, 600):  # a tenth are late hours, which change the reference mid-day
        x = {f: rng.choice((0.0, 0.05, 0.5, 0.95)) for f in FEATURES}  # few cells: most scores are remembered ones
        expected = TREES.score(TREES.path(x), reference.of(closed)) if reference.of(closed)[0] >= 30 else 0.0
        assert model.score_and_learn(x, day, closed) == expected


def test_todays_hours_counted_by_path_are_the_node_counts_when_read():
    masses, rng = HourMasses(TREES.size), random.Random(5)
    expected = [0.0] * TREES.size
    for _ in range(500):
        path = TREES.path({f: rng.choice((0.0, 0.3, 0.9)) for f in FEATURES})
        masses.learn(path, day=3)
        for node in path:
            expected[node] += 1
    assert masses.state()[1] == expected  # read mid-day, as the population is published
    masses.learn(path, day=4)  # the next day: day 3 goes to the past, whole
    reference = [0.0] * TREES.size
    masses.add_reference(reference, day=5)
    assert reference == pytest.approx([0.7 * e + (node in path) for node, e in enumerate(expected)])


def test_a_part_that_has_not_moved_to_today_still_counts_its_yesterday():
    a, b = HourMasses(TREES.size), HourMasses(TREES.size)
    path = TREES.path(dict.fromkeys(FEATURES, 0.3))
    a.learn(path, day=5)
    b.learn(path, day=6)  # b has moved on; a has not seen day 6 yet
    reference = [0.0] * TREES.size
    for part in (a, b):
        part.add_reference(reference, day=7)
    assert reference[0] == pytest.approx(1 + 0.7)  # day 6 weighs 1 on day 7, day 5 weighs 0.7


def test_the_masses_survive_a_restart_through_the_population_state():
    org = Organisation()
    population = org.partition(0)
    for x, day, closed in hours(2, 200):
        population.hours.score_and_learn(x, day, closed)
    x = {f: 0.9 for f in FEATURES}
    before = population.hours.score_and_learn(x, 5, 5)
    restored = Organisation().partition(0, population.state())
    assert restored.hours.score_and_learn(x, 5, 5) == pytest.approx(before, abs=1e-3)
