/*
 * handle_admin_batches.c — coupon batches for the operator: the list with
 * redemption figures, every coupon of a batch as CSV, and voiding a batch.
 * Batches are created with POST /coupons/generate (handle_coupons.c).
 *
 * Void takes every coupon of the batch that is neither redeemed nor
 * voided, row by row; a scan of the same coupon updates the same row, so
 * one of the two wins and the other sees its result: a coupon is either
 * redeemed (and stays so) or void (and scanning it answers 410
 * coupon_void).
 */
#include "mv_admin.h"

/* Coupons read per page of the CSV. */
#define CSV_PAGE_ROWS 1000
#define CSV_HEADER "token,state,redeemedAt,redeemedBy\r\n"
/* One CSV line at most: uuid, state, time, id, separators. */
#define CSV_LINE_MAX 128

#define BATCH_COLUMNS                                                          \
    "b.id, b.name, b.sku, b.points, b.count, r.redeemed,"                      \
    " CASE WHEN b.expires_at <= now()"                                         \
    "      THEN b.count - r.redeemed - b.voided ELSE 0 END,"                   \
    " b.voided, r.redeemed * b.points, b.created_at, b.expires_at,"            \
    " b.voided_at"
#define BATCH_FROM " FROM coupon_batches b" MV_SQL_BATCH_REDEEMED
enum {
    COL_ID,
    COL_NAME,
    COL_SKU,
    COL_POINTS,
    COL_COUNT,
    COL_REDEEMED,
    COL_EXPIRED,
    COL_VOIDED,
    COL_POINTS_ISSUED,
    COL_CREATED,
    COL_EXPIRES,
    COL_VOIDED_AT
};

/* $1 before, $2 rows */
static const mv_stmt STMT_LIST = {
    "mv_admin_batches", 2,
    "SELECT " BATCH_COLUMNS BATCH_FROM
    " WHERE b.id < COALESCE($1::bigint, " MV_SQL_ID_MAX ")"
    " ORDER BY b.id DESC LIMIT $2::integer"};

static const mv_stmt STMT_ONE = {"mv_admin_batch", 1,
                                 "SELECT " BATCH_COLUMNS BATCH_FROM
                                 " WHERE b.id = $1::bigint"};

/* A batch as JSON: {id, name, sku, points, count, redeemed, expired,
 * voided, pointsIssued, createdAt, expiresAt, voidedAt}. */
static json_t *batch_json(mv_req *q, const PGresult *res, int row)
{
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
        mv_col_int(res, row, COL_ID), "name", mv_col_text(res, row, COL_NAME),
        "sku", mv_col_text(res, row, COL_SKU), "points",
        mv_col_int(res, row, COL_POINTS), "count",
        mv_col_int(res, row, COL_COUNT), "redeemed",
        mv_col_int(res, row, COL_REDEEMED), "expired",
        mv_col_int(res, row, COL_EXPIRED), "voided",
        mv_col_int(res, row, COL_VOIDED), "pointsIssued",
        mv_col_int(res, row, COL_POINTS_ISSUED), "createdAt",
        mv_col_time(q, res, row, COL_CREATED), "expiresAt",
        mv_col_time(q, res, row, COL_EXPIRES), "voidedAt",
        mv_col_time(q, res, row, COL_VOIDED_AT));
}

/* GET /admin/coupon-batches?limit=&before= */
static int list_batches(mv_req *q)
{
    const char *params[2];
    mv_page page;

    mv_query_page(q, &page);
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    if (mv_admin_stats_refresh(q) != 0) {
        return mv_reply_db_error(q);
    }
    return mv_reply_page(q, &page, &STMT_LIST, params, COL_ID, batch_json);
}

/* ------------------------------------------------------------------ CSV */

static const mv_stmt STMT_EXISTS = {
    "mv_admin_batch_exists", 1,
    "SELECT 1 FROM coupon_batches WHERE id = $1::bigint"};

/* A page of the batch's coupons after id $2, in id order: (id, token,
 * state, redeemed_at, redeemed_by).  $1 batch, $3 rows. */
static const mv_stmt STMT_CSV_PAGE = {
    "mv_admin_batch_csv", 3,
    "SELECT id, token,"
    " CASE WHEN redeemed_at IS NOT NULL THEN 'redeemed'"
    "      WHEN voided_at IS NOT NULL THEN 'void'"
    "      WHEN expires_at <= now() THEN 'expired' ELSE 'active' END,"
    " redeemed_at, redeemed_by"
    " FROM coupons WHERE batch_id = $1::bigint AND id > $2::bigint"
    " ORDER BY id LIMIT $3::integer"};

/* Appends the CSV lines of a page to bb.  None of the values can hold a
 * comma, a quote or a line break (a UUID, a word, a time, an id), so no
 * field needs quoting (RFC 4180). */
