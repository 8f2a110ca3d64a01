-- Scratch space of one transform: the best song for each play the current load affects.
CREATE TABLE IF NOT EXISTS play_matches (
    user_id     TEXT NOT NULL,
    session_key BIGINT NOT NULL,
    item_key    BIGINT NOT NULL,
    song_id     TEXT,
    PRIMARY KEY (user_id, session_key, item_key)
);
