/*
 * POST /auth/otp and POST /auth/verify: issuing, throttling, verifying,
 * burning and expiring one-time codes; sign-up under the invite rules;
 * exactly-once use under concurrency; the three delivery modes; hostile
 * input.
 */
#include <ctype.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rewards.h"

/* ------------------------------------------------------------ helpers */

/* {"phone":"<phone>"} member text for a fresh phone, into out. */
static void phone_member(char *out, size_t n, char phone[24])
{
    rw_phone(phone);
    snprintf(out, n, "\"phone\":\"%s\"", phone);
}

/* POST /auth/verify {member, otp, inviteCode?} (invite NULL: omitted). */
static mv_resp *verify(const char *member, const char *otp, const char *invite)
{
    char body[512];

    if (invite) {
        snprintf(body, sizeof body, "{%s,\"otp\":\"%s\",\"inviteCode\":\"%s\"}",
                 member, otp, invite);
    } else {
        snprintf(body, sizeof body, "{%s,\"otp\":\"%s\"}", member, otp);
    }
    return mv_http("POST", "/auth/verify", body, NULL);
}

/* A six-digit code that differs from code. */
static void other_code(const char *code, char out[12])
{
    snprintf(out, 12, "%06u", (unsigned)(atoi(code) + 1) % 1000000U);
}

/* Lets a destination ask for a new code now (as if 61 s had passed). */
static void age_codes(const char *destination)
{
    mv_sql_exec("UPDATE otp_codes SET created_at = created_at - interval"
                " '61 seconds' WHERE destination = '%s'",
                destination);
}

/* Asserts a token response (SPEC §4.1 + token, created) whose user has
 * an invite code of code_len characters; returns user.id. */
static long long check_token_response_len(const mv_resp *r, int created,
                                          size_t code_len)
{
    json_t *user = json_object_get(r->json, "user");
    json_t *invite = json_object_get(user, "inviteCode");
    const char *access = mv_json_str(r, "accessToken");

    assert_int_equal(r->status, 200);
    assert_non_null(access);
    assert_int_equal(strlen(access) > 40, 1);
    assert_non_null(mv_json_str(r, "token"));
    assert_string_equal(mv_json_str(r, "token"), access);
    assert_non_null(mv_json_str(r, "refreshToken"));
    assert_true(strlen(mv_json_str(r, "refreshToken")) >= 43);
    assert_string_equal(mv_json_str(r, "tokenType"), "Bearer");
    assert_int_equal(mv_json_int(r, "expiresIn"), 900);
    assert_true(json_is_boolean(json_object_get(r->json, "created")));
    assert_int_equal(json_is_true(json_object_get(r->json, "created")),
                     created);
    assert_true(json_is_object(user));
    assert_true(json_integer_value(json_object_get(user, "id")) > 0);
    assert_non_null(json_object_get(user, "email"));
    assert_non_null(json_object_get(user, "phone"));
    assert_true(json_is_object(invite));
    assert_int_equal(strlen(json_string_value(json_object_get(invite, "code"))),
                     code_len);
    assert_true(json_is_integer(json_object_get(invite, "remaining")));
    return (long long)json_integer_value(json_object_get(user, "id"));
}

/* The same with the default invite-code length. */
static long long check_token_response(const mv_resp *r, int created)
{
    return check_token_response_len(r, created, 8);
}

/* ---------------------------------------------------------- POST /auth/otp */

static void otp_for_phone_answers_code_and_stores_only_its_hash(void **state)
{
    char member[64], phone[24], body[80];
    mv_resp *r;
    char *hash;
    (void)state;
    phone_member(member, sizeof member, phone);
    snprintf(body, sizeof body, "{%s}", member);
    r = mv_http("POST", "/auth/otp", body, NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_is_true(json_object_get(r->json, "success")));
    assert_int_equal(mv_json_int(r, "expiresIn"), 300);
    assert_non_null(mv_json_str(r, "otp"));
    assert_int_equal(strlen(mv_json_str(r, "otp")), 6);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                " destination = '%s'",
                                phone),
                     1);
    hash = mv_sql("SELECT code_hash FROM otp_codes WHERE destination = '%s'",
                  phone);
    assert_int_equal(strlen(hash), 64);
    assert_null(strstr(hash, mv_json_str(r, "otp")));
    assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                " destination = '%s' AND expires_at BETWEEN"
                                " now() + interval '290 s' AND now() +"
                                " interval '310 s'",
                                phone),
                     1);
    free(hash);
    mv_resp_free(r);
}

