-- 001_init.sql — the whole data model of SPEC §5.
--
-- The rules that matter hold in the database itself, whatever the module
-- does: unique e-mail regardless of case, unique phone, one code per user,
-- remaining uses never negative, one scan per coupon, a ledger entry per
-- scan, and balances that cannot drift from the ledger's sign rules.
-- Applied by the database owner; needs no extension.

CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    email           text,
    phone           text,
    password_hash   text,
    invited_by      bigint,                 -- invite_codes.id used to join
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_has_identity CHECK (email IS NOT NULL OR phone IS NOT NULL),
    CONSTRAINT users_email_length CHECK (length(email) <= 254),
    CONSTRAINT users_phone_format CHECK (phone ~ '^\+?[0-9]{8,15}$')
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_phone_key ON users (phone);

CREATE TABLE invite_codes (
    id              bigserial PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    owner_id        bigint UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    uses            integer NOT NULL,       -- uses granted
    remaining       integer NOT NULL,
    expires_at      timestamptz,
    disabled        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invite_codes_remaining_range
        CHECK (remaining >= 0 AND remaining <= uses),
    CONSTRAINT invite_codes_code_format CHECK (code ~ '^[A-HJKMNP-TV-Z0-9]{6,16}$')
);

ALTER TABLE users ADD CONSTRAINT users_invited_by_fkey
    FOREIGN KEY (invited_by) REFERENCES invite_codes (id) ON DELETE SET NULL;
CREATE INDEX users_invited_by_idx ON users (invited_by);

-- A family is one login's chain of rotated refresh tokens.
CREATE TABLE refresh_families (
    id              bigserial PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at      timestamptz NOT NULL,   -- absolute: no rotation extends it
    revoked_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id);

CREATE TABLE refresh_tokens (
    id              bigserial PRIMARY KEY,
    family_id       bigint NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    token_hash      text NOT NULL UNIQUE,   -- keyed hash; the token is never stored
    rotated_at      timestamptz,            -- set when exchanged for its successor
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- One-time codes for phone or e-mail login.
CREATE TABLE otp_codes (
    id              bigserial PRIMARY KEY,
    destination     text NOT NULL,          -- normalised phone or lower-case e-mail
    code_hash       text NOT NULL,
    expires_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    used_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT otp_codes_attempts_nonnegative CHECK (attempts >= 0)
);
CREATE INDEX otp_codes_destination_idx ON otp_codes (destination, created_at DESC);

CREATE TABLE coupon_batches (
    id              bigserial PRIMARY KEY,
    name            text,
    sku             text,
    points          integer NOT NULL,
    count           integer NOT NULL,
    expires_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT coupon_batches_points_range CHECK (points BETWEEN 1 AND 1000000),
    CONSTRAINT coupon_batches_count_positive CHECK (count >= 1)
);

CREATE TABLE coupons (
    id              bigserial PRIMARY KEY,
    batch_id        bigint NOT NULL REFERENCES coupon_batches (id) ON DELETE CASCADE,
    token           uuid NOT NULL UNIQUE,
    points          integer NOT NULL,
    expires_at      timestamptz,
    redeemed_at     timestamptz,
    redeemed_by     bigint REFERENCES users (id),
    CONSTRAINT coupons_points_range CHECK (points BETWEEN 1 AND 1000000),
    CONSTRAINT coupons_redeemed_together
        CHECK ((redeemed_at IS NULL) = (redeemed_by IS NULL))
);
CREATE INDEX coupons_batch_idx ON coupons (batch_id);

CREATE TABLE scans (
    id              bigserial PRIMARY KEY,
    coupon_id       bigint NOT NULL UNIQUE REFERENCES coupons (id),
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id       text,
    gps             text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scans_user_idx ON scans (user_id);

CREATE TABLE ledger (
    id              bigserial PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amount          bigint NOT NULL,
    type            text NOT NULL,
    coupon_id       bigint REFERENCES coupons (id),
    scan_id         bigint UNIQUE REFERENCES scans (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_amount_nonzero CHECK (amount <> 0),
    CONSTRAINT ledger_type_known CHECK (type IN ('scan', 'adjustment')),
    CONSTRAINT ledger_scan_has_scan CHECK (type <> 'scan' OR scan_id IS NOT NULL)
);
CREATE INDEX ledger_user_idx ON ledger (user_id, id DESC);

-- The maintained balance: changed in the same transaction as each ledger
-- entry, so reading a wallet never sums the ledger.
CREATE TABLE balances (
    user_id         bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    balance         bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
