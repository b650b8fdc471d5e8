-- IP addresses each user was seen on for the first time ever, by the day it happened.
-- param since DateTime64(3) = 2000-01-01
-- param until DateTime64(3) = 2100-01-01
SELECT toDate(first_seen) AS day, user, src_ip, first_seen
FROM
(
    SELECT user, src_ip, min(ts) AS first_seen
    FROM ${db}.scored_events
    WHERE src_ip != ''
    GROUP BY user, src_ip
)
WHERE first_seen >= {since:DateTime64(3)} AND first_seen < {until:DateTime64(3)}
ORDER BY first_seen, user
