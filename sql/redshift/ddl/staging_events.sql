-- One row per event line, columns in the order of log_json_path.json: COPY maps the i-th
-- JSONPath to the i-th listed column. ts stays epoch milliseconds (staged_plays converts it).
-- VARCHAR lengths are bytes on Redshift: 1024 for free text (names, titles, user agents,
-- multi-byte), 256 (Redshift's TEXT) for keys and codes.
-- DISTKEY user_id: the transforms regroup the events by user (staged_plays numbers each
-- user's plays, newer_user_events finds each user's latest event) and join them to
-- songplay_source and play_matches, both DISTKEY user_id, so all of that runs slice-local.
-- Logged-out events (empty userId) share one slice: a small, bounded skew. No sort key: the
-- table is rewritten by every load and read whole, and sorting would only slow the COPY.
CREATE TABLE IF NOT EXISTS staging_events (
    artist          VARCHAR(1024),
    auth            VARCHAR(256),
    first_name      VARCHAR(256),
    gender          VARCHAR(256),
    item_in_session BIGINT,
    last_name       VARCHAR(256),
    length          DOUBLE PRECISION,
    level           VARCHAR(256),
    location        VARCHAR(1024),
    method          VARCHAR(256),
    page            VARCHAR(256),
    registration    DOUBLE PRECISION,
    session_id      BIGINT,
    song            VARCHAR(1024),
    status          BIGINT,
    ts              BIGINT,
    user_agent      VARCHAR(1024),
    user_id         VARCHAR(256)
)
DISTKEY (user_id)
