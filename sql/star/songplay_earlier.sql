-- A play keeps its songplay_id and takes its earliest copy's time and details.
UPDATE songplay
SET start_time = earlier_copies.start_time,
    level = earlier_copies.level,
    location = earlier_copies.location,
    user_agent = earlier_copies.user_agent
FROM earlier_copies
WHERE songplay.user_id = earlier_copies.user_id
  AND COALESCE(songplay.session_id, -1) = earlier_copies.session_key
  AND COALESCE(songplay.item_in_session, -1) = earlier_copies.item_key
