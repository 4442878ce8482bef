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

/* Normalises user input: drops spaces and '-', uppercases ASCII letters;
 * the result must be MV_INVITE_LEN_MIN..MV_INVITE_LEN_MAX characters of the
 * alphabet. Returns the code length (NUL written after it) into the
 * caller's out (outsz >= MV_INVITE_LEN_MAX + 1), or -1 if invalid, in which
 * case out holds "" when outsz > 0. */
int mv_invite_code_normalize(const char *in, char *out, size_t outsz);

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

#endif /* MV_CRYPTO_H */
