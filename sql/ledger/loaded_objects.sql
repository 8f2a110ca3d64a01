SELECT source_key, etag FROM load_ledger
