-- Each user of this load, from their latest kept event of any page (by ts, then itemInSession):
-- a user who upgrades shows 'paid'.
INSERT INTO users (user_id, first_name, last_name, gender, level)
WITH latest_instants AS (
    SELECT
        user_id,
        MAX(ts) AS ts
    FROM user_events
    WHERE user_id IN (SELECT user_id FROM touched_users)
    GROUP BY user_id
),

latest_events AS (
    SELECT user_events.*
    FROM user_events
    INNER JOIN latest_instants
        ON latest_instants.user_id = user_events.user_id
       AND latest_instants.ts = user_events.ts
),

-- Several events in the latest millisecond: the highest itemInSession, then sessionId, then
-- level (the order user_level_history takes an instant's level in), then the rest of the
-- record, so the pick never depends on load order.
events_by_recency AS (
    SELECT
        latest_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id
            ORDER BY item_in_session DESC,
                     session_id DESC,
                     level DESC NULLS LAST,
                     first_name, last_name, gender
        ) AS recency
    FROM latest_events
)

SELECT
    user_id,
    first_name,
    last_name,
    gender,
    level
FROM events_by_recency
WHERE recency = 1
