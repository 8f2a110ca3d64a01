-- Songs seen in this load are rebuilt below from their staged records.
DELETE FROM song
USING (
    SELECT DISTINCT song_id
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
) AS restaged_songs
WHERE song.song_id = restaged_songs.song_id
