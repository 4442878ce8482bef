/*
 * Rate limits with the shared-memory store: the exact boundary across
 * processes, the window reopening, the draft headers, /health and
 * /version never limited, a disabled group, X-Forwarded-For through
 * mod_remoteip (and ignored without it), and counts surviving a graceful
 * restart.  Each test starts its own httpd instance (3 child processes)
 * with the limits it needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ratelimit_helpers.h"

#define BURST 100
#define BURST_LIMIT 40

typedef struct {
    const char *base;
    mv_resp *resp[BURST];
} burst;

static void burst_one(int i, void *arg)
{
    burst *b = arg;
    b->resp[i] = rl_login(b->base, NULL);
}

static void auth_limit_holds_exactly_at_boundary_across_processes(void **state)
{
    burst b = {0};
    int allowed = 0, refused = 0, seen[BURST_LIMIT] = {0}, i;
    (void)state;

    b.base = rl_start("rl-boundary", "MocaverseRateLimit auth 40 60\n");
    mv_parallel(BURST, burst_one, &b);
    for (i = 0; i < BURST; i++) {
        mv_resp *r = b.resp[i];
        if (rl_allowed(r)) {
            long rem, reset;
            rl_parse_limit(r, "auth", &rem, &reset);
            assert_in_range(rem, 0, BURST_LIMIT - 1);
            assert_in_range(reset, 1, 60);
            seen[rem]++;
            allowed++;
        } else {
            rl_assert_429(r, "auth", BURST_LIMIT, 60);
            refused++;
        }
        mv_resp_free(r);
    }
    assert_int_equal(allowed, BURST_LIMIT);
    assert_int_equal(refused, BURST - BURST_LIMIT);
    /* Every hit had its own place in the count: remaining 39 down to 0. */
    for (i = 0; i < BURST_LIMIT; i++) {
        assert_int_equal(seen[i], 1);
    }
    /* And the next one, on yet another connection, is refused too. */
    mv_resp *r = rl_login(b.base, NULL);
    rl_assert_429(r, "auth", BURST_LIMIT, 60);
    mv_resp_free(r);
    rl_stop("rl-boundary");
    free((char *)b.base);
}

static void sleep_seconds(long s)
{
    struct timespec ts = {s, 200 * 1000 * 1000}; /* plus 0.2 s of margin */
    nanosleep(&ts, NULL);
}

static void window_passes_and_requests_are_allowed_again(void **state)
{
    char *base = rl_start("rl-window", "MocaverseRateLimit auth 3 3\n");
    long after;
    int round, i;
    (void)state;

    for (round = 0; round < 2; round++) {
        for (i = 0; i < 3; i++) {
            mv_resp *r = rl_login(base, NULL);
            assert_true(rl_allowed(r));
            mv_resp_free(r);
        }
        mv_resp *r = rl_login(base, NULL);
        after = rl_assert_429(r, "auth", 3, 3);
        mv_resp_free(r);
        sleep_seconds(after);
    }
    rl_stop("rl-window");
    free(base);
}

static void success_carries_ratelimit_headers(void **state)
{
    char *base = rl_start("rl-headers", "MocaverseRateLimit auth 5 60\n");
    mv_resp *r = rl_login(base, NULL);
    char *policy = mv_resp_header(r, "RateLimit-Policy");
    char *retry = mv_resp_header(r, "Retry-After");
    long rem, reset;
    (void)state;

    assert_true(rl_allowed(r));
    assert_string_equal(policy, "\"auth\";q=5;w=60");
    assert_null(retry);
    rl_parse_limit(r, "auth", &rem, &reset);
    assert_int_equal(rem, 4);
    assert_in_range(reset, 59, 60);
    free(policy);
    mv_resp_free(r);
    /* Error replies of a limited route keep the header too. */
    r = mv_http_at(base, "POST", RL_LOGIN, "[1]", NULL);
    mv_assert_error(r, 400, "invalid_json");
    rl_parse_limit(r, "auth", &rem, &reset);
    assert_int_equal(rem, 3);
    mv_resp_free(r);
    rl_stop("rl-headers");
    free(base);
}

static void health_and_version_are_never_limited(void **state)
{
    char *base = rl_start("rl-health", "MocaverseRateLimit auth 1 60\n"
                                       "MocaverseRateLimit api 1 60\n"
                                       "MocaverseRateLimit scan 1 60\n");
    const char *paths[] = {"/health", "/version"};
    int i, p;
    (void)state;

    for (i = 0; i < 25; i++) {
        for (p = 0; p < 2; p++) {
            mv_resp *r = mv_http_at(base, "GET", paths[p], NULL, NULL);
            char *h = mv_resp_header(r, "RateLimit");
            assert_int_equal(r->status, 200);
            assert_null(h);
            mv_resp_free(r);
        }
    }
    /* The limits of this instance are on: the login route's second
     * request is refused. */
    mv_resp *r = rl_login(base, NULL);
    assert_true(rl_allowed(r));
    mv_resp_free(r);
    r = rl_login(base, NULL);
    rl_assert_429(r, "auth", 1, 60);
    mv_resp_free(r);
    rl_stop("rl-health");
    free(base);
}

