"""Analysts' verdicts on alerts: the same record from the CLI, the API and the dashboard."""

from __future__ import annotations

import time
import uuid

from streams.errors import VigilError
from streams.records import FeedbackRecord

VERDICTS = ("benign", "malicious", "clear")
FIND_ALERT = ("SELECT user, families, toFloat64(toUnixTimestamp64Milli(ts)) / 1000 AS ts FROM vigil.alerts "
              "WHERE alert_id = {alert_id:String} LIMIT 1")


class FeedbackError(VigilError, ValueError):
    pass


def verdict_record(alert_id: str, alert_rows: list, verdict: str, analyst: str, note: str) -> dict:
    """The message for vigil.feedback, from the alert's row (user, families, ts) as FIND_ALERT returns it."""
    if verdict not in VERDICTS:
        raise FeedbackError(f"verdict must be one of {', '.join(VERDICTS)}; got {verdict!r}")
    if not alert_rows:
        raise FeedbackError(f"no alert {alert_id!r}; `vigil query \"SELECT alert_id, user, band FROM vigil.alerts\"` lists them")
    user, families, alert_ts = alert_rows[0]
    return FeedbackRecord(feedback_id=uuid.uuid4().hex, ts=time.time(), alert_id=alert_id, user=user, verdict=verdict,
                          analyst=analyst, note=note[:2000], families=list(families), alert_ts=alert_ts).to_dict()
