/*
 * The admin routes (/admin/...): invite codes, users, coupon batches,
 * analytics and the audit trail — success, each error, hostile input and
 * the admin key.  The race of a disable against scans is in
 * test_admin_race.c.
 */
#include "accounts_util.h"
#include "rewards.h"

/* ------------------------------------------------------------- helpers */

static mv_resp *admin_get(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static mv_resp *admin_get(const char *fmt, ...)
{
    char path[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return mv_http("GET", path, NULL, mv_admin_headers());
}

static mv_resp *admin_send(const char *method, const char *path,
                           const char *body)
{
    return mv_http(method, path, body, mv_admin_headers());
}

/* Asserts 200 and returns the "items" of a list reply (borrowed). */
static json_t *items_of(const mv_resp *r)
{
    if (r->status != 200) {
        fprintf(stderr, "expected 200, got %ld %s\n", r->status, r->body);
    }
    assert_int_equal(r->status, 200);
    assert_true(json_is_array(json_object_get(r->json, "items")));
    return json_object_get(r->json, "items");
}

static long long int_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) {
        fprintf(stderr, "no integer \"%s\"\n", key);
        fail();
    }
    return (long long)json_integer_value(v);
}

static const char *str_at(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A user registered with e-mail through an invite code; returns the token
 * response (the caller frees). */
static mv_resp *register_with(const char *code)
{
    char *email = new_email();
    mv_resp *r = register_user(email, PASSWORD, code);

    if (r->status != 200) {
        fprintf(stderr, "register: %ld %s\n", r->status, r->body);
    }
    assert_int_equal(r->status, 200);
    free(email);
    return r;
}

/* The invite code of a token response (malloc'd). */
static char *code_of(const mv_resp *r)
{
    json_t *c = json_object_get(json_object_get(r->json, "user"), "inviteCode");
    return strdup(str_at(c, "code"));
}

static mv_resp *scan_with(const rw_user *u, const char *token)
{
    char body[128];

    snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    return mv_http("POST", "/scan", body, u->headers);
}

/* --------------------------------------------------------- the admin key */

static void every_admin_route_refuses_a_missing_or_wrong_key(void **state)
{
    static const struct {
        const char *method, *path, *body;
    } routes[] = {
        {"GET", "/admin/invite-codes", NULL},
        {"PATCH", "/admin/invite-codes/ABCDEFGH", "{\"disabled\":true}"},
        {"GET", "/admin/users", NULL},
        {"GET", "/admin/users/1", NULL},
        {"POST", "/admin/users/1/disable", NULL},
        {"POST", "/admin/users/1/enable", NULL},
        {"POST", "/admin/users/1/revoke-sessions", NULL},
        {"GET", "/admin/coupon-batches", NULL},
        {"GET", "/admin/coupon-batches/1/coupons.csv", NULL},
        {"POST", "/admin/coupon-batches/1/void", NULL},
        {"GET", "/admin/analytics", NULL},
        {"GET", "/admin/audit", NULL},
    };
    const char *wrong[] = {"X-Admin-Key: not-the-admin-key-at-all", NULL};
    long long audits = mv_sql_int("SELECT count(*) FROM admin_audit");
    size_t i;
    (void)state;

    for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        mv_resp *r =
            mv_http(routes[i].method, routes[i].path, routes[i].body, NULL);
        mv_assert_error(r, 403, "forbidden");
        mv_resp_free(r);
        r = mv_http(routes[i].method, routes[i].path, routes[i].body, wrong);
        mv_assert_error(r, 403, "forbidden");
        mv_resp_free(r);
    }
    /* Nothing was done, and no one without the key can fill the trail. */
    assert_int_equal(mv_sql_int("SELECT count(*) FROM admin_audit"), audits);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE id = 1 AND"
                                " disabled_at IS NOT NULL"),
                     0);
}

/* ------------------------------------------------------------ invite codes */

static void
invite_codes_list_filters_by_owner_root_status_and_prefix(void **state)
{
    char *root = root_code(5), *own, *prefix;
    mv_resp *user = register_with(root), *r;
    long long uid = user_id_of(user);
    json_t *items, *it;
    (void)state;

    own = code_of(user);
    /* owner: exactly the user's code, with its owner. */
    r = admin_get("/admin/invite-codes?owner=%lld", uid);
    items = items_of(r);
    assert_int_equal(json_array_size(items), 1);
    it = json_array_get(items, 0);
    assert_string_equal(str_at(it, "code"), own);
    assert_int_equal(int_at(json_object_get(it, "owner"), "id"), uid);
    assert_non_null(str_at(json_object_get(it, "owner"), "email"));
    assert_int_equal(int_at(it, "remaining"), 10);
    assert_int_equal(int_at(it, "used"), 0);
    assert_string_equal(str_at(it, "status"), "active");
    assert_true(json_is_false(json_object_get(it, "disabled")));
    assert_non_null(str_at(it, "createdAt"));
    assert_true(json_is_null(json_object_get(it, "expiresAt")));
    assert_true(json_is_null(json_object_get(r->json, "nextBefore")));
    mv_resp_free(r);

    /* q: a prefix in any case, with spaces and dashes, finds the code. */
    prefix = strndup(own, 5);
    prefix[0] = (char)(prefix[0] >= 'A' && prefix[0] <= 'Z' ? prefix[0] + 32
                                                            : prefix[0]);
    r = admin_get("/admin/invite-codes?q=%c-%s&root=false", prefix[0],
                  prefix + 1);
    items = items_of(r);
    assert_true(json_array_size(items) >= 1);
    for (size_t i = 0; i < json_array_size(items); i++) {
        assert_int_equal(
            strncasecmp(str_at(json_array_get(items, i), "code"), prefix, 5),
            0);
        assert_false(
            json_is_null(json_object_get(json_array_get(items, i), "owner")));
    }
    mv_resp_free(r);

    /* root=true with q: the root code, used once, owned by no one. */
    r = admin_get("/admin/invite-codes?root=true&q=%s", root);
    items = items_of(r);
    assert_int_equal(json_array_size(items), 1);
    it = json_array_get(items, 0);
    assert_true(json_is_null(json_object_get(it, "owner")));
    assert_int_equal(int_at(it, "used"), 1);
    assert_int_equal(int_at(it, "remaining"), 4);
    mv_resp_free(r);
    r = admin_get("/admin/invite-codes?root=false&q=%s", root);
    assert_int_equal(json_array_size(items_of(r)), 0);
    mv_resp_free(r);

    /* status: each state of the root code, changed in SQL. */
    {
        static const struct {
            const char *set, *status;
        } states[] = {
            {"disabled = true", "disabled"},
            {"disabled = false, expires_at = now() - interval '1 s'",
             "expired"},
            {"expires_at = NULL, remaining = 0", "used_up"},
            {"remaining = 3", "active"},
        };
        static const char *all[] = {"active", "used_up", "expired", "disabled"};
        size_t s, k;
        for (s = 0; s < 4; s++) {
            mv_sql_exec("UPDATE invite_codes SET %s WHERE code = '%s'",
                        states[s].set, root);
            for (k = 0; k < 4; k++) {
                r = admin_get("/admin/invite-codes?status=%s&q=%s", all[k],
                              root);
                items = items_of(r);
                assert_int_equal(json_array_size(items),
                                 strcmp(all[k], states[s].status) == 0);
                mv_resp_free(r);
            }
        }
    }
    free(prefix);
    free(own);
    free(root);
    mv_resp_free(user);
}

