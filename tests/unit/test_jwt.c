/*
 * test_jwt.c - unit tests for mv_jwt.h (cmocka). Tokens with hand-made
 * headers and claims are built here with libsodium so that every refusal
 * path of mv_jwt_verify is reached with a valid HMAC where relevant.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <sodium.h>

#include "mv_jwt.h"

#define NOW 1700000000LL
#define TTL 900LL
#define ISS "mod_mocaverse"

static const unsigned char KEY[] = "0123456789abcdef0123456789abcdef-key";
#define KEYLEN (sizeof KEY - 1)
static const unsigned char OTHER_KEY[] = "fedcba9876543210fedcba9876543210-key";
#define OTHER_KEYLEN (sizeof OTHER_KEY - 1)

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* Unpadded base64url of s[0..len) into out (outsz bytes). */
static void b64url(const void *s, size_t len, char *out, size_t outsz)
{
    sodium_bin2base64(out, outsz, s, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Builds "b64(header).b64(payload).sig" into out; sig is the HS256 HMAC
 * under key when key is not NULL, else empty. */
static void craft(const char *header, const char *payload,
                  const unsigned char *key, size_t keylen, char *out,
                  size_t outsz)
{
    char h[1024], p[2048], s[64];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    size_t n;

    b64url(header, strlen(header), h, sizeof h);
    b64url(payload, strlen(payload), p, sizeof p);
    n = (size_t)snprintf(out, outsz, "%s.%s.", h, p);
    if (key != NULL) {
        crypto_auth_hmacsha256_init(&st, key, keylen);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, n - 1);
        crypto_auth_hmacsha256_final(&st, mac);
        b64url(mac, sizeof mac, s, sizeof s);
        snprintf(out + n, outsz - n, "%s", s);
    }
}

/* Replaces the signature of the token in tok (outsz bytes) with the HS256
 * HMAC under KEY of its first two segments, as they are now. */
static void resign(char *tok, size_t outsz)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    char *dot2 = strrchr(tok, '.');
    size_t n = (size_t)(dot2 - tok);

    crypto_auth_hmacsha256_init(&st, KEY, KEYLEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok, n);
    crypto_auth_hmacsha256_final(&st, mac);
    b64url(mac, sizeof mac, dot2 + 1, outsz - n - 1);
}

/* Verifies a crafted HS256 token carrying payload under KEY at NOW. */
static mv_jwt_status verify_claims(const char *payload, long long *uid)
{
    char tok[4096];

    craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, KEY, KEYLEN, tok,
          sizeof tok);
    return mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, uid);
}

static void test_sign_then_verify_returns_user_id(void **state)
{
    long long uid = 0;
    char *tok;

    (void)state;
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, &uid),
                     MV_JWT_OK);
    assert_int_equal(uid, 42);
    /* still valid one second before exp, with a NULL out pointer */
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW + TTL - 1, NULL),
                     MV_JWT_OK);
    free(tok);
}

static void test_signed_token_carries_all_claims(void **state)
{
    jwt_t *jwt = NULL;
    char *tok;

    (void)state;
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 9007199254740993LL, NOW, TTL, "abc");
    assert_non_null(tok);
    assert_int_equal(jwt_decode(&jwt, tok, KEY, (int)KEYLEN), 0);
    assert_int_equal(jwt_get_alg(jwt), JWT_ALG_HS256);
    assert_string_equal(jwt_get_grant(jwt, "sub"), "9007199254740993");
    assert_true(jwt_get_grant_int(jwt, "userId") == 9007199254740993LL);
    assert_string_equal(jwt_get_grant(jwt, "type"), "access");
    assert_string_equal(jwt_get_grant(jwt, "iss"), ISS);
    assert_string_equal(jwt_get_grant(jwt, "jti"), "abc");
    assert_int_equal(jwt_get_grant_int(jwt, "iat"), NOW);
    assert_int_equal(jwt_get_grant_int(jwt, "exp"), NOW + TTL);
    jwt_free(jwt);
    free(tok);
}

