-- PostgreSQL's TRUNCATE is transactional: a failed load rolls it back.
TRUNCATE staging_songs