static void lists_page_newest_first_with_next_before(void **state)
{
    mv_resp *r;
    long long before = 0, last = 0, seen = 0, total;
    (void)state;

    free(root_code(1));
    free(root_code(1));
    free(root_code(1));
    total = mv_sql_int("SELECT count(*) FROM invite_codes WHERE owner_id IS "
                       "NULL");
    /* Pages of 2 walk every root code once, ids decreasing. */
    do {
        json_t *items;
        size_t i;
        if (before) {
            r = admin_get("/admin/invite-codes?root=true&limit=2&before=%lld",
                          before);
        } else {
            r = admin_get("/admin/invite-codes?root=true&limit=2");
        }
        items = items_of(r);
        assert_true(json_array_size(items) <= 2);
        for (i = 0; i < json_array_size(items); i++) {
            long long id =
                mv_sql_int("SELECT id FROM invite_codes WHERE code = '%s'",
                           str_at(json_array_get(items, i), "code"));
            assert_true(last == 0 || id < last);
            last = id;
            seen++;
        }
        before = json_is_null(json_object_get(r->json, "nextBefore"))
                     ? 0
                     : int_at(r->json, "nextBefore");
        if (before) {
            assert_int_equal(before, last);
        }
        mv_resp_free(r);
    } while (before);
    assert_int_equal(seen, total);
}

static void invite_code_patch_changes_what_it_names_and_is_audited(void **state)
{
    char *code = root_code(5), path[64], *lower;
    mv_resp *r, *u;
    json_t *it;
    (void)state;

    /* remaining keeps "used"; expiresAt set; disabled. */
    u = register_with(code);
    mv_resp_free(u);
    lower = strdup(code);
    for (char *p = lower; *p; p++) {
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    snprintf(path, sizeof path, "/admin/invite-codes/%s", lower);
    r = admin_send("PATCH", path,
                   "{\"remaining\":20,\"expiresAt\":\"2099-01-02T03:04:05Z\","
                   "\"disabled\":true}");
    assert_int_equal(r->status, 200);
    it = r->json;
    assert_string_equal(str_at(it, "code"), code);
    assert_int_equal(int_at(it, "remaining"), 20);
    assert_int_equal(int_at(it, "used"), 1);
    assert_string_equal(str_at(it, "expiresAt"), "2099-01-02T03:04:05Z");
    assert_true(json_is_true(json_object_get(it, "disabled")));
    assert_string_equal(str_at(it, "status"), "disabled");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT uses FROM invite_codes WHERE code = "
                                "'%s'",
                                code),
                     21);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM admin_audit WHERE"
                                " method = 'PATCH' AND route ="
                                " '/admin/invite-codes/{code}' AND target ="
                                " '%s' AND status = 200 AND outcome = 'ok'"
                                " AND client_ip IS NOT NULL",
                                code),
                     1);
    /* A disabled code signs no one up. */
    {
        char *email = new_email();
        r = register_user(email, PASSWORD, code);
        mv_assert_error(r, 400, "invalid_invite_code");
        mv_resp_free(r);
        free(email);
    }
    /* Enabled again, expiry cleared with null: it works. */
    r = admin_send("PATCH", path, "{\"disabled\":false,\"expiresAt\":null}");
    assert_int_equal(r->status, 200);
    assert_true(json_is_null(json_object_get(r->json, "expiresAt")));
    assert_string_equal(str_at(r->json, "status"), "active");
    mv_resp_free(r);
    u = register_with(code);
    mv_resp_free(u);
    /* An empty body changes nothing and answers the code. */
    r = admin_send("PATCH", path, "{}");
    assert_int_equal(r->status, 200);
    assert_int_equal(int_at(r->json, "remaining"), 19);
    mv_resp_free(r);
    free(lower);
    free(code);
}

