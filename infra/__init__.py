"""Vigil's run-time data, shipped inside the package: ClickHouse DDL and saved queries, the local broker's config.

`streams.settings.INFRA_DIR` finds this folder wherever Vigil is installed
(a source checkout, an editable install or a wheel), never relative to the
working directory. Deployment files (`deploy/`, `grafana/`) live beside them.
"""
