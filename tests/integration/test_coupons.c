/*
 * POST /coupons/generate: admin-only batches of UUIDv4 coupons, written
 * all at once; validation; a 10,000-coupon batch; hostile input.
 */
#include "rewards.h"

/* POST /coupons/generate body with the admin key. */
static mv_resp *generate(const char *body)
{
    return mv_http("POST", "/coupons/generate", body, mv_admin_headers());
}

static void generate_returns_tokens_and_stores_the_batch(void **state)
{
    mv_resp *r = generate("{\"count\":5,\"points\":100,\"batchName\":"
                          "\"Spring \\u00e9dition\",\"sku\":\"SKU-1\","
                          "\"expiresAt\":\"2099-01-02T03:04:05Z\"}");
    json_t *tokens;
    long long batch;
    size_t i;
    (void)state;
    assert_int_equal(r->status, 200);
    assert_true(json_is_true(json_object_get(r->json, "success")));
    assert_int_equal(mv_json_int(r, "count"), 5);
    batch = mv_json_int(r, "batchId");
    assert_true(batch > 0);
    tokens = json_object_get(r->json, "tokens");
    assert_int_equal(json_array_size(tokens), 5);
    for (i = 0; i < 5; i++) {
        const char *t = json_string_value(json_array_get(tokens, i));
        assert_non_null(t);
        assert_true(mv_uuid_parse(t, NULL));
        assert_int_equal(t[14], '4');           /* version 4 */
        assert_non_null(strchr("89ab", t[19])); /* RFC 4122 variant */
        assert_int_equal(mv_sql_int("SELECT count(*) FROM coupons WHERE"
                                    " token = '%s' AND batch_id = %lld AND"
                                    " points = 100 AND redeemed_at IS NULL"
                                    " AND expires_at ="
                                    " '2099-01-02T03:04:05Z'",
                                    t, batch),
                         1);
    }
    assert_int_equal(mv_sql_int("SELECT count(DISTINCT token) FROM coupons"
                                " WHERE batch_id = %lld",
                                batch),
                     5);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM coupon_batches WHERE"
                                " id = %lld AND name = 'Spring \xc3\xa9"
                                "dition' AND sku = 'SKU-1' AND points = 100"
                                " AND count = 5",
                                batch),
                     1);
    mv_resp_free(r);
}

static void generate_without_optional_fields(void **state)
{
    mv_resp *r = generate("{\"count\":1,\"points\":1000000}");
    long long batch;
    (void)state;
    assert_int_equal(r->status, 200);
    batch = mv_json_int(r, "batchId");
    assert_int_equal(json_array_size(json_object_get(r->json, "tokens")), 1);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM coupon_batches WHERE"
                                " id = %lld AND name IS NULL AND sku IS NULL"
                                " AND expires_at IS NULL",
                                batch),
                     1);
    assert_int_equal(mv_sql_int("SELECT points FROM coupons WHERE"
                                " batch_id = %lld",
                                batch),
                     1000000);
    mv_resp_free(r);
}

static void generate_validation_is_400_and_writes_nothing(void **state)
{
    const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"points\":5}", "count"},
        {"{\"count\":0,\"points\":5}", "count"},
        {"{\"count\":-1,\"points\":5}", "count"},
        {"{\"count\":10001,\"points\":5}", "count"},
        {"{\"count\":\"5\",\"points\":5}", "count"},
        {"{\"count\":5.0,\"points\":5}", "count"},
        {"{\"count\":1e3,\"points\":5}", "count"},
        {"{\"count\":1}", "points"},
        {"{\"count\":1,\"points\":0}", "points"},
        {"{\"count\":1,\"points\":1000001}", "points"},
        {"{\"count\":1,\"points\":\"5\"}", "points"}, /* old crash */
        {"{\"count\":1,\"points\":\"abc\"}", "points"},
        {"{\"count\":1,\"points\":2.5}", "points"},
        {"{\"count\":1,\"points\":true}", "points"},
        {"{\"count\":1,\"points\":[5]}", "points"},
        {"{\"count\":1,\"points\":5,\"expiresAt\":\"2001-01-01T00:00:00Z\"}",
         "expiresAt"},
        {"{\"count\":1,\"points\":5,\"expiresAt\":\"tomorrow\"}", "expiresAt"},
        {"{\"count\":1,\"points\":5,\"expiresAt\":1893456000}", "expiresAt"},
        {"{\"count\":1,\"points\":5,\"expiresAt\":\"2099-02-30T00:00:00Z\"}",
         "expiresAt"},
        {"{\"count\":1,\"points\":5,\"batchName\":7}", "batchName"},
        {"{\"count\":1,\"points\":5,\"sku\":{}}", "sku"},
    };
    long long before = mv_sql_int("SELECT count(*) FROM coupon_batches");
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mv_resp *r = generate(cases[i].body);
        json_t *fields;
        mv_assert_error(r, 400, "validation_failed");
        fields = json_object_get(r->json, "fields");
        if (!json_object_get(fields, cases[i].field)) {
            fprintf(stderr, "%s: no problem for %s in %s\n", cases[i].body,
                    cases[i].field, r->body);
            fail();
        }
        mv_resp_free(r);
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM coupon_batches"), before);
}

