/*
 * Accounts (SPEC §4 rows of /admin/invite-codes, /auth/register-with-email,
 * /auth/login-with-email, /auth/refresh, /auth/logout, /me, /invites/me;
 * §4.1; §5): every success and error row with its body, and what the
 * database holds afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "accounts_util.h"
#include "mv_crypto.h"
#include "mv_jwt.h"

/* 1 if every character of s is in the invite alphabet. */
static int in_alphabet(const char *s)
{
    return s[strspn(s, MV_INVITE_ALPHABET)] == '\0';
}

/* Asserts the token response of SPEC §4.1 and returns the user object. */
static json_t *assert_token_response(const mv_resp *r, const char *email)
{
    const char *secret = getenv("MV_TEST_JWT_SECRET");
    json_t *user = json_object_get(r->json, "user");
    json_t *code = json_object_get(user, "inviteCode");
    const char *access = mv_json_str(r, "accessToken");
    const char *refresh = mv_json_str(r, "refreshToken");
    long long uid = 0;

    if (r->status != 200) {
        fprintf(stderr, "expected a token response, got %ld %s\n", r->status,
                r->body);
    }
    assert_int_equal(r->status, 200);
    assert_non_null(access);
    assert_non_null(refresh);
    assert_int_equal(strlen(refresh), MV_OPAQUE_TOKEN_LEN);
    assert_string_equal(mv_json_str(r, "tokenType"), "Bearer");
    assert_int_equal(mv_json_int(r, "expiresIn"), 900);
    assert_int_equal(mv_jwt_verify((const unsigned char *)secret,
                                   strlen(secret), "mod_mocaverse", access,
                                   (long long)time(NULL), &uid),
                     MV_JWT_OK);
    assert_true(json_is_object(user));
    assert_int_equal(json_integer_value(json_object_get(user, "id")), uid);
    assert_true(json_is_null(json_object_get(user, "phone")));
    if (email) {
        assert_string_equal(json_string_value(json_object_get(user, "email")),
                            email);
    }
    assert_true(json_is_object(code));
    assert_int_equal(strlen(json_string_value(json_object_get(code, "code"))),
                     8);
    assert_true(in_alphabet(json_string_value(json_object_get(code, "code"))));
    assert_true(json_is_integer(json_object_get(code, "remaining")));
    return user;
}

/* ----------------------------------------------------- admin invite codes */

static void admin_creates_root_codes_owned_by_nobody(void **state)
{
    mv_resp *r = mv_http("POST", "/admin/invite-codes",
                         "{\"count\":5,\"uses\":3}", mv_admin_headers());
    json_t *codes = json_object_get(r->json, "codes");
    size_t i;
    (void)state;
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(codes), 5);
    for (i = 0; i < 5; i++) {
        json_t *c = json_array_get(codes, i);
        const char *code = json_string_value(json_object_get(c, "code"));
        assert_int_equal(strlen(code), 8);
        assert_true(in_alphabet(code));
        assert_int_equal(json_integer_value(json_object_get(c, "remaining")),
                         3);
        assert_true(json_is_null(json_object_get(c, "expiresAt")));
        assert_int_equal(mv_sql_int("SELECT count(*) FROM invite_codes WHERE "
                                    "code = '%s' AND owner_id IS NULL AND "
                                    "uses = 3 AND remaining = 3",
                                    code),
                         1);
    }
    mv_resp_free(r);
}

static void admin_root_codes_keep_expiry_and_legacy_header(void **state)
{
    char key[256];
    const char *legacy[] = {key, NULL};
    mv_resp *r;
    json_t *c;
    (void)state;
    snprintf(key, sizeof(key), "X-Api-Key: %s", mv_admin_key());
    r = mv_http("POST", "/admin/invite-codes",
                "{\"count\":1,\"uses\":1000000,"
                "\"expiresAt\":\"2099-05-01T10:20:30Z\",\"extra\":[1]}",
                legacy);
    assert_int_equal(r->status, 200);
    c = json_array_get(json_object_get(r->json, "codes"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "expiresAt")),
                        "2099-05-01T10:20:30Z");
    assert_int_equal(json_integer_value(json_object_get(c, "remaining")),
                     1000000);
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM invite_codes WHERE code = '%s' AND "
                   "expires_at = '2099-05-01T10:20:30Z'",
                   json_string_value(json_object_get(c, "code"))),
        1);
    mv_resp_free(r);
}

static void admin_creates_10000_codes_in_one_call(void **state)
{
    long long before = mv_sql_int("SELECT count(*) FROM invite_codes");
    mv_resp *r = mv_http("POST", "/admin/invite-codes",
                         "{\"count\":10000,\"uses\":1}", mv_admin_headers());
    (void)state;
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "codes")), 10000);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM invite_codes"),
                     before + 10000);
    mv_resp_free(r);
}

static void admin_invite_codes_without_valid_key_is_403(void **state)
{
    const char *wrong[] = {"X-Admin-Key: not-the-admin-key-at-all", NULL};
    const char *empty[] = {"X-Admin-Key: ", NULL};
    char *email = new_email(), *h;
    mv_resp *acc = new_account(email), *r;
    long long before = mv_sql_int("SELECT count(*) FROM invite_codes");
    const char *bearer[2];
    (void)state;
    r = mv_http("POST", "/admin/invite-codes", "{\"count\":1,\"uses\":1}",
                NULL);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    r = mv_http("POST", "/admin/invite-codes", "{\"count\":1,\"uses\":1}",
                wrong);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    r = mv_http("POST", "/admin/invite-codes", "{\"count\":1,\"uses\":1}",
                empty);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    /* A user's access token is no admin key. */
    if (asprintf(&h, "Authorization: Bearer %s",
                 mv_json_str(acc, "accessToken")) < 0) {
        abort();
    }
    bearer[0] = h;
    bearer[1] = NULL;
    r = mv_http("POST", "/admin/invite-codes", "{\"count\":1,\"uses\":1}",
                bearer);
    mv_assert_error(r, 403, "forbidden");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM invite_codes"), before);
    mv_resp_free(acc);
    free(h);
    free(email);
}

