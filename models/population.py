"""What the models know about everyone at once: peer baselines, how common each value is, what people do today.

The organisation is the sum of its parts. Each scoring partition writes only
its own `PopulationPart` (additive counts and sums: plain data a worker saves
and publishes), and every judgement reads the `Organisation`, the sum of all
the parts it knows. A worker that owns every partition, `vigil eval`, and a
group of workers that exchange their parts therefore judge against the same
organisation, whatever the partition count: the multivariate model of
user-hours included, whose trees every partition builds alike from one seed
and whose masses are counts.
"""

from __future__ import annotations

import math

from models.multivariate import HalfSpaces, HourAnomaly, HourMasses, HourReference

GROUP_DAYS_KEPT = 40  # days a group's shares of movers are kept, for the users' monthly look-backs
DAILY_DECAY = 0.95  # peer baselines forget by event-time day: about three weeks of memory, in every partition alike
HOUR_TREES = HalfSpaces(seed=42)  # the multivariate model's trees: the same in every partition, every worker
HOURS_DECAY = 0.7  # the hours model's reference: yesterday's user-hours, the day before at 0.7, …
#: Facets whose org-wide prevalence is tracked (shared values; IPs and devices are per person).
SHARED_FACETS = ("app", "resource", "action")
#: What a group's share of members doing it on one day is kept for: moving records out, reading outside tickets,
#: touching more records than one's own usual day ("busy": a team's incident, a catch-up after a holiday).
GROUP_DEEDS = ("moved", "outside", "busy")


def shared_day_weight(share: float) -> float:
    """What a deed weighs when `share` of the doer's group did it that day: all of it below a fifth, then less,
    nothing once half did.

    >>> [shared_day_weight(share) for share in (0.1, 0.3, 0.6)]
    [1.0, 0.4, 0.0]
    """
    return 1.0 if share < 0.2 else max(0.0, 1 - 2 * share)


#: The share of a group beyond its usual one at which a day was the group's (its deeds weighed nothing): such a
#: day lasts into the next (`Population.share`'s `since_yesterday`).
GROUP_DAY = 0.5


class PopulationPart:
    """One partition's share of the organisation: additive counts, peer sums, its users' hours per tree node.

    Examples
    --------
    >>> part = PopulationPart()
    >>> part.learn("agent", "records", 30, day=100)
    True
    >>> part.peers["agent"]["records"]
    [1.0, 30.0, 900.0]

    """

    def __init__(self) -> None:
        self.users = 0
        self.members: dict[str, int] = {}  # peer group -> users seen
        self.adopters: dict[str, dict[str, int]] = {facet: {} for facet in SHARED_FACETS}  # also "group|value"
        self.peers: dict[str, dict[str, list[float]]] = {}  # group -> name -> [weight, sum, sum of squares]
        self.day = -1  # event-time day the peer sums were last decayed to
        self.today = [-1, 0, {}]  # event-time day, users active in it, key -> count ("active|scope", "moved|scope", facets)
        self.group_days: dict[str, dict[str, int]] = {}  # "scope|day" -> {"active": users, "moved": users who did, …}
        self.hours = HourMasses(HOUR_TREES.size, HOURS_DECAY)

    def learn(self, group: str, name: str, value: float, day: int) -> bool:
        """Learn one user-day; True if the part faded to a later day first."""
        faded = day > self.day
        if faded:
            self._decay(day)
        sums = self.peers.setdefault(group, {}).setdefault(name, [0.0, 0.0, 0.0])
        sums[0] += 1
        sums[1] += value
        sums[2] += value * value
        return faded

    def _decay(self, day: int) -> None:
        factor = DAILY_DECAY ** (day - self.day) if self.day >= 0 else 1.0
        self.day = day
        for names in self.peers.values():
            for sums in names.values():
                sums[:] = [round(v * factor, 4) for v in sums]

    def roll(self, day: int) -> None:
        """Move today's counts to `day`, keeping what the closing day's groups did."""
        if day <= self.today[0]:
            return
        closed, counts = self.today[0], self.today[2]
        for key, active in counts.items():
            if key.startswith("active|"):  # every group active that day: its users count in the share's denominator
                scope = key[7:]
                self.group_days[f"{scope}|{closed}"] = {"active": active} | {
                    what: counts[f"{what}|{scope}"] for what in GROUP_DEEDS if f"{what}|{scope}" in counts}
        for key in [k for k in self.group_days if int(k.rsplit("|", 1)[1]) < day - GROUP_DAYS_KEPT]:
            del self.group_days[key]
        self.today = [day, 0, {}]

    def count(self, key: str) -> None:
        counts = self.today[2]
        counts[key] = counts.get(key, 0) + 1

    def state(self) -> dict:
        return {"users": self.users, "members": self.members, "adopters": self.adopters, "peers": self.peers,
                "day": self.day, "today": self.today, "group_days": self.group_days, "hours": self.hours.state()}

    @classmethod
    def from_state(cls, state: dict | None) -> PopulationPart:
        part = cls()
        if state and "day" in state:  # a part's state (an older, per-partition population starts afresh)
            part.users, part.members, part.day, part.today = state["users"], state["members"], state["day"], state["today"]
            part.adopters = {facet: dict(state["adopters"].get(facet, {})) for facet in SHARED_FACETS}
            part.peers, part.group_days = state["peers"], state["group_days"]
        if state and state.get("hours"):
            part.hours.restore(state["hours"])
        return part