static void otp_destination_is_normalised(void **state)
{
    char body[128], phone[24], spaced[40], email[64];
    mv_resp *r;
    (void)state;
    /* E-mail: lower-cased. */
    snprintf(email, sizeof email, "Mixed.%u@Example.COM",
             randombytes_uniform(1000000));
    snprintf(body, sizeof body, "{\"email\":\"%s\"}", email);
    r = mv_http("POST", "/auth/otp", body, NULL);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                " destination = lower('%s')",
                                email),
                     1);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                " destination = '%s'",
                                email),
                     0);
    /* Phone: separators dropped, "+" optional; one destination. */
    rw_phone(phone);
    snprintf(spaced, sizeof spaced, "%.3s %.5s-%s", phone + 1, phone + 4,
             phone + 9);
    snprintf(body, sizeof body, "{\"phone\":\"%s\"}", spaced);
    r = mv_http("POST", "/auth/otp", body, NULL);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                " destination = '%s'",
                                phone),
                     1);
    snprintf(body, sizeof body, "{\"phone\":\"%s\"}", phone);
    r = mv_http("POST", "/auth/otp", body, NULL);
    mv_assert_error(r, 429, "otp_throttled");
    mv_resp_free(r);
}

static void otp_request_validation_is_400(void **state)
{
    const char *bodies[] = {"{}",
                            "{\"phone\":5551234567}",
                            "{\"phone\":\"123\"}",
                            "{\"phone\":\"\"}",
                            "{\"phone\":\"1234567890123456\"}",
                            "{\"phone\":\"555-CALL-NOW\"}",
                            "{\"email\":\"nope\"}",
                            "{\"email\":\"\"}",
                            "{\"email\":42}",
                            "{\"phone\":true}",
                            "{\"phone\":null}",
                            "{\"phone\":[\"+4912345678\"]}",
                            "{\"phone\":\"+4912345678\",\"email\":\"a@b.co\"}"};
    (void)state;
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        mv_resp *r = mv_http("POST", "/auth/otp", bodies[i], NULL);
        mv_assert_error(r, 400, "validation_failed");
        assert_non_null(json_object_get(r->json, "fields"));
        mv_resp_free(r);
    }
}

static void otp_resend_within_60s_is_429_with_retry_after(void **state)
{
    char member[64], phone[24], body[80], *retry, *first, *second;
    char bad[12];
    mv_resp *r;
    (void)state;
    phone_member(member, sizeof member, phone);
    snprintf(body, sizeof body, "{%s}", member);
    first = rw_otp(member);
    r = mv_http("POST", "/auth/otp", body, NULL);
    mv_assert_error(r, 429, "otp_throttled");
    retry = mv_resp_header(r, "Retry-After");
    assert_non_null(retry);
    assert_true(atoi(retry) >= 1 && atoi(retry) <= 60);
    assert_null(mv_json_str(r, "otp"));
    free(retry);
    mv_resp_free(r);
    /* A minute later a new code replaces the old one. */
    age_codes(phone);
    second = rw_otp(member);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                " destination = '%s'",
                                phone),
                     1);
    if (strcmp(first, second) != 0) {
        r = verify(member, first, NULL);
        mv_assert_error(r, 401, "invalid_otp");
        mv_resp_free(r);
    }
    other_code(second, bad);
    r = verify(member, second, NULL); /* still valid: not signed up yet */
    mv_assert_error(r, 400, "invite_code_required");
    mv_resp_free(r);
    free(first);
    free(second);
}

typedef struct {
    char body[80];
    long status[10];
} otp_race;

static void otp_race_one(int i, void *arg)
{
    otp_race *race = arg;
    mv_resp *r = mv_http("POST", "/auth/otp", race->body, NULL);
    race->status[i] = r->status;
    mv_resp_free(r);
}

static void otp_simultaneous_requests_issue_exactly_one_code(void **state)
{
    otp_race race;
    char phone[24];
    int ok = 0, throttled = 0;
    (void)state;
    rw_phone(phone);
    snprintf(race.body, sizeof race.body, "{\"phone\":\"%s\"}", phone);
    mv_parallel(10, otp_race_one, &race);
    for (int i = 0; i < 10; i++) {
        ok += race.status[i] == 200;
        throttled += race.status[i] == 429;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(throttled, 9);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                " destination = '%s'",
                                phone),
                     1);
}

