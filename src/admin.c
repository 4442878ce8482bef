/*
 * admin.c — plumbing of the admin routes: query-string parameters,
 * cursor pages, JSON from result columns, and the audit trail.
 */
#include "mv_admin.h"
#include "mv_json.h"
#include "mv_query.h"
#include "mv_validate.h"

/* Bytes of one decoded query value, at most (a search string, a time). */
#define QUERY_VALUE_MAX 512
/* r->notes keys: the error code of the reply (http.c), and "audited". */
#define NOTE_ERROR_CODE "mv-error-code"
#define NOTE_AUDITED "mv-audited"

/* ------------------------------------------------------- query string */

/* The raw decoded value of name: 1 found, 0 absent, -1 recorded invalid. */
static int query_value(mv_req *q, const char *name, char *out, size_t outsz)
{
    int found = mv_query_get(q->r->args, name, out, outsz);

    if (found < 0) {
        mv_invalid(q, name, "is malformed, repeated or too long");
    }
    return found;
}

int mv_query_int(mv_req *q, const char *name, long long max, long long *out)
{
    char v[QUERY_VALUE_MAX];
    int found = query_value(q, name, v, sizeof v);

    if (found <= 0) {
        return 0;
    }
    if (!mv_parse_id(v, max, out)) {
        mv_invalid(
            q, name,
            apr_psprintf(q->r->pool,
                         "must be an integer from 1 to %" APR_INT64_T_FMT,
                         (apr_int64_t)max));
        return 0;
    }
    return 1;
}

const char *mv_query_text(mv_req *q, const char *name, apr_size_t max)
{
    char v[QUERY_VALUE_MAX];

    if (query_value(q, name, v, sizeof v) <= 0) {
        return NULL;
    }
    if (strlen(v) > max) {
        mv_invalid(q, name, "is too long");
        return NULL;
    }
    return apr_pstrdup(q->r->pool, v);
}

int mv_query_time(mv_req *q, const char *name, apr_time_t *out)
{
    char v[QUERY_VALUE_MAX];
    int64_t usec;

    if (query_value(q, name, v, sizeof v) <= 0) {
        return 0;
    }
    if (mv_rfc3339_parse(v, &usec) != 0) {
        mv_invalid(q, name, "must be an RFC 3339 timestamp");
        return 0;
    }
    *out = usec;
    return 1;
}

int mv_query_choice(mv_req *q, const char *name, const char *const *choices)
{
    char v[QUERY_VALUE_MAX];
    int i;

    if (query_value(q, name, v, sizeof v) <= 0) {
        return -1;
    }
    for (i = 0; choices[i]; i++) {
        if (strcmp(v, choices[i]) == 0) {
            return i;
        }
    }
    mv_invalid(q, name, "is not one of the allowed values");
    return -1;
}

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

const char *mv_page_before(mv_req *q, const mv_page *page)
{
    return page->before ? mv_int_param(q, page->before) : NULL;
}

const char *mv_page_fetch(mv_req *q, const mv_page *page)
{
    return mv_int_param(q, page->limit + 1);
}

json_t *mv_page_reply(const mv_page *page, const PGresult *res, int id_col,
                      json_t *items)
{
    json_t *next = json_null();

    if (json_array_size(items) > (size_t)page->limit) {
        json_array_remove(items, (size_t)page->limit);
        next = mv_col_int(res, (int)page->limit - 1, id_col);
    }
    return json_pack("{s:o, s:o}", "items", items, "nextBefore", next);
}

/* --------------------------------------------------------------- columns */

json_t *mv_col_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col)
               ? json_null()
               : json_integer(apr_atoi64(PQgetvalue(res, row, col)));
}

json_t *mv_col_bool(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col)
               ? json_null()
               : json_boolean(*PQgetvalue(res, row, col) == 't');
}

json_t *mv_col_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col)
               ? json_null()
               : json_stringn(PQgetvalue(res, row, col),
                              (size_t)PQgetlength(res, row, col));
}

json_t *mv_col_time(mv_req *q, const PGresult *res, int row, int col)
{
    const char *t = mv_pg_time(q->r->pool, res, row, col);

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