class Organisation:
    """Every part this process knows: its own partitions' (live) and other workers' (as last published).

    Examples
    --------
    >>> org = Organisation()
    >>> a, b = org.partition(0), org.partition(1)  # two partitions, each writing its own part
    >>> for population in (a, b, a, b):
    ...     population.welcome("agent")
    >>> a.adopt("app", "crm-web", "agent")
    >>> b.prevalence("app", "crm-web"), b.prevalence("app", "new-tool")  # read across both parts
    (0.25, 0.0)

    """

    def __init__(self) -> None:
        self.parts: dict[int, PopulationPart] = {}
        self.views: dict[int, Population] = {}
        self._peer_cache: dict[tuple[str, str], tuple[float, float, float]] = {}
        self._usual_cache: dict[tuple[str, str, int], float] = {}
        self.hours = HourReference(lambda: (p.hours for p in self.parts.values()), HOUR_TREES.size, HOURS_DECAY)

    def partition(self, partition: int, state: dict | None = None) -> Population:
        """The population that scoring in `partition` writes to and reads from (its part restored from `state`)."""
        if partition not in self.views or state is not None:
            self.parts[partition] = PopulationPart.from_state(state)
            self.views[partition] = Population(self, self.parts[partition])
            self._peer_cache.clear()
            self.hours.changed()
        return self.views[partition]

    def adopt_part(self, partition: int, state: dict) -> None:
        """Another worker's part, as it published it."""
        self.parts[partition] = PopulationPart.from_state(state)
        self.views.pop(partition, None)
        self._peer_cache.clear()
        self.hours.changed()

    def forget(self, partition: int) -> None:
        self.views.pop(partition, None)

    # -- reads across parts -------------------------------------------------------------------
    def users(self) -> int:
        return sum(p.users for p in self.parts.values())

    def members(self, group: str) -> int:
        return sum(p.members.get(group, 0) for p in self.parts.values())

    def adopters(self, facet: str, key: str) -> int:
        return sum(p.adopters[facet].get(key, 0) for p in self.parts.values())

    def today(self, day: int, key: str) -> int:
        return sum(p.today[2].get(key, 0) for p in self.parts.values() if p.today[0] == day)

    def active_today(self, day: int) -> int:
        return sum(p.today[1] for p in self.parts.values() if p.today[0] == day)

    def group_day(self, what: str, scope: str, day: int) -> tuple[int, int]:
        """(users of `scope` who did `what` on `day`, users of it active that day) across parts."""
        did = active = 0
        for p in self.parts.values():
            if p.today[0] == day:
                did += p.today[2].get(f"{what}|{scope}", 0)
                active += p.today[2].get(f"active|{scope}", 0)
            elif entry := p.group_days.get(f"{scope}|{day}"):
                did, active = did + entry.get(what, 0), active + entry["active"]
        return did, active

    def usual_share(self, what: str, scope: str, day: int) -> float:
        """Of the users of `scope` active on the kept days before `day`, the share who did `what`; at most 0.9, so
        a group where nearly everyone does it every day still has a day beyond its usual one."""
        key = (what, scope, day)
        if (usual := self._usual_cache.get(key)) is None:
            if len(self._usual_cache) > 4096:
                self._usual_cache.clear()  # past days' shares hardly change: a bound, not an expiry
            did = active = 0
            for past in range(day - GROUP_DAYS_KEPT, day):
                past_did, past_active = self.group_day(what, scope, past)
                did, active = did + past_did, active + past_active
            usual = self._usual_cache[key] = min(did / active, 0.9) if active else 0.0
        return usual

    def peer_stats(self, group: str, name: str) -> tuple[float, float, float]:
        """(weight, mean, variance) of a group's user-days across parts (kept until a part learns)."""
        key = (group, name)
        stats = self._peer_cache.get(key)
        if stats is None:
            n, total, squares = self._peer_sums(group, name)
            mean = total / n if n > 0 else 0.0
            var = max(squares / n - mean * mean, 0.0) * (n / (n - 1) if n > 1 else 1.0) if n > 0 else 0.0
            stats = self._peer_cache[key] = (max(n, 0.0), mean, var)
        return stats

    def _peer_sums(self, group: str, name: str) -> tuple[float, float, float]:
        """(weight, sum, sum of squares) of a group's user-days across parts, each part's faded to the latest
        day any part has learned (a part that learned less recently has not faded as far on its own)."""
        latest = max((p.day for p in self.parts.values()), default=0)
        totals = [0.0, 0.0, 0.0]
        for part in self.parts.values():
            if sums := part.peers.get(group, {}).get(name):
                fade = DAILY_DECAY ** (latest - part.day)
                for i in range(3):
                    totals[i] += sums[i] * fade
        return totals[0], totals[1], totals[2]

    def learned(self, part: PopulationPart, group: str, name: str, faded: bool) -> None:
        """`part` learned a user-day of `group`; `faded`: it moved to a later day first, which changes how every
        part's sums weigh against each other."""
        if faded:
            self._peer_cache.clear()
        else:
            self._peer_cache.pop((group, name), None)


