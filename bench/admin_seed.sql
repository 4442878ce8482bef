-- bench/admin_seed.sql — a realistic data set for the admin routes
-- (make bench-admin, docs/BENCHMARKS.md "Admin routes at scale").
--
--   psql -v users=1000000 -v ledger=10000000 -v batches=1000 -f bench/admin_seed.sql
--
-- On an empty, migrated database, as its owner; set-based (generate_series),
-- so 1M users and 10M ledger rows take minutes, not hours.
--
-- Shape: two years of growth ending now.  Invite trees nine levels deep
-- (depth 0..8): level 0 joined with one of users/511 root codes, and each
-- level is twice the one before, every user invited by an earlier-level
-- user chosen with a skew (a few users invite many; uses granted grow to
-- fit).  Ids follow time, as in production.  60% sign up with e-mail and
-- password, 40% with a phone one-time code.  Every ledger row is a scan
-- of its own coupon by a user who existed by then; coupons come in
-- `batches` batches of ledger/batches redeemed coupons plus 10% never
-- redeemed, a tenth of the batches expired.  Balances match the ledger.
\set ON_ERROR_STOP on
\timing on
SET TimeZone = 'UTC';
SET synchronous_commit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';

SELECT :users / 511 AS level0 \gset
SELECT set_config('seed.level0', :'level0', false),
       set_config('seed.users', :'users', false) \gset

-- Foreign keys and plain indexes are dropped while loading and made again
-- afterwards (one validating join each instead of a check per row); their
-- definitions are read from the catalog, so later migrations' are kept.
CREATE TEMP TABLE saved_fk AS
SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
  FROM pg_constraint
 WHERE contype = 'f' AND connamespace = 'public'::regnamespace;
CREATE TEMP TABLE saved_index AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
 WHERE t.relname IN ('users', 'invite_codes', 'coupons', 'scans', 'ledger', 'balances')
   AND t.relnamespace = 'public'::regnamespace
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM saved_fk LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;
    FOR r IN SELECT * FROM saved_index LOOP
        EXECUTE format('DROP INDEX %s', r.name);
    END LOOP;
END $$;

