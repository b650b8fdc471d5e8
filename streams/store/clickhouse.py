"""ClickHouse through clickhouse-connect: the embedded engine (chdb://PATH) or a server (http(s)://)."""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple

import clickhouse_connect
import orjson
import sqlparse

from streams.errors import VigilError
from streams.records import (
    ActionRecord,
    AlertRecord,
    AuditRecord,
    FeedbackRecord,
    ScoredRecord,
)
from streams.settings import Settings
from streams.store.schema import Layout, Schema


@dataclass(frozen=True)
class TableSpec:
    columns: tuple[str, ...]
    key: str  # what makes a row unique, as SQL over the table's columns
    owner: str = "user"  # the column `Row.user` is, which narrows the duplicate check


class Row(NamedTuple):
    """One row for `ClickHouseStore.insert`: its key, user and event time (for the duplicate check), and
    the row as a JSON object (fields that are not columns are ignored, null is the column's default)."""

    key: str
    user: str
    ts: float
    json: bytes  # or any bytes-like object (the sink passes msgspec.Raw slices of a message)

    @classmethod
    def of(cls, record: dict, key: str) -> Row:
        return cls(key, record["user"], record["ts"], orjson.dumps(record))


TABLES = {
    "scored_events": TableSpec(ScoredRecord.columns(), "event_id"),
    "alerts": TableSpec(AlertRecord.columns(), "alert_id"),
    "actions": TableSpec(ActionRecord.columns(), "concat(action_id, '/', toString(status), '/', toString(attempt))"),
    "feedback": TableSpec(FeedbackRecord.columns(), "feedback_id"),
    "audit": TableSpec(AuditRecord.columns(), "audit_id", owner="who"),
}


@dataclass(frozen=True)
class QueryLimits:
    """What one analyst's query may take: time, memory, rows read and rows returned.

    Set on the read-only session itself, before ``readonly``, so a query cannot
    lift them (a ``SETTINGS`` clause is refused in read-only mode). The defaults
    leave a worker that is also scoring room to breathe.

    >>> QueryLimits(seconds=5).explain("Code: 159. DB::Exception: Timeout exceeded: elapsed 5.1 s. (TIMEOUT_EXCEEDED)")
    'the query ran longer than 5 s (VIGIL_QUERY_MAX_SECONDS): narrow it by user or time, or raise the limit'
    """

    seconds: float = 30.0
    memory_mb: int = 2048
    rows_read: int = 2_000_000_000
    result_rows: int = 1_000_000

    def settings(self) -> dict[str, int | float | str]:
        return {"max_execution_time": self.seconds, "max_memory_usage": self.memory_mb * 1024 * 1024,
                "max_rows_to_read": self.rows_read, "max_result_rows": self.result_rows,
                "result_overflow_mode": "throw"}

    def explain(self, error: str) -> str | None:
        """Which limit a refused query hit, in words, with the setting that raises it; None if none did."""
        hint = "narrow it by user or time, or raise the limit"
        if "TIMEOUT_EXCEEDED" in error or "TOO_SLOW" in error:  # TOO_SLOW: it would, by ClickHouse's estimate
            return f"the query ran longer than {self.seconds:g} s (VIGIL_QUERY_MAX_SECONDS): {hint}"
        if "TOO_MANY_ROWS_OR_BYTES" in error:
            return (f"the query returns more than {self.result_rows:,} rows (VIGIL_QUERY_MAX_RESULT_ROWS): aggregate or "
                    f"LIMIT it, or raise the limit")
        if "TOO_MANY_ROWS" in error:
            return f"the query reads more than {self.rows_read:,} rows (VIGIL_QUERY_MAX_ROWS_READ): {hint}"
        if "MEMORY_LIMIT_EXCEEDED" in error:
            return f"the query needs more than {self.memory_mb:,} MB (VIGIL_QUERY_MAX_MEMORY_MB): {hint}"
        return None


