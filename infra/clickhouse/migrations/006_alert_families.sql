-- The evidence families behind an alert, so a verdict on it can silence exactly them.
ALTER TABLE ${db}.alerts${local} ${on_cluster} ADD COLUMN IF NOT EXISTS families Array(LowCardinality(String)) AFTER techniques;

-- On a cluster the Distributed table needs the column too (on one node this repeats the statement above).
ALTER TABLE ${db}.alerts ${on_cluster} ADD COLUMN IF NOT EXISTS families Array(LowCardinality(String)) AFTER techniques;
