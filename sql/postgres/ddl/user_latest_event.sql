-- The event each users row was taken from, so a later load replaces it only with a later event.
CREATE TABLE IF NOT EXISTS user_latest_event (
    user_id         TEXT PRIMARY KEY,
    ts              BIGINT,
    item_in_session BIGINT,
    session_id      BIGINT
);
