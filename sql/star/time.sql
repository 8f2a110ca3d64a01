INSERT INTO time (start_time, hour, day, week, month, year, weekday)
WITH new_times AS (
    SELECT DISTINCT touched_plays.start_time
    FROM touched_plays
    WHERE NOT EXISTS (
        SELECT 1 FROM time WHERE time.start_time = touched_plays.start_time
    )
)

-- EXTRACT returns numeric on PostgreSQL and integers on Redshift: cast for one schema.
-- week is the ISO week; weekday counts from 0 = Sunday.
SELECT
    start_time,
    CAST(EXTRACT(HOUR FROM start_time) AS SMALLINT) AS hour,
    CAST(EXTRACT(DAY FROM start_time) AS SMALLINT) AS day,
    CAST(EXTRACT(WEEK FROM start_time) AS SMALLINT) AS week,
    CAST(EXTRACT(MONTH FROM start_time) AS SMALLINT) AS month,
    CAST(EXTRACT(YEAR FROM start_time) AS SMALLINT) AS year,
    CAST(EXTRACT(DOW FROM start_time) AS SMALLINT) AS weekday
FROM new_times
