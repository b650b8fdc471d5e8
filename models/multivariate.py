"""Unusual combinations within one user-hour: Half-Space Trees whose masses add up over partitions.

Half-Space Trees (Tan, Ting and Liu, 2011; river's ``anomaly.HalfSpaceTrees``)
score a point by how much of a reference sample falls in the boxes it lands
in. The trees are random but fixed by a seed, and a mass is a count: so every
partition builds the same trees, counts its own users' hours, and the
organisation's reference is the sum of the partitions' counts. The reference
is the organisation's past days, yesterday weighing most, rather than a
partition's last few hundred hours: the score is the same whatever the
partition count.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence

from river.tree.padded import PaddedBranch, make_padded_tree

#: Features of a closed user-hour, each scaled to [0, 1] against the user's own baselines.
FEATURES = ("volume", "breadth", "unjustified", "rare_hour", "exfil", "new_context")
#: Paths remembered by `HalfSpaces.path` before it starts afresh.
MAX_PATHS = 4096


class HalfSpaces:
    """The trees' shape: river's padded random half-space trees over `FEATURES`, laid out as heaps.

    Tree `t`'s node `i` is at ``t * nodes + i``, its children at ``2i + 1`` and ``2i + 2``: a walk is arithmetic.

    Examples
    --------
    >>> trees = HalfSpaces(seed=1, n_trees=2, height=3)
    >>> trees.path(dict.fromkeys(FEATURES, 0.5))[:4]  # root to leaf in the first tree, then the second's
    (0, 1, 4, 9)
    >>> trees.size
    30

    """

    def __init__(self, seed: int = 42, n_trees: int = 10, height: int = 6) -> None:
        self.n_trees = n_trees
        self.height = height
        self.nodes = (2 << height) - 1
        self.size = n_trees * self.nodes
        self.feature = [0] * self.size  # index into FEATURES
        self.threshold = [0.0] * self.size
        rng = random.Random(seed)
        for tree in range(n_trees):
            root = make_padded_tree(limits={f: (0.0, 1.0) for f in sorted(FEATURES)}, height=height, padding=0.15,
                                    rng=rng, l_mass=0, r_mass=0)
            self._lay_out(root, tree * self.nodes, 0)
        # Every threshold on each feature, sorted: points between the same cuts of every feature take the same path.
        self.cuts = [sorted({self.threshold[i] for i in range(self.size) if self.feature[i] == f})
                     for f in range(len(FEATURES))]
        self._paths: dict[tuple[int, ...], tuple[int, ...]] = {}

    def _lay_out(self, node, offset: int, index: int) -> None:
        if isinstance(node, PaddedBranch):
            self.feature[offset + index] = FEATURES.index(node.feature)
            self.threshold[offset + index] = node.threshold
            self._lay_out(node.children[0], offset, 2 * index + 1)
            self._lay_out(node.children[1], offset, 2 * index + 2)

    def path(self, x: dict[str, float]) -> tuple[int, ...]:
        """The nodes `x` falls in, root to leaf, tree after tree: remembered per cell (its place between every
        feature's cuts, which decides its path), since most user-hours fall in a few."""
        values = [x[f] for f in FEATURES]
        cell = tuple(map(bisect_right, self.cuts, values))
        path = self._paths.get(cell)
        if path is None:
            if len(self._paths) >= MAX_PATHS:
                self._paths.clear()
            path = self._paths[cell] = self._walk(values)
        return path

    def _walk(self, values: list[float]) -> tuple[int, ...]:
        feature, threshold, height, path = self.feature, self.threshold, self.height, []
        step = path.append
        for root in range(0, self.size, self.nodes):
            node = root
            for _ in range(height):
                step(node)
                # Heap order within the tree: node i's children are 2i + 1 and 2i + 2, counted from its root.
                node += node - root + (2 if values[feature[node]] >= threshold[node] else 1)
            step(node)
        return tuple(path)

    def score(self, path: Sequence[int], masses: list[float]) -> float:
        """River's score: 1 minus the reference mass along the path, deeper boxes counting double, over its most.

        A walk stops below a tenth of the reference, as in the paper. Masses summed over parts in another order
        may differ in their last bits, which must not decide where a walk stops: hence the margin."""
        total = masses[0]  # every point passes every root
        if total <= 0:
            return 0.0
        size_limit, length, score = 0.1 * total * (1 - 1e-9), self.height + 1, 0.0
        for start in range(0, len(path), length):
            weight = 1
            for node in path[start:start + length]:
                mass = masses[node]
                score += mass * weight
                if mass < size_limit:
                    break
                weight <<= 1
        return 1 - score / (self.n_trees * total * self.nodes)


class HourMasses:
    """One partition's additive counts of user-hours per tree node: the current day's, and the past days' faded
    by `decay` a day (yesterday weighing 1).

    Examples
    --------
    >>> masses = HourMasses(size=3, decay=0.5)
    >>> masses.learn((0, 2), day=10)
    >>> masses.learn((0, 1), day=9)  # a late hour of yesterday goes straight to the past
    >>> reference = [0.0] * 3
    >>> masses.add_reference(reference, day=12)  # day 10 weighs a half two days later, day 9 a quarter
    >>> reference
    [0.75, 0.25, 0.5]

    """

    def __init__(self, size: int, decay: float = 0.7) -> None:
        self.size = size
        self.decay = decay
        self.day = -1
        self.today = [0.0] * size
        self.past = [0.0] * size
        # Today's hours by path, not yet added to `today`: most hours of a day take one of a few paths, and `today`
        # is read only when the day closes or another part's reference is summed.
        self._by_path: dict[tuple[int, ...], int] = {}

    def learn(self, path: tuple[int, ...], day: int) -> None:
        """Count one hour of `day` (an hour of an earlier day goes straight to the past, faded as that day is)."""
        if day > self.day:
            self._roll(day)
        if day == self.day:
            self._by_path[path] = self._by_path.get(path, 0) + 1
            return
        weight = self.decay ** (self.day - 1 - day)
        for node in path:
            self.past[node] += weight

    def _settle(self) -> None:
        """Add today's hours counted by path to `today`."""
        today = self.today
        for path, hours in self._by_path.items():
            for node in path:
                today[node] += hours
        self._by_path.clear()

    def _roll(self, day: int) -> None:
        self._settle()
        if self.day >= 0:
            fade = self.decay ** (day - 1 - self.day)
            self.past = [(p * self.decay + t) * fade for p, t in zip(self.past, self.today)]
        self.day, self.today = day, [0.0] * self.size

    def add_reference(self, reference: list[float], day: int) -> None:
        """Add what this part knows of the days before `day` to `reference`."""
        if self.day < 0:
            return
        self._settle()
        if self.day >= day:  # a part ahead (another worker's, published later): its past is the nearest there is
            for i, p in enumerate(self.past):
                reference[i] += p
            return
        fade = self.decay ** (day - 1 - self.day)
        for i, (p, t) in enumerate(zip(self.past, self.today)):
            reference[i] += (p * self.decay + t) * fade

    def state(self) -> list:
        self._settle()
        return [self.day, [round(t, 3) for t in self.today], [round(p, 3) for p in self.past]]

    def restore(self, state: list | None) -> HourMasses:
        if state and len(state) == 3 and isinstance(state[1], list) and len(state[1]) == self.size:
            self.day, self.today, self.past = state[0], list(state[1]), list(state[2])
            self._by_path.clear()
        return self  # anything else (river's per-partition window of an older version) starts afresh


class HourReference:
    """The organisation's reference masses for one day: every part's past, summed once and then kept up to date as
    hours are learned, until the day moves on or another worker's part arrives (`changed`).

    The reference is a sum over users' hours, so it is the same however the users are spread over partitions.
    """

    def __init__(self, parts: Callable[[], Iterable[HourMasses]], size: int, decay: float) -> None:
        self.parts = parts
        self.size = size
        self.decay = decay
        self.day = -1
        self.masses: list[float] | None = None
        self.version = 0  # counts every change to `masses`: a score read off them holds until it moves

    def of(self, day: int) -> list[float]:
        if self.masses is None or day != self.day:
            self.day, self.masses = day, [0.0] * self.size
            self.version += 1
            for part in self.parts():
                part.add_reference(self.masses, day)
        return self.masses

    def learned(self, path: Sequence[int], day: int) -> None:
        """An hour of `day` was counted by a part: the reference of a later day holds it too."""
        if self.masses is not None and day < self.day:
            self.version += 1
            weight = self.decay ** (self.day - 1 - day)
            for node in path:
                self.masses[node] += weight

    def changed(self) -> None:
        self.masses = None


class HourAnomaly:
    """Scores a partition's closed user-hours against the organisation's and counts them in the partition's part.

    Features are already relative to each user, so "normal" is shared by everyone.

    Parameters
    ----------
    trees
        The shape every partition shares.
    masses
        This partition's counts.
    reference
        The organisation's.
    threshold
        Score from which an hour is reported.
    warmup
        Reference hours needed before anything is scored.

    Examples
    --------
    >>> trees, masses = HalfSpaces(seed=1), HourMasses(HalfSpaces(seed=1).size)
    >>> model = HourAnomaly(trees, masses, HourReference(lambda: [masses], trees.size, masses.decay), warmup=50)
    >>> rng = random.Random(1)
    >>> for hour in range(300):
    ...     _ = model.score_and_learn({f: rng.random() * 0.2 for f in FEATURES}, hour // 24, hour // 24)
    >>> model.score_and_learn(dict.fromkeys(FEATURES, 0.1), 13, 13) < 0.5
    True
    >>> model.score_and_learn({"volume": 0.9, "breadth": 0.9, "unjustified": 0.9, "rare_hour": 1.0,
    ...                        "exfil": 0.0, "new_context": 0.0}, 13, 13) > 0.8
    True

    """

    def __init__(self, trees: HalfSpaces, masses: HourMasses, reference: HourReference, threshold: float = 0.9,
                 warmup: float = 250.0) -> None:
        self.trees = trees
        self.masses = masses
        self.reference = reference
        self.threshold = threshold
        self.warmup = warmup
        self._scores: dict[tuple[int, ...], float] = {}  # path -> score against the reference at `_version`
        self._version = -1

    def score_and_learn(self, x: dict[str, float], hour_day: int, day: int) -> float:
        """Score the hour `x` of `hour_day` against the days before `day` (the day it closed), then count it."""
        path = self.trees.path(x)
        score = self._score(path, self.reference.of(day))
        self.masses.learn(path, hour_day)
        self.reference.learned(path, hour_day)
        return score

    def _score(self, path: tuple[int, ...], reference: list[float]) -> float:
        # The reference holds the days before this one: all day, every hour on a path scores the same (and many
        # cells share a path).
        if reference[0] < self.warmup:
            return 0.0
        if self._version != self.reference.version:
            self._scores.clear()
            self._version = self.reference.version
        score = self._scores.get(path)
        if score is None:
            score = self._scores[path] = self.trees.score(path, reference)
        return score
