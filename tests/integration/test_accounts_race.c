/*
 * Accounts under simultaneous requests (separate connections released
 * together, spread over the test httpd's child processes): invite-code
 * uses, unique e-mails, refresh rotation and the password-hashing cap.
 * Every claim is checked in the database afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts_util.h"

#define MAX_RACERS 64

typedef struct {
    const char *base; /* httpd to ask; NULL: the main test instance */
    const char *code;
    char *email[MAX_RACERS];
    const char *token;
    const char *password[MAX_RACERS];
    long status[MAX_RACERS];
    char *err[MAX_RACERS];     /* "code" of the error body, or NULL */
    char *refresh[MAX_RACERS]; /* refresh token of a 200 */
} race;

/* Records the outcome of racer i. */
static void record(race *rc, int i, mv_resp *r)
{
    const char *c = mv_json_str(r, "code");
    const char *t = mv_json_str(r, "refreshToken");
    rc->status[i] = r->status;
    rc->err[i] = c ? strdup(c) : NULL;
    rc->refresh[i] = t ? strdup(t) : NULL;
    mv_resp_free(r);
}

/* A racer retries a 503 "busy" (no password-hashing slot free within
 * MV_PWHASH_WAIT_SEC, which an overloaded test machine can reach) after
 * its Retry-After, as a client would: the race is about the answers
 * that follow. */
static void do_register(int i, void *arg)
{
    race *rc = arg;
    mv_resp *r = register_user(rc->email[i], PASSWORD, rc->code);
    int tries;

    for (tries = 0; r->status == 503 && tries < 5; tries++) {
        mv_resp_free(r);
        sleep(1);
        r = register_user(rc->email[i], PASSWORD, rc->code);
    }
    record(rc, i, r);
}

static void do_refresh(int i, void *arg)
{
    race *rc = arg;
    char *body = body_of(json_pack("{s:s}", "refreshToken", rc->token));
    record(rc, i, mv_http_at(rc->base, "POST", "/auth/refresh", body, NULL));
    free(body);
}

static void do_login(int i, void *arg)
{
    race *rc = arg;
    record(rc, i, login_user(rc->email[i], rc->password[i]));
}

/* How many racers got status (and, if code is not NULL, that code). */
static int count(const race *rc, int n, long status, const char *code)
{
    int i, k = 0;
    for (i = 0; i < n; i++) {
        if (rc->status[i] == status &&
            (!code || (rc->err[i] && !strcmp(rc->err[i], code)))) {
            k++;
        }
    }
    return k;
}

static void race_free(race *rc, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        free(rc->err[i]);
        free(rc->refresh[i]);
        free(rc->email[i]);
    }
    free(rc);
}

static void report(const race *rc, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        fprintf(stderr, "  racer %d: %ld %s\n", i, rc->status[i],
                rc->err[i] ? rc->err[i] : "");
    }
}

static void
forty_registrations_on_a_3_use_code_make_exactly_3_accounts(void **state)
{
    race *rc = calloc(1, sizeof(*rc));
    char *code = root_code(3);
    int i, n = 40;
    (void)state;
    rc->code = code;
    for (i = 0; i < n; i++) {
        rc->email[i] = new_email();
    }
    mv_parallel(n, do_register, rc);
    if (count(rc, n, 200, NULL) != 3 ||
        count(rc, n, 400, "invite_code_used_up") != n - 3) {
        report(rc, n);
        fail();
    }
    assert_int_equal(
        mv_sql_int("SELECT remaining FROM invite_codes WHERE code = '%s'",
                   code),
        0);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users u JOIN "
                                "invite_codes c ON c.id = u.invited_by WHERE "
                                "c.code = '%s'",
                                code),
                     3);
    /* The three winners each own a code; the losers left nothing. */
    for (i = 0; i < n; i++) {
        assert_int_equal(mv_sql_int("SELECT count(*) FROM users u JOIN "
                                    "invite_codes c ON c.owner_id = u.id "
                                    "WHERE u.email = '%s'",
                                    rc->email[i]),
                         rc->status[i] == 200 ? 1 : 0);
    }
    race_free(rc, n);
    free(code);
}

