/*
 * lockout.c — MocaverseLoginLockout FAILURES SECONDS: brute-force
 * protection per account, independent of the client's address (SPEC §2;
 * docs/ratelimit.md).  Counted in the database, one atomic statement per
 * attempt, so it holds across processes and hosts.
 *
 * The window is anchored at the first failure, as for rate limits: after
 * FAILURES failed attempts within SECONDS of the first one, the account's
 * attempts get 429 until those SECONDS have passed.  An attempt counts as
 * a failure from the moment it is let through (mv_lockout_count_or_reply) until
 * it proves to be a success (mv_lockout_cleared), so a burst of
 * simultaneous guesses gets at most FAILURES checks, not one per request.
 */
#include "mv.h"
#include "mv_counter.h"

/* The bucket of an account: its lower-cased text, from r->pool. */
static const char *account_bucket(mv_req *q, const char *account)
{
    char *name = apr_pstrdup(q->r->pool, account);

    ap_str_tolower(name);
    return name;
}

/* Counts the attempt: 0 allowed, 1 locked (*retry_after set), -1 failed. */
static int lockout_blocked(mv_req *q, const char *account, int *retry_after)
{
    mv_rl_verdict v;

    *retry_after = 0;
    if (q->cfg->lockout_failures <= 0) {
        return 0;
    }
    if (mv_counter_hit(q, &mv_counter_login_failures,
                       account_bucket(q, account), q->cfg->lockout_failures,
                       q->cfg->lockout_seconds, &v) != 0) {
        return -1;
    }
    if (!v.allowed) {
        *retry_after = (int)v.reset;
        return 1;
    }
    return 0;
}

int mv_lockout_cleared(mv_req *q, const char *account)
{
    if (q->cfg->lockout_failures <= 0) {
        return 0;
    }
    return mv_counter_clear(q, &mv_counter_login_failures,
                            account_bucket(q, account));
}

int mv_lockout_count_or_reply(mv_req *q, const char *account)
{
    int retry_after;

    switch (lockout_blocked(q, account, &retry_after)) {
    case 0:
        return 0;
    case 1:
        apr_table_setn(q->r->headers_out, "Retry-After",
                       apr_itoa(q->r->pool, retry_after > 0 ? retry_after : 1));
        mv_reply_error(q, HTTP_TOO_MANY_REQUESTS, "account_locked",
                       "Too many failed attempts for this account; "
                       "try again later.");
        return 1;
    default:
        mv_reply_db_error(q);
        return 1;
    }
}