static void test_sign_refuses_bad_arguments(void **state)
{
    (void)state;
    assert_null(mv_jwt_sign(KEY, MV_JWT_KEY_MIN - 1, ISS, 1, NOW, TTL, "j"));
    assert_null(mv_jwt_sign(NULL, KEYLEN, ISS, 1, NOW, TTL, "j"));
    assert_null(mv_jwt_sign(KEY, KEYLEN, NULL, 1, NOW, TTL, "j"));
    assert_null(mv_jwt_sign(KEY, KEYLEN, ISS, 0, NOW, TTL, "j"));
    assert_null(mv_jwt_sign(KEY, KEYLEN, ISS, -5, NOW, TTL, "j"));
    assert_null(mv_jwt_sign(KEY, KEYLEN, ISS, 1, NOW, 0, "j"));
    assert_null(mv_jwt_sign(KEY, KEYLEN, ISS, 1, NOW, TTL, NULL));
    assert_null(mv_jwt_sign(KEY, KEYLEN, ISS, 1, NOW, TTL, ""));
}

static void test_verify_refuses_alg_none(void **state)
{
    char tok[1024];
    char payload[256];
    long long uid = 7;

    (void)state;
    snprintf(payload, sizeof payload,
             "{\"sub\":\"1\",\"userId\":1,\"type\":\"access\",\"iss\":\"%s\","
             "\"iat\":%lld,\"exp\":%lld,\"jti\":\"x\"}",
             ISS, NOW, NOW + TTL);
    craft("{\"alg\":\"none\"}", payload, NULL, 0, tok, sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, &uid),
                     MV_JWT_BAD_ALG);
    craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, KEY, KEYLEN, tok,
          sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, &uid),
                     MV_JWT_BAD_ALG);
    assert_int_equal(uid, 7);
}

static void test_verify_refuses_hs512_token_made_with_same_key(void **state)
{
    jwt_t *jwt = NULL;
    char *tok;

    (void)state;
    assert_int_equal(jwt_new(&jwt), 0);
    jwt_add_grant(jwt, "sub", "1");
    jwt_add_grant_int(jwt, "userId", 1);
    jwt_add_grant(jwt, "type", "access");
    jwt_add_grant(jwt, "iss", ISS);
    jwt_add_grant_int(jwt, "iat", NOW);
    jwt_add_grant_int(jwt, "exp", NOW + TTL);
    jwt_add_grant(jwt, "jti", "x");
    assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS512, KEY, (int)KEYLEN), 0);
    tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    assert_non_null(tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_ALG);
    free(tok);
}

static void test_verify_refuses_hs512_signature_under_hs256_header(void **state)
{
    const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char payload[256], h[128], p[512], s[128], tok[1024];
    unsigned char mac[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_state st;
    size_t n;

    (void)state;
    snprintf(payload, sizeof payload,
             "{\"sub\":\"1\",\"type\":\"access\",\"iss\":\"%s\","
             "\"iat\":%lld,\"exp\":%lld,\"jti\":\"x\"}",
             ISS, NOW, NOW + TTL);
    b64url(hdr, strlen(hdr), h, sizeof h);
    b64url(payload, strlen(payload), p, sizeof p);
    n = (size_t)snprintf(tok, sizeof tok, "%s.%s", h, p);
    crypto_auth_hmacsha512_init(&st, KEY, KEYLEN);
    crypto_auth_hmacsha512_update(&st, (const unsigned char *)tok, n);
    crypto_auth_hmacsha512_final(&st, mac);
    b64url(mac, sizeof mac, s, sizeof s);
    snprintf(tok + n, sizeof tok - n, ".%s", s);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
}

static void test_verify_refuses_other_alg_spellings_and_headers(void **state)
{
    const char *payload = "{\"sub\":\"1\",\"type\":\"access\","
                          "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                          "\"exp\":1700000900,\"jti\":\"x\"}";
    char tok[1024];

    (void)state;
    craft("{\"alg\":\"hs256\"}", payload, KEY, KEYLEN, tok, sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_ALG);
    craft("{\"typ\":\"JWT\"}", payload, KEY, KEYLEN, tok, sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_ALG);
    craft("{\"alg\":[\"HS256\"]}", payload, KEY, KEYLEN, tok, sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_ALG);
    craft("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", payload, KEY, KEYLEN, tok,
          sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);
    /* duplicate alg: a lenient parser might keep the last one */
    craft("{\"alg\":\"HS256\",\"alg\":\"none\"}", payload, KEY, KEYLEN, tok,
          sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);
    craft("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", payload, KEY, KEYLEN, tok,
          sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);
    craft("[\"HS256\"]", payload, KEY, KEYLEN, tok, sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);
    /* an HS256 header other than the one this module signs is refused */
    craft("{\"alg\":\"HS256\"}", payload, KEY, KEYLEN, tok, sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);
    /* the same claims under the module's own header are fine */
    craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, KEY, KEYLEN, tok,
          sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_OK);
}