static void
twenty_registrations_with_one_email_make_exactly_1_account(void **state)
{
    race *rc = calloc(1, sizeof(*rc));
    char *code = root_code(50), *email = new_email();
    int i, n = 20;
    (void)state;
    rc->code = code;
    for (i = 0; i < n; i++) {
        /* The same address, in varying case. */
        rc->email[i] = strdup(email);
        if (i % 2) {
            rc->email[i][0] = (char)(rc->email[i][0] - 'a' + 'A');
        }
    }
    mv_parallel(n, do_register, rc);
    if (count(rc, n, 200, NULL) != 1 ||
        count(rc, n, 409, "email_taken") != n - 1) {
        report(rc, n);
        fail();
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE "
                                "lower(email) = lower('%s')",
                                email),
                     1);
    /* Every loser's use was given back: exactly one was spent. */
    assert_int_equal(
        mv_sql_int("SELECT remaining FROM invite_codes WHERE code = '%s'",
                   code),
        49);
    race_free(rc, n);
    free(code);
    free(email);
}

/*
 * With MocaverseRefreshReuseInterval 0 (strict rotation, an instance of
 * its own): the default interval lets simultaneous refreshes all succeed
 * (test_exactly_once.c).
 */
static void
strict_simultaneous_refreshes_of_one_token_have_exactly_1_winner(void **state)
{
    race *rc = calloc(1, sizeof(*rc));
    char *e = new_email(), *winner = NULL, *base;
    mv_resp *acc = new_account(e), *r;
    long long uid = user_id_of(acc);
    int i, n = 12;
    (void)state;
    base = mv_instance_start("strict", "MocaverseRefreshReuseInterval 0");
    rc->base = base;
    rc->token = mv_json_str(acc, "refreshToken");
    mv_parallel(n, do_refresh, rc);
    if (count(rc, n, 200, NULL) != 1 ||
        count(rc, n, 401, "invalid_refresh_token") != n - 1) {
        report(rc, n);
        fail();
    }
    /* One successor only. */
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_tokens t JOIN "
                                "refresh_families f ON f.id = t.family_id "
                                "WHERE f.user_id = %lld",
                                uid),
                     2);
    /* The losers presented a token rotated by then: a reuse, so the family
     * is revoked and the winner's token dies with it (RFC 9700). */
    for (i = 0; i < n; i++) {
        if (rc->status[i] == 200) {
            winner = rc->refresh[i];
        }
    }
    assert_non_null(winner);
    r = with_refresh("/auth/refresh", winner);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_env(NULL, "httpd-stop strict");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE "
                                "user_id = %lld AND revoked_at IS NOT NULL",
                                uid),
                     1);
    mv_resp_free(acc);
    race_free(rc, n);
    free(e);
    free(base);
}

static void login_burst_is_answered_without_5xx(void **state)
{
    race *rc = calloc(1, sizeof(*rc));
    char *e = new_email();
    mv_resp *acc = new_account(e);
    int i, n = 48;
    (void)state;
    /* Right password, wrong password and unknown e-mail, all at once:
     * more hashes than the per-process cap, so most of them queue. */
    for (i = 0; i < n; i++) {
        rc->email[i] = i % 3 == 2 ? new_email() : strdup(e);
        rc->password[i] = i % 3 == 0 ? PASSWORD : "not the password";
    }
    mv_parallel(n, do_login, rc);
    for (i = 0; i < n; i++) {
        long want = i % 3 == 0 ? 200 : 401;
        if (rc->status[i] != want) {
            report(rc, n);
            fail();
        }
    }
    assert_int_equal(count(rc, n, 401, "invalid_credentials"), 2 * n / 3);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE "
                                "user_id = %lld",
                                user_id_of(acc)),
                     1 + n / 3);
    mv_resp_free(acc);
    race_free(rc, n);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            forty_registrations_on_a_3_use_code_make_exactly_3_accounts),
        cmocka_unit_test(
            twenty_registrations_with_one_email_make_exactly_1_account),
        cmocka_unit_test(
            strict_simultaneous_refreshes_of_one_token_have_exactly_1_winner),
        cmocka_unit_test(login_burst_is_answered_without_5xx),
    };
    mv_harness_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
