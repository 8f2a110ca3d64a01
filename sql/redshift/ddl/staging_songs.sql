-- One row per song record, columns named after the source keys (COPY ... JSON 'auto
-- ignorecase' matches them case-insensitively).
-- DISTSTYLE ALL: holds the songs of one load, which are joined to songplay_source (one row
-- per play, DISTKEY user_id) on title and artist name to find earlier plays a new song can
-- match; a copy on every node keeps that join local without moving the plays. For a first
-- load of a catalogue of many millions of songs, DISTSTYLE EVEN would copy faster.
-- No sort key: rewritten by every load and read whole.
CREATE TABLE IF NOT EXISTS staging_songs (
    num_songs        INTEGER,
    artist_id        VARCHAR(256),
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    artist_location  VARCHAR(1024),
    artist_name      VARCHAR(1024),
    song_id          VARCHAR(256),
    title            VARCHAR(1024),
    duration         DOUBLE PRECISION,
    year             INTEGER
)
DISTSTYLE ALL
