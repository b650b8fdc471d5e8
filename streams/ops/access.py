"""`vigil access` (people's API keys) and `vigil audit` (what people did), and the CLI's own audit entries."""

from __future__ import annotations

import datetime as dt
import getpass
import time
from typing import Optional

import msgspec
import typer
from rich.table import Table

from streams.access.audit import audit_record
from streams.access.keys import KeyRecord, new_key
from streams.access.roles import ROLES, check_roles
from streams.ops.terminal import console, err, fail, friendly
from streams.settings import Settings

access_app = typer.Typer(help="People's API keys and roles: " + "; ".join(f"{r}: {w}" for r, w in ROLES.items()),
                         no_args_is_help=True)


def operator() -> str:
    """Who runs the CLI, as the audit trail names them."""
    return f"{getpass.getuser()} (cli)"


def record(settings: Settings, action: str, subject: str = "", reason: str = "", detail: str = "") -> None:
    """Append what the CLI just did to the audit trail; the CLI holds every role."""
    from streams.sources.producer import EventProducer

    entry = audit_record(operator(), set(ROLES), action, subject, reason, detail=detail)
    with EventProducer(settings) as producer:
        producer.send("audit", entry.who, msgspec.json.encode(entry))


def _keys(settings: Settings) -> dict[str, KeyRecord]:
    from streams.sources.compacted import latest_values

    return {k.decode(): msgspec.json.decode(v, type=KeyRecord) for k, v in latest_values(settings, "access").items()}


def _publish(settings: Settings, record_: KeyRecord) -> None:
    from streams.sources.producer import EventProducer
    from streams.worker.topics import create_topics

    create_topics(settings)
    with EventProducer(settings) as producer:
        producer.send("access", record_.key_id, msgspec.json.encode(record_))


@access_app.command("add")
@friendly
def access_add(
    name: str = typer.Argument(..., help="The person, as the audit trail will name them (e.g. their e-mail)."),
    role: list[str] = typer.Option(..., "--role", "-r", help=f"One of {', '.join(ROLES)} (repeatable)."),
) -> None:
    """Give NAME a key with these roles. The key is shown once: hand it over now, it is stored only as a hash."""
    settings = Settings()
    key, entry = new_key(name, check_roles(role), operator(), time.time())
    _publish(settings, entry)
    record(settings, "key.add", entry.key_id, detail=f"{name}: {', '.join(entry.roles)}")
    err.print(f"key {entry.key_id} for {name} ({', '.join(entry.roles)}); shown once, stored hashed:")
    print(key)


@access_app.command("list")
@friendly
def access_list(all_: bool = typer.Option(False, "--all", help="Include revoked keys.")) -> None:
    """The keys and their roles (never the keys themselves)."""
    table = Table("key id", "name", "roles", "created", "by", "revoked", title="API keys")
    for entry in sorted(_keys(Settings()).values(), key=lambda r: r.created):
        if entry.revoked and not all_:
            continue
        revoked = f"{_when(entry.revoked)} by {entry.revoked_by}" if entry.revoked else ""
        table.add_row(entry.key_id, entry.name, ", ".join(entry.roles), _when(entry.created), entry.created_by, revoked)
    console.print(table)


@access_app.command("revoke")
@friendly
def access_revoke(key_id: str = typer.Argument(..., help="The key's id (`vigil access list`).")) -> None:
    """Revoke a key: every worker refuses it, and the sessions it opened, within seconds."""
    settings = Settings()
    entry = _keys(settings).get(key_id)
    if entry is None:
        fail(f"no key {key_id!r}; `vigil access list` shows the ids")
    entry.revoked, entry.revoked_by = time.time(), operator()
    _publish(settings, entry)
    record(settings, "key.revoke", key_id, detail=entry.name)
    console.print(f"key {key_id} of {entry.name} revoked")


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M")


AUDIT_SQL = """
SELECT ts, who, action, subject, reason, outcome, detail FROM vigil.audit
WHERE ({who:String} = '' OR who = {who:String}) AND ({action:String} = '' OR action = {action:String})
  AND ts >= parseDateTime64BestEffort({since:String}, 3, 'UTC')
ORDER BY ts DESC LIMIT {limit:UInt32}
"""


@friendly
def audit(
    who: str = typer.Option("", "--who", help="Only what this person did."),
    action: str = typer.Option("", "--action", help="Only this action (reveal, query, verdict, approve, …)."),
    since: str = typer.Option("2000-01-01", "--since", help="From (date or ISO-8601 time, UTC when no zone)."),
    limit: int = typer.Option(100, "--limit", min=1, max=100000),
    output: Optional[str] = typer.Option(None, "--format", help="json: one object per line, for other tools."),
) -> None:
    """The audit trail: who revealed, queried, judged, approved, reinstated, paused, or changed keys; newest first."""
    import orjson

    from streams.ops.query import run_query

    result = run_query(Settings(), AUDIT_SQL, {"who": who, "action": action, "since": since, "limit": limit})
    if output == "json":
        for row in result.rows:
            print(orjson.dumps(dict(zip(result.columns, row)), default=str).decode())
        return
    table = Table(*result.columns, title="Audit trail")
    for row in result.rows:
        table.add_row(*(str(v)[:19] if i == 0 else str(v)[:200] for i, v in enumerate(row)))
    console.print(table)
