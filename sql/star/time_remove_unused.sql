-- time holds one row per songplay.start_time: a time a touched play moved away from goes when
-- no play has it any more.
DELETE FROM time
WHERE start_time IN (
    SELECT kept_start_time
    FROM touched_plays
    WHERE kept_start_time <> start_time
)
  AND NOT EXISTS (SELECT 1 FROM songplay WHERE songplay.start_time = time.start_time)
