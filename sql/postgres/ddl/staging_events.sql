-- One row per event line, columns in the order of log_json_path.json.
CREATE TABLE IF NOT EXISTS staging_events (
    artist          TEXT,
    auth            TEXT,
    first_name      TEXT,
    gender          TEXT,
    item_in_session BIGINT,
    last_name       TEXT,
    length          DOUBLE PRECISION,
    level           TEXT,
    location        TEXT,
    method          TEXT,
    page            TEXT,
    registration    DOUBLE PRECISION,
    session_id      BIGINT,
    song            TEXT,
    status          BIGINT,
    ts              BIGINT,
    user_agent      TEXT,
    user_id         TEXT
);
