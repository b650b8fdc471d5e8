"""What the models know about everyone at once: peer baselines and how common each value is."""

from __future__ import annotations

import math

from river import stats

from models.multivariate import HourAnomaly

#: Facets whose org-wide prevalence is tracked (shared values; IPs and devices are per person).
SHARED_FACETS = ("app", "resource", "action")


class PeerBaseline:
    """Per-user-day totals of one peer group (records read, searches run), across its members.

    Examples
    --------
    >>> peers = PeerBaseline()
    >>> for records in (20, 30, 25, 35, 30, 20, 25, 30):
    ...     peers.learn(records, searches=2)
    >>> peers.warm, round(peers.threshold("records"), 1)
    (True, 48.1)

    """

    def __init__(self, z: float = 4.0, warmup: int = 8, memory: int = 500) -> None:
        self.z = z
        self.warmup = warmup
        self.memory = memory
        self.stats = {"records": stats.Var(), "searches": stats.Var()}
        self._thresholds: dict[str, float] = {}  # until the next learn
        self.warm = False  # enough user-days to judge by (read for every event: kept, not computed)

    def learn(self, records: float, searches: float) -> None:
        self._thresholds.clear()
        for name, value in (("records", records), ("searches", searches)):
            var = self.stats[name]
            var.update(value)
            if var.n > self.memory:
                self.stats[name] = stats.Var._from_state(self.memory, var.mean.get(), var.get())
        self.warm = self.stats["records"].n >= self.warmup

    def mean(self, name: str) -> float:
        return self.stats[name].mean.get()

    def spread(self, name: str) -> float:
        var = self.stats[name]
        return max(math.sqrt(max(var.get(), 0.0)), math.sqrt(max(var.mean.get(), 0.0)), 1.0)

    def threshold(self, name: str) -> float:
        if name not in self._thresholds:
            self._thresholds[name] = self.mean(name) + self.z * self.spread(name)
        return self._thresholds[name]

    def state(self) -> list:
        return [[v.n, round(v.mean.get(), 3), round(v.get(), 3)] for v in self.stats.values()]

    def restore(self, state: list) -> PeerBaseline:
        for name, (n, mean, var) in zip(self.stats, state):
            if n:
                self.stats[name] = stats.Var._from_state(n, mean, var)
        self._thresholds.clear()
        self.warm = self.stats["records"].n >= self.warmup
        return self


class Population:
    """Shared by every user's detector in one scoring process (one Kafka partition, or a whole replay).

    Parameters
    ----------
    seed
        Seed of the multivariate model.

    Examples
    --------
    >>> population = Population()
    >>> population.welcome()
    >>> population.welcome()
    >>> population.adopt("app", "crm-web")
    >>> population.prevalence("app", "crm-web"), population.prevalence("app", "new-tool")
    (0.5, 0.0)

    """

    def __init__(self, seed: int = 42) -> None:
        self.users = 0
        self.adopters: dict[str, dict[str, int]] = {facet: {} for facet in SHARED_FACETS}
        self.peers: dict[str, PeerBaseline] = {}
        self.hours = HourAnomaly(seed=seed)

    def welcome(self) -> None:
        """A user's first event."""
        self.users += 1

    def adopt(self, facet: str, value: str) -> None:
        """A user used `value` for the first time."""
        if facet in self.adopters:
            counts = self.adopters[facet]
            counts[value] = counts.get(value, 0) + 1

    def prevalence(self, facet: str, value: str) -> float:
        """Share of users who have used `value`; 0 for facets not tracked."""
        if facet not in self.adopters or not self.users:
            return 0.0
        return min(self.adopters[facet].get(value, 0) / self.users, 1.0)

    def peer(self, group: str) -> PeerBaseline:
        if group not in self.peers:
            self.peers[group] = PeerBaseline()
        return self.peers[group]

    def state(self) -> dict:
        return {
            "users": self.users,
            "adopters": self.adopters,
            "peers": {g: p.state() for g, p in self.peers.items()},
            "hours": self.hours.state(),
        }

    @classmethod
    def from_state(cls, state: dict | None, seed: int = 42) -> Population:
        population = cls(seed)
        if state:
            population.users = state["users"]
            population.adopters = {facet: dict(state["adopters"].get(facet, {})) for facet in SHARED_FACETS}
            population.peers = {g: PeerBaseline().restore(p) for g, p in state["peers"].items()}
            population.hours.restore(state["hours"])
        return population
