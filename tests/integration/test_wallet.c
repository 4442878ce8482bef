/*
 * GET /users/{id}/wallet: the maintained balance and the ledger newest
 * first with limit/before paging; own wallet with a bearer token, any with
 * the admin key; bad ids and queries; hostile input.
 */
#include "rewards.h"

/* GET /users/{id}/wallet<query> with headers. */
static mv_resp *wallet(long long id, const char *query,
                       const char *const *headers)
{
    char path[256];

    snprintf(path, sizeof path, "/users/%lld/wallet%s", id, query);
    return mv_http("GET", path, NULL, headers);
}

/* Scans one fresh coupon worth points as u; asserts 200. */
static void earn(const rw_user *u, int points)
{
    json_t *t = rw_coupons(1, points, "");
    char body[128];
    mv_resp *r;

    snprintf(body, sizeof body, "{\"token\":\"%s\"}",
             json_string_value(json_array_get(t, 0)));
    r = mv_http("POST", "/scan", body, u->headers);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    json_decref(t);
}

/* The amounts of a wallet page, as "5,4,3" (static buffer). */
static const char *amounts(const mv_resp *r)
{
    static char out[512];
    json_t *list = json_object_get(r->json, "transactions");
    size_t off = 0, i;

    out[0] = '\0';
    for (i = 0; i < json_array_size(list); i++) {
        off += (size_t)snprintf(out + off, sizeof out - off, "%s%lld",
                                i ? "," : "",
                                (long long)json_integer_value(json_object_get(
                                    json_array_get(list, i), "amount")));
    }
    return out;
}

static void wallet_of_a_new_user_is_empty(void **state)
{
    rw_user *u = rw_user_new();
    mv_resp *r = wallet(u->id, "", u->headers);
    (void)state;
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "userId"), u->id);
    assert_int_equal(mv_json_int(r, "balance"), 0);
    assert_true(json_is_array(json_object_get(r->json, "transactions")));
    assert_int_equal(json_array_size(json_object_get(r->json, "transactions")),
                     0);
    assert_true(json_is_null(json_object_get(r->json, "nextBefore")));
    mv_resp_free(r);
    rw_user_free(u);
}

static void wallet_lists_entries_newest_first_and_pages(void **state)
{
    rw_user *u = rw_user_new();
    json_t *first, *next;
    char query[64];
    mv_resp *r;
    (void)state;
    for (int p = 1; p <= 5; p++) {
        earn(u, p);
    }
    r = wallet(u->id, "", u->headers);
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "balance"), 15);
    assert_string_equal(amounts(r), "5,4,3,2,1");
    assert_true(json_is_null(json_object_get(r->json, "nextBefore")));
    first = json_array_get(json_object_get(r->json, "transactions"), 0);
    assert_true(json_integer_value(json_object_get(first, "id")) > 0);
    assert_string_equal(json_string_value(json_object_get(first, "type")),
                        "scan");
    assert_true(json_integer_value(json_object_get(first, "couponId")) > 0);
    assert_int_equal(
        strlen(json_string_value(json_object_get(first, "createdAt"))), 20);
    assert_int_equal(json_string_value(json_object_get(first, "createdAt"))[19],
                     'Z');
    mv_resp_free(r);
    /* Pages of two: 5,4 → 3,2 → 1. */
    r = wallet(u->id, "?limit=2", u->headers);
    assert_string_equal(amounts(r), "5,4");
    next = json_object_get(r->json, "nextBefore");
    assert_true(json_is_integer(next));
    snprintf(query, sizeof query, "?limit=2&before=%lld",
             (long long)json_integer_value(next));
    mv_resp_free(r);
    r = wallet(u->id, query, u->headers);
    assert_string_equal(amounts(r), "3,2");
    assert_int_equal(mv_json_int(r, "balance"), 15);
    next = json_object_get(r->json, "nextBefore");
    assert_true(json_is_integer(next));
    snprintf(query, sizeof query, "?before=%lld&limit=2",
             (long long)json_integer_value(next));
    mv_resp_free(r);
    r = wallet(u->id, query, u->headers);
    assert_string_equal(amounts(r), "1");
    assert_true(json_is_null(json_object_get(r->json, "nextBefore")));
    mv_resp_free(r);
    /* A page that ends exactly at the last entry says so. */
    r = wallet(u->id, "?limit=5", u->headers);
    assert_string_equal(amounts(r), "5,4,3,2,1");
    assert_true(json_is_null(json_object_get(r->json, "nextBefore")));
    mv_resp_free(r);
    /* Limits at the edges; unknown parameters are ignored. */
    r = wallet(u->id, "?limit=1&utm_source=x", u->headers);
    assert_string_equal(amounts(r), "5");
    mv_resp_free(r);
    r = wallet(u->id, "?limit=200", u->headers);
    assert_string_equal(amounts(r), "5,4,3,2,1");
    mv_resp_free(r);
    rw_user_free(u);
}

