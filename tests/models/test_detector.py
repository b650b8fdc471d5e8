"""UserDetector and its parts, as specifications of what an analyst sees."""

from __future__ import annotations

import pytest

from models import AccessEvent, DetectorConfig, UserDetector
from models.risk import DecayingRisk, RiskBands
from models.rhythm import WeeklyRhythm
from models.volume import HourlyVolume

MONDAY = 1793577600  # 2026-11-02 00:00 UTC


def workday_events(user="ann", days=10, per_hour=4, start_hour=9, hours=8):
    n = 0
    for day in range(days):
        for h in range(start_hour, start_hour + hours):
            for i in range(per_hour):
                n += 1
                yield AccessEvent(f"{user}-{n}", MONDAY + day * 86400 + h * 3600 + i * 600, user, "record.view",
                                  device="laptop-1", src_ip="10.0.0.1", resource="crm.customers", record_id=f"C{n}")


def trained(days=10) -> UserDetector:
    detector = UserDetector(DetectorConfig())
    for e in workday_events(days=days):
        detector.observe(e)
    return detector


def night_reads(start_day=10, count=60, user="ann"):
    base = MONDAY + start_day * 86400 + 2 * 3600
    return [AccessEvent(f"night-{i}", base + i * 40, user, "record.view", device="laptop-1", src_ip="10.0.0.1",
                        resource="crm.customers", record_id=f"X{i}") for i in range(count)]


def test_a_regular_working_pattern_raises_no_risk():
    detector = trained()
    assert detector.risk.value == 0
    assert detector.bands.band == "low"


def test_night_harvest_raises_an_alert_with_reasons_in_words():
    detector = trained()
    assessments = [detector.observe(e) for e in night_reads()]
    alerts = [a.alert for a in assessments if a.alert]
    assert alerts, "a night burst of 60 record reads should alert"
    assert alerts[-1].band in ("high", "critical")
    text = " ".join(alerts[-1].reasons)
    assert "records within one hour" in text and "02:00 UTC" in text


def test_state_round_trip_gives_the_same_judgement():
    a, b = trained(), trained()
    b = UserDetector(DetectorConfig(), b.state())
    for e in night_reads():
        ra, rb = a.observe(e), b.observe(e)
        assert (ra.score, ra.risk, ra.band) == (rb.score, rb.risk, rb.band)


def test_state_is_compact_json():
    import json

    size = len(json.dumps(trained(days=30).state()))
    assert size < 4096


def test_new_device_after_warmup_is_a_signal_but_not_during_warmup():
    detector = UserDetector(DetectorConfig())
    first = detector.observe(AccessEvent("e0", MONDAY, "ann", "login", device="pc-1"))
    assert first.signals == []
    for e in workday_events(days=2):
        detector.observe(e)
    new = detector.observe(AccessEvent("z", MONDAY + 3 * 86400 + 10 * 3600, "ann", "login", device="pc-99"))
    assert [s.name for s in new.signals] == ["first_seen.device"]


def test_risk_decays_with_event_time_half_life():
    risk = DecayingRisk(half_life=24 * 3600)
    risk.update(60, ts=0)
    assert risk.get(ts=24 * 3600) == pytest.approx(30)
    assert risk.get(ts=-5) == 60  # an older event never makes risk grow


def test_bands_do_not_flap_at_a_boundary():
    bands = RiskBands((25, 50, 80), hysteresis=0.8)
    crossings = [bands.update(r) for r in (26, 24, 26, 24, 26)]
    assert crossings == ["medium"] * 5


@pytest.mark.parametrize("bad", [dict(warmup=1), dict(warmup=10, memory=5)])
def test_volume_rejects_bad_parameters(bad):
    with pytest.raises(ValueError):
        HourlyVolume(**bad)


def test_rhythm_rejects_bad_floors():
    with pytest.raises(ValueError, match="shares"):
        WeeklyRhythm(day_floor=2)


def test_config_validates_bands():
    with pytest.raises(ValueError, match="ascending"):
        DetectorConfig(band_thresholds=(50, 25, 80))
