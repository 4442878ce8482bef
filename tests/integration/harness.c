/*
 * harness.c — see harness.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "harness.h"

static const char *env_or_die(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run through make test\n", name);
        exit(2);
    }
    return v;
}

void mv_harness_init(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

const char *mv_url(void)
{
    return env_or_die("MV_TEST_URL");
}

const char *mv_admin_key(void)
{
    return env_or_die("MV_TEST_ADMIN_KEY");
}

const char *const *mv_admin_headers(void)
{
    static char line[256];
    static const char *list[] = {line, NULL};
    snprintf(line, sizeof(line), "X-Admin-Key: %s", mv_admin_key());
    return list;
}

char *mv_unique(const char *prefix)
{
    static int counter;
    char *s;
    int n = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
    if (asprintf(&s, "%s-%d-%d", prefix, (int)getpid(), n) < 0) {
        abort();
    }
    return s;
}

/* ------------------------------------------------------------------ HTTP */

typedef struct {
    char *data;
    size_t len;
} buffer;

static size_t append(char *ptr, size_t size, size_t n, void *userdata)
{
    buffer *b = userdata;
    size_t add = size * n;
    b->data = realloc(b->data, b->len + add + 1);
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* ------------------------------------------------------------ recording */

/*
 * With MV_TEST_RECORD set (make integration sets it to build/exchanges),
 * every exchange is appended as one JSON line to
 * $MV_TEST_RECORD/<program>.<pid>.jsonl: the request (method, base URL,
 * whether that is the main instance, path with query, headers sent, body)
 * and the response (status, headers, body).
 * tools/openapi/check-exchanges.cjs validates them against the OpenAPI
 * document after the run.  A string that is not UTF-8 (hostile input) is
 * recorded as null with a flag.
 */
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

static json_t *record_string(const char *s, size_t len)
{
    json_t *v = s ? json_stringn(s, len) : json_null();
    return v ? v : json_pack("{s:b}", "notUtf8", 1);
}

/* "Name: value" lines into {"name": "value"} (names lower-cased; a
 * repeated header keeps its values joined with ", "). */
static json_t *record_headers(const char *const *lines)
{
    json_t *obj = json_object();

    for (; lines && *lines; lines++) {
        const char *colon = strchr(*lines, ':'), *v;
        char *name;
        json_t *val, *old;

        if (!colon || colon == *lines) {
            continue; /* the status line, or not a header */
        }
        name = strndup(*lines, (size_t)(colon - *lines));
        for (char *c = name; *c; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
        }
        val = record_string(v, strcspn(v, "\r\n"));
        if ((old = json_object_get(obj, name)) && json_is_string(old) &&
            json_is_string(val)) {
            char *joined;
            if (asprintf(&joined, "%s, %s", json_string_value(old),
                         json_string_value(val)) < 0) {
                abort();
            }
            json_decref(val);
            val = json_string(joined);
            free(joined);
        }
        json_object_set_new(obj, name, val);
        free(name);
    }
    return obj;
}

/* The response header block as a NULL-terminated list of lines (the
 * headers of the last response, after any 100 Continue). */
static char **split_lines(const char *block)
{
    size_t n = 0, cap = 16;
    char **lines = calloc(cap, sizeof(*lines));
    const char *p = block;

    while (p && *p) {
        size_t len = strcspn(p, "\r\n");
        if (len > 0) {
            if (n + 2 > cap) {
                lines = realloc(lines, (cap *= 2) * sizeof(*lines));
            }
            lines[n++] = strndup(p, len);
        }
        p += len;
        p += *p == '\r' ? 1 : 0;
        p += *p == '\n' ? 1 : 0;
        if (len == 0 && *p) {
            /* A blank line ended an interim response's headers (100
             * Continue): keep only the final response's. */
            while (n > 0) {
                free(lines[--n]);
            }
        }
    }
    lines[n] = NULL;
    return lines;
}

/* is_main: sent to MV_TEST_URL, the main instance, where the module owns
 * every path below the URL (its <Location>). */
static void record_exchange(int is_main, const char *base_url,
                            const char *method, const char *path,
                            const char *body, const char *const *req_headers,
                            int has_ct, const mv_resp *r)
{
    static char file[4096];
    const char *dir = getenv("MV_TEST_RECORD");
    json_t *req_h, *line;
    char **resp_lines, *text;
    FILE *f;

    if (!dir || !*dir) {
        return;
    }
    req_h = record_headers(req_headers);
    if (body && !has_ct) {
        json_object_set_new(req_h, "content-type",
                            json_string("application/json"));
    }
    resp_lines = split_lines(r->headers);
    line = json_pack(
        "{s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:i, s:o, s:o}", "program",
        program_invocation_short_name, "method", method, "main", is_main,
        "base", record_string(base_url, strlen(base_url)), "path",
        record_string(path, strlen(path)), "requestHeaders", req_h,
        "requestBody", record_string(body, body ? strlen(body) : 0), "status",
        (int)r->status, "responseHeaders",
        record_headers((const char *const *)resp_lines), "responseBody",
        record_string(r->body, r->body_len));
    for (char **l = resp_lines; *l; l++) {
        free(*l);
    }
    free(resp_lines);
    text = json_dumps(line, JSON_COMPACT);
    json_decref(line);
    pthread_mutex_lock(&record_lock);
    if (!*file) {
        snprintf(file, sizeof(file), "%s/%s.%d.jsonl", dir,
                 program_invocation_short_name, (int)getpid());
    }
    if (!text || !(f = fopen(file, "a")) || fprintf(f, "%s\n", text) < 0 ||
        fclose(f) != 0) {
        fprintf(stderr, "could not record an exchange in %s\n", file);
        abort();
    }
    pthread_mutex_unlock(&record_lock);
    free(text);
}

mv_resp *mv_http_at(const char *base_url, const char *method, const char *path,
                    const char *body, const char *const *headers)
{
    const char *const *sent = headers;
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    buffer b = {calloc(1, 1), 0}, h = {calloc(1, 1), 0};
    mv_resp *r = calloc(1, sizeof(*r));
    char *url;
    int has_ct = 0;
    CURLcode rc;

    if (asprintf(&url, "%s%s", base_url ? base_url : mv_url(), path) < 0) {
        abort();
    }
    for (; headers && *headers; headers++) {
        hl = curl_slist_append(hl, *headers);
        has_ct |= strncasecmp(*headers, "Content-Type:", 13) == 0;
    }
    if (body && !has_ct) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
    }
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "%s %s: %s\n", method, url, curl_easy_strerror(rc));
        r->status = 0;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    }
    r->body = b.data;
    r->body_len = b.len;
    r->headers = h.data;
    r->json = json_loadb(b.data, b.len, 0, NULL);
    if (rc == CURLE_OK) {
        record_exchange(!base_url, base_url ? base_url : mv_url(), method, path,
                        body, sent, has_ct, r);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    free(url);
    return r;
}

