/*
 * Accounts under other settings: a second httpd on the same database with
 * MocaverseInviteOnly Off, its own invite quota, code length, token
 * lifetimes, issuer and password-hash cost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accounts_util.h"
#include "mv_jwt.h"

#define NAME "accounts-cfg"

static char base[64];
static char conf[] = "/tmp/mvaccounts.XXXXXX";

static int start_instance(void **state)
{
    char *port = NULL;
    int fd = mkstemp(conf);
    (void)state;
    if (fd < 0) {
        return -1;
    }
    dprintf(fd, "MocaverseInviteOnly Off\n"
                "MocaverseInviteQuota 3\n"
                "MocaverseInviteCodeLength 12\n"
                "MocaverseAccessTokenTTL 60\n"
                "MocaverseRefreshTokenTTL 3600\n"
                "MocaverseIssuer other-issuer\n"
                "MocaversePasswordHash 1 8\n");
    close(fd);
    chmod(conf, 0644);
    if (mv_env(&port, "httpd-start %s %s", NAME, conf) != 0) {
        fprintf(stderr, "could not start %s: %s\n", NAME, port);
        free(port);
        return -1;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%s", port);
    free(port);
    return 0;
}

static int stop_instance(void **state)
{
    (void)state;
    mv_env(NULL, "httpd-stop %s", NAME);
    unlink(conf);
    return 0;
}

static void invite_only_off_registers_without_a_code(void **state)
{
    char *e = new_email();
    mv_resp *r = register_at(base, e, PASSWORD, NULL);
    json_t *code;
    long long uid;
    (void)state;
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "expiresIn"), 60);
    uid = user_id_of(r);
    code = json_object_get(json_object_get(r->json, "user"), "inviteCode");
    assert_int_equal(strlen(json_string_value(json_object_get(code, "code"))),
                     12);
    assert_int_equal(json_integer_value(json_object_get(code, "remaining")), 3);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users WHERE id = %lld "
                                "AND invited_by IS NULL AND password_hash "
                                "LIKE '$argon2id$v=19$m=8192,t=1,p=1$%%'",
                                uid),
                     1);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM invite_codes WHERE "
                                "owner_id = %lld AND uses = 3 AND "
                                "length(code) = 12",
                                uid),
                     1);
    assert_int_equal(
        mv_sql_int("SELECT count(*) FROM refresh_families WHERE user_id = "
                   "%lld AND expires_at BETWEEN created_at + interval "
                   "'3595 s' AND created_at + interval '3605 s'",
                   uid),
        1);
    mv_resp_free(r);
    /* A blank code is no code. */
    free(e);
    e = new_email();
    r = register_at(base, e, PASSWORD, " - ");
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    free(e);
}

static void invite_only_off_still_checks_a_given_code(void **state)
{
    char *e = new_email(), *used = root_code_at(base, 1), *other;
    mv_resp *r;
    long long uid;
    (void)state;
    assert_int_equal(strlen(used), 12);
    r = register_at(base, e, PASSWORD, "ZZZZZZZZ");
    mv_assert_error(r, 400, "invalid_invite_code");
    mv_resp_free(r);
    r = register_at(base, e, PASSWORD, "not a code!");
    mv_assert_error(r, 400, "invalid_invite_code");
    mv_resp_free(r);
    r = register_at(base, e, PASSWORD, used);
    assert_int_equal(r->status, 200);
    uid = user_id_of(r);
    mv_resp_free(r);
    assert_int_equal(mv_sql_int("SELECT count(*) FROM users u JOIN "
                                "invite_codes c ON c.id = u.invited_by WHERE "
                                "u.id = %lld AND c.code = '%s'",
                                uid, used),
                     1);
    other = new_email();
    r = register_at(base, other, PASSWORD, used);
    mv_assert_error(r, 400, "invite_code_used_up");
    mv_resp_free(r);
    free(other);
    free(used);
    free(e);
}

static void tokens_carry_each_instance_issuer(void **state)
{
    char *e = new_email(), *h;
    mv_resp *here = register_at(base, e, PASSWORD, NULL), *r;
    const char *headers[2];
    long long uid = 0;
    const char *secret = getenv("MV_TEST_JWT_SECRET");
    (void)state;
    assert_int_equal(here->status, 200);
    assert_int_equal(mv_jwt_verify((const unsigned char *)secret,
                                   strlen(secret), "other-issuer",
                                   mv_json_str(here, "accessToken"),
                                   (long long)time(NULL), &uid),
                     MV_JWT_OK);
    if (asprintf(&h, "Authorization: Bearer %s",
                 mv_json_str(here, "accessToken")) < 0) {
        abort();
    }
    headers[0] = h;
    headers[1] = NULL;
    r = mv_http_at(base, "GET", "/me", NULL, headers);
    assert_int_equal(r->status, 200);
    mv_resp_free(r);
    /* Same key, other issuer: the main instance refuses it. */
    r = mv_http("GET", "/me", NULL, headers);
    mv_assert_error(r, 401, "unauthorized");
    mv_resp_free(r);
    /* Refresh tokens are hashed under the shared secret: one instance's
     * token rotates on the other (they share the database). */
    r = with_refresh("/auth/refresh", mv_json_str(here, "refreshToken"));
    assert_int_equal(r->status, 200);
    assert_int_equal(mv_json_int(r, "expiresIn"), 900);
    mv_resp_free(r);
    mv_resp_free(here);
    free(h);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(invite_only_off_registers_without_a_code),
        cmocka_unit_test(invite_only_off_still_checks_a_given_code),
        cmocka_unit_test(tokens_carry_each_instance_issuer),
    };
    mv_harness_init();
    return cmocka_run_group_tests(tests, start_instance, stop_instance);
}