static void admin_invite_codes_bad_count_or_uses_is_400(void **state)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"uses\":1}", "count"},
        {"{\"count\":1}", "uses"},
        {"{\"count\":0,\"uses\":1}", "count"},
        {"{\"count\":10001,\"uses\":1}", "count"},
        {"{\"count\":-1,\"uses\":1}", "count"},
        {"{\"count\":\"5\",\"uses\":1}", "count"},
        {"{\"count\":5.0,\"uses\":1}", "count"},
        {"{\"count\":true,\"uses\":1}", "count"},
        {"{\"count\":null,\"uses\":1}", "count"},
        {"{\"count\":1e20,\"uses\":1}", "count"},
        {"{\"count\":1,\"uses\":0}", "uses"},
        {"{\"count\":1,\"uses\":1000001}", "uses"},
        {"{\"count\":1,\"uses\":[1]}", "uses"},
        {"{\"count\":1,\"uses\":1,\"expiresAt\":\"2001-01-01T00:00:00Z\"}",
         "expiresAt"},
        {"{\"count\":1,\"uses\":1,\"expiresAt\":\"tomorrow\"}", "expiresAt"},
        {"{\"count\":1,\"uses\":1,\"expiresAt\":1893456000}", "expiresAt"},
    };
    long long before = mv_sql_int("SELECT count(*) FROM invite_codes");
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        mv_resp *r = mv_http("POST", "/admin/invite-codes", cases[i].body,
                             mv_admin_headers());
        json_t *fields = json_object_get(r->json, "fields");
        mv_assert_error(r, 400, "validation_failed");
        if (!json_object_get(fields, cases[i].field)) {
            fprintf(stderr, "%s: no field %s in %s\n", cases[i].body,
                    cases[i].field, r->body);
            fail();
        }
        mv_resp_free(r);
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM invite_codes"), before);
}

/* ------------------------------------------------------------- register */

static void register_returns_tokens_and_an_own_code(void **state)
{
    char *code = root_code(2), *email = new_email();
    mv_resp *r = register_user(email, PASSWORD, code);
    json_t *user = assert_token_response(r, email);
    long long uid = json_integer_value(json_object_get(user, "id"));
    const char *own = json_string_value(
        json_object_get(json_object_get(user, "inviteCode"), "code"));
    (void)state;
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(user, "inviteCode"), "remaining")),
                     10);
    /* One use taken, the inviter recorded, the new code owned. */
    assert_int_equal(
        mv_sql_int("SELECT remaining FROM invite_codes WHERE code = '%s'",
                   code),
        1);
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM users u JOIN invite_codes c ON "
                   "c.id = u.invited_by WHERE u.id = %lld AND c.code = '%s'",
                   uid, code),
        1);
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM invite_codes WHERE code = '%s' AND "
                   "owner_id = %lld AND uses = 10 AND remaining = 10 AND "
                   "expires_at IS NULL",
                   own, uid),
        1);
    /* Only an argon2id hash is stored, and only a hash of the refresh
     * token. */
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM users WHERE id = %lld AND "
                   "password_hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%%' "
                   "AND position('%s' in password_hash) = 0",
                   uid, PASSWORD),
        1);
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM refresh_tokens t JOIN "
                   "refresh_families f ON f.id = t.family_id WHERE "
                   "f.user_id = %lld AND length(t.token_hash) = 64 AND "
                   "t.token_hash <> '%s'",
                   uid, mv_json_str(r, "refreshToken")),
        1);
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM refresh_families WHERE user_id = "
                   "%lld AND expires_at BETWEEN created_at + interval "
                   "'2592000 s' - interval '5 s' AND created_at + interval "
                   "'2592000 s' + interval '5 s'",
                   uid),
        1);
    mv_resp_free(r);
    free(code);
    free(email);
}

static void register_with_invitees_code_records_the_inviter(void **state)
{
    char *e1 = new_email(), *e2 = new_email(), *own;
    mv_resp *a = new_account(e1), *b;
    long long inviter = user_id_of(a), invitee;
    (void)state;
    own = strdup(json_string_value(json_object_get(
        json_object_get(json_object_get(a->json, "user"), "inviteCode"),
        "code")));
    b = register_user(e2, PASSWORD, own);
    assert_token_response(b, e2);
    invitee = user_id_of(b);
    assert_int_equal(
        mv_sql_int("SELECT c.owner_id FROM users u JOIN invite_codes c ON "
                   "c.id = u.invited_by WHERE u.id = %lld",
                   invitee),
        inviter);
    mv_resp_free(b);
    /* The inviter sees the use and the invitee. */
    b = get_bearer("/invites/me", mv_json_str(a, "accessToken"));
    assert_int_equal(b->status, 200);
    assert_string_equal(mv_json_str(b, "code"), own);
    assert_int_equal(mv_json_int(b, "remaining"), 9);
    assert_int_equal(mv_json_int(b, "used"), 1);
    assert_int_equal(mv_json_int(b, "invitees"), 1);
    mv_resp_free(b);
    mv_resp_free(a);
    free(own);
    free(e1);
    free(e2);
}

