/*
 * Access tokens: forged, tampered, expired, foreign and misused tokens
 * all get 401 unauthorized on the bearer routes (GET /me, /invites/me).
 * Tokens are crafted here with libsodium (HMAC-SHA256/512) and libjwt,
 * under the test instance's real secret (MV_TEST_JWT_SECRET) unless the
 * point is another key; a well-formed crafted token is accepted first, so
 * each refusal is the module's doing, not the crafting's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>
#include <sodium.h>

#include "accounts_util.h"
#include "mv_jwt.h"

#define ISS "mod_mocaverse"

static const char *secret(void)
{
    const char *s = getenv("MV_TEST_JWT_SECRET");
    assert_non_null(s);
    return s;
}

/* Unpadded base64url of s into out. */
static void b64url(const void *s, size_t len, char *out, size_t outsz)
{
    sodium_bin2base64(out, outsz, s, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

typedef enum { SIG_NONE, SIG_HS256, SIG_HS512 } sig_kind;

/* "b64(header).b64(payload).sig" (malloc'd), sig made under key. */
static char *craft(const char *header, const char *payload, sig_kind kind,
                   const char *key)
{
    char h[1024], p[2048], s[128], *out;
    unsigned char mac[crypto_auth_hmacsha512_BYTES];
    size_t maclen = 0;

    b64url(header, strlen(header), h, sizeof(h));
    b64url(payload, strlen(payload), p, sizeof(p));
    if (asprintf(&out, "%s.%s", h, p) < 0) {
        abort();
    }
    if (kind == SIG_HS256) {
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)key,
                                    strlen(key));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)out,
                                      strlen(out));
        crypto_auth_hmacsha256_final(&st, mac);
        maclen = crypto_auth_hmacsha256_BYTES;
    } else if (kind == SIG_HS512) {
        crypto_auth_hmacsha512_state st;
        crypto_auth_hmacsha512_init(&st, (const unsigned char *)key,
                                    strlen(key));
        crypto_auth_hmacsha512_update(&st, (const unsigned char *)out,
                                      strlen(out));
        crypto_auth_hmacsha512_final(&st, mac);
        maclen = crypto_auth_hmacsha512_BYTES;
    }
    s[0] = '\0';
    if (maclen) {
        b64url(mac, maclen, s, sizeof(s));
    }
    {
        char *full;
        if (asprintf(&full, "%s.%s", out, s) < 0) {
            abort();
        }
        free(out);
        return full;
    }
}

/* Claims of an access token for uid, with iss, exp offset and type. */
static char *claims(long long uid, const char *iss, long long exp_in,
                    const char *type)
{
    long long now = (long long)time(NULL);
    char *c;
    if (asprintf(&c,
                 "{\"sub\":\"%lld\",\"userId\":%lld,\"type\":\"%s\","
                 "\"iss\":\"%s\",\"iat\":%lld,\"exp\":%lld,"
                 "\"jti\":\"4b0f6a0e-1c55-4d7e-9a39-1d2b3c4d5e6f\"}",
                 uid, uid, type, iss, now - 5, now + exp_in) < 0) {
        abort();
    }
    return c;
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* Asserts 401 unauthorized on both bearer routes for token. */
static void assert_refused(const char *what, const char *token)
{
    const char *paths[] = {"/me", "/invites/me"};
    size_t i;
    for (i = 0; i < 2; i++) {
        mv_resp *r = get_bearer(paths[i], token);
        if (r->status != 401) {
            fprintf(stderr, "%s on %s: %ld %s\n", what, paths[i], r->status,
                    r->body);
        }
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
    }
}

/* A registered user's id (the tokens below impersonate them). */
static long long victim(void)
{
    static long long uid;
    if (!uid) {
        char *e = new_email();
        mv_resp *acc = new_account(e);
        uid = user_id_of(acc);
        mv_resp_free(acc);
        free(e);
    }
    return uid;
}

static void crafted_token_with_the_real_key_is_accepted(void **state)
{
    char *c = claims(victim(), ISS, 600, "access");
    char *t = craft(HS256, c, SIG_HS256, secret());
    mv_resp *r = get_bearer("/me", t);
    (void)state;
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "id"), victim());
    mv_resp_free(r);
    free(t);
    free(c);
}

