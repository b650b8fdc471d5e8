"""A running variance rebuilt from its saved moments: the one place Vigil reaches into river's internals.

river's `stats.Var` has no public constructor from (count, mean, variance),
which a baseline needs to restore its state, nor a way to reweigh what it has
seen, which a baseline needs to cap its memory.
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


def reweigh(var: stats.Var, n: float) -> None:
    """Weigh what `var` has seen as `n` values, keeping its mean and variance: `variance_from` in place (a
    baseline caps its memory at every window it closes, and a new object each time costs more than the window).

    >>> v = variance_from(30, 2.0, 4.0)
    >>> reweigh(v, 10)
    >>> v.n, v.mean.get(), v.get()
    (10, 2.0, 4.0)
    """
    variance = var.get()
    var.mean.n = n
    var._S = (n - var.ddof) * variance
