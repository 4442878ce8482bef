/*
 * harness.h — what integration tests share: HTTP to the test httpd
 * (libcurl, one fresh connection per request), SQL checks against the
 * test database (libpq), simultaneous requests (threads released
 * together), and the controls of tests/integration/env.sh.
 *
 * Environment (set by tests/integration/run.sh): MV_TEST_URL,
 * MV_TEST_PGCONN, MV_TEST_ADMIN_KEY, MV_TEST_JWT_SECRET, MV_TEST_ENV,
 * MV_TEST_DIR; with MV_TEST_RECORD (make integration) every exchange is
 * recorded for the OpenAPI check (harness.c, "recording").
 */
#ifndef MV_HARNESS_H
#define MV_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

typedef struct {
    long status;
    char *body; /* NUL-terminated */
    size_t body_len;
    char *headers; /* the raw response header block */
    json_t *json;  /* the parsed body, or NULL */
} mv_resp;

/* Calls once in main before the tests. */
void mv_harness_init(void);

/*
 * Sends METHOD base_url+path with an optional body (Content-Type
 * application/json unless a Content-Type header is given) and extra
 * header lines ("Name: value", NULL-terminated list, may be NULL).
 * base_url NULL means MV_TEST_URL.  Returns a response the caller frees.
 */
mv_resp *mv_http_at(const char *base_url, const char *method, const char *path,
                    const char *body, const char *const *headers);
#define mv_http(method, path, body, headers)                                   \
    mv_http_at(NULL, method, path, body, headers)
void mv_resp_free(mv_resp *r);

/* A TCP connection to base_url's host and port (NULL: MV_TEST_URL), or
 * -1.  For requests libcurl will not send: malformed bodies, trickles. */
int mv_connect(const char *base_url);
/* Reads the answer on fd until the server closes it or timeout_s passes
 * (status 0 when nothing came); closes fd.  The caller frees it. */
mv_resp *mv_read_resp(int fd, int timeout_s);
/* Sends raw bytes to MV_TEST_URL's server on a new connection and reads
 * its answer (mv_read_resp, 30 s). */
mv_resp *mv_raw(const char *bytes, size_t len);

/* A response header's value (malloc'd) or NULL; name case-insensitive. */
char *mv_resp_header(const mv_resp *r, const char *name);
/* A string member of the JSON body, or NULL. */
const char *mv_json_str(const mv_resp *r, const char *key);
/* An integer member of the JSON body, or -1. */
long long mv_json_int(const mv_resp *r, const char *key);

/* Asserts an error reply of SPEC §3: status, JSON type, "error", "code". */
#define mv_assert_error(resp, st, code_)                                       \
    mv_check_error(resp, st, code_, __FILE__, __LINE__)
void mv_check_error(const mv_resp *r, long status, const char *code,
                    const char *file, int line);
/* Asserts a 4xx answer with a JSON error body (hostile input). */
#define mv_assert_4xx_json(resp) mv_check_4xx_json(resp, __FILE__, __LINE__)
void mv_check_4xx_json(const mv_resp *r, const char *file, int line);

/* First column of the first row as a malloc'd string, or NULL. */
char *mv_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same read as a number (-1 when NULL or no row). */
long long mv_sql_int(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Runs a statement; asserts success. */
void mv_sql_exec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs fn(i, arg) on n threads released together; returns when all end. */
void mv_parallel(int n, void (*fn)(int i, void *arg), void *arg);

/* Runs `env.sh ARGS`; returns its exit status, output in *out if given. */
int mv_env(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Starts instance NAME with the test settings plus `directives` (written
 * to MV_TEST_DIR/NAME.conf); returns its base URL (malloc'd).  Stop it
 * with mv_env(NULL, "httpd-stop NAME"). */
char *mv_instance_start(const char *name, const char *directives);
/* The first MiB of instance NAME's error log (malloc'd). */
char *mv_instance_log(const char *name);

/* A string unique to this test run ("prefix-<pid>-<n>"), malloc'd. */
char *mv_unique(const char *prefix);
const char *mv_admin_key(void);
const char *mv_url(void);
/* "X-Admin-Key: <key>" as a header list. */
const char *const *mv_admin_headers(void);

/*
 * The fault proxy: a TCP relay between an httpd and the test PostgreSQL
 * on a free port, run by threads of the test process.  It forwards both
 * ways untouched until armed; then the nth statement (from now) whose
 * Bind or simple-Query message contains `match` (a prepared statement's
 * name such as "mv_scan_redeem", or "COMMIT") reaches the server and runs
 * to completion, but its reply is withheld and both connections are
 * closed once the server is ready again: the client cannot know whether
 * the statement ran.  The httpd's DBDParams must carry sslmode=disable and
 * gssencmode=disable (the relay reads the protocol from its first byte).
 */
typedef struct mv_proxy mv_proxy;
/* Starts a proxy to MV_TEST_PGCONN's server; it lives until exit. */
mv_proxy *mv_proxy_start(void);
int mv_proxy_port(const mv_proxy *p);
void mv_proxy_drop_reply(mv_proxy *p, const char *match, int nth);
/* Replies dropped so far. */
int mv_proxy_dropped(mv_proxy *p);
/*
 * Starts instance NAME (mv_instance_start) whose database connections go
 * through p, with the extra directives `conf` (may be ""); returns its
 * base URL (malloc'd).
 */
char *mv_proxied_httpd(mv_proxy *p, const char *name, const char *conf);

#endif
