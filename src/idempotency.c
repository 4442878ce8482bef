/*
 * idempotency.c — Idempotency-Key on the routes flagged MV_IDEMPOTENT
 * (draft-ietf-httpapi-idempotency-key-header, with Stripe's behaviour).
 *
 * A request with a key runs in one transaction:
 *
 *   BEGIN
 *   claim   pg_try_advisory_xact_lock(the key) and the stored answer, if
 *           any: lock taken by another request → 409 in flight; an answer
 *           → replay it (same body) or 422 (another body)
 *   ...     the handler, its own transaction a savepoint inside this one
 *   store   the handler's status and body, beside its effect
 *   COMMIT
 *
 * so an answer is stored exactly when the effect commits.  The lock is
 * the transaction's, released by its end whatever happens, so a key can
 * never stay "in flight".  One race is left: a request whose claim read
 * its snapshot just before the first request committed takes the lock
 * after it and finds no answer; its store then meets the first answer
 * (ON CONFLICT detects committed rows whatever the snapshot), so it rolls
 * its own work back and answers from the stored one.
 */
#include "mv.h"
#include "mv_crypto.h"
#include "mv_validate.h"

#define IDEM_HEADER "Idempotency-Key"

/* A claimed key: what the store needs once the handler has replied. */
struct mv_idem {
    const char *key_hash;
    const char *fingerprint;
};

/* $1 key hash, $2 lock id: (locked, fingerprint, status, body), the last
 * three NULL when the key has no live answer. */
static const mv_stmt STMT_CLAIM = {
    "mv_idem_claim", 2,
    "SELECT pg_try_advisory_xact_lock($2::bigint), k.fingerprint, k.status,"
    "       k.body"
    "  FROM (SELECT 1) one LEFT JOIN idempotency_keys k"
    "    ON k.key_hash = $1 AND k.expires_at > now()"};

/* The live answer of a key: (fingerprint, status, body) or no row. */
static const mv_stmt STMT_LOOKUP = {
    "mv_idem_lookup", 1,
    "SELECT fingerprint, status, body FROM idempotency_keys"
    " WHERE key_hash = $1 AND expires_at > now()"};

/*
 * Stores an answer; an expired one under the same key is replaced.  No
 * row: a live answer was committed meanwhile.  The same statement prunes
 * a bounded batch of other expired answers, so the table keeps to about
 * MocaverseIdempotencyTTL of traffic without an operator (SKIP LOCKED:
 * two stores never wait on each other's pruning).
 */
static const mv_stmt STMT_STORE = {
    "mv_idem_store", 5,
    "WITH pruned AS (DELETE FROM idempotency_keys WHERE key_hash IN ("
    "   SELECT key_hash FROM idempotency_keys"
    "    WHERE expires_at <= now() AND key_hash <> $1"
    "    ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED))"
    " INSERT INTO idempotency_keys AS k"
    "       (key_hash, fingerprint, status, body, expires_at)"
    " VALUES ($1, $2, $3::integer, $4, now() + $5::bigint * interval '1 s')"
    " ON CONFLICT (key_hash) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
    "       status = EXCLUDED.status, body = EXCLUDED.body,"
    "       created_at = now(), expires_at = EXCLUDED.expires_at"
    " WHERE k.expires_at <= now()"
    " RETURNING 1"};

/* 1 for an answer that is kept: one the request earned by what it asked,
 * not by how it was sent (400, 401, 403, 413, 415, 429) nor by a failure
 * of ours (5xx), so a retry of those is evaluated afresh. */
static int status_stored(int status)
{
    switch (status) {
    case HTTP_BAD_REQUEST:
    case HTTP_UNAUTHORIZED:
    case HTTP_FORBIDDEN:
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
    case HTTP_UNSUPPORTED_MEDIA_TYPE:
    case HTTP_TOO_MANY_REQUESTS:
        return 0;
    default:
        return status >= 200 && status < 500;
    }
}

/* HMAC-SHA256 hex of msg under the idempotency key, from r->pool. */
static const char *idem_hash(mv_req *q, const char *msg, apr_size_t len)
{
    char *out = apr_palloc(q->r->pool, MV_HASH_HEX_LEN + 1);

    mv_keyed_hash_hex(q->cfg->keys->idempotency, MV_DERIVED_KEY_LEN, msg, len,
                      out);
    return out;
}

/*
 * The stored name of a key: its caller (the admin key, or the user), its
 * route and the key itself, hashed, so equal keys of two callers or two
 * routes never meet and no admin key is stored.
 */
static const char *scope_hash(mv_req *q, const char *key)
{
    const char *caller =
        q->is_admin
            ? apr_pstrcat(q->r->pool, "admin ", q->cfg->admin_key.bytes, NULL)
            : apr_psprintf(q->r->pool, "user %" APR_INT64_T_FMT, q->user_id);
    const char *msg = apr_pstrcat(q->r->pool, caller, "\n", q->route->method,
                                  " ", q->route->path, "\n", key, NULL);

    return idem_hash(q, msg, strlen(msg));
}

/* The request's fingerprint: a hash of its body in canonical form (keys
 * sorted, no spaces), so the same JSON sent twice matches. */
static const char *body_fingerprint(mv_req *q)
{
    char *text = q->body ? json_dumps(q->body, JSON_COMPACT | JSON_SORT_KEYS |
                                                   JSON_ENCODE_ANY)
                         : NULL;
    const char *fp = idem_hash(q, text ? text : "", text ? strlen(text) : 0);

    free(text);
    return fp;
}

