/*
 * POST /scan: redeeming coupons exactly once, with the scan, the ledger
 * credit and the balance committed together; 404/409/410; credentials;
 * simultaneous scans; hostile input.
 */
#include <time.h>

#include "mv_jwt.h"
#include "rewards.h"

/* POST /scan {"token": token} as user u. */
static mv_resp *scan(const rw_user *u, const char *token)
{
    char body[256];

    snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    return mv_http("POST", "/scan", body, u->headers);
}

/* The i-th token of an array. */
static const char *tok(json_t *tokens, size_t i)
{
    return json_string_value(json_array_get(tokens, i));
}

static void scan_redeems_and_credits_the_wallet(void **state)
{
    rw_user *u = rw_user_new();
    json_t *a = rw_coupons(1, 25, ""), *b = rw_coupons(1, 10, "");
    char body[256], upper[40];
    long long scan_id;
    mv_resp *r;
    (void)state;
    snprintf(body, sizeof body,
             "{\"token\":\"%s\",\"deviceId\":\"dev-1\","
             "\"gps\":{\"lat\":52.5,\"lng\":13.4}}",
             tok(a, 0));
    r = mv_http("POST", "/scan", body, u->headers);
    assert_int_equal(r->status, 200);
    assert_true(json_is_true(json_object_get(r->json, "success")));
    assert_int_equal(mv_json_int(r, "points"), 25);
    assert_int_equal(mv_json_int(r, "balance"), 25);
    scan_id = mv_json_int(r, "scanId");
    assert_true(scan_id > 0);
    mv_resp_free(r);
    /* What was written, all of it. */
    assert_int_equal(mv_sql_int("SELECT redeemed_by FROM coupons WHERE"
                                " token = '%s' AND redeemed_at IS NOT NULL",
                                tok(a, 0)),
                     u->id);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM scans s JOIN coupons c"
                                " ON c.id = s.coupon_id WHERE s.id = %lld"
                                " AND c.token = '%s' AND s.user_id = %lld"
                                " AND s.device_id = 'dev-1' AND s.gps ="
                                " '{\"lat\":52.5,\"lng\":13.4}'",
                                scan_id, tok(a, 0), u->id),
                     1);
    assert_int_equal(mv_sql_int("SELECT amount FROM ledger WHERE scan_id ="
                                " %lld AND user_id = %lld AND type = 'scan'"
                                " AND coupon_id = (SELECT id FROM coupons"
                                " WHERE token = '%s')",
                                scan_id, u->id, tok(a, 0)),
                     25);
    /* A second coupon adds up; an upper-case token is the same token;
     * a gps string is kept as sent. */
    snprintf(upper, sizeof upper, "%s", tok(b, 0));
    for (char *c = upper; *c; c++) {
        if (*c >= 'a' && *c <= 'f') {
            *c = (char)(*c - 'a' + 'A');
        }
    }
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"gps\":\"52.5,13.4\"}",
             upper);
    r = mv_http("POST", "/scan", body, u->headers);
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "points"), 10);
    assert_int_equal(mv_json_int(r, "balance"), 35);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT balance FROM balances WHERE user_id"
                                " = %lld",
                                u->id),
                     35);
    json_decref(a);
    json_decref(b);
    rw_user_free(u);
}

static void scan_of_a_redeemed_coupon_is_409(void **state)
{
    rw_user *u = rw_user_new(), *v = rw_user_new();
    json_t *a = rw_coupons(1, 7, "");
    mv_resp *r;
    (void)state;
    r = scan(u, tok(a, 0));
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    r = scan(u, tok(a, 0));
    mv_assert_error(r, 409, "coupon_already_redeemed");
    mv_resp_free(r);
    r = scan(v, tok(a, 0));
    mv_assert_error(r, 409, "coupon_already_redeemed");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT balance FROM balances WHERE user_id"
                                " = %lld",
                                u->id),
                     7);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM balances WHERE user_id"
                                " = %lld",
                                v->id),
                     0);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM ledger WHERE coupon_id"
                                " = (SELECT id FROM coupons WHERE token ="
                                " '%s')",
                                tok(a, 0)),
                     1);
    json_decref(a);
    rw_user_free(u);
    rw_user_free(v);
}

static void scan_of_an_unknown_or_malformed_token_is_404(void **state)
{
    const char *tokens[] = {"6f1c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f",
                            "00000000-0000-0000-0000-000000000000",
                            "abc",
                            "' OR 1=1 --",
                            "6f1c1d2e3b4a4c5d8e6f7a8b9c0d1e2f",
                            "{6f1c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f}",
                            "6f1c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2fff",
                            "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"};
    rw_user *u = rw_user_new();
    (void)state;
    for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++) {
        mv_resp *r = scan(u, tokens[i]);
        mv_assert_error(r, 404, "coupon_not_found");
        mv_resp_free(r);
    }
    rw_user_free(u);
}