class QueryRejected(VigilError, ValueError):
    """A query the read-only path refuses; the message says why."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]


class ClickHouseStore:
    """Vigil's tables in ClickHouse: schema, idempotent inserts, read-only queries.

    Two clients, each used by one thread at a time: a writer, and a reader
    whose session is read-only for good. (Per-query ``readonly`` is not
    enough: after a refused query the chdb backend cannot set it back, and
    the writer's session would stay read-only.) On a ClickHouse server they
    take turns only with themselves, so an analyst's query never holds up
    the sink; the embedded engine runs one statement at a time, so there the
    query limits are what bound the wait.
    """

    def __init__(self, dsn: str, database: str = "vigil", limits: QueryLimits = QueryLimits()) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
            raise ValueError(f"database name must be an identifier, got {database!r}")
        self.dsn = dsn
        self.database = database
        self.limits = limits
        self._client = None
        self._reader = None
        self._lock = threading.Lock()  # the writer's
        self._read_lock = self._lock if dsn.startswith("chdb:") else threading.Lock()
        self._killer = None  # a client of its own, to cancel a read while the read holds its lock
        self._kill_lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings) -> ClickHouseStore:
        """The store `settings` name, with their query limits."""
        return cls(settings.dsn, limits=QueryLimits(settings.query_max_seconds, settings.query_max_memory_mb,
                                                    settings.query_max_rows_read, settings.query_max_result_rows))

    @property
    def client(self):
        if self._client is None:
            self._client = clickhouse_connect.get_client(dsn=self.dsn)
        return self._client

    @property
    def reader(self):
        if self._reader is None:
            # The limits first: once the session is read-only, no setting can change, theirs included.
            self._reader = clickhouse_connect.get_client(dsn=self.dsn, settings=self.limits.settings() | {"readonly": 1})
        return self._reader

    def close(self) -> None:
        for client in (self._client, self._reader, self._killer):
            if client is not None:
                client.close()
        self._client = self._reader = self._killer = None

    # -- schema ------------------------------------------------------------------
    def schema(self, cluster: str | None = None, retention_days: int = 400) -> Schema:
        return Schema(self.client, Layout(self.database, cluster, retention_days))

    def migrate(self, cluster: str | None = None, retention_days: int = 400) -> list[str]:
        """Apply pending migrations (see streams/store/schema.py); safe to repeat."""
        with self._lock:
            return self.schema(cluster, retention_days).migrate()

    # -- writes ------------------------------------------------------------------
    def insert(self, table: str, rows: list[Row]) -> int:
        """Insert the rows not already stored in `table`; return how many were new.

        At-least-once delivery hands us some rows twice: those within the batch are dropped here, those a
        previous (possibly half-acknowledged) batch stored are found by key in the table.
        """
        unique = {row.key: row for row in rows}
        if not unique:
            return 0
        spec = TABLES[table]
        users = {row.user for row in unique.values()}
        since = math.floor(min(row.ts for row in unique.values()) * 1000) - 1  # ms, below any rounding of ts
        with self._lock:
            # Every value written as a literal by `_literals`, none bound by the client: clickhouse-connect
            # escapes a bound string a character at a time in Python, for thousands of keys a batch.
            stored = self.client.query(
                f"SELECT {spec.key} FROM {self.database}.{table} "
                f"WHERE {spec.owner} IN {_literals(users)} AND ts >= fromUnixTimestamp64Milli(toInt64({since})) "
                f"AND {spec.key} IN {_literals(unique)}"
            ).result_rows
            for (key,) in stored:
                unique.pop(key, None)
            if unique:
                # Rows as JSON for ClickHouse to parse: the scored rows arrive as the worker encoded them, and
                # building native columns in Python cost more and left the rows in reference cycles for the GC.
                body = b"\n".join([row.json for row in unique.values()])
                self.client.raw_insert(f"{self.database}.{table}", spec.columns, body, fmt="JSONEachRow")
        return len(unique)

    def reachable(self) -> bool:
        """Whether ClickHouse answers at all (a refused insert then means the rows, not an outage)."""
        try:
            self.client.command("SELECT 1")
            return True
        except Exception:
            return False

    # -- reads -------------------------------------------------------------------
    def query_readonly(self, sql: str, parameters: dict | None = None, tag: str = "") -> QueryResult:
        """Run one read-only statement. DDL, DML, table functions and setting changes are refused. A `tag`
        (hex) names the statement for `cancel`."""
        result = self._read(lambda statement: self.reader.query(statement, parameters=parameters), sql, tag)
        return QueryResult(list(result.column_names), [list(row) for row in result.result_rows])

    def query_readonly_raw(self, sql: str, parameters: dict | None = None, fmt: str = "Parquet", tag: str = "") -> bytes:
        """The same read-only statement, answered in one of ClickHouse's output formats (Parquet, CSV, …)."""
        return self._read(lambda statement: self.reader.raw_query(statement, parameters=parameters, fmt=fmt), sql, tag)

    def cancel(self, tag: str) -> bool:
        """Stop the read tagged `tag`, if it is still running (KILL QUERY, by the comment `_read` put first)."""
        with self._kill_lock:
            if self._killer is None:
                self._killer = clickhouse_connect.get_client(dsn=self.dsn)
            killed = self._killer.query("KILL QUERY WHERE startsWith(query, {mark:String}) SYNC",
                                        parameters={"mark": _mark(tag)})
        return bool(killed.result_rows)

    def _read(self, run, sql: str, tag: str = ""):
        statements = [s for s in sqlparse.split(sql) if s.strip().rstrip(";").strip()]
        if len(statements) != 1:
            raise QueryRejected(f"expected exactly one SQL statement, got {len(statements)}")
        statement = statements[0].rstrip().rstrip(";")
        with self._read_lock:
            try:
                return run(f"{_mark(tag)} {statement}" if tag else statement)
            except Exception as e:  # the engine's own words are the best explanation
                message = str(e)
                if limit := self.limits.explain(message):
                    raise QueryRejected(limit) from None
                if "READONLY" in message:
                    raise QueryRejected("the query path is read-only: only SELECT-style statements run here") from None
                if "UNKNOWN_DATABASE" in message:
                    raise QueryRejected(f"this store has no Vigil tables yet ({self.dsn.split('?')[0].split('@')[-1]}); "
                                        "run `vigil worker` or `vigil demo` first, or check VIGIL_DATA_DIR") from None
                raise QueryRejected(message.splitlines()[0][:500]) from None


def _mark(tag: str) -> str:
    """The comment that starts a tagged read, as ClickHouse's process list shows it.

    >>> _mark("3f9c")
    '/* vigil-query:3f9c */'
    """
    if not re.fullmatch(r"[0-9a-f]+", tag):
        raise ValueError(f"a query tag is hex, got {tag!r}")
    return f"/* vigil-query:{tag} */"


# What clickhouse-connect's binding escapes in a string literal (a backslash before each), done in C.
_ESCAPES = str.maketrans({c: "\\" + c for c in ("\\", "'", "`", "\t", "\n")})


def _literals(values) -> str:
    r"""A ClickHouse array literal of strings: every quote and backslash escaped, so no value leaves its quotes.

    >>> print(_literals(["ann", "o'brien", "back\\slash"]))
    ['ann','o\'brien','back\\slash']
    """
    return "[" + ",".join(["'" + value.translate(_ESCAPES) + "'" for value in values]) + "]"
