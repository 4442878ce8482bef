/*
 * http.c — the plumbing every handler shares: JSON replies and error
 * bodies (SPEC §3), body fields, timestamps and credential extraction.
 * (The capped body reader is dispatch.c's: it runs before the handler.)
 */
#include "mv.h"
#include "mv_crypto.h"
#include "mv_json.h"
#include "mv_query.h"

/* Bytes of one decoded query value, at most (a search string, a time). */
#define QUERY_VALUE_MAX 512
#include "mv_validate.h"

/* ------------------------------------------------------------- replies */

static apr_status_t json_cleanup(void *v)
{
    json_decref(v);
    return APR_SUCCESS;
}

json_t *mv_json_pool(apr_pool_t *p, json_t *v)
{
    if (v) {
        apr_pool_cleanup_register(p, v, json_cleanup, apr_pool_cleanup_null);
    }
    return v;
}

int mv_reply_raw(mv_req *q, int status, const char *json, apr_size_t len)
{
    request_rec *r = q->r;

    if (q->idem) {
        /* Stored with the effect and committed first (idempotency.c). */
        return mv_idempotency_reply(q, status, json, len);
    }
    /* An error ends the request's transaction: nothing of it may stay. */
    if (status >= 400 && q->db) {
        mv_db_rollback_all(q->db);
    }
    r->status = status;
    ap_set_content_type(r, "application/json");
    /* Answers are not cached, unless the handler said how they may be. */
    if (!apr_table_get(r->headers_out, "Cache-Control")) {
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    }
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, len);
    if (!r->header_only) {
        ap_rwrite(json, (int)len, r);
    }
    return OK;
}

int mv_reply_json(mv_req *q, int status, json_t *body)
{
    static const char failed[] =
        "{\"error\":\"Internal error.\",\"code\":\"internal_error\"}";
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int rc;

    json_decref(body);
    if (!text) {
        return mv_reply_raw(q, HTTP_INTERNAL_SERVER_ERROR, failed,
                            sizeof failed - 1);
    }
    rc = mv_reply_raw(q, status, text, strlen(text));
    free(text);
    return rc;
}

int mv_reply_error(mv_req *q, int status, const char *code, const char *message)
{
    /* Kept for the audit trail of refused admin actions (admin.c). */
    apr_table_setn(q->r->notes, "mv-error-code", code);
    return mv_reply_json(q, status, mv_error_body(code, message, NULL));
}

int mv_reply_user_deleted(mv_req *q)
{
    return mv_reply_error(q, HTTP_UNAUTHORIZED, "unauthorized",
                          "A valid access token is required.");
}

int mv_reply_invalid(mv_req *q)
{
    apr_table_setn(q->r->notes, "mv-error-code", "validation_failed");
    return mv_reply_json(q, HTTP_BAD_REQUEST,
                         mv_error_body("validation_failed",
                                       "The request has invalid fields.",
                                       q->invalid));
}

/* -------------------------------------------------------------- fields */

/* The request's field-error object, made on first use. */
static json_t *errors(mv_req *q)
{
    if (!q->invalid) {
        q->invalid = mv_json_pool(q->r->pool, json_object());
    }
    return q->invalid;
}

void mv_invalid(mv_req *q, const char *field, const char *problem)
{
    mv_fields_invalid(errors(q), field, problem);
}

int mv_has_invalid(const mv_req *q)
{
    return q->invalid && json_object_size(q->invalid) > 0;
}

const char *mv_body_string(mv_req *q, const char *field, int required)
{
    return mv_fields_string(q->body, errors(q), field, required);
}

int mv_body_int(mv_req *q, const char *field, apr_int64_t min, apr_int64_t max,
                int required, apr_int64_t *out)
{
    int64_t v;

    if (!mv_fields_int(q->body, errors(q), field, min, max, required, &v)) {
        return 0;
    }
    *out = v;
    return 1;
}

int mv_body_time(mv_req *q, const char *field, int required, apr_time_t *out)
{
    const char *s = mv_body_string(q, field, required);
    int64_t usec;

    if (!s) {
        return 0;
    }
    if (mv_rfc3339_parse(s, &usec) != 0) {
        mv_invalid(q, field,
                   "must be an RFC 3339 timestamp in years 0001-9999");
        return 0;
    }
    *out = usec;
    return 1;
}

const char *mv_time_format(apr_pool_t *p, apr_time_t t)
{
    char *out = apr_palloc(p, MV_RFC3339_LEN + 1);

    return mv_rfc3339_format(t, out) == 0 ? out : NULL;
}

/* -------------------------------------------------------- query string */

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
    int found = mv_query_get(q->r->args, name, v, sizeof v);

    if (found == 0) {
        return 0;
    }
    if (found < 0 || !mv_parse_id(v, max, out)) {
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

/* --------------------------------------------------------------- auth */

int mv_auth_admin(mv_req *q)
{
    const char *key = apr_table_get(q->r->headers_in, "X-Admin-Key");

    if (!key) {
        key = apr_table_get(q->r->headers_in, "X-Api-Key");
    }
    if (!key || !q->cfg->admin_key.bytes) {
        return 0;
    }
    return mv_ct_equal(key, strlen(key), q->cfg->admin_key.bytes,
                       q->cfg->admin_key.len);
}

const char *mv_auth_bearer_token(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");

    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        return NULL;
    }
    h += 7;
    while (*h == ' ') {
        h++;
    }
    return *h ? h : NULL;
}
