"""The base of every error a person can fix: its message says what is wrong and how to put it right.

The CLI prints a `VigilError` as one line and exits with status 2, never with
a traceback; the web API answers one with a 400. Each module raises its own
subclass (`InvalidRecord`, `QueryRejected`, `SchemaError`, …), so callers can
still catch the kind they handle.
"""

from __future__ import annotations


class VigilError(Exception):
    """Something a person can fix, said so they can (a refused record, a bad query, a broker that is not there)."""
