/*
 * mv_admin.h — what the admin route files (src/handle_admin_*.c) share:
 * query-string parameters, cursor pages, JSON values from result columns,
 * and the audit trail of admin actions (docs/admin.md).
 */
#ifndef MV_ADMIN_H
#define MV_ADMIN_H

#include "mv.h"
#include "mv_admin_rules.h"

/*
 * SQL: the redeemed coupons of batch b (a coupon_batches row) as column
 * "redeemed" of a lateral subquery r: the count kept in batch_redeemed up
 * to its as_of, plus the redemptions since, read from the index
 * coupons (batch_id, redeemed_at) (migrations/007_admin.sql).
 */
#define MV_SQL_BATCH_REDEEMED                                                  \
    " LEFT JOIN batch_redeemed br ON br.batch_id = b.id"                       \
    " CROSS JOIN LATERAL (SELECT COALESCE(br.redeemed, 0) + count(*)"          \
    "   AS redeemed FROM coupons c WHERE c.batch_id = b.id"                    \
    "   AND c.redeemed_at >= COALESCE(br.as_of, '-infinity')) r"

/* SQL: above every id, for "before" on the newest page (an index bound
 * even in a generic plan, where "$1 IS NULL OR id < $1" is none). */
#define MV_SQL_ID_MAX "9223372036854775807"

#define MV_PAGE_LIMIT_DEFAULT 50
#define MV_PAGE_LIMIT_MAX 200
#define MV_ID_MAX 9223372036854775807LL

/* A cursor page: `limit` 1..200 (default 50) and `before` (an id; 0 for
 * the newest page).  Lists are newest first, by id. */
typedef struct {
    long long limit;
    long long before;
} mv_page;

/* Reads `limit` and `before` (problems recorded with mv_invalid). */
void mv_query_page(mv_req *q, mv_page *page);

/* The path parameter i as a positive id: 1 and *out set, or 0 with the
 * problem recorded under "id". */
int mv_path_id(mv_req *q, int i, long long *out);

/*
 * The start of an action on the row with the id of path parameter 0:
 * parses it (400), begins a transaction and runs lock, which takes $1 the
 * id and locks the row FOR UPDATE (no row: 404 not_found_code,
 * not_found_message).  0 with *id set and the transaction open, or 1 once
 * it has replied.
 */
int mv_admin_begin_locked_or_reply(mv_req *q, const mv_stmt *lock,
                                   const char *not_found_code,
                                   const char *not_found_message,
                                   long long *id);

/* Brings the roll-ups (stats_daily, batch_redeemed) up to the last
 * finished day: 0, or -1 on a database failure. */
int mv_admin_stats_refresh(mv_req *q);

/* One row of a result as a JSON object: a new reference. */
typedef json_t *(*mv_row_json_fn)(mv_req *q, const PGresult *res, int row);

/*
 * Replies a page of a list: runs st, planned with its parameters' values
 * (mv_db_exec_planned: filters decide the best plan), whose $1 is `before`
 * (NULL for the newest page) and $2 the number of rows to read (one more than
 * `limit`, to know whether more follow); params[0] and params[1] are set here,
 * the filters from params[2] on are the caller's.  The reply is
 * {"items": [row_json of each row shown], "nextBefore": the id (column
 * id_col) of the last row shown, or null on the last page}.
 */
int mv_reply_page(mv_req *q, const mv_page *page, const mv_stmt *st,
                  const char **params, int id_col, mv_row_json_fn row_json);

/* JSON values of result columns (new references): SQL NULL is null;
 * integers, booleans ('t'/'f'), text, and timestamptz as RFC 3339 UTC. */
json_t *mv_col_int(const PGresult *res, int row, int col);
json_t *mv_col_bool(const PGresult *res, int row, int col);
json_t *mv_col_text(const PGresult *res, int row, int col);
json_t *mv_col_time(mv_req *q, const PGresult *res, int row, int col);

/*
 * The audit trail.  mv_audit_ok records the current admin action as done,
 * with what it acted on (target, may be NULL), inside the caller's open
 * transaction so that it commits (or not) with the action: 0, or -1 on a
 * failure (the transaction is then failed).  The dispatcher calls
 * mv_audit_refused after an admin action answered without mv_audit_ok: it
 * records the status and error code in a statement of its own.
 */
int mv_audit_ok(mv_req *q, const char *target);
void mv_audit_refused(mv_req *q);

/* 1 for the requests that are admin actions (admin-only, not GET). */
int mv_audit_wanted(const mv_req *q);

#endif
