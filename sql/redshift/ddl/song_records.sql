-- Every distinct song record ever staged. Incremental loads pick song and artist details and
-- match plays over all of them, so the star always equals a full reload of every object seen.
-- DISTSTYLE ALL, sorted by song_id: catalogue-sized like song; plays (songplay_source) are
-- matched to it on title and artist name, and a copy on every node keeps that join local.
-- Redshift has no indexes: the sort key serves the song_id lookups of the song and artist
-- rebuilds. Switch to DISTKEY (title) with songplay_source DISTKEY (song) past a few million.
CREATE TABLE IF NOT EXISTS song_records (
    song_id          VARCHAR(256) NOT NULL,
    title            VARCHAR(1024),
    artist_id        VARCHAR(256),
    artist_name      VARCHAR(1024),
    artist_location  VARCHAR(1024),
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    duration         DOUBLE PRECISION,
    year             INTEGER
)
DISTSTYLE ALL
SORTKEY (song_id)
