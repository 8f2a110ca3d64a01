-- What each play asked for (title, artist name, length), kept so that a song arriving in a
-- later load can still be matched to plays loaded before it.
-- One row per play, so as large as the fact. DISTKEY user_id, like play_matches: the two are
-- joined on the play key (user_id, session_key, item_key), which then runs slice-local.
-- SORTKEY on that key: the "already kept?" lookups of each load read narrow ranges.
-- Primary keys are informational on Redshift (not enforced): star/songplay_source inserts
-- only plays not kept before.
CREATE TABLE IF NOT EXISTS songplay_source (
    user_id     VARCHAR(256) NOT NULL,
    session_key BIGINT NOT NULL,
    item_key    BIGINT NOT NULL,
    song        VARCHAR(1024),
    artist      VARCHAR(1024),
    length      DOUBLE PRECISION,
    PRIMARY KEY (user_id, session_key, item_key)
)
DISTKEY (user_id)
COMPOUND SORTKEY (user_id, session_key, item_key)
