"""What cannot run here is still checked: the compose stack, the cluster DDL and the Grafana dashboard."""

from __future__ import annotations

import json
import re

import yaml

from streams.settings import INFRA_DIR
from streams.store.schema import Layout, Migration

DEPLOY = INFRA_DIR / "deploy"


def test_compose_file_parses_and_every_mounted_file_exists():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka-1", "kafka-2", "kafka-3", "keeper", "clickhouse-1", "clickhouse-2", "init", "worker", "grafana"} <= set(services)
    mounts = 0
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).resolve().exists(), f"{name} mounts missing {source}"
                mounts += 1
        assert service.get("image") or service.get("build"), name
    assert mounts >= 9
    build = services["init"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).exists()


def test_compose_takes_secrets_from_the_environment_only():
    text = (DEPLOY / "docker-compose.yml").read_text()
    for secret in ("VIGIL_API_TOKEN", "CLICKHOUSE_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert re.search(rf"\$\{{{secret}:\?", text), f"{secret} must come from the environment"


def test_cluster_ddl_renders_replicated_and_distributed_tables():
    layout = Layout(cluster="vigil")
    statements = [s for m in Migration.load_all() for s in layout.render(m.text)]
    creates = [s for s in statements if s.startswith("CREATE TABLE")]
    assert all("ON CLUSTER 'vigil'" in s for s in statements)
    local = [s for s in creates if "_local" in s.split("(")[0] and "Distributed" not in s]
    assert local and all("ENGINE = Replicated" in s for s in local)
    distributed = {re.search(r"vigil\.(\w+) ON CLUSTER", s).group(1) for s in creates if "ENGINE = Distributed" in s}
    assert distributed == {"scored_events", "alerts", "actions", "feedback", "user_hourly", "customer_access", "audit"}
    views = [s for s in statements if s.startswith("CREATE MATERIALIZED VIEW")]
    assert all("_local" in s for s in views)  # each shard's views feed its own local tables


def test_single_node_ddl_has_no_cluster_parts():
    statements = [s for m in Migration.load_all() for s in Layout().render(m.text)]
    assert not any("Replicated" in s or "Distributed" in s or "ON CLUSTER" in s or "${" in s for s in statements)


def test_grafana_dashboard_queries_run_on_the_schema(store):
    dashboard = json.loads((INFRA_DIR / "grafana" / "vigil-dashboard.json").read_text())
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            sql = re.sub(r"\$__timeFilter\((\w+)\)", r"\1 >= now() - INTERVAL 7 DAY", target["rawSql"])
            store.query_readonly(sql)  # raises if a column or table is wrong
