-- Temporary tables get no automatic statistics; the plays' joins need them to plan well.
ANALYZE staged_plays
