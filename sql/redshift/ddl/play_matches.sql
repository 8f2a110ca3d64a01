-- Scratch space of one transform: the best song for each play the current load affects.
-- DISTKEY user_id and the same sort key as songplay_source, which it is built from and
-- joined back to on the play key. Emptied by DELETE at each transform (TRUNCATE would commit).
CREATE TABLE IF NOT EXISTS play_matches (
    user_id     VARCHAR(256) NOT NULL,
    session_key BIGINT NOT NULL,
    item_key    BIGINT NOT NULL,
    song_id     VARCHAR(256),
    PRIMARY KEY (user_id, session_key, item_key)
)
DISTKEY (user_id)
COMPOUND SORTKEY (user_id, session_key, item_key)
