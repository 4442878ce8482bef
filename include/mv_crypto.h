/*
 * mv_crypto.h - random identifiers, keyed hashes and password hashing
 * (libsodium only; pure logic, no httpd/APR).
 *
 * Every function assumes sodium_init() has already succeeded (the module
 * calls it at startup). All functions are thread-safe and allocate no
 * memory that the caller must free.
 */
#ifndef MV_CRYPTO_H
#define MV_CRYPTO_H

#include <stddef.h>

/* No I, L, O, U: 32 symbols, so randombytes_uniform(32) is unbiased. */
#define MV_INVITE_ALPHABET "ABCDEFGHJKMNPQRSTVWXYZ0123456789"
#define MV_INVITE_ALPHABET_LEN 32
#define MV_INVITE_LEN_MIN 6
#define MV_INVITE_LEN_MAX 16

#define MV_UUID_LEN 36
#define MV_OTP_LEN 6
#define MV_OPAQUE_TOKEN_LEN 43   /* 32 bytes, unpadded base64url */
#define MV_HASH_HEX_LEN 64       /* HMAC-SHA256 in hex */
#define MV_PASSWORD_HASH_MAX 128 /* == crypto_pwhash_STRBYTES */

/* Writes len random characters of MV_INVITE_ALPHABET plus a NUL into out,
 * which the caller provides with at least len + 1 bytes. */
void mv_invite_code_generate(char *out, size_t len);

/* Writes a random UUIDv4, lowercase canonical form (36 chars + NUL). */
void mv_uuid_v4(char out[37]);

/* 1 if s is a canonical UUID (8-4-4-4-12 hex digits, any case, any
 * version), else 0. On success writes the lowercase form to out when out
 * is not NULL (out may equal s). */
int mv_uuid_parse(const char *s, char out[37]);

/* Writes six uniformly random decimal digits, zero-padded, + NUL. */
void mv_otp_generate(char out[7]);

/* Writes 32 random bytes as unpadded base64url (43 chars) + NUL. */
void mv_opaque_token(char out[MV_OPAQUE_TOKEN_LEN + 1]);

/* Keyed hash for stored secrets (refresh tokens, OTPs):
 * HMAC-SHA256(key, msg) as 64 lowercase hex chars + NUL into out. */
void mv_keyed_hash_hex(const unsigned char *key, size_t keylen, const char *msg,
                       size_t msglen, char out[MV_HASH_HEX_LEN + 1]);

/* Constant-time comparison of a[0..alen) and b[0..blen): 1 if equal, else
 * 0. Both inputs are MACed under a fresh random key and the MACs are
 * compared, so the time depends on the lengths but not on the contents.
 * NULL is allowed with a length of 0. */
int mv_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* argon2id hash of pw[0..pwlen) (crypto_pwhash_str_alg, ALG_ARGON2ID13)
 * written as a NUL-terminated string into the caller's out, which has
 * MV_PASSWORD_HASH_MAX bytes. memlimit is in bytes. 0 ok, -1 on failure
 * (out of memory, or limits outside libsodium's bounds). */
int mv_password_hash(const char *pw, size_t pwlen, unsigned long long opslimit,
                     size_t memlimit, char *out);

/* 1 if pw[0..pwlen) matches the argon2id hash string, 0 otherwise
 * (including for NULL, over-long or non-argon2id hash strings). */
int mv_password_verify(const char *hash, const char *pw, size_t pwlen);

/* ------------------------------------------------ keys and stored hashes */

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

/* Writes HMAC-SHA256(secret, label) into out: a key for one purpose,
 * independent of the keys for other labels and of the secret's use as
 * the JWT key. secret may be of any length (NULL only with len 0). */
void mv_derive_key(const unsigned char *secret, size_t secretlen,
                   const char *label, unsigned char out[MV_DERIVED_KEY_LEN]);

/* The stored form of a refresh token: the keyed hash (64 hex chars + NUL,
 * into out) of token under the key derived from secret with
 * MV_REFRESH_KEY_LABEL. */
void mv_refresh_token_hash(const unsigned char *secret, size_t secretlen,
                           const char *token, char out[MV_HASH_HEX_LEN + 1]);

/* The stored form of a one-time code: HMAC-SHA256 under key over
 * "destination\ncode", as hex + NUL into out.  Binding the destination
 * keeps equal codes for different people from having equal hashes. */
void mv_otp_hash(const unsigned char *key, size_t keylen,
                 const char *destination, const char *code,
                 char out[MV_HASH_HEX_LEN + 1]);

/* ----------------------------------------- batches as PostgreSQL arrays */

/* Bytes needed by mv_invite_codes_array for count codes of len chars. */
#define MV_INVITE_ARRAY_SIZE(count, len) ((count) * ((len) + 1) + 2)

/* Writes count fresh random invite codes of len characters (see
 * mv_invite_code_generate) as a PostgreSQL text[] literal "{A,B,...}" + NUL
 * into out, which has at least MV_INVITE_ARRAY_SIZE(count, len) bytes.
 * The alphabet needs no quoting. count 0 gives "{}". */
void mv_invite_codes_array(char *out, size_t count, size_t len);

/* Bytes that mv_uuid_array writes for n tokens, NUL included. */
#define MV_UUID_ARRAY_SIZE(n) ((size_t)(n) * (MV_UUID_LEN + 1) + 3)
/* Offset of the i-th token (MV_UUID_LEN characters) in such an array. */
#define MV_UUID_ARRAY_AT(i) (1 + (size_t)(i) * (MV_UUID_LEN + 1))

/* Writes n fresh UUIDv4 as a PostgreSQL array literal "{u1,u2,...}" + NUL
 * into out, which has MV_UUID_ARRAY_SIZE(n) bytes; token i starts at
 * MV_UUID_ARRAY_AT(i).  Returns the length written (without the NUL). */
size_t mv_uuid_array(char *out, size_t n);

/* ------------------------------------------------------ password hashing */

/* Memory that password hashing may take in one process at once, and the
 * most hashes that run at once whatever their cost. */
#define MV_PWHASH_BUDGET_MIB 128
#define MV_PWHASH_SLOTS_MAX 4

/* How many argon2id computations of mem_mib MiB one process runs at once:
 * MV_PWHASH_BUDGET_MIB / mem_mib, clamped to 1..MV_PWHASH_SLOTS_MAX
 * (mem_mib <= 0 counts as 1 MiB). */
int mv_pwhash_slots(int mem_mib);

#endif /* MV_CRYPTO_H */
