/*
 * rewards.h — what the reward-route tests share (test_otp.c,
 * test_coupons.c, test_scan.c, test_wallet.c): users signed up through the
 * real OTP routes, root invite codes made in SQL, coupon batches through
 * the admin route, and a hostile-input sweep.  Static functions: each test
 * binary links only harness.c.
 */
#ifndef MV_TEST_REWARDS_H
#define MV_TEST_REWARDS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harness.h"
#include "mv_crypto.h"

/* A user made through POST /auth/otp + /auth/verify. */
typedef struct {
    long long id;
    char phone[24];
    char *token;            /* access token, malloc'd */
    char auth[4200];        /* "Authorization: Bearer <token>" */
    const char *headers[2]; /* {auth, NULL} */
} rw_user;

static inline void rw_init(void)
{
    mv_harness_init();
    if (sodium_init() < 0) {
        abort();
    }
}

/* A fresh phone number ("+" and 13 digits) unlikely to repeat. */
static inline void rw_phone(char out[24])
{
    snprintf(out, 24, "+49%05u%05u", randombytes_uniform(100000),
             randombytes_uniform(100000));
}

/* A fresh root invite code with `uses` uses, made in SQL; malloc'd. */
static inline char *rw_invite_root(int uses)
{
    char code[9];

    mv_invite_code_generate(code, 8);
    mv_sql_exec("INSERT INTO invite_codes (code, uses, remaining)"
                " VALUES ('%s', %d, %d)",
                code, uses, uses);
    return strdup(code);
}

/* POST /auth/otp for a JSON destination member ("\"phone\":\"+49...\"");
 * asserts 200 and returns the code of delivery `response` (malloc'd). */
static inline char *rw_otp(const char *member)
{
    char body[256];
    mv_resp *r;
    char *code;

    snprintf(body, sizeof body, "{%s}", member);
    r = mv_http("POST", "/auth/otp", body, NULL);
    if (r->status != 200 || !mv_json_str(r, "otp")) {
        fprintf(stderr, "POST /auth/otp %s: %ld %s\n", body, r->status,
                r->body);
        fail();
    }
    code = strdup(mv_json_str(r, "otp"));
    mv_resp_free(r);
    return code;
}

/* A new phone user signed up with a fresh root invite code. */
static inline rw_user *rw_user_new(void)
{
    rw_user *u = calloc(1, sizeof(*u));
    char member[64], body[256], *code, *invite = rw_invite_root(1);
    mv_resp *r;

    rw_phone(u->phone);
    snprintf(member, sizeof member, "\"phone\":\"%s\"", u->phone);
    code = rw_otp(member);
    snprintf(body, sizeof body, "{%s,\"otp\":\"%s\",\"inviteCode\":\"%s\"}",
             member, code, invite);
    r = mv_http("POST", "/auth/verify", body, NULL);
    if (r->status != 200 || !mv_json_str(r, "accessToken")) {
        fprintf(stderr, "POST /auth/verify: %ld %s\n", r->status, r->body);
        fail();
    }
    u->token = strdup(mv_json_str(r, "accessToken"));
    u->id = (long long)json_integer_value(
        json_object_get(json_object_get(r->json, "user"), "id"));
    snprintf(u->auth, sizeof u->auth, "Authorization: Bearer %s", u->token);
    u->headers[0] = u->auth;
    mv_resp_free(r);
    free(code);
    free(invite);
    return u;
}

static inline void rw_user_free(rw_user *u)
{
    if (u) {
        free(u->token);
        free(u);
    }
}

/* POST /coupons/generate with the admin key; asserts 200 and returns the
 * "tokens" array (a new reference).  extra: more members or "". */
static inline json_t *rw_coupons(int count, int points, const char *extra)
{
    char body[512];
    mv_resp *r;
    json_t *tokens;

    snprintf(body, sizeof body, "{\"count\":%d,\"points\":%d%s%s}", count,
             points, *extra ? "," : "", extra);
    r = mv_http("POST", "/coupons/generate", body, mv_admin_headers());
    if (r->status != 200) {
        fprintf(stderr, "POST /coupons/generate: %ld %s\n", r->status, r->body);
        fail();
    }
    tokens = json_incref(json_object_get(r->json, "tokens"));
    mv_resp_free(r);
    return tokens;
}

/* Asserts the answer to hostile input: a 2xx or 4xx JSON body, and an
 * error body ("error", "code") on a 4xx.  Never a 5xx, never no answer. */
