-- DISTSTYLE ALL, sorted by song_id: joined to songplay (distributed on start_time) and by
-- staged_plays, so a copy on every node avoids redistributing either side. Fine up to a few
-- million songs; beyond that prefer DISTKEY (song_id).
-- Primary keys are informational on Redshift (not enforced): the transforms keep song_id unique.
CREATE TABLE IF NOT EXISTS song (
    song_id   VARCHAR(256) NOT NULL,
    title     VARCHAR(1024),
    artist_id VARCHAR(256),
    year      INTEGER,
    duration  DOUBLE PRECISION,
    PRIMARY KEY (song_id)
)
DISTSTYLE ALL
SORTKEY (song_id)
