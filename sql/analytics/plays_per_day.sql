-- Plays per calendar day (UTC); days without plays are absent.
WITH play_dates AS (
    SELECT CAST(start_time AS DATE) AS play_date
    FROM songplay
)

SELECT
    play_date,
    COUNT(*) AS plays
FROM play_dates
GROUP BY play_date
ORDER BY play_date