/* Asserts that e is a wallet entry with the types of the SPEC; returns its
 * id. */
static long long check_entry(json_t *e)
{
    json_t *id = json_object_get(e, "id"), *coupon;
    const char *type, *at;

    assert_true(json_is_object(e));
    assert_int_equal(json_object_size(e), 5);
    assert_true(json_is_integer(id));
    assert_true(json_integer_value(id) > 0);
    assert_true(json_is_integer(json_object_get(e, "amount")));
    assert_true(json_integer_value(json_object_get(e, "amount")) != 0);
    type = json_string_value(json_object_get(e, "type"));
    assert_non_null(type);
    coupon = json_object_get(e, "couponId");
    if (strcmp(type, "scan") == 0) {
        assert_true(json_is_integer(coupon));
    } else {
        assert_string_equal(type, "adjustment");
        assert_true(json_is_null(coupon));
    }
    at = json_string_value(json_object_get(e, "createdAt"));
    assert_non_null(at);
    assert_int_equal(strlen(at), 20);
    for (int i = 0; i < 20; i++) {
        assert_true(
            at[i] == "0000-00-00T00:00:00Z"[i] ||
            (at[i] >= '0' && at[i] <= '9' && "0000-00-00T00:00:00Z"[i] == '0'));
    }
    return (long long)json_integer_value(id);
}

