/*
 * ratelimit.c — MocaverseRateLimit: one count per (group, client) shared
 * by every process of an httpd (store shm) or by every host on the same
 * PostgreSQL (store database), and the replies and headers that go with
 * it (SPEC §2, §3; docs/ratelimit.md).
 *
 * The arithmetic lives in src/core/rl.c.  Here:
 * - shm: a table of buckets in anonymous shared memory and a global mutex
 *   around each hit, both created once in the process pool on the first
 *   real post_config pass and found again on every restart, so counts
 *   survive graceful restarts and old and new children share one lock;
 * - database: one INSERT ... ON CONFLICT DO UPDATE ... RETURNING per hit,
 *   on PostgreSQL's clock, and now and then a sweep of ended windows.
 */
#include "mv.h"
#include "mv_crypto.h"
#include "mv_validate.h"
#include "mv_counter.h"
#include "mv_rl.h"

#include "apr_global_mutex.h"
#include "apr_shm.h"
#include "http_core.h"
#include "util_mutex.h"

#include <sodium.h>
#include <time.h>

#define RL_MUTEX_TYPE "mocaverse-ratelimit"
#define RL_SHARED_KEY "mocaverse-ratelimit-shared"
#define RL_BUCKET_MAX 96 /* "group:key" */

/* The shm store, in the process pool: one per httpd, across restarts. */
typedef struct {
    apr_shm_t *shm;
    apr_global_mutex_t *mutex;
    mv_rl_table *table;
} rl_shared;

/* Set in post_config and inherited by the children.  The module may be
 * unloaded and loaded again on restart, so this is found again in the
 * process pool's user data rather than trusted to survive. */
static rl_shared *shared;

/* ---------------------------------------------------------------- hooks */

int mv_ratelimit_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, RL_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0) ==
                   APR_SUCCESS
               ? OK
               : HTTP_INTERNAL_SERVER_ERROR;
}

int mv_ratelimit_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    size_t size = mv_rl_table_size(MV_RL_SLOTS);
    rl_shared *sh;
    apr_status_t rv;
    void *data;
    (void)pconf;

    /* The first pass only checks the configuration; nothing to keep. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    apr_pool_userdata_get(&data, RL_SHARED_KEY, pp);
    if (data && mv_rl_table_check(((rl_shared *)data)->table, MV_RL_SLOTS)) {
        shared = data;
        return OK;
    }
    if (data) {
        /* A new module version with another table: start afresh; children
         * of the old generation keep the old table until they exit. */
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "MV0206: rate-limit table layout changed; counts reset");
    }
    sh = apr_pcalloc(pp, sizeof(*sh));
    if ((rv = apr_shm_create(&sh->shm, size, NULL, pp)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "MV0201: cannot create %" APR_SIZE_T_FMT
                     " bytes of shared memory for rate limits",
                     (apr_size_t)size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    sh->table = mv_rl_table_init(apr_shm_baseaddr_get(sh->shm), MV_RL_SLOTS);
    rv =
        ap_global_mutex_create(&sh->mutex, NULL, RL_MUTEX_TYPE, NULL, s, pp, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "MV0202: cannot create the rate-limit mutex");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_userdata_set(sh, RL_SHARED_KEY, apr_pool_cleanup_null, pp);
    shared = sh;
    return OK;
}

void mv_ratelimit_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    if (!shared) {
        return;
    }
    rv = apr_global_mutex_child_init(
        &shared->mutex, apr_global_mutex_lockfile(shared->mutex), p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "MV0203: cannot attach to the rate-limit mutex");
        shared = NULL; /* hits then fail closed with 503 */
    }
}

/* --------------------------------------------------------------- stores */

/* Microseconds on a clock shared by every process of the machine that
 * never jumps with the wall clock. */
