/*
 * handle_auth.c — e-mail accounts: POST /auth/register-with-email,
 * /auth/login-with-email, /auth/refresh, /auth/logout, and GET /me.
 *
 * Registration and login share the token response, invite codes and
 * password hashing of accounts.c and passwords.c.
 */
#include "mv_accounts.h"
#include "mv_passwords.h"
#include "mv_validate.h"

/* ------------------------------------------------------------- register */

static const mv_stmt STMT_USER_CREATE = {
    "mv_user_create", 3,
    "INSERT INTO users (email, password_hash, invited_by)"
    " VALUES ($1, $2, $3) RETURNING id"};

/* Records what is wrong with an e-mail field that is present. */
static void check_email(mv_req *q, const char *email)
{
    if (email && !mv_email_valid(email)) {
        mv_invalid(q, "email",
                   apr_psprintf(q->r->pool,
                                "must be a valid e-mail address of at most "
                                "%d characters",
                                MV_EMAIL_MAX));
    }
}

/* Records what is wrong with a new password that is present. */
static void check_new_password(mv_req *q, const char *password)
{
    if (!password) {
        return;
    }
    switch (mv_password_check_policy(password, strlen(password))) {
    case MV_PASSWORD_OK:
        break;
    case MV_PASSWORD_TOO_SHORT:
        mv_invalid(q, "password",
                   apr_psprintf(q->r->pool, "must be at least %d characters",
                                MV_PASSWORD_MIN));
        break;
    case MV_PASSWORD_TOO_LONG:
        mv_invalid(q, "password",
                   apr_psprintf(q->r->pool, "must be at most %d characters",
                                MV_PASSWORD_MAX));
        break;
    case MV_PASSWORD_BAD_UTF8:
        mv_invalid(q, "password", "must be valid UTF-8");
        break;
    }
}

/*
 * One transaction: take a use of the code (if any), create the user with
 * the hashed password, give them their own code, start their first
 * refresh-token family.  A failure at any step rolls back every step, the
 * invite-code use included.
 */
static int create_account(mv_req *q, const char *email, const char *hash,
                          const char *code)
{
    mv_db *db = mv_db_get(q);
    apr_int64_t invite_id = 0, user_id;
    const char *params[3];
    mv_invite_result inv;
    PGresult *res;

    if (!db || mv_db_begin(db) != 0) {
        return mv_reply_db_error(q);
    }
    if (code &&
        (inv = mv_accounts_take_invite(q, code, &invite_id)) != MV_INVITE_OK) {
        return mv_accounts_reply_invite(q, inv);
    }
    params[0] = email;
    params[1] = hash;
    params[2] = code ? mv_int_param(q, invite_id) : NULL;
    if (!(res = mv_db_exec(db, &STMT_USER_CREATE, params))) {
        return mv_db_unique_violation(db)
                   ? mv_reply_error(q, HTTP_CONFLICT, "email_taken",
                                    "An account with this e-mail "
                                    "already exists.")
                   : mv_reply_db_error(q);
    }
    user_id = mv_db_int(res, 0, 0);
    if (mv_accounts_give_invite_code(q, user_id) != 0) {
        return mv_reply_db_error(q);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "MV0321: user %" APR_INT64_T_FMT " registering", user_id);
    return mv_accounts_reply_tokens(q, user_id, NULL);
}

/*
 * POST /auth/register-with-email {email, password, inviteCode}.  The
 * password is hashed before the transaction (a transaction never waits on
 * a hash), and a bad invite code is refused before that work.
 */
static int register_with_email(mv_req *q)
{
    const char *email = mv_body_string(q, "email", MV_REQUIRED);
    const char *password = mv_body_string(q, "password", MV_REQUIRED);
    char hash[MV_PASSWORD_HASH_MAX];
    mv_invite_result inv;
    const char *code;
    int has_code;

    has_code = mv_accounts_invite_input(q, q->cfg->invite_only, &code);
    check_email(q, email);
    check_new_password(q, password);
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    if (has_code < 0) {
        return mv_accounts_reply_invite(q, MV_INVITE_INVALID);
    }
    if (code && (inv = mv_accounts_check_invite(q, code)) != MV_INVITE_OK) {
        return mv_accounts_reply_invite(q, inv);
    }
    if (mv_passwords_hash(q, password, hash) != 0) {
        return mv_reply_busy(q);
    }
    return create_account(q, email, hash, code);
}

/* ---------------------------------------------------------------- login */

static const mv_stmt STMT_LOGIN_LOOKUP = {
    "mv_login_lookup", 1,
    "SELECT id, password_hash FROM users WHERE lower(email) = lower($1)"};

/*
 * The one place where a login is refused for its credentials (unknown
 * e-mail, no password, wrong password): the same body for all of them.
 */
static int login_failed(mv_req *q)
{
    return mv_reply_error(q, HTTP_UNAUTHORIZED, "invalid_credentials",
                          "The e-mail or password is wrong.");
}