static void invite_code_patch_errors(void **state)
{
    static const char *bad[] = {
        "{\"disabled\":\"yes\"}",   "{\"disabled\":1}",
        "{\"remaining\":-1}",       "{\"remaining\":1000001}",
        "{\"remaining\":\"5\"}",    "{\"remaining\":1.5}",
        "{\"expiresAt\":\"soon\"}", "{\"expiresAt\":\"10000-01-01T00:00:00Z\"}",
        "{\"expiresAt\":5}",
    };
    char *code = root_code(2), path[64];
    const char *plain[] = {mv_admin_headers()[0], "Content-Type: text/plain",
                           NULL};
    mv_resp *r;
    size_t i;
    (void)state;

    snprintf(path, sizeof path, "/admin/invite-codes/%s", code);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = admin_send("PATCH", path, bad[i]);
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM invite_codes WHERE code"
                                " = '%s' AND remaining = 2 AND NOT disabled"
                                " AND expires_at IS NULL",
                                code),
                     1);
    r = admin_send("PATCH", path, "[1]");
    mv_assert_error(r, 400, "invalid_json");
    mv_resp_free(r);
    r = mv_http("PATCH", path, "{}", plain);
    mv_assert_error(r, 415, "unsupported_media_type");
    mv_resp_free(r);
    /* Unknown, and not even a code (SQL metacharacters included). */
    r = admin_send("PATCH", "/admin/invite-codes/ZZZZZZZZZZZZ",
                   "{\"disabled\":true}");
    mv_assert_error(r, 404, "invite_code_not_found");
    mv_resp_free(r);
    r = admin_send("PATCH", "/admin/invite-codes/%27%3B%20DROP%20TABLE",
                   "{\"disabled\":true}");
    mv_assert_error(r, 404, "invite_code_not_found");
    mv_resp_free(r);
    r = admin_send("DELETE", path, NULL);
    mv_assert_error(r, 405, "method_not_allowed");
    mv_resp_free(r);
    /* Refused actions are audited too, with their outcome. */
    assert_true(mv_sql_int("SELECT count(*) FROM admin_audit WHERE"
                           " route = '/admin/invite-codes/{code}' AND"
                           " status = 404 AND outcome ="
                           " 'invite_code_not_found'") >= 2);
    free(code);
}

/* ------------------------------------------------------------------ users */

static void users_search_by_email_phone_and_id(void **state)
{
    mv_resp *acc = new_account("Zed.Search+1@Example.com"), *r;
    long long uid = user_id_of(acc);
    rw_user *pu = rw_user_new();
    char q[64];
    json_t *items, *it;
    (void)state;

    /* An e-mail prefix, any case. */
    r = admin_get("/admin/users?q=zed.SEARCH%%2B1");
    items = items_of(r);
    assert_int_equal(json_array_size(items), 1);
    it = json_array_get(items, 0);
    assert_int_equal(int_at(it, "id"), uid);
    assert_string_equal(str_at(it, "email"), "Zed.Search+1@Example.com");
    assert_true(json_is_null(json_object_get(it, "phone")));
    assert_true(json_is_null(json_object_get(it, "invitedBy")));
    assert_int_equal(int_at(it, "invitees"), 0);
    assert_int_equal(int_at(it, "balance"), 0);
    assert_true(json_is_false(json_object_get(it, "disabled")));
    assert_non_null(str_at(it, "createdAt"));
    mv_resp_free(r);

    /* A phone prefix as people type it: "+49 12 345..." */
    snprintf(q, sizeof q, "%%2B%.2s%%20%.2s-%s", pu->phone + 1, pu->phone + 3,
             pu->phone + 5);
    r = admin_get("/admin/users?q=%s", q);
    items = items_of(r);
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(int_at(json_array_get(items, 0), "id"), pu->id);
    assert_string_equal(str_at(json_array_get(items, 0), "phone"), pu->phone);
    mv_resp_free(r);

    /* An id. */
    r = admin_get("/admin/users?q=%lld", uid);
    items = items_of(r);
    assert_true(json_array_size(items) >= 1);
    {
        int found = 0;
        for (size_t i = 0; i < json_array_size(items); i++) {
            found |= int_at(json_array_get(items, i), "id") == uid;
        }
        assert_true(found);
    }
    mv_resp_free(r);

    /* LIKE's wildcards are plain characters: no one's e-mail starts "%". */
    r = admin_get("/admin/users?q=%%25");
    assert_int_equal(json_array_size(items_of(r)), 0);
    mv_resp_free(r);
    r = admin_get("/admin/users?q=_ed.search");
    assert_int_equal(json_array_size(items_of(r)), 0);
    mv_resp_free(r);
    rw_user_free(pu);
    mv_resp_free(acc);
}

static void user_detail_shows_the_chain_up_and_the_tree_down(void **state)
{
    char *root = root_code(1), *ca, *cb;
    mv_resp *a = register_with(root), *b, *c, *d, *r;
    long long ida = user_id_of(a), idb, idc, idd;
    json_t *chain, *tree, *levels, *nodes;
    (void)state;

    ca = code_of(a);
    b = register_with(ca);
    d = register_with(ca);
    idb = user_id_of(b);
    idd = user_id_of(d);
    cb = code_of(b);
    c = register_with(cb);
    idc = user_id_of(c);

    /* C's chain: B, A, then the root code (no owner). */
    r = admin_get("/admin/users/%lld", idc);
    assert_int_equal(r->status, 200);
    assert_int_equal(int_at(r->json, "id"), idc);
    assert_int_equal(int_at(r->json, "invitedBy"), idb);
    chain = json_object_get(r->json, "chain");
    assert_int_equal(json_array_size(chain), 3);
    assert_int_equal(int_at(json_array_get(chain, 0), "id"), idb);
    assert_string_equal(str_at(json_array_get(chain, 0), "code"), cb);
    assert_int_equal(int_at(json_array_get(chain, 1), "id"), ida);
    assert_string_equal(str_at(json_array_get(chain, 1), "code"), ca);
    assert_true(json_is_null(json_object_get(json_array_get(chain, 2), "id")));
    assert_string_equal(str_at(json_array_get(chain, 2), "code"), root);
    {
        char *cc = code_of(c);
        assert_string_equal(
            str_at(json_object_get(r->json, "inviteCode"), "code"), cc);
        free(cc);
    }
    mv_resp_free(r);

    /* A's tree: B and D at depth 1, C at depth 2 under B. */
    r = admin_get("/admin/users/%lld?depth=5", ida);
    assert_int_equal(r->status, 200);
    assert_int_equal(int_at(r->json, "invitees"), 2);
    tree = json_object_get(r->json, "tree");
    assert_int_equal(int_at(tree, "depth"), 5);
    levels = json_object_get(tree, "levels");
    assert_int_equal(json_array_size(levels), 2);
    assert_int_equal(int_at(json_array_get(levels, 0), "depth"), 1);
    assert_int_equal(int_at(json_array_get(levels, 0), "count"), 2);
    assert_int_equal(int_at(json_array_get(levels, 1), "depth"), 2);
    assert_int_equal(int_at(json_array_get(levels, 1), "count"), 1);
    nodes = json_object_get(tree, "nodes");
    assert_int_equal(json_array_size(nodes), 3);
    assert_int_equal(int_at(json_array_get(nodes, 0), "id"), idb);
    assert_int_equal(int_at(json_array_get(nodes, 0), "invitedBy"), ida);
    assert_int_equal(int_at(json_array_get(nodes, 1), "id"), idd);
    assert_int_equal(int_at(json_array_get(nodes, 2), "id"), idc);
    assert_int_equal(int_at(json_array_get(nodes, 2), "invitedBy"), idb);
    assert_int_equal(int_at(json_array_get(nodes, 2), "depth"), 2);
    assert_true(json_is_false(json_object_get(tree, "truncated")));
    assert_int_equal(json_array_size(json_object_get(r->json, "chain")), 1);
    mv_resp_free(r);

    /* depth=1 stops below the first level. */
    r = admin_get("/admin/users/%lld?depth=1", ida);
    assert_int_equal(r->status, 200);
    tree = json_object_get(r->json, "tree");
    assert_int_equal(json_array_size(json_object_get(tree, "levels")), 1);
    assert_int_equal(json_array_size(json_object_get(tree, "nodes")), 2);
    mv_resp_free(r);

    free(ca);
    free(cb);
    free(root);
    mv_resp_free(a);
    mv_resp_free(b);
    mv_resp_free(c);
    mv_resp_free(d);
}

