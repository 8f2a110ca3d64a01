-- Filled just above in this transaction, where no automatic ANALYZE can see it: without
-- statistics the planner expects a few dozen plays where it reads every play of the load.
ANALYZE songplay_source
