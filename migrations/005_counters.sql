-- 005_counters.sql — one shape for the two counters of 004, so the module
-- counts both with one statement (src/counter.c).
--
-- (Migrations are numbered 001 and 004: 002 and 003 were never released,
-- and deployed databases have recorded the names in schema_migrations, so
-- the files keep them.)
--
-- The counts stay in two tables because they are kept differently:
-- rate_limits is UNLOGGED (a crash forgives current windows, and a hit
-- costs no write-ahead log), while login_failures must survive a crash so
-- that a lockout cannot be cleared by one.  Only column names change; the
-- rows and their keyed hashes are kept.
ALTER TABLE login_failures RENAME COLUMN account TO bucket;
ALTER TABLE login_failures RENAME COLUMN failures TO hits;
ALTER TABLE login_failures RENAME CONSTRAINT login_failures_failures_check
    TO login_failures_hits_check;
