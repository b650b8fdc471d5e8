-- Users whose distinct customers per active day grew week over week by at least `factor` (weeks start on Monday,
-- UTC; per active day, so a short first week or a holiday does not count as growth).
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
-- param factor Float64 = 2.0
-- param min_customers UInt32 = 20
SELECT user, week, customers, days, round(per_day / previous_per_day, 2) AS growth
FROM
(
    SELECT
        user, week, customers, days, customers / days AS per_day,
        lagInFrame(customers / days) OVER (PARTITION BY user ORDER BY week ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
            AS previous_per_day
    FROM
    (
        SELECT user, toMonday(hour) AS week, uniqMerge(customers) AS customers, uniqExact(toDate(hour)) AS days
        FROM ${db}.user_hourly
        WHERE hour >= toStartOfHour({since:DateTime64(3)}) AND hour < {until:DateTime64(3)}
        GROUP BY user, week
    )
)
WHERE previous_per_day > 0 AND customers >= {min_customers:UInt32} AND per_day >= {factor:Float64} * previous_per_day
ORDER BY growth DESC, user
