-- One row per source object loaded (incremental loading).
CREATE TABLE IF NOT EXISTS load_ledger (
    source_key TEXT PRIMARY KEY,
    etag       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    rows       BIGINT,
    run_id     TEXT NOT NULL,
    loaded_at  TIMESTAMP NOT NULL
);
