-- time holds one row per start_time of songplay: a time a play left for an earlier copy goes
-- when no other play has it.
DELETE FROM time
WHERE start_time IN (SELECT replaced_start_time FROM earlier_copies)
  AND NOT EXISTS (SELECT 1 FROM songplay WHERE songplay.start_time = time.start_time)
