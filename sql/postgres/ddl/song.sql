CREATE TABLE IF NOT EXISTS song (
    song_id   TEXT PRIMARY KEY,
    title     TEXT,
    artist_id TEXT,
    year      INTEGER,
    duration  DOUBLE PRECISION
);
