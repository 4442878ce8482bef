/*
 * test_cluster.c — SPEC §1 across hosts: three module hosts (httpd, event
 * MPM, several processes each) behind HAProxy, on one PostgreSQL reached
 * directly or through PgBouncer, driven by many concurrent clients through
 * the balancer.  Hosts are killed (SIGKILL, every process) and restarted
 * gracefully under scan load, the pooler is killed under load, and after
 * every fault an audit of the tables finds nothing lost or doubled.
 *
 * Run by tests/cluster/run.sh (make test-cluster), which also sets
 * MV_CLUSTER_HOSTS ("URL URL URL" of hosts a, b, c), MV_CLUSTER_STATS (the
 * balancer's stats URL) and MV_CLUSTER_MODE (direct, pgbouncer-session,
 * pgbouncer-transaction).  The hosts run tests/cluster/host.conf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "harness.h"
#include "rewards.h"

#include "accounts_util.h"

/* tests/cluster/host.conf */
#define SCAN_QUOTA 60      /* MocaverseRateLimit scan 60 3600 */
#define LOCKOUT_FAILURES 5 /* MocaverseLoginLockout 5 900 */
#define HOSTS 3

/* The scan load of the fault tests: each client its own user and coupons. */
#define LOAD_CLIENTS 16
#define LOAD_COUPONS                                                           \
    40                /* per client at most, retries included < SCAN_QUOTA     \
                       */
#define LOAD_BEFORE 3 /* scans of each client before the fault, at least */
#define LOAD_AFTER 4  /* and after it ended */
#define LOAD_POINTS 7
#define RETRY_PAUSE_US 100000
#define RETRY_MAX 300 /* 30 s of a host, pooler or database away */

static char *host_url[HOSTS];

static const char *mode(void)
{
    const char *m = getenv("MV_CLUSTER_MODE");
    return m ? m : "direct";
}

