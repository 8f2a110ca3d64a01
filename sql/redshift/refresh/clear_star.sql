-- --full-refresh: empty the star, its history and the ledger in the transform's
-- transaction, one DELETE per table (Redshift's DELETE takes one). DELETE, not TRUNCATE:
-- Redshift's TRUNCATE commits the open transaction, so a failed rebuild could not roll back
-- to the previous star. An IDENTITY cannot be restarted without recreating its table, so
-- after a full refresh songplay_id continues from its last value.
DELETE FROM songplay;
DELETE FROM users;
DELETE FROM song;
DELETE FROM artist;
DELETE FROM time;
DELETE FROM user_level_history;
DELETE FROM song_records;
DELETE FROM user_events;
DELETE FROM load_ledger
