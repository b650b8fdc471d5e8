-- Customer → who touched their record, when and how: "whose data did they touch?"
-- and "who touched customer X?" both read a prefix of this order.
CREATE TABLE IF NOT EXISTS ${db}.customer_access${local} ${on_cluster}
(
    record_id   String,
    ts          DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    user        LowCardinality(String),
    action      LowCardinality(String),
    resource    LowCardinality(String),
    ticket_id   String,
    unjustified UInt8,
    event_id    String
)
ENGINE = ${replicated}ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (record_id, ts, user, event_id)
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.customer_access_mv${local} ${on_cluster}
TO ${db}.customer_access${local} AS
SELECT record_id, ts, user, action, resource, ticket_id, unjustified, event_id
FROM ${db}.scored_events${local}
WHERE record_id != '';

-- @distributed customer_access cityHash64(record_id)
