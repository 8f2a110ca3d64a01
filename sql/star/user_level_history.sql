-- The periods on a level of every user of this load, from all their kept events in ts order.
INSERT INTO user_level_history (user_id, level, valid_from, valid_to)
WITH level_events AS (
    SELECT
        user_events.user_id,
        user_events.ts,
        user_events.item_in_session,
        user_events.session_id,
        user_events.level
    FROM user_events
    INNER JOIN touched_users
        ON touched_users.user_id = user_events.user_id
    WHERE user_events.level IS NOT NULL
),

-- Several events in one millisecond: the level at that instant is that of the last of them
-- (by itemInSession, then sessionId, then level), the order users takes the latest event in.
events_by_lateness AS (
    SELECT
        level_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id, ts
            ORDER BY item_in_session DESC, session_id DESC, level DESC
        ) AS lateness
    FROM level_events
),

level_at_each_instant AS (
    SELECT
        user_id,
        ts,
        level,
        LAG(level) OVER (PARTITION BY user_id ORDER BY ts) AS previous_level
    FROM events_by_lateness
    WHERE lateness = 1
),

-- A period starts at a user's first instant and at each instant whose level differs from
-- the one before; it lasts until the next period starts.
period_starts AS (
    SELECT
        user_id,
        ts,
        level
    FROM level_at_each_instant
    WHERE previous_level IS NULL
       OR previous_level <> level
),

periods AS (
    SELECT
        user_id,
        level,
        ts AS from_ts,
        LEAD(ts) OVER (PARTITION BY user_id ORDER BY ts) AS to_ts
    FROM period_starts
)

SELECT
    user_id,
    level,
    TIMESTAMP 'epoch' + from_ts / 1000.0 * INTERVAL '1 second' AS valid_from,
    TIMESTAMP 'epoch' + to_ts / 1000.0 * INTERVAL '1 second' AS valid_to
FROM periods