static void
register_accepts_code_in_any_case_with_spaces_and_dashes(void **state)
{
    char *code = root_code(3), messy[64], *email;
    mv_resp *r;
    size_t i, o = 0;
    (void)state;
    /* "abcd-efgh" -> " abcd - efgh " in lower case */
    messy[o++] = ' ';
    for (i = 0; code[i]; i++) {
        messy[o++] =
            (char)((code[i] >= 'A' && code[i] <= 'Z') ? code[i] - 'A' + 'a'
                                                      : code[i]);
        if (i == 3) {
            messy[o++] = ' ';
            messy[o++] = '-';
            messy[o++] = ' ';
        }
    }
    messy[o++] = ' ';
    messy[o] = '\0';
    email = new_email();
    r = register_user(email, PASSWORD, messy);
    assert_token_response(r, email);
    assert_int_equal(
        mv_sql_int("SELECT remaining FROM invite_codes WHERE code = '%s'",
                   code),
        2);
    mv_resp_free(r);
    free(email);
    free(code);
}

static void register_bad_fields_is_400_validation_failed(void **state)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{}", "email"},
        {"{\"password\":\"" PASSWORD "\",\"inviteCode\":\"X\"}", "email"},
        {"{\"email\":\"a@example.com\",\"inviteCode\":\"X\"}", "password"},
        {"{\"email\":\"a@example.com\",\"password\":\"" PASSWORD "\"}",
         "inviteCode"},
        {"{\"email\":\"a@example.com\",\"password\":\"" PASSWORD
         "\",\"inviteCode\":\"\"}",
         "inviteCode"},
        {"{\"email\":\"a@example.com\",\"password\":\"" PASSWORD
         "\",\"inviteCode\":\" - \"}",
         "inviteCode"},
        {"{\"email\":\"a@example.com\",\"password\":\"" PASSWORD
         "\",\"inviteCode\":null}",
         "inviteCode"},
        {"{\"email\":\"a@example.com\",\"password\":\"" PASSWORD
         "\",\"inviteCode\":12345678}",
         "inviteCode"},
        {"{\"email\":\"not-an-email\",\"password\":\"" PASSWORD
         "\",\"inviteCode\":\"ABCDEFGH\"}",
         "email"},
        {"{\"email\":\"a@b\",\"password\":\"" PASSWORD
         "\",\"inviteCode\":\"ABCDEFGH\"}",
         "email"},
        {"{\"email\":\"\",\"password\":\"" PASSWORD
         "\",\"inviteCode\":\"ABCDEFGH\"}",
         "email"},
        {"{\"email\":[\"a@example.com\"],\"password\":\"" PASSWORD
         "\",\"inviteCode\":\"ABCDEFGH\"}",
         "email"},
        {"{\"email\":\"a@example.com\",\"password\":\"short\","
         "\"inviteCode\":\"ABCDEFGH\"}",
         "password"},
        {"{\"email\":\"a@example.com\",\"password\":\"\","
         "\"inviteCode\":\"ABCDEFGH\"}",
         "password"},
        {"{\"email\":\"a@example.com\",\"password\":12345678,"
         "\"inviteCode\":\"ABCDEFGH\"}",
         "password"},
        {"{\"email\":\"a@example.com\",\"password\":{\"p\":1},"
         "\"inviteCode\":\"ABCDEFGH\"}",
         "password"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        mv_resp *r =
            mv_http("POST", "/auth/register-with-email", cases[i].body, NULL);
        mv_assert_error(r, 400, "validation_failed");
        if (!json_is_string(json_object_get(json_object_get(r->json, "fields"),
                                            cases[i].field))) {
            fprintf(stderr, "%s: no field %s in %s\n", cases[i].body,
                    cases[i].field, r->body);
            fail();
        }
        mv_resp_free(r);
    }
}

static void register_email_and_password_limits(void **state)
{
    char local[65], l63[64], email[300], pw[600];
    char *code = root_code(5), *uniq = mv_unique("x");
    mv_resp *r;
    int i;
    (void)state;
    /* 255 characters of e-mail: refused; 254: the longest accepted. */
    memset(local, 'a', 64);
    memcpy(local, uniq, strlen(uniq));
    local[64] = '\0';
    memset(l63, 'b', 63);
    l63[63] = '\0';
    snprintf(email, sizeof(email), "%s@%s.%s.%.58s.com", local, l63, l63, l63);
    assert_int_equal(strlen(email), 255);
    r = register_user(email, PASSWORD, code);
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
    snprintf(email, sizeof(email), "%s@%s.%s.%.57s.com", local, l63, l63, l63);
    assert_int_equal(strlen(email), 254);
    r = register_user(email, PASSWORD, code);
    assert_token_response(r, email);
    mv_resp_free(r);
    free(uniq);
    /* 129 code points of password: refused; 128 two-byte ones: fine. */
    memset(pw, 'p', 129);
    pw[129] = '\0';
    r = register_user("limits@example.com", pw, code);
    mv_assert_error(r, 400, "validation_failed");
    assert_non_null(
        json_object_get(json_object_get(r->json, "fields"), "password"));
    mv_resp_free(r);
    for (i = 0; i < 128; i++) {
        memcpy(pw + 2 * i, "\xc3\xa9", 2); /* é */
    }
    pw[256] = '\0';
    {
        char *e = new_email();
        r = register_user(e, pw, code);
        assert_token_response(r, e);
        mv_resp_free(r);
        r = login_user(e, pw);
        assert_token_response(r, e);
        mv_resp_free(r);
        free(e);
    }
    /* 7 four-byte code points are 28 bytes but 7 characters: too short. */
    pw[0] = '\0';
    for (i = 0; i < 7; i++) {
        strcat(pw, "\xf0\x9f\x98\x80");
    }
    r = register_user("emoji@example.com", pw, code);
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
    /* Exactly 8 characters is the minimum. */
    {
        char *e = new_email();
        r = register_user(e, "12345678", code);
        assert_token_response(r, e);
        mv_resp_free(r);
        free(e);
    }
    free(code);
}