class Population:
    """What scoring in one partition sees of the organisation: writes go to its part, reads to the whole.

    Examples
    --------
    >>> population = Organisation().partition(0)
    >>> population.welcome()
    >>> population.welcome()
    >>> population.adopt("app", "crm-web")
    >>> population.prevalence("app", "crm-web"), population.prevalence("app", "new-tool")
    (0.5, 0.0)

    """

    def __init__(self, org: Organisation | None = None, part: PopulationPart | None = None) -> None:
        if org is None:  # a population of its own: one partition, one part
            org = Organisation()
            part = org.parts[0] = PopulationPart()
            org.views[0] = self
        self.org = org
        self.part = part
        self.hours = HourAnomaly(HOUR_TREES, part.hours, org.hours)
        self._peers: dict[str, PeerBaseline] = {}

    def welcome(self, group: str = "") -> None:
        """A user's first event (`group`: their peer group)."""
        self.part.users += 1
        if group:
            self.part.members[group] = self.part.members.get(group, 0) + 1

    def arrive(self, day: int, *scopes: str) -> None:
        """A user of these groups (peer group, team) begins a working day on `day` (event-time days since the
        epoch): counted among the groups' active members that day."""
        self.part.roll(day)
        self.part.today[1] += 1
        for scope in scopes:
            self.part.count(f"active|{scope}")

    def adopt(self, facet: str, value: str, group: str = "") -> None:
        """A user (of peer group `group`) used `value` for the first time."""
        if facet in self.part.adopters:
            counts = self.part.adopters[facet]
            counts[value] = counts.get(value, 0) + 1
            if group:
                key = f"{group}|{value}"
                counts[key] = counts.get(key, 0) + 1

    def prevalence(self, facet: str, value: str, group: str = "") -> float:
        """Share of users who have used `value`, or of the peer group's if that is more (a group of at least
        five); 0 for facets not tracked. What every team lead uses is no news for the next team lead."""
        users = self.org.users()
        if facet not in SHARED_FACETS or not users:
            return 0.0
        share = self.org.adopters(facet, value) / users
        among_peers = self.peer_prevalence(facet, value, group)
        return min(share if among_peers is None else max(share, among_peers), 1.0)

    def peer_prevalence(self, facet: str, value: str, group: str) -> float | None:
        """Share of the peer group's members who have used `value`; None for a group of fewer than five, or a
        facet not tracked. A billing system half the billing team uses is still new ground for a support agent.

        >>> population = Population()
        >>> for group in ["billing"] * 5 + ["agent"] * 15:
        ...     population.welcome(group)
        >>> for group in ["billing"] * 5:
        ...     population.adopt("resource", "billing.payments", group)
        >>> population.prevalence("resource", "billing.payments", "agent")  # a quarter of the organisation
        0.25
        >>> population.peer_prevalence("resource", "billing.payments", "agent"), population.peer_prevalence(
        ...     "resource", "billing.payments", "billing")
        (0.0, 1.0)
        """
        members = self.org.members(group) if group and facet in SHARED_FACETS else 0
        if members < 5:
            return None
        return min(self.org.adopters(facet, f"{group}|{value}") / members, 1.0)

    def met_new(self, facet: str, day: int, group: str = "", value: str | None = None) -> None:
        """A user (of peer group `group`) met a value of `facet` new to them, for the first time on `day`; with
        `value`, counted for that value alone."""
        self.part.roll(day)
        key = _met_key(facet, value)
        self.part.count(key)
        self.part.count(f"{key}|{group}")

    def new_today(self, facet: str, day: int, group: str = "", value: str | None = None) -> float:
        """Share of today's active users, or of the group's if more, who met a new value of `facet` today, or
        this `value` of it (0 until at least three did): an office moving to new addresses, a team starting on
        a new system. Everyone meeting some new report or other is no rollout of the system in hand.

        >>> population = Population()
        >>> for user in range(10):
        ...     population.arrive(0, "agents")
        ...     population.met_new("resource", 0, "agents", "reports.monthly" if user < 8 else "crm.vip")
        >>> round(population.new_today("resource", 0, "agents", "reports.monthly"), 2), population.new_today(
        ...     "resource", 0, "agents", "crm.vip")
        (0.67, 0.0)
        """
        key = _met_key(facet, value)
        met, in_group = self.org.today(day, key), self.org.today(day, f"{key}|{group}")
        share = met / (self.org.active_today(day) + 5) if met >= 3 else 0.0
        if in_group >= 3:
            share = max(share, in_group / (self.org.today(day, f"active|{group}") + 2))
        return min(share, 1.0)

    def did(self, what: str, day: int, *scopes: str) -> None:
        """A user of these groups did `what` (one of `GROUP_DEEDS`) for the first time on `day`."""
        self.part.roll(day)
        for scope in scopes:
            self.part.count(f"{what}|{scope}")

    def withdraw(self, what: str, day: int, *scopes: str) -> None:
        """A user counted in `did` on `day` no longer counts: they raised alerts of their own (a colleague under
        suspicion does not make a day the group's)."""
        self._recount(what, day, scopes, -1)

    def rejoin(self, what: str, day: int, *scopes: str) -> None:
        """A user withdrawn from `what` on `day` counts again: an analyst judged what they did benign."""
        self._recount(what, day, scopes, +1)

    def _recount(self, what: str, day: int, scopes: tuple[str, ...], change: int) -> None:
        part = self.part
        for scope in scopes:
            if part.today[0] == day:
                counts, key = part.today[2], f"{what}|{scope}"
            elif (counts := part.group_days.get(f"{scope}|{day}")) is not None:
                key = what
            else:
                continue  # a day no longer kept
            if (count := counts.get(key, 0) + change) >= 0:
                counts[key] = count

    def share(self, what: str, day: int, *scopes: str, beyond_usual: bool = False,
              since_yesterday: bool = False) -> float:
        """The largest share of a group's users active on `day` who did `what` that day (0 until at least three
        did): a report the whole group runs, a team's incident. Today's share grows as the day goes; past
        days' are kept a while. With `beyond_usual`, only what is beyond the group's usual day counts: of the
        members who do not usually do it, the share who did. With `since_yesterday`, the day before counts
        too if it was the group's day (`GROUP_DAY`, beyond its usual share): a group's day lasts (a
        quarter's reports, an incident), and each morning's first deeds come before the day's share has
        formed; a day a few more than usual did lasts no longer than itself.

        >>> population = Population()
        >>> for day in range(11):  # a team of ten, three of whom move records out every day; eight on day 10
        ...     for member in range(10):
        ...         population.arrive(day, "team:t1")
        ...         if member < (8 if day == 10 else 3):
        ...             population.did("moved", day, "team:t1")
        >>> [round(population.share("moved", day, "team:t1", beyond_usual=usual), 2) for day in (9, 10)
        ...  for usual in (False, True)]
        [0.3, 0.0, 0.8, 0.71]
        >>> [round(population.share("moved", 11, "team:t1", since_yesterday=lasts), 2) for lasts in (False, True)]
        [0.0, 0.71]
        """
        if since_yesterday:
            yesterday = self.share(what, day - 1, *scopes, beyond_usual=True)
            return max(self.share(what, day, *scopes, beyond_usual=beyond_usual),
                       yesterday if yesterday >= GROUP_DAY else 0.0)
        shares = [0.0]
        for scope in scopes:
            did, active = self.org.group_day(what, scope, day)
            if did >= 3:
                share = min(did / max(active, 1), 1.0)
                if beyond_usual:
                    usual = self.org.usual_share(what, scope, day)
                    share = max(share - usual, 0.0) / (1 - usual)
                shares.append(share)
        return max(shares)

    def usual_share(self, what: str, day: int, scope: str) -> float:
        """Of the users of `scope` active on the kept days before `day`, the share who did `what` (a day's)."""
        return self.org.usual_share(what, scope, day)

    def at_work(self, scope: str, day: int) -> int:
        """How many users of `scope` were active on `day`, across the organisation.

        >>> population = Population()
        >>> population.arrive(3, "agent"); population.arrive(3, "agent")
        >>> population.at_work("agent", 3), population.at_work("agent", 2)
        (2, 0)
        """
        return self.org.group_day("active", scope, day)[1]

    def day_weight(self, what: str, day: int, *scopes: str, beyond_usual: bool = False,
                   since_yesterday: bool = False) -> float:
        """What doing `what` on `day` weighs for a member of these groups: less the more of a group did too,
        nothing once half of one did.

        >>> Population().day_weight("moved", 0, "team_lead", "team:t1")
        1.0
        """
        return shared_day_weight(self.share(what, day, *scopes, beyond_usual=beyond_usual,
                                            since_yesterday=since_yesterday))

    def peer(self, group: str) -> PeerBaseline:
        if group not in self._peers:
            self._peers[group] = PeerBaseline(self, group)
        return self._peers[group]

    def state(self) -> dict:
        """This partition's part, as plain data."""
        return self.part.state()