static int setup(void **state)
{
    char *hosts = strdup(getenv("MV_CLUSTER_HOSTS") ? getenv("MV_CLUSTER_HOSTS")
                                                    : ""),
         *save = NULL, *tok;
    int n = 0;
    (void)state;

    for (tok = strtok_r(hosts, " ", &save); tok && n < HOSTS;
         tok = strtok_r(NULL, " ", &save)) {
        host_url[n++] = strdup(tok);
    }
    free(hosts);
    if (n != HOSTS || !getenv("MV_CLUSTER_STATS")) {
        fprintf(stderr, "run through make test-cluster\n");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ the balancer */

/*
 * The balancer's view of host NAME ("UP", "DOWN", ...; malloc'd), from
 * the status column of HAProxy's stats CSV.
 */
static char *host_state(const char *name)
{
    mv_resp *r =
        mv_http_at(getenv("MV_CLUSTER_STATS"), "GET", "/stats;csv", NULL, NULL);
    char *line, *save = NULL, *state = NULL, prefix[64];

    snprintf(prefix, sizeof prefix, "hosts,%s,", name);
    for (line = strtok_r(r->body, "\n", &save); line && !state;
         line = strtok_r(NULL, "\n", &save)) {
        char *field = line, *end;
        int col;
        if (strncmp(line, prefix, strlen(prefix)) != 0) {
            continue;
        }
        for (col = 0; col < 17 && field; col++) { /* status is column 18 */
            field = strchr(field, ',');
            field = field ? field + 1 : NULL;
        }
        if (field && (end = strchr(field, ','))) {
            state = strndup(field, (size_t)(end - field));
        }
    }
    mv_resp_free(r);
    return state ? state : strdup("?");
}

/* Waits until the balancer reports host NAME in STATE (20 s at most);
 * 0 when it does.  Safe off the main thread (no assertion). */
static int wait_host_state(const char *name, const char *want)
{
    char *got = NULL;

    for (int i = 0; i < 200; i++) {
        free(got);
        got = host_state(name);
        if (strncmp(got, want, strlen(want)) == 0) {
            free(got);
            return 0;
        }
        usleep(100000);
    }
    fprintf(stderr, "host %s: balancer says %s, expected %s\n", name, got,
            want);
    free(got);
    return -1;
}

static void expect_host_state(const char *name, const char *want)
{
    assert_int_equal(wait_host_state(name, want), 0);
}

static void balancer_sees_every_host_up(void **s)
{
    (void)s;
    expect_host_state("a", "UP");
    expect_host_state("b", "UP");
    expect_host_state("c", "UP");
}

/* ------------------------------------------------------------- the audit */

/* Rows that break one rule of the data; asserts there are none. */
static void audit_rule(const char *rule, const char *sql)
{
    long long bad = mv_sql_int("SELECT count(*) FROM (%s) AS broken", sql);
    if (bad != 0) {
        fprintf(stderr, "audit: %lld rows break: %s\n", bad, rule);
    }
    assert_int_equal(bad, 0);
}

/*
 * Scans = ledger credits = redeemed coupons, each credit the coupon's
 * points to the user who scanned it; every balance = SUM(ledger).
 */
static void audit(void)
{
    audit_rule("one ledger credit per scan, same user and coupon",
               "SELECT 1 FROM scans s FULL JOIN"
               " (SELECT * FROM ledger WHERE type = 'scan') l"
               " ON l.scan_id = s.id WHERE s.id IS NULL OR l.id IS NULL"
               " OR l.user_id <> s.user_id OR l.coupon_id <> s.coupon_id");
    audit_rule("a coupon is redeemed exactly when it has a scan, by its user",
               "SELECT 1 FROM coupons c LEFT JOIN scans s ON s.coupon_id = c.id"
               " WHERE (c.redeemed_at IS NOT NULL) <> (s.id IS NOT NULL)"
               " OR (s.id IS NOT NULL AND c.redeemed_by <> s.user_id)");
    audit_rule("a credit is the coupon's points",
               "SELECT 1 FROM ledger l JOIN coupons c ON c.id = l.coupon_id"
               " WHERE l.type = 'scan' AND l.amount <> c.points");
    audit_rule("balance = SUM(ledger) for every user",
               "SELECT 1 FROM (SELECT user_id, sum(amount) AS total"
               " FROM ledger GROUP BY user_id) l"
               " FULL JOIN balances b USING (user_id)"
               " WHERE COALESCE(l.total, 0) <> COALESCE(b.balance, 0)");
}

/* ------------------------------------------------ concurrent correctness */

typedef struct {
    rw_user **users;
    const char *token; /* one coupon for all (race) */
    json_t *tokens;    /* one coupon each (quota) */
    const char *email; /* login burst */
    const char *code;  /* registration burst */
    mv_resp **resp;
} burst;

static char *scan_body(const char *token)
{
    return body_of(
        json_pack("{s:s, s:s}", "token", token, "deviceId", "cluster"));
}

static void scan_same_coupon(int i, void *arg)
{
    burst *b = arg;
    char *body = scan_body(b->token);
    b->resp[i] = mv_http("POST", "/scan", body, b->users[i]->headers);
    free(body);
}

#define RACE_USERS 30

static void coupon_redeemed_once_whatever_host(void **s)
{
    rw_user *users[RACE_USERS];
    mv_resp *resp[RACE_USERS];
    json_t *tokens = rw_coupons(1, LOAD_POINTS, "");
    burst b = {.users = users, .resp = resp};
    int won = 0, lost = 0, i;
    (void)s;

    for (i = 0; i < RACE_USERS; i++) {
        users[i] = rw_user_new();
    }
    b.token = json_string_value(json_array_get(tokens, 0));
    mv_parallel(RACE_USERS, scan_same_coupon, &b);
    for (i = 0; i < RACE_USERS; i++) {
        if (resp[i]->status == 200) {
            won++;
        } else {
            mv_assert_error(resp[i], 409, "coupon_already_redeemed");
            lost++;
        }
        mv_resp_free(resp[i]);
        rw_user_free(users[i]);
    }
    assert_int_equal(won, 1);
    assert_int_equal(lost, RACE_USERS - 1);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM scans s JOIN coupons c"
                                " ON c.id = s.coupon_id WHERE c.token = '%s'",
                                b.token),
                     1);
    json_decref(tokens);
    audit();
}

