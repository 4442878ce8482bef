/*
 * lockout.c — MocaverseLoginLockout FAILURES SECONDS: brute-force
 * protection per account, independent of the client's address (SPEC §2;
 * docs/ratelimit.md).  Counted in the database, one atomic statement per
 * attempt, so it holds across processes and hosts.
 *
 * The window is anchored at the first failure, as for rate limits: after
 * FAILURES failed attempts within SECONDS of the first one, the account's
 * attempts get 429 until those SECONDS have passed.  An attempt counts as
 * a failure from the moment it is let through (mv_lockout_refused) until
 * it proves to be a success (mv_lockout_cleared), so a burst of
 * simultaneous guesses gets at most FAILURES checks, not one per request.
 */
#include "mv.h"
#include "mv_account_rules.h"
#include "mv_crypto.h"
#include "mv_rl.h"

#include <sodium.h>

#define LOCKOUT_HASH_PREFIX "mocaverse lockout\n"
#define LOCKOUT_SWEEP_ODDS 100 /* one attempt in this many sweeps */

static const mv_stmt STMT_ATTEMPT = {
    "mv_lockout_attempt", 3,
    "INSERT INTO login_failures AS f (account, failures, reset_at) "
    "VALUES ($1, 1, now() + $2::int * interval '1 second') "
    "ON CONFLICT (account) DO UPDATE SET "
    "failures = CASE WHEN f.reset_at <= now() THEN 1 "
    "ELSE least(f.failures, $3::int) + 1 END, "
    "reset_at = CASE WHEN f.reset_at <= now() THEN EXCLUDED.reset_at "
    "ELSE f.reset_at END "
    "RETURNING failures, "
    "(extract(epoch FROM reset_at - now()) * 1000000)::bigint"};

static const mv_stmt STMT_CLEAR = {
    "mv_lockout_clear", 1, "DELETE FROM login_failures WHERE account = $1"};

static const mv_stmt STMT_SWEEP = {
    "mv_lockout_sweep", 0,
    "DELETE FROM login_failures WHERE reset_at <= now()"};

/* The stored form of an account: a keyed hash of its lower-cased text,
 * from r->pool.  Addresses never reach the table in clear. */
static const char *account_key(mv_req *q, const char *account)
{
    char *msg = apr_pstrcat(q->r->pool, LOCKOUT_HASH_PREFIX, account, NULL);
    char *hash = apr_palloc(q->r->pool, MV_HASH_HEX_LEN + 1);
    unsigned char key[MV_DERIVED_KEY_LEN];

    ap_str_tolower(msg);
    mv_derive_key((const unsigned char *)q->cfg->jwt_secret.bytes,
                  q->cfg->jwt_secret.len, MV_LOCKOUT_KEY_LABEL, key);
    mv_keyed_hash_hex(key, sizeof(key), msg, strlen(msg), hash);
    return hash;
}

/* Counts the attempt: 0 allowed, 1 locked (*retry_after set), -1 failed. */
static int lockout_blocked(mv_req *q, const char *account, int *retry_after)
{
    const char *params[3], *failures, *left;
    mv_rl_verdict v;
    PGresult *res;
    mv_db *db;

    *retry_after = 0;
    if (q->cfg->lockout_failures <= 0) {
        return 0;
    }
    if (!(db = mv_db_get(q))) {
        return -1;
    }
    params[0] = account_key(q, account);
    params[1] = apr_itoa(q->r->pool, q->cfg->lockout_seconds);
    params[2] = apr_itoa(q->r->pool, q->cfg->lockout_failures);
    if (!(res = mv_db_exec(db, &STMT_ATTEMPT, params)) || PQntuples(res) != 1 ||
        !(failures = mv_db_value(db, res, 0, 0)) ||
        !(left = mv_db_value(db, res, 0, 1))) {
        return -1;
    }
    mv_rl_judge(atol(failures), q->cfg->lockout_failures, apr_atoi64(left), &v);
    if (randombytes_uniform(LOCKOUT_SWEEP_ODDS) == 0) {
        mv_db_exec(db, &STMT_SWEEP, NULL); /* best effort */
    }
    if (!v.allowed) {
        *retry_after = (int)v.reset;
        return 1;
    }
    return 0;
}

int mv_lockout_cleared(mv_req *q, const char *account)
{
    const char *params[1];
    mv_db *db;

    if (q->cfg->lockout_failures <= 0) {
        return 0;
    }
    if (!(db = mv_db_get(q))) {
        return -1;
    }
    params[0] = account_key(q, account);
    return mv_db_exec(db, &STMT_CLEAR, params) ? 0 : -1;
}

int mv_lockout_refused(mv_req *q, const char *account)
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
