-- Waits while another run's transaction holds the lock; held until this transaction ends.
LOCK elt_lock
