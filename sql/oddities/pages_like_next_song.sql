-- The staged events whose page is NextSong but for case or blanks ('nextsong', ' NextSong',
-- 'Next Song'): staged as they are, and not plays, as a play is page = 'NextSong' exactly
-- (staged_user_events). Trailing blanks were dropped at staging: 'NextSong ' is a play.
SELECT COUNT(*)
FROM staging_events
WHERE page <> 'NextSong'
  AND UPPER(REPLACE(page, ' ', '')) = 'NEXTSONG'
