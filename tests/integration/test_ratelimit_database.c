/*
 * Rate limits with MocaverseRateLimitStore database: two httpd instances
 * on one PostgreSQL share one count, exactly; the window reopens; the
 * table holds keyed hashes, never addresses; and with the database down
 * the limiter fails closed (503) while /health and /version still answer,
 * then recovers by itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ratelimit_helpers.h"

#define DB_CONF "MocaverseRateLimitStore database\n"
#define SHARED_LIMIT 10
#define BURST 60

typedef struct {
    const char *base[2];
    mv_resp *resp[BURST];
} burst;

static void burst_one(int i, void *arg)
{
    burst *b = arg;
    b->resp[i] = rl_login(b->base[i % 2], NULL);
}

static void two_instances_share_one_count_exactly(void **state)
{
    burst b = {0};
    int allowed[2] = {0, 0}, refused = 0, seen[SHARED_LIMIT] = {0}, i;
    (void)state;

    mv_sql_exec("DELETE FROM rate_limits");
    b.base[0] = rl_start("rl-db-a", DB_CONF "MocaverseRateLimit auth 10 60\n");
    b.base[1] = rl_start("rl-db-b", DB_CONF "MocaverseRateLimit auth 10 60\n");
    mv_parallel(BURST, burst_one, &b);
    for (i = 0; i < BURST; i++) {
        mv_resp *r = b.resp[i];
        if (rl_allowed(r)) {
            long rem, reset;
            rl_parse_limit(r, "auth", &rem, &reset);
            assert_in_range(rem, 0, SHARED_LIMIT - 1);
            seen[rem]++;
            allowed[i % 2]++;
        } else {
            rl_assert_429(r, "auth", SHARED_LIMIT, 60);
            refused++;
        }
        mv_resp_free(r);
    }
    assert_int_equal(allowed[0] + allowed[1], SHARED_LIMIT);
    assert_int_equal(refused, BURST - SHARED_LIMIT);
    for (i = 0; i < SHARED_LIMIT; i++) {
        assert_int_equal(seen[i], 1);
    }
    /* Either instance now refuses. */
    for (i = 0; i < 2; i++) {
        mv_resp *r = rl_login(b.base[i], NULL);
        rl_assert_429(r, "auth", SHARED_LIMIT, 60);
        mv_resp_free(r);
    }
    /* One bucket, its count saturated at the limit + 1, under a keyed
     * hash rather than the address. */
    assert_int_equal(mv_sql_int("SELECT count(*) FROM rate_limits"), 1);
    assert_int_equal(mv_sql_int("SELECT hits FROM rate_limits"),
                     SHARED_LIMIT + 1);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM rate_limits "
                                "WHERE bucket ~ '^[0-9a-f]{64}$'"),
                     1);
    rl_stop("rl-db-a");
    rl_stop("rl-db-b");
    free((char *)b.base[0]);
    free((char *)b.base[1]);
}

static void database_window_passes_and_requests_are_allowed_again(void **state)
{
    char *base;
    struct timespec pause = {0, 200 * 1000 * 1000};
    int round, i;
    (void)state;

    mv_sql_exec("DELETE FROM rate_limits");
    base = rl_start("rl-db-window", DB_CONF "MocaverseRateLimit auth 2 3\n");
    for (round = 0; round < 2; round++) {
        for (i = 0; i < 2; i++) {
            mv_resp *r = rl_login(base, NULL);
            assert_true(rl_allowed(r));
            mv_resp_free(r);
        }
        mv_resp *r = rl_login(base, NULL);
        pause.tv_sec = rl_assert_429(r, "auth", 2, 3);
        mv_resp_free(r);
        nanosleep(&pause, NULL);
    }
    rl_stop("rl-db-window");
    free(base);
}

static void database_down_fails_closed_and_recovers(void **state)
{
    char *base;
    mv_resp *r;
    int i;
    (void)state;

    mv_sql_exec("DELETE FROM rate_limits");
    base = rl_start("rl-db-down", DB_CONF "MocaverseRateLimit auth 5 60\n");
    r = rl_login(base, NULL);
    assert_true(rl_allowed(r));
    mv_resp_free(r);
    assert_int_equal(mv_env(NULL, "pg-stop"), 0);
    for (i = 0; i < 3; i++) {
        r = rl_login(base, NULL);
        mv_assert_error(r, 503, "unavailable");
        mv_resp_free(r);
    }
    r = mv_http_at(base, "GET", "/version", NULL, NULL);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    r = mv_http_at(base, "GET", "/health", NULL, NULL);
    assert_int_equal(r->status, 503);
    mv_resp_free(r);
    assert_int_equal(mv_env(NULL, "pg-start"), 0);
    /* Back without a restart; the count went on from where it was. */
    for (i = 0; i < 4; i++) {
        long rem, reset;
        r = rl_login(base, NULL);
        if (!rl_allowed(r)) {
            fprintf(stderr, "after recovery: %ld %s\n", r->status, r->body);
            fail();
        }
        rl_parse_limit(r, "auth", &rem, &reset);
        assert_int_equal(rem, 3 - i);
        mv_resp_free(r);
    }
    r = rl_login(base, NULL);
    rl_assert_429(r, "auth", 5, 60);
    mv_resp_free(r);
    rl_stop("rl-db-down");
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_instances_share_one_count_exactly),
        cmocka_unit_test(database_window_passes_and_requests_are_allowed_again),
        cmocka_unit_test(database_down_fails_closed_and_recovers),
    };
    mv_harness_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