/* ------------------------------------------------------- POST /auth/verify */

static void verify_new_phone_creates_user_with_invite_and_tokens(void **state)
{
    char member[64], phone[24], *code, *invite = rw_invite_root(3);
    char path[64], auth[4200];
    const char *h[2] = {auth, NULL};
    long long id, invite_id;
    mv_resp *r;
    json_t *user;
    (void)state;
    phone_member(member, sizeof member, phone);
    code = rw_otp(member);
    r = verify(member, code, invite);
    id = check_token_response(r, 1);
    user = json_object_get(r->json, "user");
    assert_string_equal(json_string_value(json_object_get(user, "phone")),
                        phone);
    assert_true(json_is_null(json_object_get(user, "email")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(user, "inviteCode"), "remaining")),
                     10);
    /* The database: the inviter, one use taken, the user's own code, a
     * refresh token stored only as a hash, the code used. */
    invite_id =
        mv_sql_int("SELECT id FROM invite_codes WHERE code = '%s'", invite);
    assert_int_equal(
        mv_sql_int("SELECT invited_by FROM users WHERE id = %lld", id),
        invite_id);
    assert_int_equal(mv_sql_int("SELECT remaining FROM invite_codes WHERE"
                                " code = '%s'",
                                invite),
                     2);
    assert_int_equal(mv_sql_int("SELECT uses FROM invite_codes WHERE"
                                " owner_id = %lld",
                                id),
                     10);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_tokens t JOIN"
                                " refresh_families f ON f.id = t.family_id"
                                " WHERE f.user_id = %lld AND t.token_hash"
                                " <> '%s'",
                                id, mv_json_str(r, "refreshToken")),
                     1);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                " destination = '%s' AND used_at IS NOT NULL",
                                phone),
                     1);
    /* The access token is accepted by a bearer route. */
    snprintf(auth, sizeof auth, "Authorization: Bearer %s",
             mv_json_str(r, "accessToken"));
    snprintf(path, sizeof path, "/users/%lld/wallet", id);
    mv_resp_free(r);
    r = mv_http("GET", path, NULL, h);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    /* The same code again: used. */
    r = verify(member, code, invite);
    mv_assert_error(r, 401, "invalid_otp");
    mv_resp_free(r);
    free(code);
    free(invite);
}

static void verify_known_phone_logs_in_without_invite(void **state)
{
    rw_user *u = rw_user_new();
    char member[64], *code;
    mv_resp *r;
    (void)state;
    snprintf(member, sizeof member, "\"phone\":\"%s\"", u->phone);
    age_codes(u->phone);
    code = rw_otp(member);
    r = verify(member, code, NULL);
    assert_int_equal(check_token_response(r, 0), u->id);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE phone ="
                                " '%s'",
                                u->phone),
                     1);
    free(code);
    rw_user_free(u);
}

static void
verify_new_email_creates_user_and_existing_email_logs_in(void **state)
{
    char member[96], email[64], *code, *invite = rw_invite_root(1);
    long long id, existing;
    mv_resp *r;
    json_t *user;
    (void)state;
    /* New e-mail: created, stored lower-case. */
    snprintf(email, sizeof email, "New.%u@Example.com",
             randombytes_uniform(1000000000));
    snprintf(member, sizeof member, "\"email\":\"%s\"", email);
    code = rw_otp(member);
    r = verify(member, code, invite);
    id = check_token_response(r, 1);
    user = json_object_get(r->json, "user");
    assert_true(json_is_null(json_object_get(user, "phone")));
    assert_int_equal(
        strcasecmp(json_string_value(json_object_get(user, "email")), email),
        0);
    assert_true(id > 0);
    mv_resp_free(r);
    free(code);
    /* An e-mail account made by registration (mixed case): logged into. */
    snprintf(email, sizeof email, "Reg.%u@Example.com",
             randombytes_uniform(1000000000));
    existing = mv_sql_int("INSERT INTO users (email, password_hash) VALUES"
                          " ('%s', 'x') RETURNING id",
                          email);
    mv_sql_exec("INSERT INTO invite_codes (code, owner_id, uses, remaining)"
                " VALUES ('R%07u', %lld, 10, 10)",
                randombytes_uniform(10000000), existing);
    snprintf(member, sizeof member, "\"email\":\"%s\"", email);
    code = rw_otp(member);
    r = verify(member, code, NULL);
    assert_int_equal(check_token_response(r, 0), existing);
    mv_resp_free(r);
    free(code);
    free(invite);
}

