/*
 * Deployment shapes (SPEC §1, §3): routes under any <Location> with
 * nothing but SetHandler mocaverse in it; TRACE on the module's routes
 * answered as a wrong method whatever TraceEnable says; a body trickled
 * byte by byte cut off by the shipped RequestReadTimeout, without
 * holding a pooled database connection while it trickles.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* GET base+path with extra headers; asserts 200 from the module. */
static void assert_module_answers(const char *base, const char *path,
                                  const char *const *headers)
{
    mv_resp *r = mv_http_at(base, "GET", path, NULL, headers);

    if (r->status != 200 || !r->json) {
        fprintf(stderr, "GET %s%s: %ld %s\n", base, path, r->status, r->body);
        fail();
    }
    mv_resp_free(r);
}

/* GET base+path: not the module's (httpd's own HTML 404). */
static void assert_not_the_module(const char *base, const char *path,
                                  const char *const *headers)
{
    mv_resp *r = mv_http_at(base, "GET", path, NULL, headers);

    if (r->status != 404 || r->json) {
        fprintf(stderr, "GET %s%s: %ld %s\n", base, path, r->status, r->body);
        fail();
    }
    mv_resp_free(r);
}

/* The module's routes below prefix: health, a body route, a 404, a 405. */
static void assert_routes_under(const char *base, const char *prefix,
                                const char *const *headers)
{
    char path[256];
    mv_resp *r;

    snprintf(path, sizeof path, "%s/health", prefix);
    assert_module_answers(base, path, headers);
    snprintf(path, sizeof path, "%s/version", prefix);
    assert_module_answers(base, path, headers);
    snprintf(path, sizeof path, "%s/auth/login-with-email", prefix);
    r = mv_http_at(base, "POST", path,
                   "{\"email\":\"nobody@example.com\",\"password\":\"x\"}",
                   headers);
    mv_assert_error(r, 401, "invalid_credentials");
    mv_resp_free(r);
    snprintf(path, sizeof path, "%s/no-such-route", prefix);
    r = mv_http_at(base, "GET", path, NULL, headers);
    mv_assert_error(r, 404, "not_found");
    mv_resp_free(r);
    snprintf(path, sizeof path, "%s/scan", prefix);
    r = mv_http_at(base, "GET", path, NULL, headers);
    mv_assert_error(r, 405, "method_not_allowed");
    mv_resp_free(r);
}

static void routes_work_under_every_location_shape(void **state)
{
    static const char *const vhost[] = {"Host: vhost.test", NULL};
    const char *const admin[] = {mv_admin_headers()[0], "Host: 127.0.0.1",
                                 NULL};
    char *url = mv_instance_start(
        "shapes", "<Location \"/\">\n    SetHandler none\n</Location>\n"
                  "<Location \"/v1/api\">\n    SetHandler mocaverse\n"
                  "</Location>\n"
                  "# nested, without a SetHandler of its own\n"
                  "<Location \"/v1/api/admin\">\n    Require all granted\n"
                  "</Location>\n"
                  "<Location \"/second/\">\n"
                  "    <IfModule mod_dbd.c>\n"
                  "        <If \"true\">\n"
                  "            SetHandler \"Mocaverse\"\n"
                  "        </If>\n    </IfModule>\n"
                  "</Location>\n"
                  "<LocationMatch \"^/tenant/[a-z]+\">\n"
                  "    SetHandler mocaverse\n</LocationMatch>\n"
                  "<Location \"/v1/api/static\">\n"
                  "    SetHandler default-handler\n</Location>\n"
                  "<VirtualHost *:*>\n    ServerName 127.0.0.1\n"
                  "</VirtualHost>\n"
                  "<VirtualHost *:*>\n    ServerName vhost.test\n"
                  "    <Location \"/in-vhost\">\n"
                  "        SetHandler mocaverse\n    </Location>\n"
                  "</VirtualHost>");
    mv_resp *r;
    (void)state;

    assert_routes_under(url, "/v1/api", NULL);
    assert_routes_under(url, "/second", NULL);
    assert_routes_under(url, "/tenant/abc", NULL);
    assert_routes_under(url, "/in-vhost", vhost);
    /* The main server's Locations hold in the virtual host too. */
    assert_routes_under(url, "/v1/api", vhost);
    /* The nested Location keeps the prefix of the one around it. */
    r = mv_http_at(url, "POST", "/v1/api/admin/invite-codes",
                   "{\"count\":1,\"uses\":1}", admin);
    assert_int_equal(r->status, 200);
    assert_non_null(json_object_get(r->json, "codes"));
    mv_resp_free(r);
    /* Outside the Locations that set it, the module is not there. */
    assert_not_the_module(url, "/version", NULL);
    assert_not_the_module(url, "/v1/apix/version", NULL);
    assert_not_the_module(url, "/v1/api/static/version", NULL);
    assert_not_the_module(url, "/in-vhost/version", NULL);
    assert_int_equal(mv_env(NULL, "httpd-stop shapes"), 0);
    free(url);
}

