"""Alerts as SOC tools read them: OCSF checked by an independent implementation of the schema version it names."""

from __future__ import annotations

import py_ocsf_models
import pytest
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from pydantic import ValidationError

from streams.records import AlertRecord
from streams.worker.findings import FORMATS, OCSF_VERSION, as_ecs, as_ocsf

ALERT = AlertRecord(alert_id="agent0021-night-7:critical", ts=1793610900.25, user="agent0021", band="critical",
                    previous="high", risk=83.4, families=["unjustified", "time", "exfil"],
                    reasons=["touched 31 customers with no ticket of theirs today (C1, C2, C3, …)",
                             "active on Mon at 02:00 UTC, an hour that holds 0.2% of this user's active hours",
                             "moved 250 records out today by record.export, usually 0"],
                    techniques=["T1213 Data from Information Repositories", "T1567 Exfiltration Over Web Service"],
                    event_id="agent0021-night-7")


@pytest.mark.parametrize("band", ["medium", "high", "critical"])
def test_the_ocsf_finding_is_a_valid_detection_finding_of_the_version_it_names(band):
    finding = as_ocsf(AlertRecord(**ALERT.to_dict() | {"band": band}))
    assert finding["metadata"]["version"] == OCSF_VERSION == py_ocsf_models.OCSF_VERSION
    parsed = DetectionFinding(**finding)  # required fields, enumerations and types of OCSF 1.5.0
    assert (parsed.class_uid, parsed.type_uid, parsed.activity_id) == (2004, 200401, 1)
    assert parsed.finding_info.uid == ALERT.alert_id and parsed.severity_id == {"medium": 3, "high": 4, "critical": 5}[band]
    assert [a["technique"]["uid"] for a in finding["finding_info"]["attacks"]] == ["T1213", "T1567"]
    assert finding["observables"][0]["value"] == "agent0021" and finding["time"] == 1793610900250


def test_a_finding_missing_what_ocsf_requires_is_refused_by_the_same_check():
    finding = as_ocsf(ALERT)
    del finding["finding_info"]["uid"]
    with pytest.raises(ValidationError, match="finding_info.uid"):
        DetectionFinding(**finding)


def test_the_ecs_alert_reads_as_elastic_alerts_do():
    doc = as_ecs(ALERT)
    assert doc["@timestamp"] == "2026-11-02T09:15:00.250+00:00"
    assert (doc["event"]["kind"], doc["event"]["severity"], doc["user"]["name"]) == ("alert", 99, "agent0021")
    assert doc["threat"]["technique"]["id"] == ["T1213", "T1567"]


def test_vigils_own_format_is_the_alert_record():
    assert FORMATS["vigil"](ALERT) == ALERT.to_dict()
