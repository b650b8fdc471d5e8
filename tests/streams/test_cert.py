"""The CERT Insider Threat Test Dataset's layout, replayed by `vigil eval --format cert`: a small release of it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from streams.contract import InvalidRecord
from streams.ops.cert import from_cert
from streams.sources.adapters.cert import to_events

USERS = ("ACM2278", "CMP2946", "BDV0168")


@pytest.fixture
def release(tmp_path):
    """r4.2's files for three users over January and February 2010; ACM2278 leaves at the end of January."""
    root = tmp_path / "r4.2"
    (root / "LDAP").mkdir(parents=True)
    header = "employee_name,user_id,email,role,business_unit,functional_unit,department,team,supervisor\n"
    rows = {u: f"Name {u},{u},{u}@dtaa.com,{'ITAdmin' if u == 'BDV0168' else 'Salesman'},1,Sales,Sales,Team 1,Boss\n"
            for u in USERS}
    (root / "LDAP" / "2010-01.csv").write_text(header + "".join(rows.values()))
    (root / "LDAP" / "2010-02.csv").write_text(header + rows["CMP2946"] + rows["BDV0168"])
    logon, device, files = ["id,date,user,pc,activity"], ["id,date,user,pc,activity"], ["id,date,user,pc,filename,content"]
    day = datetime(2010, 1, 4, 8, 0)
    for n in range(20):  # four weeks of working days
        at = day + timedelta(days=n + 2 * (n // 5))
        for i, user in enumerate(USERS):
            logon.append(f"{{L{n}-{i}}},{at + timedelta(minutes=i):%m/%d/%Y %H:%M:%S},DTAA/{user},PC-{i},Logon")
            logon.append(f"{{O{n}-{i}}},{at + timedelta(hours=9, minutes=i):%m/%d/%Y %H:%M:%S},DTAA/{user},PC-{i},Logoff")
    night = datetime(2010, 1, 28, 2, 10)  # the insider: a first-ever night, a first-ever USB, files copied
    logon.append(f"{{BAD-1}},{night:%m/%d/%Y %H:%M:%S},DTAA/ACM2278,PC-0,Logon")
    device.append(f"{{BAD-2}},{night + timedelta(minutes=3):%m/%d/%Y %H:%M:%S},DTAA/ACM2278,PC-0,Connect")
    files += [f"{{BAD-F{k}}},{night + timedelta(minutes=5 + k):%m/%d/%Y %H:%M:%S},DTAA/ACM2278,PC-0,"
              f"R:\\customers-{k}.xls,wikileaks customer list" for k in range(6)]
    logon.append("{BROKEN},2010-01-29 09:00:00,DTAA/CMP2946,PC-1,Logon")  # not the CERT date format
    logon[1:] = sorted(logon[1:])  # ordered by id, not by time: the replay must order them
    for name, lines in (("logon", logon), ("device", device), ("file", files)):
        (root / f"{name}.csv").write_text("\n".join(lines) + "\n")
    answers = tmp_path / "answers"
    (answers / "r4.2-2").mkdir(parents=True)
    (answers / "insiders.csv").write_text("dataset,scenario,details,user,start,end\n"
                                          "4.2,2,r4.2-2-ACM2278.csv,ACM2278,01/28/2010 02:10:00,01/28/2010 02:20:00\n"
                                          "5.2,1,r5.2-1-ZZZ0000.csv,ZZZ0000,01/01/2010 00:00:00,01/02/2010 00:00:00\n")
    (answers / "r4.2-2" / "r4.2-2-ACM2278.csv").write_text(
        "logon,{BAD-1},01/28/2010 02:10:00,DTAA/ACM2278,PC-0,Logon\n"
        "device,{BAD-2},01/28/2010 02:13:00,DTAA/ACM2278,PC-0,Connect\n")
    return root, answers


def test_a_release_becomes_a_labelled_set_in_event_time_order(release):
    root, answers = release
    data = from_cert(root, answers)
    times = [e["ts"] for e in data.events]
    assert times == sorted(times) and len(data.events) == 120 + 1 + 1 + 6
    assert data.insiders == {"ACM2278": "scenario 2"} and data.malicious == {"{BAD-1}", "{BAD-2}"}
    assert data.rejected == [("logon.csv:3", "CERT 'date' '2010-01-29 09:00:00' is not MM/DD/YYYY HH:MM:SS")]
    people = {d["user"]: d for d in data.directory}
    assert people["ACM2278"]["leaving"] == "2010-02-01" and "leaving" not in people["CMP2946"]
    assert people["BDV0168"]["privileged"] and people["CMP2946"]["team"] == "Team 1"


def test_rows_that_are_not_the_datasets_are_refused_by_name():
    with pytest.raises(InvalidRecord, match="device.csv activity 'Plugged'"):
        to_events({"kind": "device", "id": "x", "date": "01/04/2010 07:51:43", "user": "DTAA/A", "activity": "Plugged"})
    with pytest.raises(InvalidRecord, match="unknown file 'printer'"):
        to_events({"kind": "printer", "id": "x", "date": "01/04/2010 07:51:43", "user": "DTAA/A"})


def test_vigil_eval_scores_a_release_against_its_answer_key(release, tmp_path):
    root, answers = release
    done = subprocess.run([sys.executable, "-m", "streams.ops.cli", "eval", "--format", "cert", "--events", str(root),
                           "--truth", str(answers), "--partitions", "1", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "left out logon.csv:3" in done.stdout and "Traceback" not in done.stdout + done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [s["scenario"] for s in report["scenarios"]] == ["scenario 2"] and report["events"] == 128