static void register_unknown_disabled_expired_code_is_invalid(void **state)
{
    char *disabled = root_code(5), *expired = root_code(5), *e = new_email();
    const char *codes[] = {"ZZZZZZZZ",
                           "AAAAAAAAAAAAAAAA",
                           "ABC",
                           "!!!!!!!!",
                           "ILOU1234",
                           "' OR 1=1 --",
                           "\xc3\x84"
                           "BCDEFGH",
                           NULL,
                           NULL};
    mv_resp *r;
    size_t i;
    (void)state;
    mv_sql_exec("UPDATE invite_codes SET disabled = true WHERE code = '%s'",
                disabled);
    mv_sql_exec("UPDATE invite_codes SET expires_at = now() - interval '1 s' "
                "WHERE code = '%s'",
                expired);
    codes[7] = disabled;
    codes[8] = expired;
    for (i = 0; i < sizeof(codes) / sizeof(*codes); i++) {
        r = register_user(e, PASSWORD, codes[i]);
        mv_assert_error(r, 400, "invalid_invite_code");
        mv_resp_free(r);
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE email = "
                                "'%s'",
                                e),
                     0);
    assert_int_equal(mv_sql_int("SELECT remaining FROM invite_codes WHERE "
                                "code = '%s'",
                                disabled),
                     5);
    free(disabled);
    free(expired);
    free(e);
}

static void register_used_up_code_is_400_used_up(void **state)
{
    char *code = root_code(1), *e1 = new_email(), *e2 = new_email();
    mv_resp *r = register_user(e1, PASSWORD, code);
    (void)state;
    assert_token_response(r, e1);
    mv_resp_free(r);
    r = register_user(e2, PASSWORD, code);
    mv_assert_error(r, 400, "invite_code_used_up");
    mv_resp_free(r);
    assert_int_equal(
        mv_sql_int("SELECT remaining FROM invite_codes WHERE code = '%s'",
                   code),
        0);
    free(code);
    free(e1);
    free(e2);
}

static void register_taken_email_any_case_is_409_and_use_returned(void **state)
{
    char *code = root_code(3), *e = new_email(), *upper = strdup(e);
    mv_resp *r = register_user(e, PASSWORD, code);
    size_t i;
    (void)state;
    assert_token_response(r, e);
    mv_resp_free(r);
    for (i = 0; upper[i]; i++) {
        if (upper[i] >= 'a' && upper[i] <= 'z') {
            upper[i] = (char)(upper[i] - 'a' + 'A');
        }
    }
    r = register_user(upper, "another password", code);
    mv_assert_error(r, 409, "email_taken");
    mv_resp_free(r);
    assert_int_equal(
        mv_sql_int("SELECT remaining FROM invite_codes WHERE code = '%s'",
                   code),
        2);
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM users WHERE lower(email) = "
                   "lower('%s')",
                   e),
        1);
    free(code);
    free(e);
    free(upper);
}

static void register_checks_invite_code_before_email(void **state)
{
    char *e = new_email(), *used = root_code(1), *other = new_email();
    mv_resp *acc = new_account(e), *r;
    (void)state;
    /* The e-mail exists, but without a valid code nobody learns that. */
    r = register_user(e, PASSWORD, "ZZZZZZZZ");
    mv_assert_error(r, 400, "invalid_invite_code");
    mv_resp_free(r);
    r = register_user(other, PASSWORD, used);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    r = register_user(e, PASSWORD, used);
    mv_assert_error(r, 400, "invite_code_used_up");
    mv_resp_free(r);
    mv_resp_free(acc);
    free(e);
    free(used);
    free(other);
}

/* ---------------------------------------------------------------- login */

static void login_matches_email_in_any_case(void **state)
{
    char *e = new_email(), *upper = strdup(e);
    mv_resp *acc = new_account(e), *r;
    size_t i;
    (void)state;
    for (i = 0; upper[i]; i++) {
        if (upper[i] >= 'a' && upper[i] <= 'z') {
            upper[i] = (char)(upper[i] - 'a' + 'A');
        }
    }
    r = login_user(upper, PASSWORD);
    assert_token_response(r, e); /* the stored address, as registered */
    assert_int_equal(user_id_of(r), user_id_of(acc));
    assert_string_not_equal(mv_json_str(r, "refreshToken"),
                            mv_json_str(acc, "refreshToken"));
    /* Each login is a family of its own. */
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families "
                                "WHERE user_id = %lld",
                                user_id_of(acc)),
                     2);
    mv_resp_free(r);
    mv_resp_free(acc);
    free(e);
    free(upper);
}

static void login_wrong_password_and_unknown_email_answer_alike(void **state)
{
    char *e = new_email(), *nobody = new_email();
    mv_resp *acc = new_account(e), *wrong, *unknown, *bad, *nopw;
    char *passwordless;
    (void)state;
    wrong = login_user(e, "wrong password!");
    unknown = login_user(nobody, PASSWORD);
    bad = login_user("not an e-mail at all", PASSWORD);
    mv_assert_error(wrong, 401, "invalid_credentials");
    mv_assert_error(unknown, 401, "invalid_credentials");
    mv_assert_error(bad, 401, "invalid_credentials");
    assert_string_equal(wrong->body, unknown->body);
    assert_string_equal(wrong->body, bad->body);
    /* An account without a password (made by OTP) cannot log in so. */
    passwordless = new_email();
    mv_sql_exec("INSERT INTO users (email) VALUES ('%s')", passwordless);
    nopw = login_user(passwordless, "");
    mv_assert_error(nopw, 401, "invalid_credentials");
    assert_string_equal(wrong->body, nopw->body);
    mv_resp_free(nopw);
    nopw = login_user(passwordless, PASSWORD);
    mv_assert_error(nopw, 401, "invalid_credentials");
    mv_resp_free(nopw);
    mv_resp_free(wrong);
    mv_resp_free(unknown);
    mv_resp_free(bad);
    mv_resp_free(acc);
    free(e);
    free(nobody);
    free(passwordless);
}

