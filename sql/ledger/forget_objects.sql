-- Objects loaded again (changed since their last load) replace their ledger rows.
DELETE FROM load_ledger WHERE source_key IN %s
