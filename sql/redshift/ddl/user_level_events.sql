-- Every distinct event of a user that names a level: the level history is rebuilt from all of
-- them, so it equals a full reload whatever order the days arrive in. A missing session or
-- item is kept as -1, as in songplay_source.
-- About one row per event, so as large as staging_events over all loads. DISTKEY user_id,
-- like staging_events: the "already kept?" check and the history's rebuild (window functions
-- partitioned by user) then run slice-local. COMPOUND SORTKEY (user_id, ts): both read one
-- user's events in time order.
-- Primary keys are informational on Redshift (not enforced): star/user_level_events inserts
-- only events not kept before.
CREATE TABLE IF NOT EXISTS user_level_events (
    user_id     VARCHAR(256) NOT NULL,
    ts          BIGINT NOT NULL,
    item_key    BIGINT NOT NULL,
    session_key BIGINT NOT NULL,
    level       VARCHAR(256) NOT NULL,
    PRIMARY KEY (user_id, ts, item_key, session_key, level)
)
DISTKEY (user_id)
COMPOUND SORTKEY (user_id, ts)
