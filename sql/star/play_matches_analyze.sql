-- Filled just above in this transaction (no automatic ANALYZE sees it); the rematch and
-- songplay join it next.
ANALYZE play_matches
