-- 004_rate_limits.sql — counts for MocaverseRateLimitStore database and
-- for MocaverseLoginLockout, shared by every httpd host on this database.
--
-- Both tables hold one row per bucket: a fixed window anchored at the
-- bucket's first hit, ending at reset_at, with the number of hits in it
-- (saturating at the limit + 1).  The module updates a row with a single
-- INSERT ... ON CONFLICT DO UPDATE, so concurrent hits from any number of
-- processes and hosts are counted exactly; rows whose window has ended
-- are swept now and then.  Keys are keyed hashes (HMAC-SHA256 in hex) of
-- the group and client address, or of the account: no address is stored.

-- Lost on a crash by design (a crash forgives current windows): UNLOGGED
-- spares the write-ahead log one record per request.
CREATE UNLOGGED TABLE rate_limits (
    bucket          text PRIMARY KEY,
    hits            integer NOT NULL CHECK (hits > 0),
    reset_at        timestamptz NOT NULL
);

CREATE TABLE login_failures (
    account         text PRIMARY KEY,
    failures        integer NOT NULL CHECK (failures > 0),
    reset_at        timestamptz NOT NULL
);
