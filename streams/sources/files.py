"""Reading events, directory entries and tickets from NDJSON and CSV files."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import orjson

# CSV has no types: these columns are converted before validation.
_INT_COLUMNS = ("records", "bytes")
_JSON_COLUMNS = ("attrs", "tags")
_BOOL_COLUMNS = ("privileged",)


@dataclass(frozen=True)
class Line:
    """One record of a file, as raw bytes for Kafka, with where it came from."""

    where: str  # "file.ndjson:12"
    raw: bytes
    obj: dict | None  # parsed object, or None when the line is not a JSON object


def read_records(path: Path) -> Iterator[Line]:
    """Yield every non-blank record of an NDJSON (.ndjson, .jsonl, .json) or CSV (.csv) file; a .json or .json.gz
    file that is one JSON document (a CloudTrail log file, say) is one record."""
    name = path.name.lower()
    if name.endswith(".csv"):
        yield from _read_csv(path)
    elif name.endswith((".json", ".json.gz")) and (document := _one_document(path)) is not None:
        yield document
    else:
        yield from _read_ndjson(path)


def read_csv_lines(path: Path) -> Iterator[Line]:
    """Yield each record of a header-less CSV log (PostgreSQL's csvlog), as one line of CSV text; a quoted field may
    span lines, and `where` names the line the record starts on."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader, start = csv.reader(f), 1
        for row in reader:
            if row:
                out = io.StringIO()
                csv.writer(out, lineterminator="").writerow(row)
                yield Line(f"{path.name}:{start}", out.getvalue().encode(), None)
            start = reader.line_num + 1


def _one_document(path: Path) -> Line | None:
    raw = gzip.decompress(path.read_bytes()) if path.name.lower().endswith(".gz") else path.read_bytes()
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # lines of JSON, or broken: read line by line, so each bad line is named
    return Line(f"{path.name}:1", raw.strip(), obj) if isinstance(obj, dict) else None


def _read_ndjson(path: Path) -> Iterator[Line]:
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                obj = None
            yield Line(f"{path.name}:{n}", raw, obj if isinstance(obj, dict) else None)


def _read_csv(path: Path) -> Iterator[Line]:
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        for n, row in enumerate(csv.DictReader(f), 2):
            obj = {k: _convert(k, v) for k, v in row.items() if k and v not in (None, "")}
            yield Line(f"{path.name}:{n}", orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS) if _encodable(obj) else b"", obj)


def _convert(column: str, value: str):
    if column in _INT_COLUMNS and value.lstrip("-").isdigit():
        return int(value)
    if column == "ts" and value.isdigit():
        return int(value)  # epoch milliseconds
    if column in _JSON_COLUMNS:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    if column in _BOOL_COLUMNS:
        return value.strip().lower() in ("1", "true", "yes")
    return value


def _encodable(obj: dict) -> bool:
    try:
        orjson.dumps(obj)
        return True
    except TypeError:
        return False
