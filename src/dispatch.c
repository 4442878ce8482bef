/*
 * dispatch.c — the front door of every request: find the route (404, 405
 * with Allow), count it against its rate group (429), check the
 * credentials the route asks for (401, 403), read and parse the JSON body
 * (415, 413, 400), claim an Idempotency-Key (idempotency.c), then run the
 * handler.
 */
#include "mv.h"
#include "mv_accounts.h"
#include "mv_admin.h"
#include "mv_jwt.h"

/* Every route group of the module; each ends with a NULL method. */
static const mv_route *const route_groups[] = {
    mv_system_routes,          mv_auth_routes,
    mv_invite_routes,          mv_otp_routes,
    mv_coupon_routes,          mv_scan_routes,
    mv_wallet_routes,          mv_admin_invite_routes,
    mv_admin_user_routes,      mv_admin_batch_routes,
    mv_admin_analytics_routes, NULL,
};

typedef enum { FOUND, WRONG_METHOD, NOT_FOUND } lookup_result;

/*
 * Finds the route for (method, path).  On FOUND, *route and q->param are
 * set; on WRONG_METHOD, *allow lists the methods the path does accept.
 */
static lookup_result route_lookup(mv_req *q, const char *method,
                                  const char *path, const mv_route **route,
                                  const char **allow)
{
    const mv_route *const *g;
    const mv_route *rt;
    mv_span span[MV_ROUTE_MAX_PARAMS];
    int n, i;

    *allow = NULL;
    for (g = route_groups; *g; g++) {
        for (rt = *g; rt->method; rt++) {
            if ((n = mv_path_match(rt->path, path, span)) < 0) {
                continue;
            }
            if (strcmp(rt->method, method) != 0) {
                *allow = *allow ? apr_pstrcat(q->r->pool, *allow, ", ",
                                              rt->method, NULL)
                                : rt->method;
                continue;
            }
            for (i = 0; i < n; i++) {
                q->param[i] =
                    apr_pstrmemdup(q->r->pool, path + span[i].off, span[i].len);
            }
            *route = rt;
            return FOUND;
        }
    }
    return *allow ? WRONG_METHOD : NOT_FOUND;
}

/* 1 if the media type is application/json, parameters allowed. */
static int is_json_content_type(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    apr_size_t n = sizeof("application/json") - 1;

    if (!ct) {
        return 0;
    }
    while (*ct == ' ') {
        ct++;
    }
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static ap_filter_rec_t *body_error_filter;

/*
 * Output filter present while the module reads a body.  httpd's body
 * reader answers a malformed body (a bad chunk line, a chunk size that
 * overflows) by sending an error bucket down the output filters, where
 * the header filter would turn it into httpd's HTML error page; this
 * filter takes the bucket instead and keeps its status in *f->ctx, so
 * the module answers with its JSON error (SPEC §3).
 */
static apr_status_t catch_body_error(ap_filter_t *f, apr_bucket_brigade *bb)
{
    apr_bucket *b;

    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        if (AP_BUCKET_IS_ERROR(b)) {
            *(int *)f->ctx = ((ap_bucket_error *)b->data)->status;
            apr_brigade_cleanup(bb);
            /* The EOS that came with it marked the response finished
             * (ap_pass_brigade); nothing was sent, so it is not. */
            f->r->eos_sent = 0;
            return AP_FILTER_ERROR;
        }
    }
    return ap_pass_brigade(f->next, bb);
}

void mv_dispatch_register(void)
{
    body_error_filter = ap_register_output_filter(
        "MOCAVERSE_BODY_ERROR", catch_body_error, NULL, AP_FTYPE_RESOURCE);
}

/*
 * Reads the body into data (cap bytes from r->pool, grown as needed)
 * until EOS, under MV_BODY_MAX.  Returns OK with *buf and *len set, or
 * the status httpd's reader reported (*reported, or rv mapped: 408 for
 * a timeout), or 413.
 */
static int read_body_until_eos(request_rec *r, apr_size_t cap,
                               const int *reported, char **buf, apr_size_t *len)
{
    apr_bucket_brigade *bb =
        apr_brigade_create(r->pool, r->connection->bucket_alloc);
    char *data = apr_palloc(r->pool, cap);
    apr_size_t used = 0;
    int seen_eos = 0;

    while (!seen_eos) {
        apr_bucket *b;
        apr_status_t rv =
            ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                           APR_BLOCK_READ, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            return *reported ? *reported
                             : ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *chunk;
            apr_size_t n;

            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            if (apr_bucket_read(b, &chunk, &n, APR_BLOCK_READ) != APR_SUCCESS) {
                return HTTP_BAD_REQUEST;
            }
            if (used + n > MV_BODY_MAX) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            if (used + n + 1 > cap) {
                char *bigger;
                while (used + n + 1 > cap) {
                    cap *= 2;
                }
                bigger = apr_palloc(r->pool, cap);
                memcpy(bigger, data, used);
                data = bigger;
            }
            memcpy(data + used, chunk, n);
            used += n;
        }
        apr_brigade_cleanup(bb);
    }
    data[used] = '\0';
    *buf = data;
    *len = used;
    return OK;
}

/*
 * Reads the whole body, chunked or not, under MV_BODY_MAX.  Returns OK
 * with *buf and *len set (from r->pool), or the HTTP status to answer
 * with: 413, 408 (the body did not arrive in time), or 400.
 */
