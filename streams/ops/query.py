"""Read-only SQL for people: through the worker that owns the embedded store, or straight to ClickHouse."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import orjson

from streams.errors import VigilError
from streams.settings import Settings, api_token
from streams.store.clickhouse import ClickHouseStore, QueryRejected, QueryResult


class WorkerUnreachable(VigilError, RuntimeError):
    pass


def worker_pid(settings: Settings) -> int | None:
    """Pid of a live worker that owns this data dir, if any."""
    try:
        pid = int((settings.data_dir / "worker.pid").read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def run_query(settings: Settings, sql: str, parameters: dict | None = None) -> QueryResult:
    """Run read-only SQL. While a worker owns the embedded store, ask it; otherwise open the store."""
    if settings.embedded_clickhouse and worker_pid(settings):
        return query_worker(settings, sql, parameters)
    store = ClickHouseStore.of(settings)
    try:
        return store.query_readonly(sql, parameters)
    finally:
        store.close()


def run_query_raw(settings: Settings, sql: str, parameters: dict | None, fmt: str) -> bytes:
    """The same, answered by ClickHouse in output format `fmt` (e.g. Parquet)."""
    if settings.embedded_clickhouse and worker_pid(settings):
        return _post(settings, {"sql": sql, "parameters": parameters, "format": fmt})
    store = ClickHouseStore.of(settings)
    try:
        return store.query_readonly_raw(sql, parameters, fmt)
    finally:
        store.close()


def credentials(settings: Settings) -> dict[str, str]:
    """The header the CLI sends the worker: the person's own key if set (VIGIL_KEY), else the break-glass token."""
    key = settings.key.get_secret_value() if settings.key else api_token(settings)
    return {"Authorization": f"Bearer {key}"}


def get_worker(settings: Settings, path: str, timeout: float = 10):
    """GET a JSON resource of the worker's API, with the credentials."""
    request = urllib.request.Request(f"{settings.web_url}{path}", headers=credentials(settings))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return orjson.loads(response.read())
    except urllib.error.HTTPError as e:
        raise QueryRejected(orjson.loads(e.read() or b"{}").get("error", e.reason)) from None
    except (urllib.error.URLError, OSError) as e:
        raise WorkerUnreachable(f"the worker at {settings.web_url} did not answer ({e})") from None


def query_worker(settings: Settings, sql: str, parameters: dict | None = None) -> QueryResult:
    body = orjson.loads(_post(settings, {"sql": sql, "parameters": parameters}))
    return QueryResult(body["columns"], body["rows"])


def _post(settings: Settings, body: dict, timeout: float = 300) -> bytes:
    request = urllib.request.Request(
        f"{settings.web_url}/query",
        data=orjson.dumps(body),
        headers={**credentials(settings), "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as e:
        detail = orjson.loads(e.read() or b"{}").get("error", e.reason)
        raise QueryRejected(detail) from None
    except (urllib.error.URLError, OSError) as e:
        raise WorkerUnreachable(f"the worker at {settings.web_url} did not answer ({e})") from None
