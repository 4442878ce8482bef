/*
 * dispatch.c — the front door of every request: find the route (404, 405
 * with Allow), count it against its rate group (429), check the
 * credentials the route asks for (401, 403), read and parse the JSON body
 * (415, 413, 400), then run the handler.
 */
#include "mv.h"
#include "mv_jwt.h"

#include "http_core.h"

/* Every route group of the module; each ends with a NULL method. */
static const mv_route *const route_groups[] = {
    mv_system_routes, mv_auth_routes, mv_invite_routes, mv_otp_routes,
    mv_coupon_routes, mv_scan_routes, mv_wallet_routes, NULL,
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

/*
 * Reads the whole body, chunked or not, under MV_BODY_MAX.  Returns OK
 * with *buf and *len set (from r->pool), or the HTTP status to answer with.
 */
static int read_body(request_rec *r, char **buf, apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_bucket_brigade *bb;
    apr_size_t cap = 1024, used = 0;
    char *data;
    int seen_eos = 0;

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
    data = apr_palloc(r->pool, cap);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!seen_eos) {
        apr_bucket *b;
        apr_status_t rv =
            ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                           APR_BLOCK_READ, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            int st = ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
            return st == HTTP_REQUEST_ENTITY_TOO_LARGE ? st : HTTP_BAD_REQUEST;
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
    apr_size_t len;
    char *buf;
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

/*
 * The path the routes are relative to: that of the <Location> whose
 * SetHandler sent the request here, without trailing slashes ("" for "/").
 * The module has no per-directory directive, so httpd never makes a
 * per-directory config of ours for that section; core's holds the path of
 * the section merged last, the innermost <Location> of the request.  A
 * path that does not prefix the URI (a handler set outside a <Location>)
 * gives "": routes then start at the root.
 */
static const char *api_base(request_rec *r)
{
    const core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *d = core ? core->d : NULL;
    apr_size_t len = d ? strlen(d) : 0;

    while (len > 0 && d[len - 1] == '/') {
        len--;
    }
    if (len == 0 || core->r || strncmp(r->uri, d, len) != 0) {
        return "";
    }
    return apr_pstrmemdup(r->pool, d, len);
}

int mv_dispatch(request_rec *r)
{
    mv_req *q = apr_pcalloc(r->pool, sizeof(*q));
    const char *path, *allow, *method;
    int per_user;

    q->r = r;
    q->cfg = ap_get_module_config(r->server->module_config, &mocaverse_module);
    path = mv_path_relative(api_base(r), r->uri);
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
     * Credentials before the body: a body is read only for callers who may
     * send it.
     */
    per_user = q->route->rate_group != MV_RL_NONE &&
               mv_rl_groups[q->route->rate_group].per_user;
    if ((!per_user && mv_ratelimit_or_reply(q)) || authorize_or_reply(q) ||
        (per_user && mv_ratelimit_or_reply(q)) ||
        ((q->route->flags & MV_BODY) && parse_body_or_reply(q))) {
        return OK;
    }
    return q->route->handler(q);
}
