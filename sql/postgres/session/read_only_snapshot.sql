-- The report's queries read one snapshot of the warehouse, even while a load commits: on
-- PostgreSQL a REPEATABLE READ transaction (Redshift runs every transaction on one snapshot).
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY
