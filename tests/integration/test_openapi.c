/*
 * The OpenAPI contract: GET /openapi.json (the built document, its ETag,
 * 304, never rate-limited), and the answers every route documents in
 * openapi/openapi.yaml that no other test needs: 415 on every body route,
 * 429 with Retry-After on every limited route, 503 on every database
 * route; 409 and 422 of Idempotency-Key on the admin POST routes (once
 * the document no longer marks it pending).  Every exchange here is also
 * validated against the document after the run
 * (tools/openapi/check-exchanges.cjs).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts_util.h"
#include "ratelimit_helpers.h"

/* Who a route asks for. */
typedef enum { NOBODY, BEARER, ADMIN } caller;

typedef struct {
    const char *method;
    const char *doc_path; /* as the document names it */
    const char *path;     /* as sent: "%lld" is the test user's id */
    const char *body;     /* a valid body, or NULL for routes without one */
    caller who;
} route;

/* Every route of the module that reads a body or touches the database,
 * with a body it accepts.  A route the document marks pending (not in
 * the code yet) is passed over until its marker is dropped. */
static const route routes[] = {
    {"POST", "/auth/register-with-email", "/auth/register-with-email",
     "{\"email\":\"x@example.com\",\"password\":\"correct horse\","
     "\"inviteCode\":\"ABCDEFGH\"}",
     NOBODY},
    {"POST", "/auth/login-with-email", "/auth/login-with-email",
     "{\"email\":\"x@example.com\",\"password\":\"correct horse\"}", NOBODY},
    {"POST", "/auth/refresh", "/auth/refresh",
     /* well-formed, never issued: only the database can say so */
     "{\"refreshToken\":\"tQGiP1FGBbA-IigDop2bK51MfwEJZBenn_z0UlWVb4o\"}",
     NOBODY},
    {"POST", "/auth/logout", "/auth/logout",
     "{\"refreshToken\":\"tQGiP1FGBbA-IigDop2bK51MfwEJZBenn_z0UlWVb4o\"}",
     NOBODY},
    {"POST", "/auth/otp", "/auth/otp", "{\"phone\":\"+4915100000001\"}",
     NOBODY},
    {"POST", "/auth/verify", "/auth/verify",
     "{\"phone\":\"+4915100000001\",\"otp\":\"123456\"}", NOBODY},
    {"GET", "/me", "/me", NULL, BEARER},
    {"GET", "/invites/me", "/invites/me", NULL, BEARER},
    {"POST", "/admin/invite-codes", "/admin/invite-codes",
     "{\"count\":1,\"uses\":1}", ADMIN},
    {"POST", "/coupons/generate", "/coupons/generate",
     "{\"count\":1,\"points\":5}", ADMIN},
    {"POST", "/scan", "/scan",
     "{\"token\":\"00000000-0000-4000-8000-000000000000\"}", BEARER},
    {"GET", "/users/{id}/wallet", "/users/%lld/wallet", NULL, BEARER},
    /* Issue 13's admin routes. */
    {"GET", "/admin/invite-codes", "/admin/invite-codes", NULL, ADMIN},
    {"PATCH", "/admin/invite-codes/{code}", "/admin/invite-codes/ABCDEFGH",
     "{\"disabled\":true}", ADMIN},
    {"GET", "/admin/users", "/admin/users", NULL, ADMIN},
    {"GET", "/admin/users/{id}", "/admin/users/%lld", NULL, ADMIN},
    {"POST", "/admin/users/{id}/disable", "/admin/users/999999999/disable",
     NULL, ADMIN},
    {"POST", "/admin/users/{id}/enable", "/admin/users/999999999/enable", NULL,
     ADMIN},
    {"POST", "/admin/users/{id}/revoke-sessions",
     "/admin/users/999999999/revoke-sessions", NULL, ADMIN},
    {"GET", "/admin/coupon-batches", "/admin/coupon-batches", NULL, ADMIN},
    {"GET", "/admin/coupon-batches/{id}/coupons.csv",
     "/admin/coupon-batches/999999999/coupons.csv", NULL, ADMIN},
    {"POST", "/admin/coupon-batches/{id}/void",
     "/admin/coupon-batches/999999999/void", NULL, ADMIN},
    {"GET", "/admin/analytics", "/admin/analytics", NULL, ADMIN},
    {"GET", "/admin/audit", "/admin/audit", NULL, ADMIN},
};
#define NROUTES (sizeof(routes) / sizeof(*routes))