static void login_missing_or_non_string_fields_is_400(void **state)
{
    const char *bodies[] = {
        "{}",
        "{\"email\":\"a@example.com\"}",
        "{\"password\":\"" PASSWORD "\"}",
        "{\"email\":1,\"password\":\"" PASSWORD "\"}",
        "{\"email\":\"a@example.com\",\"password\":false}",
        "{\"email\":null,\"password\":null}",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
        mv_resp *r = mv_http("POST", "/auth/login-with-email", bodies[i], NULL);
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
}

/* -------------------------------------------------------------- refresh */

static void refresh_rotates_and_reuse_revokes_the_family(void **state)
{
    char *e = new_email(), *a, *b;
    mv_resp *acc = new_account(e), *r;
    long long uid = user_id_of(acc);
    (void)state;
    a = take_str(acc, "refreshToken");
    r = with_refresh("/auth/refresh", a); /* A -> B */
    assert_token_response(r, e);
    assert_int_equal(user_id_of(r), uid);
    b = take_str(r, "refreshToken");
    assert_string_not_equal(a, b);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_tokens t JOIN "
                                "refresh_families f ON f.id = t.family_id "
                                "WHERE f.user_id = %lld",
                                uid),
                     2);
    /* Later than MocaverseRefreshReuseInterval after its rotation... */
    mv_sql_exec("UPDATE refresh_tokens SET rotated_at = rotated_at - interval"
                " '1 hour' WHERE rotated_at IS NOT NULL AND family_id IN"
                " (SELECT id FROM refresh_families WHERE user_id = %lld)",
                uid);
    r = with_refresh("/auth/refresh", a); /* ...A again: reuse */
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE "
                                "user_id = %lld AND revoked_at IS NOT NULL",
                                uid),
                     1);
    r = with_refresh("/auth/refresh", b); /* B: revoked too */
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    /* The access token stays valid until it expires (stateless). */
    r = get_bearer("/me", mv_json_str(acc, "accessToken"));
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    /* Another login's family is untouched. */
    r = login_user(e, PASSWORD);
    free(a);
    a = take_str(r, "refreshToken");
    mv_resp_free(r);
    r = with_refresh("/auth/refresh", a);
    assert_token_response(r, e);
    mv_resp_free(r);
    mv_resp_free(acc);
    free(a);
    free(b);
    free(e);
}

static void refresh_chain_keeps_the_family_expiry(void **state)
{
    char *e = new_email(), *tok;
    mv_resp *acc = new_account(e), *r;
    long long uid = user_id_of(acc);
    char *expiry;
    int i;
    (void)state;
    expiry = mv_sql("SELECT expires_at FROM refresh_families WHERE user_id = "
                    "%lld",
                    uid);
    tok = take_str(acc, "refreshToken");
    for (i = 0; i < 5; i++) {
        r = with_refresh("/auth/refresh", tok);
        assert_int_equal(r->status, 200);
        free(tok);
        tok = take_str(r, "refreshToken");
        mv_resp_free(r);
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE "
                                "user_id = %lld AND expires_at = '%s'",
                                uid, expiry),
                     1);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_tokens t JOIN "
                                "refresh_families f ON f.id = t.family_id "
                                "WHERE f.user_id = %lld AND rotated_at IS "
                                "NULL",
                                uid),
                     1);
    /* Past the absolute expiry, the newest token is refused too. */
    mv_sql_exec("UPDATE refresh_families SET expires_at = now() - interval "
                "'1 s' WHERE user_id = %lld",
                uid);
    r = with_refresh("/auth/refresh", tok);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    mv_resp_free(acc);
    free(expiry);
    free(tok);
    free(e);
}

static void refresh_unknown_or_malformed_token_is_401(void **state)
{
    char fresh[MV_OPAQUE_TOKEN_LEN + 1];
    const char *tokens[] = {fresh,
                            "",
                            "x",
                            "' OR 1=1 --",
                            "eyJhbGciOiJIUzI1NiJ9.e30.x",
                            "\xc3\xa9\xc3\xa9\xc3\xa9"};
    size_t i;
    (void)state;
    mv_opaque_token(fresh);
    for (i = 0; i < sizeof(tokens) / sizeof(*tokens); i++) {
        mv_resp *r = with_refresh("/auth/refresh", tokens[i]);
        mv_assert_error(r, 401, "invalid_refresh_token");
        mv_resp_free(r);
    }
}