#define INVITE_USES 8
#define INVITE_TRIES 32

/* A registration; a 503 "busy" (no password-hashing slot free in time,
 * which a loaded test machine reaches) is repeated after a second, as a
 * client would: the race is about the answers that follow. */
static void register_with_code(int i, void *arg)
{
    burst *b = arg;
    char *email = new_email();

    b->resp[i] = register_at(NULL, email, PASSWORD, b->code);
    for (int tries = 0; b->resp[i]->status == 503 && tries < 5; tries++) {
        mv_resp_free(b->resp[i]);
        sleep(1);
        b->resp[i] = register_at(NULL, email, PASSWORD, b->code);
    }
    free(email);
}

static void invite_code_with_n_uses_gives_n_accounts(void **s)
{
    mv_resp *resp[INVITE_TRIES];
    char *code = root_code(INVITE_USES);
    burst b = {.code = code, .resp = resp};
    int made = 0, refused = 0, i;
    (void)s;

    mv_parallel(INVITE_TRIES, register_with_code, &b);
    for (i = 0; i < INVITE_TRIES; i++) {
        if (resp[i]->status == 200) {
            made++;
        } else {
            mv_assert_error(resp[i], 400, "invite_code_used_up");
            refused++;
        }
        mv_resp_free(resp[i]);
    }
    assert_int_equal(made, INVITE_USES);
    assert_int_equal(refused, INVITE_TRIES - INVITE_USES);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users u JOIN"
                                " invite_codes i ON i.id = u.invited_by"
                                " WHERE i.code = '%s'",
                                code),
                     INVITE_USES);
    assert_int_equal(
        mv_sql_int("SELECT remaining FROM invite_codes WHERE code = '%s'",
                   code),
        0);
    free(code);
}

#define QUOTA_BURST (SCAN_QUOTA + 15)

static void scan_own_coupon(int i, void *arg)
{
    burst *b = arg;
    char *body = scan_body(json_string_value(json_array_get(b->tokens, i)));
    b->resp[i] = mv_http("POST", "/scan", body, b->users[0]->headers);
    free(body);
}

static void scan_quota_is_one_for_the_cluster(void **s)
{
    rw_user *user = rw_user_new();
    mv_resp *resp[QUOTA_BURST];
    burst b = {
        .users = &user, .tokens = rw_coupons(QUOTA_BURST, 1, ""), .resp = resp};
    int ok = 0, limited = 0, i;
    (void)s;

    mv_parallel(QUOTA_BURST, scan_own_coupon, &b);
    for (i = 0; i < QUOTA_BURST; i++) {
        if (resp[i]->status == 200) {
            ok++;
        } else {
            mv_assert_error(resp[i], 429, "rate_limited");
            limited++;
        }
        mv_resp_free(resp[i]);
    }
    assert_int_equal(ok, SCAN_QUOTA);
    assert_int_equal(limited, QUOTA_BURST - SCAN_QUOTA);
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM scans WHERE user_id = %lld", user->id),
        SCAN_QUOTA);
    json_decref(b.tokens);
    rw_user_free(user);
    audit();
}

#define LOGIN_BURST 30

static void wrong_login(int i, void *arg)
{
    burst *b = arg;
    b->resp[i] = login_user(b->email, "not the password");
}

