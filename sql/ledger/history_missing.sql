-- A star with users but no user_events: built by a version of the pipeline that kept its
-- history in other tables. The next load rebuilds it from every source object.
SELECT CASE
    WHEN EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM user_events) THEN 1
    ELSE 0
END
