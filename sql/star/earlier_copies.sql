-- Plays loaded before that this load holds a copy of which sorts first (by the order that
-- picks one copy of a play within a load, in staged_plays). A full reload would keep that
-- copy, so the play takes its content: the same play in two objects ends the same whichever
-- object is loaded first. A tie keeps what was loaded.
CREATE TEMPORARY TABLE earlier_copies AS
WITH kept_copies AS (
    SELECT
        staged_plays.user_id,
        staged_plays.session_key,
        staged_plays.item_key,
        songplay.start_time,
        kept.song,
        kept.artist,
        kept.length,
        songplay.level,
        songplay.location,
        songplay.user_agent,
        0 AS is_staged
    FROM staged_plays
    INNER JOIN songplay
        ON songplay.user_id = staged_plays.user_id
       AND COALESCE(songplay.session_id, -1) = staged_plays.session_key
       AND COALESCE(songplay.item_in_session, -1) = staged_plays.item_key
    INNER JOIN songplay_source AS kept
        ON kept.user_id = staged_plays.user_id
       AND kept.session_key = staged_plays.session_key
       AND kept.item_key = staged_plays.item_key
),

both_copies AS (
    SELECT * FROM kept_copies

    UNION ALL

    SELECT
        staged_plays.user_id,
        staged_plays.session_key,
        staged_plays.item_key,
        staged_plays.start_time,
        staged_plays.song,
        staged_plays.artist,
        staged_plays.length,
        staged_plays.level,
        staged_plays.location,
        staged_plays.user_agent,
        1 AS is_staged
    FROM staged_plays
    INNER JOIN kept_copies
        ON kept_copies.user_id = staged_plays.user_id
       AND kept_copies.session_key = staged_plays.session_key
       AND kept_copies.item_key = staged_plays.item_key
),

ranked_copies AS (
    SELECT
        both_copies.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id, session_key, item_key
            ORDER BY start_time, song, artist, length, level, location, user_agent, is_staged
        ) AS copy_rank
    FROM both_copies
)

SELECT
    ranked_copies.user_id,
    ranked_copies.session_key,
    ranked_copies.item_key,
    ranked_copies.start_time,
    ranked_copies.song,
    ranked_copies.artist,
    ranked_copies.length,
    ranked_copies.level,
    ranked_copies.location,
    ranked_copies.user_agent,
    kept_copies.start_time AS replaced_start_time
FROM ranked_copies
INNER JOIN kept_copies
    ON kept_copies.user_id = ranked_copies.user_id
   AND kept_copies.session_key = ranked_copies.session_key
   AND kept_copies.item_key = ranked_copies.item_key
WHERE ranked_copies.copy_rank = 1
  AND ranked_copies.is_staged = 1