static void verify_wrong_guesses_burn_the_code(void **state)
{
    char member[64], phone[24], *code, bad[12], *invite = rw_invite_root(1);
    mv_resp *r;
    (void)state;
    phone_member(member, sizeof member, phone);
    code = rw_otp(member);
    other_code(code, bad);
    for (int i = 0; i < 5; i++) {
        r = verify(member, bad, invite);
        mv_assert_error(r, 401, "invalid_otp");
        mv_resp_free(r);
    }
    assert_int_equal(mv_sql_int("SELECT attempts FROM otp_codes WHERE"
                                " destination = '%s'",
                                phone),
                     5);
    /* Burned: the right code no longer works, and tries stop counting. */
    r = verify(member, code, invite);
    mv_assert_error(r, 401, "invalid_otp");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT attempts FROM otp_codes WHERE"
                                " destination = '%s'",
                                phone),
                     5);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE phone ="
                                " '%s'",
                                phone),
                     0);
    free(code);
    free(invite);
}

static void verify_right_code_after_fewer_wrong_guesses_succeeds(void **state)
{
    char member[64], phone[24], *code, bad[12], *invite = rw_invite_root(1);
    mv_resp *r;
    (void)state;
    phone_member(member, sizeof member, phone);
    code = rw_otp(member);
    other_code(code, bad);
    for (int i = 0; i < 4; i++) {
        r = verify(member, bad, invite);
        mv_assert_error(r, 401, "invalid_otp");
        mv_resp_free(r);
    }
    r = verify(member, code, invite);
    check_token_response(r, 1);
    mv_resp_free(r);
    free(code);
    free(invite);
}

static void verify_expired_code_is_refused(void **state)
{
    char member[64], phone[24], *code, *invite = rw_invite_root(1);
    mv_resp *r;
    (void)state;
    phone_member(member, sizeof member, phone);
    code = rw_otp(member);
    mv_sql_exec("UPDATE otp_codes SET expires_at = now() - interval '1 s'"
                " WHERE destination = '%s'",
                phone);
    r = verify(member, code, invite);
    mv_assert_error(r, 401, "invalid_otp");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE phone ="
                                " '%s'",
                                phone),
                     0);
    /* Without any code at all: the same answer. */
    rw_phone(phone);
    snprintf(member, sizeof member, "\"phone\":\"%s\"", phone);
    r = verify(member, "123456", invite);
    mv_assert_error(r, 401, "invalid_otp");
    mv_resp_free(r);
    free(code);
    free(invite);
}

static void
verify_new_account_without_invite_is_400_and_code_survives(void **state)
{
    char member[64], phone[24], *code, *invite = rw_invite_root(1);
    char dashed[16];
    mv_resp *r;
    (void)state;
    phone_member(member, sizeof member, phone);
    code = rw_otp(member);
    r = verify(member, code, NULL);
    mv_assert_error(r, 400, "invite_code_required");
    mv_resp_free(r);
    r = verify(member, code, "");
    mv_assert_error(r, 400, "invite_code_required");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                " destination = '%s' AND used_at IS NULL AND"
                                " attempts = 0",
                                phone),
                     1);
    /* Retry with the code, typed in lower case with a dash: accepted. */
    snprintf(dashed, sizeof dashed, "%.4s-%s", invite, invite + 4);
    for (char *c = dashed; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    r = verify(member, code, dashed);
    check_token_response(r, 1);
    mv_resp_free(r);
    free(code);
    free(invite);
}

