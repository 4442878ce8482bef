/*
 * accounts_util.h — helpers of the account tests (test_accounts*.c):
 * root codes, registrations and logins, and reading nested JSON.
 * Header-only (static inline) so each test program takes what it uses.
 */
#ifndef MV_ACCOUNTS_UTIL_H
#define MV_ACCOUNTS_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PASSWORD "correct horse battery"

/* A JSON body from a json_pack format: a malloc'd string. */
static inline char *body_of(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    assert_non_null(s);
    return s;
}

/* A fresh, unique, valid e-mail address (malloc'd). */
static inline char *new_email(void)
{
    char *u = mv_unique("user"), *e;
    if (asprintf(&e, "%s@example.com", u) < 0) {
        abort();
    }
    free(u);
    return e;
}

/* Creates one root code of `uses` uses through the admin route at base
 * (NULL: the main instance); returns the code (malloc'd). */
static inline char *root_code_at(const char *base, int uses)
{
    char *body = body_of(json_pack("{s:i, s:i}", "count", 1, "uses", uses));
    mv_resp *r = mv_http_at(base, "POST", "/admin/invite-codes", body,
                            mv_admin_headers());
    json_t *first = json_array_get(json_object_get(r->json, "codes"), 0);
    char *code;

    assert_int_equal(r->status, 200);
    code = strdup(json_string_value(json_object_get(first, "code")));
    mv_resp_free(r);
    free(body);
    return code;
}
#define root_code(uses) root_code_at(NULL, uses)

/* POST /auth/register-with-email at base; code may be NULL (omitted). */
static inline mv_resp *register_at(const char *base, const char *email,
                                   const char *password, const char *code)
{
    json_t *v = json_pack("{s:s, s:s}", "email", email, "password", password);
    char *body;
    mv_resp *r;

    if (code) {
        json_object_set_new(v, "inviteCode", json_string(code));
    }
    body = body_of(v);
    r = mv_http_at(base, "POST", "/auth/register-with-email", body, NULL);
    free(body);
    return r;
}
#define register_user(email, password, code)                                   \
    register_at(NULL, email, password, code)

static inline mv_resp *login_user(const char *email, const char *password)
{
    char *body =
        body_of(json_pack("{s:s, s:s}", "email", email, "password", password));
    mv_resp *r = mv_http("POST", "/auth/login-with-email", body, NULL);
    free(body);
    return r;
}

/* POST to a route with {"refreshToken": token}. */
static inline mv_resp *with_refresh(const char *path, const char *token)
{
    char *body = body_of(json_pack("{s:s}", "refreshToken", token));
    mv_resp *r = mv_http("POST", path, body, NULL);
    free(body);
    return r;
}

/* GET path with "Authorization: Bearer token". */
static inline mv_resp *get_bearer(const char *path, const char *token)
{
    char *h;
    const char *headers[2];
    mv_resp *r;

    if (asprintf(&h, "Authorization: Bearer %s", token) < 0) {
        abort();
    }
    headers[0] = h;
    headers[1] = NULL;
    r = mv_http("GET", path, NULL, headers);
    free(h);
    return r;
}

/* A malloc'd copy of a string member of the body, asserted present. */
static inline char *take_str(const mv_resp *r, const char *key)
{
    const char *v = mv_json_str(r, key);
    if (!v) {
        fprintf(stderr, "no string \"%s\" in %ld %s\n", key, r->status,
                r->body);
    }
    assert_non_null(v);
    return strdup(v);
}

/* A new account: registers with a fresh root code; the response stays
 * the caller's to free. */
static inline mv_resp *new_account(const char *email)
{
    char *code = root_code(1);
    mv_resp *r = register_user(email, PASSWORD, code);
    if (r->status != 200) {
        fprintf(stderr, "register: %ld %s\n", r->status, r->body);
    }
    assert_int_equal(r->status, 200);
    free(code);
    return r;
}

/* The user id of a token response. */
static inline long long user_id_of(const mv_resp *r)
{
    json_t *id = json_object_get(json_object_get(r->json, "user"), "id");
    assert_true(json_is_integer(id));
    return (long long)json_integer_value(id);
}

#endif