static void wallet_full_page_is_json_with_the_right_types(void **state)
{
    rw_user *u = rw_user_new();
    json_t *list, *e;
    char query[64], *dumped, *length;
    long long prev = 0, id;
    mv_resp *r;
    (void)state;
    /* 52 adjustments, oldest first: amounts of both signs (two beyond a
     * double's exact integers, summing to zero), whole seconds and
     * fractions; then 3 scans, the newest entries. */
    mv_sql_exec("WITH entries AS (INSERT INTO ledger (user_id, amount, type,"
                " created_at) SELECT %lld, CASE i WHEN 1 THEN 9007199254740993"
                " WHEN 2 THEN -9007199254740993"
                " ELSE (i %% 7 - 3) * 10 + (i %% 7 = 3)::int END,"
                " 'adjustment', timestamptz '2026-11-21 14:03:00+00'"
                " + i * interval '1 minute'"
                " + (i %% 2) * interval '0.123456 second'"
                " FROM generate_series(1, 52) AS i RETURNING amount)"
                " INSERT INTO balances (user_id, balance)"
                " SELECT %lld, sum(amount) FROM entries"
                " ON CONFLICT (user_id) DO UPDATE"
                " SET balance = balances.balance + EXCLUDED.balance",
                u->id, u->id);
    for (int p = 1; p <= 3; p++) {
        earn(u, p);
    }
    r = wallet(u->id, "", u->headers);
    assert_int_equal(r->status, 200);
    assert_non_null(r->json);
    /* The exact text jansson writes for the same values, and its length
     * in Content-Length. */
    dumped = json_dumps(r->json, JSON_COMPACT);
    assert_string_equal(r->body, dumped);
    free(dumped);
    length = mv_resp_header(r, "Content-Length");
    assert_non_null(length);
    assert_int_equal(atoll(length), r->body_len);
    free(length);
    assert_int_equal(json_object_size(r->json), 4);
    assert_true(json_is_integer(json_object_get(r->json, "userId")));
    assert_int_equal(mv_json_int(r, "userId"), u->id);
    assert_true(json_is_integer(json_object_get(r->json, "balance")));
    assert_int_equal(mv_json_int(r, "balance"),
                     mv_sql_int("SELECT sum(amount) FROM ledger WHERE"
                                " user_id = %lld",
                                u->id));
    list = json_object_get(r->json, "transactions");
    assert_int_equal(json_array_size(list), 50);
    for (size_t i = 0; i < 50; i++) {
        e = json_array_get(list, i);
        id = check_entry(e);
        assert_true(prev == 0 || id < prev);
        prev = id;
        assert_string_equal(json_string_value(json_object_get(e, "type")),
                            i < 3 ? "scan" : "adjustment");
    }
    /* The oldest shown is adjustment 52 - 46 = 6 (even: whole second). */
    assert_int_equal(json_integer_value(json_object_get(e, "amount")),
                     (6 % 7 - 3) * 10);
    assert_string_equal(json_string_value(json_object_get(e, "createdAt")),
                        "2026-11-21T14:09:00Z");
    e = json_array_get(list, 3);
    assert_string_equal(json_string_value(json_object_get(e, "createdAt")),
                        "2026-11-21T14:55:00Z");
    e = json_array_get(list, 4); /* 14:54:00.123456 */
    assert_string_equal(json_string_value(json_object_get(e, "createdAt")),
                        "2026-11-21T14:54:00Z");
    assert_true(json_is_integer(json_object_get(r->json, "nextBefore")));
    assert_int_equal(mv_json_int(r, "nextBefore"), prev);
    snprintf(query, sizeof query, "?before=%lld", prev);
    mv_resp_free(r);
    /* The rest: adjustments 5..1, the huge amounts last. */
    r = wallet(u->id, query, u->headers);
    assert_int_equal(r->status, 200);
    dumped = json_dumps(r->json, JSON_COMPACT);
    assert_string_equal(r->body, dumped);
    free(dumped);
    list = json_object_get(r->json, "transactions");
    assert_int_equal(json_array_size(list), 5);
    for (size_t i = 0; i < 5; i++) {
        check_entry(json_array_get(list, i));
    }
    assert_string_equal(amounts(r), "20,10,1,-9007199254740993,"
                                    "9007199254740993");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 4), "createdAt")),
                        "2026-11-21T14:04:00Z");
    assert_true(json_is_null(json_object_get(r->json, "nextBefore")));
    mv_resp_free(r);
    rw_user_free(u);
}

static void wallet_balance_is_the_maintained_one(void **state)
{
    rw_user *u = rw_user_new();
    mv_resp *r;
    (void)state;
    earn(u, 6);
    /* Move the maintained balance away from the ledger: the wallet shows
     * the maintained value, proving it does not sum the ledger. */
    mv_sql_exec("UPDATE balances SET balance = balance + 1000 WHERE"
                " user_id = %lld",
                u->id);
    r = wallet(u->id, "", u->headers);
    assert_int_equal(mv_json_int(r, "balance"), 1006);
    mv_resp_free(r);
    mv_sql_exec("UPDATE balances SET balance = balance - 1000 WHERE"
                " user_id = %lld",
                u->id);
    rw_user_free(u);
}

static void wallet_access_rules(void **state)
{
    rw_user *u = rw_user_new(), *v = rw_user_new();
    const char *bad[] = {"Authorization: Bearer nope", NULL};
    const char *wrong_key[] = {"X-Admin-Key: wrong-wrong-wrong-wrong", NULL};
    long long unknown;
    mv_resp *r;
    (void)state;
    earn(v, 3);
    /* Another user's wallet: 403, whatever it holds. */
    r = wallet(v->id, "", u->headers);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    /* The admin key reads any wallet. */
    r = wallet(v->id, "", mv_admin_headers());
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "balance"), 3);
    mv_resp_free(r);
    /* Unknown user: 404 for the admin, 403 for a user. */
    unknown = mv_sql_int("SELECT max(id) + 1000 FROM users");
    r = wallet(unknown, "", mv_admin_headers());
    mv_assert_error(r, 404, "user_not_found");
    mv_resp_free(r);
    r = wallet(unknown, "", u->headers);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    /* No or bad credentials: 401. */
    r = wallet(u->id, "", NULL);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    r = wallet(u->id, "", bad);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    r = wallet(u->id, "", wrong_key);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    /* A valid token of a deleted user: 401, not 500. */
    mv_sql_exec("DELETE FROM users WHERE id = %lld", u->id);
    r = wallet(u->id, "", u->headers);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    rw_user_free(u);
    rw_user_free(v);
}