static void user_routes_refuse_bad_ids_depths_and_unknown_users(void **state)
{
    static const char *bad_paths[] = {
        "/admin/users/abc",
        "/admin/users/0",
        "/admin/users/-1",
        "/admin/users/1.5",
        "/admin/users/99999999999999999999999",
        "/admin/users/1%27%20OR%201=1",
        "/admin/users/1?depth=0",
        "/admin/users/1?depth=6",
        "/admin/users/1?depth=1000000000000",
        "/admin/users/1?depth=-1",
        "/admin/users/1?depth=abc",
        "/admin/users/1?depth=1&depth=2",
    };
    static const char *actions[] = {"disable", "enable", "revoke-sessions"};
    mv_resp *r;
    size_t i;
    char path[128];
    (void)state;

    for (i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
        r = admin_get("%s", bad_paths[i]);
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
    r = admin_get("/admin/users/9000000000000000000");
    mv_assert_error(r, 404, "user_not_found");
    mv_resp_free(r);
    for (i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/admin/users/9000000000000000000/%s",
                 actions[i]);
        r = admin_send("POST", path, NULL);
        mv_assert_error(r, 404, "user_not_found");
        mv_resp_free(r);
        snprintf(path, sizeof path, "/admin/users/x/%s", actions[i]);
        r = admin_send("POST", path, NULL);
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
        snprintf(path, sizeof path, "/admin/users/1/%s", actions[i]);
        r = admin_send("GET", path, NULL);
        mv_assert_error(r, 405, "method_not_allowed");
        mv_resp_free(r);
    }
    assert_true(mv_sql_int("SELECT count(*) FROM admin_audit WHERE route ="
                           " '/admin/users/{id}/disable' AND target ="
                           " '9000000000000000000' AND status = 404 AND"
                           " outcome = 'user_not_found'") >= 1);
}

static void
disable_refuses_the_users_tokens_everywhere_until_enabled(void **state)
{
    char *email = new_email(), *refresh, *access, path[128], wallet[64];
    mv_resp *acc = new_account(email), *r;
    long long uid = user_id_of(acc);
    json_t *coupons = rw_coupons(2, 5, "");
    rw_user u;
    static const char *gets[] = {"/me", "/invites/me", NULL};
    (void)state;

    access = take_str(acc, "accessToken");
    refresh = take_str(acc, "refreshToken");
    memset(&u, 0, sizeof u);
    snprintf(u.auth, sizeof u.auth, "Authorization: Bearer %s", access);
    u.headers[0] = u.auth;
    snprintf(wallet, sizeof wallet, "/users/%lld/wallet", uid);

    snprintf(path, sizeof path, "/admin/users/%lld/disable", uid);
    r = admin_send("POST", path, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(int_at(r->json, "id"), uid);
    assert_true(json_is_true(json_object_get(r->json, "disabled")));
    assert_int_equal(int_at(r->json, "revokedSessions"), 1);
    mv_resp_free(r);

    for (int i = 0; gets[i]; i++) {
        r = get_bearer(gets[i], access);
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
    }
    r = get_bearer(wallet, access);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    r = scan_with(&u, json_string_value(json_array_get(coupons, 0)));
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    r = with_refresh("/auth/refresh", refresh);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    r = login_user(email, PASSWORD);
    mv_assert_error(r, 403, "account_disabled");
    mv_resp_free(r);
    r = login_user(email, "not the password at all");
    mv_assert_error(r, 401, "invalid_credentials");
    mv_resp_free(r);
    /* The admin still reads the wallet; the detail says disabled. */
    r = admin_get("%s", wallet);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    r = admin_get("/admin/users/%lld", uid);
    assert_true(json_is_true(json_object_get(r->json, "disabled")));
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM scans WHERE user_id ="
                                " %lld",
                                uid),
                     0);

    /* Enabled: the access token works again; the revoked refresh token
     * does not come back, but a new login does. */
    snprintf(path, sizeof path, "/admin/users/%lld/enable", uid);
    r = admin_send("POST", path, NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_is_false(json_object_get(r->json, "disabled")));
    mv_resp_free(r);
    r = get_bearer("/me", access);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    r = scan_with(&u, json_string_value(json_array_get(coupons, 0)));
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    r = with_refresh("/auth/refresh", refresh);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    r = login_user(email, PASSWORD);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM admin_audit WHERE"
                                " target = '%lld' AND outcome = 'ok' AND"
                                " route IN ('/admin/users/{id}/disable',"
                                " '/admin/users/{id}/enable')",
                                uid),
                     2);
    json_decref(coupons);
    free(access);
    free(refresh);
    free(email);
    mv_resp_free(acc);
}

