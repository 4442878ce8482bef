/*
 * handle_coupons.c — POST /coupons/generate: an operator with the admin
 * key creates a batch of coupons worth `points` each.
 *
 * The batch row and all its coupons are written in one transaction, the
 * coupons by one statement whatever their number (the tokens travel as one
 * array parameter), so a batch exists entirely or not at all and 10,000
 * coupons cost one round trip.  Tokens are UUIDv4 drawn from libsodium; a
 * token that collides with an existing one makes the whole batch start
 * again with fresh tokens.
 */
#include "mv_admin.h"
#include "mv_crypto.h"
#include "mv_validate.h"

#define COUPON_POINTS_MAX 1000000
#define COUPON_NAME_MAX 200 /* code points */
#define COUPON_SKU_MAX 100  /* code points */
#define COUPON_BATCH_ATTEMPTS 3

static const mv_stmt STMT_BATCH = {
    "mv_coupon_batch", 5,
    "INSERT INTO coupon_batches (name, sku, points, count, expires_at)"
    " VALUES ($1, $2, $3::integer, $4::integer, $5::timestamptz)"
    " RETURNING id"};

/* $1 batch id, $2 the tokens as an array literal, $3 points, $4 expiry. */
static const mv_stmt STMT_COUPONS = {
    "mv_coupon_insert", 4,
    "INSERT INTO coupons (batch_id, token, points, expires_at)"
    " SELECT $1::bigint, unnest($2::uuid[]), $3::integer, $4::timestamptz"
    " ON CONFLICT (token) DO NOTHING"};

typedef struct {
    apr_int64_t count;
    apr_int64_t points;
    const char *name;
    const char *sku;
    const char *expires; /* RFC 3339, or NULL */
} coupon_batch;

/* An optional string field of at most max code points, or NULL. */
static const char *bounded_string(mv_req *q, const char *field, long max)
{
    const char *s = mv_body_string(q, field, MV_OPTIONAL);

    if (s && mv_utf8_length(s, strlen(s)) > max) {
        mv_invalid(
            q, field,
            apr_psprintf(q->r->pool, "must be at most %ld characters", max));
        return NULL;
    }
    return s;
}

/* Reads and checks the body into *b; 0 when valid (else see q->invalid). */
static int batch_parse(mv_req *q, coupon_batch *b)
{
    apr_time_t expires;

    mv_body_int(q, "count", 1, q->cfg->coupon_batch_max, MV_REQUIRED,
                &b->count);
    mv_body_int(q, "points", 1, COUPON_POINTS_MAX, MV_REQUIRED, &b->points);
    b->name = bounded_string(q, "batchName", COUPON_NAME_MAX);
    b->sku = bounded_string(q, "sku", COUPON_SKU_MAX);
    b->expires = NULL;
    if (mv_body_time(q, "expiresAt", MV_OPTIONAL, &expires)) {
        if (expires <= q->r->request_time) {
            mv_invalid(q, "expiresAt", "must be in the future");
        } else if (!(b->expires = mv_time_format(q->r->pool, expires))) {
            mv_invalid(q, "expiresAt", "must be a time in years 0001-9999");
        }
    }
    return mv_has_invalid(q) ? -1 : 0;
}

/*
 * Writes the batch and its coupons with the tokens in `tokens` (an array
 * literal).  Returns the batch id (> 0), 0 when a token collided (nothing
 * written), or -1 on a database failure.
 */
static apr_int64_t batch_insert(mv_req *q, mv_db *db, const coupon_batch *b,
                                const char *tokens)
{
    apr_pool_t *p = q->r->pool;
    const char *points = apr_psprintf(p, "%" APR_INT64_T_FMT, b->points);
    const char *count = apr_psprintf(p, "%" APR_INT64_T_FMT, b->count);
    const char *bp[] = {b->name, b->sku, points, count, b->expires};
    const char *cp[4];
    PGresult *res;

    if (mv_db_begin(db) != 0) {
        return -1;
    }
    if (!(res = mv_db_exec(db, &STMT_BATCH, bp))) {
        mv_db_rollback(db);
        return -1;
    }
    cp[0] = mv_db_text(res, 0, 0);
    cp[1] = tokens;
    cp[2] = points;
    cp[3] = b->expires;
    if (!(res = mv_db_exec(db, &STMT_COUPONS, cp))) {
        mv_db_rollback(db);
        return -1;
    }
    if (mv_db_changed(res) != b->count) {
        mv_db_rollback(db);
        return 0;
    }
    if (mv_audit_ok(q, cp[0]) != 0) {
        mv_db_rollback(db);
        return -1;
    }
    return mv_db_commit(db) == 0 ? apr_atoi64(cp[0]) : -1;
}

/* POST /coupons/generate {count, points, batchName?, sku?, expiresAt?}
 * → {success, count, batchId, tokens} */
static int generate(mv_req *q)
{
    coupon_batch b;
    apr_int64_t batch_id = 0, i;
    char *tokens = NULL;
    json_t *list;
    mv_db *db;
    int attempt;

    if (batch_parse(q, &b) != 0) {
        return mv_reply_invalid(q);
    }
    if (!(db = mv_db_get(q))) {
        return mv_reply_db_error(q);
    }
    tokens = apr_palloc(q->r->pool, MV_UUID_ARRAY_SIZE(b.count));
    for (attempt = 0; attempt < COUPON_BATCH_ATTEMPTS && batch_id == 0;
         attempt++) {
        mv_uuid_array(tokens, (size_t)b.count);
        batch_id = batch_insert(q, db, &b, tokens);
    }
    if (batch_id <= 0) {
        if (batch_id == 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                          "MV0401: coupon tokens collided %d times in a row",
                          COUPON_BATCH_ATTEMPTS);
        }
        return mv_reply_db_error(q);
    }
    list = json_array();
    for (i = 0; i < b.count; i++) {
        json_array_append_new(
            list, json_stringn(tokens + MV_UUID_ARRAY_AT(i), MV_UUID_LEN));
    }
    return mv_reply_json(q, HTTP_OK,
                         json_pack("{s:b, s:I, s:I, s:o}", "success", 1,
                                   "count", (json_int_t)b.count, "batchId",
                                   (json_int_t)batch_id, "tokens", list));
}

const mv_route mv_coupon_routes[] = {
    {"POST", "/coupons/generate", generate, MV_ADMIN | MV_BODY | MV_IDEMPOTENT,
     MV_RL_API},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