static char *access_token;
static long long user_id;

static int make_user(void **state)
{
    char *email = new_email();
    mv_resp *r = new_account(email);
    (void)state;
    access_token = take_str(r, "accessToken");
    user_id = user_id_of(r);
    mv_resp_free(r);
    free(email);
    return 0;
}

/* The whole content of build/openapi.json (the Makefile runs the tests
 * from the project directory), without its final newline. */
static char *built_document(void)
{
    FILE *f = fopen("build/openapi.json", "r");
    char *text = NULL;
    size_t cap = 0;
    ssize_t len;

    assert_non_null(f);
    len = getdelim(&text, &cap, '\0', f);
    fclose(f);
    assert_true(len > 0);
    while (len > 0 && text[len - 1] == '\n') {
        text[--len] = '\0';
    }
    return text;
}

/* 1 when the document marks rt's operation x-mocaverse-pending. */
static int route_pending(const route *rt)
{
    static json_t *doc;
    char method[8];
    json_t *op;
    size_t i;

    if (!doc) {
        char *text = built_document();
        doc = json_loads(text, 0, NULL);
        free(text);
        assert_non_null(doc);
    }
    for (i = 0; rt->method[i] && i < sizeof method - 1; i++) {
        method[i] = (char)tolower((unsigned char)rt->method[i]);
    }
    method[i] = '\0';
    op = json_object_get(
        json_object_get(json_object_get(doc, "paths"), rt->doc_path), method);
    assert_non_null(op);
    return json_object_get(op, "x-mocaverse-pending") != NULL;
}

/* Sends route rt to base with its credentials, its body (or `body`, when
 * given) and the Content-Type `ctype`. */
static mv_resp *send_route(const char *base, const route *rt, const char *body,
                           const char *ctype)
{
    char path[128], auth[2048], type[128];
    const char *headers[3] = {NULL, NULL, NULL};
    int n = 0;
    mv_resp *r;

    snprintf(path, sizeof path, rt->path, user_id);
    if (rt->who == BEARER) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", access_token);
        headers[n++] = auth;
    } else if (rt->who == ADMIN) {
        headers[n++] = mv_admin_headers()[0];
    }
    if (ctype) {
        snprintf(type, sizeof type, "Content-Type: %s", ctype);
        headers[n++] = type;
    }
    r = mv_http_at(base, rt->method, path, body ? body : rt->body, headers);
    return r;
}

/* ---------------------------------------------------------- /openapi.json */

static void openapi_json_is_the_document_built_into_the_module(void **state)
{
    mv_resp *r = mv_http("GET", "/openapi.json", NULL, NULL);
    char *doc = built_document(), *ct = mv_resp_header(r, "Content-Type");
    char *etag = mv_resp_header(r, "ETag");
    char *cache = mv_resp_header(r, "Cache-Control");
    (void)state;
    assert_int_equal(r->status, 200);
    assert_string_equal(ct, "application/json");
    assert_string_equal(r->body, doc);
    assert_string_equal(json_string_value(json_object_get(r->json, "openapi")),
                        "3.1.0");
    /* A strong tag: quoted, no W/ prefix. */
    assert_non_null(etag);
    assert_true(etag[0] == '"' && etag[strlen(etag) - 1] == '"');
    assert_non_null(strstr(cache, "max-age="));
    assert_null(strstr(cache, "no-store"));
    free(doc);
    free(ct);
    free(etag);
    free(cache);
    mv_resp_free(r);
}

static void openapi_json_answers_304_to_its_own_etag(void **state)
{
    mv_resp *r = mv_http("GET", "/openapi.json", NULL, NULL);
    char *etag = mv_resp_header(r, "ETag"), *line, *weak;
    const char *headers[2] = {NULL, NULL};
    mv_resp *again;
    (void)state;

    assert_true(asprintf(&line, "If-None-Match: %s", etag) > 0);
    headers[0] = line;
    again = mv_http("GET", "/openapi.json", NULL, headers);
    assert_int_equal(again->status, 304);
    assert_int_equal(again->body_len, 0);
    mv_resp_free(again);

    /* If-None-Match compares weakly (RFC 9110 §13.1.2); a list works. */
    assert_true(asprintf(&weak, "If-None-Match: \"other\", W/%s", etag) > 0);
    headers[0] = weak;
    again = mv_http("GET", "/openapi.json", NULL, headers);
    assert_int_equal(again->status, 304);
    mv_resp_free(again);

    headers[0] = "If-None-Match: \"not-the-tag\"";
    again = mv_http("GET", "/openapi.json", NULL, headers);
    assert_int_equal(again->status, 200);
    assert_int_equal(again->body_len, r->body_len);
    mv_resp_free(again);

    again = mv_http("HEAD", "/openapi.json", NULL, NULL);
    assert_int_equal(again->status, 200);
    assert_int_equal(again->body_len, 0);
    mv_resp_free(again);
    free(line);
    free(weak);
    free(etag);
    mv_resp_free(r);
}

