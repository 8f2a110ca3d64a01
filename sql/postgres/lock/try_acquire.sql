-- Session-level advisory lock: held by the run's lock connection until it closes, so it also
-- holds between runs started outside Prefect.
SELECT pg_try_advisory_lock(hashtext({key}))
