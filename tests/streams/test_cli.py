"""The CLI says what went wrong and how to fix it, in one line, with exit code 2."""

from __future__ import annotations

from typer.testing import CliRunner

from streams.ops.cli import app

runner = CliRunner()


def test_config_masks_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIGIL_API_TOKEN", "hunter2")
    result = runner.invoke(app, ["config"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "VIGIL_API_TOKEN" in result.output and "hunter2" not in result.output


def test_invalid_setting_is_named(monkeypatch):
    monkeypatch.setenv("VIGIL_PARTITIONS", "zero")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2
    assert "invalid settings" in result.output and "partitions" in result.output


def test_query_refusal_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["query", "DROP TABLE system.one"])
    assert result.exit_code == 2
    assert "read-only" in result.output
    result = runner.invoke(app, ["query", "SELECT count() FROM vigil.scored_events"])
    assert result.exit_code == 2
    assert "no Vigil tables yet" in result.output


def test_query_on_embedded_store_without_worker(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["query", "SELECT 40 + 2 AS answer", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["answer", "42"]
