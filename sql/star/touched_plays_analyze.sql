-- A temporary table gets no automatic statistics; songplay's update and insert and time join it.
ANALYZE touched_plays
