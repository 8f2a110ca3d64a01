-- One row per user and period on a level; valid_to is NULL while the period is current.
-- DISTSTYLE ALL, like users: a few rows per user (one per change of plan), joined to users
-- and songplay by user_id, so a copy on every node keeps those joins local. COMPOUND SORTKEY
-- (user_id, valid_from): a user's periods are read in order.
-- Primary keys are informational on Redshift (not enforced): the transforms rebuild each
-- restaged user's periods, which keeps (user_id, valid_from) unique.
CREATE TABLE IF NOT EXISTS user_level_history (
    user_id    VARCHAR(256) NOT NULL,
    level      VARCHAR(256) NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_to   TIMESTAMP,
    PRIMARY KEY (user_id, valid_from)
)
DISTSTYLE ALL
COMPOUND SORTKEY (user_id, valid_from)
