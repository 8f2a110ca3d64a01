-- Plays already in songplay keep their songplay_id; only their song match follows the songs
-- known now (a song that arrives late fills the plays that referenced it).
UPDATE songplay
SET song_id = play_matches.song_id,
    artist_id = song.artist_id
FROM play_matches
LEFT JOIN song
    ON song.song_id = play_matches.song_id
WHERE songplay.user_id = play_matches.user_id
  AND COALESCE(songplay.session_id, -1) = play_matches.session_key
  AND COALESCE(songplay.item_in_session, -1) = play_matches.item_key
  AND (COALESCE(songplay.song_id, '') <> COALESCE(play_matches.song_id, '')
       OR COALESCE(songplay.artist_id, '') <> COALESCE(song.artist_id, ''))
