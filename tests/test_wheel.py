"""Vigil installed as a package would install it: a wheel in a fresh venv, run outside the checkout.

Everything the code reads at run time (migrations, saved queries, the broker's
config, the dashboard) must ship inside the wheel; an install that lost them
once said "schema up to date" and created nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[1]


def run(*command, cwd: Path, env: dict | None = None, timeout: float = 600) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The `vigil` command of a wheel built from this checkout, installed into a venv of its own."""
    home = tmp_path_factory.mktemp("wheel")
    source = home / "source"  # a copy: setuptools builds in the source tree and would leave build/ in the checkout
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "test-artifacts", "eval-results"))
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", home / "dist", source, cwd=home)
    [wheel] = (home / "dist").glob("vigil_ueba-*.whl")
    run(sys.executable, "-m", "venv", home / "venv", cwd=home)
    run(home / "venv" / "bin" / "pip", "install", "--quiet", wheel, cwd=home, timeout=1200)
    return home / "venv" / "bin" / "vigil"


@pytest.fixture
def elsewhere(tmp_path) -> tuple[Path, dict]:
    """A working directory far from the checkout, and an environment that knows nothing of it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "PYTHON"))}
    return tmp_path, env | {"VIGIL_DATA_DIR": str(tmp_path / "data")}


def test_the_wheel_carries_its_run_time_data(installed):
    files = run(installed.parent / "python", "-c",
                "import importlib.metadata as m; print('\\n'.join(str(f) for f in m.files('vigil-ueba')))",
                cwd=installed.parent)
    for expected in ("infra/clickhouse/migrations/001_scored_events.sql", "infra/clickhouse/queries/riskiest-users.sql",
                     "infra/kafka/server.properties", "infra/kafka/pom.xml", "streams/worker/dashboard/dashboard.js"):
        assert expected in files


def test_migrate_list_and_eval_from_an_installed_wheel(installed, elsewhere):
    cwd, env = elsewhere
    migrated = run(installed, "db", "migrate", cwd=cwd, env=env)
    assert "001_scored_events.sql" in migrated and "up to date" not in migrated
    assert "up to date" in run(installed, "db", "migrate", cwd=cwd, env=env)
    listed = run(installed, "query", "--list", cwd=cwd, env=env)
    assert "riskiest-users" in listed and "customer-accessors" in listed
    evaluated = run(installed, "eval", "--seeds", "1", "--users", "40", "--days", "4", "--jobs", "1", "--out",
                    cwd / "eval", cwd=cwd, env=env)
    assert "false alerts" in evaluated and (cwd / "eval" / "report.json").exists()
