-- The riskiest users in a window: peak risk, flagged events, alerts, and the reasons of their latest alert.
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
-- param limit UInt32 = 20
SELECT
    h.user AS user,
    round(max(h.peak_risk), 1) AS peak_risk,
    sum(h.flagged) AS flagged_events,
    sum(h.events) AS events,
    any(a.alerts) AS alerts,
    any(a.reasons) AS latest_reasons
FROM ${db}.user_hourly AS h
LEFT JOIN
(
    SELECT user, count() AS alerts, argMax(reasons, ts) AS reasons
    FROM ${db}.alerts
    WHERE ts >= {since:DateTime64(3)} AND ts < {until:DateTime64(3)}
    GROUP BY user
) AS a ON a.user = h.user
WHERE h.hour >= toStartOfHour({since:DateTime64(3)}) AND h.hour < {until:DateTime64(3)}
GROUP BY h.user
ORDER BY peak_risk DESC, user
LIMIT {limit:UInt32}