static void lockout_is_one_for_the_cluster(void **s)
{
    char *email = new_email();
    mv_resp *resp[LOGIN_BURST], *r = new_account(email);
    burst b = {.email = email, .resp = resp};
    int invalid = 0, locked = 0, i;
    (void)s;

    mv_resp_free(r);
    mv_parallel(LOGIN_BURST, wrong_login, &b);
    for (i = 0; i < LOGIN_BURST; i++) {
        if (resp[i]->status == 401) {
            mv_assert_error(resp[i], 401, "invalid_credentials");
            invalid++;
        } else {
            mv_assert_error(resp[i], 429, "account_locked");
            locked++;
        }
        mv_resp_free(resp[i]);
    }
    assert_int_equal(invalid, LOCKOUT_FAILURES);
    assert_int_equal(locked, LOGIN_BURST - LOCKOUT_FAILURES);
    /* Locked on every host, even with the right password. */
    for (i = 0; i < HOSTS; i++) {
        char *body = body_of(
            json_pack("{s:s, s:s}", "email", email, "password", PASSWORD));
        r = mv_http_at(host_url[i], "POST", "/auth/login-with-email", body,
                       NULL);
        mv_assert_error(r, 429, "account_locked");
        mv_resp_free(r);
        free(body);
    }
    free(email);
}

/* POST /auth/refresh at one host. */
static mv_resp *refresh_at(int host, const char *token)
{
    char *body = body_of(json_pack("{s:s}", "refreshToken", token));
    mv_resp *r =
        mv_http_at(host_url[host], "POST", "/auth/refresh", body, NULL);
    free(body);
    return r;
}

/* tests/cluster/host.conf: MocaverseRefreshReuseInterval 5. */
#define REUSE_INTERVAL 5

/* A new account's refresh token, and a refresh of it at host `at`: *next
 * gets the successor.  Both malloc'd. */
static char *rotated_at(int at, char **next)
{
    char *email = new_email(), *first;
    mv_resp *r = new_account(email);

    first = take_str(r, "refreshToken");
    mv_resp_free(r);
    r = refresh_at(at, first);
    assert_int_equal(r->status, 200);
    *next = take_str(r, "refreshToken");
    mv_resp_free(r);
    free(email);
    return first;
}

/* Inside the reuse interval, another host handles a rotated token like
 * the host that rotated it: a new pair in the same family. */
static void
refresh_rotated_on_one_host_is_handled_on_another_within_window(void **s)
{
    char *second, *first = rotated_at(0, &second);
    mv_resp *r;
    (void)s;

    r = refresh_at(1, first);
    assert_int_equal(r->status, 200);
    assert_non_null(mv_json_str(r, "refreshToken"));
    assert_string_not_equal(mv_json_str(r, "refreshToken"), second);
    mv_resp_free(r);
    /* The family lives on: the first successor still works on host c. */
    r = refresh_at(2, second);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    free(first);
    free(second);
}

/* After the interval, another host refuses the rotated token and revokes
 * its family, so the newest token is refused on a third host. */
static void
refresh_rotated_on_one_host_is_refused_on_another_after_window(void **s)
{
    char *second, *first = rotated_at(0, &second);
    mv_resp *r;
    (void)s;

    sleep(REUSE_INTERVAL + 1);
    r = refresh_at(1, first);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    r = refresh_at(2, second);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    free(first);
    free(second);
}

/* ------------------------------------------------- faults under scan load */

/*
 * The fault tests: LOAD_CLIENTS clients scan their own coupons through the
 * balancer, each with its own user, every scan with an Idempotency-Key,
 * repeated until a final answer.  Once every client is into its load, a
 * fault thread makes every COMMIT wait (synchronous_standby_names names a
 * standby that never comes), so every client's next redemption is sent,
 * committed in PostgreSQL's log, and waiting for its acknowledgement on
 * whichever host got it; the fault strikes while those requests are in
 * flight; then the wait is lifted: a redemption whose host or pooler died
 * is committed all the same, its reply is lost, and only the client's
 * repeat with its Idempotency-Key can find out.
 */

