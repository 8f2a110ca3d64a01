-- The ten locations with the most plays (the location the event gave); plays without one
-- count as one more location, NULL. Ties by name.
SELECT
    location,
    COUNT(*) AS plays
FROM songplay
GROUP BY location
ORDER BY plays DESC, location NULLS LAST
LIMIT 10