/* TRACE base+path with credentials: 405 JSON with Allow, nothing echoed. */
static void assert_trace_refused(const char *base, const char *path,
                                 const char *allow)
{
    static const char *const creds[] = {
        "Authorization: Bearer trace-me-not-bearer",
        "X-Admin-Key: trace-me-not-admin-key", NULL};
    mv_resp *r = mv_http_at(base, "TRACE", path, NULL, creds);
    char *got = mv_resp_header(r, "Allow");

    mv_assert_error(r, 405, "method_not_allowed");
    assert_non_null(got);
    assert_string_equal(got, allow);
    assert_null(strstr(r->body, "trace-me-not"));
    assert_null(strstr(r->headers, "trace-me-not"));
    free(got);
    mv_resp_free(r);
}

static void trace_is_a_wrong_method_under_both_trace_settings(void **state)
{
    char *on = mv_instance_start("trace-on", "TraceEnable On");
    mv_resp *r;
    (void)state;

    /* The shipped configuration says TraceEnable Off. */
    assert_trace_refused(NULL, "/scan", "POST");
    assert_trace_refused(NULL, "/health", "GET");
    /* httpd's default: core would echo the request, and does so on a
     * URL that is not the module's. */
    assert_trace_refused(on, "/scan", "POST");
    assert_trace_refused(on, "/auth/login-with-email", "POST");
    r = mv_http_at(on, "TRACE", "/static/static.txt", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "TRACE /static/static.txt"));
    mv_resp_free(r);
    assert_int_equal(mv_env(NULL, "httpd-stop trace-on"), 0);
    free(on);
}

/* ---------------------------------------------------------- slow bodies */

#define SLOW_CLIENTS 24
#define SLOW_APP "mv_slow_bodies"

/* Starts instance name with the database rate limiter on the login
 * routes and its sessions named app in pg_stat_activity; its URL. */
static char *start_database_limited(const char *name, const char *app)
{
    const char *pgconn = getenv("MV_TEST_PGCONN");
    const char *pgport = pgconn ? strstr(pgconn, "port=") : NULL;
    char conf[512];

    assert_non_null(pgport);
    snprintf(conf, sizeof conf,
             "MocaverseRateLimitStore database\n"
             "MocaverseRateLimit auth 1000 60\n"
             "DBDParams \"host=127.0.0.1 port=%.*s dbname=mocaverse"
             " user=mocaverse application_name=%s\"",
             (int)strcspn(pgport + 5, " "), pgport + 5, app);
    return mv_instance_start(name, conf);
}

