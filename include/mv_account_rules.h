/*
 * mv_account_rules.h - the pure pieces of accounts (no httpd/APR): keys
 * derived from the JWT secret, refresh-token hashing and shape, batches of
 * invite codes as a PostgreSQL array literal, and how many password hashes
 * a process runs at once.
 *
 * sodium_init() must have been called. Every function is thread-safe and
 * allocates nothing.
 */
#ifndef MV_ACCOUNT_RULES_H
#define MV_ACCOUNT_RULES_H

#include <stddef.h>

#include "mv_crypto.h"

#define MV_DERIVED_KEY_LEN 32

/* Label of the key under which refresh tokens are hashed for storage. */
#define MV_REFRESH_KEY_LABEL "mod_mocaverse refresh token v1"
/* Labels of the keys under which lockout accounts and database rate-limit
 * buckets are hashed for storage. */
#define MV_LOCKOUT_KEY_LABEL "mod_mocaverse lockout v1"
#define MV_RATELIMIT_KEY_LABEL "mod_mocaverse rate limit v1"
/* Label of the key under which one-time codes are hashed for storage. */
#define MV_OTP_KEY_LABEL "mod_mocaverse one-time code v1"
/* Label of the key under which Idempotency-Key scopes and request bodies
 * are hashed for storage. */
#define MV_IDEMPOTENCY_KEY_LABEL "mod_mocaverse idempotency v1"

/* Memory that password hashing may take in one process at once, and the
 * most hashes that run at once whatever their cost. */
#define MV_PWHASH_BUDGET_MIB 128
#define MV_PWHASH_SLOTS_MAX 4

/* Writes HMAC-SHA256(secret, label) into out: a key for one purpose,
 * independent of the keys for other labels and of the secret's use as
 * the JWT key. secret may be of any length (NULL only with len 0). */
void mv_derive_key(const unsigned char *secret, size_t secretlen,
                   const char *label, unsigned char out[MV_DERIVED_KEY_LEN]);

/* 1 if s has the shape of a token from mv_opaque_token (exactly
 * MV_OPAQUE_TOKEN_LEN characters of the base64url alphabet), else 0
 * (NULL included). Reads at most MV_OPAQUE_TOKEN_LEN + 1 bytes. */
int mv_opaque_token_valid(const char *s);

/* The stored form of a refresh token: the keyed hash (64 hex chars + NUL,
 * into out) of token under the key derived from secret with
 * MV_REFRESH_KEY_LABEL. */
void mv_refresh_token_hash(const unsigned char *secret, size_t secretlen,
                           const char *token, char out[MV_HASH_HEX_LEN + 1]);

/* Bytes needed by mv_invite_codes_array for count codes of len chars. */
#define MV_INVITE_ARRAY_SIZE(count, len) ((count) * ((len) + 1) + 2)

/* Writes count fresh random invite codes of len characters (see
 * mv_invite_code_generate) as a PostgreSQL text[] literal "{A,B,...}" + NUL
 * into out, which has at least MV_INVITE_ARRAY_SIZE(count, len) bytes.
 * The alphabet needs no quoting. count 0 gives "{}". */
void mv_invite_codes_array(char *out, size_t count, size_t len);

/* How many argon2id computations of mem_mib MiB one process runs at once:
 * MV_PWHASH_BUDGET_MIB / mem_mib, clamped to 1..MV_PWHASH_SLOTS_MAX
 * (mem_mib <= 0 counts as 1 MiB). */
int mv_pwhash_slots(int mem_mib);

#endif /* MV_ACCOUNT_RULES_H */
