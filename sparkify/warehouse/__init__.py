"""The warehouse: the interface (`base`), PostgreSQL and Redshift, and the recorded connections."""