/* ------------------------------------------------------------------ 415 */

static void every_body_route_refuses_another_media_type_with_415(void **state)
{
    (void)state;
    for (size_t i = 0; i < NROUTES; i++) {
        mv_resp *r;
        if (!routes[i].body || route_pending(&routes[i])) {
            continue;
        }
        r = send_route(NULL, &routes[i], NULL, "text/plain");
        if (r->status != 415) {
            fprintf(stderr, "%s %s\n", routes[i].method, routes[i].path);
        }
        mv_assert_error(r, 415, "unsupported_media_type");
        mv_resp_free(r);
    }
}

/* ------------------------------------------------------------------ 429 */

#define LIMITED "openapi-limited"

/* With every group limited to one request a minute, the second request to
 * every limited route is 429 with Retry-After and the RateLimit headers;
 * /openapi.json, /health and /version are never counted. */
static void every_limited_route_answers_429_with_retry_after(void **state)
{
    char *base = rl_start(LIMITED, "MocaverseRateLimit auth 1 60\n"
                                   "MocaverseRateLimit scan 1 60\n"
                                   "MocaverseRateLimit api 1 60\n");
    (void)state;
    for (int i = 0; i < 20; i++) {
        const char *never[] = {"/openapi.json", "/health", "/version"};
        mv_resp *r = mv_http_at(base, "GET", never[i % 3], NULL, NULL);
        char *limit = mv_resp_header(r, "RateLimit");
        assert_int_equal(r->status, 200);
        assert_null(limit);
        mv_resp_free(r);
    }
    for (size_t i = 0; i < NROUTES; i++) {
        /* The first request of a group may pass; every later one is 429. */
        mv_resp *first;
        if (route_pending(&routes[i])) {
            continue;
        }
        first = send_route(base, &routes[i], NULL, NULL);
        mv_resp *r = send_route(base, &routes[i], NULL, NULL);
        char *retry = mv_resp_header(r, "Retry-After");
        char *policy = mv_resp_header(r, "RateLimit-Policy");

        if (r->status != 429) {
            fprintf(stderr, "%s %s: %ld %s\n", routes[i].method, routes[i].path,
                    r->status, r->body);
        }
        mv_assert_error(r, 429, "rate_limited");
        assert_non_null(retry);
        assert_true(atoi(retry) >= 1);
        assert_non_null(strstr(policy, ";q=1;w=60"));
        free(retry);
        free(policy);
        mv_resp_free(first);
        mv_resp_free(r);
    }
    rl_stop(LIMITED);
    free(base);
}

/* ------------------------------------------------------------------ 503 */

#define NO_DATABASE "openapi-nodb"

/* An instance whose database refuses connections: every route that needs
 * the database answers 503 unavailable, and /health says so too. */
static void
every_database_route_answers_503_when_it_is_unreachable(void **state)
{
    /* Nothing listens on port 1; mod_dbd takes the last DBDParams. */
    char *base = rl_start(NO_DATABASE,
                          "DBDParams \"host=127.0.0.1 port=1 dbname=mocaverse "
                          "user=mocaverse connect_timeout=2\"\n");
    mv_resp *r;
    (void)state;

    r = mv_http_at(base, "GET", "/health", NULL, NULL);
    assert_int_equal(r->status, 503);
    assert_string_equal(mv_json_str(r, "database"), "down");
    mv_resp_free(r);
    for (size_t i = 0; i < NROUTES; i++) {
        if (route_pending(&routes[i])) {
            continue;
        }
        r = send_route(base, &routes[i], NULL, NULL);
        if (r->status != 503) {
            fprintf(stderr, "%s %s: %ld %s\n", routes[i].method, routes[i].path,
                    r->status, r->body);
        }
        mv_assert_error(r, 503, "unavailable");
        mv_resp_free(r);
    }
    rl_stop(NO_DATABASE);
    free(base);
}

