"""A release of the CERT Insider Threat Test Dataset as a labelled set for `vigil eval --format cert DIR`.

The release's ``logon``, ``device``, ``file``, ``email`` and ``http`` CSVs are
the events (mapped by `streams/sources/adapters/cert.py`, all in event-time
order); its monthly ``LDAP/*.csv`` files are the directory, and a user who
drops out of them before the last month is *leaving* at the start of the month
they are gone; with an answer key (``answers/insiders.csv`` and each insider's
file of malicious rows) the insiders and their malicious events are known.
"""

from __future__ import annotations

import csv
from datetime import date, timezone, tzinfo
from pathlib import Path

from streams.contract import InvalidRecord, parse_ts
from streams.ops.evaluation import Labelled
from streams.sources.adapters.cert import KINDS, to_events


def from_cert(release: Path, answers: Path | None = None, kinds: tuple[str, ...] = KINDS,
              zone: tzinfo = timezone.utc) -> Labelled:
    rejected: list[tuple[str, str]] = []
    events = []
    for kind in kinds:
        path = release / f"{kind}.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            for n, row in enumerate(csv.DictReader(f), 2):
                try:
                    [event] = to_events(row | {"kind": kind}, zone)
                except InvalidRecord as bad:
                    rejected.append((f"{path.name}:{n}", bad.reason))
                    continue
                events.append((parse_ts(event["ts"], "ts"), event))
    events.sort(key=lambda pair: pair[0])
    insiders, malicious = _answers(answers, release.name) if answers else ({}, set())
    return Labelled(release.name, [e for _, e in events], insiders, malicious, directory(release / "LDAP", zone),
                    zone=zone, rejected=rejected)


def directory(ldap: Path, zone: tzinfo = timezone.utc) -> list[dict]:
    """Each user's latest LDAP entry; ``leaving`` the first day of the month after the last file that lists them."""
    months = sorted(ldap.glob("*.csv"))
    latest: dict[str, tuple[int, dict]] = {}
    for index, path in enumerate(months):
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f):
                if row.get("user_id"):
                    latest[row["user_id"]] = (index, row)
    entries = []
    for user, (index, row) in sorted(latest.items()):
        entry = {"user": user, "role": row.get("role", ""), "team": row.get("team") or row.get("department") or "",
                 "department": row.get("department", ""), "manager": row.get("supervisor", ""), "email": row.get("email", ""),
                 "privileged": row.get("role") == "ITAdmin"}
        if index < len(months) - 1:  # gone from the next month's file: left during that month
            year, month = (int(p) for p in months[index + 1].stem.split("-")[:2])
            entry["leaving"] = date(year, month, 1).isoformat()
        entries.append(entry)
    return entries


def _answers(answers: Path, release: str) -> tuple[dict[str, str], set[str]]:
    """Insiders (user → scenario) of `release` (``r4.2`` → dataset ``4.2``) and the ids of their malicious rows."""
    dataset = release.lstrip("r")
    insiders, malicious = {}, set()
    with open(answers / "insiders.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row.get("dataset", dataset).strip() not in (dataset, release):
                continue
            insiders[row["user"]] = f"scenario {row['scenario']}"
            for path in answers.glob(f"*/{row['details']}"):
                with open(path, newline="", encoding="utf-8", errors="replace") as rows:
                    malicious |= {line[1] for line in csv.reader(rows) if len(line) > 1}
    return insiders, malicious
