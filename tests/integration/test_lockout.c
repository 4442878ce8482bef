/*
 * Account lockout (MocaverseLoginLockout) through the real login route,
 * and the per-destination bound on one-time-code guesses through verify.
 *
 * PENDING: needs the account routes (issue 3) and the reward routes
 * (issue 4) calling mv_lockout_count_or_reply / mv_lockout_cleared; it fails
 * until they exist.  The integrator moves it to tests/integration/.
 *
 * Every attempt comes from another client address (X-Forwarded-For
 * through mod_remoteip): the lockout is per account, not per IP.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "harness.h"
#include "mv_crypto.h"
#include "ratelimit_helpers.h"

#define FAILURES 3
#define PASSWORD "correct horse battery"
#define WRONG "wrong horse battery"
#define BURST 30

static char *base; /* MocaverseLoginLockout 3 60 */

static int start_instance(void **state)
{
    (void)state;
    base = rl_start("lockout", RL_REMOTEIP_CONF "MocaverseLoginLockout 3 60\n");
    return 0;
}

static int stop_instance(void **state)
{
    (void)state;
    rl_stop("lockout");
    free(base);
    return 0;
}

/* A client address of its own for attempt i. */
static const char *ip(int i)
{
    static __thread char buf[32];
    snprintf(buf, sizeof(buf), "203.0.113.%d", 1 + i % 250);
    return buf;
}

/* Registers a new account at url with a fresh root invite code; returns
 * its e-mail (malloc'd). */
static char *new_account(const char *url)
{
    char code[MV_INVITE_LEN_MAX + 1], body[512], *email, *user;
    mv_resp *r;

    mv_invite_code_generate(code, 12);
    mv_sql_exec("INSERT INTO invite_codes (code, uses, remaining) "
                "VALUES ('%s', 1, 1)",
                code);
    user = mv_unique("locked");
    if (asprintf(&email, "%s@example.com", user) < 0) {
        abort();
    }
    free(user);
    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"%s\",\"inviteCode\":\"%s\"}",
             email, PASSWORD, code);
    r = mv_http_at(url, "POST", "/auth/register-with-email", body, NULL);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    return email;
}

static void expect_invalid(const char *url, const char *email, int from)
{
    mv_resp *r = rl_login_as(url, ip(from), email, WRONG);
    mv_assert_error(r, 401, "invalid_credentials");
    mv_resp_free(r);
}

/* Asserts 429 account_locked; returns Retry-After. */
static long expect_locked(const char *url, const char *email,
                          const char *password, int from, long window)
{
    mv_resp *r = rl_login_as(url, ip(from), email, password);
    char *retry = mv_resp_header(r, "Retry-After");
    long after;

    mv_assert_error(r, 429, "account_locked");
    assert_non_null(retry);
    after = strtol(retry, NULL, 10);
    assert_in_range(after, 1, window);
    free(retry);
    mv_resp_free(r);
    return after;
}

static void expect_ok(const char *url, const char *email, int from)
{
    mv_resp *r = rl_login_as(url, ip(from), email, PASSWORD);
    assert_int_equal(r->status, 200);
    assert_non_null(mv_json_str(r, "accessToken"));
    mv_resp_free(r);
}

static void login_locks_account_after_failures_from_different_ips(void **s)
{
    char *email = new_account(base), *other = new_account(base);
    int i;
    (void)s;

    for (i = 0; i < FAILURES; i++) {
        expect_invalid(base, email, i);
    }
    /* Even the right password, from yet another address. */
    expect_locked(base, email, PASSWORD, FAILURES, 60);
    /* The addresses are not blocked: another account logs in from them. */
    for (i = 0; i <= FAILURES; i++) {
        expect_ok(base, other, i);
    }
    free(email);
    free(other);
}

typedef struct {
    const char *email;
    mv_resp *resp[BURST];
} burst;

static void guess(int i, void *arg)
{
    burst *b = arg;
    b->resp[i] = rl_login_as(base, ip(100 + i), b->email, WRONG);
}

static void lockout_holds_under_simultaneous_guesses(void **s)
{
    burst b = {0};
    int invalid = 0, locked = 0, i;
    (void)s;

    b.email = new_account(base);
    mv_parallel(BURST, guess, &b);
    for (i = 0; i < BURST; i++) {
        const char *code = mv_json_str(b.resp[i], "code");
        if (b.resp[i]->status == 401) {
            mv_assert_error(b.resp[i], 401, "invalid_credentials");
            invalid++;
        } else if (b.resp[i]->status == 429) {
            mv_assert_error(b.resp[i], 429, "account_locked");
            locked++;
        } else {
            fprintf(stderr, "unexpected %ld %s\n", b.resp[i]->status,
                    code ? code : b.resp[i]->body);
            fail();
        }
        mv_resp_free(b.resp[i]);
    }
    /* At most FAILURES passwords were checked, whatever the concurrency. */
    assert_int_equal(invalid, FAILURES);
    assert_int_equal(locked, BURST - FAILURES);
    expect_locked(base, b.email, PASSWORD, 0, 60);
    free((char *)b.email);
}

