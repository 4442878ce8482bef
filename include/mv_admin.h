/*
 * mv_admin.h — what the admin route files (src/handle_admin_*.c) share:
 * query-string parameters, cursor pages, JSON values from result columns,
 * and the audit trail of admin actions (docs/admin.md).
 */
#ifndef MV_ADMIN_H
#define MV_ADMIN_H

#include "mv.h"
#include "mv_admin_rules.h"

#define MV_PAGE_LIMIT_DEFAULT 50
#define MV_PAGE_LIMIT_MAX 200
#define MV_ID_MAX 9223372036854775807LL

/* A cursor page: `limit` 1..200 (default 50) and `before` (an id; 0 for
 * the newest page).  Lists are newest first, by id. */
typedef struct {
    long long limit;
    long long before;
} mv_page;

/*
 * Query-string readers.  Each records a problem with mv_invalid (400
 * validation_failed once the handler checks mv_has_invalid) for a value
 * that is malformed, repeated or out of range.
 *
 * mv_query_int: 1 and *out set for an integer in [1, max]; 0 when absent
 * or invalid.  mv_query_text: the decoded value (r->pool), NULL when
 * absent or invalid (at most max bytes).  mv_query_time: 1 and *out
 * (microseconds) for an RFC 3339 time.  mv_query_choice: the index of the
 * value in the NULL-terminated choices, -1 when absent or not one of them.
 * mv_query_page: reads limit and before.
 */
int mv_query_int(mv_req *q, const char *name, long long max, long long *out);
const char *mv_query_text(mv_req *q, const char *name, apr_size_t max);
int mv_query_time(mv_req *q, const char *name, apr_time_t *out);
int mv_query_choice(mv_req *q, const char *name, const char *const *choices);
void mv_query_page(mv_req *q, mv_page *page);

/* The path parameter i as a positive id: 1 and *out set, or 0 with the
 * problem recorded under "id". */
int mv_path_id(mv_req *q, int i, long long *out);

/* Statement parameters of a page: `before` (NULL for the newest page) and
 * one more than `limit` rows, so the reply knows whether more follow. */
const char *mv_page_before(mv_req *q, const mv_page *page);
const char *mv_page_fetch(mv_req *q, const mv_page *page);
/*
 * {"items": items, "nextBefore": id of the last item shown or null}: of
 * the n rows of res, at most page->limit are items (res column id_col
 * holds the id).  Steals items (one object per row, in order) and drops
 * the extra one.  A new reference.
 */
json_t *mv_page_reply(const mv_page *page, const PGresult *res, int id_col,
                      json_t *items);

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
