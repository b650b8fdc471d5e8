"""A running variance rebuilt from its saved moments: the one place Vigil reaches into river's internals.

river's `stats.Var` has no public constructor from (count, mean, variance),
which a baseline needs to restore its state and to cap its memory.
`tests/models/test_variance.py` fails with a clear message if the pinned
river changes the private one used here.
"""

from __future__ import annotations

from river import stats


def variance_from(n: float, mean: float, variance: float) -> stats.Var:
    """A `stats.Var` as if it had seen `n` values with this mean and variance.

    >>> v = variance_from(10, 2.0, 4.0)
    >>> v.n, v.mean.get(), v.get()
    (10, 2.0, 4.0)
    >>> v.update(2.0); round(v.get(), 3)
    3.6
    """
    return stats.Var._from_state(n, mean, variance)
