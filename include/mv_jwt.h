/*
 * mv_jwt.h - HS256 access tokens (libjwt 1.10 for signing, libsodium and
 * jansson for verification; pure logic, no httpd/APR).
 *
 * libjwt 1.10 accepts HS512 when asked for HS256, ignores exp/nbf/iss and
 * accepts alg "none" with a NULL key, so verification never relies on it:
 * the header is parsed and pinned to HS256 here, the HMAC is recomputed
 * with libsodium and every claim is checked. sodium_init() must have been
 * called. Functions are thread-safe.
 */
#ifndef MV_JWT_H
#define MV_JWT_H

#include <stddef.h>

#define MV_JWT_KEY_MIN 32       /* bytes of HS256 key, shorter is refused */
#define MV_JWT_TOKEN_MAX 4096   /* longer tokens are refused unread */
#define MV_JWT_LEEWAY 60        /* seconds of clock skew allowed for iat */

typedef enum {
    MV_JWT_OK = 0,
    MV_JWT_MALFORMED,       /* not three base64url segments of JSON */
    MV_JWT_BAD_ALG,         /* header alg is not exactly "HS256" */
    MV_JWT_BAD_SIGNATURE,   /* HMAC mismatch, or key too short */
    MV_JWT_EXPIRED,         /* exp <= now */
    MV_JWT_BAD_CLAIMS       /* type, iss, sub, userId, iat, nbf or jti */
} mv_jwt_status;

/* Signs an HS256 access token with claims sub (user id as a decimal
 * string), userId (number), type "access", iss, iat = now,
 * exp = now + ttl and jti. Requires keylen >= MV_JWT_KEY_MIN, user_id > 0,
 * ttl > 0, now >= 0 and non-empty issuer and jti. Returns a malloc'd string
 * the caller frees with free(), or NULL on bad input or failure. */
char *mv_jwt_sign(const unsigned char *key, size_t keylen,
                  const char *issuer, long long user_id,
                  long long now, long long ttl, const char *jti);

/* Verifies an access token: at most MV_JWT_TOKEN_MAX bytes, exactly three
 * base64url segments, header a JSON object with alg exactly "HS256", typ
 * absent or "JWT" and no crit; HMAC-SHA256 over "header.payload" with key
 * compared in constant time; then claims type == "access", iss == issuer,
 * exp a number > now, iat a number <= now + MV_JWT_LEEWAY, nbf (if any) a
 * number <= now + MV_JWT_LEEWAY, jti a string, sub a canonical positive
 * decimal string equal to userId when userId is present. On MV_JWT_OK sets
 * *user_id (when user_id is not NULL); otherwise leaves it untouched.
 * Allocates nothing that outlives the call. */
mv_jwt_status mv_jwt_verify(const unsigned char *key, size_t keylen,
                            const char *issuer, const char *token,
                            long long now, long long *user_id);

/* Static English name of a status, for logs ("ok", "malformed", ...). */
const char *mv_jwt_status_str(mv_jwt_status st);

#endif /* MV_JWT_H */
