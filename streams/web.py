"""The worker's web API: health, and read-only SQL over the store the worker owns."""

from __future__ import annotations

import hmac

import faust
import orjson
from faust.web import Request, Response, View

from streams.clickhouse import QueryRejected
from streams.counters import WorkerCounters
from streams.sink import ClickHouseSink


RAW_FORMATS = ("Parquet", "CSVWithNames", "JSONEachRow")


def register(app: faust.App, sink: ClickHouseSink, counters: WorkerCounters, token: str) -> None:
    expected = f"Bearer {token}".encode()

    def authorized(request: Request) -> bool:
        given = request.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, expected)

    def json(view: View, body: object, status: int = 200) -> Response:
        return view.bytes(orjson.dumps(body, default=str), content_type="application/json", status=status)

    @app.page("/health")
    class Health(View):
        """Unauthenticated liveness probe."""

        async def get(self, request: Request) -> Response:
            return json(self, {"status": "ok", **counters.to_dict()})

    @app.page("/query")
    class Query(View):
        """POST {"sql": "...", "parameters": {...}} → {"columns": [...], "rows": [[...]]}, read-only."""

        async def post(self, request: Request) -> Response:
            if not authorized(request):
                return json(self, {"error": "missing or wrong bearer token"}, status=401)
            try:
                body = orjson.loads(await request.read())
                sql, parameters, fmt = body["sql"], body.get("parameters"), body.get("format")
            except (orjson.JSONDecodeError, KeyError, TypeError):
                return json(self, {"error": 'expected a JSON body {"sql": "...", "parameters": {...}}'}, status=400)
            try:
                if fmt is not None:  # a ClickHouse output format, e.g. Parquet: bytes as ClickHouse wrote them
                    if fmt not in RAW_FORMATS:
                        return json(self, {"error": f"format must be one of {', '.join(RAW_FORMATS)}"}, status=400)
                    data = await sink.run(sink.store.query_readonly_raw, sql, parameters, fmt)
                    return self.bytes(data, content_type="application/octet-stream")
                result = await sink.run(sink.store.query_readonly, sql, parameters)
            except QueryRejected as e:
                return json(self, {"error": str(e)}, status=400)
            return json(self, {"columns": result.columns, "rows": result.rows})
