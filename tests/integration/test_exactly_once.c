/*
 * Exactly once as the client sees it: a lost database reply is a 503,
 * never a wrong 409 or 401 (through the fault proxy of the harness);
 * Idempotency-Key on /scan and the admin routes (replay, reuse, scope,
 * in flight, malformed keys, what is not stored, expiry); the 409 that
 * tells a caller it redeemed the coupon itself; the refresh-token reuse
 * interval; and a PostgreSQL backend killed under scan load, audited.
 */
#include <time.h>
#include <unistd.h>

#include "accounts_util.h"
#include "rewards.h"

#define KEY_HEADER_MAX 600

static mv_proxy *proxy;
static char *proxied; /* base URL of the httpd behind the proxy */

/* POST /scan {"token": token} as u at base (NULL: the main instance),
 * with an Idempotency-Key header when key is not NULL. */
static mv_resp *scan_at(const char *base, const rw_user *u, const char *token,
                        const char *key)
{
    char body[256], kh[KEY_HEADER_MAX];
    const char *headers[3] = {u->auth, NULL, NULL};

    snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    if (key) {
        snprintf(kh, sizeof kh, "Idempotency-Key: %s", key);
        headers[1] = kh;
    }
    return mv_http_at(base, "POST", "/scan", body, headers);
}

/* An admin POST with an Idempotency-Key. */
static mv_resp *admin_post(const char *path, const char *body, const char *key)
{
    char kh[KEY_HEADER_MAX], ah[256];
    const char *headers[3] = {ah, kh, NULL};

    snprintf(ah, sizeof ah, "X-Admin-Key: %s", mv_admin_key());
    snprintf(kh, sizeof kh, "Idempotency-Key: %s", key);
    return mv_http("POST", path, body, headers);
}

static const char *tok(json_t *tokens, size_t i)
{
    return json_string_value(json_array_get(tokens, i));
}

/* 1 if the response carries Idempotent-Replayed: true. */
static int replayed(const mv_resp *r)
{
    char *h = mv_resp_header(r, "Idempotent-Replayed");
    int yes = h && !strcmp(h, "true");
    free(h);
    return yes;
}

static long long credits_of(const char *token)
{
    return mv_sql_int("SELECT count(*) FROM ledger l JOIN coupons c"
                      " ON c.id = l.coupon_id WHERE c.token = '%s'",
                      token);
}

static long long stored_keys(void)
{
    return mv_sql_int("SELECT count(*) FROM idempotency_keys");
}

/* ------------------------------------------------------- lost replies */

static void scan_whose_reply_is_lost_answers_503_and_credits_once(void **state)
{
    rw_user *u = rw_user_new();
    json_t *t = rw_coupons(1, 7, "");
    char *log;
    mv_resp *r;
    (void)state;
    mv_proxy_drop_reply(proxy, "mv_scan_redeem", 1);
    r = scan_at(proxied, u, tok(t, 0), NULL);
    mv_assert_error(r, 503, "unavailable");
    mv_resp_free(r);
    assert_int_equal(mv_proxy_dropped(proxy), 1);
    /* Logged once, without an empty SQLSTATE field, and not retried. */
    log = mv_instance_log("faulty");
    assert_non_null(strstr(log, "MV0105: mv_scan_redeem failed: "));
    assert_null(strstr(log, "failed:  "));
    free(log);
    /* It did run: the coupon is the user's, credited once, never twice. */
    assert_int_equal(credits_of(tok(t, 0)), 1);
    assert_int_equal(
        mv_sql_int("SELECT redeemed_by FROM coupons WHERE token = '%s'",
                   tok(t, 0)),
        u->id);
    /* The client retries without a key: the 409 says it was its own. */
    r = scan_at(proxied, u, tok(t, 0), NULL);
    mv_assert_error(r, 409, "coupon_already_redeemed");
    assert_true(json_is_true(json_object_get(r->json, "redeemedByYou")));
    assert_int_equal(mv_json_int(r, "points"), 7);
    assert_int_equal(mv_json_int(r, "scanId"),
                     mv_sql_int("SELECT s.id FROM scans s JOIN coupons c ON"
                                " c.id = s.coupon_id WHERE c.token = '%s'",
                                tok(t, 0)));
    mv_resp_free(r);
    json_decref(t);
    rw_user_free(u);
}

