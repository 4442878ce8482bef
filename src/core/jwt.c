/*
 * jwt.c - HS256 access tokens (see mv_jwt.h). The only file of the
 * project that calls libjwt, and only to sign: verification is done here
 * with jansson and libsodium because libjwt 1.10 does not pin the
 * algorithm nor check any claim.
 *
 * Verification is on every authenticated request, so it avoids work that
 * buys no security: the header is compared with the one header signed
 * here instead of being decoded and parsed, the HMAC key schedule is done
 * once per key (mv_jwt_key) and the public segments are decoded with a
 * plain strict base64url decoder. Only the MAC comparison needs constant
 * time, and it has it.
 */
#include "mv_jwt.h"
#include "mv_validate.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>
#include <sodium.h>

#define MV_JWT_SIG_B64_LEN 43   /* 32-byte HMAC, unpadded base64url */

/* Signed access token as a malloc'd string (caller frees), or NULL. */
char *mv_jwt_sign(const unsigned char *key, size_t keylen,
                  const char *issuer, long long user_id,
                  long long now, long long ttl, const char *jti)
{
    jwt_t *jwt = NULL;
    char *out = NULL;
    char sub[32];

    if (key == NULL || keylen < MV_JWT_KEY_MIN || keylen > INT_MAX) {
        return NULL;
    }
    if (issuer == NULL || *issuer == '\0' || jti == NULL || *jti == '\0') {
        return NULL;
    }
    if (user_id <= 0 || now < 0 || ttl <= 0 || now > LLONG_MAX - ttl) {
        return NULL;
    }
    /* jwt_add_grant_int takes a long */
    if (user_id > LONG_MAX || now + ttl > LONG_MAX) {
        return NULL;
    }
    snprintf(sub, sizeof sub, "%lld", user_id);

    if (jwt_new(&jwt) != 0) {
        return NULL;
    }
    if (jwt_add_grant(jwt, "sub", sub) == 0
        && jwt_add_grant_int(jwt, "userId", (long)user_id) == 0
        && jwt_add_grant(jwt, "type", "access") == 0
        && jwt_add_grant(jwt, "iss", issuer) == 0
        && jwt_add_grant_int(jwt, "iat", (long)now) == 0
        && jwt_add_grant_int(jwt, "exp", (long)(now + ttl)) == 0
        && jwt_add_grant(jwt, "jti", jti) == 0
        && jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen) == 0) {
        out = jwt_encode_str(jwt);
    }
    jwt_free(jwt);
    /* mv_jwt_verify accepts only this header: never issue another one */
    if (out != NULL && strncmp(out, MV_JWT_HEADER ".",
                               sizeof MV_JWT_HEADER) != 0) {
        free(out);
        out = NULL;
    }
    return out;
}

/* Value of the base64url character c, or -1 for any other byte; the
 * table below is this macro applied to every byte value. */
#define MV_B64V(c)                                                        \
    ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                               \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                          \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                          \
     : (c) == '-'               ? 62                                      \
     : (c) == '_'               ? 63                                      \
                                : -1)
#define MV_B64V4(c) MV_B64V(c), MV_B64V((c) + 1), MV_B64V((c) + 2),       \
                    MV_B64V((c) + 3)
#define MV_B64V16(c) MV_B64V4(c), MV_B64V4((c) + 4), MV_B64V4((c) + 8),   \
                     MV_B64V4((c) + 12)
#define MV_B64V64(c) MV_B64V16(c), MV_B64V16((c) + 16),                   \
                     MV_B64V16((c) + 32), MV_B64V16((c) + 48)

static const signed char mv_jwt_b64url_value[256] = {
    MV_B64V64(0), MV_B64V64(64), MV_B64V64(128), MV_B64V64(192)
};

/* Decodes the unpadded base64url text b64[0..len) into out (outsz bytes)
 * and sets *outlen. Strict, as sodium_base642bin with the URL-safe
 * no-padding variant: only the 64 characters, no padding, no length of the
 * form 4n + 1, and the unused low bits of the last character zero, so a
 * byte string has exactly one accepted spelling. Returns 0, or -1 when the
 * text is invalid or decodes to more than outsz bytes. Branches on the
 * data: for public input only (the token as received), never a secret. */