static void test_signed_header_is_the_canonical_one(void **state)
{
    char h[128];
    const char *json = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *tok;

    (void)state;
    b64url(json, strlen(json), h, sizeof h);
    assert_string_equal(h, MV_JWT_HEADER);
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    assert_memory_equal(tok, MV_JWT_HEADER ".", sizeof MV_JWT_HEADER);
    free(tok);
}

static void
test_verify_refuses_equivalent_headers_spelled_otherwise(void **state)
{
    const char *payload = "{\"sub\":\"1\",\"type\":\"access\","
                          "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                          "\"exp\":1700000900,\"jti\":\"x\"}";
    char tok[1024];

    (void)state;
    /* same JSON members, other order or spacing: still not our header */
    craft("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", payload, KEY, KEYLEN, tok,
          sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);
    craft("{\"alg\": \"HS256\", \"typ\": \"JWT\"}", payload, KEY, KEYLEN, tok,
          sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);
    craft("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}", payload, KEY,
          KEYLEN, tok, sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);
    /* a header that is not base64url at all */
    craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, KEY, KEYLEN, tok,
          sizeof tok);
    tok[3] = '+';
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);
}

static void test_verify_refuses_non_canonical_base64url(void **state)
{
    char tok[1024], *sig, *dot1;
    size_t len;
    char c;

    (void)state;
    /* "{}" is e30; e31 decodes to the same bytes with a nonzero unused
     * bit: the payload is signed as sent, then refused as not base64url */
    craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{}", KEY, KEYLEN, tok,
          sizeof tok);
    dot1 = strchr(tok, '.');
    assert_memory_equal(dot1, ".e30.", 5);
    dot1[3] = '1';
    resign(tok, sizeof tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_MALFORMED);

    /* the last signature character carries 4 bits and 2 unused ones:
     * setting an unused bit keeps the decoded MAC but is refused */
    sig = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(sig);
    len = strlen(sig);
    c = sig[len - 1];
    assert_true(strchr("AEIMQUYcgkosw048", c) != NULL);
    sig[len - 1] = (char)(c + 1); /* A->B, E->F, ..., w->x, 0->1, 4->5 */
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, sig, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    sig[len - 1] = c;
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, sig, NOW, NULL),
                     MV_JWT_OK);
    free(sig);
}