static void alg_none_is_401(void **state)
{
    char *c = claims(victim(), ISS, 600, "access");
    char *t1 = craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", c, SIG_NONE, NULL);
    char *t2 = craft("{\"alg\":\"none\"}", c, SIG_HS256, secret());
    char *t3 = craft("{\"alg\":\"None\"}", c, SIG_NONE, NULL);
    char *t4 = craft("{\"typ\":\"JWT\"}", c, SIG_HS256, secret());
    (void)state;
    assert_refused("alg none, no signature", t1);
    assert_refused("alg none, HS256 signature", t2);
    assert_refused("alg None", t3);
    assert_refused("no alg", t4);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
    free(c);
}

static void hs512_with_the_real_key_is_401(void **state)
{
    char *c = claims(victim(), ISS, 600, "access");
    char *t =
        craft("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", c, SIG_HS512, secret());
    char *t2 =
        craft("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", c, SIG_HS256, secret());
    char *t3 =
        craft("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", c, SIG_HS256, secret());
    jwt_t *jwt = NULL;
    char *lib;
    (void)state;
    assert_refused("HS512 (sodium)", t);
    assert_refused("HS384 header", t2);
    assert_refused("RS256 header", t3);
    /* The same through libjwt, which would itself accept it as HS256. */
    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_add_grants_json(jwt, c), 0);
    assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS512,
                                 (const unsigned char *)secret(),
                                 (int)strlen(secret())),
                     0);
    lib = jwt_encode_str(jwt);
    assert_non_null(lib);
    assert_refused("HS512 (libjwt)", lib);
    free(lib);
    jwt_free(jwt);
    free(t);
    free(t2);
    free(t3);
    free(c);
}

static void tampered_payload_is_401(void **state)
{
    char *e = new_email();
    mv_resp *acc = new_account(e);
    const char *token = mv_json_str(acc, "accessToken");
    char *c = claims(victim(), ISS, 600, "access");
    char p[2048], *forged, *dot1, *dot2;
    (void)state;
    /* The real header and signature around another user's claims. */
    dot1 = strchr(token, '.');
    dot2 = strchr(dot1 + 1, '.');
    b64url(c, strlen(c), p, sizeof(p));
    if (asprintf(&forged, "%.*s.%s%s", (int)(dot1 - token), token, p, dot2) <
        0) {
        abort();
    }
    assert_refused("payload swapped", forged);
    free(forged);
    /* One character of the payload flipped. */
    forged = strdup(token);
    forged[(dot1 - token) + 5] = forged[(dot1 - token) + 5] == 'A' ? 'B' : 'A';
    assert_refused("payload flipped", forged);
    free(forged);
    /* One character of the signature flipped, and it cut short. */
    forged = strdup(token);
    forged[strlen(forged) - 3] = forged[strlen(forged) - 3] == 'A' ? 'B' : 'A';
    assert_refused("signature flipped", forged);
    forged[strlen(forged) - 3] = '\0';
    assert_refused("signature cut", forged);
    free(forged);
    /* The signature dropped. */
    if (asprintf(&forged, "%.*s.", (int)(dot2 - token), token) < 0) {
        abort();
    }
    assert_refused("no signature", forged);
    free(forged);
    mv_resp_free(acc);
    free(c);
    free(e);
}

static void signature_from_another_key_is_401(void **state)
{
    static const char other[] =
        "another-secret-of-48-bytes-0123456789abcdefghij";
    char *c = claims(victim(), ISS, 600, "access");
    char *t = craft(HS256, c, SIG_HS256, other);
    char *empty = craft(HS256, c, SIG_HS256, "");
    char *t2 = mv_jwt_sign((const unsigned char *)other, sizeof(other) - 1, ISS,
                           victim(), (long long)time(NULL), 600, "jti-1");
    (void)state;
    assert_refused("other key", t);
    assert_refused("empty key", empty);
    assert_refused("other key (mv_jwt_sign)", t2);
    free(t);
    free(t2);
    free(empty);
    free(c);
}

