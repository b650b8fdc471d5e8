"""Unusual combinations within one user-hour, by river's Half-Space Trees on user-normalised features."""

from __future__ import annotations

from river import anomaly

#: Features of a closed user-hour, each scaled to [0, 1] against the user's own baselines.
FEATURES = ("volume", "breadth", "unjustified", "rare_hour", "exfil", "new_context")


class HourAnomaly:
    """One model for everyone: features are already relative to each user, so "normal" is shared.

    The trees are rebuilt from the seed, so the state is just the node masses:
    plain data that fits in a changelog.

    Parameters
    ----------
    seed
        Seed of the random tree structure.
    threshold
        Score above which an hour is reported.
    n_trees, height, window_size
        As in :class:`river.anomaly.HalfSpaceTrees`.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(1)
    >>> model = HourAnomaly(seed=1, window_size=50)
    >>> for _ in range(300):
    ...     _ = model.score_and_learn({f: rng.random() * 0.2 for f in FEATURES})
    >>> model.score_and_learn({f: 0.1 for f in FEATURES}) < 0.5
    True
    >>> model.score_and_learn({"volume": 0.9, "breadth": 0.9, "unjustified": 0.9, "rare_hour": 1.0,
    ...                        "exfil": 0.0, "new_context": 0.0}) > 0.8
    True

    """

    def __init__(self, seed: int = 42, threshold: float = 0.9, n_trees: int = 10, height: int = 6,
                 window_size: int = 250) -> None:
        self.seed = seed
        self.threshold = threshold
        self.model = anomaly.HalfSpaceTrees(n_trees=n_trees, height=height, window_size=window_size, seed=seed)
        self.model.learn_one({f: 0.0 for f in FEATURES})  # build the trees (a first all-zero hour)

    def score_and_learn(self, x: dict[str, float]) -> float:
        score = self.model.score_one(x)
        self.model.learn_one(x)
        return score

    def state(self) -> list:
        m = self.model
        masses = [[[n.l_mass, n.r_mass] for n in nodes] for nodes in m._tree_nodes]
        return [m.counter, m._first_window, masses]

    def restore(self, state: list | None) -> HourAnomaly:
        if state:
            m = self.model
            m.counter, m._first_window, masses = state
            for nodes, tree_masses in zip(m._tree_nodes, masses):
                for node, (l_mass, r_mass) in zip(nodes, tree_masses):
                    node.l_mass, node.r_mass = l_mass, r_mass
        return self
