-- Free and paid: users by their current level (users.level), plays by the level the user had
-- when playing (songplay.level), and each level's share of all plays. A missing level counts
-- as 'unknown', so that the shares add up to 1.
WITH users_by_level AS (
    SELECT
        COALESCE(level, 'unknown') AS level,
        COUNT(*) AS users
    FROM users
    GROUP BY COALESCE(level, 'unknown')
),

plays_by_level AS (
    SELECT
        COALESCE(level, 'unknown') AS level,
        COUNT(*) AS plays
    FROM songplay
    GROUP BY COALESCE(level, 'unknown')
),

levels AS (
    SELECT level FROM users_by_level
    UNION
    SELECT level FROM plays_by_level
),

level_figures AS (
    SELECT
        levels.level,
        COALESCE(users_by_level.users, 0) AS users,
        COALESCE(plays_by_level.plays, 0) AS plays
    FROM levels
    LEFT JOIN users_by_level
        ON users_by_level.level = levels.level
    LEFT JOIN plays_by_level
        ON plays_by_level.level = levels.level
)

SELECT
    level,
    users,
    plays,
    CAST(plays AS DOUBLE PRECISION) / NULLIF(SUM(plays) OVER (), 0) AS share_of_plays
FROM level_figures
ORDER BY level
