/*
 * ratelimit_helpers.h — what the rate-limit and lockout tests share:
 * dedicated httpd instances started with a few extra directives, the
 * login route (group auth) with an optional X-Forwarded-For, and the
 * checks of the 429 reply and the draft headers.  Header-only (static
 * inline, so a test may use some of it): each test is its own program.
 */
#ifndef MV_RATELIMIT_HELPERS_H
#define MV_RATELIMIT_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* A route of group auth (MV_RL_AUTH). */
#define RL_LOGIN "/auth/login-with-email"
#define RL_REMOTEIP_CONF                                                       \
    "LoadModule remoteip_module /usr/lib/apache2/modules/mod_remoteip.so\n"    \
    "RemoteIPHeader X-Forwarded-For\n"                                         \
    "RemoteIPInternalProxy 127.0.0.1\n"

/* The run's directory (made by run.sh). */
static inline const char *rl_test_dir(void)
{
    const char *d = getenv("MV_TEST_DIR");
    if (!d) {
        fprintf(stderr, "MV_TEST_DIR is not set: run through make test\n");
        exit(2);
    }
    return d;
}

/*
 * Starts the httpd instance NAME with `conf` appended to the test
 * configuration (later lines override test.conf's disabled limits) and
 * returns its base URL (malloc'd).  Fails the test if it does not start.
 */
static inline char *rl_start(const char *name, const char *conf)
{
    char *path, *port = NULL, *url;
    int tries;
    FILE *f;

    if (asprintf(&path, "%s/%s.conf", rl_test_dir(), name) < 0) {
        abort();
    }
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(conf, f);
    fclose(f);
    chmod(path, 0644);
    /* A port found free may be taken before httpd binds it (other test
     * runs share the machine): each retry picks another. */
    for (tries = 0; mv_env(&port, "httpd-start %s %s", name, path) != 0;
         tries++) {
        if (tries == 2) {
            fprintf(stderr, "instance %s did not start: %s\n", name, port);
            fail();
        }
        free(port);
    }
    if (asprintf(&url, "http://127.0.0.1:%s", port) < 0) {
        abort();
    }
    free(port);
    free(path);
    return url;
}

static inline void rl_stop(const char *name)
{
    mv_env(NULL, "httpd-stop %s", name);
}

/* POSTs a login body to base (NULL: the main instance), from the address
 * in xff when given (honoured only behind mod_remoteip). */
static inline mv_resp *rl_login_as(const char *base, const char *xff,
                                   const char *email, const char *password)
{
    char line[256], body[512];
    const char *headers[] = {line, NULL};

    snprintf(line, sizeof(line), "X-Forwarded-For: %s", xff ? xff : "");
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}",
             email, password);
    return mv_http_at(base, "POST", RL_LOGIN, body, xff ? headers : NULL);
}

static inline mv_resp *rl_login(const char *base, const char *xff)
{
    return rl_login_as(base, xff, "nobody@example.com", "not-the-password");
}

/* 1 if the limiter let the request through to the route (which may then
 * answer 200, or 401 for these credentials once the real login exists). */
static inline int rl_allowed(const mv_resp *r)
{
    return r->status == 200 || r->status == 401;
}

/* Parses RateLimit `"NAME";r=R;t=T`; asserts the form and the name. */
static inline void rl_parse_limit(const mv_resp *r, const char *name, long *rem,
                                  long *reset)
{
    char *h = mv_resp_header(r, "RateLimit");
    char want[64], got[64];
    int n = 0;

    assert_non_null(h);
    snprintf(want, sizeof(want), "\"%s\"", name);
    if (sscanf(h, "%63[^;];r=%ld;t=%ld%n", got, rem, reset, &n) != 3 ||
        h[n] != '\0' || strcmp(got, want) != 0) {
        fprintf(stderr, "bad RateLimit header: %s\n", h);
        fail();
    }
    free(h);
}

/* Asserts the full 429 of group `name` under limit q per w seconds;
 * returns its Retry-After. */
static inline long rl_assert_429(const mv_resp *r, const char *name, long q,
                                 long w)
{
    char *policy = mv_resp_header(r, "RateLimit-Policy");
    char *retry = mv_resp_header(r, "Retry-After");
    char want[128];
    long rem, reset, after;

    mv_assert_error(r, 429, "rate_limited");
    snprintf(want, sizeof(want), "\"%s\";q=%ld;w=%ld", name, q, w);
    assert_non_null(policy);
    assert_string_equal(policy, want);
    assert_non_null(retry);
    after = strtol(retry, NULL, 10);
    assert_in_range(after, 1, w);
    rl_parse_limit(r, name, &rem, &reset);
    assert_int_equal(rem, 0);
    assert_true(after >= reset); /* draft: not earlier than the reset */
    free(policy);
    free(retry);
    return after;
}

#endif