static int64_t monotonic_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * MV_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Counts a hit in shared memory.  0, or -1 when the lock failed. */
static int hit_shm(mv_req *q, const char *bucket, const mv_rate_limit *rl,
                   mv_rl_verdict *v)
{
    uint64_t tag, before, evicted;
    apr_status_t rv;

    if (!shared) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "MV0204: rate-limit shared memory is unavailable");
        return -1;
    }
    tag = mv_rl_table_tag(shared->table, bucket, strlen(bucket));
    if ((rv = apr_global_mutex_lock(shared->mutex)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r,
                      "MV0205: cannot lock the rate-limit table");
        return -1;
    }
    before = mv_rl_table_evictions(shared->table);
    mv_rl_table_hit(shared->table, tag, rl->requests,
                    (int64_t)rl->seconds * MV_USEC_PER_SEC, monotonic_usec(),
                    v);
    evicted = mv_rl_table_evictions(shared->table);
    apr_global_mutex_unlock(shared->mutex);
    /* Live buckets pushed out means clients get fresh windows: say so,
     * once each time the count doubles. */
    if (evicted != before && (evicted & (evicted - 1)) == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, q->r,
                      "MV0207: the rate-limit table is full; %" APR_UINT64_T_FMT
                      " live buckets evicted so far",
                      evicted);
    }
    return 0;
}

/* Counts a hit in the database (on a connection given back before the
 * body is read, mv_counter_hit).  0, or -1 when the database failed. */
static int hit_database(mv_req *q, const char *bucket, const mv_rate_limit *rl,
                        mv_rl_verdict *v)
{
    return mv_counter_hit(q, &mv_counter_rate_limits, bucket, rl->requests,
                          rl->seconds, v);
}

/* ---------------------------------------------------------------- check */

/* "group:key" into out (RL_BUCKET_MAX bytes): the user ("u42") for the
 * per-user group, else the client address. */
static const char *bucket_name(mv_req *q, int group, char *out)
{
    const char *name = mv_rl_groups[group].name;
    size_t n = strlen(name);
    char key[MV_RL_KEY_MAX];

    if (mv_rl_groups[group].per_user && q->user_id > 0) {
        key[0] = 'u';
        apr_cpystrn(key + 1, apr_ltoa(q->r->pool, (long)q->user_id),
                    sizeof(key) - 1);
    } else {
        mv_rl_client_key(q->r->useragent_ip, key, sizeof(key));
    }
    memcpy(out, name, n);
    out[n] = ':';
    apr_cpystrn(out + n + 1, key, RL_BUCKET_MAX - n - 1);
    return out;
}

/* Sets RateLimit-Policy and RateLimit for this verdict. */
static void set_headers(mv_req *q, const char *name, const mv_rate_limit *rl,
                        const mv_rl_verdict *v)
{
    char policy[128], limit[128];

    mv_rl_policy_value(policy, sizeof(policy), name, rl->requests, rl->seconds);
    mv_rl_limit_value(limit, sizeof(limit), name, v);
    apr_table_set(q->r->headers_out, "RateLimit-Policy", policy);
    apr_table_set(q->r->headers_out, "RateLimit", limit);
}

int mv_ratelimit_or_reply(mv_req *q)
{
    int group = q->route->rate_group;
    char bucket[RL_BUCKET_MAX];
    const mv_rate_limit *rl;
    mv_rl_verdict v;
    int rc;

    if (group < 0 || group >= MV_RL_GROUPS) {
        return 0;
    }
    rl = &q->cfg->rate[group];
    if (rl->requests <= 0) {
        return 0;
    }
    bucket_name(q, group, bucket);
    rc = q->cfg->rate_store == MV_RL_STORE_DATABASE
             ? hit_database(q, bucket, rl, &v)
             : hit_shm(q, bucket, rl, &v);
    if (rc != 0) {
        mv_reply_error(q, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                       "The rate limiter is unavailable; try again.");
        return 1;
    }
    set_headers(q, mv_rl_groups[group].name, rl, &v);
    if (!v.allowed) {
        apr_table_setn(q->r->headers_out, "Retry-After",
                       apr_ltoa(q->r->pool, v.reset));
        mv_reply_error(q, HTTP_TOO_MANY_REQUESTS, "rate_limited",
                       "Too many requests; try again later.");
        return 1;
    }
    return 0;
}
