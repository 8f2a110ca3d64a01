-- How many songs a session holds: sessions per bucket of plays (1, 2-3, 4-7, ... 256+). A
-- session is a user's session_id with at least one play.
WITH plays_of_sessions AS (
    SELECT
        user_id,
        session_id,
        COUNT(*) AS plays
    FROM songplay
    GROUP BY user_id, session_id
),

-- Buckets double in width: each starts at a power of two and ends before the next.
bucketed_sessions AS (
    SELECT
        CASE
            WHEN plays < 2 THEN 1
            WHEN plays < 4 THEN 2
            WHEN plays < 8 THEN 4
            WHEN plays < 16 THEN 8
            WHEN plays < 32 THEN 16
            WHEN plays < 64 THEN 32
            WHEN plays < 128 THEN 64
            WHEN plays < 256 THEN 128
            ELSE 256
        END AS from_plays
    FROM plays_of_sessions
)

SELECT
    from_plays,
    CASE WHEN from_plays < 256 THEN 2 * from_plays - 1 END AS to_plays,
    COUNT(*) AS sessions
FROM bucketed_sessions
GROUP BY from_plays
ORDER BY from_plays