/* Sessions the slow instance has open in PostgreSQL. */
static long long slow_sessions(void)
{
    return mv_sql_int("SELECT count(*) FROM pg_stat_activity"
                      " WHERE application_name = '" SLOW_APP "'");
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * SLOW_CLIENTS bodies trickled at one byte every 2 s to a login route
 * counted by the database rate limiter: each is cut off by the shipped
 * RequestReadTimeout (408 JSON), none holds a database session while it
 * trickles, and afterwards the workers answer and no session is left in
 * a transaction.
 */
static void trickled_bodies_are_cut_off_and_hold_no_connection(void **state)
{
    char head[256], *url = start_database_limited("slow", SLOW_APP);
    int fd[SLOW_CLIENTS], answered = 0, i;
    long long during;
    double start;
    (void)state;

    snprintf(head, sizeof head,
             "POST /auth/login-with-email HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
    /* One after the other, as slow clients arrive. */
    for (i = 0; i < SLOW_CLIENTS; i++) {
        fd[i] = mv_connect(url);
        assert_true(fd[i] >= 0);
        assert_int_equal(send(fd[i], head, strlen(head), MSG_NOSIGNAL),
                         (ssize_t)strlen(head));
        usleep(100 * 1000);
    }
    start = now_s();
    sleep(2);
    /* Every request is past the limiter and reading its body: with a
     * connection held per body there would be SLOW_CLIENTS sessions. */
    during = slow_sessions();
    fprintf(stderr, "%d slow bodies, %lld database sessions\n", SLOW_CLIENTS,
            during);
    assert_true(during < SLOW_CLIENTS / 2);
    while (answered < SLOW_CLIENTS && now_s() - start < 40) {
        for (i = 0; i < SLOW_CLIENTS; i++) {
            struct pollfd p = {.fd = fd[i], .events = POLLIN};
            mv_resp *r;

            if (fd[i] < 0) {
                continue;
            }
            if (poll(&p, 1, 0) == 0) {
                send(fd[i], "\"", 1, MSG_NOSIGNAL);
                continue;
            }
            r = mv_read_resp(fd[i], 5);
            fd[i] = -1;
            answered++;
            mv_assert_error(r, 408, "request_timeout");
            mv_resp_free(r);
        }
        sleep(2);
    }
    fprintf(stderr, "cut off after %.1f s\n", now_s() - start);
    for (i = 0; i < SLOW_CLIENTS; i++) {
        if (fd[i] >= 0) {
            close(fd[i]);
        }
    }
    assert_int_equal(answered, SLOW_CLIENTS);
    /* The workers are free again, and nothing is left in a transaction. */
    for (i = 0; i < 8; i++) {
        mv_resp *r = mv_http_at(url, "GET", "/version", NULL, NULL);
        assert_int_equal(r->status, 200);
        mv_resp_free(r);
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM pg_stat_activity WHERE"
                                " application_name = '" SLOW_APP "'"
                                " AND state LIKE 'idle in transaction%%'"),
                     0);
    assert_int_equal(mv_env(NULL, "httpd-stop slow"), 0);
    free(url);
}

/* Connections killed under the module are found dead before anything is
 * sent on them (db.c) and replaced (MV0102): no statement fails (no
 * MV0105), and every request is answered on a new connection.  (A reply
 * lost after sending, logged as MV0105 without an empty SQLSTATE field,
 * is test_exactly_once.c's, through its fault proxy.) */
static void killed_connections_are_replaced_before_sending(void **state)
{
    static const char *const text[] = {"Content-Type: text/plain", NULL};
    char *url = start_database_limited("lost", "mv_lost_conn"), *log;
    mv_resp *r;
    (void)state;

    /* Each request is counted by the limiter (a pooled connection) and
     * then refused for its media type. */
    for (int i = 0; i < 12; i++) {
        mv_resp_free(mv_http_at(url, "POST", "/auth/refresh", "x", text));
    }
    /* Waits (up to 5 s each) until the backends are gone. */
    assert_true(mv_sql_int("SELECT count(pg_terminate_backend(pid, 5000))"
                           " FROM pg_stat_activity"
                           " WHERE application_name = 'mv_lost_conn'") > 0);
    for (int i = 0; i < 12; i++) {
        r = mv_http_at(url, "POST", "/auth/refresh", "x", text);
        mv_assert_error(r, 415, "unsupported_media_type");
        mv_resp_free(r);
    }
    log = mv_instance_log("lost");
    assert_non_null(strstr(log, "MV0102: "));
    assert_null(strstr(log, "MV0105: "));
    assert_int_equal(mv_env(NULL, "httpd-stop lost"), 0);
    free(log);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_work_under_every_location_shape),
        cmocka_unit_test(trace_is_a_wrong_method_under_both_trace_settings),
        cmocka_unit_test(trickled_bodies_are_cut_off_and_hold_no_connection),
        cmocka_unit_test(killed_connections_are_replaced_before_sending),
    };
    mv_harness_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
