-- Plays already in songplay keep their songplay_id; only their song match follows the
-- songs staged now (a song that arrives late fills the plays that referenced it).
UPDATE songplay
SET song_id = staged_plays.song_id,
    artist_id = staged_plays.artist_id
FROM staged_plays
WHERE songplay.user_id = staged_plays.user_id
  AND COALESCE(songplay.session_id, -1) = staged_plays.session_key
  AND COALESCE(songplay.item_in_session, -1) = staged_plays.item_key
  AND (COALESCE(songplay.song_id, '') <> COALESCE(staged_plays.song_id, '')
       OR COALESCE(songplay.artist_id, '') <> COALESCE(staged_plays.artist_id, ''))