typedef struct {
    rw_user *user;
    json_t *tokens;
    int done;     /* coupons with a final answer */
    int retried;  /* answers that said "try again" */
    int replayed; /* 200s with Idempotent-Replayed: true */
    int wrong;    /* answers that must never come */
} client;

typedef struct {
    client c[LOAD_CLIENTS];
    int (*fault)(void); /* 0 when it did what it should */
    int (*after)(void); /* a check once the load runs again, or NULL */
    int fault_rc;
    int sent;       /* coupons finished, all clients */
    int fault_over; /* set once the fault has happened */
} load;

/* 1 for an answer that tells the client to try again: no connection, 503
 * (from the balancer or the module), or its own first try still running. */
static int try_again(const mv_resp *r)
{
    const char *code = mv_json_str(r, "code");
    return r->status == 0 || r->status == 503 ||
           (r->status == 409 && code &&
            !strcmp(code, "idempotency_key_in_flight"));
}

/* Scans one coupon with an Idempotency-Key until the answer is final;
 * returns 1 if it is the right one: 200 with the coupon's points, first
 * time or replayed (a 409 would be a second redemption attempt run). */
static int scan_until_final(client *c, const char *token)
{
    char key[128], *body = scan_body(token);
    const char *headers[] = {c->user->auth, key, NULL};
    int right = 0;

    snprintf(key, sizeof key, "Idempotency-Key: scan-%s", token);
    for (int attempt = 0; attempt < RETRY_MAX; attempt++) {
        mv_resp *r = mv_http("POST", "/scan", body, headers);
        if (try_again(r)) {
            c->retried++;
            mv_resp_free(r);
            usleep(RETRY_PAUSE_US);
            continue;
        }
        if (r->status == 200 && mv_json_int(r, "points") == LOAD_POINTS) {
            /* A repeat whose first try committed gets the stored answer. */
            char *replayed = mv_resp_header(r, "Idempotent-Replayed");
            c->replayed += replayed && !strcmp(replayed, "true");
            free(replayed);
            right = 1;
        } else {
            fprintf(stderr, "scan %s: wrong answer %ld %s\n", token, r->status,
                    r->body);
        }
        mv_resp_free(r);
        break;
    }
    free(body);
    return right;
}

/* Sets (value) or resets (NULL) synchronous_standby_names as the
 * superuser and reloads the configuration; 0 on success. */
static int set_sync_standby(const char *value)
{
    char *conninfo, *alter;
    PGconn *conn;
    PGresult *res;
    int rc;

    /* The last "user" of a conninfo string wins. */
    if (asprintf(&conninfo, "%s user=postgres", getenv("MV_TEST_PGCONN")) < 0 ||
        asprintf(&alter,
                 value ? "ALTER SYSTEM SET synchronous_standby_names"
                         " = '%s'"
                       : "ALTER SYSTEM RESET synchronous_standby_names",
                 value) < 0) {
        abort();
    }
    conn = PQconnectdb(conninfo);
    res = PQexec(conn, alter);
    rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    PQclear(res);
    res = PQexec(conn, "SELECT pg_reload_conf()");
    rc |= PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
    PQclear(res);
    if (rc != 0) {
        fprintf(stderr, "%s: %s", alter, PQerrorMessage(conn));
    }
    PQfinish(conn);
    free(conninfo);
    free(alter);
    return rc;
}

/*
 * The fault thread: waits until the load is under way, makes commits wait
 * while the fault strikes, lets them go.  Off the main thread: it reports
 * (fault_rc), never asserts.
 */
