-- 006_idempotency.sql — answers kept for Idempotency-Key (README,
-- "Idempotency-Key").
--
-- One row per key that was answered: written by the same transaction as
-- the request's effect, so a row exists exactly when the effect committed.
-- key_hash is a keyed hash (HMAC-SHA256 in hex) of the caller (a user, or
-- the admin key), the route and the key, so neither the admin key nor a
-- user's key is stored in clear; fingerprint is a keyed hash of the
-- request body.  Rows live until expires_at (MocaverseIdempotencyTTL after
-- the answer) and are pruned by the module itself.  The table is new, so
-- it applies on a database that already holds data.

CREATE TABLE idempotency_keys (
    key_hash        text PRIMARY KEY,
    fingerprint     text NOT NULL,
    status          integer NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_status_range CHECK (status BETWEEN 200 AND 499)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
