-- Users who touched customer records with no ticket of that customer assigned to them, most first.
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
-- param limit UInt32 = 50
SELECT
    user,
    count() AS touches,
    uniqExact(record_id) AS customers,
    min(ts) AS first,
    max(ts) AS last
FROM ${db}.scored_events
WHERE unjustified = 1 AND ts >= {since:DateTime64(3)} AND ts < {until:DateTime64(3)}
GROUP BY user
ORDER BY customers DESC, user
LIMIT {limit:UInt32}
