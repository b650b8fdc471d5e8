-- Users whose distinct customers grew week over week by at least `factor` (weeks start on Monday, UTC).
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
-- param factor Float64 = 2.0
-- param min_customers UInt32 = 20
SELECT user, week, customers, previous, round(customers / previous, 2) AS growth
FROM
(
    SELECT
        user, week, customers,
        lagInFrame(customers) OVER (PARTITION BY user ORDER BY week ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous
    FROM
    (
        SELECT user, toMonday(hour) AS week, uniqMerge(customers) AS customers
        FROM ${db}.user_hourly
        WHERE hour >= toStartOfHour({since:DateTime64(3)}) AND hour < {until:DateTime64(3)}
        GROUP BY user, week
    )
)
WHERE previous > 0 AND customers >= {min_customers:UInt32} AND customers >= {factor:Float64} * previous
ORDER BY growth DESC, user
