-- Every distinct song record ever staged. Incremental loads pick song and artist details and
-- match plays over all of them, so the star always equals a full reload of every object seen.
CREATE TABLE IF NOT EXISTS song_records (
    song_id          TEXT NOT NULL,
    title            TEXT,
    artist_id        TEXT,
    artist_name      TEXT,
    artist_location  TEXT,
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    duration         DOUBLE PRECISION,
    year             INTEGER
);
CREATE INDEX IF NOT EXISTS song_records_song_id ON song_records (song_id);
CREATE INDEX IF NOT EXISTS song_records_artist_id ON song_records (artist_id);
CREATE INDEX IF NOT EXISTS song_records_title_artist ON song_records (title, artist_name);
