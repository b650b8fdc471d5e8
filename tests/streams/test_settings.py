from __future__ import annotations

import pytest
from pydantic import ValidationError

from streams.settings import Settings


def test_environment_overrides_toml(tmp_path, monkeypatch):
    toml = tmp_path / "vigil.toml"
    toml.write_text('partitions = 8\nweb_port = 7000\napi_token = "from-file"\n')
    monkeypatch.setenv("VIGIL_CONFIG", str(toml))
    monkeypatch.setenv("VIGIL_WEB_PORT", "7001")
    s = Settings()
    assert (s.partitions, s.web_port, s.api_token.get_secret_value()) == (8, 7001, "from-file")


def test_secrets_are_masked(monkeypatch):
    monkeypatch.setenv("VIGIL_API_TOKEN", "hunter2")
    monkeypatch.setenv("VIGIL_CLICKHOUSE_DSN", "https://vigil:s3cret@ch.example:8443/vigil")
    shown = Settings().masked()
    assert "hunter2" not in str(shown) and "s3cret" not in str(shown)
    assert shown["clickhouse_dsn"] == "https://vigil:********@ch.example:8443/vigil"


def test_default_store_is_embedded_under_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    s = Settings()
    assert s.dsn == f"chdb://{tmp_path}/clickhouse" and s.embedded_clickhouse


def test_bad_values_are_refused(monkeypatch):
    monkeypatch.setenv("VIGIL_TOPIC_PREFIX", "no spaces")
    with pytest.raises(ValidationError, match="topic_prefix"):
        Settings()


def test_a_date_zone_must_be_a_real_one_and_sources_must_name_known_formats():
    assert Settings(date_zone="Europe/Berlin").date_tz.key == "Europe/Berlin"
    with pytest.raises(ValidationError, match="'Mars/Olympus' is not an IANA time zone"):
        Settings(date_zone="Mars/Olympus")
    assert Settings(sources="ecs:logs-ecs, okta:okta-log").source_topics == [("ecs", "logs-ecs"), ("okta", "okta-log")]
    with pytest.raises(ValidationError, match="'syslog:logs' is not FORMAT:TOPIC with FORMAT one of ecs, ocsf"):
        Settings(sources="syslog:logs")
