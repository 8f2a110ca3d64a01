-- DISTSTYLE ALL, sorted by artist_id: a small dimension joined to songplay and song, local on
-- every node. Primary keys are informational on Redshift (not enforced): the star transforms
-- delete and re-insert each restaged artist, which keeps artist_id unique.
CREATE TABLE IF NOT EXISTS artist (
    artist_id VARCHAR(256) NOT NULL,
    name      VARCHAR(1024),
    location  VARCHAR(1024),
    latitude  DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    PRIMARY KEY (artist_id)
)
DISTSTYLE ALL
SORTKEY (artist_id)