static void verify_with_bad_invite_is_400_and_code_survives(void **state)
{
    char member[64], phone[24], *code, *used = rw_invite_root(1);
    char *expired = rw_invite_root(5), *disabled = rw_invite_root(5);
    char *good = rw_invite_root(1);
    mv_resp *r;
    (void)state;
    mv_sql_exec("UPDATE invite_codes SET remaining = 0 WHERE code = '%s'",
                used);
    mv_sql_exec("UPDATE invite_codes SET expires_at = now() - interval"
                " '1 s' WHERE code = '%s'",
                expired);
    mv_sql_exec("UPDATE invite_codes SET disabled = true WHERE code = '%s'",
                disabled);
    phone_member(member, sizeof member, phone);
    code = rw_otp(member);
    r = verify(member, code, "ZZZZ9999");
    mv_assert_error(r, 400, "invalid_invite_code");
    mv_resp_free(r);
    r = verify(member, code, "not a code!");
    mv_assert_error(r, 400, "invalid_invite_code");
    mv_resp_free(r);
    r = verify(member, code, used);
    mv_assert_error(r, 400, "invite_code_used_up");
    mv_resp_free(r);
    r = verify(member, code, expired);
    mv_assert_error(r, 400, "invalid_invite_code");
    mv_resp_free(r);
    r = verify(member, code, disabled);
    mv_assert_error(r, 400, "invalid_invite_code");
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE phone ="
                                " '%s'",
                                phone),
                     0);
    assert_int_equal(mv_sql_int("SELECT remaining FROM invite_codes WHERE"
                                " code = '%s'",
                                expired),
                     5);
    r = verify(member, code, good);
    check_token_response(r, 1);
    mv_resp_free(r);
    free(code);
    free(used);
    free(expired);
    free(disabled);
    free(good);
}

static void verify_validation_is_400(void **state)
{
    const char *bodies[] = {
        "{\"phone\":\"+4912345678\"}",
        "{\"phone\":\"+4912345678\",\"otp\":123456}",
        "{\"phone\":\"+4912345678\",\"otp\":\"12345\"}",
        "{\"phone\":\"+4912345678\",\"otp\":\"1234567\"}",
        "{\"phone\":\"+4912345678\",\"otp\":\"12 456\"}",
        "{\"phone\":\"+4912345678\",\"otp\":\"\"}",
        "{\"phone\":5551234567,\"otp\":\"123456\"}",
        "{\"otp\":\"123456\"}",
        "{\"email\":\"x\",\"otp\":\"123456\"}",
        "{\"phone\":\"+4912345678\",\"otp\":\"123456\",\"inviteCode\":7}"};
    (void)state;
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        mv_resp *r = mv_http("POST", "/auth/verify", bodies[i], NULL);
        mv_assert_error(r, 400, "validation_failed");
        mv_resp_free(r);
    }
}

typedef struct {
    char body[256];
    long status[10];
} verify_race;

static void verify_race_one(int i, void *arg)
{
    verify_race *race = arg;
    mv_resp *r = mv_http("POST", "/auth/verify", race->body, NULL);
    race->status[i] = r->status;
    mv_resp_free(r);
}

static void verify_same_code_10_way_race_has_one_winner(void **state)
{
    char member[64], phone[24], *code, *invite = rw_invite_root(10);
    verify_race race;
    int ok = 0, refused = 0;
    (void)state;
    phone_member(member, sizeof member, phone);
    code = rw_otp(member);
    snprintf(race.body, sizeof race.body,
             "{%s,\"otp\":\"%s\",\"inviteCode\":\"%s\"}", member, code, invite);
    mv_parallel(10, verify_race_one, &race);
    for (int i = 0; i < 10; i++) {
        ok += race.status[i] == 200;
        refused += race.status[i] == 401;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(refused, 9);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE phone ="
                                " '%s'",
                                phone),
                     1);
    assert_int_equal(mv_sql_int("SELECT remaining FROM invite_codes WHERE"
                                " code = '%s'",
                                invite),
                     9);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM refresh_families f"
                                " JOIN users u ON u.id = f.user_id WHERE"
                                " u.phone = '%s'",
                                phone),
                     1);
    free(code);
    free(invite);
}

typedef struct {
    char body[8][256];
    long status[8];
} signup_race;

static void signup_race_one(int i, void *arg)
{
    signup_race *race = arg;
    mv_resp *r = mv_http("POST", "/auth/verify", race->body[i], NULL);
    race->status[i] = r->status;
    mv_resp_free(r);
}

