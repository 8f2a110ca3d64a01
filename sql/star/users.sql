INSERT INTO users (user_id, first_name, last_name, gender, level)
WITH user_events AS (
    SELECT
        user_id,
        session_id,
        item_in_session,
        ts,
        NULLIF(first_name, '') AS first_name,
        NULLIF(last_name, '') AS last_name,
        NULLIF(gender, '') AS gender,
        NULLIF(level, '') AS level
    FROM staging_events
    WHERE NULLIF(user_id, '') IS NOT NULL
),

-- Every event counts, not only plays: a user's details and level are those of their latest
-- event (by ts, then itemInSession), so a user who upgrades shows 'paid'.
events_by_recency AS (
    SELECT
        user_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id
            ORDER BY ts DESC NULLS LAST,
                     item_in_session DESC NULLS LAST,
                     session_id DESC NULLS LAST,
                     level DESC NULLS LAST,
                     first_name, last_name, gender
        ) AS recency
    FROM user_events
)

SELECT
    user_id,
    first_name,
    last_name,
    gender,
    level
FROM events_by_recency
WHERE recency = 1