static void refresh_missing_or_non_string_token_is_400(void **state)
{
    const char *bodies[] = {
        "{}", "{\"refreshToken\":null}", "{\"refreshToken\":42}",
        "{\"refreshToken\":[\"a\"]}", "{\"refresh_token\":\"abc\"}"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
        mv_resp *r = mv_http("POST", "/auth/refresh", bodies[i], NULL);
        mv_assert_error(r, 400, "validation_failed");
        assert_non_null(json_object_get(json_object_get(r->json, "fields"),
                                        "refreshToken"));
        mv_resp_free(r);
        r = mv_http("POST", "/auth/logout", bodies[i], NULL);
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
}

/* --------------------------------------------------------------- logout */

static void logout_revokes_the_family_and_is_idempotent(void **state)
{
    char fresh[MV_OPAQUE_TOKEN_LEN + 1];
    char *e = new_email(), *tok, *other;
    mv_resp *acc = new_account(e), *r;
    long long uid = user_id_of(acc);
    int i;
    (void)state;
    tok = take_str(acc, "refreshToken");
    r = login_user(e, PASSWORD);
    other = take_str(r, "refreshToken");
    mv_resp_free(r);
    for (i = 0; i < 2; i++) {
        r = with_refresh("/auth/logout", tok);
        assert_int_equal(r->status, 200);
        assert_true(json_is_true(json_object_get(r->json, "success")));
        mv_resp_free(r);
    }
    r = with_refresh("/auth/refresh", tok);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families WHERE "
                                "user_id = %lld AND revoked_at IS NOT NULL",
                                uid),
                     1);
    /* The other session (another family) still works. */
    r = with_refresh("/auth/refresh", other);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    /* Unknown and malformed tokens: 200 as well. */
    mv_opaque_token(fresh);
    {
        const char *unknown[] = {fresh, "", "nonsense", "' OR 1=1 --"};
        size_t k;
        for (k = 0; k < sizeof(unknown) / sizeof(*unknown); k++) {
            r = with_refresh("/auth/logout", unknown[k]);
            assert_int_equal(r->status, 200);
            assert_true(json_is_true(json_object_get(r->json, "success")));
            mv_resp_free(r);
        }
    }
    mv_resp_free(acc);
    free(tok);
    free(other);
    free(e);
}

/* ------------------------------------------------------ me, invites/me */

static void me_returns_the_account(void **state)
{
    char *e = new_email();
    mv_resp *acc = new_account(e), *r;
    json_t *code;
    char *created;
    (void)state;
    r = get_bearer("/me", mv_json_str(acc, "accessToken"));
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "id"), user_id_of(acc));
    assert_string_equal(mv_json_str(r, "email"), e);
    assert_true(json_is_null(json_object_get(r->json, "phone")));
    created = mv_sql("SELECT to_char(created_at AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM users WHERE id = "
                     "%lld",
                     user_id_of(acc));
    assert_string_equal(mv_json_str(r, "createdAt"), created);
    code = json_object_get(r->json, "inviteCode");
    assert_true(
        json_equal(code, json_object_get(json_object_get(acc->json, "user"),
                                         "inviteCode")));
    assert_null(json_object_get(r->json, "password_hash"));
    assert_null(strstr(r->body, "argon2"));
    mv_resp_free(r);
    mv_resp_free(acc);
    free(created);
    free(e);
}

static void me_and_invites_without_valid_token_are_401(void **state)
{
    const char *paths[] = {"/me", "/invites/me"};
    const char *basic[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
    const char *empty[] = {"Authorization: Bearer ", NULL};
    size_t i;
    (void)state;
    for (i = 0; i < 2; i++) {
        mv_resp *r = mv_http("GET", paths[i], NULL, NULL);
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
        r = mv_http("GET", paths[i], NULL, basic);
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
        r = mv_http("GET", paths[i], NULL, empty);
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
        r = get_bearer(paths[i], "garbage");
        mv_assert_error(r, 401, "unauthorized");
        mv_resp_free(r);
    }
}

static void me_and_invites_of_a_deleted_user_are_401(void **state)
{
    char *e = new_email();
    mv_resp *acc = new_account(e), *r;
    (void)state;
    mv_sql_exec("DELETE FROM users WHERE id = %lld", user_id_of(acc));
    r = get_bearer("/me", mv_json_str(acc, "accessToken"));
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    r = get_bearer("/invites/me", mv_json_str(acc, "accessToken"));
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    /* Its refresh tokens went with it. */
    r = with_refresh("/auth/refresh", mv_json_str(acc, "refreshToken"));
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    r = login_user(e, PASSWORD);
    mv_assert_error(r, 401, "invalid_credentials");
    mv_resp_free(r);
    mv_resp_free(acc);
    free(e);
}

static void invites_me_counts_uses_and_invitees(void **state)
{
    char *e = new_email(), *own;
    mv_resp *acc = new_account(e), *r;
    int i;
    (void)state;
    own = strdup(json_string_value(json_object_get(
        json_object_get(json_object_get(acc->json, "user"), "inviteCode"),
        "code")));
    r = get_bearer("/invites/me", mv_json_str(acc, "accessToken"));
    assert_int_equal(r->status, 200);
    assert_string_equal(mv_json_str(r, "code"), own);
    assert_int_equal(mv_json_int(r, "remaining"), 10);
    assert_int_equal(mv_json_int(r, "used"), 0);
    assert_int_equal(mv_json_int(r, "invitees"), 0);
    mv_resp_free(r);
    for (i = 0; i < 3; i++) {
        char *f = new_email();
        r = register_user(f, PASSWORD, own);
        assert_int_equal(r->status, 200);
        mv_resp_free(r);
        free(f);
    }
    r = get_bearer("/invites/me", mv_json_str(acc, "accessToken"));
    assert_int_equal(mv_json_int(r, "remaining"), 7);
    assert_int_equal(mv_json_int(r, "used"), 3);
    assert_int_equal(mv_json_int(r, "invitees"), 3);
    mv_resp_free(r);
    /* /me shows the same remaining uses. */
    r = get_bearer("/me", mv_json_str(acc, "accessToken"));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(r->json, "inviteCode"), "remaining")),
                     7);
    mv_resp_free(r);
    mv_resp_free(acc);
    free(own);
    free(e);
}

/* --------------------------------------------------------------- hostile */

/* Bodies no route of this group may answer with anything but a 4xx JSON
 * error (each route's own fields get every kind of wrong value). */
