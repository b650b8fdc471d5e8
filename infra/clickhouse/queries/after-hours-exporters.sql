-- Users who moved data out at hours they rarely work (their own rhythm, from the hourly rollup).
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
-- param floor Float64 = 0.02
WITH
    rhythm AS
    (
        SELECT user, toHour(hour) AS hour_of_day, uniqExact(hour) AS active_hours
        FROM ${db}.user_hourly
        WHERE hour >= toStartOfHour({since:DateTime64(3)}) AND hour < {until:DateTime64(3)}
        GROUP BY user, hour_of_day
    ),
    totals AS (SELECT user, sum(active_hours) AS total FROM rhythm GROUP BY user)
SELECT
    e.user AS user,
    count() AS exports,
    sum(e.records) AS records,
    min(e.ts) AS first,
    max(e.ts) AS last,
    arraySort(groupUniqArray(toHour(e.ts))) AS hours_utc
FROM ${db}.scored_events AS e
INNER JOIN rhythm AS r ON r.user = e.user AND r.hour_of_day = toHour(e.ts)
INNER JOIN totals AS t ON t.user = e.user
WHERE e.action IN ('record.export', 'file.download', 'file.print', 'usb.connect', 'email.send')
  AND e.ts >= {since:DateTime64(3)} AND e.ts < {until:DateTime64(3)}
  AND r.active_hours / t.total < {floor:Float64}
GROUP BY e.user
ORDER BY records DESC, user