/* --------------------------------------------------- Idempotency-Key */

/* The POST routes that take an Idempotency-Key and write one table: a
 * test holding that table's lock keeps the first request running. */
typedef struct {
    const char *path;
    const char *table;
    const char *body;
    const char *other_body;
} idempotent_route;

static const idempotent_route idempotent[] = {
    {"/coupons/generate", "coupon_batches", "{\"count\":1,\"points\":5}",
     "{\"count\":1,\"points\":6}"},
    {"/admin/invite-codes", "invite_codes", "{\"count\":1,\"uses\":1}",
     "{\"count\":1,\"uses\":2}"},
};

typedef struct {
    const idempotent_route *rt;
    const char *key_line;
    mv_resp *resp;
} idem_call;

static mv_resp *idem_post(const idempotent_route *rt, const char *key_line,
                          const char *body)
{
    const char *headers[] = {mv_admin_headers()[0], key_line, NULL};
    return mv_http("POST", rt->path, body, headers);
}

static void *idem_first(void *v)
{
    idem_call *c = v;
    c->resp = idem_post(c->rt, c->key_line, c->rt->body);
    return NULL;
}

/* 1 while the document marks Idempotency-Key x-mocaverse-pending (issue
 * 10 not in the code yet): the test of its answers waits for the marker
 * to be dropped (openapi/README.md). */
static int idempotency_pending(void)
{
    char *text = built_document();
    json_t *doc = json_loads(text, 0, NULL);
    json_t *param = json_object_get(
        json_object_get(json_object_get(doc, "components"), "parameters"),
        "IdempotencyKey");
    int pending = json_object_get(param, "x-mocaverse-pending") != NULL;

    assert_non_null(param);
    json_decref(doc);
    free(text);
    return pending;
}

/* The same key while the first request waits on a lock the test holds is
 * 409 idempotency_key_in_flight; once the lock goes, the first answers
 * 200, and the same key with another body is 422. */
static void idempotency_key_in_flight_409_and_reused_422(void **state)
{
    (void)state;
    if (idempotency_pending()) {
        fprintf(stderr, "Idempotency-Key is x-mocaverse-pending in the "
                        "document: skipped until issue 10 lands\n");
        skip();
    }
    for (size_t i = 0; i < sizeof idempotent / sizeof *idempotent; i++) {
        const idempotent_route *rt = &idempotent[i];
        char *key = mv_unique("openapi-key"), *line;
        idem_call first = {rt, NULL, NULL};
        pthread_t t;
        mv_resp *r;
        int waiting = 0;

        assert_true(asprintf(&line, "Idempotency-Key: %s", key) > 0);
        first.key_line = line;
        mv_sql_exec("BEGIN");
        mv_sql_exec("LOCK TABLE %s IN EXCLUSIVE MODE", rt->table);
        assert_int_equal(pthread_create(&t, NULL, idem_first, &first), 0);
        /* Until the first request waits on the lock (it holds its key). */
        for (int n = 0; n < 1200 && !waiting; n++) {
            waiting = mv_sql_int("SELECT count(*) FROM pg_stat_activity"
                                 " WHERE wait_event_type = 'Lock'"
                                 " AND pid <> pg_backend_pid()") > 0;
            if (!waiting) {
                usleep(50000);
            }
        }
        r = waiting ? idem_post(rt, line, rt->body) : NULL;
        mv_sql_exec("COMMIT");
        pthread_join(t, NULL);
        assert_true(waiting);
        mv_assert_error(r, 409, "idempotency_key_in_flight");
        mv_resp_free(r);
        assert_int_equal(first.resp->status, 200);
        mv_resp_free(first.resp);

        r = idem_post(rt, line, rt->other_body);
        mv_assert_error(r, 422, "idempotency_key_reused");
        mv_resp_free(r);
        free(line);
        free(key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(openapi_json_is_the_document_built_into_the_module),
        cmocka_unit_test(openapi_json_answers_304_to_its_own_etag),
        cmocka_unit_test(every_body_route_refuses_another_media_type_with_415),
        cmocka_unit_test(every_limited_route_answers_429_with_retry_after),
        cmocka_unit_test(
            every_database_route_answers_503_when_it_is_unreachable),
        cmocka_unit_test(idempotency_key_in_flight_409_and_reused_422),
    };
    mv_harness_init();
    return cmocka_run_group_tests(tests, make_user, NULL);
}
