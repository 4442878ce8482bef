/*
 * counter.c — the database counters of mv_counter.h.
 *
 * One statement text for every counter table: an INSERT ... ON CONFLICT DO
 * UPDATE that opens a window on the first hit, counts (saturating at the
 * limit + 1) while it lasts, and starts afresh once it has ended, so
 * concurrent hits from any number of processes and hosts are counted
 * exactly.  It returns the count and the microseconds left in the window.
 */
#include "mv.h"
#include "mv_counter.h"

#include <sodium.h>

struct mv_counter {
    const char *prefix;  /* hashed before the name: keeps counters apart */
    apr_size_t key;      /* offsetof(mv_purpose_keys, ...) */
    unsigned sweep_odds; /* one hit in this many sweeps the table */
    mv_stmt hit, sweep, clear;
};

#define COUNTER_HIT(table)                                                     \
    "INSERT INTO " table " AS b (bucket, hits, reset_at) "                     \
    "VALUES ($1, 1, now() + $2::int * interval '1 second') "                   \
    "ON CONFLICT (bucket) DO UPDATE SET "                                      \
    "hits = CASE WHEN b.reset_at <= now() THEN 1 "                             \
    "ELSE least(b.hits, $3::int) + 1 END, "                                    \
    "reset_at = CASE WHEN b.reset_at <= now() THEN EXCLUDED.reset_at "         \
    "ELSE b.reset_at END "                                                     \
    "RETURNING hits, "                                                         \
    "(extract(epoch FROM reset_at - now()) * 1000000)::bigint"
#define COUNTER_SWEEP(table) "DELETE FROM " table " WHERE reset_at <= now()"
#define COUNTER_CLEAR(table) "DELETE FROM " table " WHERE bucket = $1"

#define COUNTER(name, table, prefix, key, odds)                                \
    {                                                                          \
        prefix, offsetof(mv_purpose_keys, key), odds,                          \
            {"mv_" name "_hit", 3, COUNTER_HIT(table)},                        \
            {"mv_" name "_sweep", 0, COUNTER_SWEEP(table)},                    \
        {                                                                      \
            "mv_" name "_clear", 1, COUNTER_CLEAR(table)                       \
        }                                                                      \
    }

/* The prefixes are those the stored hashes were made with: keep them. */
const mv_counter mv_counter_rate_limits = COUNTER(
    "ratelimit", "rate_limits", "mocaverse ratelimit\n", rate_limit, 1000);
const mv_counter mv_counter_login_failures =
    COUNTER("lockout", "login_failures", "mocaverse lockout\n", lockout, 100);

/* The stored form of a bucket name, from r->pool. */
static const char *bucket_hash(mv_req *q, const mv_counter *c, const char *name)
{
    const unsigned char *key = (const unsigned char *)q->cfg->keys + c->key;
    const char *msg = apr_pstrcat(q->r->pool, c->prefix, name, NULL);
    char *hash = apr_palloc(q->r->pool, MV_HASH_HEX_LEN + 1);

    mv_keyed_hash_hex(key, MV_DERIVED_KEY_LEN, msg, strlen(msg), hash);
    return hash;
}

/*
 * The connection for a counter's statement: the request's own when it
 * holds one, else one borrowed for the statement alone (*borrowed set).
 * The rate limiter counts before the body is read, and a slow body must
 * not hold a pooled connection (docs/ratelimit.md).
 */
static mv_db *counter_db(mv_req *q, int *borrowed)
{
    *borrowed = q->db == NULL;
    return q->db ? q->db : mv_db_borrow(q);
}

int mv_counter_hit(mv_req *q, const mv_counter *c, const char *name, long limit,
                   int seconds, mv_rl_verdict *v)
{
    const char *params[3];
    int borrowed, rc = -1;
    mv_db *db = counter_db(q, &borrowed);
    PGresult *res;

    if (!db) {
        return -1;
    }
    params[0] = bucket_hash(q, c, name);
    params[1] = apr_itoa(q->r->pool, seconds);
    params[2] = apr_ltoa(q->r->pool, limit);
    if ((res = mv_db_exec(db, &c->hit, params)) && mv_db_rows(res) == 1 &&
        mv_db_text(res, 0, 0) && mv_db_text(res, 0, 1)) {
        mv_rl_judge((long)mv_db_int(res, 0, 0), limit, mv_db_int(res, 0, 1), v);
        if (randombytes_uniform(c->sweep_odds) == 0) {
            mv_db_exec(db, &c->sweep, NULL); /* best effort */
        }
        rc = 0;
    }
    if (borrowed) {
        mv_db_release(db);
    }
    return rc;
}

int mv_counter_clear(mv_req *q, const mv_counter *c, const char *name)
{
    const char *params[1];
    int borrowed, rc;
    mv_db *db = counter_db(q, &borrowed);

    if (!db) {
        return -1;
    }
    params[0] = bucket_hash(q, c, name);
    rc = mv_db_exec(db, &c->clear, params) ? 0 : -1;
    if (borrowed) {
        mv_db_release(db);
    }
    return rc;
}
