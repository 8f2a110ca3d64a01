-- Upgrades (free to paid) and downgrades (paid to free) per day (UTC), from the periods of
-- user_level_history: a user's first period is no change. Days without a change are absent.
WITH periods AS (
    SELECT
        user_id,
        level,
        valid_from,
        LAG(level) OVER (PARTITION BY user_id ORDER BY valid_from) AS previous_level
    FROM user_level_history
),

changes AS (
    SELECT
        CAST(valid_from AS DATE) AS change_date,
        CASE WHEN previous_level = 'free' AND level = 'paid' THEN 1 ELSE 0 END AS is_upgrade,
        CASE WHEN previous_level = 'paid' AND level = 'free' THEN 1 ELSE 0 END AS is_downgrade
    FROM periods
    WHERE previous_level IS NOT NULL
)

SELECT
    change_date,
    SUM(is_upgrade) AS upgrades,
    SUM(is_downgrade) AS downgrades
FROM changes
GROUP BY change_date
ORDER BY change_date
