/*
 * Hostile input that httpd itself parses before the module sees it, and
 * edge values the module parses: malformed chunked bodies get the
 * module's JSON error (SPEC §3), not httpd's HTML page; timestamps
 * outside years 0001-9999 (after the offset) or with offsets beyond
 * +-23:59 are 400 validation_failed on fields.expiresAt, never a 500.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* POST /auth/login-with-email with a chunked body of raw chunk text. */
static mv_resp *post_chunked(const char *chunks)
{
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST /auth/login-with-email HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n%s",
                     chunks);

    return mv_raw(req, (size_t)n);
}

static void malformed_chunked_bodies_get_json_errors(void **state)
{
    static const struct {
        const char *what, *chunks;
        long status;
        const char *code;
    } cases[] = {
        {"size 2^64", "10000000000000000\r\n{}\r\n0\r\n\r\n", 413,
         "body_too_large"},
        {"size -1", "-1\r\n{}\r\n0\r\n\r\n", 400, "invalid_body"},
        {"non-hex size", "zz\r\n{}\r\n0\r\n\r\n", 400, "invalid_body"},
        {"chunk longer than declared", "2\r\n{\"email\":1}\r\n0\r\n\r\n", 400,
         "invalid_body"},
        {"LF-only lines", "2\n{}\n0\n\n", 400, "invalid_body"},
        {"bad extension", "2;\x01\r\n{}\r\n0\r\n\r\n", 400, "invalid_body"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mv_resp *r = post_chunked(cases[i].chunks);

        fprintf(stderr, "%s: %ld %s\n", cases[i].what, r->status, r->body);
        mv_assert_error(r, cases[i].status, cases[i].code);
        mv_resp_free(r);
    }
}

static void a_well_formed_chunked_body_is_read(void **state)
{
    mv_resp *r = post_chunked("6\r\n{\"emai\r\n"
                              "21\r\nl\":\"chunked@example.com\",\"passwor\r\n"
                              "6\r\nd\":\"x\"\r\n1\r\n}\r\n0\r\n\r\n");
    (void)state;
    mv_assert_error(r, 401, "invalid_credentials");
    mv_resp_free(r);
}

/* POST path {prefix, "expiresAt": at} as admin. */
static mv_resp *post_expiring(const char *path, const char *fields,
                              const char *at)
{
    char body[256];

    snprintf(body, sizeof body, "{%s,\"expiresAt\":\"%s\"}", fields, at);
    return mv_http("POST", path, body, mv_admin_headers());
}

static void times_outside_years_1_to_9999_are_refused(void **state)
{
    static const char *const paths[][2] = {
        {"/admin/invite-codes", "\"count\":1,\"uses\":1"},
        {"/coupons/generate", "\"count\":1,\"points\":1"},
    };
    static const char *const bad[] = {
        "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:60Z",
        "9999-12-31T23:59:59-00:01", "2030-01-01T00:00:00+24:00",
        "2030-01-01T00:00:00+23:60", "2030-01-01T00:00:00-24:00",
    };
    (void)state;
    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            mv_resp *r = post_expiring(paths[p][0], paths[p][1], bad[i]);
            json_t *fields = json_object_get(r->json, "fields");

            if (r->status != 400 || !json_object_get(fields, "expiresAt")) {
                fprintf(stderr, "%s %s: %ld %s\n", paths[p][0], bad[i],
                        r->status, r->body);
            }
            mv_assert_error(r, 400, "validation_failed");
            assert_true(json_is_string(json_object_get(fields, "expiresAt")));
            mv_resp_free(r);
        }
    }
}

static void the_last_second_of_9999_is_accepted(void **state)
{
    mv_resp *r = post_expiring("/admin/invite-codes", "\"count\":1,\"uses\":1",
                               "9999-12-31T22:59:59-01:00");
    json_t *code = json_array_get(json_object_get(r->json, "codes"), 0);
    (void)state;

    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(code, "expiresAt")),
                        "9999-12-31T23:59:59Z");
    mv_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_chunked_bodies_get_json_errors),
        cmocka_unit_test(a_well_formed_chunked_body_is_read),
        cmocka_unit_test(times_outside_years_1_to_9999_are_refused),
        cmocka_unit_test(the_last_second_of_9999_is_accepted),
    };
    mv_harness_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
