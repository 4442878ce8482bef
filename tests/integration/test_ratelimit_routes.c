/*
 * The rate groups of the real routes (SPEC §2): auth per client IP over
 * register, login, refresh, otp and verify together; scan per user, from
 * any address; api per client IP over the rest, counted before the
 * credentials are checked.
 *
 * PENDING: needs the account routes (issue 3) and the reward routes
 * (issue 4); it fails until they exist.  The integrator moves it to
 * tests/integration/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "harness.h"
#include "mv_jwt.h"
#include "ratelimit_helpers.h"

/* A POST from address xff (mod_remoteip), with an optional bearer token. */
static mv_resp *post_from(const char *base, const char *xff, const char *path,
                          const char *body, const char *token)
{
    char fwd[128], auth[4200];
    const char *headers[3] = {fwd, NULL, NULL};

    snprintf(fwd, sizeof(fwd), "X-Forwarded-For: %s", xff);
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        headers[1] = auth;
    }
    return mv_http_at(base, "POST", path, body, headers);
}

/* An access token for user_id, signed with the test instances' secret. */
static char *token_for(long long user_id)
{
    const char *secret = getenv("MV_TEST_JWT_SECRET");
    char jti[64];

    assert_non_null(secret);
    snprintf(jti, sizeof(jti), "rl-%lld-%d", user_id, rand());
    return mv_jwt_sign((const unsigned char *)secret, strlen(secret),
                       "mod_mocaverse", user_id, (long long)time(NULL), 900,
                       jti);
}

/* Not refused by the limiter, and not a server error. */
static void assert_passed(const mv_resp *r)
{
    if (r->status == 429 || r->status >= 500 || r->status == 0) {
        fprintf(stderr, "expected the route's own answer, got %ld %s\n",
                r->status, r->body);
        fail();
    }
}

static void auth_group_covers_register_login_refresh_otp_verify(void **s)
{
    const char *paths[] = {"/auth/register-with-email",
                           "/auth/login-with-email", "/auth/refresh",
                           "/auth/otp", "/auth/verify"};
    char *base = rl_start("rl-auth-routes",
                          RL_REMOTEIP_CONF "MocaverseRateLimit auth 5 60\n");
    mv_resp *r;
    size_t i;
    (void)s;

    /* Five routes, one bucket per address: the sixth request is refused,
     * whichever route it goes to. */
    for (i = 0; i < 5; i++) {
        r = post_from(base, "203.0.113.50", paths[i], "{}", NULL);
        assert_passed(r);
        mv_resp_free(r);
    }
    for (i = 0; i < 5; i++) {
        r = post_from(base, "203.0.113.50", paths[i], "{}", NULL);
        rl_assert_429(r, "auth", 5, 60);
        mv_resp_free(r);
    }
    r = post_from(base, "203.0.113.51", paths[0], "{}", NULL);
    assert_passed(r);
    mv_resp_free(r);
    rl_stop("rl-auth-routes");
    free(base);
}

static void scan_group_counts_per_user_from_any_address(void **s)
{
    const char *body = "{\"token\":\"00000000-0000-4000-8000-000000000000\"}";
    char *base =
        rl_start("rl-scan", RL_REMOTEIP_CONF "MocaverseRateLimit scan 3 60\n");
    char *alice = token_for(900001), *bob = token_for(900002);
    char xff[32];
    mv_resp *r;
    int i;
    (void)s;

    for (i = 0; i < 3; i++) {
        snprintf(xff, sizeof(xff), "198.51.100.%d", i + 1);
        r = post_from(base, xff, "/scan", body, alice);
        assert_passed(r);
        mv_resp_free(r);
    }
    r = post_from(base, "198.51.100.99", "/scan", body, alice);
    rl_assert_429(r, "scan", 3, 60);
    mv_resp_free(r);
    /* Another user from the same address is not affected. */
    r = post_from(base, "198.51.100.1", "/scan", body, bob);
    assert_passed(r);
    mv_resp_free(r);
    /* Without a valid token: 401, never counted against a user. */
    for (i = 0; i < 5; i++) {
        r = post_from(base, "198.51.100.1", "/scan", body, NULL);
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
    }
    free(alice);
    free(bob);
    rl_stop("rl-scan");
    free(base);
}

static void api_group_counts_per_ip_before_credentials(void **s)
{
    char *base =
        rl_start("rl-api", RL_REMOTEIP_CONF "MocaverseRateLimit api 3 60\n");
    const char *a[] = {"X-Forwarded-For: 192.0.2.7", NULL};
    const char *b[] = {"X-Forwarded-For: 192.0.2.8", NULL};
    mv_resp *r;
    int i;
    (void)s;

    for (i = 0; i < 3; i++) {
        r = mv_http_at(base, "GET", "/me", NULL, a);
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
    }
    r = mv_http_at(base, "GET", "/me", NULL, a);
    rl_assert_429(r, "api", 3, 60);
    mv_resp_free(r);
    r = mv_http_at(base, "GET", "/me", NULL, b);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    rl_stop("rl-api");
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auth_group_covers_register_login_refresh_otp_verify),
        cmocka_unit_test(scan_group_counts_per_user_from_any_address),
        cmocka_unit_test(api_group_counts_per_ip_before_credentials),
    };
    mv_harness_init();
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
