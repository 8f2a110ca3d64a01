-- DELETE, not TRUNCATE: Redshift's TRUNCATE commits the open transaction, so a failed COPY
-- could no longer be rolled back to the previous staging rows. Redshift's automatic
-- VACUUM DELETE reclaims the deleted blocks in the background.
DELETE FROM staging_events
