"""What the models know about everyone at once: peer baselines and how common each value is."""

from __future__ import annotations

import math

from river import stats

from models.multivariate import HourAnomaly

GROUP_DAYS_KEPT = 40  # days a group's shares of movers are kept, for the users' monthly look-backs
#: Facets whose org-wide prevalence is tracked (shared values; IPs and devices are per person).
SHARED_FACETS = ("app", "resource", "action")


class PeerBaseline:
    """Per-user-day totals of one peer group (records read, searches run, customers read outside tickets,
    records moved out), across its members' complete days, each learned clipped to the group's threshold.

    Examples
    --------
    >>> peers = PeerBaseline()
    >>> for records in (20, 30, 25, 35, 30, 20, 25, 30):
    ...     peers.learn("records", records)
    >>> peers.warm, round(peers.threshold("records"), 1)
    (True, 48.1)
    >>> for moved in (0, 0, 10, 0, 0, 0, 5, 0):
    ...     peers.learn("moved", moved)
    >>> round(peers.week_threshold("moved"), 1)  # seven days' worth, with the spread of seven
    52.5

    """

    NAMES = ("records", "searches", "outside", "moved")

    def __init__(self, z: float = 4.0, warmup: int = 8, memory: int = 500) -> None:
        self.z = z
        self.warmup = warmup
        self.memory = memory
        self.stats = {name: stats.Var() for name in self.NAMES}
        self._thresholds: dict[str, float] = {}  # until the next learn
        self.warm = False  # enough user-days to judge by (read for every event: kept, not computed)

    def learn(self, name: str, value: float) -> None:
        """Learn one complete user-day; past the warm-up, clipped to the threshold, so that one member's
        theft (or a departing colleague's bulk export) does not become the group's normal."""
        if self.stats[name].n >= self.warmup:
            value = min(value, self.threshold(name))
        self._thresholds.pop(name, None)
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

    def week_threshold(self, name: str, days: int = 7) -> float:
        """A sum of `days` user-days above which the group's members rarely go."""
        var = self.stats[name]
        mean, spread = days * var.mean.get(), math.sqrt(days * max(var.get(), 0.0))
        return mean + self.z * max(spread, math.sqrt(max(mean, 0.0)), 3.0)

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
        self.today = [-1, 0, {}]  # event-time day, users active in it, facet -> users who met a new value of it
        self.members: dict[str, int] = {}  # peer group -> users seen
        self.group_days: dict[str, float] = {}  # "group|day" -> share of the group that moved records out that day

    def welcome(self, group: str = "") -> None:
        """A user's first event (`group`: their peer group)."""
        self.users += 1
        if group:
            self.members[group] = self.members.get(group, 0) + 1

    def arrive(self, day: int, group: str = "") -> None:
        """A user (of peer group `group`) has their first event of `day` (event-time days since the epoch)."""
        self._roll(day)
        self.today[1] += 1
        self._count(f"active|{group}")

    def met_new(self, facet: str, day: int, group: str = "") -> None:
        """A user (of peer group `group`) met a value of `facet` new to them, for the first time on `day`."""
        self._roll(day)
        self._count(facet)
        self._count(f"{facet}|{group}")

    def new_today(self, facet: str, day: int, group: str = "") -> float:
        """Share of today's active users, or of the group's if more, who met a new value of `facet` today
        (0 until at least three did): an office moving, a team starting on a new system."""
        if day != self.today[0]:
            return 0.0
        counts = self.today[2]
        met, in_group = counts.get(facet, 0), counts.get(f"{facet}|{group}", 0)
        share = met / (self.today[1] + 5) if met >= 3 else 0.0
        if in_group >= 3:
            share = max(share, in_group / (counts.get(f"active|{group}", 0) + 2))
        return min(share, 1.0)

    def moved_out(self, day: int, group: str) -> None:
        """A user of `group` moved records out for the first time on `day`."""
        self._roll(day)
        self._count(f"moved|{group}")

    def group_moved(self, day: int, group: str) -> float:
        """Share of the group's users active on `day` who moved records out that day (0 until at least three
        did): a report the whole group runs. Today's share grows as the day goes; past days' are kept a while."""
        if day != self.today[0]:
            return self.group_days.get(f"{group}|{day}", 0.0)
        moved = self.today[2].get(f"moved|{group}", 0)
        return 0.0 if moved < 3 else min(moved / max(self.today[2].get(f"active|{group}", 1), 1), 1.0)

    def group_day_weight(self, day: int, group: str) -> float:
        """What moving records out on `day` weighs for a member of `group`: less the more of the group did too,
        nothing once half of it did (a report the whole group runs).

        >>> population = Population()
        >>> population.group_day_weight(0, "team_lead")
        1.0
        """
        share = self.group_moved(day, group)
        return 1.0 if share < 0.2 else max(0.0, 1 - 2 * share)

    def _count(self, key: str) -> None:
        self.today[2][key] = self.today[2].get(key, 0) + 1

    def _roll(self, day: int) -> None:
        if day > self.today[0]:
            closed = self.today[0]
            for key in [k for k in self.today[2] if k.startswith("moved|")]:
                group = key[6:]
                if share := self.group_moved(closed, group):
                    self.group_days[f"{group}|{closed}"] = round(share, 3)
            for key in [k for k, _ in self.group_days.items() if int(k.rsplit("|", 1)[1]) < day - GROUP_DAYS_KEPT]:
                del self.group_days[key]
            self.today = [day, 0, {}]

    def adopt(self, facet: str, value: str, group: str = "") -> None:
        """A user (of peer group `group`) used `value` for the first time."""
        if facet in self.adopters:
            counts = self.adopters[facet]
            counts[value] = counts.get(value, 0) + 1
            if group:
                key = f"{group}|{value}"
                counts[key] = counts.get(key, 0) + 1

    def prevalence(self, facet: str, value: str, group: str = "") -> float:
        """Share of users who have used `value`, or of the peer group's if that is more (a group of at least
        five); 0 for facets not tracked. What every team lead uses is no news for the next team lead."""
        if facet not in self.adopters or not self.users:
            return 0.0
        counts = self.adopters[facet]
        share = counts.get(value, 0) / self.users
        members = self.members.get(group, 0)
        if members >= 5:
            share = max(share, counts.get(f"{group}|{value}", 0) / members)
        return min(share, 1.0)

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
            "today": self.today,
            "members": self.members,
            "group_days": self.group_days,
        }

    @classmethod
    def from_state(cls, state: dict | None, seed: int = 42) -> Population:
        population = cls(seed)
        if state:
            population.users = state["users"]
            population.adopters = {facet: dict(state["adopters"].get(facet, {})) for facet in SHARED_FACETS}
            population.peers = {g: PeerBaseline().restore(p) for g, p in state["peers"].items()}
            population.hours.restore(state["hours"])
            population.today = state.get("today", population.today)
            population.members = dict(state.get("members", {}))
            population.group_days = dict(state.get("group_days", {}))
        return population
