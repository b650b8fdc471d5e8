-- Hourly per-user rollup, kept up to date by a materialized view: trends over
-- months without scanning every event.
CREATE TABLE IF NOT EXISTS ${db}.user_hourly${local} ${on_cluster}
(
    user      LowCardinality(String),
    hour      DateTime('UTC'),
    events    SimpleAggregateFunction(sum, UInt64),
    records   SimpleAggregateFunction(sum, UInt64),
    exported  SimpleAggregateFunction(sum, UInt64),
    unjustified SimpleAggregateFunction(sum, UInt64),
    flagged   SimpleAggregateFunction(sum, UInt64),
    peak_risk SimpleAggregateFunction(max, Float64),
    customers AggregateFunction(uniq, String)
)
ENGINE = ${replicated}AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (user, hour)
TTL hour + INTERVAL ${retention_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.user_hourly_mv${local} ${on_cluster}
TO ${db}.user_hourly${local} AS
SELECT
    e.user AS user,
    toStartOfHour(e.ts) AS hour,
    count() AS events,
    -- Source columns are qualified: an alias such as `records` would otherwise shadow them.
    sumIf(e.records, e.action IN ('record.view', 'record.search', 'record.update')) AS records,
    sumIf(e.records, e.action IN ('record.export', 'file.download', 'file.print', 'usb.connect', 'email.send')) AS exported,
    countIf(e.unjustified = 1) AS unjustified,
    countIf(e.score > 0) AS flagged,
    max(e.risk) AS peak_risk,
    uniqStateIf(e.record_id, e.record_id != '') AS customers
FROM ${db}.scored_events${local} AS e
GROUP BY user, hour;

-- @distributed user_hourly cityHash64(user)