static void a_disabled_user_proving_a_one_time_code_is_told_so(void **state)
{
    char *email = new_email(), member[160], body[256], path[96], *otp;
    mv_resp *acc = new_account(email), *r;
    long long uid = user_id_of(acc);
    (void)state;

    snprintf(path, sizeof path, "/admin/users/%lld/disable", uid);
    r = admin_send("POST", path, NULL);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    snprintf(member, sizeof member, "\"email\":\"%s\"", email);
    otp = rw_otp(member);
    snprintf(body, sizeof body, "{%s,\"otp\":\"%s\"}", member, otp);
    r = mv_http("POST", "/auth/verify", body, NULL);
    mv_assert_error(r, 403, "account_disabled");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE"
                                " user_id = %lld AND revoked_at IS NULL",
                                uid),
                     0);
    free(otp);
    free(email);
    mv_resp_free(acc);
}

static void revoke_sessions_ends_every_refresh_family(void **state)
{
    char *email = new_email(), *r1, *r2, *access, path[128];
    mv_resp *acc = new_account(email), *login, *r;
    long long uid = user_id_of(acc);
    (void)state;

    r1 = take_str(acc, "refreshToken");
    access = take_str(acc, "accessToken");
    login = login_user(email, PASSWORD);
    r2 = take_str(login, "refreshToken");
    snprintf(path, sizeof path, "/admin/users/%lld/revoke-sessions", uid);
    r = admin_send("POST", path, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(int_at(r->json, "revokedSessions"), 2);
    assert_true(json_is_false(json_object_get(r->json, "disabled")));
    mv_resp_free(r);
    r = with_refresh("/auth/refresh", r1);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    r = with_refresh("/auth/refresh", r2);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    /* Access tokens live out their short lifetime (disable is immediate). */
    r = get_bearer("/me", access);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    r = admin_send("POST", path, NULL);
    assert_int_equal(int_at(r->json, "revokedSessions"), 0);
    mv_resp_free(r);
    free(r1);
    free(r2);
    free(access);
    free(email);
    mv_resp_free(acc);
    mv_resp_free(login);
}

/* ---------------------------------------------------------- coupon batches */

/* The batch of the list with this id (borrowed from r), or NULL. */
static json_t *batch_in(const mv_resp *r, long long id)
{
    json_t *items = items_of(r);
    for (size_t i = 0; i < json_array_size(items); i++) {
        if (int_at(json_array_get(items, i), "id") == id) {
            return json_array_get(items, i);
        }
    }
    return NULL;
}

/* The CSV lines of a body (CRLF-separated) into a NULL-terminated array
 * of malloc'd strings; *n lines. */
static char **csv_lines(const char *body, size_t *n)
{
    char **lines = calloc(strlen(body) / 2 + 2, sizeof *lines);
    const char *p = body;

    *n = 0;
    while (*p) {
        const char *e = strstr(p, "\r\n");
        assert_non_null(e); /* every line ends with CRLF */
        lines[(*n)++] = strndup(p, (size_t)(e - p));
        p = e + 2;
    }
    return lines;
}

static void csv_free(char **lines)
{
    for (size_t i = 0; lines[i]; i++) {
        free(lines[i]);
    }
    free(lines);
}

static void batches_list_csv_and_void(void **state)
{
    mv_resp *gen = admin_send("POST", "/coupons/generate",
                              "{\"count\":5,\"points\":7,\"batchName\":"
                              "\"Admin test\",\"sku\":\"SKU-A\"}"),
            *r;
    long long batch = mv_json_int(gen, "batchId");
    json_t *tokens = json_object_get(gen->json, "tokens"), *b;
    rw_user *u = rw_user_new();
    char path[128], *ct, *cd, **lines;
    size_t n, i;
    (void)state;

    assert_int_equal(gen->status, 200);
    for (i = 0; i < 2; i++) {
        r = scan_with(u, json_string_value(json_array_get(tokens, i)));
        assert_int_equal(r->status, 200);
        mv_resp_free(r);
    }
    r = admin_get("/admin/coupon-batches?limit=200");
    b = batch_in(r, batch);
    assert_non_null(b);
    assert_string_equal(str_at(b, "name"), "Admin test");
    assert_string_equal(str_at(b, "sku"), "SKU-A");
    assert_int_equal(int_at(b, "points"), 7);
    assert_int_equal(int_at(b, "count"), 5);
    assert_int_equal(int_at(b, "redeemed"), 2);
    assert_int_equal(int_at(b, "expired"), 0);
    assert_int_equal(int_at(b, "voided"), 0);
    assert_int_equal(int_at(b, "pointsIssued"), 14);
    assert_non_null(str_at(b, "createdAt"));
    assert_true(json_is_null(json_object_get(b, "expiresAt")));
    mv_resp_free(r);

    /* The CSV: an attachment, a header, one line per coupon. */
    snprintf(path, sizeof path, "/admin/coupon-batches/%lld/coupons.csv",
             batch);
    r = admin_get("%s", path);
    assert_int_equal(r->status, 200);
    ct = mv_resp_header(r, "Content-Type");
    cd = mv_resp_header(r, "Content-Disposition");
    assert_non_null(ct);
    assert_int_equal(strncmp(ct, "text/csv", 8), 0);
    assert_non_null(cd);
    assert_int_equal(strncmp(cd, "attachment;", 11), 0);
    lines = csv_lines(r->body, &n);
    assert_int_equal(n, 6);
    assert_string_equal(lines[0], "token,state,redeemedAt,redeemedBy");
    for (i = 0; i < 5; i++) {
        const char *t = json_string_value(json_array_get(tokens, i));
        char want[128];
        int found = 0;
        for (size_t k = 1; k < n; k++) {
            if (strncmp(lines[k], t, 36) == 0) {
                found = 1;
                if (i < 2) {
                    snprintf(want, sizeof want, ",redeemed,");
                    assert_non_null(strstr(lines[k], want));
                    snprintf(want, sizeof want, "Z,%lld", u->id);
                    assert_non_null(strstr(lines[k], want));
                } else {
                    assert_string_equal(lines[k] + 36, ",active,,");
                }
            }
        }
        assert_true(found);
    }
    csv_free(lines);
    free(ct);
    free(cd);
    mv_resp_free(r);

    /* Void: the three open coupons stop working, the redeemed stay. */
    snprintf(path, sizeof path, "/admin/coupon-batches/%lld/void", batch);
    r = admin_send("POST", path, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(int_at(r->json, "id"), batch);
    assert_int_equal(int_at(r->json, "voided"), 3);
    assert_int_equal(int_at(r->json, "redeemed"), 2);
    assert_non_null(str_at(r->json, "voidedAt"));
    mv_resp_free(r);
    r = scan_with(u, json_string_value(json_array_get(tokens, 2)));
    mv_assert_error(r, 410, "coupon_void");
    mv_resp_free(r);
    r = scan_with(u, json_string_value(json_array_get(tokens, 0)));
    mv_assert_error(r, 409, "coupon_already_redeemed");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT balance FROM balances WHERE user_id ="
                                " %lld",
                                u->id),
                     14);
    /* Voiding again changes nothing. */
    r = admin_send("POST", path, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(int_at(r->json, "voided"), 3);
    mv_resp_free(r);
    snprintf(path, sizeof path, "/admin/coupon-batches/%lld/coupons.csv",
             batch);
    r = admin_get("%s", path);
    lines = csv_lines(r->body, &n);
    {
        size_t voids = 0;
        for (i = 1; i < n; i++) {
            voids += strstr(lines[i], ",void,,") != NULL;
        }
        assert_int_equal(voids, 3);
    }
    csv_free(lines);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM admin_audit WHERE"
                                " route = '/coupons/generate' AND target ="
                                " '%lld' AND outcome = 'ok'",
                                batch),
                     1);
    rw_user_free(u);
    mv_resp_free(gen);
}

