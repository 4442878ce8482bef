/*
 * passwords.c — argon2id hashing under a per-process cap.
 *
 * Each hash takes MocaversePasswordHash MEM_MIB of memory and tens of
 * milliseconds of one core.  A burst of sign-ups or logins on a threaded
 * MPM would otherwise run one hash per thread at once (16 threads x 19 MiB
 * and more); here a counting semaphore (a mutex, a condition variable and
 * a count, made in child_init) lets at most mv_pwhash_slots() hashes run
 * in a process, and the others wait their turn for a bounded time.
 */
#include "mv_passwords.h"
#include "mv_crypto.h"
#include "mv_validate.h"

#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"

typedef struct {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    int free; /* slots not in use */
} hash_slots;

/* NULL until child_init: then every hash goes through the slots. */
static hash_slots *slots;

/* Makes this process's slots, sized for the costliest virtual host. */
void mv_passwords_child_init(apr_pool_t *pchild, server_rec *s)
{
    hash_slots *hs = apr_pcalloc(pchild, sizeof(*hs));
    int mem = 1;
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        const mv_config *c =
            ap_get_module_config(vs->module_config, &mocaverse_module);
        if (c->pwhash_mem_mib > mem) {
            mem = c->pwhash_mem_mib;
        }
    }
    if (apr_thread_mutex_create(&hs->mutex, APR_THREAD_MUTEX_DEFAULT, pchild) !=
            APR_SUCCESS ||
        apr_thread_cond_create(&hs->cond, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "MV0301: cannot create the password-hashing slots; "
                     "hashes are not capped in this process");
        return;
    }
    hs->free = mv_pwhash_slots(mem);
    slots = hs;
}

/* Takes a slot, waiting at most MV_PWHASH_WAIT_SEC; 0 or -1. */
static int slot_take(request_rec *r)
{
    apr_time_t deadline =
        apr_time_now() + apr_time_from_sec(MV_PWHASH_WAIT_SEC);
    int rc = 0;

    if (!slots) {
        return 0;
    }
    apr_thread_mutex_lock(slots->mutex);
    while (slots->free == 0) {
        apr_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            rc = -1;
            break;
        }
        apr_thread_cond_timedwait(slots->cond, slots->mutex, left);
    }
    if (rc == 0) {
        slots->free--;
    }
    apr_thread_mutex_unlock(slots->mutex);
    if (rc != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "MV0302: no password-hashing slot free within %d s",
                      MV_PWHASH_WAIT_SEC);
    }
    return rc;
}

/* Gives a slot back and wakes one waiter. */
static void slot_give(void)
{
    if (!slots) {
        return;
    }
    apr_thread_mutex_lock(slots->mutex);
    slots->free++;
    apr_thread_cond_signal(slots->cond);
    apr_thread_mutex_unlock(slots->mutex);
}

/* Hashes pw at the configured cost into out, inside a slot; 0 or -1. */
static int hash_in_slot(mv_req *q, const char *pw, char *out)
{
    int rc;

    rc =
        mv_password_hash(pw, strlen(pw), (unsigned long long)q->cfg->pwhash_ops,
                         (size_t)q->cfg->pwhash_mem_mib * 1024 * 1024, out);
    if (rc != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "MV0303: argon2id hashing failed (out of memory?)");
    }
    return rc;
}

/* 0 and the argon2id string in out, or -1 (no slot, or failure). */
int mv_passwords_hash(mv_req *q, const char *pw, char out[MV_PASSWORD_HASH_MAX])
{
    int rc;

    if (slot_take(q->r) != 0) {
        return -1;
    }
    rc = hash_in_slot(q, pw, out);
    slot_give();
    return rc;
}

/* 1 match, 0 no match (or no hash: same work), -1 no slot. */
int mv_passwords_verify(mv_req *q, const char *hash, const char *pw)
{
    char scratch[MV_PASSWORD_HASH_MAX];
    int ok = 0;

    if (slot_take(q->r) != 0) {
        return -1;
    }
    if (hash) {
        ok = mv_password_verify(hash, pw, strlen(pw));
    } else {
        /* No hash to check against: spend the same work regardless. */
        hash_in_slot(q, pw, scratch);
    }
    slot_give();
    return ok;
}

/* 503 unavailable with Retry-After: 1. */
int mv_reply_busy(mv_req *q)
{
    apr_table_setn(q->r->headers_out, "Retry-After", "1");
    return mv_reply_error(q, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                          "The server is busy; try again.");
}
