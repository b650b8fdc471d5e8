-- Risk-band crossings, one row per alert; alert_id is deterministic so redelivery replaces.
CREATE TABLE IF NOT EXISTS {db}.alerts
(
    alert_id  String,
    ts        DateTime64(3, 'UTC'),
    user      LowCardinality(String),
    band      LowCardinality(String),
    previous  LowCardinality(String),
    risk      Float64,
    reasons   Array(String),
    techniques Array(String),
    event_id  String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (user, ts, alert_id);