class PeerBaseline:
    """Per-user-day totals of one peer group (records read, searches run, customers read outside tickets,
    records moved out) across its members' complete days in the whole organisation, each learned clipped to
    the group's threshold and fading by event-time day.

    Examples
    --------
    >>> peers = Population().peer("agent")
    >>> for day, records in enumerate((20, 30, 25, 35, 30, 20, 25, 30)):
    ...     peers.learn("records", records, day=0)
    >>> peers.warm, round(peers.threshold("records"), 1)
    (True, 48.1)
    >>> for moved in (0, 0, 10, 0, 0, 0, 5, 0):
    ...     peers.learn("moved", moved, day=0)
    >>> round(peers.week_threshold("moved"), 1)  # seven days' worth, with the spread of seven
    52.5

    """

    def __init__(self, population: Population, group: str, z: float = 4.0, warmup: int = 8) -> None:
        self.population = population
        self.group = group
        self.z = z
        self.warmup = warmup

    def learn(self, name: str, value: float, day: int) -> None:
        """Learn one complete user-day, past the warm-up clipped to the threshold, so that one member's theft
        (or a departing colleague's bulk export) does not become the group's normal."""
        if self._stats(name)[0] >= self.warmup:
            value = min(value, self.threshold(name))
        part = self.population.part
        self.population.org.learned(part, self.group, name, faded=part.learn(self.group, name, value, day))

    def _stats(self, name: str) -> tuple[float, float, float]:
        """(weight, mean, variance) across the organisation."""
        return self.population.org.peer_stats(self.group, name)

    @property
    def warm(self) -> bool:
        """Enough user-days to judge by."""
        return self._stats("records")[0] >= self.warmup

    def knows(self, name: str) -> bool:
        """Enough user-days of `name` to judge by."""
        return self._stats(name)[0] >= self.warmup

    def mean(self, name: str) -> float:
        return self._stats(name)[1]

    def spread(self, name: str, least_spread: float = 1.0) -> float:
        _, mean, var = self._stats(name)
        return max(math.sqrt(var), math.sqrt(max(mean, 0.0)), least_spread)

    def threshold(self, name: str, least_spread: float = 1.0) -> float:
        """``mean + z·spread``: the spread at least `least_spread` (one record or customer; half an export)."""
        _, mean, var = self._stats(name)  # read once: this is asked for every record an agent touches
        return mean + self.z * max(math.sqrt(var), math.sqrt(max(mean, 0.0)), least_spread)

    def week_threshold(self, name: str, days: int = 7) -> float:
        """A sum of `days` user-days above which the group's members rarely go."""
        _, mean, var = self._stats(name)
        mean, spread = days * mean, math.sqrt(days * var)
        return mean + self.z * max(spread, math.sqrt(max(mean, 0.0)), 3.0)


def _met_key(facet: str, value: str | None) -> str:
    """The key of today's count of users who met a new value of `facet`, or this `value` of it."""
    return facet if value is None else f"{facet}={value}"
