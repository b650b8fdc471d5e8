"""`vigil` whose ClickHouse writer fails while the file named by $CLICKHOUSE_DOWN_FILE exists.

No ClickHouse server runs here to be stopped, so the outage is injected: a
client around the real one raises, as clickhouse-connect does when the
server is unreachable, on every insert and every query of the write path.
"""

from __future__ import annotations

import os
from pathlib import Path

from clickhouse_connect.driver.exceptions import OperationalError

from streams.ops import cli
from streams.store.clickhouse import ClickHouseStore


class FlakyClient:
    def __init__(self, real, down: Path) -> None:
        self.real, self.down = real, down

    def __getattr__(self, name: str):
        attribute = getattr(self.real, name)
        if name in ("insert", "query", "command") and self.down.exists():
            def unavailable(*args, **kwargs):
                raise OperationalError("Error HTTPConnectionPool(host='clickhouse', port=8123): connection refused "
                                       "(outage injected by the test)")
            return unavailable
        return attribute


def install() -> None:
    """Every ClickHouseStore of this process writes through a FlakyClient."""
    real = ClickHouseStore.client
    down = Path(os.environ["CLICKHOUSE_DOWN_FILE"])
    ClickHouseStore.client = property(lambda self: FlakyClient(real.fget(self), down))


if __name__ == "__main__":  # only in the worker the test starts: importing this module changes nothing
    install()
    cli.app()
