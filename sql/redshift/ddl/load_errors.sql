-- Malformed source records tolerated by --max-errors, as of each staging table's latest load.
-- DISTSTYLE AUTO: a handful of rows, never joined; Redshift keeps it on every node while it
-- is small and spreads it evenly if it ever grows. No sort key: read whole, when at all.
-- source_key is an s3:// URI: up to 1093 bytes (ddl/load_ledger.sql says why).
CREATE TABLE IF NOT EXISTS load_errors (
    run_id      VARCHAR(256) NOT NULL,
    table_name  VARCHAR(256) NOT NULL,
    source_key  VARCHAR(1093) NOT NULL,
    line_number INTEGER NOT NULL,
    reason      VARCHAR(1024) NOT NULL,
    raw_text    VARCHAR(1024),
    logged_at   TIMESTAMP NOT NULL DEFAULT GETDATE()
)
DISTSTYLE AUTO