static void verify_invite_with_3_uses_admits_exactly_3_of_8(void **state)
{
    char *invite = rw_invite_root(3), member[64], phone[24], *code;
    signup_race race;
    int ok = 0, used_up = 0;
    (void)state;
    for (int i = 0; i < 8; i++) {
        phone_member(member, sizeof member, phone);
        code = rw_otp(member);
        snprintf(race.body[i], sizeof race.body[i],
                 "{%s,\"otp\":\"%s\",\"inviteCode\":\"%s\"}", member, code,
                 invite);
        free(code);
    }
    mv_parallel(8, signup_race_one, &race);
    for (int i = 0; i < 8; i++) {
        ok += race.status[i] == 200;
        used_up += race.status[i] == 400;
    }
    assert_int_equal(ok, 3);
    assert_int_equal(used_up, 5);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users u JOIN"
                                " invite_codes c ON c.id = u.invited_by"
                                " WHERE c.code = '%s'",
                                invite),
                     3);
    assert_int_equal(mv_sql_int("SELECT remaining FROM invite_codes WHERE"
                                " code = '%s'",
                                invite),
                     0);
    free(invite);
}

/* ------------------------------------------------------------- delivery */

/* A world-writable directory under MV_TEST_DIR (httpd children run as
 * www-data when the tests run as root); malloc'd path. */
static char *shared_dir(const char *name)
{
    char *dir;

    if (asprintf(&dir, "%s/%s", getenv("MV_TEST_DIR"), name) < 0) {
        abort();
    }
    mkdir(dir, 0777);
    chmod(dir, 0777);
    return dir;
}

/* Writes text to path with mode; malloc'd path returned. */
static char *write_file(const char *dir, const char *name, const char *text,
                        mode_t mode)
{
    char *path;
    FILE *f;

    if (asprintf(&path, "%s/%s", dir, name) < 0) {
        abort();
    }
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

/* Starts an instance with extra directives; its base URL (malloc'd). */
static char *start_instance(const char *name, const char *dir,
                            const char *directives)
{
    char *conf_text, *conf_name, *conf, *port = NULL, *url;

    if (asprintf(&conf_text, "%s\n", directives) < 0 ||
        asprintf(&conf_name, "%s.conf", name) < 0) {
        abort();
    }
    conf = write_file(dir, conf_name, conf_text, 0644);
    /* A port found free can be taken by another program before httpd
     * binds it (other test runs share the machine): try a few. */
    for (int i = 0; mv_env(&port, "httpd-start %s %s", name, conf) != 0; i++) {
        free(port);
        port = NULL;
        assert_true(i < 3);
    }
    if (asprintf(&url, "http://127.0.0.1:%s", port) < 0) {
        abort();
    }
    free(conf_text);
    free(conf_name);
    free(conf);
    free(port);
    return url;
}

/* The whole content of a file (malloc'd), or NULL. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text;
    size_t n;

    if (!f) {
        return NULL;
    }
    text = calloc(1, 1 << 20);
    n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void
pipe_delivery_feeds_destination_and_code_to_the_program(void **state)
{
    char *dir = shared_dir("otp-pipe"), *script, *url, *out, *delivered;
    char text[512], how[600], member[64], phone[24], body[80], code[7];
    char *invite = rw_invite_root(1), *expected;
    mv_resp *r;
    (void)state;
    if (asprintf(&out, "%s/delivered.txt", dir) < 0) {
        abort();
    }
    unlink(out); /* from an earlier run of the suite (under /api) */
    snprintf(text, sizeof text, "#!/bin/sh\ncat >> '%s'\n", out);
    script = write_file(dir, "deliver.sh", text, 0755);
    snprintf(how, sizeof how, "MocaverseOTPDelivery pipe \"%s\"", script);
    url = start_instance("otp-pipe", dir, how);
    phone_member(member, sizeof member, phone);
    snprintf(body, sizeof body, "{%s}", member);
    r = mv_http_at(url, "POST", "/auth/otp", body, NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_is_true(json_object_get(r->json, "success")));
    assert_null(json_object_get(r->json, "otp"));
    mv_resp_free(r);
    delivered = read_file(out);
    assert_non_null(delivered);
    assert_int_equal(strlen(delivered), strlen(phone) + 8);
    if (asprintf(&expected, "%s\n", phone) < 0) {
        abort();
    }
    assert_memory_equal(delivered, expected, strlen(expected));
    memcpy(code, delivered + strlen(expected), 6);
    code[6] = '\0';
    assert_int_equal(delivered[strlen(expected) + 6], '\n');
    /* The delivered code signs the user up. */
    snprintf(text, sizeof text, "{%s,\"otp\":\"%s\",\"inviteCode\":\"%s\"}",
             member, code, invite);
    r = mv_http_at(url, "POST", "/auth/verify", text, NULL);
    check_token_response(r, 1);
    mv_resp_free(r);
    assert_int_equal(mv_env(NULL, "httpd-stop otp-pipe"), 0);
    free(expected);
    free(delivered);
    free(invite);
    free(url);
    free(script);
    free(out);
    free(dir);
}

