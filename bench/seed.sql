-- seed.sql: what `make bench` adds to the module's schema for its
-- pgbench ceilings, and nothing else: users, access tokens, coupons and
-- the ledger history are all made through the module's own routes
-- (bench/run.sh).
--
-- bench_tokens numbers the coupon tokens of one pgbench run (random
-- UUIDv4 that POST /coupons/generate made, in random order): pgbench has
-- no string variables, so its scripts find the k-th token with a one-row
-- primary-key lookup, (SELECT token FROM bench_tokens WHERE n = k).
CREATE TABLE bench_tokens (
    n     integer PRIMARY KEY,
    token uuid NOT NULL
);