/*
 * POST /auth/login-with-email {email, password}.  An unknown e-mail costs
 * the same argon2id work as a wrong password (mv_passwords_verify with no
 * hash) and gets the same answer.
 */
static int login_with_email(mv_req *q)
{
    const char *email = mv_body_string(q, "email", MV_REQUIRED);
    const char *password = mv_body_string(q, "password", MV_REQUIRED);
    const char *params[1] = {email};
    const char *hash = NULL;
    apr_int64_t user_id = 0;
    json_t *body = NULL;
    int ok;
    mv_db *db;

    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    /* Counted before the password is checked, whatever the e-mail: a
     * burst of guesses gets exactly MocaverseLoginLockout checks, and a
     * locked unknown e-mail looks like a locked account. */
    if (mv_lockout_count_or_reply(q, email)) {
        return OK;
    }
    if (!(db = mv_db_get(q))) {
        return mv_reply_db_error(q);
    }
    if (mv_email_valid(email)) {
        PGresult *res = mv_db_exec(db, &STMT_LOGIN_LOOKUP, params);
        if (!res) {
            return mv_reply_db_error(q);
        }
        if (mv_db_rows(res) == 1) {
            user_id = mv_db_int(res, 0, 0);
            hash = mv_db_text(res, 0, 1);
        }
    }
    if ((ok = mv_passwords_verify(q, hash, password)) < 0) {
        return mv_reply_busy(q);
    }
    if (!ok) {
        return login_failed(q);
    }
    if (mv_lockout_cleared(q, email) != 0) {
        return mv_reply_db_error(q);
    }
    switch (mv_accounts_issue_tokens(q, user_id, &body)) {
    case MV_TOKENS_OK:
        return mv_reply_json(q, HTTP_OK, body);
    case MV_TOKENS_NO_USER: /* disabled, or deleted since the lookup */
        return mv_accounts_reply_disabled(q);
    default:
        return mv_reply_db_error(q);
    }
}

/* -------------------------------------------------------- refresh, logout */

/* POST /auth/refresh {refreshToken}: a new pair; the old token is spent. */
static int refresh(mv_req *q)
{
    const char *token = mv_body_string(q, "refreshToken", MV_REQUIRED);
    json_t *body = NULL;

    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    switch (mv_accounts_rotate_refresh(q, token, &body)) {
    case MV_TOKENS_OK:
        return mv_reply_json(q, HTTP_OK, body);
    case MV_TOKENS_NO_USER:
        return mv_reply_error(q, HTTP_UNAUTHORIZED, "invalid_refresh_token",
                              "The refresh token is invalid, expired or "
                              "revoked.");
    default:
        return mv_reply_db_error(q);
    }
}

/* POST /auth/logout {refreshToken}: revokes the family; idempotent. */
static int logout(mv_req *q)
{
    const char *token = mv_body_string(q, "refreshToken", MV_REQUIRED);

    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    if (mv_accounts_revoke_refresh(q, token) != 0) {
        return mv_reply_db_error(q);
    }
    return mv_reply_json(q, HTTP_OK, json_pack("{s:b}", "success", 1));
}

/* ------------------------------------------------------------------- me */

static const mv_stmt STMT_ME = {
    "mv_me", 1,
    "SELECT u.id, u.email, u.phone, u.created_at, c.code, c.remaining"
    "  FROM users u LEFT JOIN invite_codes c ON c.owner_id = u.id"
    " WHERE u.id = $1"};

/* GET /me: the caller's account; 401 if it no longer exists. */
static int me(mv_req *q)
{
    const char *params[1] = {mv_int_param(q, q->user_id)};
    const char *email, *phone, *code;
    json_t *invite = json_null();
    PGresult *res;
    mv_db *db;

    if (!(db = mv_db_get(q)) || !(res = mv_db_exec(db, &STMT_ME, params))) {
        return mv_reply_db_error(q);
    }
    if (mv_db_rows(res) != 1) {
        return mv_reply_user_deleted(q);
    }
    email = mv_db_text(res, 0, 1);
    phone = mv_db_text(res, 0, 2);
    if ((code = mv_db_text(res, 0, 4))) {
        invite = json_pack("{s:s, s:I}", "code", code, "remaining",
                           (json_int_t)mv_db_int(res, 0, 5));
    }
    return mv_reply_json(
        q, HTTP_OK,
        json_pack("{s:I, s:s?, s:s?, s:s, s:o}", "id", (json_int_t)q->user_id,
                  "email", email, "phone", phone, "createdAt",
                  mv_db_time(q->r->pool, res, 0, 3), "inviteCode", invite));
}

const mv_route mv_auth_routes[] = {
    {"POST", "/auth/register-with-email", register_with_email, MV_BODY,
     MV_RL_AUTH},
    {"POST", "/auth/login-with-email", login_with_email, MV_BODY, MV_RL_AUTH},
    {"POST", "/auth/refresh", refresh, MV_BODY, MV_RL_AUTH},
    {"POST", "/auth/logout", logout, MV_BODY, MV_RL_API},
    {"GET", "/me", me, MV_BEARER, MV_RL_API},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
