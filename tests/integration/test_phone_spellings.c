/*
 * Every spelling of one phone number (spaces, dots, dashes, brackets,
 * "+", "00" or neither) is one destination: one account, one resend
 * limit, one lockout count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewards.h"

#define SPELLINGS 7

/* Spellings of the fresh number "+49" + ten digits; [0] is E.164. */
static void spellings(char out[SPELLINGS][40])
{
    char e164[24];
    const char *d;

    rw_phone(e164);
    d = e164 + 3;
    snprintf(out[0], 40, "+49%s", d);
    snprintf(out[1], 40, "0049%s", d);
    snprintf(out[2], 40, "0049 %.3s %.4s %s", d, d + 3, d + 7);
    snprintf(out[3], 40, "+49 (%.3s) %.4s-%s", d, d + 3, d + 7);
    snprintf(out[4], 40, "+49.%.3s.%.4s.%s", d, d + 3, d + 7);
    snprintf(out[5], 40, "(0049) %.3s-%s", d, d + 3);
    snprintf(out[6], 40, "49%s", d);
}

/* "\"phone\":\"<phone>\"" into out. */
static const char *member(char out[64], const char *phone)
{
    snprintf(out, 64, "\"phone\":\"%s\"", phone);
    return out;
}

/* POST /auth/verify {phone, otp, inviteCode?} at base (NULL: main). */
static mv_resp *verify_at(const char *base, const char *phone, const char *otp,
                          const char *invite)
{
    char body[256], m[64];

    snprintf(body, sizeof body, "{%s,\"otp\":\"%s\"%s%s%s}", member(m, phone),
             otp, invite ? ",\"inviteCode\":\"" : "", invite ? invite : "",
             invite ? "\"" : "");
    return mv_http_at(base, "POST", "/auth/verify", body, NULL);
}

/* Lets the number ask for a new code now (as if 61 s had passed). */
static void age_codes(const char *e164)
{
    mv_sql_exec("UPDATE otp_codes SET created_at = created_at - interval"
                " '61 seconds' WHERE destination = '%s'",
                e164);
}

static long long user_id(const mv_resp *r)
{
    return (long long)json_integer_value(
        json_object_get(json_object_get(r->json, "user"), "id"));
}

static void every_spelling_signs_into_one_account(void **state)
{
    char s[SPELLINGS][40], m[64], *code, *invite = rw_invite_root(1);
    long long first;
    mv_resp *r;
    (void)state;

    spellings(s);
    code = rw_otp(member(m, s[0]));
    r = verify_at(NULL, s[0], code, invite);
    assert_int_equal(r->status, 200);
    assert_true(json_is_true(json_object_get(r->json, "created")));
    first = user_id(r);
    mv_resp_free(r);
    free(code);
    for (int i = 1; i < SPELLINGS; i++) {
        age_codes(s[0]);
        code = rw_otp(member(m, s[i]));
        r = verify_at(NULL, s[i], code, NULL);
        if (r->status != 200) {
            fprintf(stderr, "%s: %ld %s\n", s[i], r->status, r->body);
        }
        assert_int_equal(r->status, 200);
        assert_false(json_is_true(json_object_get(r->json, "created")));
        assert_int_equal(user_id(r), first);
        mv_resp_free(r);
        free(code);
    }
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM users WHERE phone = '%s'", s[0]), 1);
    free(invite);
}

static void every_spelling_shares_the_resend_limit(void **state)
{
    char s[SPELLINGS][40], m[64], body[128];
    char *code;
    (void)state;

    spellings(s);
    code = rw_otp(member(m, s[0]));
    free(code);
    for (int i = 1; i < SPELLINGS; i++) {
        mv_resp *r;

        snprintf(body, sizeof body, "{%s}", member(m, s[i]));
        r = mv_http("POST", "/auth/otp", body, NULL);
        if (r->status != 429) {
            fprintf(stderr, "%s: %ld %s\n", s[i], r->status, r->body);
        }
        mv_assert_error(r, 429, "otp_throttled");
        mv_resp_free(r);
    }
}

/* With MocaverseLoginLockout 3: three wrong guesses in three spellings
 * lock the number, whichever spelling comes next. */
static void every_spelling_counts_toward_one_lockout(void **state)
{
    char *url =
        mv_instance_start("phone-lockout", "MocaverseLoginLockout 3 60");
    char s[SPELLINGS][40], m[64], body[128], wrong[8];
    mv_resp *r;
    char *code;
    (void)state;

    spellings(s);
    snprintf(body, sizeof body, "{%s}", member(m, s[0]));
    r = mv_http_at(url, "POST", "/auth/otp", body, NULL);
    assert_int_equal(r->status, 200);
    code = strdup(mv_json_str(r, "otp"));
    mv_resp_free(r);
    snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 1) % 1000000);
    for (int i = 1; i <= 3; i++) {
        r = verify_at(url, s[i], wrong, NULL);
        mv_assert_error(r, 401, "invalid_otp");
        mv_resp_free(r);
    }
    r = verify_at(url, s[4], code, NULL);
    mv_assert_error(r, 429, "account_locked");
    mv_resp_free(r);
    assert_int_equal(mv_env(NULL, "httpd-stop phone-lockout"), 0);
    free(code);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_spelling_signs_into_one_account),
        cmocka_unit_test(every_spelling_shares_the_resend_limit),
        cmocka_unit_test(every_spelling_counts_toward_one_lockout),
    };
    rw_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
