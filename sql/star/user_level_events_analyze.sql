-- Filled just above in this transaction (no automatic ANALYZE sees it); the level history
-- reads it next.
ANALYZE user_level_events