void mv_resp_free(mv_resp *r)
{
    if (r) {
        free(r->body);
        free(r->headers);
        json_decref(r->json);
        free(r);
    }
}

/* ------------------------------------------------------------ raw HTTP */

int mv_connect(const char *base_url)
{
    const char *url = base_url ? base_url : mv_url();
    const char *host = strstr(url, "://");
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char addr[64];
    int port = 0, fd;

    if (!host || sscanf(host + 3, "%63[^:]:%d", addr, &port) != 2 ||
        inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "cannot read host:port from %s\n", url);
        return -1;
    }
    sa.sin_port = htons((uint16_t)port);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

mv_resp *mv_read_resp(int fd, int timeout_s)
{
    struct timeval tv = {.tv_sec = timeout_s};
    buffer b = {calloc(1, 1), 0};
    mv_resp *r = calloc(1, sizeof(*r));
    char chunk[4096], *end;
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while ((n = recv(fd, chunk, sizeof chunk, 0)) > 0) {
        append(chunk, 1, (size_t)n, &b);
    }
    close(fd);
    end = strstr(b.data, "\r\n\r\n");
    if (sscanf(b.data, "HTTP/1.%*d %ld", &r->status) != 1 || !end) {
        r->status = 0;
        end = b.data + b.len - 4;
        if (end < b.data) {
            end = b.data;
        }
    }
    r->headers = strndup(b.data, (size_t)(end - b.data) + 2);
    r->body = strdup(end + 4 <= b.data + b.len ? end + 4 : "");
    r->body_len = strlen(r->body);
    r->json = json_loadb(r->body, r->body_len, 0, NULL);
    free(b.data);
    return r;
}

