"""Versioned, idempotent ClickHouse migrations (infra/clickhouse/migrations), for one node or a cluster.

Each migration file is applied once and recorded with its checksum in
``<db>.schema_migrations``; editing an applied file is refused (write a new
migration instead). The same files render for one node (``MergeTree``
family) or for a cluster (``Replicated…`` engines ``ON CLUSTER``, each table
``<name>_local`` with a ``Distributed`` table ``<name>`` over it).

Placeholders: ``${db}``, ``${local}``, ``${on_cluster}``, ``${replicated}``,
``${retention_days}``, and a line ``-- @distributed TABLE SHARDING_KEY``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from string import Template

import sqlparse

from streams.errors import VigilError
from streams.settings import INFRA_DIR

MIGRATIONS_DIR = INFRA_DIR / "clickhouse" / "migrations"
_DISTRIBUTED = re.compile(r"^--\s*@distributed\s+(\w+)\s+(.+?)\s*$", re.MULTILINE)


class SchemaError(VigilError, RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    @classmethod
    def load_all(cls, folder: Path = MIGRATIONS_DIR) -> list[Migration]:
        migrations = []
        for path in sorted(folder.glob("*.sql")):
            match = re.match(r"(\d+)_", path.name)
            if not match:
                raise SchemaError(f"{path.name}: migration files are named NNN_what.sql")
            migrations.append(cls(int(match.group(1)), path.name, path.read_text()))
        if not migrations:  # an install without its package data would otherwise report "up to date"
            raise SchemaError(f"no migrations in {folder}: this installation of Vigil is incomplete (reinstall it)")
        versions = [m.version for m in migrations]
        if len(set(versions)) != len(versions):
            raise SchemaError(f"two migrations share a version number: {versions}")
        return migrations


@dataclass(frozen=True)
class Layout:
    """Where the schema goes: one node, or a named cluster."""

    db: str = "vigil"
    cluster: str | None = None
    retention_days: int = 400

    def render(self, text: str) -> list[str]:
        """The statements of a migration for this layout."""
        clustered = self.cluster is not None
        macros = {
            "db": self.db,
            "local": "_local" if clustered else "",
            "on_cluster": f"ON CLUSTER '{self.cluster}'" if clustered else "",
            "replicated": "Replicated" if clustered else "",
            "retention_days": str(self.retention_days),
        }

        def distributed(match: re.Match) -> str:
            if not clustered:
                return ""
            table, key = match.group(1), match.group(2)
            return (f"CREATE TABLE IF NOT EXISTS {self.db}.{table} ON CLUSTER '{self.cluster}' "
                    f"AS {self.db}.{table}_local ENGINE = Distributed('{self.cluster}', {self.db}, {table}_local, {key});")

        sql = Template(_DISTRIBUTED.sub(distributed, text)).substitute(macros)
        return [s.strip().rstrip(";") for s in sqlparse.split(sqlparse.format(sql, strip_comments=True)) if s.strip()]

    def bookkeeping(self) -> list[str]:
        clustered = self.cluster is not None
        on = f" ON CLUSTER '{self.cluster}'" if clustered else ""
        engine = "ReplicatedReplacingMergeTree" if clustered else "ReplacingMergeTree"
        return [
            f"CREATE DATABASE IF NOT EXISTS {self.db}{on}",
            f"CREATE TABLE IF NOT EXISTS {self.db}.schema_migrations{on} (version UInt32, name String, "
            f"checksum String, applied_at DateTime('UTC')) ENGINE = {engine} ORDER BY version",
        ]


@dataclass(frozen=True)
class MigrationStatus:
    migration: Migration
    applied_at: datetime | None
    checksum: str | None

    @property
    def state(self) -> str:
        if self.applied_at is None:
            return "pending"
        return "applied" if self.checksum == self.migration.checksum else "CHANGED SINCE APPLIED"


class Schema:
    """Migrations against one ClickHouse (through a ClickHouseStore's writer client)."""

    def __init__(self, client, layout: Layout, migrations: list[Migration] | None = None) -> None:
        self.client = client
        self.layout = layout
        self.migrations = migrations if migrations is not None else Migration.load_all()

    def status(self) -> list[MigrationStatus]:
        for statement in self.layout.bookkeeping():
            self.client.command(statement)
        rows = self.client.query(
            f"SELECT version, argMax(checksum, applied_at), max(applied_at) FROM {self.layout.db}.schema_migrations "
            "GROUP BY version").result_rows
        applied = {version: (checksum, at) for version, checksum, at in rows}
        return [MigrationStatus(m, *reversed(applied.get(m.version, (None, None)))) for m in self.migrations]

    def migrate(self) -> list[str]:
        """Apply pending migrations in order; return their names (empty when up to date)."""
        done = []
        for status in self.status():
            if status.state == "CHANGED SINCE APPLIED":
                raise SchemaError(f"{status.migration.name} changed after it was applied; "
                                  "write a new migration instead of editing an applied one")
            if status.state == "applied":
                continue
            for statement in self.layout.render(status.migration.text):
                self.client.command(statement)
            self.client.insert(f"{self.layout.db}.schema_migrations",
                               [[status.migration.version, status.migration.name, status.migration.checksum,
                                 datetime.now(timezone.utc)]],
                               column_names=["version", "name", "checksum", "applied_at"])
            done.append(status.migration.name)
        return done
