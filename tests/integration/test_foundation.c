/*
 * Foundation: routing errors, body handling, /health through a database
 * outage, /version, and refusing to start with a short JWT secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static void version_names_the_module(void **state)
{
    mv_resp *r = mv_http("GET", "/version", NULL, NULL);
    (void)state;
    assert_int_equal(r->status, 200);
    assert_string_equal(mv_json_str(r, "name"), "mod_mocaverse");
    assert_non_null(mv_json_str(r, "version"));
    mv_resp_free(r);
}

static void health_is_ok_with_database_up(void **state)
{
    mv_resp *r = mv_http("GET", "/health", NULL, NULL);
    char *ct = mv_resp_header(r, "Content-Type");
    (void)state;
    assert_int_equal(r->status, 200);
    assert_string_equal(ct, "application/json");
    assert_string_equal(mv_json_str(r, "status"), "ok");
    assert_string_equal(mv_json_str(r, "database"), "ok");
    free(ct);
    mv_resp_free(r);
}

static void unknown_route_is_404_json(void **state)
{
    const char *paths[] = {"/nope",
                           "/health/",
                           "/healthz",
                           "/auth",
                           "/users/1/wallet/extra",
                           "/%2e%2e/etc/passwd"};
    (void)state;
    for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
        mv_resp *r;

        /* Under a non-root <Location>, "/%2e%2e/..." climbs out of it:
         * then the URL is not the module's. */
        if (strstr(paths[i], "%2e") && strchr(mv_url() + 7, '/')) {
            continue;
        }
        r = mv_http("GET", paths[i], NULL, NULL);
        if (r->status != 400) { /* httpd may refuse an encoded path itself */
            mv_assert_error(r, 404, "not_found");
        }
        mv_resp_free(r);
    }
}

static void wrong_method_is_405_with_allow(void **state)
{
    mv_resp *r = mv_http("POST", "/health", "{}", NULL);
    char *allow = mv_resp_header(r, "Allow");
    (void)state;
    mv_assert_error(r, 405, "method_not_allowed");
    assert_non_null(allow);
    assert_string_equal(allow, "GET");
    free(allow);
    mv_resp_free(r);
    r = mv_http("DELETE", "/version", NULL, NULL);
    mv_assert_error(r, 405, "method_not_allowed");
    mv_resp_free(r);
}

static void head_is_answered_like_get_without_body(void **state)
{
    mv_resp *r = mv_http("HEAD", "/version", NULL, NULL);
    (void)state;
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 0);
    mv_resp_free(r);
}

/* A body route of the module; any will do for the body plumbing. */
#define BODY_ROUTE "/auth/login-with-email"

static void missing_or_wrong_content_type_is_415(void **state)
{
    const char *text[] = {"Content-Type: text/plain", NULL};
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded",
                          NULL};
    const char *jsonish[] = {"Content-Type: application/jsonp", NULL};
    mv_resp *r;
    (void)state;
    r = mv_http("POST", BODY_ROUTE, "{}", text);
    mv_assert_error(r, 415, "unsupported_media_type");
    mv_resp_free(r);
    r = mv_http("POST", BODY_ROUTE, "a=b", form);
    mv_assert_error(r, 415, "unsupported_media_type");
    mv_resp_free(r);
    r = mv_http("POST", BODY_ROUTE, "{}", jsonish);
    mv_assert_error(r, 415, "unsupported_media_type");
    mv_resp_free(r);
}

static void body_over_64k_is_413(void **state)
{
    size_t n = 65536 + 10;
    char *big = malloc(n + 1);
    mv_resp *r;
    (void)state;
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    r = mv_http("POST", BODY_ROUTE, big, NULL);
    mv_assert_error(r, 413, "body_too_large");
    mv_resp_free(r);
    free(big);
}

static void chunked_body_over_64k_is_413_and_small_one_is_read(void **state)
{
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    size_t n = 70000;
    char *big = malloc(n + 1);
    mv_resp *r;
    (void)state;
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    r = mv_http("POST", BODY_ROUTE, big, chunked);
    mv_assert_error(r, 413, "body_too_large");
    mv_resp_free(r);
    free(big);
    /* A malformed chunked body is still parsed as JSON: 400, not 415. */
    r = mv_http("POST", BODY_ROUTE, "[1,2]", chunked);
    mv_assert_error(r, 400, "invalid_json");
    mv_resp_free(r);
}

