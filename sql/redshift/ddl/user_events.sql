-- Every distinct event that has a user, kept once: the history the star is derived from. A
-- load recomputes the users, level periods and plays it touches from all of their events here,
-- so loads in any order end as a full reload of every object seen. Empty strings are NULL; the
-- song fields of an event that is not a play are not kept (nothing reads them). ts, sessionId
-- and itemInSession are never null: staging refuses such a record
-- (expectations/staging_events.yml).
-- As large as every load's events together. DISTKEY user_id, like staging_events: a user's
-- latest event, level periods and plays are all computed per user, slice-local. COMPOUND
-- SORTKEY on the event's identity: the copies of one event, and one user's events, sit together.
CREATE TABLE IF NOT EXISTS user_events (
    user_id         VARCHAR(256) NOT NULL,
    session_id      BIGINT NOT NULL,
    item_in_session BIGINT NOT NULL,
    ts              BIGINT NOT NULL,
    is_play         BOOLEAN NOT NULL,
    level           VARCHAR(256),
    first_name      VARCHAR(256),
    last_name       VARCHAR(256),
    gender          VARCHAR(256),
    song            VARCHAR(1024),
    artist          VARCHAR(1024),
    length          DOUBLE PRECISION,
    location        VARCHAR(1024),
    user_agent      VARCHAR(1024)
)
DISTKEY (user_id)
COMPOUND SORTKEY (user_id, session_id, item_in_session)
