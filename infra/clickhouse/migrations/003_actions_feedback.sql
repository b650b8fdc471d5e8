-- What automation did about alerts (requested, succeeded, failed, skipped and why).
CREATE TABLE IF NOT EXISTS ${db}.actions${local} ${on_cluster}
(
    action_id String,
    ts        DateTime64(3, 'UTC'),
    alert_id  String,
    user      LowCardinality(String),
    hook      LowCardinality(String),
    status    LowCardinality(String),
    detail    String,
    attempt   UInt16
)
ENGINE = ${replicated}ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (user, ts, action_id, status);

-- @distributed actions cityHash64(user)

-- What analysts concluded about alerts.
CREATE TABLE IF NOT EXISTS ${db}.feedback${local} ${on_cluster}
(
    feedback_id String,
    ts          DateTime64(3, 'UTC'),
    alert_id    String,
    user        LowCardinality(String),
    verdict     LowCardinality(String),
    analyst     String,
    note        String
)
ENGINE = ${replicated}ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (user, ts, feedback_id);

-- @distributed feedback cityHash64(user)
