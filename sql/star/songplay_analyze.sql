-- Filled just now and read by star/time: without statistics, a first load's planner expected
-- 200 distinct start times and spilled its hash aggregate to disk (2.6 s where reading the
-- start_time index in order takes 1.5 s at 1M events).
ANALYZE songplay