/* A pipe command that fails (or hangs) withdraws the code: 503, no code
 * stored, and asking again at once is not throttled. */
static void pipe_delivery_failure_is_503_and_withdraws_the_code(void **state)
{
    char *dir = shared_dir("otp-pipe-fail"), *url;
    char member[64], phone[24], body[80];
    mv_resp *r;
    (void)state;
    url = start_instance("otp-pipe-fail", dir,
                         "MocaverseOTPDelivery pipe"
                         " \"cat >/dev/null; exit 3\"");
    phone_member(member, sizeof member, phone);
    snprintf(body, sizeof body, "{%s}", member);
    for (int i = 0; i < 2; i++) {
        r = mv_http_at(url, "POST", "/auth/otp", body, NULL);
        mv_assert_error(r, 503, "delivery_failed");
        assert_null(json_object_get(r->json, "otp"));
        mv_resp_free(r);
        assert_int_equal(mv_sql_int("SELECT count(*) FROM otp_codes WHERE"
                                    " destination = '%s'",
                                    phone),
                         0);
    }
    assert_int_equal(mv_env(NULL, "httpd-stop otp-pipe-fail"), 0);
    free(url);
    /* A program that never ends is killed after the timeout. */
    url = start_instance("otp-pipe-hang", dir,
                         "MocaverseOTPDelivery pipe \"exec sleep 60\"");
    r = mv_http_at(url, "POST", "/auth/otp", body, NULL);
    mv_assert_error(r, 503, "delivery_failed");
    mv_resp_free(r);
    /* A program that ignores its input and succeeds is a delivery. */
    assert_int_equal(mv_env(NULL, "httpd-stop otp-pipe-hang"), 0);
    free(url);
    url = start_instance("otp-pipe-true", dir,
                         "MocaverseOTPDelivery pipe /bin/true");
    r = mv_http_at(url, "POST", "/auth/otp", body, NULL);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    assert_int_equal(mv_env(NULL, "httpd-stop otp-pipe-true"), 0);
    free(url);
    free(dir);
}

static void log_delivery_writes_the_code_to_the_error_log_only(void **state)
{
    char *dir = shared_dir("otp-log"), *url, *log_path, *log, *at;
    char member[64], phone[24], body[256], needle[80], code[7];
    char *invite = rw_invite_root(1);
    mv_resp *r;
    (void)state;
    url = start_instance("otp-log", dir, "MocaverseOTPDelivery log");
    phone_member(member, sizeof member, phone);
    snprintf(body, sizeof body, "{%s}", member);
    r = mv_http_at(url, "POST", "/auth/otp", body, NULL);
    assert_int_equal(r->status, 200);
    assert_null(json_object_get(r->json, "otp"));
    mv_resp_free(r);
    if (asprintf(&log_path, "%s/httpd-otp-log/error.log",
                 getenv("MV_TEST_DIR")) < 0) {
        abort();
    }
    log = read_file(log_path);
    assert_non_null(log);
    snprintf(needle, sizeof needle, "one-time code for %s: ", phone);
    at = strstr(log, needle);
    assert_non_null(at);
    memcpy(code, at + strlen(needle), 6);
    code[6] = '\0';
    snprintf(body, sizeof body, "{%s,\"otp\":\"%s\",\"inviteCode\":\"%s\"}",
             member, code, invite);
    r = mv_http_at(url, "POST", "/auth/verify", body, NULL);
    check_token_response(r, 1);
    mv_resp_free(r);
    assert_int_equal(mv_env(NULL, "httpd-stop otp-log"), 0);
    free(log);
    free(log_path);
    free(invite);
    free(url);
    free(dir);
}

/* With MocaverseInviteOnly Off a new account needs no invite code; the
 * code each new user receives follows MocaverseInviteQuota and
 * MocaverseInviteCodeLength. */
