-- A star built by an earlier version of the pipeline: users but no user_events (it kept its
-- history in other tables), or a songplay without the title and artist its plays asked for.
-- The next load makes these tables again and rebuilds them from every source object.
SELECT CASE
    WHEN EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM user_events) THEN 1
    WHEN NOT EXISTS (
        SELECT 1
        FROM information_schema.columns
        WHERE table_schema = {schema}
          AND table_name = 'songplay'
          AND column_name = 'song_title'
    ) THEN 1
    ELSE 0
END
