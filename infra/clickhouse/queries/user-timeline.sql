-- One user's events in order, with what the models made of each.
-- param user String
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
-- param limit UInt32 = 1000
SELECT ts, action, resource, record_id, records, ticket_id, src_ip, device, score, round(risk, 1) AS risk, band, reasons
FROM ${db}.scored_events
WHERE user = {user:String} AND ts >= {since:DateTime64(3)} AND ts < {until:DateTime64(3)}
ORDER BY ts
LIMIT {limit:UInt32}
