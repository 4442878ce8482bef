/*
 * handle_system.c — GET /health and GET /version: what load balancers and
 * operators poll; GET /openapi.json: the API's description.  Never
 * rate-limited.
 */
#include "mv.h"
/* Generated at build time from openapi/openapi.yaml (tools/openapi). */
#include "openapi_json.h"

/* A reply whose body is a constant: the polled routes build no JSON. */
#define MV_REPLY_CONST(q, status, text)                                        \
    mv_reply_raw(q, status, text, sizeof(text) - 1)

static const mv_stmt STMT_HEALTH = {"mv_health", 0, "SELECT 1"};

/* How old a database probe /health may answer from.  Load balancers poll
 * /health many times a second across many processes; one real query per
 * process per interval tells them the same within a second, without
 * making the probe itself a load on the database. */
#define HEALTH_PROBE_MAX_AGE apr_time_from_sec(1)

/* 1 if a real query reaches the database now. */
static int health_probe(mv_req *q)
{
    mv_db *db = mv_db_get(q);

    return db && mv_db_exec(db, &STMT_HEALTH, NULL) != NULL;
}

/*
 * 200 when the database answered a query at most HEALTH_PROBE_MAX_AGE ago,
 * 503 otherwise.  The last probe of this process and server is kept as
 * (time << 1 | ok) in one word, so threads share it without a lock; two
 * threads that find it stale at once both probe, which is harmless.
 */
static int health(mv_req *q)
{
    apr_uint64_t *cell = q->cfg->health_probe;
    apr_uint64_t last = __atomic_load_n(cell, __ATOMIC_RELAXED);
    apr_time_t now = apr_time_now(), at = (apr_time_t)(last >> 1);
    int ok = (int)(last & 1);

    if (!last || now - at >= HEALTH_PROBE_MAX_AGE || now < at) {
        ok = health_probe(q);
        __atomic_store_n(cell, ((apr_uint64_t)now << 1) | (apr_uint64_t)ok,
                         __ATOMIC_RELAXED);
    }
    if (!ok) {
        return MV_REPLY_CONST(q, HTTP_SERVICE_UNAVAILABLE,
                              "{\"status\":\"unavailable\","
                              "\"database\":\"down\"}");
    }
    return MV_REPLY_CONST(q, HTTP_OK,
                          "{\"status\":\"ok\",\"database\":\"ok\"}");
}

static int version(mv_req *q)
{
    return MV_REPLY_CONST(q, HTTP_OK,
                          "{\"name\":\"" MV_NAME "\",\"version\":\"" MV_VERSION
                          "\"}");
}

/* Clients may keep the document and revalidate it with its ETag. */
#define OPENAPI_CACHE_CONTROL "public, max-age=300, must-revalidate"

/*
 * GET /openapi.json: the document compiled into the module, with a strong
 * ETag (a hash of its content); a matching If-None-Match gets 304, judged
 * by httpd's own ap_meets_conditions.
 */
static int openapi(mv_req *q)
{
    request_rec *r = q->r;
    int st;

    apr_table_setn(r->headers_out, "ETag", MV_OPENAPI_ETAG);
    apr_table_setn(r->headers_out, "Cache-Control", OPENAPI_CACHE_CONTROL);
    if ((st = ap_meets_conditions(r)) != OK) {
        r->status = st;
        return st;
    }
    return mv_reply_raw(q, HTTP_OK, mv_openapi_json, MV_OPENAPI_JSON_LEN);
}

const mv_route mv_system_routes[] = {
    {"GET", "/health", health, 0, MV_RL_NONE},
    {"GET", "/version", version, 0, MV_RL_NONE},
    {"GET", "/openapi.json", openapi, 0, MV_RL_NONE},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
