DELETE FROM play_matches
