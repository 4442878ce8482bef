-- 007_admin.sql — what the operator's routes (/admin/...) need: disabled
-- accounts, voided coupons, the audit trail, the indexes that keep every
-- admin list fast, and a daily roll-up that keeps analytics fast.
--
-- Applies on a database that already holds data: new columns are
-- nullable or have constant defaults (no table rewrite), and the roll-up
-- starts empty and is filled by the first analytics call (stats_refresh).

-- A disabled user cannot sign in, refresh, or use an access token on any
-- route that touches the database (docs/admin.md).
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

-- A voided coupon can no longer be redeemed; a redeemed one is never voided.
ALTER TABLE coupons ADD COLUMN voided_at timestamptz;
ALTER TABLE coupons ADD CONSTRAINT coupons_void_unredeemed
    CHECK (voided_at IS NULL OR redeemed_at IS NULL);
ALTER TABLE coupon_batches ADD COLUMN voided_at timestamptz;
ALTER TABLE coupon_batches ADD COLUMN voided integer NOT NULL DEFAULT 0;

-- When each balance was first credited: the user's first scan (analytics'
-- "invitees who scanned").  The redemption inserts the row on the first
-- credit and only updates it afterwards, so the default is all it takes.
-- Existing rows take their first ledger entry.
ALTER TABLE balances ADD COLUMN created_at timestamptz;
UPDATE balances b SET created_at = f.first
  FROM (SELECT user_id, min(created_at) AS first FROM ledger GROUP BY user_id) f
 WHERE f.user_id = b.user_id;
UPDATE balances SET created_at = updated_at WHERE created_at IS NULL;
ALTER TABLE balances ALTER COLUMN created_at SET DEFAULT now(),
                     ALTER COLUMN created_at SET NOT NULL;
CREATE INDEX balances_created_idx ON balances (created_at);

-- Every admin action (POST/PATCH under the admin key): written in the
-- same transaction as its effect, or alone when it was refused.
CREATE TABLE admin_audit (
    id              bigserial PRIMARY KEY,
    method          text NOT NULL,
    route           text NOT NULL,          -- the route pattern, e.g. /admin/users/{id}/disable
    target          text,                   -- what it acted on (id, code, batch)
    client_ip       text,
    status          integer NOT NULL,       -- HTTP status of the answer
    outcome         text NOT NULL,          -- "ok" or the error code
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Lists are newest first by id (the primary keys); these serve the filters.
CREATE INDEX invite_codes_root_idx ON invite_codes (id) WHERE owner_id IS NULL;
CREATE INDEX invite_codes_disabled_idx ON invite_codes (id) WHERE disabled;
CREATE INDEX invite_codes_used_up_idx ON invite_codes (id) WHERE remaining = 0;
CREATE INDEX invite_codes_expiring_idx ON invite_codes (id)
    WHERE expires_at IS NOT NULL;
CREATE INDEX invite_codes_code_prefix_idx ON invite_codes (code text_pattern_ops);
-- Top inviters: user-owned codes by uses taken.
CREATE INDEX invite_codes_used_idx ON invite_codes ((uses - remaining) DESC, id)
    WHERE owner_id IS NOT NULL;
-- A code's invitees in time order (the tree, a code's first use); it
-- replaces the index on invited_by alone.
CREATE INDEX users_invited_by_created_idx ON users (invited_by, created_at);
DROP INDEX users_invited_by_idx;
CREATE INDEX users_email_prefix_idx ON users (lower(email) text_pattern_ops)
    INCLUDE (id);
CREATE INDEX users_phone_prefix_idx ON users (phone text_pattern_ops)
    INCLUDE (id);
-- A batch's coupons in id order (the CSV's keyset pages), and its
-- redeemed ones in time order (batch_redeemed below).
CREATE INDEX coupons_batch_id_idx ON coupons (batch_id, id);
DROP INDEX coupons_batch_idx;
CREATE INDEX coupons_batch_redeemed_idx ON coupons (batch_id, redeemed_at)
    WHERE redeemed_at IS NOT NULL;
-- Days of activity.  Ledger rows arrive in time order, so block ranges
-- suffice for its ten million rows; users get a btree, which also gives
-- the first day of activity at once.
CREATE INDEX users_created_idx ON users (created_at);
CREATE INDEX ledger_created_brin ON ledger USING brin (created_at);

-- One row per finished UTC day: the figures of GET /admin/analytics.
-- Each is additive over days, so any period is a sum of rows.
CREATE TABLE stats_daily (
    day                 date PRIMARY KEY,
    signups_email       integer NOT NULL,  -- accounts with a password
    signups_otp         integer NOT NULL,  -- accounts made by a one-time code
    invite_uses         integer NOT NULL,  -- sign-ups with any invite code
    user_invitees       integer NOT NULL,  -- ... with a code held by a user
    codes_first_used    integer NOT NULL,  -- user codes used for the first time
    invitee_first_scans integer NOT NULL,  -- user-code invitees' first scans
    scans               integer NOT NULL,
    points              bigint NOT NULL
);

