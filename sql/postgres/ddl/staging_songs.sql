-- One row per song record, columns named after the source keys.
CREATE TABLE IF NOT EXISTS staging_songs (
    num_songs        INTEGER,
    artist_id        TEXT,
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    artist_location  TEXT,
    artist_name      TEXT,
    song_id          TEXT,
    title            TEXT,
    duration         DOUBLE PRECISION,
    year             INTEGER
);