static int mv_jwt_b64url_decode(const char *b64, size_t len,
                                unsigned char *out, size_t outsz,
                                size_t *outlen)
{
    unsigned int acc = 0, bits = 0;
    size_t i, n = 0;
    int v;

    if (len % 4 == 1) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        v = mv_jwt_b64url_value[(unsigned char)b64[i]];
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == outsz) {
                return -1;
            }
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0) {
        return -1;
    }
    *outlen = n;
    return 0;
}

/* Decodes the base64url segment b64[0..len) and parses it as a JSON
 * object (duplicate keys refused). Returns a new reference the caller
 * releases with json_decref(), or NULL. */
static json_t *mv_jwt_segment_json(const char *b64, size_t len)
{
    unsigned char buf[MV_JWT_TOKEN_MAX];
    size_t binlen = 0;
    json_t *obj;

    if (len == 0
        || mv_jwt_b64url_decode(b64, len, buf, sizeof buf, &binlen) != 0) {
        return NULL;
    }
    obj = json_loadb((const char *)buf, binlen, JSON_REJECT_DUPLICATES,
                     NULL);
    if (obj != NULL && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* The refusal status of a header segment hdr[0..len) that is not
 * MV_JWT_HEADER: MV_JWT_BAD_ALG when it is a JSON object whose alg is not
 * the string "HS256" (missing, "none", another algorithm), else
 * MV_JWT_MALFORMED. Only names the refusal; never accepts. */
static mv_jwt_status mv_jwt_header_refusal(const char *hdr, size_t len)
{
    json_t *obj = mv_jwt_segment_json(hdr, len);
    json_t *alg;
    mv_jwt_status st = MV_JWT_MALFORMED;

    if (obj == NULL) {
        return MV_JWT_MALFORMED;
    }
    alg = json_object_get(obj, "alg");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256")) {
        st = MV_JWT_BAD_ALG;
    }
    json_decref(obj);
    return st;
}

/* 1 if the signature segment sig[0..siglen) is the HMAC-SHA256 under k of
 * signed_part[0..signedlen), compared in constant time; else 0. The
 * segment is decoded first (it is the client's, not a secret); the MAC
 * computed here is never decoded, encoded or branched on. */
static int mv_jwt_check_hmac(const mv_jwt_key *k,
                             const char *signed_part, size_t signedlen,
                             const char *sig, size_t siglen)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    unsigned char got[crypto_auth_hmacsha256_BYTES];
    size_t gotlen = 0;
    int ok;

    if (siglen != MV_JWT_SIG_B64_LEN
        || mv_jwt_b64url_decode(sig, siglen, got, sizeof got, &gotlen) != 0
        || gotlen != sizeof got) {
        return 0;
    }
    memcpy(&st, &k->hmac, sizeof st);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)signed_part,
                                  signedlen);
    crypto_auth_hmacsha256_final(&st, mac);
    ok = sodium_memcmp(mac, got, sizeof mac) == 0;
    sodium_memzero(&st, sizeof st);
    sodium_memzero(mac, sizeof mac);
    return ok;
}

/* 1 if v is a JSON number whose value is <= limit; else 0. */
static int mv_jwt_number_le(json_t *v, long long limit)
{
    if (json_is_integer(v)) {
        return json_integer_value(v) <= limit;
    }
    if (json_is_real(v)) {
        return json_real_value(v) <= (double)limit;
    }
    return 0;
}

/* now + MV_JWT_LEEWAY, saturated at LLONG_MAX. */
static long long mv_jwt_skewed(long long now)
{
    return now > LLONG_MAX - MV_JWT_LEEWAY ? LLONG_MAX : now + MV_JWT_LEEWAY;
}

/* MV_JWT_OK and *uid set if the claims object is a valid access token at
 * time now for issuer, else the refusal status. */
