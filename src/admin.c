/*
 * admin.c — plumbing of the admin routes: cursor pages, JSON from result
 * columns, and the audit trail.  (Query-string readers are in http.c.)
 */
#include "mv_admin.h"
#include "mv_validate.h"

/* r->notes keys: the error code of the reply (http.c), and "audited". */
#define NOTE_ERROR_CODE "mv-error-code"
#define NOTE_AUDITED "mv-audited"

void mv_query_page(mv_req *q, mv_page *page)
{
    page->limit = MV_PAGE_LIMIT_DEFAULT;
    page->before = 0;
    mv_query_int(q, "limit", MV_PAGE_LIMIT_MAX, &page->limit);
    mv_query_int(q, "before", MV_ID_MAX, &page->before);
}

int mv_path_id(mv_req *q, int i, long long *out)
{
    if (!mv_parse_id(q->param[i], MV_ID_MAX, out)) {
        mv_invalid(q, "id", "must be a positive integer");
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- pages */

int mv_reply_page(mv_req *q, const mv_page *page, const mv_stmt *st,
                  const char **params, int id_col, mv_row_json_fn row_json)
{
    json_t *items, *next = json_null();
    PGresult *res;
    int i, n;

    params[0] = page->before ? mv_int_param(q, page->before) : NULL;
    params[1] = mv_int_param(q, page->limit + 1);
    if (!mv_db_get(q) || !(res = mv_db_exec_planned(q->db, st, params))) {
        return mv_reply_db_error(q);
    }
    n = mv_db_rows(res);
    if (n > page->limit) {
        n = (int)page->limit;
        next = mv_col_int(res, n - 1, id_col);
    }
    items = json_array();
    for (i = 0; i < n; i++) {
        json_array_append_new(items, row_json(q, res, i));
    }
    return mv_reply_json(
        q, HTTP_OK,
        json_pack("{s:o, s:o}", "items", items, "nextBefore", next));
}

int mv_admin_begin_locked_or_reply(mv_req *q, const mv_stmt *lock,
                                   const char *not_found_code,
                                   const char *not_found_message, long long *id)
{
    const char *params[1];
    PGresult *res;

    if (!mv_path_id(q, 0, id)) {
        mv_reply_invalid(q);
        return 1;
    }
    params[0] = mv_int_param(q, *id);
    if (!mv_db_get(q) || mv_db_begin(q->db) != 0 ||
        !(res = mv_db_exec(q->db, lock, params))) {
        mv_reply_db_error(q);
        return 1;
    }
    if (mv_db_rows(res) != 1) {
        mv_reply_error(q, HTTP_NOT_FOUND, not_found_code, not_found_message);
        return 1;
    }
    return 0;
}

static const mv_stmt STMT_STATS_REFRESH = {"mv_admin_stats_refresh", 0,
                                           "SELECT stats_refresh()"};

int mv_admin_stats_refresh(mv_req *q)
{
    return mv_db_get(q) && mv_db_exec(q->db, &STMT_STATS_REFRESH, NULL) ? 0
                                                                        : -1;
}

/* --------------------------------------------------------------- columns */

json_t *mv_col_int(const PGresult *res, int row, int col)
{
    return mv_db_text(res, row, col) ? json_integer(mv_db_int(res, row, col))
                                     : json_null();
}

json_t *mv_col_bool(const PGresult *res, int row, int col)
{
    return mv_db_text(res, row, col) ? json_boolean(mv_db_bool(res, row, col))
                                     : json_null();
}

json_t *mv_col_text(const PGresult *res, int row, int col)
{
    const char *text = mv_db_text(res, row, col);

    return text ? json_stringn(text, mv_db_len(res, row, col)) : json_null();
}

json_t *mv_col_time(mv_req *q, const PGresult *res, int row, int col)
{
    const char *t = mv_db_time(q->r->pool, res, row, col);

    return t ? json_string(t) : json_null();
}

/* ----------------------------------------------------------------- audit */

static const mv_stmt STMT_AUDIT = {
    "mv_admin_audit", 6,
    "INSERT INTO admin_audit (method, route, target, client_ip, status,"
    " outcome) VALUES ($1, $2, $3, $4, $5::integer, $6)"};

/* Writes one audit row: 0, or -1 on failure. */
static int audit_write(mv_req *q, const char *target, int status,
                       const char *outcome)
{
    const char *params[6];

    if (!mv_db_get(q)) {
        return -1;
    }
    params[0] = q->r->method;
    params[1] = q->route->path;
    params[2] = target;
    params[3] = q->r->useragent_ip;
    params[4] = mv_int_param(q, status);
    params[5] = outcome;
    return mv_db_exec(q->db, &STMT_AUDIT, params) ? 0 : -1;
}

int mv_audit_wanted(const mv_req *q)
{
    return q->is_admin && q->route &&
           (q->route->flags & (MV_ADMIN | MV_BEARER)) == MV_ADMIN &&
           strcmp(q->route->method, "GET") != 0;
}

int mv_audit_ok(mv_req *q, const char *target)
{
    apr_table_setn(q->r->notes, NOTE_AUDITED, "1");
    return audit_write(q, target, HTTP_OK, "ok");
}

void mv_audit_refused(mv_req *q)
{
    const char *code = apr_table_get(q->r->notes, NOTE_ERROR_CODE);

    if (apr_table_get(q->r->notes, NOTE_AUDITED) || q->r->status < 400) {
        return;
    }
    if (audit_write(q, q->param[0], q->r->status, code ? code : "error")) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, q->r,
                      "MV0501: could not audit a refused admin action on %s",
                      q->route->path);
    }
}
