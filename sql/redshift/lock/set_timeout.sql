-- Bounds the first LOCK attempt: a timeout means another run holds the lock (0: no limit).
SET statement_timeout TO {timeout_ms}