static void successful_login_clears_failures(void **s)
{
    char *email = new_account(base);
    int i;
    (void)s;

    for (i = 0; i < FAILURES - 1; i++) {
        expect_invalid(base, email, i);
    }
    expect_ok(base, email, 9);
    for (i = 0; i < FAILURES; i++) {
        expect_invalid(base, email, 20 + i);
    }
    expect_locked(base, email, PASSWORD, 30, 60);
    free(email);
}

static void unknown_account_is_locked_the_same_way(void **s)
{
    char *user = mv_unique("nobody"), *email;
    int i;
    (void)s;

    if (asprintf(&email, "%s@example.com", user) < 0) {
        abort();
    }
    for (i = 0; i < FAILURES; i++) {
        expect_invalid(base, email, 40 + i);
    }
    expect_locked(base, email, WRONG, 50, 60);
    free(user);
    free(email);
}

static void email_case_does_not_split_the_count(void **s)
{
    char *email = new_account(base), *shout = strdup(email);
    int i;
    (void)s;

    for (i = 0; shout[i]; i++) {
        shout[i] = (char)(i % 2 ? shout[i] : toupper((unsigned char)shout[i]));
    }
    expect_invalid(base, shout, 60);
    expect_invalid(base, email, 61);
    for (i = 0; shout[i]; i++) {
        shout[i] = (char)toupper((unsigned char)shout[i]);
    }
    expect_invalid(base, shout, 62);
    expect_locked(base, email, PASSWORD, 63, 60);
    free(email);
    free(shout);
}

static void lockout_ends_when_the_window_passes(void **s)
{
    char *url = rl_start("lockout-short", "MocaverseLoginLockout 2 3\n");
    char *email = new_account(url);
    struct timespec pause = {0, 200 * 1000 * 1000};
    (void)s;

    expect_invalid(url, email, 0);
    expect_invalid(url, email, 0);
    pause.tv_sec = expect_locked(url, email, PASSWORD, 0, 3);
    nanosleep(&pause, NULL);
    expect_ok(url, email, 0);
    rl_stop("lockout-short");
    free(email);
    free(url);
}

static void otp_guesses_are_bounded_per_destination(void **s)
{
    char phone[32], body[256];
    const char *otp;
    mv_resp *r, *sent;
    int i;
    (void)s;

    snprintf(phone, sizeof(phone), "+1555%07d", (int)(getpid() % 10000000));
    snprintf(body, sizeof(body), "{\"phone\":\"%s\"}", phone);
    sent = mv_http_at(base, "POST", "/auth/otp", body, NULL);
    assert_int_equal(sent->status, 200);
    otp = mv_json_str(sent, "otp");
    assert_non_null(otp);
    /* Fewer wrong guesses than burn the code (MocaverseOTPMaxAttempts 5),
     * as many as the destination's bound allows. */
    for (i = 0; i < FAILURES; i++) {
        char wrong[8];
        snprintf(wrong, sizeof(wrong), "%06d", (atoi(otp) + 1 + i) % 1000000);
        snprintf(body, sizeof(body), "{\"phone\":\"%s\",\"otp\":\"%s\"}", phone,
                 wrong);
        r = mv_http_at(base, "POST", "/auth/verify", body, NULL);
        mv_assert_error(r, 401, "invalid_otp");
        mv_resp_free(r);
    }
    snprintf(body, sizeof(body), "{\"phone\":\"%s\",\"otp\":\"%s\"}", phone,
             otp);
    r = mv_http_at(base, "POST", "/auth/verify", body, NULL);
    mv_assert_error(r, 429, "account_locked");
    mv_resp_free(r);
    mv_resp_free(sent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_locks_account_after_failures_from_different_ips),
        cmocka_unit_test(lockout_holds_under_simultaneous_guesses),
        cmocka_unit_test(successful_login_clears_failures),
        cmocka_unit_test(unknown_account_is_locked_the_same_way),
        cmocka_unit_test(email_case_does_not_split_the_count),
        cmocka_unit_test(lockout_ends_when_the_window_passes),
        cmocka_unit_test(otp_guesses_are_bounded_per_destination),
    };
    mv_harness_init();
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, start_instance, stop_instance);
}