static void fault_thread(load *l)
{
    while (__atomic_load_n(&l->sent, __ATOMIC_SEQ_CST) <
           LOAD_CLIENTS * LOAD_BEFORE) {
        usleep(10000);
    }
    if (set_sync_standby("mv_no_such_standby") != 0) {
        l->fault_rc = -1;
    }
    usleep(500000); /* every client's next redemption now waits */
    if (l->fault() != 0) {
        l->fault_rc = -1;
    }
    if (set_sync_standby(NULL) != 0) {
        l->fault_rc = -1;
    }
    __atomic_store_n(&l->fault_over, 1, __ATOMIC_SEQ_CST);
    if (l->after && l->after() != 0) {
        l->fault_rc = -1;
    }
}

static void load_client(int i, void *arg)
{
    load *l = arg;
    client *c = &l->c[i];
    int after = 0;

    if (i == LOAD_CLIENTS) {
        fault_thread(l);
        return;
    }
    /* Scans until LOAD_AFTER scans after the fault (or out of coupons). */
    while (c->done < LOAD_COUPONS && after < LOAD_AFTER) {
        const char *token =
            json_string_value(json_array_get(c->tokens, (size_t)c->done));
        int over = __atomic_load_n(&l->fault_over, __ATOMIC_SEQ_CST);
        if (!scan_until_final(c, token)) {
            c->wrong++;
        }
        c->done++;
        after += over;
        __atomic_add_fetch(&l->sent, 1, __ATOMIC_SEQ_CST);
    }
}

/* 1 if s is "YYYY-MM-DDTHH:MM:SSZ" (what the module writes for times). */
static int rfc3339_utc(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

    if (!s || strlen(s) != sizeof shape - 1) {
        return 0;
    }
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) {
            return 0;
        }
    }
    return 1;
}

/*
 * The wallet and /me of a client after the load, through the balancer:
 * the balance and entries the audit counted, and times in UTC although
 * the cluster's PostgreSQL runs with another TimeZone and DateStyle
 * (tests/cluster/run.sh), which only the module's own settings undo,
 * per session or, under transaction pooling, per transaction.
 */
static void client_reads_its_wallet(int done, const rw_user *u)
{
    char path[64];
    mv_resp *r;
    json_t *list, *entry;
    size_t i;

    snprintf(path, sizeof path, "/users/%lld/wallet?limit=200", u->id);
    r = mv_http("GET", path, NULL, u->headers);
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "balance"), (long long)done * LOAD_POINTS);
    list = json_object_get(r->json, "transactions");
    assert_int_equal(json_array_size(list), done);
    json_array_foreach(list, i, entry)
    {
        assert_int_equal(json_integer_value(json_object_get(entry, "amount")),
                         LOAD_POINTS);
        assert_true(rfc3339_utc(
            json_string_value(json_object_get(entry, "createdAt"))));
    }
    mv_resp_free(r);
    r = mv_http("GET", "/me", NULL, u->headers);
    assert_int_equal(r->status, 200);
    assert_true(rfc3339_utc(mv_json_str(r, "createdAt")));
    mv_resp_free(r);
}

/* What the clients of a scan load were told, all together. */
typedef struct {
    int retried;  /* "try again" answers */
    int replayed; /* stored answers replayed to a repeat */
} load_result;

/*
 * Runs the scan load with `fault`, then checks that every coupon a client
 * finished was credited to it exactly once, and audits.
 */
