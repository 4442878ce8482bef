/*
 * mv_jwt.h - HS256 access tokens (libjwt 1.10 for signing, libsodium and
 * jansson for verification; pure logic, no httpd/APR).
 *
 * libjwt 1.10 accepts HS512 when asked for HS256, ignores exp/nbf/iss and
 * accepts alg "none" with a NULL key, so verification never relies on it:
 * the header must be the one header this module signs (which pins HS256),
 * the HMAC is recomputed with libsodium and every claim is checked.
 * sodium_init() must have been called. Functions are thread-safe.
 */
#ifndef MV_JWT_H
#define MV_JWT_H

#include <stddef.h>

#include <sodium.h>

#define MV_JWT_KEY_MIN 32     /* bytes of HS256 key, shorter is refused */
#define MV_JWT_TOKEN_MAX 4096 /* longer tokens are refused unread */
#define MV_JWT_LEEWAY 60      /* seconds of clock skew allowed for iat */

/* The header segment of every token mv_jwt_sign makes and the only one
 * mv_jwt_verify accepts: unpadded base64url of {"alg":"HS256","typ":"JWT"},
 * byte for byte as libjwt 1.10 writes it. */
#define MV_JWT_HEADER "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

typedef enum {
    MV_JWT_OK = 0,
    MV_JWT_MALFORMED,     /* not three base64url segments, header not
                             MV_JWT_HEADER, or claims not a JSON object */
    MV_JWT_BAD_ALG,       /* header alg is not exactly "HS256" */
    MV_JWT_BAD_SIGNATURE, /* HMAC mismatch, or key too short */
    MV_JWT_EXPIRED,       /* exp <= now */
    MV_JWT_BAD_CLAIMS     /* type, iss, sub, userId, iat, nbf or jti */
} mv_jwt_status;

/* A verification key prepared once: the HMAC-SHA256 state with the key's
 * inner and outer pads already absorbed, copied for each verification.
 * It is as secret as the key: clear it with mv_jwt_key_clear. */
typedef struct mv_jwt_key {
    crypto_auth_hmacsha256_state hmac;
    int ready; /* 0: the key was refused, nothing verifies */
} mv_jwt_key;

/* Signs an HS256 access token with claims sub (user id as a decimal
 * string), userId (number), type "access", iss, iat = now,
 * exp = now + ttl and jti, under the header MV_JWT_HEADER. Requires
 * keylen >= MV_JWT_KEY_MIN, user_id > 0, ttl > 0, now >= 0 and non-empty
 * issuer and jti. Returns a malloc'd string the caller frees with free(),
 * or NULL on bad input or failure (including a libjwt that would write
 * another header, so no token is issued that mv_jwt_verify refuses). */
char *mv_jwt_sign(const unsigned char *key, size_t keylen, const char *issuer,
                  long long user_id, long long now, long long ttl,
                  const char *jti);

/* Prepares *k for key[0..keylen). Returns 0, or -1 (and a k that verifies
 * nothing) when key is NULL or shorter than MV_JWT_KEY_MIN. k owns no
 * memory; it holds secret state until mv_jwt_key_clear. */
int mv_jwt_key_init(mv_jwt_key *k, const unsigned char *key, size_t keylen);

/* Zeroes *k (sodium_memzero); it then verifies nothing. */
void mv_jwt_key_clear(mv_jwt_key *k);

/* Verifies an access token: at most MV_JWT_TOKEN_MAX bytes, exactly three
 * strict base64url segments, the header segment exactly MV_JWT_HEADER
 * (another header is MV_JWT_BAD_ALG when it decodes to a JSON object whose
 * alg is not "HS256", else MV_JWT_MALFORMED); HMAC-SHA256 under k over
 * "header.payload" compared in constant time; then claims, a JSON object
 * without duplicate keys: type == "access", iss == issuer, exp a number
 * > now, iat a number <= now + MV_JWT_LEEWAY, nbf (if any) a number
 * <= now + MV_JWT_LEEWAY, jti a string, sub a canonical positive decimal
 * string equal to userId when userId is present. A NULL or refused k gives
 * MV_JWT_BAD_SIGNATURE. On MV_JWT_OK sets *user_id (when user_id is not
 * NULL); otherwise leaves it untouched. Allocates nothing that outlives
 * the call; k is only read. */
mv_jwt_status mv_jwt_verify_with(const mv_jwt_key *k, const char *issuer,
                                 const char *token, long long now,
                                 long long *user_id);

/* mv_jwt_verify_with under a key prepared for this call only (and cleared
 * after it): for callers that verify once per key. */
mv_jwt_status mv_jwt_verify(const unsigned char *key, size_t keylen,
                            const char *issuer, const char *token,
                            long long now, long long *user_id);

#endif /* MV_JWT_H */
