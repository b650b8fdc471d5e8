"""PostgreSQL's pgaudit lines in the csvlog format: who read or changed which table, from where.

A csvlog line is parsed by `record_of_line` into its named columns; the
``message`` column holds pgaudit's own CSV (``AUDIT: SESSION,1,1,READ,SELECT,
TABLE,public.customers,"SELECT …",<not logged>``). Set ``log_timezone = 'UTC'``
(or a numeric offset): zone abbreviations such as ``CET`` are ambiguous and refused.

Attribution is only as good as the database login: through a pooled service
account (an application's connection pool, PgBouncer) every statement is the
pool's, and Vigil learns one busy "user". Ship those applications' own access
logs instead, or give each person their own role.

Examples
--------
>>> line = ('2026-11-02 09:15:00.123 UTC,"agent0021","crm",4242,"10.1.2.3:51234",6565c1f0.1092,7,"SELECT",'
...         '2026-11-02 09:01:00 UTC,3/41,0,LOG,00000,"AUDIT: SESSION,3,1,READ,SELECT,TABLE,public.customers,'
...         '""SELECT name, phone FROM customers WHERE id = 42"",<not logged>",,,,,,,,,"psql","client backend",,0')
>>> to_events(record_of_line(line)) # doctest: +NORMALIZE_WHITESPACE
[{'event_id': '6565c1f0.1092:7:3:1', 'ts': '2026-11-02T09:15:00.123+00:00', 'user': 'agent0021',
  'action': 'record.search', 'resource': 'crm.public.customers', 'src_ip': '10.1.2.3', 'app': 'psql',
  'attrs': {'pg_command': 'SELECT', 'pg_class': 'READ'}}]
"""

from __future__ import annotations

import csv
import io
import re

from streams.contract import InvalidRecord
from streams.sources.adapters.fields import text

FMT = "pgaudit"
COLUMNS = ("log_time", "user_name", "database_name", "process_id", "connection_from", "session_id",
           "session_line_num", "command_tag", "session_start_time", "virtual_transaction_id", "transaction_id",
           "error_severity", "sql_state_code", "message", "detail", "hint", "internal_query", "internal_query_pos",
           "context", "query", "query_pos", "location", "application_name", "backend_type", "leader_pid", "query_id")
AUDIT = ("audit_type", "statement_id", "substatement_id", "class", "command", "object_type", "object_name",
         "statement", "parameter")
_TIME = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) (UTC|[+-]\d\d(?::?\d\d)?)$")


def record_of_line(line: str | bytes) -> dict:
    """A csvlog line as a dict of its named columns."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    try:
        values = next(csv.reader(io.StringIO(line)))  # a quoted statement may hold newlines
    except (csv.Error, StopIteration):
        raise InvalidRecord("not a PostgreSQL csvlog line") from None
    if len(values) < 14:
        raise InvalidRecord(f"a PostgreSQL csvlog line has at least 14 columns, this one {len(values)}")
    return dict(zip(COLUMNS, values))


def to_events(record: dict) -> list[dict]:
    message = record.get("message", "")
    if not message.startswith("AUDIT: "):
        raise InvalidRecord("csvlog 'message' is not a pgaudit line (it starts with 'AUDIT: ')")
    audit = dict(zip(AUDIT, next(csv.reader([message[len("AUDIT: "):]]))))
    user = text(record.get("user_name"))
    if user is None:
        raise InvalidRecord("csvlog 'user_name' is empty")
    table = audit.get("object_name") or ""
    event = {
        "event_id": f"{record.get('session_id')}:{record.get('session_line_num')}:{audit.get('statement_id')}:"
                    f"{audit.get('substatement_id')}",
        "ts": _iso(record.get("log_time", "")),
        "user": user,
        "action": _action(audit.get("class", ""), audit.get("command", "")),
        "resource": ".".join(p for p in (record.get("database_name"), table) if p) or None,
        "src_ip": text((record.get("connection_from") or "").rsplit(":", 1)[0]),
        "app": text(record.get("application_name")),
        "attrs": {"pg_command": audit.get("command"), "pg_class": audit.get("class")},
    }
    return [{k: v for k, v in event.items() if v is not None}]


def _action(kind: str, command: str) -> str:
    if command == "COPY" or kind == "READ" and "COPY" in command:
        return "record.export"
    if kind == "READ":
        return "record.search"
    if kind == "WRITE":
        return "record.update"
    if command == "GRANT" or kind == "ROLE":
        return "privilege.grant"
    return f"pg.{command.lower().replace(' ', '_') or kind.lower()}"


def _iso(log_time: str) -> str:
    match = _TIME.match(log_time)
    if match is None:
        raise InvalidRecord(f"csvlog 'log_time' {log_time!r} has no UTC or numeric offset (set log_timezone = 'UTC')")
    day, clock, zone = match.groups()
    return f"{day}T{clock}{'+00:00' if zone == 'UTC' else zone}"