static void test_prepared_key_verifies_like_the_raw_key(void **state)
{
    mv_jwt_key k, other, shortk;
    long long uid = 0;
    char *tok;

    (void)state;
    assert_int_equal(mv_jwt_key_init(&k, KEY, KEYLEN), 0);
    assert_int_equal(mv_jwt_key_init(&other, OTHER_KEY, OTHER_KEYLEN), 0);
    assert_int_equal(mv_jwt_key_init(&shortk, KEY, MV_JWT_KEY_MIN - 1), -1);
    assert_int_equal(mv_jwt_key_init(&shortk, NULL, 0), -1);
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    /* the prepared state is copied, never consumed: verify twice */
    assert_int_equal(mv_jwt_verify_with(&k, ISS, tok, NOW, &uid), MV_JWT_OK);
    assert_int_equal(uid, 42);
    uid = 0;
    assert_int_equal(mv_jwt_verify_with(&k, ISS, tok, NOW, &uid), MV_JWT_OK);
    assert_int_equal(uid, 42);
    assert_int_equal(mv_jwt_verify_with(&other, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    assert_int_equal(mv_jwt_verify_with(&shortk, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    assert_int_equal(mv_jwt_verify_with(NULL, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    assert_int_equal(mv_jwt_verify_with(&k, ISS, tok, NOW + TTL, NULL),
                     MV_JWT_EXPIRED);
    /* a cleared key verifies nothing */
    mv_jwt_key_clear(&k);
    assert_int_equal(mv_jwt_verify_with(&k, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    mv_jwt_key_clear(&other);
    free(tok);
}

static void test_verify_refuses_tampered_payload(void **state)
{
    char *tok, *dot1, *dot2, *forged;
    char p[512];
    char payload[256];
    size_t need;

    (void)state;
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    dot1 = strchr(tok, '.');
    dot2 = strchr(dot1 + 1, '.');

    /* same header and signature, payload claiming user 1 */
    snprintf(payload, sizeof payload,
             "{\"sub\":\"1\",\"userId\":1,\"type\":\"access\",\"iss\":\"%s\","
             "\"iat\":%lld,\"exp\":%lld,\"jti\":\"jti-1\"}",
             ISS, NOW, NOW + TTL);
    b64url(payload, strlen(payload), p, sizeof p);
    need = (size_t)(dot1 - tok) + 1 + strlen(p) + strlen(dot2) + 1;
    forged = malloc(need);
    assert_non_null(forged);
    snprintf(forged, need, "%.*s.%s%s", (int)(dot1 - tok), tok, p, dot2);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, forged, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    free(forged);

    /* one character of the payload changed in place */
    dot1[1] = dot1[1] == 'A' ? 'B' : 'A';
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    free(tok);
}

static void test_verify_refuses_tampered_signature(void **state)
{
    char *tok;
    size_t len;

    (void)state;
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    len = strlen(tok);
    tok[len - 5] = tok[len - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    tok[len - 1] = '\0'; /* 42-char signature */
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    free(tok);
}

static void test_verify_refuses_token_signed_with_other_key(void **state)
{
    char *tok;

    (void)state;
    tok = mv_jwt_sign(OTHER_KEY, OTHER_KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    free(tok);
}

static void test_verify_refuses_short_key(void **state)
{
    char *tok;

    (void)state;
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    assert_int_equal(
        mv_jwt_verify(KEY, MV_JWT_KEY_MIN - 1, ISS, tok, NOW, NULL),
        MV_JWT_BAD_SIGNATURE);
    assert_int_equal(mv_jwt_verify(NULL, 0, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    free(tok);
}

static void test_verify_refuses_expired_token(void **state)
{
    long long uid = 7;
    char *tok;

    (void)state;
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW + TTL, &uid),
                     MV_JWT_EXPIRED);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW + 86400, &uid),
                     MV_JWT_EXPIRED);
    assert_int_equal(uid, 7);
    free(tok);
}

static void test_verify_refuses_wrong_issuer(void **state)
{
    char *tok;

    (void)state;
    tok = mv_jwt_sign(KEY, KEYLEN, "someone-else", 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, tok, NOW, NULL),
                     MV_JWT_BAD_CLAIMS);
    free(tok);
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS "x", tok, NOW, NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, "mod_mocavers", tok, NOW, NULL),
                     MV_JWT_BAD_CLAIMS);
    free(tok);
}

static void test_verify_refuses_refresh_type_and_missing_type(void **state)
{
    (void)state;
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"refresh\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"sub\":\"1\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":1,"
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
}

static void test_verify_checks_sub_and_user_id_agree(void **state)
{
    long long uid = 0;

    (void)state;
    /* without userId, sub alone is enough */
    assert_int_equal(verify_claims("{\"sub\":\"77\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   &uid),
                     MV_JWT_OK);
    assert_int_equal(uid, 77);
    assert_int_equal(verify_claims("{\"sub\":\"77\",\"userId\":78,"
                                   "\"type\":\"access\",\"iss\":\"" ISS "\","
                                   "\"iat\":1700000000,\"exp\":1700000900,"
                                   "\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"sub\":\"77\",\"userId\":\"77\","
                                   "\"type\":\"access\",\"iss\":\"" ISS "\","
                                   "\"iat\":1700000000,\"exp\":1700000900,"
                                   "\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"sub\":77,\"userId\":77,"
                                   "\"type\":\"access\",\"iss\":\"" ISS "\","
                                   "\"iat\":1700000000,\"exp\":1700000900,"
                                   "\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"sub\":\"077\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"sub\":\"0\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
}

static void test_verify_checks_time_claims(void **state)
{
    (void)state;
    /* exp missing or not a number */
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"exp\":\"1700000900\",\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    /* iat missing, or more than the leeway in the future */
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\","
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000061,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000060,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_OK);
    /* nbf in the future */
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"nbf\":1700000500,"
                                   "\"exp\":1700000900,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
    /* real-valued NumericDate is accepted and compared */
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000.5,"
                                   "\"exp\":1700000000.5,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_OK);
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1699999000,"
                                   "\"exp\":1699999999.5,\"jti\":\"x\"}",
                                   NULL),
                     MV_JWT_EXPIRED);
    /* jti missing */
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"type\":\"access\","
                                   "\"iss\":\"" ISS "\",\"iat\":1700000000,"
                                   "\"exp\":1700000900}",
                                   NULL),
                     MV_JWT_BAD_CLAIMS);
}

static void test_verify_refuses_signed_non_object_payload(void **state)
{
    (void)state;
    assert_int_equal(verify_claims("[1,2,3]", NULL), MV_JWT_MALFORMED);
    assert_int_equal(verify_claims("{\"sub\":\"1\"", NULL), MV_JWT_MALFORMED);
    assert_int_equal(verify_claims("{\"sub\":\"1\",\"sub\":\"2\"}", NULL),
                     MV_JWT_MALFORMED);
}

/* Payloads read by both claim readers: plain JSON, and the shapes the
 * plain reader must leave to jansson (escapes, non-ASCII, reals, big or
 * malformed numbers, duplicates, nesting, trailing text). */
static const char *const READER_PAYLOADS[] = {
    "{\"exp\":1700000900,\"iat\":1700000000,\"iss\":\"" ISS "\","
    "\"jti\":\"j\",\"sub\":\"42\",\"type\":\"access\",\"userId\":42}",
    " {\r\n\t\"sub\" : \"42\" , \"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"\"}\n ",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"mod\\u005fmocaverse\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\"}",
    "{\"sub\":\"4\\u00002\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\\u0000x\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"\xc3\xa9\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"\xc3\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1.7e9,\"exp\":1700000900.0,\"jti\":\"j\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":-0,\"exp\":1700000900,\"jti\":\"j\",\"userId\":42}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":01,\"exp\":1700000900,\"jti\":\"j\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":999999999999999999,\"jti\":\"j\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":9999999999999999999,\"jti\":\"j\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\","
    "\"userId\":-42}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\","
    "\"userId\":42.0}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\",\"sub\":\"1\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\",\"s\\u0075b\":\"1\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":[\"j\"]}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":null}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\"}x",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\",}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\"",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\"}}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\"\"k\":1}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":-,\"jti\":\"j\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\",\"\":1,"
    "\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8}",
    "{\"sub\":\"42\",\"type\":\"acc\tess\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1699999999,\"jti\":\"j\"}",
    "{\"sub\":\"42\",\"type\":\"access\",\"iss\":\"" ISS "\","
    "\"iat\":1700000000,\"exp\":1700000900,\"jti\"=\"j\"}",
};

/* The same payload with an array member first, which the plain reader
 * never takes, so jansson reads it; into out (outsz bytes). */
static void jansson_only(const char *payload, char *out, size_t outsz)
{
    const char *rest = payload + strspn(payload, " \t\r\n");

    assert_true(rest[0] == '{');
    snprintf(out, outsz, "{\"zz\":[]%s%s", rest[1] == '}' ? "" : ",", rest + 1);
}

static void test_claim_readers_agree(void **state)
{
    char forced[2048];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof READER_PAYLOADS / sizeof READER_PAYLOADS[0]; i++) {
        long long uid1 = -1, uid2 = -1;
        mv_jwt_status st1, st2;

        jansson_only(READER_PAYLOADS[i], forced, sizeof forced);
        st1 = verify_claims(READER_PAYLOADS[i], &uid1);
        st2 = verify_claims(forced, &uid2);
        if (st1 != st2 || uid1 != uid2) {
            fail_msg("payload %zu: %d/%lld, through jansson %d/%lld", i,
                     (int)st1, uid1, (int)st2, uid2);
        }
    }
    /* and the verdicts are the expected ones */
    assert_int_equal(verify_claims(READER_PAYLOADS[0], NULL), MV_JWT_OK);
    assert_int_equal(verify_claims(READER_PAYLOADS[1], NULL), MV_JWT_OK);
    assert_int_equal(verify_claims(READER_PAYLOADS[2], NULL), MV_JWT_OK);
    assert_int_equal(verify_claims(READER_PAYLOADS[3], NULL),
                     MV_JWT_MALFORMED); /* NUL escape: jansson refuses */
    assert_int_equal(verify_claims(READER_PAYLOADS[4], NULL),
                     MV_JWT_MALFORMED); /* NUL escape: jansson refuses */
    assert_int_equal(verify_claims(READER_PAYLOADS[5], NULL), MV_JWT_OK);
    assert_int_equal(verify_claims(READER_PAYLOADS[6], NULL), MV_JWT_MALFORMED);
    assert_int_equal(verify_claims(READER_PAYLOADS[8], NULL), MV_JWT_OK);
    assert_int_equal(verify_claims(READER_PAYLOADS[9], NULL), MV_JWT_MALFORMED);
    assert_int_equal(verify_claims(READER_PAYLOADS[10], NULL), MV_JWT_OK);
    assert_int_equal(verify_claims(READER_PAYLOADS[11], NULL),
                     MV_JWT_MALFORMED);
    assert_int_equal(verify_claims(READER_PAYLOADS[14], NULL),
                     MV_JWT_MALFORMED);
    assert_int_equal(verify_claims(READER_PAYLOADS[24], NULL), MV_JWT_OK);
    assert_int_equal(verify_claims(READER_PAYLOADS[25], NULL),
                     MV_JWT_MALFORMED);
    assert_int_equal(verify_claims(READER_PAYLOADS[26], NULL), MV_JWT_EXPIRED);
    assert_int_equal(verify_claims(READER_PAYLOADS[27], NULL),
                     MV_JWT_MALFORMED);
}

static void test_verify_refuses_garbage_and_wrong_segment_counts(void **state)
{
    char *tok, *cut;
    char buf[8192];

    (void)state;
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, NULL, NOW, NULL),
                     MV_JWT_MALFORMED);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, "", NOW, NULL),
                     MV_JWT_MALFORMED);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, "garbage", NOW, NULL),
                     MV_JWT_MALFORMED);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, "..", NOW, NULL),
                     MV_JWT_MALFORMED);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, "a.b.c", NOW, NULL),
                     MV_JWT_MALFORMED);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, "!!!.???.***", NOW, NULL),
                     MV_JWT_MALFORMED);

    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);

    /* two segments: header.payload */
    cut = strdup(tok);
    assert_non_null(cut);
    *strrchr(cut, '.') = '\0';
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, cut, NOW, NULL),
                     MV_JWT_MALFORMED);
    free(cut);

    /* four segments */
    snprintf(buf, sizeof buf, "%s.AAAA", tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, buf, NOW, NULL),
                     MV_JWT_MALFORMED);
    /* standard base64 padding or surrounding spaces are not base64url */
    snprintf(buf, sizeof buf, " %s", tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, buf, NOW, NULL),
                     MV_JWT_MALFORMED);
    snprintf(buf, sizeof buf, "%s=", tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, buf, NOW, NULL),
                     MV_JWT_BAD_SIGNATURE);
    snprintf(buf, sizeof buf, "Bearer %s", tok);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, buf, NOW, NULL),
                     MV_JWT_MALFORMED);
    free(tok);
}

