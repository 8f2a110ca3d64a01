-- How many plays were matched to a song, of all plays, and their share.
WITH play_counts AS (
    SELECT
        COUNT(song_id) AS matched_plays,
        COUNT(*) AS plays
    FROM songplay
)

SELECT
    matched_plays,
    plays,
    CAST(matched_plays AS DOUBLE PRECISION) / NULLIF(plays, 0) AS share_matched
FROM play_counts
