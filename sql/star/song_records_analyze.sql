-- Filled just now and read by star/touched_plays: without statistics, a first load's planner
-- guessed a table twice as wide and sorted every play for a merge join where a hash join on
-- the few songs is cheaper.
ANALYZE song_records