static load_result scan_load_with(int (*fault)(void), int (*after)(void),
                                  const char *what)
{
    load *l = calloc(1, sizeof(*l));
    load_result total = {0, 0};
    int scans = 0;

    for (int i = 0; i < LOAD_CLIENTS; i++) {
        l->c[i].user = rw_user_new();
        l->c[i].tokens = rw_coupons(LOAD_COUPONS, LOAD_POINTS, "");
    }
    l->fault = fault;
    l->after = after;
    mv_parallel(LOAD_CLIENTS + 1, load_client, l);
    assert_int_equal(l->fault_rc, 0);
    for (int i = 0; i < LOAD_CLIENTS; i++) {
        client *c = &l->c[i];
        assert_int_equal(c->wrong, 0);
        /* The load went on through the fault and after it. */
        assert_true(c->done < LOAD_COUPONS);
        /* Each coupon answered redeemed, by its own client, once. */
        assert_int_equal(mv_sql_int("SELECT count(*) FROM scans"
                                    " WHERE user_id = %lld",
                                    c->user->id),
                         c->done);
        assert_int_equal(
            mv_sql_int("SELECT balance FROM balances WHERE user_id = %lld",
                       c->user->id),
            (long long)c->done * LOAD_POINTS);
        client_reads_its_wallet(c->done, c->user);
        scans += c->done;
        total.retried += c->retried;
        total.replayed += c->replayed;
        json_decref(c->tokens);
        rw_user_free(c->user);
    }
    printf("   %s (%s): %d scans, %d answers said try again, %d replayed\n",
           what, mode(), scans, total.retried, total.replayed);
    audit();
    free(l);
    return total;
}

static int kill_host_b(void)
{
    return mv_env(NULL, "httpd-kill b");
}

/* The balancer takes the dead host out. */
static int host_b_down(void)
{
    return wait_host_state("b", "DOWN");
}

static void host_killed_mid_scan_load_loses_nothing(void **s)
{
    load_result got;
    (void)s;

    got =
        scan_load_with(kill_host_b, host_b_down, "host b killed with SIGKILL");
    /* The kill caught redemptions in flight, committed but not yet
     * acknowledged: their clients' repeats got the stored answer. */
    assert_true(got.retried > 0);
    assert_true(got.replayed > 0);
    /* Back, and the balancer takes it in again. */
    assert_int_equal(mv_env(NULL, "httpd-restart b"), 0);
    expect_host_state("b", "UP");
}

static int graceful_host_c(void)
{
    return mv_env(NULL, "httpd-graceful c");
}

static void host_restarted_gracefully_under_load_loses_nothing(void **s)
{
    mv_resp *r;
    (void)s;

    /* Requests in flight finish on the old processes, new ones wait for
     * the new: not one answer says "try again". */
    assert_int_equal(
        scan_load_with(graceful_host_c, NULL, "host c restarted gracefully")
            .retried,
        0);
    r = mv_http_at(host_url[2], "GET", "/health", NULL, NULL);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
}

static int kill_pooler(void)
{
    return mv_env(NULL, "pooler-kill");
}

static int start_pooler(void)
{
    usleep(500000);
    return mv_env(NULL, "pooler-start");
}

static void pooler_killed_mid_scan_load_loses_nothing(void **s)
{
    load_result got;
    (void)s;

    if (strncmp(mode(), "pgbouncer", 9) != 0) {
        skip();
    }
    got = scan_load_with(kill_pooler, start_pooler,
                         "PgBouncer killed, then started again");
    assert_true(got.retried > 0);
    assert_true(got.replayed > 0);
    expect_host_state("a", "UP");
    expect_host_state("b", "UP");
    expect_host_state("c", "UP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(balancer_sees_every_host_up),
        cmocka_unit_test(coupon_redeemed_once_whatever_host),
        cmocka_unit_test(invite_code_with_n_uses_gives_n_accounts),
        cmocka_unit_test(scan_quota_is_one_for_the_cluster),
        cmocka_unit_test(lockout_is_one_for_the_cluster),
        cmocka_unit_test(
            refresh_rotated_on_one_host_is_handled_on_another_within_window),
        cmocka_unit_test(
            refresh_rotated_on_one_host_is_refused_on_another_after_window),
        cmocka_unit_test(host_killed_mid_scan_load_loses_nothing),
        cmocka_unit_test(host_restarted_gracefully_under_load_loses_nothing),
        cmocka_unit_test(pooler_killed_mid_scan_load_loses_nothing),
    };
    rw_init();
    return cmocka_run_group_tests(tests, setup, NULL);
}