static void malformed_or_non_object_json_is_400(void **state)
{
    const char *bodies[] = {"",
                            "{",
                            "nul",
                            "[]",
                            "\"str\"",
                            "42",
                            "null",
                            "{\"a\":1,\"a\":2}",
                            "{\"a\":\"\xff\xfe\"}",
                            "{\"a\":\"\\u0000\"}",
                            "{'a':1}",
                            "{\"n\":1e999999}"};
    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
        mv_resp *r = mv_http("POST", BODY_ROUTE, bodies[i], NULL);
        mv_assert_error(r, 400, "invalid_json");
        mv_resp_free(r);
    }
}

static void deeply_nested_json_is_400(void **state)
{
    size_t depth = 20000;
    char *deep = malloc(2 * depth + 1);
    mv_resp *r;
    (void)state;
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    r = mv_http("POST", BODY_ROUTE, deep, NULL);
    mv_assert_error(r, 400, "invalid_json");
    mv_resp_free(r);
    free(deep);
}

static void health_follows_database_outage_and_recovers(void **state)
{
    mv_resp *r;
    int i;
    (void)state;
    /* Warm every child's pool so the outage hits pooled connections. */
    for (i = 0; i < 20; i++) {
        mv_resp_free(mv_http("GET", "/health", NULL, NULL));
    }
    assert_int_equal(mv_env(NULL, "pg-stop"), 0);
    /* /health answers from a probe at most a second old. */
    usleep(1100 * 1000);
    for (i = 0; i < 6; i++) {
        r = mv_http("GET", "/health", NULL, NULL);
        assert_int_equal(r->status, 503);
        assert_string_equal(mv_json_str(r, "status"), "unavailable");
        assert_string_equal(mv_json_str(r, "database"), "down");
        mv_resp_free(r);
    }
    assert_int_equal(mv_env(NULL, "pg-start"), 0);
    usleep(1100 * 1000);
    /* Every request after the restart succeeds: pooled connections are
     * re-established and their statements prepared again. */
    for (i = 0; i < 20; i++) {
        r = mv_http("GET", "/health", NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_string_equal(mv_json_str(r, "database"), "ok");
        mv_resp_free(r);
    }
}

static void httpd_refuses_to_start_with_10_byte_jwt_secret(void **state)
{
    char conf[] = "/tmp/mvconf.XXXXXX";
    char *out = NULL;
    int fd = mkstemp(conf);
    (void)state;
    assert_true(fd >= 0);
    dprintf(fd, "MocaverseJWTSecret 0123456789\n");
    close(fd);
    chmod(conf, 0644);
    assert_int_not_equal(mv_env(&out, "httpd-try short-secret %s", conf), 0);
    assert_non_null(strstr(out, "MocaverseJWTSecret"));
    assert_non_null(strstr(out, "at least 32"));
    assert_null(strstr(out, "0123456789"));
    free(out);
    unlink(conf);
}

static void httpd_refuses_to_start_with_bad_directive_values(void **state)
{
    const char *bad[] = {"MocaverseAdminKey short",
                         "MocaverseInviteCodeLength 5",
                         "MocaverseRateLimit everything 1 1",
                         "MocaverseOTPDelivery carrier-pigeon",
                         "MocaverseAccessTokenTTL -5",
                         "MocaverseRefreshReuseInterval -1",
                         "MocaverseRefreshReuseInterval 301",
                         "MocaverseIdempotencyTTL 59",
                         "MocaverseDBPooling statement"};
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char conf[] = "/tmp/mvconf.XXXXXX";
        char *out = NULL, name[64];
        int fd = mkstemp(conf);
        assert_true(fd >= 0);
        dprintf(fd, "%s\n", bad[i]);
        close(fd);
        chmod(conf, 0644);
        assert_int_not_equal(mv_env(&out, "httpd-try bad-%zu %s", i, conf), 0);
        sscanf(bad[i], "%63s", name);
        if (!strstr(out, name)) {
            fprintf(stderr, "no mention of %s in: %s\n", name, out);
            fail();
        }
        free(out);
        unlink(conf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_names_the_module),
        cmocka_unit_test(health_is_ok_with_database_up),
        cmocka_unit_test(unknown_route_is_404_json),
        cmocka_unit_test(wrong_method_is_405_with_allow),
        cmocka_unit_test(head_is_answered_like_get_without_body),
        cmocka_unit_test(missing_or_wrong_content_type_is_415),
        cmocka_unit_test(body_over_64k_is_413),
        cmocka_unit_test(chunked_body_over_64k_is_413_and_small_one_is_read),
        cmocka_unit_test(malformed_or_non_object_json_is_400),
        cmocka_unit_test(deeply_nested_json_is_400),
        cmocka_unit_test(health_follows_database_outage_and_recovers),
        cmocka_unit_test(httpd_refuses_to_start_with_10_byte_jwt_secret),
        cmocka_unit_test(httpd_refuses_to_start_with_bad_directive_values),
    };
    mv_harness_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
