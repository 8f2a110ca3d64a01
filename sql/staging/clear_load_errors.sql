DELETE FROM load_errors WHERE table_name = {table}