static void expired_token_is_401(void **state)
{
    char *c = claims(victim(), ISS, -1, "access");
    char *t = craft(HS256, c, SIG_HS256, secret());
    char *t2 =
        mv_jwt_sign((const unsigned char *)secret(), strlen(secret()), ISS,
                    victim(), (long long)time(NULL) - 2000, 900, "jti-2");
    char *noexp;
    char *t3;
    (void)state;
    assert_refused("expired (crafted)", t);
    assert_refused("expired (signed 2000 s ago)", t2);
    if (asprintf(&noexp,
                 "{\"sub\":\"%lld\",\"userId\":%lld,\"type\":\"access\","
                 "\"iss\":\"%s\",\"iat\":%lld,\"jti\":\"x\"}",
                 victim(), victim(), ISS, (long long)time(NULL)) < 0) {
        abort();
    }
    t3 = craft(HS256, noexp, SIG_HS256, secret());
    assert_refused("no exp", t3);
    free(t);
    free(t2);
    free(t3);
    free(noexp);
    free(c);
}

static void wrong_issuer_is_401(void **state)
{
    char *c = claims(victim(), "evil", 600, "access");
    char *c2 = claims(victim(), "", 600, "access");
    char *t = craft(HS256, c, SIG_HS256, secret());
    char *t2 = craft(HS256, c2, SIG_HS256, secret());
    char *t3 = mv_jwt_sign((const unsigned char *)secret(), strlen(secret()),
                           "mod_mocaverse2", victim(), (long long)time(NULL),
                           600, "jti-3");
    (void)state;
    assert_refused("iss evil", t);
    assert_refused("iss empty", t2);
    assert_refused("iss mod_mocaverse2", t3);
    free(t);
    free(t2);
    free(t3);
    free(c);
    free(c2);
}

static void refresh_token_or_other_type_as_bearer_is_401(void **state)
{
    char *e = new_email();
    mv_resp *acc = new_account(e);
    char *c = claims(victim(), ISS, 600, "refresh");
    char *t = craft(HS256, c, SIG_HS256, secret());
    (void)state;
    assert_refused("refresh token as bearer", mv_json_str(acc, "refreshToken"));
    assert_refused("type refresh", t);
    /* The access token of the same response works. */
    {
        mv_resp *r = get_bearer("/me", mv_json_str(acc, "accessToken"));
        assert_int_equal(r->status, 200);
        mv_resp_free(r);
    }
    mv_resp_free(acc);
    free(t);
    free(c);
    free(e);
}

static void malformed_subjects_are_401(void **state)
{
    long long now = (long long)time(NULL);
    const char *fmts[] = {
        /* sub and userId disagree */
        "{\"sub\":\"%lld\",\"userId\":1%lld,\"type\":\"access\","
        "\"iss\":\"" ISS "\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"x\"}",
        /* sub a number */
        "{\"sub\":%lld,\"userId\":%lld,\"type\":\"access\","
        "\"iss\":\"" ISS "\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"x\"}",
    };
    size_t i;
    char *payload, *t;
    (void)state;
    for (i = 0; i < 2; i++) {
        if (asprintf(&payload, fmts[i], victim(), victim(), now, now + 600) <
            0) {
            abort();
        }
        t = craft(HS256, payload, SIG_HS256, secret());
        assert_refused(payload, t);
        free(t);
        free(payload);
    }
    /* A user id that does not exist: valid signature, no account. */
    payload = claims(9000000000000000000LL, ISS, 600, "access");
    t = craft(HS256, payload, SIG_HS256, secret());
    assert_refused("unknown user", t);
    free(t);
    free(payload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crafted_token_with_the_real_key_is_accepted),
        cmocka_unit_test(alg_none_is_401),
        cmocka_unit_test(hs512_with_the_real_key_is_401),
        cmocka_unit_test(tampered_payload_is_401),
        cmocka_unit_test(signature_from_another_key_is_401),
        cmocka_unit_test(expired_token_is_401),
        cmocka_unit_test(wrong_issuer_is_401),
        cmocka_unit_test(refresh_token_or_other_type_as_bearer_is_401),
        cmocka_unit_test(malformed_subjects_are_401),
    };
    mv_harness_init();
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