static void scan_of_an_expired_coupon_is_410(void **state)
{
    rw_user *u = rw_user_new();
    json_t *a = rw_coupons(1, 9, "\"expiresAt\":\"2099-01-01T00:00:00Z\"");
    mv_resp *r;
    (void)state;
    mv_sql_exec("UPDATE coupons SET expires_at = now() - interval '1 s'"
                " WHERE token = '%s'",
                tok(a, 0));
    r = scan(u, tok(a, 0));
    mv_assert_error(r, 410, "coupon_expired");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM coupons WHERE token ="
                                " '%s' AND redeemed_at IS NULL",
                                tok(a, 0)),
                     1);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM ledger WHERE user_id ="
                                " %lld",
                                u->id),
                     0);
    json_decref(a);
    rw_user_free(u);
}

static void scan_without_a_token_is_400(void **state)
{
    const char *required[] = {"{}", "{\"token\":\"\"}", "{\"token\":null}",
                              "{\"deviceId\":\"x\"}"};
    const char *wrong[] = {"{\"token\":123}", "{\"token\":[\"a\"]}",
                           "{\"token\":{}}", "{\"token\":true}"};
    rw_user *u = rw_user_new();
    json_t *a = rw_coupons(1, 1, "");
    char body[512];
    mv_resp *r;
    (void)state;
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        r = mv_http("POST", "/scan", required[i], u->headers);
        mv_assert_error(r, 400, "token_required");
        mv_resp_free(r);
    }
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        r = mv_http("POST", "/scan", wrong[i], u->headers);
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
    /* Bad optional fields: 400, and the coupon is not spent. */
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"deviceId\":5}", tok(a, 0));
    r = mv_http("POST", "/scan", body, u->headers);
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"gps\":12.5}", tok(a, 0));
    r = mv_http("POST", "/scan", body, u->headers);
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM coupons WHERE token ="
                                " '%s' AND redeemed_at IS NULL",
                                tok(a, 0)),
                     1);
    json_decref(a);
    rw_user_free(u);
}

/* An access token signed with the test secret, issued at iat. */
static char *forge(long long user_id, long long iat, long long ttl)
{
    const char *secret = getenv("MV_TEST_JWT_SECRET");

    return mv_jwt_sign((const unsigned char *)secret, strlen(secret),
                       "mod_mocaverse", user_id, iat, ttl, "test-jti");
}

static void scan_needs_a_valid_access_token(void **state)
{
    rw_user *u = rw_user_new();
    json_t *a = rw_coupons(1, 4, "");
    char body[128], lines[6][4300], *expired;
    const char *h[2] = {NULL, NULL};
    long long now = (long long)time(NULL);
    mv_resp *r;
    (void)state;
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", tok(a, 0));
    expired = forge(u->id, now - 3600, 60);
    snprintf(lines[0], sizeof lines[0], "Authorization: Bearer");
    snprintf(lines[1], sizeof lines[1], "Authorization: Bearer not.a.jwt");
    snprintf(lines[2], sizeof lines[2], "Authorization: Bearer %sx", u->token);
    snprintf(lines[3], sizeof lines[3], "Authorization: Bearer %s", expired);
    snprintf(lines[4], sizeof lines[4], "Authorization: Basic %s", u->token);
    snprintf(lines[5], sizeof lines[5], "X-Admin-Key: %s", mv_admin_key());
    r = mv_http("POST", "/scan", body, NULL);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    for (int i = 0; i < 6; i++) {
        h[0] = lines[i];
        r = mv_http("POST", "/scan", body, h);
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
    }
    /* alg "none" with the signature dropped. */
    {
        char none[4300];
        const char *dot = strchr(u->token, '.');
        snprintf(none, sizeof none,
                 "Authorization: Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"
                 "%.*s.",
                 (int)(strrchr(u->token, '.') - dot), dot);
        h[0] = none;
        r = mv_http("POST", "/scan", body, h);
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM coupons WHERE token ="
                                " '%s' AND redeemed_at IS NULL",
                                tok(a, 0)),
                     1);
    free(expired);
    json_decref(a);
    rw_user_free(u);
}

static void scan_by_a_deleted_user_is_401_not_500(void **state)
{
    rw_user *u = rw_user_new();
    json_t *a = rw_coupons(1, 4, "");
    mv_resp *r;
    (void)state;
    mv_sql_exec("DELETE FROM users WHERE id = %lld", u->id);
    r = scan(u, tok(a, 0));
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM coupons WHERE token ="
                                " '%s' AND redeemed_at IS NULL",
                                tok(a, 0)),
                     1);
    json_decref(a);
    rw_user_free(u);
}

