-- A user's searches and exports that name no single customer: records moved that no notification list can itemise.
-- param user String
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
SELECT action, resource, count() AS times, sum(records) AS records_moved, min(ts) AS first, max(ts) AS last
FROM ${db}.scored_events
WHERE user = {user:String} AND record_id = '' AND records > 1
  AND ts >= {since:DateTime64(3)} AND ts < {until:DateTime64(3)}
GROUP BY action, resource
ORDER BY records_moved DESC
