-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE {table}
