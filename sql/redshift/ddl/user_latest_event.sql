-- The event each users row was taken from, so a later load replaces it only with a later event.
-- DISTSTYLE ALL, sorted by user_id, like users: one small row per user, joined by user_id.
-- Primary keys are informational on Redshift (not enforced): the transforms keep user_id unique.
CREATE TABLE IF NOT EXISTS user_latest_event (
    user_id         VARCHAR(256) NOT NULL,
    ts              BIGINT,
    item_in_session BIGINT,
    session_id      BIGINT,
    PRIMARY KEY (user_id)
)
DISTSTYLE ALL
SORTKEY (user_id)
