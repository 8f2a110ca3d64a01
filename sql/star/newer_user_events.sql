-- Each staged user's latest event, when it is later than the one their users row came from.
-- Built once, before the users steps change user_latest_event; a temporary table of the
-- transform's session.
CREATE TEMPORARY TABLE newer_user_events AS
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
),

latest_staged AS (
    SELECT *
    FROM events_by_recency
    WHERE recency = 1
)

SELECT
    latest_staged.user_id,
    latest_staged.first_name,
    latest_staged.last_name,
    latest_staged.gender,
    latest_staged.level,
    latest_staged.ts,
    latest_staged.item_in_session,
    latest_staged.session_id
FROM latest_staged
LEFT JOIN user_latest_event AS loaded
    ON loaded.user_id = latest_staged.user_id
WHERE loaded.user_id IS NULL
   OR COALESCE(latest_staged.ts, -1) > COALESCE(loaded.ts, -1)
   OR (COALESCE(latest_staged.ts, -1) = COALESCE(loaded.ts, -1)
       AND COALESCE(latest_staged.item_in_session, -1) >= COALESCE(loaded.item_in_session, -1))