static void hostile_input_on_every_route_is_4xx_json(void **state)
{
    static const char *routes[] = {"/auth/register-with-email",
                                   "/auth/login-with-email", "/auth/refresh",
                                   "/auth/logout", "/admin/invite-codes"};
    static const char *fields[] = {"email",        "password", "inviteCode",
                                   "refreshToken", "count",    "uses",
                                   "expiresAt"};
    static const char *values[] = {"\"\"",
                                   "null",
                                   "true",
                                   "[]",
                                   "{}",
                                   "[[[[[[[[[[]]]]]]]]]]",
                                   "-1",
                                   "0",
                                   "1e308",
                                   "-9223372036854775809",
                                   "184467440737095516160000",
                                   "3.14",
                                   "\"' OR '1'='1\"",
                                   "\"'; DROP TABLE users; --\"",
                                   "\"\\ud83d\\ude00\"",
                                   "\"%s%s%s%n\"",
                                   "\"\\u00e9\\u00e9\"",
                                   "\"$1\"",
                                   "\"a@example.com\\u0000\"",
                                   "\"\\ud800\""};
    /* Valid-looking values of the same fields, in the same order. */
    static const char *valid[] = {"\"h@example.com\"",
                                  "\"" PASSWORD "\"",
                                  "\"ZZZZZZZZ\"",
                                  "\"x\"",
                                  "1",
                                  "1",
                                  NULL};
    size_t ri, fi, vi, k;
    char body[512];
    (void)state;
    for (ri = 0; ri < sizeof(routes) / sizeof(*routes); ri++) {
        for (fi = 0; fi < sizeof(fields) / sizeof(*fields); fi++) {
            for (vi = 0; vi < sizeof(values) / sizeof(*values); vi++) {
                mv_resp *r;
                /* The other fields valid-looking, this one hostile. */
                snprintf(body, sizeof(body), "{\"%s\":%s", fields[fi],
                         values[vi]);
                for (k = 0; k < sizeof(fields) / sizeof(*fields); k++) {
                    if (k != fi && valid[k]) {
                        snprintf(body + strlen(body),
                                 sizeof(body) - strlen(body), ",\"%s\":%s",
                                 fields[k], valid[k]);
                    }
                }
                strcat(body, "}");
                r = mv_http("POST", routes[ri], body,
                            ri == 4 ? mv_admin_headers() : NULL);
                /* Only logout (200 for any token) and a valid admin
                 * call may succeed. */
                if (r->status == 200 && (ri == 3 || ri == 4)) {
                    mv_resp_free(r);
                    continue;
                }
                if (r->status < 400 || r->status > 499) {
                    fprintf(stderr, "%s %s\n", routes[ri], body);
                }
                mv_assert_4xx_json(r);
                mv_resp_free(r);
            }
        }
    }
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE email = "
                                "'h@example.com'"),
                     0);
}

static void hostile_bodies_on_every_route_are_4xx_json(void **state)
{
    static const char *routes[] = {"/auth/register-with-email",
                                   "/auth/login-with-email", "/auth/refresh",
                                   "/auth/logout", "/admin/invite-codes"};
    static const char *bodies[] = {"",
                                   "[]",
                                   "\"x\"",
                                   "{\"a\":",
                                   "nul",
                                   "{\"email\":\"\xff\xfe\"}",
                                   "{\"password\":\"\xc3\x28\"}"};
    size_t ri, bi, depth = 5000;
    char *deep = malloc(2 * depth + 1), *big = malloc(70001);
    (void)state;
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    memset(big, 'a', 70000);
    memcpy(big, "{\"email\":\"", 10);
    memcpy(big + 70000 - 2, "\"}", 2);
    big[70000] = '\0';
    for (ri = 0; ri < sizeof(routes) / sizeof(*routes); ri++) {
        const char *const *h = ri == 4 ? mv_admin_headers() : NULL;
        const char *text[] = {"Content-Type: text/plain", NULL, NULL};
        mv_resp *r;
        if (h) {
            text[1] = h[0];
        }
        for (bi = 0; bi < sizeof(bodies) / sizeof(*bodies); bi++) {
            r = mv_http("POST", routes[ri], bodies[bi], h);
            mv_assert_4xx_json(r);
            mv_resp_free(r);
        }
        r = mv_http("POST", routes[ri], deep, h);
        mv_assert_error(r, 400, "invalid_json");
        mv_resp_free(r);
        r = mv_http("POST", routes[ri], big, h);
        mv_assert_error(r, 413, "body_too_large");
        mv_resp_free(r);
        r = mv_http("POST", routes[ri], "{}", text);
        mv_assert_error(r, 415, "unsupported_media_type");
        mv_resp_free(r);
        /* GET /admin/invite-codes lists the codes (test_admin.c). */
        r = mv_http(ri == 4 ? "DELETE" : "GET", routes[ri], NULL, h);
        mv_assert_error(r, 405, "method_not_allowed");
        mv_resp_free(r);
    }
    free(deep);
    free(big);
}

