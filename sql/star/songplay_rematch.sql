-- Plays already in songplay keep their songplay_id; only their song match follows the songs
-- known now (a song that arrives late fills the plays that referenced it). The song join sits
-- in a derived table: Redshift refuses an outer join beside the UPDATE's target.
UPDATE songplay
SET song_id = rematched.song_id,
    artist_id = rematched.artist_id
FROM (
    SELECT
        play_matches.user_id,
        play_matches.session_key,
        play_matches.item_key,
        play_matches.song_id,
        song.artist_id
    FROM play_matches
    LEFT JOIN song
        ON song.song_id = play_matches.song_id
) AS rematched
WHERE songplay.user_id = rematched.user_id
  AND COALESCE(songplay.session_id, -1) = rematched.session_key
  AND COALESCE(songplay.item_in_session, -1) = rematched.item_key
  AND (COALESCE(songplay.song_id, '') <> COALESCE(rematched.song_id, '')
       OR COALESCE(songplay.artist_id, '') <> COALESCE(rematched.artist_id, ''))