static void scan_whose_commit_reply_is_lost_replays_the_200(void **state)
{
    rw_user *u = rw_user_new();
    json_t *t = rw_coupons(1, 9, "");
    char *key = mv_unique("lost-commit");
    mv_resp *r;
    int before = mv_proxy_dropped(proxy);
    (void)state;
    /* The key's transaction commits the scan and its answer together;
     * the COMMIT's reply is what gets lost. */
    mv_proxy_drop_reply(proxy, "COMMIT", 1);
    r = scan_at(proxied, u, tok(t, 0), key);
    mv_assert_error(r, 503, "unavailable");
    mv_resp_free(r);
    assert_int_equal(mv_proxy_dropped(proxy), before + 1);
    assert_int_equal(credits_of(tok(t, 0)), 1);
    r = scan_at(proxied, u, tok(t, 0), key);
    assert_int_equal(r->status, 200);
    assert_true(replayed(r));
    assert_int_equal(mv_json_int(r, "points"), 9);
    assert_int_equal(mv_json_int(r, "balance"), 9);
    assert_int_equal(mv_json_int(r, "scanId"),
                     mv_sql_int("SELECT s.id FROM scans s JOIN coupons c ON"
                                " c.id = s.coupon_id WHERE c.token = '%s'",
                                tok(t, 0)));
    mv_resp_free(r);
    assert_int_equal(credits_of(tok(t, 0)), 1);
    free(key);
    json_decref(t);
    rw_user_free(u);
}

static void refresh_whose_reply_is_lost_keeps_the_family(void **state)
{
    char *e = new_email(), *first;
    mv_resp *acc = new_account(e), *r;
    long long uid = user_id_of(acc);
    char body[256];
    (void)state;
    first = take_str(acc, "refreshToken");
    snprintf(body, sizeof body, "{\"refreshToken\":\"%s\"}", first);
    mv_proxy_drop_reply(proxy, "mv_tokens_rotate", 1);
    r = mv_http_at(proxied, "POST", "/auth/refresh", body, NULL);
    mv_assert_error(r, 503, "unavailable");
    mv_resp_free(r);
    /* The rotation ran, but nothing was revoked. */
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE"
                                " user_id = %lld AND revoked_at IS NULL",
                                uid),
                     1);
    /* The retry, within the reuse interval, gets a working pair. */
    r = mv_http_at(proxied, "POST", "/auth/refresh", body, NULL);
    assert_int_equal(r->status, 200);
    free(first);
    first = take_str(r, "refreshToken");
    mv_resp_free(r);
    r = with_refresh("/auth/refresh", first);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE"
                                " user_id = %lld AND revoked_at IS NOT NULL",
                                uid),
                     0);
    free(first);
    mv_resp_free(acc);
    free(e);
}

/* ------------------------------------------------------ Idempotency-Key */

static void scan_with_a_key_is_replayed_not_redone(void **state)
{
    rw_user *u = rw_user_new();
    json_t *t = rw_coupons(2, 5, "");
    char *key = mv_unique("scan-key"), quoted[300];
    mv_resp *first, *r;
    (void)state;
    first = scan_at(NULL, u, tok(t, 0), key);
    assert_int_equal(first->status, 200);
    assert_false(replayed(first));
    r = scan_at(NULL, u, tok(t, 0), key);
    assert_int_equal(r->status, 200);
    assert_true(replayed(r));
    assert_string_equal(r->body, first->body);
    mv_resp_free(r);
    /* The draft's quoted form names the same key. */
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    r = scan_at(NULL, u, tok(t, 0), quoted);
    assert_int_equal(r->status, 200);
    assert_true(replayed(r));
    assert_string_equal(r->body, first->body);
    mv_resp_free(r);
    assert_int_equal(credits_of(tok(t, 0)), 1);
    /* Another body under the same key: 422, nothing done. */
    r = scan_at(NULL, u, tok(t, 1), key);
    mv_assert_error(r, 422, "idempotency_key_reused");
    mv_resp_free(r);
    assert_int_equal(credits_of(tok(t, 1)), 0);
    mv_resp_free(first);
    free(key);
    json_decref(t);
    rw_user_free(u);
}

