-- The fact. item_in_session completes the identity of a play (user_id, session_id,
-- item_in_session); Redshift enforces neither that nor the primary key, so star/songplay
-- inserts only plays not loaded before, which is what makes reloading an event a no-op.
-- DISTKEY start_time: nearly unique, so rows spread evenly, and co-located with time (same
-- key). song_id would skew: most plays match no song and would all land on one slice.
-- SORTKEY start_time: analyses filter on time ranges, and the merge join with time needs it.
-- songplay_id: IDENTITY values are unique but not consecutive on Redshift. song_title and
-- artist_name are what the play asked for, as the event named them (a degenerate dimension).
CREATE TABLE IF NOT EXISTS songplay (
    songplay_id     BIGINT IDENTITY(0, 1) NOT NULL,
    start_time      TIMESTAMP NOT NULL,
    user_id         VARCHAR(256) NOT NULL,
    level           VARCHAR(256),
    song_id         VARCHAR(256),
    artist_id       VARCHAR(256),
    session_id      BIGINT NOT NULL,
    item_in_session BIGINT NOT NULL,
    location        VARCHAR(1024),
    user_agent      VARCHAR(1024),
    song_title      VARCHAR(1024),
    artist_name     VARCHAR(1024),
    PRIMARY KEY (songplay_id)
)
DISTKEY (start_time)
SORTKEY (start_time)
