CREATE TABLE IF NOT EXISTS artist (
    artist_id TEXT PRIMARY KEY,
    name      TEXT,
    location  TEXT,
    latitude  DOUBLE PRECISION,
    longitude DOUBLE PRECISION
);
