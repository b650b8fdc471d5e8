-- Every scored access event. ReplacingMergeTree on the full sort key is the
-- second line of defence against redelivery; the sink's own check is the first.
CREATE TABLE IF NOT EXISTS {db}.scored_events
(
    event_id    String,
    ts          DateTime64(3, 'UTC'),
    user        LowCardinality(String),
    action      LowCardinality(String),
    outcome     LowCardinality(String),
    resource    LowCardinality(String),
    record_id   String,
    records     UInt32,
    bytes       Nullable(UInt64),
    ticket_id   String,
    src_ip      String,
    device      LowCardinality(String),
    app         LowCardinality(String),
    geo         LowCardinality(String),
    attrs       String CODEC(ZSTD(3)),
    score       Float64,
    risk        Float64,
    band        LowCardinality(String),
    signals     Array(String),
    reasons     Array(String),
    user_events UInt32,
    src_partition UInt16,
    src_offset  UInt64,
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_record record_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (user, ts, event_id);
