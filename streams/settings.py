"""All of Vigil's configuration in one object: environment (``VIGIL_…``) over an optional TOML file."""

from __future__ import annotations

import importlib.resources
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from models import DetectorConfig

#: Migrations, saved queries and the broker's config: package data, found wherever Vigil is installed.
INFRA_DIR = Path(str(importlib.resources.files("infra")))


def _config_file() -> Path:
    return Path(os.environ.get("VIGIL_CONFIG", "vigil.toml"))


class Settings(BaseSettings):
    """Vigil's settings. Every field can be set as ``VIGIL_<NAME>`` or in ``vigil.toml``."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="forbid", validate_default=True)

    data_dir: Path = Field(Path(".vigil"), description="Worker state, the embedded ClickHouse and the local broker's logs.")
    # Kafka
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, host:port[,host:port].")
    kafka_controller_port: int = Field(9093, description="KRaft controller port of the local broker.")
    kafka_cache: Path = Field(Path.home() / ".cache" / "vigil" / "kafka", description="Where the broker's jars are fetched to.")
    kafka_heap: str = Field("512m", description="Java heap of the local broker.")
    topic_prefix: str = Field("vigil", pattern=r"^[A-Za-z0-9._-]+$", description="Topics are <prefix>.events, <prefix>.scored, …")
    partitions: int = Field(4, ge=1, le=1024, description="Partitions of the event topics; the unit of scale-out.")
    date_zone: str = Field("UTC", description="Time zone of date-only dates (hire and leaving dates, tickets): "
                                              "a date is midnight there.")
    sources: str = Field("", description="Source topics the worker maps into vigil.events, FORMAT:TOPIC[,…], "
                                         "e.g. ecs:logs-ecs,okta:okta-system-log (formats: docs/sources.md).")
    # Worker
    app_id: str = Field("vigil", description="Faust app id: the consumer group and the prefix of its changelogs.")
    web_host: str = Field("127.0.0.1", description="Worker web API bind address.")
    web_port: int = Field(6066, ge=1, le=65535, description="Worker web API port.")
    api_token: SecretStr | None = Field(None, description="Break-glass bearer token of the web API (every role); "
                                        "generated into data_dir when unset. People get keys: `vigil access add`.")
    key: SecretStr | None = Field(None, description="Your own API key (`vigil access add`), for the CLI's calls to "
                                  "the worker; unset: the break-glass token in data_dir.")
    secret_key: SecretStr | None = Field(None, description="Keys the users' pseudonyms and signs dashboard sessions; "
                                         "generated into data_dir when unset. Every worker of a group needs the same.")
    session_hours: float = Field(8.0, gt=0, description="A dashboard sign-in lasts this long.")
    oidc_jwks_url: str | None = Field(None, description="Also accept JWT bearer tokens signed by a key from this JWKS "
                                      "(the identity provider's), for oidc_audience.")
    oidc_audience: str = Field("vigil", description="The audience (aud) an OIDC token must be for.")
    oidc_issuer: str | None = Field(None, description="The issuer (iss) an OIDC token must name; unset: any.")
    oidc_role_claim: str = Field("roles", description="The claim holding the person's Vigil roles.")
    query_concurrency: int = Field(2, ge=1, description="Analysts' queries a worker runs at once; more wait their turn.")
    score_batch: int = Field(1000, ge=1, description="Messages the scoring agent takes at a time (their outputs go out every 500 scored events and at its end).")
    score_batch_seconds: float = Field(0.01, gt=0, description="Longest wait to fill a scoring batch (latency against per-batch cost).")
    detector_cache_users: int = Field(20000, ge=1, description="Users whose detectors a worker keeps decoded in memory (about 7 KB each).")
    max_future_seconds: float = Field(86400.0, gt=0, description="Events dated further ahead of the clock are dead-lettered.")
    store: str = Field("rocksdb://", description="Faust table store: rocksdb:// (rocksdict) or memory://.")
    # ClickHouse
    clickhouse_dsn: SecretStr | None = Field(None, description="chdb://PATH or http(s)://user:pass@host:8123; default chdb://<data_dir>/clickhouse.")
    clickhouse_cluster: str | None = Field(None, description="Cluster name for Replicated/Distributed DDL; unset = one node.")
    retention_days: int = Field(400, ge=1, description="Scored events, alerts and rollups older than this are dropped (TTL).")
    query_max_seconds: float = Field(30.0, gt=0, description="Longest an analyst's query may run.")
    query_max_memory_mb: int = Field(2048, ge=16, description="Most memory one analyst's query may use.")
    query_max_rows_read: int = Field(2_000_000_000, ge=1, description="Most rows one analyst's query may read.")
    query_max_result_rows: int = Field(1_000_000, ge=1, description="Most rows one analyst's query may return.")
    sink_batch_size: int = Field(5000, ge=1, description="Scored events per ClickHouse insert at most.")
    sink_flush_seconds: float = Field(1.0, gt=0, description="Longest wait before a partial batch is written.")
    # Response
    respond_at: str = Field("critical", pattern="^(medium|high|critical)$", description="Alerts at or above this band run the hooks.")
    webhook_url: str | None = Field(None, description="POST each alert here as signed JSON.")
    webhook_secret: SecretStr | None = Field(None, description="HMAC-SHA256 key of the webhook signature.")
    webhook_pseudonyms: bool = Field(True, description="Webhook bodies name users by pseudonym (false: real names).")
    webhook_format: Literal["vigil", "ocsf", "ecs"] = Field("vigil", description="Webhook body: Vigil's alert record, "
                                                            "an OCSF 1.5 Detection Finding, or an ECS alert.")
    findings_topic: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]+$", description="Also write every alert, in "
                                       "findings_format, to this Kafka topic (for a SIEM).")
    findings_format: Literal["vigil", "ocsf", "ecs"] = Field("ocsf", description="Format of findings_topic.")
    scim_url: str | None = Field(None, description="SCIM 2.0 base URL of the identity provider, to deactivate users.")
    scim_token: SecretStr | None = Field(None, description="Bearer token for the SCIM endpoint.")
    dry_run: bool = Field(False, description="Record what the hooks would do, do nothing.")
    never_suspend: list[str] = Field(default_factory=list, description="Break-glass accounts automation never touches.")
    hook_attempts: int = Field(5, ge=1, le=20, description="Tries per hook before the action is dead-lettered.")
    breaker_max: int = Field(10, ge=1, description="More suspensions than this within breaker_minutes stops automation.")
    breaker_minutes: float = Field(10.0, gt=0, description="Window of the circuit breaker.")
    suppress_days: float = Field(7.0, gt=0, description="A benign verdict silences its evidence for this user this long (event time).")
    # Detection
    half_life_hours: float = Field(24.0, gt=0, description="Risk points halve after this much event time.")
    band_thresholds: tuple[float, float, float] = Field((25.0, 50.0, 80.0), description="Risk at which medium, high and critical begin.")
    hysteresis: float = Field(0.8, gt=0, le=1, description="A band is left when risk falls below threshold × hysteresis.")
    family_cap: float = Field(30.0, gt=0, description="Most risk one kind of evidence can add; high takes two kinds.")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, env_settings: PydanticBaseSettingsSource, **_
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_config_file())

    @model_validator(mode="after")
    def _webhooks_are_signed(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("webhook_url needs webhook_secret: Vigil signs every webhook (set VIGIL_WEBHOOK_SECRET)")
        return self

    @field_validator("date_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)") from None
        return name

    @field_validator("sources")
    @classmethod
    def _known_formats(cls, sources: str) -> str:
        from streams.sources.adapters import ADAPTERS

        for item in filter(None, (i.strip() for i in sources.split(","))):
            fmt, _, topic = item.partition(":")
            if fmt not in ADAPTERS or not topic:
                raise ValueError(f"{item!r} is not FORMAT:TOPIC with FORMAT one of {', '.join(ADAPTERS)}")
        return sources

    @field_validator("data_dir", "kafka_cache")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.expanduser().resolve()

    # -- derived ---------------------------------------------------------------
    @property
    def date_tz(self) -> ZoneInfo:
        return ZoneInfo(self.date_zone)

    @property
    def source_topics(self) -> list[tuple[str, str]]:
        """(format, topic) of each source topic in `sources`."""
        return [tuple(i.strip().split(":", 1)) for i in self.sources.split(",") if i.strip()]

    def topic(self, name: str) -> str:
        """Full name of one of Vigil's topics: ``events`` → ``vigil.events``."""
        return f"{self.topic_prefix}.{name}"

    @property
    def dsn(self) -> str:
        if self.clickhouse_dsn is not None:
            return self.clickhouse_dsn.get_secret_value()
        return f"chdb://{self.data_dir / 'clickhouse'}"

    @property
    def embedded_clickhouse(self) -> bool:
        return self.dsn.startswith("chdb:")

    @cached_property
    def detector(self) -> DetectorConfig:
        return DetectorConfig(self.half_life_hours, self.band_thresholds, self.hysteresis, self.family_cap)

    @property
    def web_url(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"

    @property
    def token_file(self) -> Path:
        return self.data_dir / "api-token"

    def masked(self) -> dict[str, str]:
        """Every setting as text, secrets masked: safe to print and to log."""
        shown = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "clickhouse_dsn":
                value = _mask_url(self.dsn)
            elif isinstance(value, SecretStr):
                value = "********"
            shown[name] = "" if value is None else str(value)
        return shown


def api_token(settings: Settings) -> str:
    """The web API's break-glass token: from settings, or generated once into data_dir (mode 0600)."""
    if settings.api_token is not None:
        return settings.api_token.get_secret_value()
    return _generated(settings.token_file)


def secret_key(settings: Settings) -> bytes:
    """The key of pseudonyms and sessions: from settings, or generated once into data_dir (mode 0600)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    return _generated(settings.data_dir / "secret-key").encode()


def _generated(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(value)
    return value


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"{parts.username}:********@{host}"))
