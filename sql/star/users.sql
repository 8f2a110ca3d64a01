-- Each user of this load, from their latest kept event of any page (by ts, then itemInSession):
-- a user who upgrades shows 'paid'.
INSERT INTO users (user_id, first_name, last_name, gender, level)
WITH touched_users AS (
    SELECT DISTINCT user_id
    FROM staging_events
    WHERE NULLIF(user_id, '') IS NOT NULL
),

touched_events AS (
    SELECT user_events.*
    FROM user_events
    INNER JOIN touched_users
        ON touched_users.user_id = user_events.user_id
),

-- Ties in ts and itemInSession (two copies of one event) go by the rest of the record, so the
-- pick never depends on load order.
events_by_recency AS (
    SELECT
        touched_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id
            ORDER BY ts DESC NULLS LAST,
                     item_in_session DESC NULLS LAST,
                     session_id DESC NULLS LAST,
                     level DESC NULLS LAST,
                     first_name, last_name, gender
        ) AS recency
    FROM touched_events
)

SELECT
    user_id,
    first_name,
    last_name,
    gender,
    level
FROM events_by_recency
WHERE recency = 1