static mv_jwt_status mv_jwt_check_claims(json_t *c, const char *issuer,
                                         long long now, long long *uid)
{
    json_t *type = json_object_get(c, "type");
    json_t *iss = json_object_get(c, "iss");
    json_t *sub = json_object_get(c, "sub");
    json_t *user = json_object_get(c, "userId");
    json_t *jti = json_object_get(c, "jti");
    json_t *iat = json_object_get(c, "iat");
    json_t *nbf = json_object_get(c, "nbf");
    json_t *exp = json_object_get(c, "exp");
    long long id;

    if (!json_is_string(type) || strcmp(json_string_value(type), "access")) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (!json_is_string(iss) || strcmp(json_string_value(iss), issuer)) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (!json_is_string(sub)
        || !mv_parse_id(json_string_value(sub), LLONG_MAX, &id)) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (user != NULL
        && (!json_is_integer(user) || json_integer_value(user) != id)) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (!json_is_string(jti)) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (!mv_jwt_number_le(iat, mv_jwt_skewed(now))) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (nbf != NULL && !mv_jwt_number_le(nbf, mv_jwt_skewed(now))) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (!json_is_number(exp)) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (mv_jwt_number_le(exp, now)) {
        return MV_JWT_EXPIRED;
    }
    *uid = id;
    return MV_JWT_OK;
}

/* Prepares k for key; 0, or -1 with k verifying nothing. */
int mv_jwt_key_init(mv_jwt_key *k, const unsigned char *key, size_t keylen)
{
    sodium_memzero(k, sizeof *k);
    if (key == NULL || keylen < MV_JWT_KEY_MIN) {
        return -1;
    }
    crypto_auth_hmacsha256_init(&k->hmac, key, keylen);
    k->ready = 1;
    return 0;
}

/* Zeroes the prepared key k. */
void mv_jwt_key_clear(mv_jwt_key *k)
{
    sodium_memzero(k, sizeof *k);
}

/* Verification verdict for token under k; sets *user_id only on
 * MV_JWT_OK. */
mv_jwt_status mv_jwt_verify_with(const mv_jwt_key *k, const char *issuer,
                                 const char *token, long long now,
                                 long long *user_id)
{
    const char *dot1, *dot2;
    size_t len, hlen, plen;
    json_t *claims;
    mv_jwt_status st;
    long long id = 0;

    if (token == NULL || issuer == NULL) {
        return MV_JWT_MALFORMED;
    }
    len = strnlen(token, MV_JWT_TOKEN_MAX + 1);
    if (len > MV_JWT_TOKEN_MAX) {
        return MV_JWT_MALFORMED;
    }
    dot1 = memchr(token, '.', len);
    if (dot1 == NULL) {
        return MV_JWT_MALFORMED;
    }
    dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (dot2 == NULL
        || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        return MV_JWT_MALFORMED;
    }
    hlen = (size_t)(dot1 - token);
    plen = (size_t)(dot2 - dot1 - 1);
    if (hlen == 0 || plen == 0) {
        return MV_JWT_MALFORMED;
    }

    /* The header is public: a plain comparison pins HS256. */
    if (hlen != sizeof MV_JWT_HEADER - 1
        || memcmp(token, MV_JWT_HEADER, hlen) != 0) {
        return mv_jwt_header_refusal(token, hlen);
    }

    if (k == NULL || !k->ready
        || !mv_jwt_check_hmac(k, token, (size_t)(dot2 - token), dot2 + 1,
                              len - (size_t)(dot2 + 1 - token))) {
        return MV_JWT_BAD_SIGNATURE;
    }

    claims = mv_jwt_segment_json(dot1 + 1, plen);
    if (claims == NULL) {
        return MV_JWT_MALFORMED;
    }
    st = mv_jwt_check_claims(claims, issuer, now, &id);
    json_decref(claims);
    if (st == MV_JWT_OK && user_id != NULL) {
        *user_id = id;
    }
    return st;
}

/* Verification verdict for token under key, prepared for this call. */
mv_jwt_status mv_jwt_verify(const unsigned char *key, size_t keylen,
                            const char *issuer, const char *token,
                            long long now, long long *user_id)
{
    mv_jwt_key k;
    mv_jwt_status st;

    mv_jwt_key_init(&k, key, keylen);
    st = mv_jwt_verify_with(&k, issuer, token, now, user_id);
    mv_jwt_key_clear(&k);
    return st;
}

/* Static name of st for logs; never NULL, never freed. */
const char *mv_jwt_status_str(mv_jwt_status st)
{
    switch (st) {
    case MV_JWT_OK:
        return "ok";
    case MV_JWT_MALFORMED:
        return "malformed";
    case MV_JWT_BAD_ALG:
        return "bad_alg";
    case MV_JWT_BAD_SIGNATURE:
        return "bad_signature";
    case MV_JWT_EXPIRED:
        return "expired";
    case MV_JWT_BAD_CLAIMS:
        return "bad_claims";
    }
    return "unknown";
}