static void generate_bounds_batch_name_and_sku(void **state)
{
    char body[1024], name[202], sku[102];
    mv_resp *r;
    (void)state;
    memset(name, 'n', 201);
    name[201] = '\0';
    memset(sku, 's', 101);
    sku[101] = '\0';
    snprintf(body, sizeof body,
             "{\"count\":1,\"points\":5,\"batchName\":\"%s\"}", name);
    r = generate(body);
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
    snprintf(body, sizeof body, "{\"count\":1,\"points\":5,\"sku\":\"%s\"}",
             sku);
    r = generate(body);
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
    name[200] = '\0';
    sku[100] = '\0';
    snprintf(body, sizeof body,
             "{\"count\":1,\"points\":5,\"batchName\":\"%s\",\"sku\":\"%s\"}",
             name, sku);
    r = generate(body);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
}

static void generate_requires_the_admin_key(void **state)
{
    const char *body = "{\"count\":1,\"points\":5}";
    const char *wrong[] = {"X-Admin-Key: not-the-key-at-all-000", NULL};
    const char *empty[] = {"X-Admin-Key: ", NULL};
    char legacy_line[256];
    const char *legacy[] = {legacy_line, NULL};
    rw_user *u = rw_user_new();
    mv_resp *r;
    (void)state;
    r = mv_http("POST", "/coupons/generate", body, NULL);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    r = mv_http("POST", "/coupons/generate", body, wrong);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    r = mv_http("POST", "/coupons/generate", body, empty);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    r = mv_http("POST", "/coupons/generate", body, u->headers);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    /* The legacy header carries the key too. */
    snprintf(legacy_line, sizeof legacy_line, "X-Api-Key: %s", mv_admin_key());
    r = mv_http("POST", "/coupons/generate", body, legacy);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    rw_user_free(u);
}

static void
generate_10000_coupons_in_one_call_with_distinct_tokens(void **state)
{
    mv_resp *r = generate("{\"count\":10000,\"points\":3}");
    json_t *tokens;
    long long batch;
    (void)state;
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "count"), 10000);
    tokens = json_object_get(r->json, "tokens");
    assert_int_equal(json_array_size(tokens), 10000);
    batch = mv_json_int(r, "batchId");
    assert_int_equal(mv_sql_int("SELECT count(*) FROM coupons WHERE"
                                " batch_id = %lld",
                                batch),
                     10000);
    assert_int_equal(mv_sql_int("SELECT count(DISTINCT token) FROM coupons"
                                " WHERE batch_id = %lld",
                                batch),
                     10000);
    /* The answer's tokens are the stored ones. */
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM coupons WHERE"
                   " batch_id = %lld AND token IN ('%s', '%s',"
                   " '%s')",
                   batch, json_string_value(json_array_get(tokens, 0)),
                   json_string_value(json_array_get(tokens, 4999)),
                   json_string_value(json_array_get(tokens, 9999))),
        3);
    mv_resp_free(r);
    /* One more than MocaverseCouponBatchMax (10000 by default): 400. */
    r = generate("{\"count\":10001,\"points\":3}");
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
}

static void generate_survives_hostile_input(void **state)
{
    const char *fields[] = {"count", "points",    "batchName",
                            "sku",   "expiresAt", NULL};
    (void)state;
    rw_hostile_sweep("/coupons/generate", mv_admin_headers(),
                     "{\"count\":1,\"points\":5}", fields);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generate_returns_tokens_and_stores_the_batch),
        cmocka_unit_test(generate_without_optional_fields),
        cmocka_unit_test(generate_validation_is_400_and_writes_nothing),
        cmocka_unit_test(generate_bounds_batch_name_and_sku),
        cmocka_unit_test(generate_requires_the_admin_key),
        cmocka_unit_test(
            generate_10000_coupons_in_one_call_with_distinct_tokens),
        cmocka_unit_test(generate_survives_hostile_input),
    };
    rw_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
