-- Every scored access event: partitioned by day, ordered for per-user questions.
-- ReplacingMergeTree on the full sort key is the second line of defence against
-- redelivery; the sink's own check against stored event ids is the first.
CREATE TABLE IF NOT EXISTS ${db}.scored_events${local} ${on_cluster}
(
    event_id      String CODEC(ZSTD(1)),
    ts            DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    user          LowCardinality(String),
    action        LowCardinality(String),
    outcome       LowCardinality(String),
    resource      LowCardinality(String),
    record_id     String CODEC(ZSTD(1)),
    records       UInt32 CODEC(T64, ZSTD(1)),
    bytes         Nullable(UInt64) CODEC(T64, ZSTD(1)),
    ticket_id     String CODEC(ZSTD(1)),
    unjustified   UInt8,
    src_ip        String CODEC(ZSTD(1)),
    device        LowCardinality(String),
    app           LowCardinality(String),
    geo           LowCardinality(String),
    attrs         String CODEC(ZSTD(3)),
    score         Float64 CODEC(Gorilla, ZSTD(1)),
    risk          Float64 CODEC(Gorilla, ZSTD(1)),
    band          LowCardinality(String),
    signals       Array(LowCardinality(String)),
    reasons       Array(String) CODEC(ZSTD(3)),
    user_events   UInt32 CODEC(T64, ZSTD(1)),
    src_partition UInt16,
    src_offset    UInt64 CODEC(Delta, ZSTD(1)),
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_record record_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_ip src_ip TYPE bloom_filter GRANULARITY 4
)
ENGINE = ${replicated}ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (user, ts, event_id)
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY;

-- @distributed scored_events cityHash64(user)
