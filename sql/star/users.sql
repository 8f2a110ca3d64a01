INSERT INTO users (user_id, first_name, last_name, gender, level)
SELECT
    user_id,
    first_name,
    last_name,
    gender,
    level
FROM newer_user_events
