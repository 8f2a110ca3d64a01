-- Plays per hour of the day (UTC); hours without plays are absent.
SELECT
    time.hour,
    COUNT(*) AS plays
FROM songplay
INNER JOIN time
    ON time.start_time = songplay.start_time
GROUP BY time.hour
ORDER BY time.hour