static void batch_csv_streams_every_coupon_of_a_large_batch(void **state)
{
    json_t *tokens = rw_coupons(2500, 1, "");
    long long batch =
        mv_sql_int("SELECT batch_id FROM coupons WHERE token = '%s'",
                   json_string_value(json_array_get(tokens, 0)));
    mv_resp *r = admin_get("/admin/coupon-batches/%lld/coupons.csv", batch);
    char **lines, *te;
    size_t n, i;
    (void)state;

    assert_int_equal(r->status, 200);
    te = mv_resp_header(r, "Transfer-Encoding");
    assert_non_null(te); /* streamed, not buffered whole */
    free(te);
    lines = csv_lines(r->body, &n);
    assert_int_equal(n, 2501);
    for (i = 1; i < n; i++) {
        assert_int_equal(strlen(lines[i]), 36 + strlen(",active,,"));
    }
    /* Every token once. */
    for (i = 1; i < n; i++) {
        for (size_t k = i + 1; k < n && k < i + 50; k++) {
            assert_int_not_equal(strcmp(lines[i], lines[k]), 0);
        }
    }
    for (i = 0; i < 2500; i += 499) {
        const char *t = json_string_value(json_array_get(tokens, i));
        int found = 0;
        for (size_t k = 1; k < n && !found; k++) {
            found = strncmp(lines[k], t, 36) == 0;
        }
        assert_true(found);
    }
    csv_free(lines);
    json_decref(tokens);
    mv_resp_free(r);
}

static void batch_routes_refuse_bad_and_unknown_ids(void **state)
{
    mv_resp *r;
    char *ct;
    (void)state;

    r = admin_get("/admin/coupon-batches/9000000000000000000/coupons.csv");
    mv_assert_error(r, 404, "batch_not_found");
    ct = mv_resp_header(r, "Content-Type");
    assert_int_equal(strncmp(ct, "application/json", 16), 0);
    free(ct);
    mv_resp_free(r);
    r = admin_send("POST", "/admin/coupon-batches/9000000000000000000/void",
                   NULL);
    mv_assert_error(r, 404, "batch_not_found");
    mv_resp_free(r);
    r = admin_get("/admin/coupon-batches/0/coupons.csv");
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
    r = admin_send("POST", "/admin/coupon-batches/1;DROP/void", NULL);
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
}

/* -------------------------------------------------------------- analytics */

/* The bucket of day (YYYY-MM-DD) in an analytics reply, or NULL. */
static json_t *bucket_of(const mv_resp *r, const char *day)
{
    json_t *buckets = json_object_get(r->json, "buckets");
    for (size_t i = 0; i < json_array_size(buckets); i++) {
        json_t *b = json_array_get(buckets, i);
        if (strncmp(str_at(b, "start"), day, 10) == 0) {
            return b;
        }
    }
    return NULL;
}

/*
 * A day far in the future, filled in SQL: never rolled up (only finished
 * days are), so the route computes it from the tables.  Inviter X joined
 * the day before; Y and Z joined through X's code (Y by e-mail, Z by
 * one-time code) and Y scanned a coupon of 40 points.
 */
