-- A load whose warehouse checkpoint failed is not kept as loaded: the next run loads its
-- objects again and checks again.
DELETE FROM load_ledger WHERE run_id = %s
