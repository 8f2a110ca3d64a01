-- Songs staged now are rebuilt below from all their kept records.
DELETE FROM song
USING (
    SELECT DISTINCT song_id
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
) AS restaged_songs
WHERE song.song_id = restaged_songs.song_id
