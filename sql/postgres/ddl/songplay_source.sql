-- What each play asked for (title, artist name, length), kept so that a song arriving in a
-- later load can still be matched to plays loaded before it.
CREATE TABLE IF NOT EXISTS songplay_source (
    user_id     TEXT NOT NULL,
    session_key BIGINT NOT NULL,
    item_key    BIGINT NOT NULL,
    song        TEXT,
    artist      TEXT,
    length      DOUBLE PRECISION,
    PRIMARY KEY (user_id, session_key, item_key)
);
CREATE INDEX IF NOT EXISTS songplay_source_song_artist ON songplay_source (song, artist);
