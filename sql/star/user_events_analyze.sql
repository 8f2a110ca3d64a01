-- Filled in this transaction, where no automatic ANALYZE sees it; the statements below join it.
ANALYZE user_events
