-- Every customer whose record a user touched: how (views, updates, searches, exports), when first and last,
-- how many times, and how often without a ticket. The breach report's notification list.
-- param user String
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
SELECT
    record_id AS customer,
    countIf(action = 'record.view') AS views,
    countIf(action = 'record.update') AS updates,
    countIf(action = 'record.search') AS searches,
    countIf(action IN ('record.export', 'file.download', 'file.print', 'email.send')) AS exports,
    count() AS times,
    min(ts) AS first,
    max(ts) AS last,
    countIf(unjustified = 1) AS without_ticket
FROM ${db}.scored_events
WHERE user = {user:String} AND record_id != '' AND ts >= {since:DateTime64(3)} AND ts < {until:DateTime64(3)}
GROUP BY record_id
ORDER BY first, customer