static inline void rw_check_not_5xx(const mv_resp *r, const char *what,
                                    const char *file, int line)
{
    char *ct = mv_resp_header(r, "Content-Type");
    int ok = ct && strncmp(ct, "application/json", 16) == 0 &&
             ((r->status >= 200 && r->status < 300) ||
              (r->status >= 400 && r->status < 500 && mv_json_str(r, "error") &&
               mv_json_str(r, "code")));

    if (!ok) {
        fprintf(stderr, "%s:%d: %s: expected 2xx/4xx JSON, got %ld %.300s\n",
                file, line, what, r->status, r->body);
        free(ct);
        fail();
    }
    free(ct);
}
#define rw_assert_not_5xx(r, what) rw_check_not_5xx(r, what, __FILE__, __LINE__)

/* Hostile values for any one field (JSON text). */
static const char *const rw_hostile_values[] = {
    "0",
    "-1",
    "1",
    "1.5",
    "1e300",
    "-1e300",
    "123456789012345678901234567890",
    "9223372036854775807",
    "-9223372036854775808",
    "true",
    "false",
    "null",
    "[]",
    "{}",
    "[1,2,3]",
    "{\"a\":{\"b\":[1]}}",
    "\"\"",
    "\" \"",
    "\"'; DROP TABLE users; --\"",
    "\"' OR '1'='1\"",
    "\"%s%s%s%n\"",
    "\"\\\\x00\"",
    "\"\\u202e\\u0430\\ud83d\\ude00\"",
    "\"Robert'); DELETE FROM coupons; --\"",
    "\"00000000-0000-0000-0000-000000000000\"",
    "\"00000000-0000-0000-0000-00000000000g\"",
    "\"123456\"",
    "\"+15551234567\"",
    "\"a@b.co\"",
    "\"ABCDEFGH\"",
    "\"2026-02-30T00:00:00Z\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"0000-01-01T00:00:00Z\"",
};

/* A JSON string value of n 'A's (malloc'd), for size limits. */
static inline char *rw_long_string(size_t n)
{
    char *s = malloc(n + 3);

    s[0] = '"';
    memset(s + 1, 'A', n);
    s[n + 1] = '"';
    s[n + 2] = '\0';
    return s;
}

/* A JSON value nested `depth` arrays deep (malloc'd). */
static inline char *rw_deep(size_t depth)
{
    char *s = malloc(2 * depth + 2);

    memset(s, '[', depth);
    s[depth] = '1';
    memset(s + depth + 1, ']', depth);
    s[2 * depth + 1] = '\0';
    return s;
}

/*
 * Sends `base` (a JSON object that would pass, or nearly) to path with
 * each field of `fields` replaced by every hostile value, then broken
 * bodies: every answer must be 2xx or a 4xx JSON error, never 5xx.
 */
static inline void rw_hostile_sweep(const char *path,
                                    const char *const *headers,
                                    const char *base, const char *const *fields)
{
    const char *broken[] = {"",
                            "{",
                            "[]",
                            "\"x\"",
                            "null",
                            "{\"a\":1,\"a\":2}",
                            "{\"token\":\"\xff\xfe\"}",
                            "{\"phone\":\"\xc0\xaf\"}",
                            "{\"x\":\"\\u0000\"}",
                            "{\"n\":1e999999}"};
    char *extra_values[3];
    size_t i, f, k;
    mv_resp *r;

    extra_values[0] = rw_long_string(60000);
    extra_values[1] = rw_long_string(70000); /* body over 64 KiB */
    extra_values[2] = rw_deep(5000);
    for (f = 0; fields[f]; f++) {
        size_t n = sizeof rw_hostile_values / sizeof *rw_hostile_values;
        for (i = 0; i < n + 3; i++) {
            const char *v = i < n ? rw_hostile_values[i] : extra_values[i - n];
            json_t *obj = json_loads(base, 0, NULL);
            json_t *val = json_loads(v, JSON_DECODE_ANY, NULL);
            char *body, what[160];

            assert_non_null(obj);
            if (val) {
                json_object_set_new(obj, fields[f], val);
                body = json_dumps(obj, JSON_COMPACT);
            } else {
                /* Too deep for jansson here: splice the text in. */
                if (asprintf(&body, "{\"%s\":%s}", fields[f], v) < 0) {
                    abort();
                }
            }
            r = mv_http("POST", path, body, headers);
            snprintf(what, sizeof what, "POST %s %s=%.40s", path, fields[f], v);
            rw_assert_not_5xx(r, what);
            mv_resp_free(r);
            free(body);
            json_decref(obj);
        }
    }
    for (k = 0; k < sizeof broken / sizeof *broken; k++) {
        r = mv_http("POST", path, broken[k], headers);
        mv_assert_4xx_json(r);
        mv_resp_free(r);
    }
    for (k = 0; k < 3; k++) {
        free(extra_values[k]);
    }
}

#endif