static void csv_page(mv_req *q, const PGresult *res, apr_bucket_brigade *bb)
{
    int i, n = mv_db_rows(res);

    for (i = 0; i < n; i++) {
        const char *at = mv_db_time(q->r->pool, res, i, 3);
        const char *by = mv_db_text(res, i, 4);
        apr_brigade_printf(bb, NULL, NULL, "%s,%s,%s,%s\r\n",
                           mv_db_text(res, i, 1), mv_db_text(res, i, 2),
                           at ? at : "", by ? by : "");
    }
}

/*
 * GET /admin/coupon-batches/{id}/coupons.csv: every coupon with its state
 * and redemption, streamed a page at a time (keyset pages by coupon id),
 * so memory stays bounded whatever the batch size.  Each page is read in
 * its own snapshot: a coupon redeemed during the download shows the state
 * it had when its page was read.
 */
static int batch_csv(mv_req *q)
{
    request_rec *r = q->r;
    const char *params[3];
    long long id;
    apr_bucket_brigade *bb;
    PGresult *res;

    if (!mv_path_id(q, 0, &id)) {
        return mv_reply_invalid(q);
    }
    params[0] = mv_int_param(q, id);
    if (!mv_db_get(q) || !(res = mv_db_exec(q->db, &STMT_EXISTS, params))) {
        return mv_reply_db_error(q);
    }
    if (mv_db_rows(res) != 1) {
        return mv_reply_error(q, HTTP_NOT_FOUND, "batch_not_found",
                              "No coupon batch has this id.");
    }
    ap_set_content_type(r, "text/csv; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool,
                                "attachment; filename=\"batch-%" APR_INT64_T_FMT
                                "-coupons.csv\"",
                                (apr_int64_t)id));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_puts(bb, NULL, NULL, CSV_HEADER);
    params[1] = "0";
    params[2] = mv_int_param(q, CSV_PAGE_ROWS);
    for (;;) {
        int n;
        if (!(res = mv_db_exec(q->db, &STMT_CSV_PAGE, params))) {
            /* The status line is gone: end the response without its last
             * chunk, so the client sees an incomplete download. */
            APR_BRIGADE_INSERT_TAIL(
                bb, ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, r->pool,
                                           r->connection->bucket_alloc));
            ap_pass_brigade(r->output_filters, bb);
            r->connection->keepalive = AP_CONN_CLOSE;
            return OK;
        }
        n = mv_db_rows(res);
        csv_page(q, res, bb);
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(bb->bucket_alloc));
        if (ap_pass_brigade(r->output_filters, bb) != APR_SUCCESS) {
            return OK; /* the client went away */
        }
        apr_brigade_cleanup(bb);
        if (n < CSV_PAGE_ROWS) {
            return OK;
        }
        params[1] = mv_db_text(res, n - 1, 0);
    }
}

/* ----------------------------------------------------------------- void */

/* $1 batch: the batch row locked, then its open coupons voided, then the
 * batch's record of it. */
static const mv_stmt STMT_LOCK = {
    "mv_admin_batch_lock", 1,
    "SELECT id FROM coupon_batches WHERE id = $1::bigint FOR UPDATE"};
static const mv_stmt STMT_VOID = {
    "mv_admin_batch_void", 1,
    "WITH v AS (UPDATE coupons SET voided_at = now()"
    "  WHERE batch_id = $1::bigint AND redeemed_at IS NULL"
    "    AND voided_at IS NULL RETURNING 1)"
    " UPDATE coupon_batches SET voided_at = COALESCE(voided_at, now()),"
    "   voided = voided + (SELECT count(*) FROM v)"
    " WHERE id = $1::bigint"};

/* POST /admin/coupon-batches/{id}/void → the batch as listed */
static int void_batch(mv_req *q)
{
    const char *params[1];
    PGresult *res;
    long long id;

    if (mv_admin_begin_locked_or_reply(q, &STMT_LOCK, "batch_not_found",
                                       "No coupon batch has this id.", &id)) {
        return OK;
    }
    params[0] = mv_int_param(q, id);
    if (!mv_db_exec(q->db, &STMT_VOID, params) ||
        !(res = mv_db_exec(q->db, &STMT_ONE, params)) ||
        mv_audit_ok(q, params[0]) != 0 || mv_db_commit(q->db) != 0) {
        return mv_reply_db_error(q);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, q->r,
                  "MV0503: coupon batch %" APR_INT64_T_FMT
                  " voided by the admin key from %s",
                  (apr_int64_t)id, q->r->useragent_ip);
    return mv_reply_json(q, HTTP_OK, batch_json(q, res, 0));
}

const mv_route mv_admin_batch_routes[] = {
    {"GET", "/admin/coupon-batches", list_batches, MV_ADMIN, MV_RL_API},
    {"GET", "/admin/coupon-batches/{id}/coupons.csv", batch_csv, MV_ADMIN,
     MV_RL_API},
    {"POST", "/admin/coupon-batches/{id}/void", void_batch, MV_ADMIN,
     MV_RL_API},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