static void keys_are_per_caller_and_per_route(void **state)
{
    rw_user *a = rw_user_new(), *b = rw_user_new();
    json_t *t = rw_coupons(2, 3, "");
    char *key = mv_unique("shared-key"), body[64];
    mv_resp *r;
    (void)state;
    r = scan_at(NULL, a, tok(t, 0), key);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    /* B's identical key is B's own: a fresh scan, not a 422 or replay. */
    r = scan_at(NULL, b, tok(t, 1), key);
    assert_int_equal(r->status, 200);
    assert_false(replayed(r));
    assert_int_equal(mv_json_int(r, "balance"), 3);
    mv_resp_free(r);
    /* And the admin's identical key on another route is independent. */
    snprintf(body, sizeof body, "{\"count\":1,\"uses\":2}");
    r = admin_post("/admin/invite-codes", body, key);
    assert_int_equal(r->status, 200);
    assert_false(replayed(r));
    mv_resp_free(r);
    free(key);
    json_decref(t);
    rw_user_free(a);
    rw_user_free(b);
}

typedef struct {
    const rw_user *u;
    const char *token, *key;
    long status[50];
    char *body[50];
    char *code[50];
} one_key_race;

static void race_scan(int i, void *arg)
{
    one_key_race *rc = arg;
    mv_resp *r = scan_at(NULL, rc->u, rc->token, rc->key);
    const char *c = mv_json_str(r, "code");

    rc->status[i] = r->status;
    rc->body[i] = strdup(r->body);
    rc->code[i] = c ? strdup(c) : NULL;
    mv_resp_free(r);
}

static void fifty_scans_with_one_key_have_one_effect(void **state)
{
    one_key_race *rc = calloc(1, sizeof(*rc));
    rw_user *u = rw_user_new();
    json_t *t = rw_coupons(1, 11, "");
    char *key = mv_unique("race-key");
    const char *ok = NULL;
    int i, n = 50, oks = 0;
    (void)state;
    rc->u = u;
    rc->token = tok(t, 0);
    rc->key = key;
    mv_parallel(n, race_scan, rc);
    for (i = 0; i < n; i++) {
        if (rc->status[i] == 200) {
            /* Every 200 is the one answer, the first or its replay. */
            if (ok) {
                assert_string_equal(rc->body[i], ok);
            }
            ok = rc->body[i];
            oks++;
        } else if (rc->status[i] != 409 || !rc->code[i] ||
                   strcmp(rc->code[i], "idempotency_key_in_flight")) {
            fprintf(stderr, "racer %d: %ld %s\n", i, rc->status[i],
                    rc->body[i]);
            fail();
        }
    }
    assert_true(oks >= 1);
    assert_int_equal(credits_of(tok(t, 0)), 1);
    assert_int_equal(
        mv_sql_int("SELECT balance FROM balances WHERE user_id = %lld", u->id),
        11);
    for (i = 0; i < n; i++) {
        free(rc->body[i]);
        free(rc->code[i]);
    }
    free(rc);
    free(key);
    json_decref(t);
    rw_user_free(u);
}

static void malformed_keys_get_400_and_nothing_is_stored(void **state)
{
    rw_user *u = rw_user_new();
    json_t *t = rw_coupons(1, 4, "");
    char longest[300];
    const char *bad[] = {longest, "\"\"", "caf\xc3\xa9", "\"unterminated",
                         "\"bad\\escape\""};
    long long keys = stored_keys();
    size_t i;
    mv_resp *r;
    (void)state;
    memset(longest, 'k', 256);
    longest[256] = '\0';
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = scan_at(NULL, u, tok(t, 0), bad[i]);
        mv_assert_error(r, 400, "validation_failed");
        assert_non_null(json_object_get(json_object_get(r->json, "fields"),
                                        "Idempotency-Key"));
        mv_resp_free(r);
    }
    /* An empty header line: curl sends "Idempotency-Key;" as empty. */
    {
        const char *headers[] = {u->auth, "Idempotency-Key;", NULL};
        char body[128];
        snprintf(body, sizeof body, "{\"token\":\"%s\"}", tok(t, 0));
        r = mv_http("POST", "/scan", body, headers);
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
    assert_int_equal(stored_keys(), keys);
    assert_int_equal(credits_of(tok(t, 0)), 0);
    /* 255 characters is the longest key. */
    longest[255] = '\0';
    r = scan_at(NULL, u, tok(t, 0), longest);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    json_decref(t);
    rw_user_free(u);
}

