-- Every distinct event that has a user, kept once: the history the star is derived from. A
-- load recomputes the users, level periods and plays it touches from all of their events here,
-- so loads in any order end as a full reload of every object seen. Empty strings are NULL; the
-- song fields of an event that is not a play are not kept (nothing reads them). ts, sessionId
-- and itemInSession are never null: staging refuses such a record
-- (expectations/staging_events.yml).
CREATE TABLE IF NOT EXISTS user_events (
    user_id         TEXT NOT NULL,
    session_id      BIGINT NOT NULL,
    item_in_session BIGINT NOT NULL,
    ts              BIGINT NOT NULL,
    is_play         BOOLEAN NOT NULL,
    level           TEXT,
    first_name      TEXT,
    last_name       TEXT,
    gender          TEXT,
    song            TEXT,
    artist          TEXT,
    length          DOUBLE PRECISION,
    location        TEXT,
    user_agent      TEXT
);
-- An event's identity, the play key of a play: the copies of one event sit together.
CREATE INDEX IF NOT EXISTS user_events_identity
    ON user_events (user_id, session_id, item_in_session);
