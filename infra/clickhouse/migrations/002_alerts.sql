-- Risk-band crossings, one row per alert; alert_id is deterministic, so redelivery replaces.
CREATE TABLE IF NOT EXISTS ${db}.alerts${local} ${on_cluster}
(
    alert_id   String,
    ts         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    user       LowCardinality(String),
    band       LowCardinality(String),
    previous   LowCardinality(String),
    risk       Float64,
    reasons    Array(String),
    techniques Array(LowCardinality(String)),
    event_id   String
)
ENGINE = ${replicated}ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (user, ts, alert_id)
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY;

-- @distributed alerts cityHash64(user)
