/*
 * Disabling a user while that user's scans are in flight: no scan is
 * credited after the disable commits.  The test cluster records commit
 * times (track_commit_timestamp, tests/integration/run.sh), so the order
 * of the commits themselves is checked, not the order of the answers.
 */
#include <unistd.h>

#include "rewards.h"

#define SCANNERS 16
#define COUPONS_EACH 40
/* Scans credited before the disable is sent, so that it lands mid-race. */
#define CREDITED_FIRST 20

typedef struct {
    rw_user *user;
    json_t *tokens;
    long status[SCANNERS][COUPONS_EACH];
    long disable_status;
} race;

/* Scanner i scans its own coupons one after another until one is refused
 * with 401; the last thread disables the user once CREDITED_FIRST scans
 * are in. */
static void run(int i, void *arg)
{
    race *rc = arg;
    char path[96];
    int k;

    if (i == SCANNERS) {
        /* Polled over HTTP (the user's balance, 3 points a scan): the SQL
         * helpers keep a connection per thread that a worker would leak. */
        snprintf(path, sizeof path, "/admin/users/%lld?depth=1", rc->user->id);
        for (;;) {
            mv_resp *r = mv_http("GET", path, NULL, mv_admin_headers());
            long long balance = mv_json_int(r, "balance");
            mv_resp_free(r);
            if (balance >= CREDITED_FIRST * 3) {
                break;
            }
            usleep(2000);
        }
        snprintf(path, sizeof path, "/admin/users/%lld/disable", rc->user->id);
        mv_resp *r = mv_http("POST", path, NULL, mv_admin_headers());
        rc->disable_status = r->status;
        mv_resp_free(r);
        return;
    }
    for (k = 0; k < COUPONS_EACH; k++) {
        char body[96];
        mv_resp *r;

        snprintf(body, sizeof body, "{\"token\":\"%s\"}",
                 json_string_value(json_array_get(
                     rc->tokens, (size_t)(i * COUPONS_EACH + k))));
        r = mv_http("POST", "/scan", body, rc->user->headers);
        rc->status[i][k] = r->status;
        mv_resp_free(r);
        if (rc->status[i][k] == 401) {
            break;
        }
    }
}

static void
disable_under_concurrent_scans_credits_nothing_after_its_commit(void **state)
{
    race *rc = calloc(1, sizeof(*rc));
    long long credited = 0, refused = 0, other = 0, late;
    int i, k;
    (void)state;

    rc->user = rw_user_new();
    rc->tokens = rw_coupons(SCANNERS * COUPONS_EACH, 3, "");
    mv_parallel(SCANNERS + 1, run, rc);
    assert_int_equal(rc->disable_status, 200);
    for (i = 0; i < SCANNERS; i++) {
        for (k = 0; k < COUPONS_EACH && rc->status[i][k]; k++) {
            credited += rc->status[i][k] == 200;
            refused += rc->status[i][k] == 401;
            other += rc->status[i][k] != 200 && rc->status[i][k] != 401;
        }
    }
    fprintf(stderr, "  %lld scans credited, %lld refused with 401\n", credited,
            refused);
    assert_int_equal(other, 0);
    assert_true(credited >= CREDITED_FIRST);
    /* Every scanner ran until refused, or out of coupons. */
    assert_true(refused >= 1);
    /* Each 200 is one scan, one ledger credit, in the balance. */
    assert_int_equal(mv_sql_int("SELECT count(*) FROM scans WHERE user_id ="
                                " %lld",
                                rc->user->id),
                     credited);
    assert_int_equal(mv_sql_int("SELECT balance FROM balances WHERE user_id ="
                                " %lld",
                                rc->user->id),
                     credited * 3);
    /* No scan committed after the disable did.  The user row's version
     * was written by the disable's transaction. */
    late =
        mv_sql_int("SELECT count(*) FROM scans s, users u WHERE u.id = %lld AND"
                   " s.user_id = u.id AND pg_xact_commit_timestamp(s.xmin) >="
                   " pg_xact_commit_timestamp(u.xmin)",
                   rc->user->id);
    assert_int_equal(late, 0);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE id = %lld"
                                " AND disabled_at IS NOT NULL",
                                rc->user->id),
                     1);
    json_decref(rc->tokens);
    rw_user_free(rc->user);
    free(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            disable_under_concurrent_scans_credits_nothing_after_its_commit),
    };
    rw_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
