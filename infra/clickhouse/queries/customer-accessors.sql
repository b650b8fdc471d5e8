-- Who touched customer X: every user who touched their record, how, when first and last, and whether a ticket covered it.
-- param customer String
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
SELECT
    user,
    count() AS times,
    groupUniqArray(action) AS how,
    min(ts) AS first,
    max(ts) AS last,
    countIf(unjustified = 1) AS without_ticket,
    groupUniqArrayIf(ticket_id, ticket_id != '') AS tickets
FROM ${db}.customer_access
WHERE record_id = {customer:String} AND ts >= {since:DateTime64(3)} AND ts < {until:DateTime64(3)}
GROUP BY user
ORDER BY first