-- The figures of UTC day d, computed from the tables themselves: the day's
-- rows are found through the time indexes, and every per-row question
-- (a code's first use, whether a user joined through a user's code) is
-- one index probe written as a scalar subquery, so the planner cannot
-- turn it into a scan of whole tables.  A user's first scan is the
-- creation of their balance.
-- JIT compilation is off: it costs seconds here and saves nothing.
CREATE FUNCTION stats_day(d date) RETURNS stats_daily
LANGUAGE sql STABLE SET jit = off AS $$
    WITH b AS (
        SELECT d::timestamp AT TIME ZONE 'UTC' AS lo,
               (d + 1)::timestamp AT TIME ZONE 'UTC' AS hi),
    s AS (
        SELECT u.password_hash IS NOT NULL AS by_email, u.invited_by,
               (SELECT c.owner_id IS NOT NULL FROM invite_codes c
                 WHERE c.id = u.invited_by) AS by_user
          FROM b, users u
         WHERE u.created_at >= b.lo AND u.created_at < b.hi),
    l AS (
        SELECT user_id, amount FROM b, ledger
         WHERE created_at >= b.lo AND created_at < b.hi AND type = 'scan')
    SELECT d,
        (SELECT count(*) FILTER (WHERE by_email) FROM s)::integer,
        (SELECT count(*) FILTER (WHERE NOT by_email) FROM s)::integer,
        (SELECT count(invited_by) FROM s)::integer,
        (SELECT count(*) FILTER (WHERE by_user) FROM s)::integer,
        (SELECT count(*) FROM b, (SELECT DISTINCT invited_by FROM s
                                   WHERE by_user) x
          WHERE (SELECT min(e.created_at) FROM users e
                  WHERE e.invited_by = x.invited_by) >= b.lo)::integer,
        (SELECT count(*) FROM b, balances f
          WHERE f.created_at >= b.lo AND f.created_at < b.hi
            AND (SELECT c.owner_id IS NOT NULL FROM users u
                   JOIN invite_codes c ON c.id = u.invited_by
                  WHERE u.id = f.user_id))::integer,
        (SELECT count(*) FROM l)::integer,
        (SELECT COALESCE(sum(amount), 0) FROM l)::bigint
$$;

-- Redeemed coupons per batch up to as_of (a UTC midnight), moved forward
-- by stats_refresh; the redemptions since come from the index, so a
-- batch's count costs one probe per day, not one per coupon.
CREATE TABLE batch_redeemed (
    batch_id    bigint PRIMARY KEY REFERENCES coupon_batches (id) ON DELETE CASCADE,
    redeemed    bigint NOT NULL,
    as_of       timestamptz NOT NULL
);

-- The UTC day of the first sign-up (NULL without users).
CREATE FUNCTION stats_first_day() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT (min(created_at) AT TIME ZONE 'UTC')::date FROM users
$$;

-- Rolls up every finished day not yet in stats_daily (a day is finished
-- ten minutes after its end, so late commits still land in it), and moves
-- batch_redeemed to the end of the last finished day.  One caller at a
-- time; the others wait and then find the work done.
CREATE FUNCTION stats_refresh() RETURNS void
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    first_day date;
    last_day date := ((now() AT TIME ZONE 'UTC') - interval '10 minutes')::date - 1;
    upto timestamptz := (last_day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('mod_mocaverse stats_refresh'));
    SELECT COALESCE(max(day) + 1, stats_first_day()) INTO first_day
      FROM stats_daily;
    IF first_day IS NOT NULL AND first_day <= last_day THEN
        INSERT INTO stats_daily
        SELECT s.* FROM generate_series(first_day, last_day, interval '1 day') g,
                        LATERAL stats_day(g::date) s
        ON CONFLICT (day) DO NOTHING;
    END IF;
    INSERT INTO batch_redeemed (batch_id, redeemed, as_of)
    SELECT id, 0, '-infinity' FROM coupon_batches b
     WHERE NOT EXISTS (SELECT 1 FROM batch_redeemed r WHERE r.batch_id = b.id);
    UPDATE batch_redeemed r
       SET redeemed = r.redeemed + (SELECT count(*) FROM coupons c
                                     WHERE c.batch_id = r.batch_id
                                       AND c.redeemed_at >= r.as_of
                                       AND c.redeemed_at < upto),
           as_of = upto
     WHERE r.as_of < upto;
END
$$;