static void long_values_are_refused_or_harmless(void **state)
{
    size_t n = 60000;
    char *longstr = malloc(n + 1), *body;
    mv_resp *r;
    (void)state;
    memset(longstr, 'a', n);
    longstr[n] = '\0';
    /* A 60000-character e-mail, password, code and refresh token. */
    body = body_of(json_pack("{s:s, s:s, s:s}", "email", longstr, "password",
                             PASSWORD, "inviteCode", "ABCDEFGH"));
    r = mv_http("POST", "/auth/register-with-email", body, NULL);
    mv_assert_error(r, 400, "validation_failed");
    mv_resp_free(r);
    free(body);
    body = body_of(
        json_pack("{s:s, s:s}", "email", "a@example.com", "password", longstr));
    r = mv_http("POST", "/auth/login-with-email", body, NULL);
    mv_assert_error(r, 401, "invalid_credentials");
    mv_resp_free(r);
    free(body);
    body = body_of(
        json_pack("{s:s, s:s}", "email", longstr, "password", PASSWORD));
    r = mv_http("POST", "/auth/login-with-email", body, NULL);
    mv_assert_error(r, 401, "invalid_credentials");
    mv_resp_free(r);
    free(body);
    body = body_of(json_pack("{s:s, s:s, s:s}", "email", "long@example.com",
                             "password", PASSWORD, "inviteCode", longstr));
    r = mv_http("POST", "/auth/register-with-email", body, NULL);
    mv_assert_error(r, 400, "invalid_invite_code");
    mv_resp_free(r);
    free(body);
    r = with_refresh("/auth/refresh", longstr);
    mv_assert_error(r, 401, "invalid_refresh_token");
    mv_resp_free(r);
    r = with_refresh("/auth/logout", longstr);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    /* Bearer tokens just under and over MV_JWT_TOKEN_MAX (a header over
     * 8 KiB is httpd's own 400, before any module runs). */
    longstr[4000] = '\0';
    r = get_bearer("/me", longstr);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    longstr[4000] = 'a';
    longstr[6000] = '\0';
    r = get_bearer("/me", longstr);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    free(longstr);
}

static void database_outage_is_503_and_recovers(void **state)
{
    char *code = root_code(5), *e = new_email(), *e2 = new_email();
    mv_resp *acc = new_account(e), *r;
    const char *refresh = mv_json_str(acc, "refreshToken");
    const char *access = mv_json_str(acc, "accessToken");
    int i;
    (void)state;
    assert_int_equal(mv_env(NULL, "pg-stop"), 0);
    for (i = 0; i < 3; i++) {
        r = register_user(e2, PASSWORD, code);
        mv_assert_error(r, 503, "unavailable");
        mv_resp_free(r);
        r = login_user(e, PASSWORD);
        mv_assert_error(r, 503, "unavailable");
        mv_resp_free(r);
        r = with_refresh("/auth/refresh", refresh);
        mv_assert_error(r, 503, "unavailable");
        mv_resp_free(r);
        r = with_refresh("/auth/logout", refresh);
        mv_assert_error(r, 503, "unavailable");
        mv_resp_free(r);
        r = get_bearer("/me", access);
        mv_assert_error(r, 503, "unavailable");
        mv_resp_free(r);
        r = get_bearer("/invites/me", access);
        mv_assert_error(r, 503, "unavailable");
        mv_resp_free(r);
        r = mv_http("POST", "/admin/invite-codes", "{\"count\":1,\"uses\":1}",
                    mv_admin_headers());
        mv_assert_error(r, 503, "unavailable");
        mv_resp_free(r);
    }
    assert_int_equal(mv_env(NULL, "pg-start"), 0);
    /* Back without a restart; nothing half-done was left behind. */
    r = register_user(e2, PASSWORD, code);
    assert_token_response(r, e2);
    mv_resp_free(r);
    assert_int_equal(
        mv_sql_int("SELECT remaining FROM invite_codes WHERE code = '%s'",
                   code),
        4);
    for (i = 0; i < 6; i++) {
        r = get_bearer("/me", access);
        assert_int_equal(r->status, 200);
        mv_resp_free(r);
    }
    r = with_refresh("/auth/refresh", refresh);
    assert_token_response(r, e);
    mv_resp_free(r);
    mv_resp_free(acc);
    free(code);
    free(e);
    free(e2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admin_creates_root_codes_owned_by_nobody),
        cmocka_unit_test(admin_root_codes_keep_expiry_and_legacy_header),
        cmocka_unit_test(admin_creates_10000_codes_in_one_call),
        cmocka_unit_test(admin_invite_codes_without_valid_key_is_403),
        cmocka_unit_test(admin_invite_codes_bad_count_or_uses_is_400),
        cmocka_unit_test(register_returns_tokens_and_an_own_code),
        cmocka_unit_test(register_with_invitees_code_records_the_inviter),
        cmocka_unit_test(
            register_accepts_code_in_any_case_with_spaces_and_dashes),
        cmocka_unit_test(register_bad_fields_is_400_validation_failed),
        cmocka_unit_test(register_email_and_password_limits),
        cmocka_unit_test(register_unknown_disabled_expired_code_is_invalid),
        cmocka_unit_test(register_used_up_code_is_400_used_up),
        cmocka_unit_test(register_taken_email_any_case_is_409_and_use_returned),
        cmocka_unit_test(register_checks_invite_code_before_email),
        cmocka_unit_test(login_matches_email_in_any_case),
        cmocka_unit_test(login_wrong_password_and_unknown_email_answer_alike),
        cmocka_unit_test(login_missing_or_non_string_fields_is_400),
        cmocka_unit_test(refresh_rotates_and_reuse_revokes_the_family),
        cmocka_unit_test(refresh_chain_keeps_the_family_expiry),
        cmocka_unit_test(refresh_unknown_or_malformed_token_is_401),
        cmocka_unit_test(refresh_missing_or_non_string_token_is_400),
        cmocka_unit_test(logout_revokes_the_family_and_is_idempotent),
        cmocka_unit_test(me_returns_the_account),
        cmocka_unit_test(me_and_invites_without_valid_token_are_401),
        cmocka_unit_test(me_and_invites_of_a_deleted_user_are_401),
        cmocka_unit_test(invites_me_counts_uses_and_invitees),
        cmocka_unit_test(hostile_input_on_every_route_is_4xx_json),
        cmocka_unit_test(hostile_bodies_on_every_route_are_4xx_json),
        cmocka_unit_test(long_values_are_refused_or_harmless),
        cmocka_unit_test(database_outage_is_503_and_recovers),
    };
    mv_harness_init();
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
