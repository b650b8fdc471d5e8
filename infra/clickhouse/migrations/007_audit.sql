-- The audit trail: every reveal, query, report, verdict, approval, reinstatement, automation pause and key
-- change. No TTL: it outlives the data it speaks of. The query path is read-only and cannot change it.
CREATE TABLE IF NOT EXISTS ${db}.audit${local} ${on_cluster}
(
    audit_id String,
    ts       DateTime64(3, 'UTC'),
    who      LowCardinality(String),
    roles    Array(LowCardinality(String)),
    action   LowCardinality(String),
    subject  String,
    reason   String,
    outcome  LowCardinality(String),
    detail   String
)
ENGINE = ${replicated}ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, who, audit_id);

-- @distributed audit cityHash64(who)