static void analytics_counts_a_day_from_the_tables(void **state)
{
    mv_resp *r;
    json_t *b, *f;
    (void)state;

    mv_sql_exec(
        "WITH x AS (INSERT INTO users (email, created_at) VALUES"
        " ('x-2090@example.com', '2089-12-31T10:00:00Z') RETURNING id),"
        " c AS (INSERT INTO invite_codes (code, owner_id, uses, remaining,"
        " created_at) SELECT 'X2090AAA', id, 10, 8, '2089-12-31T10:00:00Z'"
        " FROM x RETURNING id)"
        " INSERT INTO users (email, phone, password_hash, invited_by,"
        " created_at) SELECT 'y-2090@example.com', NULL, 'h', id,"
        " '2090-01-01T08:00:00Z'::timestamptz FROM c UNION ALL SELECT NULL,"
        " '+4900002090', NULL, id, '2090-01-01T09:00:00Z' FROM c");
    mv_sql_exec(
        "WITH b AS (INSERT INTO coupon_batches (points, count, created_at)"
        " VALUES (40, 1, '2089-12-30T00:00:00Z') RETURNING id),"
        " c AS (INSERT INTO coupons (batch_id, token, points, redeemed_at,"
        " redeemed_by) SELECT b.id, gen_random_uuid(), 40,"
        " '2090-01-01T12:00:00Z', u.id FROM b, users u WHERE u.email ="
        " 'y-2090@example.com' RETURNING id, redeemed_by),"
        " s AS (INSERT INTO scans (coupon_id, user_id, created_at) SELECT id,"
        " redeemed_by, '2090-01-01T12:00:00Z' FROM c RETURNING id, user_id,"
        " coupon_id)"
        " , l AS (INSERT INTO ledger (user_id, amount, type, coupon_id,"
        " scan_id, created_at) SELECT user_id, 40, 'scan', coupon_id, id,"
        " '2090-01-01T12:00:00Z' FROM s RETURNING user_id)"
        " INSERT INTO balances (user_id, balance, created_at) SELECT user_id,"
        " 40, '2090-01-01T12:00:00Z' FROM l");

    r = admin_get("/admin/analytics?from=2089-12-31T00:00:00Z"
                  "&to=2090-01-01T23:00:00Z&interval=day");
    assert_int_equal(r->status, 200);
    assert_string_equal(mv_json_str(r, "from"), "2089-12-31T00:00:00Z");
    assert_string_equal(mv_json_str(r, "to"), "2090-01-02T00:00:00Z");
    assert_string_equal(mv_json_str(r, "interval"), "day");
    assert_int_equal(json_array_size(json_object_get(r->json, "buckets")), 2);
    b = bucket_of(r, "2089-12-31");
    assert_int_equal(int_at(b, "signupsEmail") + int_at(b, "signupsOtp"), 1);
    b = bucket_of(r, "2090-01-01");
    assert_string_equal(str_at(b, "start"), "2090-01-01T00:00:00Z");
    assert_int_equal(int_at(b, "signupsEmail"), 1);
    assert_int_equal(int_at(b, "signupsOtp"), 1);
    assert_int_equal(int_at(b, "inviteUses"), 2);
    assert_int_equal(int_at(b, "scans"), 1);
    assert_int_equal(int_at(b, "pointsIssued"), 40);
    f = json_object_get(r->json, "funnel");
    assert_int_equal(int_at(f, "codesUsed"), 1);
    assert_int_equal(int_at(f, "invitees"), 2);
    assert_int_equal(int_at(f, "inviteesScanned"), 1);
    assert_true(int_at(f, "codesHeld") >= 3);
    assert_true(json_real_value(json_object_get(r->json, "kFactor")) == 2.0);
    assert_true(json_is_array(json_object_get(r->json, "topInviters")));
    assert_true(json_is_array(json_object_get(r->json, "batches")));
    mv_resp_free(r);

    /* Weeks start on Monday: 2090-01-01 is a Sunday, the 2nd a Monday. */
    r = admin_get("/admin/analytics?from=2089-12-31T00:00:00Z"
                  "&to=2090-01-03T00:00:00Z&interval=week");
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "buckets")), 2);
    b = bucket_of(r, "2089-12-26");
    assert_non_null(b);
    assert_int_equal(int_at(b, "scans"), 1);
    assert_int_equal(int_at(b, "inviteUses"), 2);
    assert_int_equal(int_at(b, "signupsEmail") + int_at(b, "signupsOtp"), 3);
    b = bucket_of(r, "2090-01-02");
    assert_non_null(b);
    assert_int_equal(int_at(b, "scans"), 0);
    mv_resp_free(r);
}

static void analytics_follow_sign_ups_scans_and_batches_of_today(void **state)
{
    char today[11], *code = root_code(5);
    mv_resp *before, *after, *acc;
    json_t *tokens = rw_coupons(4, 9, "\"batchName\":\"Today\""), *b0, *b1,
           *batches;
    rw_user *u;
    long long batch;
    mv_resp *r;
    size_t i;
    int found = 0;
    (void)state;

    before = admin_get("/admin/analytics");
    assert_int_equal(before->status, 200);
    snprintf(today, sizeof today, "%.10s", mv_json_str(before, "to"));
    /* "to" defaults to now, aligned up to the end of today. */
    {
        char *now = mv_sql("SELECT to_char(now() AT TIME ZONE 'UTC' +"
                           " interval '1 day', 'YYYY-MM-DD')");
        assert_string_equal(today, now);
        free(now);
        now = mv_sql("SELECT to_char(now() AT TIME ZONE 'UTC',"
                     " 'YYYY-MM-DD')");
        snprintf(today, sizeof today, "%s", now);
        free(now);
    }
    assert_int_equal(json_array_size(json_object_get(before->json, "buckets")),
                     30);
    acc = register_with(code);
    u = rw_user_new();
    r = scan_with(u, json_string_value(json_array_get(tokens, 0)));
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    after = admin_get("/admin/analytics");
    b0 = bucket_of(before, today);
    b1 = bucket_of(after, today);
    assert_non_null(b0);
    assert_non_null(b1);
    /* Other tests may run at the same time: at least these changes. */
    assert_true(int_at(b1, "signupsEmail") >= int_at(b0, "signupsEmail") + 1);
    assert_true(int_at(b1, "signupsOtp") >= int_at(b0, "signupsOtp") + 1);
    assert_true(int_at(b1, "inviteUses") >= int_at(b0, "inviteUses") + 2);
    assert_true(int_at(b1, "scans") >= int_at(b0, "scans") + 1);
    assert_true(int_at(b1, "pointsIssued") >= int_at(b0, "pointsIssued") + 9);
    batch = mv_sql_int("SELECT batch_id FROM coupons WHERE token = '%s'",
                       json_string_value(json_array_get(tokens, 0)));
    batches = json_object_get(after->json, "batches");
    for (i = 0; i < json_array_size(batches); i++) {
        json_t *x = json_array_get(batches, i);
        if (int_at(x, "id") == batch) {
            found = 1;
            assert_int_equal(int_at(x, "count"), 4);
            assert_int_equal(int_at(x, "redeemed"), 1);
            assert_true(json_real_value(json_object_get(x, "redemptionRate")) ==
                        0.25);
        }
    }
    assert_true(found);
    json_decref(tokens);
    free(code);
    rw_user_free(u);
    mv_resp_free(acc);
    mv_resp_free(before);
    mv_resp_free(after);
}

