-- seed.sql: the data every `make bench` scenario reads, written straight
-- into the schema (no route needed).  psql variables:
--   users       number of ordinary users (ids 1..users), each with an
--               invite code, a balance and ledger_rows ledger entries
--   ledger_rows ledger entries per user (wallet pages are 50 by default)
--   login_email, login_hash   the login user (id users + 1) and its
--               argon2id hash made by `mvbench pwhash` (module's cost)
-- Coupons are added by coupons.sql, range by range.

-- The token of coupon number k: a fixed UUID prefix and k in the last 12
-- hex digits.  bench/wrk/bench.lua builds the same strings, and the
-- pgbench ceiling calls it to turn its per-client counter into a token.
CREATE FUNCTION bench_token(k bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ('00000000-0000-4000-8000-' || lpad(to_hex(k), 12, '0'))::uuid;

INSERT INTO users (id, email, created_at)
SELECT n, 'bench-' || n || '@example.com', now() - interval '30 days'
FROM generate_series(1, :users) AS n;

INSERT INTO users (id, email, password_hash)
VALUES (:users + 1, :'login_email', :'login_hash');

SELECT setval(pg_get_serial_sequence('users', 'id'), :users + 1);

-- One invite code per user, as registration would have made.
INSERT INTO invite_codes (code, owner_id, uses, remaining)
SELECT 'BN' || lpad(n::text, 8, '0'), n, 10, 10
FROM generate_series(1, :users + 1) AS n;

INSERT INTO ledger (user_id, amount, type, created_at)
SELECT u, 1 + (u + i) % 50, 'adjustment',
       now() - interval '30 days' + i * interval '1 minute'
FROM generate_series(1, :users) AS u, generate_series(1, :ledger_rows) AS i;

INSERT INTO balances (user_id, balance)
SELECT n, coalesce((SELECT sum(amount) FROM ledger WHERE user_id = n), 0)
FROM generate_series(1, :users + 1) AS n;

INSERT INTO coupon_batches (id, name, points, count)
VALUES (1, 'bench', 10, 1);
SELECT setval(pg_get_serial_sequence('coupon_batches', 'id'), 1);
