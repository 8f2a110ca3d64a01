"""The Redshift stand-in: the Redshift engine run against a strict PostgreSQL (docs/redshift-standin.md)."""