mv_resp *mv_raw(const char *bytes, size_t len)
{
    int fd = mv_connect(NULL);

    if (fd < 0 || send(fd, bytes, len, MSG_NOSIGNAL) != (ssize_t)len) {
        fprintf(stderr, "raw request: cannot send\n");
        if (fd >= 0) {
            close(fd);
        }
        return calloc(1, sizeof(mv_resp));
    }
    return mv_read_resp(fd, 30);
}

char *mv_resp_header(const mv_resp *r, const char *name)
{
    size_t n = strlen(name);
    const char *line = r->headers;

    while (line && *line) {
        const char *end = strstr(line, "\r\n");
        if (!end) {
            break;
        }
        if ((size_t)(end - line) > n && strncasecmp(line, name, n) == 0 &&
            line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ') {
                v++;
            }
            return strndup(v, (size_t)(end - v));
        }
        line = end + 2;
    }
    return NULL;
}

const char *mv_json_str(const mv_resp *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

long long mv_json_int(const mv_resp *r, const char *key)
{
    json_t *v = json_object_get(r->json, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

void mv_check_error(const mv_resp *r, long status, const char *code,
                    const char *file, int line)
{
    char *ct = mv_resp_header(r, "Content-Type");
    const char *got = mv_json_str(r, "code");

    if (r->status != status || !ct || strncmp(ct, "application/json", 16) ||
        !mv_json_str(r, "error") || !got || strcmp(got, code) != 0) {
        fprintf(stderr, "%s:%d: expected %ld %s, got %ld (%s) %s\n", file, line,
                status, code, r->status, ct ? ct : "no type", r->body);
        free(ct);
        fail();
    }
    free(ct);
}

void mv_check_4xx_json(const mv_resp *r, const char *file, int line)
{
    char *ct = mv_resp_header(r, "Content-Type");

    if (r->status < 400 || r->status > 499 || !ct ||
        strncmp(ct, "application/json", 16) || !mv_json_str(r, "error") ||
        !mv_json_str(r, "code")) {
        fprintf(stderr, "%s:%d: expected a 4xx JSON error, got %ld %s\n", file,
                line, r->status, r->body);
        free(ct);
        fail();
    }
    free(ct);
}

/* ------------------------------------------------------------------- SQL */

/* Each thread's connection is closed when the thread ends (a worker of
 * mv_parallel may run SQL). */
static pthread_key_t conn_key;
static pthread_once_t conn_key_once = PTHREAD_ONCE_INIT;

static void conn_close(void *conn)
{
    PQfinish(conn);
}

static void conn_key_make(void)
{
    pthread_key_create(&conn_key, conn_close);
}

static PGresult *sql_run(const char *fmt, va_list ap)
{
    static __thread PGconn *conn;
    char *q;
    PGresult *res;

    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        conn = PQconnectdb(env_or_die("MV_TEST_PGCONN"));
        pthread_once(&conn_key_once, conn_key_make);
        pthread_setspecific(conn_key, conn);
        if (PQstatus(conn) != CONNECTION_OK) {
            fprintf(stderr, "test database: %s", PQerrorMessage(conn));
            fail();
        }
    }
    if (vasprintf(&q, fmt, ap) < 0) {
        abort();
    }
    res = PQexec(conn, q);
    if (PQstatus(conn) != CONNECTION_OK) {
        /* The database restarted since this connection was made (a test
         * stopped it): reconnect once and run the statement again. */
        PQclear(res);
        PQreset(conn);
        res = PQexec(conn, q);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK &&
        PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "SQL failed: %s\n%s", q, PQerrorMessage(conn));
        free(q);
        PQclear(res);
        fail();
    }
    free(q);
    return res;
}

char *mv_sql(const char *fmt, ...)
{
    va_list ap;
    PGresult *res;
    char *v = NULL;

    va_start(ap, fmt);
    res = sql_run(fmt, ap);
    va_end(ap);
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        v = strdup(PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return v;
}

long long mv_sql_int(const char *fmt, ...)
{
    va_list ap;
    PGresult *res;
    long long v = -1;

    va_start(ap, fmt);
    res = sql_run(fmt, ap);
    va_end(ap);
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
    return v;
}

void mv_sql_exec(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PQclear(sql_run(fmt, ap));
    va_end(ap);
}

/* ------------------------------------------------------------ instances */

char *mv_instance_start(const char *name, const char *directives)
{
    char *conf, *port = NULL, *url;
    FILE *f;

    if (asprintf(&conf, "%s/%s.conf", env_or_die("MV_TEST_DIR"), name) < 0) {
        abort();
    }
    f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", directives);
    fclose(f);
    /* A port found free can be taken by another program before httpd
     * binds it (other test runs share the machine): try a few. */
    for (int i = 0; mv_env(&port, "httpd-start %s %s", name, conf) != 0; i++) {
        free(port);
        port = NULL;
        assert_true(i < 3);
    }
    port[strcspn(port, "\n")] = '\0';
    if (asprintf(&url, "http://127.0.0.1:%s", port) < 0) {
        abort();
    }
    free(conf);
    free(port);
    return url;
}

char *mv_instance_log(const char *name)
{
    char *path, *text = calloc(1, 1 << 20);
    FILE *f;
    size_t n;

    if (asprintf(&path, "%s/httpd-%s/error.log", env_or_die("MV_TEST_DIR"),
                 name) < 0) {
        abort();
    }
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = '\0';
    fclose(f);
    free(path);
    return text;
}

/* ----------------------------------------------------------- concurrency */

typedef struct {
    pthread_barrier_t *barrier;
    void (*fn)(int, void *);
    void *arg;
    int i;
} worker;

static void *worker_main(void *v)
{
    worker *w = v;
    pthread_barrier_wait(w->barrier);
    w->fn(w->i, w->arg);
    return NULL;
}

void mv_parallel(int n, void (*fn)(int i, void *arg), void *arg)
{
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    worker *w = calloc((size_t)n, sizeof(*w));
    pthread_barrier_t barrier;
    int i;

    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    for (i = 0; i < n; i++) {
        w[i] = (worker){&barrier, fn, arg, i};
        if (pthread_create(&t[i], NULL, worker_main, &w[i]) != 0) {
            abort();
        }
    }
    for (i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
    }
    pthread_barrier_destroy(&barrier);
    free(t);
    free(w);
}

/* ------------------------------------------------------------ controls */

int mv_env(char **out, const char *fmt, ...)
{
    va_list ap;
    char *args, *cmd;
    buffer b = {calloc(1, 1), 0};
    char chunk[4096];
    size_t n;
    FILE *p;
    int st;

    va_start(ap, fmt);
    if (vasprintf(&args, fmt, ap) < 0) {
        abort();
    }
    va_end(ap);
    if (asprintf(&cmd, "%s %s", env_or_die("MV_TEST_ENV"), args) < 0) {
        abort();
    }
    p = popen(cmd, "r");
    while (p && (n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
        append(chunk, 1, n, &b);
    }
    st = p ? pclose(p) : -1;
    free(args);
    free(cmd);
    if (out) {
        while (b.len > 0 && isspace((unsigned char)b.data[b.len - 1])) {
            b.data[--b.len] = '\0';
        }
        *out = b.data;
    } else {
        free(b.data);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ----------------------------------------------------------- fault proxy */

#define PROXY_MATCH_MAX 64
#define PROXY_PREFIX 256 /* bytes of a message kept for matching */

struct mv_proxy {
    int listen_fd, port, pg_port;
    pthread_mutex_t lock;
    char match[PROXY_MATCH_MAX];
    int nth;     /* armed while > 0 */
    int dropped; /* replies withheld so far */
};

/* Splits a protocol stream into messages: type byte (none for the first
 * message of a client), 32-bit length, payload. */
typedef struct {
    int untyped; /* the next message has no type byte */
    unsigned char head[5];
    size_t head_len;
    size_t left; /* payload bytes still to come */
    char type;
    char prefix[PROXY_PREFIX + 1];
    size_t prefix_len;
} proto_reader;

/* Feeds n bytes; calls done(type, prefix, len, arg) for each message
 * completed and stops early when it returns nonzero (returns 1 then). */
static int proto_feed(proto_reader *rd, const unsigned char *buf, size_t n,
                      int (*done)(char, const char *, size_t, void *),
                      void *arg)
{
    size_t i = 0;

    while (i < n) {
        size_t need = rd->untyped ? 4 : 5;
        if (rd->head_len < need) {
            rd->head[rd->head_len++] = buf[i++];
            if (rd->head_len == need) {
                const unsigned char *l = rd->head + (rd->untyped ? 0 : 1);
                uint32_t len = (uint32_t)l[0] << 24 | (uint32_t)l[1] << 16 |
                               (uint32_t)l[2] << 8 | l[3];
                rd->type = rd->untyped ? '\0' : (char)rd->head[0];
                rd->left = len >= 4 ? len - 4 : 0;
                rd->prefix_len = 0;
            } else {
                continue;
            }
        } else {
            size_t take = n - i < rd->left ? n - i : rd->left;
            size_t keep = PROXY_PREFIX - rd->prefix_len;
            keep = keep < take ? keep : take;
            memcpy(rd->prefix + rd->prefix_len, buf + i, keep);
            rd->prefix_len += keep;
            rd->left -= take;
            i += take;
        }
        if (rd->head_len == (rd->untyped ? 4u : 5u) && rd->left == 0) {
            int stop;
            rd->prefix[rd->prefix_len] = '\0';
            stop = done(rd->type, rd->prefix, rd->prefix_len, arg);
            rd->untyped = 0;
            rd->head_len = 0;
            if (stop) {
                return 1;
            }
        }
    }
    return 0;
}

typedef struct {
    mv_proxy *p;
    int client, server;
    int doomed; /* withholding the server's reply to a matched statement */
} proxy_conn;

/* memmem over a message prefix that may hold NULs. */
static int prefix_has(const char *prefix, size_t len, const char *match)
{
    return memmem(prefix, len, match, strlen(match)) != NULL;
}

/* Client message: does it arm the doom of this connection? */
static int client_message(char type, const char *prefix, size_t len, void *v)
{
    proxy_conn *c = v;
    mv_proxy *p = c->p;

    if (type != 'B' && type != 'Q') {
        return 0;
    }
    pthread_mutex_lock(&p->lock);
    if (p->nth > 0 && prefix_has(prefix, len, p->match) && --p->nth == 0) {
        c->doomed = 1;
    }
    pthread_mutex_unlock(&p->lock);
    return 0;
}

/* Server message: ReadyForQuery ends a doomed statement's reply. */
static int server_message(char type, const char *prefix, size_t len, void *v)
{
    proxy_conn *c = v;
    (void)prefix;
    (void)len;
    return c->doomed && type == 'Z';
}

static int write_all(int fd, const unsigned char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w <= 0) {
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *proxy_relay(void *v)
{
    proxy_conn *c = v;
    proto_reader from_client = {.untyped = 1}, from_server = {0};
    unsigned char buf[65536];

    for (;;) {
        struct pollfd fds[2] = {{c->client, POLLIN, 0}, {c->server, POLLIN, 0}};
        ssize_t n;

        if (poll(fds, 2, -1) < 0) {
            break;
        }
        if (fds[0].revents) {
            if ((n = read(c->client, buf, sizeof buf)) <= 0) {
                break;
            }
            proto_feed(&from_client, buf, (size_t)n, client_message, c);
            if (write_all(c->server, buf, (size_t)n) != 0) {
                break;
            }
        }
        if (fds[1].revents) {
            if ((n = read(c->server, buf, sizeof buf)) <= 0) {
                break;
            }
            if (c->doomed) {
                if (proto_feed(&from_server, buf, (size_t)n, server_message,
                               c)) {
                    pthread_mutex_lock(&c->p->lock);
                    c->p->dropped++;
                    pthread_mutex_unlock(&c->p->lock);
                    break; /* the statement ran; its answer never arrives */
                }
                continue;
            }
            proto_feed(&from_server, buf, (size_t)n, server_message, c);
            if (write_all(c->client, buf, (size_t)n) != 0) {
                break;
            }
        }
    }
    close(c->client);
    close(c->server);
    free(c);
    return NULL;
}

static void *proxy_accept(void *v)
{
    mv_proxy *p = v;

    for (;;) {
        struct sockaddr_in pg = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)p->pg_port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        proxy_conn *c;
        pthread_t t;
        int fd = accept(p->listen_fd, NULL, NULL);

        if (fd < 0) {
            continue;
        }
        c = calloc(1, sizeof(*c));
        c->p = p;
        c->client = fd;
        c->server = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c->server, (struct sockaddr *)&pg, sizeof pg) != 0 ||
            pthread_create(&t, NULL, proxy_relay, c) != 0) {
            close(c->client);
            close(c->server);
            free(c);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

mv_proxy *mv_proxy_start(void)
{
    mv_proxy *p = calloc(1, sizeof(*p));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    const char *port = strstr(env_or_die("MV_TEST_PGCONN"), "port=");
    pthread_t t;

    pthread_mutex_init(&p->lock, NULL);
    p->pg_port = port ? atoi(port + 5) : 5432;
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, alen) ||
        listen(p->listen_fd, 128) ||
        getsockname(p->listen_fd, (struct sockaddr *)&a, &alen) ||
        pthread_create(&t, NULL, proxy_accept, p) != 0) {
        perror("fault proxy");
        abort();
    }
    pthread_detach(t);
    p->port = ntohs(a.sin_port);
    return p;
}

int mv_proxy_port(const mv_proxy *p)
{
    return p->port;
}

void mv_proxy_drop_reply(mv_proxy *p, const char *match, int nth)
{
    pthread_mutex_lock(&p->lock);
    snprintf(p->match, sizeof p->match, "%s", match);
    p->nth = nth;
    pthread_mutex_unlock(&p->lock);
}

int mv_proxy_dropped(mv_proxy *p)
{
    int n;
    pthread_mutex_lock(&p->lock);
    n = p->dropped;
    pthread_mutex_unlock(&p->lock);
    return n;
}

char *mv_proxied_httpd(mv_proxy *p, const char *name, const char *conf)
{
    char *directives, *url;

    if (asprintf(&directives,
                 "DBDParams \"host=127.0.0.1 port=%d dbname=mocaverse "
                 "user=mocaverse connect_timeout=3 sslmode=disable "
                 "gssencmode=disable\"\n%s",
                 p->port, conf) < 0) {
        abort();
    }
    url = mv_instance_start(name, directives);
    free(directives);
    return url;
}
