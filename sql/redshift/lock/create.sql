-- Redshift has no advisory locks: runs take turns on an exclusive LOCK of this empty table,
-- held by the lock connection's open transaction until that connection closes.
CREATE TABLE IF NOT EXISTS elt_lock (
    locked_by VARCHAR(256)
)