-- An 8-character invite code for n, unique for n < 32^8: n scrambled by
-- an odd multiplier modulo 32^8 (a bijection), in the code alphabet.
CREATE FUNCTION pg_temp.code_of(n bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(substr('ABCDEFGHJKMNPQRSTVWXYZ0123456789',
                             ((((n * 2654435761) % 1099511627776) >> (5 * i)) % 32)::int + 1, 1), '' ORDER BY i)
      FROM generate_series(0, 7) i
$$;

-- When user n (1..users) joined: ids spread evenly over the period.
CREATE FUNCTION pg_temp.joined(n bigint, total bigint, days int)
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT now() - make_interval(days => days)
           + (n::float8 / total) * make_interval(days => days - 1)
$$;

-- Root codes: ids 1..level0; user n's own code: id level0 + n.
INSERT INTO invite_codes (id, code, uses, remaining, created_at)
SELECT g, pg_temp.code_of(:users + g), 1000, 1000,
       now() - make_interval(days => 731)
  FROM generate_series(1, :level0) g;

-- Users level by level: level k holds ids [level0*(2^k-1)+1, level0*(2^(k+1)-1)].
DO $$
DECLARE
    l0 bigint := current_setting('seed.level0')::bigint;
    total bigint := current_setting('seed.users')::bigint;
    k int; lo bigint; hi bigint; plo bigint; phi bigint;
BEGIN
    FOR k IN 0..8 LOOP
        lo := l0 * (2 ^ k - 1)::bigint + 1;
        hi := CASE WHEN k = 8 THEN total ELSE l0 * (2 ^ (k + 1) - 1)::bigint END;
        plo := l0 * (2 ^ (k - 1) - 1)::bigint + 1;
        phi := lo - 1;
        INSERT INTO users (id, email, phone, password_hash, invited_by, created_at)
        SELECT n,
               CASE WHEN n % 5 < 3 THEN 'user' || n || '@example.com' END,
               CASE WHEN n % 5 >= 3 THEN '+49' || (1500000000 + n) END,
               CASE WHEN n % 5 < 3 THEN '$argon2id$v=19$m=19456,t=2,p=1$seed$seed' END,
               CASE WHEN k = 0 THEN 1 + (n % l0)
                    -- a skewed pick among the previous level: low ids invite more
                    ELSE l0 + plo + floor((phi - plo + 1) * power(random(), 3))::bigint
               END,
               pg_temp.joined(n, total, 730)
          FROM generate_series(lo, hi) n;
        INSERT INTO invite_codes (id, code, owner_id, uses, remaining, created_at)
        SELECT l0 + n, pg_temp.code_of(n), n, 10, 10, pg_temp.joined(n, total, 730)
          FROM generate_series(lo, hi) n;
    END LOOP;
END $$;

-- Invite uses: uses granted grow to fit the skew, remaining = the rest.
UPDATE invite_codes c SET uses = GREATEST(c.uses, n.used),
       remaining = GREATEST(c.uses, n.used) - n.used
  FROM (SELECT invited_by, count(*) AS used FROM users GROUP BY invited_by) n
 WHERE n.invited_by = c.id;

-- Scans in time order: each by a user among the 70% who scan, some time
-- after they joined.  Row k is scan k, ledger entry k and coupon k.
SELECT :ledger / :batches AS per_batch \gset
CREATE TEMP TABLE s AS
SELECT row_number() OVER (ORDER BY t) AS k, u, t FROM (
    SELECT u, j + random() * (now() - interval '1 minute' - j) AS t
      FROM (SELECT u, pg_temp.joined(u, :users, 730) AS j
              FROM (SELECT LEAST(:users, (r / 7) * 10 + r % 7 + 1) AS u
                      FROM (SELECT floor(random() * (:users * 0.7))::bigint AS r
                              FROM generate_series(1, :ledger)) a) b) c) d;

INSERT INTO coupon_batches (id, name, sku, points, count, expires_at, created_at)
SELECT b, 'Batch ' || b, 'SKU-' || (b % 50), 10 * (1 + b % 10),
       :per_batch + :per_batch / 10,
       CASE WHEN b % 10 = 0 THEN max(t) + interval '1 day' END,
       min(t) - interval '1 day'
  FROM (SELECT (k - 1) / :per_batch + 1 AS b, t FROM s) x
 GROUP BY b;

INSERT INTO coupons (id, batch_id, token, points, expires_at, redeemed_at, redeemed_by)
SELECT s.k, b.id, gen_random_uuid(), b.points, b.expires_at, s.t, s.u
  FROM s JOIN coupon_batches b ON b.id = (s.k - 1) / :per_batch + 1;
INSERT INTO coupons (id, batch_id, token, points, expires_at)
SELECT :ledger + g, b.id, gen_random_uuid(), b.points, b.expires_at
  FROM generate_series(1, :ledger / 10) g
  JOIN coupon_batches b ON b.id = (g - 1) / (:per_batch / 10) + 1;

INSERT INTO scans (id, coupon_id, user_id, device_id, created_at)
SELECT k, k, u, 'seed', t FROM s;
INSERT INTO ledger (id, user_id, amount, type, coupon_id, scan_id, created_at)
SELECT s.k, s.u, c.points, 'scan', s.k, s.k, s.t
  FROM s JOIN coupons c ON c.id = s.k;
INSERT INTO balances (user_id, balance, updated_at, created_at)
SELECT user_id, sum(amount), max(created_at), min(created_at)
  FROM ledger GROUP BY user_id;

SELECT setval('users_id_seq', (SELECT max(id) FROM users)),
       setval('invite_codes_id_seq', (SELECT max(id) FROM invite_codes)),
       setval('coupon_batches_id_seq', (SELECT max(id) FROM coupon_batches)),
       setval('coupons_id_seq', (SELECT max(id) FROM coupons)),
       setval('scans_id_seq', (SELECT max(id) FROM scans)),
       setval('ledger_id_seq', (SELECT max(id) FROM ledger));

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM saved_index LOOP
        EXECUTE r.def;
    END LOOP;
    FOR r IN SELECT * FROM saved_fk LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tbl, r.conname, r.def);
    END LOOP;
END $$;

VACUUM ANALYZE users, invite_codes, coupon_batches, coupons, scans, ledger,
    balances;
-- The daily roll-up of every finished day, as a running system has it.
SELECT stats_refresh();
