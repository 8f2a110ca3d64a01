-- Temporary tables get no automatic statistics; the users steps join it next.
ANALYZE newer_user_events
