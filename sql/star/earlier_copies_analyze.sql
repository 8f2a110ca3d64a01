-- Temporary tables get no automatic statistics; three statements join it next.
ANALYZE earlier_copies
