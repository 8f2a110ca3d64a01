-- One row per song record, columns named after the source keys (COPY ... JSON 'auto
-- ignorecase' matches them case-insensitively).
-- DISTSTYLE ALL: the play-to-song match joins staging_events to this table on title and
-- artist name; a full copy on every node makes that join local without moving the events.
-- The song catalogue is small next to the events (tens of thousands of rows here); if it
-- grows to many millions, switch to DISTKEY (title) and give staging_events DISTKEY (song).
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
