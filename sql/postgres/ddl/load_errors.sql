-- Malformed source records tolerated by --max-errors, as of each staging table's latest load.
CREATE TABLE IF NOT EXISTS load_errors (
    run_id      TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    raw_text    TEXT,
    logged_at   TIMESTAMP NOT NULL DEFAULT (NOW() AT TIME ZONE 'UTC')
);
