-- Every distinct event of a user that names a level: the level history is rebuilt from all of
-- them, so it equals a full reload whatever order the days arrive in. A missing session or
-- item is kept as -1, as in songplay_source.
CREATE TABLE IF NOT EXISTS user_level_events (
    user_id     TEXT NOT NULL,
    ts          BIGINT NOT NULL,
    item_key    BIGINT NOT NULL,
    session_key BIGINT NOT NULL,
    level       TEXT NOT NULL,
    PRIMARY KEY (user_id, ts, item_key, session_key, level)
);
