-- Is the table empty (a first load, or a full refresh that truncated it)?
SELECT NOT EXISTS (SELECT 1 FROM {table})