static int read_body(request_rec *r, char **buf, apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t cap = 1024;
    int reported = 0, st;
    ap_filter_t *catcher;

    if (cl) {
        apr_off_t n;
        if (apr_strtoff(&n, cl, NULL, 10) != APR_SUCCESS || n < 0) {
            return HTTP_BAD_REQUEST;
        }
        if (n > MV_BODY_MAX) {
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
        cap = (apr_size_t)n + 1;
    }
    catcher = ap_add_output_filter_handle(body_error_filter, &reported, r,
                                          r->connection);
    st = read_body_until_eos(r, cap, &reported, buf, len);
    ap_remove_output_filter(catcher);
    if (st == OK || st == HTTP_REQUEST_ENTITY_TOO_LARGE ||
        st == HTTP_REQUEST_TIME_OUT) {
        return st;
    }
    return HTTP_BAD_REQUEST;
}

/* Replies with an error and returns 1: "this request is answered". */
static int refuse(mv_req *q, int status, const char *code, const char *msg)
{
    mv_reply_error(q, status, code, msg);
    return 1;
}

/* Parses the request body into q->body, or replies and returns nonzero. */
static int parse_body_or_reply(mv_req *q)
{
    request_rec *r = q->r;
    json_error_t jerr;
    apr_size_t len = 0;
    char *buf = NULL;
    int st;

    if (!is_json_content_type(r)) {
        return refuse(q, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                      "The body must be application/json.");
    }
    if ((st = read_body(r, &buf, &len)) != OK) {
        /* The rest of the body is not read: close instead of draining it. */
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    if (st == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return refuse(q, st, "body_too_large",
                      "The body is larger than 64 KiB.");
    }
    if (st == HTTP_REQUEST_TIME_OUT) {
        return refuse(q, st, "request_timeout",
                      "The body did not arrive in time.");
    }
    if (st != OK) {
        return refuse(q, st, "invalid_body", "The body could not be read.");
    }
    q->body = mv_json_pool(r->pool,
                           json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr));
    if (!q->body || !json_is_object(q->body)) {
        return refuse(q, HTTP_BAD_REQUEST, "invalid_json",
                      "The body must be a JSON object.");
    }
    return 0;
}

/* Accepts a valid access token: sets q->user_id and returns 1. */
static int authenticate_bearer(mv_req *q)
{
    const char *token = mv_auth_bearer_token(q->r);
    long long uid;

    if (!token ||
        mv_jwt_verify_with(q->cfg->jwt_key, q->cfg->issuer, token,
                           (long long)apr_time_sec(q->r->request_time),
                           &uid) != MV_JWT_OK) {
        return 0;
    }
    q->user_id = uid;
    return 1;
}

/* Checks the route's credentials, or replies 401/403 and returns nonzero. */
static int authorize_or_reply(mv_req *q)
{
    unsigned need = q->route->flags & (MV_BEARER | MV_ADMIN);

    if (need & MV_ADMIN) {
        q->is_admin = mv_auth_admin(q);
    }
    if ((need & MV_BEARER) && !q->is_admin && !authenticate_bearer(q)) {
        return refuse(q, HTTP_UNAUTHORIZED, "unauthorized",
                      "A valid access token is required.");
    }
    if (need == MV_ADMIN && !q->is_admin) {
        return refuse(q, HTTP_FORBIDDEN, "forbidden",
                      "A valid admin key is required.");
    }
    return 0;
}

/* A bearer whose account was disabled or deleted since the token was
 * signed: replies 401 (or the database error) and returns nonzero. */
static int account_refused_or_reply(mv_req *q)
{
    int active;

    if (!q->user_id || q->is_admin || (q->route->flags & MV_ACCOUNT_CHECKED)) {
        return 0;
    }
    if ((active = mv_accounts_user_active(q)) < 0) {
        mv_reply_db_error(q);
        return 1;
    }
    return active ? 0
                  : refuse(q, HTTP_UNAUTHORIZED, "unauthorized",
                           "A valid access token is required.");
}

int mv_dispatch(request_rec *r)
{
    mv_req *q = apr_pcalloc(r->pool, sizeof(*q));
    const char *path, *allow, *method;
    int per_user, rc;

    q->r = r;
    q->cfg = ap_get_module_config(r->server->module_config, &mocaverse_module);
    path = mv_path_relative(mv_config_base(r), r->uri);
    /* HEAD is answered as GET without a body (r->header_only). */
    method = r->method_number == M_GET ? "GET" : r->method;

    switch (path ? route_lookup(q, method, path, &q->route, &allow)
                 : NOT_FOUND) {
    case NOT_FOUND:
        return mv_reply_error(q, HTTP_NOT_FOUND, "not_found", "No such route.");
    case WRONG_METHOD:
        apr_table_setn(r->headers_out, "Allow", allow);
        return mv_reply_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                              "This route does not accept that method.");
    case FOUND:
        break;
    }
    /*
     * Per-IP groups count every routed request, so guessing tokens or keys
     * is limited too; the per-user group counts once the user is known.
     * A bearer's account is checked (disabled, deleted) after the limiter,
     * so a flood costs no database read.  Credentials before the body: a
     * body is read only for callers who may send it.
     */
    per_user = q->route->rate_group != MV_RL_NONE &&
               mv_rl_groups[q->route->rate_group].per_user;
    if ((!per_user && mv_ratelimit_or_reply(q)) || authorize_or_reply(q) ||
        (per_user && mv_ratelimit_or_reply(q)) || account_refused_or_reply(q) ||
        ((q->route->flags & MV_BODY) && parse_body_or_reply(q)) ||
        ((q->route->flags & MV_IDEMPOTENT) &&
         mv_idempotency_claim_or_reply(q))) {
        return OK;
    }
    rc = q->route->handler(q);
    if (mv_audit_wanted(q)) {
        mv_audit_refused(q);
    }
    return rc;
}
