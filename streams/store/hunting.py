"""The saved hunting queries in infra/clickhouse/queries: a documented library with typed, bound parameters.

Each file starts with a comment that says what it answers, then one
``-- param NAME TYPE [= DEFAULT]`` line per parameter. Values given on the
command line are checked against the type here and bound by ClickHouse
(``{name:Type}``); nothing is pasted into the SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from streams.errors import VigilError
from streams.settings import INFRA_DIR

QUERIES_DIR = INFRA_DIR / "clickhouse" / "queries"
_PARAM = re.compile(r"^--\s*param\s+(\w+)\s+([\w(), ]+?)\s*(?:=\s*(.+?))?\s*$")


class QueryParameterError(VigilError, ValueError):
    pass


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None

    def convert(self, text: str) -> str | int | float:
        """Check `text` against the type; return what ClickHouse parses unambiguously."""
        kind = self.type.split("(")[0]
        try:
            if kind.startswith("DateTime") or kind == "Date":
                return _clickhouse_time(text)
            if kind.startswith(("UInt", "Int")):
                value = int(text)
                if kind.startswith("UInt") and value < 0:
                    raise ValueError
                return value
            if kind.startswith("Float"):
                return float(text)
        except ValueError:
            raise QueryParameterError(f"--param {self.name}={text!r} is not a valid {self.type}") from None
        return text


@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str
    parameters: tuple[Parameter, ...]
    sql: str

    @classmethod
    def load(cls, path: Path, db: str = "vigil") -> SavedQuery:
        description, parameters = [], []
        for line in path.read_text().splitlines():
            if not line.startswith("--"):
                break
            if match := _PARAM.match(line):
                parameters.append(Parameter(*match.groups()))
            else:
                description.append(line.lstrip("- ").strip())
        sql = path.read_text().replace("${db}", db)
        return cls(path.stem, " ".join(description), tuple(parameters), sql)

    def bind(self, given: dict[str, str]) -> dict[str, str | int | float]:
        known = {p.name: p for p in self.parameters}
        unknown = set(given) - set(known)
        if unknown:
            raise QueryParameterError(f"{self.name} has no parameter {', '.join(sorted(unknown))}; it takes "
                                      + ", ".join(f"{p.name} ({p.type})" for p in self.parameters))
        bound = {}
        for p in self.parameters:
            text = given.get(p.name, p.default)
            if text is None:
                raise QueryParameterError(f"{self.name} needs --param {p.name}=… ({p.type})")
            bound[p.name] = p.convert(text)
        return bound


def library(db: str = "vigil") -> dict[str, SavedQuery]:
    return {q.name: q for q in (SavedQuery.load(p, db) for p in sorted(QUERIES_DIR.glob("*.sql")))}


def saved(name: str, db: str = "vigil") -> SavedQuery:
    queries = library(db)
    if name not in queries:
        raise QueryParameterError(f"no saved query {name!r}; `vigil query --list` shows them: {', '.join(queries)}")
    return queries[name]


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        if "=" not in pair:
            raise QueryParameterError(f"--param takes name=value, got {pair!r}")
        name, value = pair.split("=", 1)
        params[name.strip()] = value
    return params


def _clickhouse_time(text: str) -> str:
    """A date or ISO-8601 time (UTC when no zone is given) as ClickHouse's 'YYYY-MM-DD hh:mm:ss.fff' in UTC."""
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