static void request_errors_are_not_stored_but_answers_are(void **state)
{
    rw_user *u = rw_user_new();
    json_t *t = rw_coupons(1, 6, "");
    char *key = mv_unique("not-stored"), *key404 = mv_unique("stored-404");
    char kh[300];
    const char *headers[] = {u->auth, kh, NULL};
    const char *bad_auth[] = {"Authorization: Bearer nope", kh, NULL};
    long long keys = stored_keys();
    mv_resp *r;
    (void)state;
    snprintf(kh, sizeof kh, "Idempotency-Key: %s", key);
    /* 400 (no token), 401 (bad credentials): evaluated afresh later. */
    r = mv_http("POST", "/scan", "{}", headers);
    mv_assert_error(r, 400, "token_required");
    mv_resp_free(r);
    r = mv_http("POST", "/scan", "{\"token\":\"x\"}", bad_auth);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    assert_int_equal(stored_keys(), keys);
    r = scan_at(NULL, u, tok(t, 0), key);
    assert_int_equal(r->status, 200);
    assert_false(replayed(r));
    mv_resp_free(r);
    /* A 404 is the request's answer: kept and replayed. */
    r = scan_at(NULL, u, "00000000-0000-4000-8000-000000000000", key404);
    mv_assert_error(r, 404, "coupon_not_found");
    assert_false(replayed(r));
    mv_resp_free(r);
    r = scan_at(NULL, u, "00000000-0000-4000-8000-000000000000", key404);
    mv_assert_error(r, 404, "coupon_not_found");
    assert_true(replayed(r));
    mv_resp_free(r);
    assert_int_equal(stored_keys(), keys + 2);
    free(key);
    free(key404);
    json_decref(t);
    rw_user_free(u);
}

static void an_expired_answer_is_forgotten_and_pruned(void **state)
{
    rw_user *u = rw_user_new();
    json_t *t = rw_coupons(2, 2, "");
    char *key = mv_unique("expiring"), *other = mv_unique("pruner");
    mv_resp *r;
    (void)state;
    r = scan_at(NULL, u, tok(t, 0), key);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    /* Past MocaverseIdempotencyTTL the key is new again. */
    mv_sql_exec("UPDATE idempotency_keys SET expires_at = now() - interval"
                " '1 s' WHERE expires_at > now()");
    r = scan_at(NULL, u, tok(t, 0), key);
    mv_assert_error(r, 409, "coupon_already_redeemed");
    assert_false(replayed(r));
    assert_true(json_is_true(json_object_get(r->json, "redeemedByYou")));
    mv_resp_free(r);
    /* Every expired answer went with the next store (up to 100 a time,
     * more than this test run has made). */
    mv_sql_exec("INSERT INTO idempotency_keys (key_hash, fingerprint, status,"
                " body, created_at, expires_at) SELECT md5(random()::text),"
                " 'f', 200, '{}', now() - interval '2 days', now() -"
                " interval '1 day' FROM generate_series(1, 5)");
    mv_sql_exec("UPDATE idempotency_keys SET expires_at = now() - interval"
                " '1 s' WHERE expires_at > now()");
    assert_true(stored_keys() >= 6);
    r = scan_at(NULL, u, tok(t, 1), other);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM idempotency_keys"
                                " WHERE expires_at <= now()"),
                     0);
    assert_int_equal(stored_keys(), 1);
    free(key);
    free(other);
    json_decref(t);
    rw_user_free(u);
}

