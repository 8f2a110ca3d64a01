INSERT INTO load_ledger (source_key, etag, size, rows, run_id, loaded_at) VALUES %s