static void analytics_refuses_bad_periods(void **state)
{
    static const char *bad[] = {
        "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "from=10000-01-01T00:00:00Z",
        "to=10000-01-01T00:00:00Z",
        "from=2026-01-01",
        "from=yesterday",
        "from=2026-13-01T00:00:00Z",
        "from=2026-01-01T00:00:00Z&from=2026-01-02T00:00:00Z",
        "from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z",
        "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=day",
        "from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=week",
        "interval=month",
        "interval=day%27%3B%20DROP%20TABLE%20users%3B--",
        "interval=",
    };
    mv_resp *r;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = admin_get("/admin/analytics?%s", bad[i]);
        if (r->status != 400) {
            fprintf(stderr, "%s: %ld %s\n", bad[i], r->status, r->body);
        }
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
    /* The largest periods allowed: 400 days, 400 weeks. */
    r = admin_get("/admin/analytics?from=2025-01-01T00:00:00Z"
                  "&to=2026-02-05T00:00:00Z&interval=day");
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "buckets")), 400);
    mv_resp_free(r);
    r = admin_get("/admin/analytics?from=2019-01-07T00:00:00Z"
                  "&to=2026-08-31T00:00:00Z&interval=week");
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "buckets")), 399);
    mv_resp_free(r);
}

/* ------------------------------------------------------------- audit, lists */

static void audit_lists_admin_actions_newest_first(void **state)
{
    char *code = root_code(1);
    mv_resp *r = admin_get("/admin/audit?limit=200");
    json_t *items = items_of(r), *first;
    long long prev = 0;
    (void)state;

    assert_true(json_array_size(items) >= 1);
    first = json_array_get(items, 0);
    assert_string_equal(str_at(first, "method"), "POST");
    assert_string_equal(str_at(first, "route"), "/admin/invite-codes");
    assert_string_equal(str_at(first, "target"), "1 codes");
    assert_string_equal(str_at(first, "clientIp"), "127.0.0.1");
    assert_int_equal(int_at(first, "status"), 200);
    assert_string_equal(str_at(first, "outcome"), "ok");
    assert_non_null(str_at(first, "createdAt"));
    for (size_t i = 0; i < json_array_size(items); i++) {
        long long id = int_at(json_array_get(items, i), "id");
        assert_true(prev == 0 || id < prev);
        prev = id;
    }
    /* Reads are not actions: listing wrote nothing. */
    assert_int_equal(mv_sql_int("SELECT count(*) FROM admin_audit WHERE"
                                " method = 'GET'"),
                     0);
    free(code);
    mv_resp_free(r);
}

static void every_list_refuses_hostile_query_strings(void **state)
{
    static const char *lists[] = {
        "/admin/invite-codes",
        "/admin/users",
        "/admin/coupon-batches",
        "/admin/audit",
    };
    static const char *bad[] = {
        "limit=0",         "limit=201",
        "limit=-1",        "limit=abc",
        "limit=1e3",       "limit=99999999999999999999999",
        "before=0",        "before=abc",
        "before=-5",       "before=1%27%20OR%20%271%27=%271",
        "limit=5&limit=6", "limit=%00",
        "limit=%zz",
    };
    static const char *bad_filters[] = {
        "/admin/invite-codes?owner=abc",
        "/admin/invite-codes?owner=0",
        "/admin/invite-codes?root=yes",
        "/admin/invite-codes?status=gone",
        "/admin/invite-codes?status=active%27%20OR%201=1--",
        "/admin/invite-codes?q=%27%3B%20DROP%20TABLE%20invite_codes%3B--",
        "/admin/invite-codes?q=ABC%25",
        "/admin/invite-codes?q=IIII",
        "/admin/invite-codes?q=",
        "/admin/users?q=%27%3B%20DROP%20TABLE%20users%3B--",
        "/admin/users?q=a%20OR%201",
        "/admin/users?q=%22quoted%22",
        "/admin/users?q=",
        "/admin/users?q=%E2%80%AE",
    };
    size_t i, k;
    mv_resp *r;
    (void)state;

    for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            r = admin_get("%s?%s", lists[i], bad[k]);
            if (r->status != 400) {
                fprintf(stderr, "%s?%s: %ld %s\n", lists[i], bad[k], r->status,
                        r->body);
            }
            mv_assert_error(r, 400, "validation_failed");
            mv_resp_free(r);
        }
    }
    for (i = 0; i < sizeof bad_filters / sizeof bad_filters[0]; i++) {
        r = admin_get("%s", bad_filters[i]);
        if (r->status != 400) {
            fprintf(stderr, "%s: %ld %s\n", bad_filters[i], r->status, r->body);
        }
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
    /* The tables are still there. */
    assert_true(mv_sql_int("SELECT count(*) FROM users") > 0);
    assert_true(mv_sql_int("SELECT count(*) FROM invite_codes") > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_admin_route_refuses_a_missing_or_wrong_key),
        cmocka_unit_test(
            invite_codes_list_filters_by_owner_root_status_and_prefix),
        cmocka_unit_test(lists_page_newest_first_with_next_before),
        cmocka_unit_test(
            invite_code_patch_changes_what_it_names_and_is_audited),
        cmocka_unit_test(invite_code_patch_errors),
        cmocka_unit_test(users_search_by_email_phone_and_id),
        cmocka_unit_test(user_detail_shows_the_chain_up_and_the_tree_down),
        cmocka_unit_test(user_routes_refuse_bad_ids_depths_and_unknown_users),
        cmocka_unit_test(
            disable_refuses_the_users_tokens_everywhere_until_enabled),
        cmocka_unit_test(a_disabled_user_proving_a_one_time_code_is_told_so),
        cmocka_unit_test(revoke_sessions_ends_every_refresh_family),
        cmocka_unit_test(batches_list_csv_and_void),
        cmocka_unit_test(batch_csv_streams_every_coupon_of_a_large_batch),
        cmocka_unit_test(batch_routes_refuse_bad_and_unknown_ids),
        cmocka_unit_test(analytics_counts_a_day_from_the_tables),
        cmocka_unit_test(analytics_follow_sign_ups_scans_and_batches_of_today),
        cmocka_unit_test(analytics_refuses_bad_periods),
        cmocka_unit_test(audit_lists_admin_actions_newest_first),
        cmocka_unit_test(every_list_refuses_hostile_query_strings),
    };
    rw_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