static void admin_routes_replay_their_batch(void **state)
{
    char *key = mv_unique("batch-key"), *name = mv_unique("idem-batch");
    char body[256], other[256];
    mv_resp *first, *r;
    (void)state;
    snprintf(body, sizeof body,
             "{\"count\":3,\"points\":8,\"batchName\":\"%s\"}", name);
    first = admin_post("/coupons/generate", body, key);
    assert_int_equal(first->status, 200);
    r = admin_post("/coupons/generate", body, key);
    assert_int_equal(r->status, 200);
    assert_true(replayed(r));
    assert_string_equal(r->body, first->body);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM coupon_batches WHERE"
                                " name = '%s'",
                                name),
                     1);
    snprintf(other, sizeof other,
             "{\"count\":4,\"points\":8,\"batchName\":\"%s\"}", name);
    r = admin_post("/coupons/generate", other, key);
    mv_assert_error(r, 422, "idempotency_key_reused");
    mv_resp_free(r);
    mv_resp_free(first);
    /* Root invite codes: the same codes come back, no new ones. */
    free(key);
    key = mv_unique("codes-key");
    first = admin_post("/admin/invite-codes", "{\"count\":2,\"uses\":3}", key);
    assert_int_equal(first->status, 200);
    r = admin_post("/admin/invite-codes", "{\"count\":2,\"uses\":3}", key);
    assert_true(replayed(r));
    assert_string_equal(r->body, first->body);
    mv_resp_free(r);
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM invite_codes WHERE code = '%s'",
                   json_string_value(json_object_get(
                       json_array_get(json_object_get(first->json, "codes"), 0),
                       "code"))),
        1);
    mv_resp_free(first);
    free(key);
    free(name);
}

/* ---------------------------------------------- scan without a key, 409 */

static void a_409_tells_only_the_redeemer_it_was_theirs(void **state)
{
    rw_user *a = rw_user_new(), *b = rw_user_new();
    json_t *t = rw_coupons(1, 12, "");
    long long scan_id;
    mv_resp *r;
    (void)state;
    r = scan_at(NULL, a, tok(t, 0), NULL);
    assert_int_equal(r->status, 200);
    scan_id = mv_json_int(r, "scanId");
    mv_resp_free(r);
    r = scan_at(NULL, a, tok(t, 0), NULL);
    mv_assert_error(r, 409, "coupon_already_redeemed");
    assert_true(json_is_true(json_object_get(r->json, "redeemedByYou")));
    assert_int_equal(mv_json_int(r, "scanId"), scan_id);
    assert_int_equal(mv_json_int(r, "points"), 12);
    mv_resp_free(r);
    r = scan_at(NULL, b, tok(t, 0), NULL);
    mv_assert_error(r, 409, "coupon_already_redeemed");
    assert_null(json_object_get(r->json, "redeemedByYou"));
    assert_null(json_object_get(r->json, "scanId"));
    assert_null(json_object_get(r->json, "points"));
    mv_resp_free(r);
    json_decref(t);
    rw_user_free(a);
    rw_user_free(b);
}

/* ------------------------------------------------ refresh reuse interval */

typedef struct {
    const char *body;
    long status[2];
    char *refresh[2];
} refresh_pair;

static void race_refresh(int i, void *arg)
{
    refresh_pair *rp = arg;
    mv_resp *r = mv_http("POST", "/auth/refresh", rp->body, NULL);
    const char *t = mv_json_str(r, "refreshToken");

    rp->status[i] = r->status;
    rp->refresh[i] = t ? strdup(t) : NULL;
    mv_resp_free(r);
}

