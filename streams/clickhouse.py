"""ClickHouse through clickhouse-connect: the embedded engine (chdb://PATH) or a server (http(s)://)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import clickhouse_connect
import orjson
import sqlparse

from streams.schema import Layout, Schema

SCORED_COLUMNS = (
    "event_id", "ts", "user", "action", "outcome", "resource", "record_id", "records", "bytes", "ticket_id",
    "unjustified", "src_ip", "device", "app", "geo", "attrs", "score", "risk", "band", "signals", "reasons", "user_events",
    "src_partition", "src_offset",
)
ALERT_COLUMNS = ("alert_id", "ts", "user", "band", "previous", "risk", "reasons", "techniques", "families", "event_id")
ACTION_COLUMNS = ("action_id", "ts", "alert_id", "user", "hook", "status", "detail", "attempt")
FEEDBACK_COLUMNS = ("feedback_id", "ts", "alert_id", "user", "verdict", "analyst", "note")


class QueryRejected(ValueError):
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
    the writer's session would stay read-only.)
    """

    def __init__(self, dsn: str, database: str = "vigil") -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
            raise ValueError(f"database name must be an identifier, got {database!r}")
        self.dsn = dsn
        self.database = database
        self._client = None
        self._reader = None
        self._lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            self._client = clickhouse_connect.get_client(dsn=self.dsn)
        return self._client

    @property
    def reader(self):
        if self._reader is None:
            self._reader = clickhouse_connect.get_client(dsn=self.dsn, settings={"readonly": 1})
        return self._reader

    def close(self) -> None:
        for client in (self._client, self._reader):
            if client is not None:
                client.close()
        self._client = self._reader = None

    # -- schema ------------------------------------------------------------------
    def schema(self, cluster: str | None = None, retention_days: int = 400) -> Schema:
        return Schema(self.client, Layout(self.database, cluster, retention_days))

    def migrate(self, cluster: str | None = None, retention_days: int = 400) -> list[str]:
        """Apply pending migrations (see streams/schema.py); safe to repeat."""
        with self._lock:
            return self.schema(cluster, retention_days).migrate()

    # -- writes ------------------------------------------------------------------
    def insert_scored(self, records: list[dict]) -> int:
        """Insert scored events not already stored; return how many were new."""
        return self._insert_new("scored_events", SCORED_COLUMNS, "event_id", records, _scored_row)

    def insert_alerts(self, records: list[dict]) -> int:
        return self._insert_new("alerts", ALERT_COLUMNS, "alert_id", records, _alert_row)

    def insert_actions(self, records: list[dict]) -> int:
        # One action moves through several statuses: each (action, status) is its own row.
        keyed = [r | {"row_id": f"{r['action_id']}/{r['status']}/{r['attempt']}"} for r in records]
        return self._insert_new("actions", ACTION_COLUMNS, "row_id", keyed, _plain_row(ACTION_COLUMNS),
                                stored_key="concat(action_id, '/', toString(status), '/', toString(attempt))")

    def insert_feedback(self, records: list[dict]) -> int:
        return self._insert_new("feedback", FEEDBACK_COLUMNS, "feedback_id", records, _plain_row(FEEDBACK_COLUMNS))

    def _insert_new(self, table: str, columns: tuple[str, ...], key: str, records: list[dict], to_row,
                    stored_key: str | None = None) -> int:
        # At-least-once delivery hands us some records twice: drop those within
        # the batch, then those a previous (possibly half-acknowledged) batch stored.
        unique = {r[key]: r for r in records}
        if not unique:
            return 0
        users = sorted({r["user"] for r in unique.values()})
        since = min(r["ts"] for r in unique.values())
        with self._lock:
            expression = stored_key or key
            stored = self.client.query(
                f"SELECT {expression} FROM {self.database}.{table} "
                "WHERE user IN {users:Array(String)} AND ts >= {since:DateTime64(3)} AND "
                f"{expression} IN {{keys:Array(String)}}",
                parameters={"users": users, "since": _utc(since), "keys": list(unique)},
            ).result_rows
            for (k,) in stored:
                unique.pop(k, None)
            if unique:
                # Rows as JSON for ClickHouse to parse: building the native columns in Python cost more,
                # and left every batch's rows in reference cycles for the garbage collector.
                rows = b"\n".join([orjson.dumps(to_row(r)) for r in unique.values()])
                self.client.raw_insert(f"{self.database}.{table}", columns, rows, fmt="JSONEachRow")
        return len(unique)

    # -- reads -------------------------------------------------------------------
    def query_readonly(self, sql: str, parameters: dict | None = None) -> QueryResult:
        """Run one read-only statement. DDL, DML, table functions and setting changes are refused."""
        result = self._read(lambda statement: self.reader.query(statement, parameters=parameters), sql)
        return QueryResult(list(result.column_names), [list(row) for row in result.result_rows])

    def query_readonly_raw(self, sql: str, parameters: dict | None = None, fmt: str = "Parquet") -> bytes:
        """The same read-only statement, answered in one of ClickHouse's output formats (Parquet, CSV, …)."""
        return self._read(lambda statement: self.reader.raw_query(statement, parameters=parameters, fmt=fmt), sql)

    def _read(self, run, sql: str):
        statements = [s for s in sqlparse.split(sql) if s.strip().rstrip(";").strip()]
        if len(statements) != 1:
            raise QueryRejected(f"expected exactly one SQL statement, got {len(statements)}")
        with self._lock:
            try:
                return run(statements[0].rstrip().rstrip(";"))
            except Exception as e:  # the engine's own words are the best explanation
                message = str(e)
                if "READONLY" in message:
                    raise QueryRejected("the query path is read-only: only SELECT-style statements run here") from None
                if "UNKNOWN_DATABASE" in message:
                    raise QueryRejected(f"this store has no Vigil tables yet ({self.dsn.split('?')[0].split('@')[-1]}); "
                                        "run `vigil worker` or `vigil demo` first, or check VIGIL_DATA_DIR") from None
                raise QueryRejected(message.splitlines()[0][:500]) from None


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _scored_row(r: dict) -> dict:
    # Event time stays epoch seconds: ClickHouse reads a number into DateTime64 as such.
    signals = r["signals"]
    return {
        "event_id": r["event_id"], "ts": r["ts"], "user": r["user"], "action": r["action"], "outcome": r["outcome"],
        "resource": r.get("resource") or "", "record_id": r.get("record_id") or "", "records": r["records"],
        "bytes": r.get("bytes"), "ticket_id": r.get("ticket_id") or "", "unjustified": int(r.get("unjustified", 0)),
        "src_ip": r.get("src_ip") or "", "device": r.get("device") or "", "app": r.get("app") or "",
        "geo": r.get("geo") or "", "attrs": r.get("attrs_json", "{}"), "score": r["score"], "risk": r["risk"],
        "band": r["band"], "signals": [s["name"] for s in signals], "reasons": [s["reason"] for s in signals],
        "user_events": r["user_events"], "src_partition": r["src_partition"], "src_offset": r["src_offset"],
    }


def _plain_row(columns: tuple[str, ...]):
    def row(r: dict) -> dict:
        return {c: r.get(c, "") for c in columns}
    return row


def _alert_row(r: dict) -> dict:
    return {"alert_id": r["alert_id"], "ts": r["ts"], "user": r["user"], "band": r["band"], "previous": r["previous"],
            "risk": r["risk"], "reasons": r["reasons"], "techniques": r.get("techniques", []),
            "families": r.get("families", []), "event_id": r["event_id"]}
