-- Plays per day of the week (0 = Sunday, UTC); weekdays without plays are absent.
SELECT
    time.weekday,
    COUNT(*) AS plays
FROM songplay
INNER JOIN time
    ON time.start_time = songplay.start_time
GROUP BY time.weekday
ORDER BY time.weekday