static void two_simultaneous_refreshes_both_get_a_pair(void **state)
{
    char *e = new_email(), *token, body[256];
    mv_resp *acc = new_account(e), *r;
    long long uid = user_id_of(acc);
    refresh_pair rp = {body, {0, 0}, {NULL, NULL}};
    int i;
    (void)state;
    token = take_str(acc, "refreshToken");
    snprintf(body, sizeof body, "{\"refreshToken\":\"%s\"}", token);
    mv_parallel(2, race_refresh, &rp);
    assert_int_equal(rp.status[0], 200);
    assert_int_equal(rp.status[1], 200);
    assert_string_not_equal(rp.refresh[0], rp.refresh[1]);
    /* Both new tokens work: the family is intact. */
    for (i = 0; i < 2; i++) {
        r = with_refresh("/auth/refresh", rp.refresh[i]);
        assert_int_equal(r->status, 200);
        mv_resp_free(r);
        free(rp.refresh[i]);
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE"
                                " user_id = %lld AND revoked_at IS NULL",
                                uid),
                     1);
    /* After the interval, presenting the first token is a reuse: the
     * family is revoked, its newest tokens with it (as without it). */
    mv_sql_exec("UPDATE refresh_tokens SET rotated_at = rotated_at - interval"
                " '1 hour' WHERE rotated_at IS NOT NULL AND family_id IN"
                " (SELECT id FROM refresh_families WHERE user_id = %lld)",
                uid);
    r = with_refresh("/auth/refresh", token);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE"
                                " user_id = %lld AND revoked_at IS NULL",
                                uid),
                     0);
    free(token);
    mv_resp_free(acc);
    free(e);
}

/* ------------------------------------------- a backend killed under load */

#define KILL_USERS 4
#define KILL_COUPONS 160
#define KILL_WORKERS 8

typedef struct {
    rw_user *user[KILL_USERS];
    json_t *tokens;
    long status[KILL_COUPONS];
    char *body[KILL_COUPONS];
    int done;        /* workers finished */
    int kills;       /* backends terminated */
    int unavailable; /* 503s seen during the load */
    int wrong;       /* answers other than 200 and 503 */
} kill_load;

/* The coupon's user and key (NULL for every other coupon: both kinds of
 * client are audited). */
static const rw_user *kill_user(kill_load *kl, int c)
{
    return kl->user[c % KILL_USERS];
}

static const char *kill_key(int c, char *buf, size_t n)
{
    if (c % 2) {
        return NULL;
    }
    snprintf(buf, n, "kill-%d-%d", (int)getpid(), c);
    return buf;
}

static void kill_worker(int i, void *arg)
{
    kill_load *kl = arg;
    char key[64];
    int c;

    if (i == KILL_WORKERS) {
        /* The killer: terminate the module's backends while scans run. */
        while (__atomic_load_n(&kl->done, __ATOMIC_SEQ_CST) < KILL_WORKERS) {
            kl->kills += (int)mv_sql_int(
                "SELECT count(pg_terminate_backend(pid)) FROM"
                " pg_stat_activity WHERE usename = 'mocaverse' AND"
                " pid <> pg_backend_pid() AND backend_type = 'client backend'");
            usleep(30000);
        }
        return;
    }
    for (c = i; c < KILL_COUPONS; c += KILL_WORKERS) {
        mv_resp *r = scan_at(NULL, kill_user(kl, c), tok(kl->tokens, (size_t)c),
                             kill_key(c, key, sizeof key));
        kl->status[c] = r->status;
        kl->body[c] = strdup(r->body);
        if (r->status == 503) {
            __atomic_add_fetch(&kl->unavailable, 1, __ATOMIC_SEQ_CST);
        } else if (r->status != 200) {
            /* Only a 200 or a 503 is a true answer here. */
            __atomic_add_fetch(&kl->wrong, 1, __ATOMIC_SEQ_CST);
        }
        mv_resp_free(r);
    }
    __atomic_add_fetch(&kl->done, 1, __ATOMIC_SEQ_CST);
}