/* ---------------------------------------------------------- concurrency */

typedef struct {
    rw_user *users[10];
    int nusers;
    json_t *tokens;
    int same; /* 1: everyone scans token 0 */
    long status[200];
} scan_race;

static void scan_race_one(int i, void *arg)
{
    scan_race *race = arg;
    mv_resp *r = scan(race->users[i % race->nusers],
                      tok(race->tokens, race->same ? 0 : (size_t)i));
    race->status[i] = r->status;
    mv_resp_free(r);
}

static void scan_same_coupon_50_way_race_one_winner(void **state)
{
    scan_race race = {.nusers = 5, .same = 1};
    int ok = 0, conflict = 0;
    (void)state;
    for (int i = 0; i < 5; i++) {
        race.users[i] = rw_user_new();
    }
    race.tokens = rw_coupons(1, 40, "");
    mv_parallel(50, scan_race_one, &race);
    for (int i = 0; i < 50; i++) {
        ok += race.status[i] == 200;
        conflict += race.status[i] == 409;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(conflict, 49);
    assert_int_equal(mv_sql_int("SELECT sum(balance) FROM balances WHERE"
                                " user_id IN (%lld,%lld,%lld,%lld,%lld)",
                                race.users[0]->id, race.users[1]->id,
                                race.users[2]->id, race.users[3]->id,
                                race.users[4]->id),
                     40);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM scans WHERE coupon_id"
                                " = (SELECT id FROM coupons WHERE token ="
                                " '%s')",
                                tok(race.tokens, 0)),
                     1);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM ledger WHERE coupon_id"
                                " = (SELECT id FROM coupons WHERE token ="
                                " '%s')",
                                tok(race.tokens, 0)),
                     1);
    json_decref(race.tokens);
    for (int i = 0; i < 5; i++) {
        rw_user_free(race.users[i]);
    }
}

static void
scan_200_coupons_by_10_users_all_succeed_and_balances_match(void **state)
{
    scan_race race = {.nusers = 10, .same = 0};
    json_t *b;
    char ids[256];
    size_t off = 0;
    int ok = 0;
    (void)state;
    for (int i = 0; i < 10; i++) {
        race.users[i] = rw_user_new();
        off += (size_t)snprintf(ids + off, sizeof ids - off, "%s%lld",
                                i ? "," : "", race.users[i]->id);
    }
    /* Two batches of different worth, interleaved among the users. */
    race.tokens = rw_coupons(100, 3, "");
    b = rw_coupons(100, 11, "");
    json_array_extend(race.tokens, b);
    json_decref(b);
    mv_parallel(200, scan_race_one, &race);
    for (int i = 0; i < 200; i++) {
        ok += race.status[i] == 200;
    }
    assert_int_equal(ok, 200);
    /* Every user's maintained balance equals the sum of their ledger. */
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users u LEFT JOIN"
                                " balances b ON b.user_id = u.id WHERE u.id"
                                " IN (%s) AND COALESCE(b.balance, 0) ="
                                " (SELECT COALESCE(sum(amount), 0) FROM"
                                " ledger l WHERE l.user_id = u.id)",
                                ids),
                     10);
    assert_int_equal(mv_sql_int("SELECT sum(balance) FROM balances WHERE"
                                " user_id IN (%s)",
                                ids),
                     100 * 3 + 100 * 11);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM scans WHERE user_id"
                                " IN (%s)",
                                ids),
                     200);
    json_decref(race.tokens);
    for (int i = 0; i < 10; i++) {
        rw_user_free(race.users[i]);
    }
}

/* -------------------------------------------------------------- hostile */

static void scan_survives_hostile_input(void **state)
{
    const char *fields[] = {"token", "deviceId", "gps", NULL};
    rw_user *u = rw_user_new();
    (void)state;
    rw_hostile_sweep("/scan", u->headers,
                     "{\"token\":\"6f1c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f\"}",
                     fields);
    rw_user_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_redeems_and_credits_the_wallet),
        cmocka_unit_test(scan_of_a_redeemed_coupon_is_409),
        cmocka_unit_test(scan_of_an_unknown_or_malformed_token_is_404),
        cmocka_unit_test(scan_of_an_expired_coupon_is_410),
        cmocka_unit_test(scan_without_a_token_is_400),
        cmocka_unit_test(scan_needs_a_valid_access_token),
        cmocka_unit_test(scan_by_a_deleted_user_is_401_not_500),
        cmocka_unit_test(scan_same_coupon_50_way_race_one_winner),
        cmocka_unit_test(
            scan_200_coupons_by_10_users_all_succeed_and_balances_match),
        cmocka_unit_test(scan_survives_hostile_input),
    };
    rw_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