static void disabled_group_never_answers_429(void **state)
{
    burst b = {0};
    int i;
    (void)state;

    b.base = rl_start("rl-disabled", "MocaverseRateLimit auth 0 1\n"
                                     "MocaverseRateLimit api 1 60\n");
    mv_parallel(60, burst_one, &b);
    for (i = 0; i < 60; i++) {
        char *h = mv_resp_header(b.resp[i], "RateLimit");
        assert_true(rl_allowed(b.resp[i]));
        assert_null(h);
        mv_resp_free(b.resp[i]);
    }
    rl_stop("rl-disabled");
    free((char *)b.base);
}

/* Sends `n` logins from xff and asserts the first `allowed` pass. */
static void expect_from(const char *base, const char *xff, int n, int allowed)
{
    int i;

    for (i = 0; i < n; i++) {
        mv_resp *r = rl_login(base, xff);
        if (i < allowed) {
            if (!rl_allowed(r)) {
                fprintf(stderr, "request %d from %s refused: %ld %s\n", i,
                        xff ? xff : "(none)", r->status, r->body);
                fail();
            }
        } else {
            rl_assert_429(r, "auth", 2, 60);
        }
        mv_resp_free(r);
    }
}

static void forwarded_for_selects_the_bucket_behind_remoteip(void **state)
{
    char *base = rl_start("rl-remoteip",
                          RL_REMOTEIP_CONF "MocaverseRateLimit auth 2 60\n");
    (void)state;

    expect_from(base, "203.0.113.10", 3, 2);
    expect_from(base, "203.0.113.11", 3, 2);
    /* The proxy's own requests are a client of their own. */
    expect_from(base, NULL, 2, 2);
    /* A chain is read from the right: the last untrusted hop counts. */
    expect_from(base, "198.51.100.1, 203.0.113.10", 1, 0);
    /* IPv6 clients are counted per /64. */
    expect_from(base, "2001:db8::1", 1, 1);
    expect_from(base, "2001:db8::abcd:2", 2, 1);
    expect_from(base, "2001:db8:0:1::1", 2, 2);
    rl_stop("rl-remoteip");
    free(base);
}

static void forwarded_for_is_ignored_without_remoteip(void **state)
{
    char *base = rl_start("rl-noremoteip", "MocaverseRateLimit auth 2 60\n");
    (void)state;

    /* Three "different" clients are all 127.0.0.1: the third is refused. */
    expect_from(base, "203.0.113.20", 1, 1);
    expect_from(base, "203.0.113.21", 1, 1);
    expect_from(base, "203.0.113.22", 1, 0);
    rl_stop("rl-noremoteip");
    free(base);
}

/* Number of times `needle` occurs in the instance's error log. */
static int log_count(const char *name, const char *needle)
{
    char *path, line[4096];
    int n = 0;
    FILE *f;

    if (asprintf(&path, "%s/httpd-%s/error.log", rl_test_dir(), name) < 0) {
        abort();
    }
    if ((f = fopen(path, "r"))) {
        while (fgets(line, sizeof(line), f)) {
            n += strstr(line, needle) != NULL;
        }
        fclose(f);
    }
    free(path);
    return n;
}

static void counts_survive_a_graceful_restart(void **state)
{
    const char *httpd = getenv("HTTPD") ? getenv("HTTPD") : "/usr/sbin/apache2";
    char *base = rl_start("rl-graceful", "MocaverseRateLimit auth 3 60\n");
    char *cmd;
    int i;
    (void)state;

    expect_from(base, NULL, 2, 2);
    if (asprintf(&cmd, "%s -f %s/httpd-rl-graceful/httpd.conf -k graceful",
                 httpd, rl_test_dir()) < 0) {
        abort();
    }
    assert_int_equal(system(cmd), 0);
    free(cmd);
    /* Wait for the new generation (up to 20 s). */
    for (i = 0; i < 200 && log_count("rl-graceful", "resuming normal") < 2;
         i++) {
        usleep(100 * 1000);
    }
    assert_int_equal(log_count("rl-graceful", "resuming normal"), 2);
    /* One hit left of the three, and then refusals. */
    mv_resp *r = rl_login(base, NULL);
    assert_true(rl_allowed(r));
    mv_resp_free(r);
    for (i = 0; i < 5; i++) {
        r = rl_login(base, NULL);
        rl_assert_429(r, "auth", 3, 60);
        mv_resp_free(r);
    }
    rl_stop("rl-graceful");
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auth_limit_holds_exactly_at_boundary_across_processes),
        cmocka_unit_test(window_passes_and_requests_are_allowed_again),
        cmocka_unit_test(success_carries_ratelimit_headers),
        cmocka_unit_test(health_and_version_are_never_limited),
        cmocka_unit_test(disabled_group_never_answers_429),
        cmocka_unit_test(forwarded_for_selects_the_bucket_behind_remoteip),
        cmocka_unit_test(forwarded_for_is_ignored_without_remoteip),
        cmocka_unit_test(counts_survive_a_graceful_restart),
    };
    mv_harness_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
