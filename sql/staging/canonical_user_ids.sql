-- A userId written as an integral number (12.0, or "12.0") names the same user as 12: staged
-- as its integer text on both engines, so 12, 12.0 and "12" are one user.
UPDATE staging_events
SET user_id = SPLIT_PART(user_id, '.', 1)
WHERE user_id LIKE '%.0%'  -- a cheap test first: the pattern below needs '.0'
  AND user_id ~ '^[0-9]+[.]0+$'
