-- The records a load tolerated (--max-errors), one row each.
INSERT INTO load_errors (run_id, table_name, source_key, line_number, reason, raw_text) VALUES %s