/* The advisory-lock id of a key: its hash's first 60 bits, as text. */
static const char *lock_id(mv_req *q, const char *key_hash)
{
    apr_int64_t id = (apr_int64_t)apr_strtoi64(
        apr_pstrmemdup(q->r->pool, key_hash, 15), NULL, 16);

    return mv_int_param(q, id); /* positive, fits a bigint */
}

/* Answers from a stored row (fingerprint, status, body at col..col+2). */
static int reply_stored(mv_req *q, const char *fingerprint, const PGresult *res,
                        int col)
{
    if (strcmp(mv_db_text(res, 0, col), fingerprint) != 0) {
        return mv_reply_error(q, HTTP_UNPROCESSABLE_ENTITY,
                              "idempotency_key_reused",
                              "This Idempotency-Key was used with another "
                              "request body.");
    }
    apr_table_setn(q->r->headers_out, "Idempotent-Replayed", "true");
    return mv_reply_raw(q, (int)mv_db_int(res, 0, col + 1),
                        mv_db_text(res, 0, col + 2),
                        mv_db_len(res, 0, col + 2));
}

int mv_idempotency_claim_or_reply(mv_req *q)
{
    const char *header = apr_table_get(q->r->headers_in, IDEM_HEADER);
    char key[MV_IDEMPOTENCY_KEY_MAX + 1];
    const char *params[2];
    struct mv_idem *k;
    PGresult *res;
    mv_db *db;

    if (!header) {
        return 0;
    }
    if (mv_idempotency_key_parse(header, key, sizeof(key)) < 0) {
        mv_invalid(q, IDEM_HEADER,
                   "must be 1 to 255 printable ASCII characters, bare or as "
                   "a quoted string");
        mv_reply_invalid(q);
        return 1;
    }
    k = apr_pcalloc(q->r->pool, sizeof(*k));
    k->key_hash = scope_hash(q, key);
    k->fingerprint = body_fingerprint(q);
    params[0] = k->key_hash;
    params[1] = lock_id(q, k->key_hash);
    if (!(db = mv_db_get(q)) || mv_db_begin(db) != 0 ||
        !(res = mv_db_exec(db, &STMT_CLAIM, params))) {
        if (db) {
            mv_db_rollback_all(db);
        }
        mv_reply_db_error(q);
        return 1;
    }
    if (!mv_db_bool(res, 0, 0)) {
        mv_db_rollback_all(db);
        apr_table_setn(q->r->headers_out, "Retry-After", "1");
        mv_reply_error(q, HTTP_CONFLICT, "idempotency_key_in_flight",
                       "A request with this Idempotency-Key is still being "
                       "processed; retry later.");
        return 1;
    }
    if (mv_db_text(res, 0, 1)) {
        mv_db_rollback_all(db);
        reply_stored(q, k->fingerprint, res, 1);
        return 1;
    }
    q->idem = k;
    return 0;
}

/*
 * Stores the reply beside the effect and commits.  An error answer keeps
 * nothing of the request (mv_reply_raw's rule): everything is rolled back
 * and the answer stored on its own.  0 once stored; 1 when a live answer
 * was committed first (the race above: everything rolled back, *res set
 * to that answer's row); -1 on a failure (rolled back, or the commit's
 * outcome unknown).
 */
static int store_and_commit(mv_req *q, const struct mv_idem *k, int status,
                            const char *json, apr_size_t len, PGresult **res)
{
    mv_db *db = q->db;
    const char *params[5];
    PGresult *stored;

    if (status >= 400) {
        mv_db_rollback_all(db);
    }
    /* A handler level left open on a success is part of its answer. */
    while (mv_db_in_transaction(db) > 1) {
        if (mv_db_commit(db) != 0) {
            mv_db_rollback_all(db);
            return -1;
        }
    }
    params[0] = k->key_hash;
    params[1] = k->fingerprint;
    params[2] = apr_itoa(q->r->pool, status);
    params[3] = apr_pstrmemdup(q->r->pool, json, len);
    params[4] = mv_int_param(q, q->cfg->idempotency_ttl);
    if (!(stored = mv_db_exec(db, &STMT_STORE, params))) {
        mv_db_rollback_all(db);
        return -1;
    }
    if (mv_db_rows(stored) == 0) {
        mv_db_rollback_all(db);
        *res = mv_db_exec(db, &STMT_LOOKUP, params);
        return *res && mv_db_rows(*res) == 1 ? 1 : -1;
    }
    if (!mv_db_in_transaction(db)) {
        return 0; /* an error answer, stored alone */
    }
    return mv_db_commit(db) == 0 ? 0 : -1;
}

int mv_idempotency_reply(mv_req *q, int status, const char *json,
                         apr_size_t len)
{
    const struct mv_idem *k = q->idem;
    PGresult *res = NULL;

    q->idem = NULL; /* the replies below are final */
    if (!status_stored(status)) {
        mv_db_rollback_all(q->db);
        return mv_reply_raw(q, status, json, len);
    }
    switch (store_and_commit(q, k, status, json, len, &res)) {
    case 0:
        return mv_reply_raw(q, status, json, len);
    case 1:
        return reply_stored(q, k->fingerprint, res, 0);
    default:
        return mv_reply_db_error(q);
    }
}