static void wallet_with_a_bad_id_is_400(void **state)
{
    const char *ids[] = {"abc",
                         "0",
                         "-1",
                         "01",
                         "1.5",
                         "1e3",
                         "+1",
                         "99999999999999999999999",
                         "9223372036854775808",
                         "1%20",
                         "%27%20OR%201=1--",
                         "%E2%98%83",
                         "0x10"};
    rw_user *u = rw_user_new();
    char path[128];
    (void)state;
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        mv_resp *r;
        snprintf(path, sizeof path, "/users/%s/wallet", ids[i]);
        r = mv_http("GET", path, NULL, u->headers);
        mv_assert_error(r, 400, "validation_failed");
        assert_non_null(
            json_object_get(json_object_get(r->json, "fields"), "id"));
        mv_resp_free(r);
        r = mv_http("GET", path, NULL, mv_admin_headers());
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
    rw_user_free(u);
}

static void wallet_with_a_bad_query_is_400(void **state)
{
    const char *queries[] = {"?limit=0",
                             "?limit=201",
                             "?limit=-1",
                             "?limit=abc",
                             "?limit=",
                             "?limit",
                             "?limit=1e2",
                             "?limit=2.5",
                             "?limit=%00",
                             "?limit=1%00",
                             "?limit=99999999999999999999999",
                             "?limit=1&limit=2",
                             "?limit=+5",
                             "?limit=05",
                             "?before=0",
                             "?before=abc",
                             "?before=-5",
                             "?before=",
                             "?before=99999999999999999999999",
                             "?before=1;DROP%20TABLE%20users",
                             "?limit=%zz"};
    rw_user *u = rw_user_new();
    (void)state;
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        mv_resp *r = wallet(u->id, queries[i], u->headers);
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
    rw_user_free(u);
}

static void wallet_survives_hostile_paths(void **state)
{
    const char *paths[] = {"/users/abc/wallet",
                           "/users//wallet",
                           "/users/1/wallet/",
                           "/users/1/wallet?limit=%ff%fe",
                           "/users/1/wallet?%00=1",
                           "/users/1/wallet?limit=1&&&&before=&=",
                           "/users/%2e%2e/wallet",
                           "/users/1/WALLET",
                           "/users/1/wallet?limit=1%27%20OR%20%271%27=%271"};
    rw_user *u = rw_user_new();
    char *big = malloc(8200);
    (void)state;
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        mv_resp *r = mv_http("GET", paths[i], NULL, u->headers);
        if (r->status != 400 || mv_json_str(r, "code")) {
            /* httpd may refuse a path itself (its own 400 page). */
            rw_assert_not_5xx(r, paths[i]);
        }
        mv_resp_free(r);
    }
    /* A very long query string. */
    strcpy(big, "/users/1/wallet?limit=");
    memset(big + strlen(big), '9', 8000);
    big[8150] = '\0';
    {
        mv_resp *r = mv_http("GET", big, NULL, u->headers);
        assert_true(r->status >= 400 && r->status < 500);
        mv_resp_free(r);
    }
    free(big);
    rw_user_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wallet_of_a_new_user_is_empty),
        cmocka_unit_test(wallet_lists_entries_newest_first_and_pages),
        cmocka_unit_test(wallet_full_page_is_json_with_the_right_types),
        cmocka_unit_test(wallet_balance_is_the_maintained_one),
        cmocka_unit_test(wallet_access_rules),
        cmocka_unit_test(wallet_with_a_bad_id_is_400),
        cmocka_unit_test(wallet_with_a_bad_query_is_400),
        cmocka_unit_test(wallet_survives_hostile_paths),
    };
    rw_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
