-- The time the plays cover: first and last play, and the days with at least one play.
SELECT
    MIN(start_time) AS first_play_at,
    MAX(start_time) AS last_play_at,
    COUNT(DISTINCT CAST(start_time AS DATE)) AS days_with_plays
FROM songplay