static void verify_with_invite_only_off_signs_up_without_invite(void **state)
{
    char *dir = shared_dir("otp-open"), *url;
    char member[64], phone[24], body[256], *code;
    json_t *invite;
    long long id;
    mv_resp *r;
    (void)state;
    url = start_instance("otp-open", dir,
                         "MocaverseInviteOnly Off\n"
                         "MocaverseInviteQuota 3\n"
                         "MocaverseInviteCodeLength 12");
    phone_member(member, sizeof member, phone);
    snprintf(body, sizeof body, "{%s}", member);
    r = mv_http_at(url, "POST", "/auth/otp", body, NULL);
    assert_int_equal(r->status, 200);
    code = strdup(mv_json_str(r, "otp"));
    mv_resp_free(r);
    /* A given but unknown code is still refused, and the OTP survives. */
    snprintf(body, sizeof body,
             "{%s,\"otp\":\"%s\",\"inviteCode\":"
             "\"ZZZZ9999\"}",
             member, code);
    r = mv_http_at(url, "POST", "/auth/verify", body, NULL);
    mv_assert_error(r, 400, "invalid_invite_code");
    mv_resp_free(r);
    snprintf(body, sizeof body, "{%s,\"otp\":\"%s\"}", member, code);
    r = mv_http_at(url, "POST", "/auth/verify", body, NULL);
    id = check_token_response_len(r, 1, 12);
    invite = json_object_get(json_object_get(r->json, "user"), "inviteCode");
    assert_int_equal(json_integer_value(json_object_get(invite, "remaining")),
                     3);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE id = %lld"
                                " AND invited_by IS NULL",
                                id),
                     1);
    assert_int_equal(mv_sql_int("SELECT uses FROM invite_codes WHERE"
                                " owner_id = %lld",
                                id),
                     3);
    assert_int_equal(mv_env(NULL, "httpd-stop otp-open"), 0);
    free(code);
    free(url);
    free(dir);
}

/* -------------------------------------------------------------- hostile */

static void otp_routes_survive_hostile_input(void **state)
{
    const char *otp_fields[] = {"phone", "email", NULL};
    const char *verify_fields[] = {"phone", "email", "otp", "inviteCode", NULL};
    (void)state;
    rw_hostile_sweep("/auth/otp", NULL, "{\"phone\":\"+4912345678\"}",
                     otp_fields);
    rw_hostile_sweep("/auth/verify", NULL,
                     "{\"phone\":\"+4912345678\",\"otp\":\"123456\","
                     "\"inviteCode\":\"ABCDEFGH\"}",
                     verify_fields);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(otp_for_phone_answers_code_and_stores_only_its_hash),
        cmocka_unit_test(otp_destination_is_normalised),
        cmocka_unit_test(otp_request_validation_is_400),
        cmocka_unit_test(otp_resend_within_60s_is_429_with_retry_after),
        cmocka_unit_test(otp_simultaneous_requests_issue_exactly_one_code),
        cmocka_unit_test(verify_new_phone_creates_user_with_invite_and_tokens),
        cmocka_unit_test(verify_known_phone_logs_in_without_invite),
        cmocka_unit_test(
            verify_new_email_creates_user_and_existing_email_logs_in),
        cmocka_unit_test(verify_wrong_guesses_burn_the_code),
        cmocka_unit_test(verify_right_code_after_fewer_wrong_guesses_succeeds),
        cmocka_unit_test(verify_expired_code_is_refused),
        cmocka_unit_test(
            verify_new_account_without_invite_is_400_and_code_survives),
        cmocka_unit_test(verify_with_bad_invite_is_400_and_code_survives),
        cmocka_unit_test(verify_validation_is_400),
        cmocka_unit_test(verify_same_code_10_way_race_has_one_winner),
        cmocka_unit_test(verify_invite_with_3_uses_admits_exactly_3_of_8),
        cmocka_unit_test(
            pipe_delivery_feeds_destination_and_code_to_the_program),
        cmocka_unit_test(pipe_delivery_failure_is_503_and_withdraws_the_code),
        cmocka_unit_test(log_delivery_writes_the_code_to_the_error_log_only),
        cmocka_unit_test(verify_with_invite_only_off_signs_up_without_invite),
        cmocka_unit_test(otp_routes_survive_hostile_input),
    };
    rw_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