static void test_verify_refuses_huge_token_before_parsing(void **state)
{
    char *tok, *huge;
    size_t len;

    (void)state;
    tok = mv_jwt_sign(KEY, KEYLEN, ISS, 42, NOW, TTL, "jti-1");
    assert_non_null(tok);
    len = strlen(tok);
    huge = malloc(MV_JWT_TOKEN_MAX + 2);
    assert_non_null(huge);
    /* a valid token padded past the bound with a signature-segment tail */
    memcpy(huge, tok, len);
    memset(huge + len, 'A', MV_JWT_TOKEN_MAX + 1 - len);
    huge[MV_JWT_TOKEN_MAX + 1] = '\0';
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, huge, NOW, NULL),
                     MV_JWT_MALFORMED);
    memset(huge, 'A', MV_JWT_TOKEN_MAX + 1);
    assert_int_equal(mv_jwt_verify(KEY, KEYLEN, ISS, huge, NOW, NULL),
                     MV_JWT_MALFORMED);
    free(huge);
    free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_then_verify_returns_user_id),
        cmocka_unit_test(test_signed_token_carries_all_claims),
        cmocka_unit_test(test_sign_refuses_bad_arguments),
        cmocka_unit_test(test_verify_refuses_alg_none),
        cmocka_unit_test(test_verify_refuses_hs512_token_made_with_same_key),
        cmocka_unit_test(
            test_verify_refuses_hs512_signature_under_hs256_header),
        cmocka_unit_test(test_verify_refuses_other_alg_spellings_and_headers),
        cmocka_unit_test(test_signed_header_is_the_canonical_one),
        cmocka_unit_test(
            test_verify_refuses_equivalent_headers_spelled_otherwise),
        cmocka_unit_test(test_verify_refuses_non_canonical_base64url),
        cmocka_unit_test(test_prepared_key_verifies_like_the_raw_key),
        cmocka_unit_test(test_verify_refuses_tampered_payload),
        cmocka_unit_test(test_verify_refuses_tampered_signature),
        cmocka_unit_test(test_verify_refuses_token_signed_with_other_key),
        cmocka_unit_test(test_verify_refuses_short_key),
        cmocka_unit_test(test_verify_refuses_expired_token),
        cmocka_unit_test(test_verify_refuses_wrong_issuer),
        cmocka_unit_test(test_verify_refuses_refresh_type_and_missing_type),
        cmocka_unit_test(test_verify_checks_sub_and_user_id_agree),
        cmocka_unit_test(test_verify_checks_time_claims),
        cmocka_unit_test(test_verify_refuses_signed_non_object_payload),
        cmocka_unit_test(test_claim_readers_agree),
        cmocka_unit_test(test_verify_refuses_garbage_and_wrong_segment_counts),
        cmocka_unit_test(test_verify_refuses_huge_token_before_parsing),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