static void backend_killed_under_scan_load_loses_no_answer(void **state)
{
    kill_load *kl = calloc(1, sizeof(*kl));
    char key[64], ids[256] = "";
    int c, u, settled = 0;
    (void)state;
    for (u = 0; u < KILL_USERS; u++) {
        kl->user[u] = rw_user_new();
        snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%lld",
                 u ? "," : "", kl->user[u]->id);
    }
    kl->tokens = rw_coupons(KILL_COUPONS, 3, "");
    mv_parallel(KILL_WORKERS + 1, kill_worker, kl);
    print_message(
        "    %d backends terminated, %d answers 503 during the load\n",
        kl->kills, kl->unavailable);
    /* The clients retry what they did not get: the same key, or none. */
    for (c = 0; c < KILL_COUPONS; c++) {
        int tries;
        for (tries = 0; kl->status[c] != 200 && tries < 10; tries++) {
            mv_resp *r =
                scan_at(NULL, kill_user(kl, c), tok(kl->tokens, (size_t)c),
                        kill_key(c, key, sizeof key));
            if (r->status == 503 ||
                (r->status == 409 && mv_json_str(r, "code") &&
                 !strcmp(mv_json_str(r, "code"),
                         "idempotency_key_in_flight"))) {
                /* A terminated backend's lock goes when it has exited. */
                mv_resp_free(r);
                usleep(200000);
                continue;
            }
            free(kl->body[c]);
            kl->status[c] = r->status;
            kl->body[c] = strdup(r->body);
            if (r->status == 409 &&
                json_is_true(json_object_get(r->json, "redeemedByYou"))) {
                kl->status[c] = 200; /* its own earlier redemption */
            } else if (r->status != 200) {
                fprintf(stderr, "coupon %d: %ld %s\n", c, r->status, r->body);
                fail();
            }
            mv_resp_free(r);
        }
        assert_int_equal(kl->status[c], 200);
        settled++;
    }
    /* Every coupon was credited once, to the client that holds its 200. */
    for (c = 0; c < KILL_COUPONS; c++) {
        assert_int_equal(credits_of(tok(kl->tokens, (size_t)c)), 1);
        assert_int_equal(mv_sql_int("SELECT redeemed_by FROM coupons WHERE"
                                    " token = '%s'",
                                    tok(kl->tokens, (size_t)c)),
                         kill_user(kl, c)->id);
    }
    assert_int_equal(settled, KILL_COUPONS);
    /* Maintained balances equal the ledger. */
    assert_int_equal(mv_sql_int("SELECT count(*) FROM balances b WHERE"
                                " b.user_id IN (%s) AND b.balance <>"
                                " (SELECT sum(amount) FROM ledger l"
                                " WHERE l.user_id = b.user_id)",
                                ids),
                     0);
    assert_int_equal(
        mv_sql_int("SELECT sum(balance) FROM balances WHERE user_id IN (%s)",
                   ids),
        3 * KILL_COUPONS);
    for (c = 0; c < KILL_COUPONS; c++) {
        free(kl->body[c]);
    }
    for (u = 0; u < KILL_USERS; u++) {
        rw_user_free(kl->user[u]);
    }
    json_decref(kl->tokens);
    free(kl);
}

static int start_proxy(void **state)
{
    (void)state;
    proxy = mv_proxy_start();
    proxied = mv_proxied_httpd(proxy, "faulty", "");
    return 0;
}

static int stop_proxied(void **state)
{
    (void)state;
    mv_env(NULL, "httpd-stop faulty");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_whose_reply_is_lost_answers_503_and_credits_once),
        cmocka_unit_test(scan_whose_commit_reply_is_lost_replays_the_200),
        cmocka_unit_test(refresh_whose_reply_is_lost_keeps_the_family),
        cmocka_unit_test(scan_with_a_key_is_replayed_not_redone),
        cmocka_unit_test(keys_are_per_caller_and_per_route),
        cmocka_unit_test(fifty_scans_with_one_key_have_one_effect),
        cmocka_unit_test(malformed_keys_get_400_and_nothing_is_stored),
        cmocka_unit_test(request_errors_are_not_stored_but_answers_are),
        cmocka_unit_test(an_expired_answer_is_forgotten_and_pruned),
        cmocka_unit_test(admin_routes_replay_their_batch),
        cmocka_unit_test(a_409_tells_only_the_redeemer_it_was_theirs),
        cmocka_unit_test(two_simultaneous_refreshes_both_get_a_pair),
        cmocka_unit_test(backend_killed_under_scan_load_loses_no_answer),
    };
    rw_init();
    return cmocka_run_group_tests(tests, start_proxy, stop_proxied);
}
