-- How many sessions users play in: users per bucket of sessions (1, 2-3, 4-7, ... 256+). A
-- session is a user's session_id with at least one play.
WITH sessions_of_users AS (
    SELECT
        user_id,
        COUNT(DISTINCT session_id) AS sessions
    FROM songplay
    GROUP BY user_id
),

-- Buckets double in width: each starts at a power of two and ends before the next.
bucketed_users AS (
    SELECT
        CASE
            WHEN sessions < 2 THEN 1
            WHEN sessions < 4 THEN 2
            WHEN sessions < 8 THEN 4
            WHEN sessions < 16 THEN 8
            WHEN sessions < 32 THEN 16
            WHEN sessions < 64 THEN 32
            WHEN sessions < 128 THEN 64
            WHEN sessions < 256 THEN 128
            ELSE 256
        END AS from_sessions
    FROM sessions_of_users
)

SELECT
    from_sessions,
    CASE WHEN from_sessions < 256 THEN 2 * from_sessions - 1 END AS to_sessions,
    COUNT(*) AS users
FROM bucketed_users
GROUP BY from_sessions
ORDER BY from_sessions
