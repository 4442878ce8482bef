/*
 * accounts.c — invite codes taken and given, refresh-token families and
 * the token response of SPEC §4.1, shared by every route that creates a
 * user or signs one in.
 *
 * Refresh tokens are 256 random bits (mv_opaque_token); the database keeps
 * only their keyed hash (mv_refresh_token_hash, under a key derived from
 * the JWT secret), so a copy of the database yields no usable token.
 */
#include "mv_accounts.h"
#include "mv_crypto.h"
#include "mv_validate.h"
#include "mv_jwt.h"

/* Fresh codes tried for one user before giving up (2^40 codes of 8). */
#define GIVE_CODE_TRIES 8

/* ---------------------------------------------------------- invite codes */

/* A usable code loses one use; the row lock makes concurrent takers queue,
 * and each re-checks remaining > 0 once the one before it commits. */
static const mv_stmt STMT_INVITE_TAKE = {
    "mv_invite_take", 1,
    "UPDATE invite_codes SET remaining = remaining - 1"
    " WHERE code = $1 AND NOT disabled"
    "   AND (expires_at IS NULL OR expires_at > now()) AND remaining > 0"
    " RETURNING id"};

/* Why a code cannot be taken: no row = unknown, disabled or expired. */
static const mv_stmt STMT_INVITE_STATE = {
    "mv_invite_state", 1,
    "SELECT remaining FROM invite_codes"
    " WHERE code = $1 AND NOT disabled"
    "   AND (expires_at IS NULL OR expires_at > now())"};

static const mv_stmt STMT_INVITE_GIVE = {
    "mv_invite_give", 3,
    "INSERT INTO invite_codes (code, owner_id, uses, remaining)"
    " VALUES ($1, $2, $3, $3)"
    " ON CONFLICT (code) DO NOTHING RETURNING id"};

/* 1 if s holds nothing but spaces and dashes (or nothing). */
static int blank_code(const char *s)
{
    return s[strspn(s, " -")] == '\0';
}

/* 1 and the normalised code, 0 when absent, -1 when malformed. */
int mv_accounts_invite_input(mv_req *q, int required, const char **code)
{
    char buf[MV_INVITE_LEN_MAX + 1];
    const char *s = mv_body_string(q, "inviteCode", MV_OPTIONAL);

    *code = NULL;
    if (!s || blank_code(s)) {
        /* A wrong type was recorded first, and the first problem wins. */
        if (required) {
            mv_invalid(q, "inviteCode", "is required");
        }
        return 0;
    }
    if (mv_invite_code_normalize(s, buf, sizeof(buf)) < 0) {
        return -1;
    }
    *code = apr_pstrdup(q->r->pool, buf);
    return 1;
}

/* The verdict for a code that could not be taken (or checked). */
static mv_invite_result invite_state(mv_req *q, const char *code)
{
    const char *params[] = {code};
    PGresult *res = mv_db_exec(q->db, &STMT_INVITE_STATE, params);

    if (!res) {
        return MV_INVITE_DB_ERROR;
    }
    if (mv_db_rows(res) == 0) {
        return MV_INVITE_INVALID;
    }
    return (int)mv_db_int(res, 0, 0) > 0 ? MV_INVITE_OK : MV_INVITE_USED_UP;
}

/* MV_INVITE_OK and *invite_id once one use is taken, else why not. */
mv_invite_result mv_accounts_take_invite(mv_req *q, const char *code,
                                         apr_int64_t *invite_id)
{
    const char *params[] = {code};
    mv_invite_result st;
    PGresult *res;

    if (!mv_db_get(q) ||
        !(res = mv_db_exec(q->db, &STMT_INVITE_TAKE, params))) {
        return MV_INVITE_DB_ERROR;
    }
    if (mv_db_rows(res) == 1) {
        *invite_id = mv_db_int(res, 0, 0);
        return MV_INVITE_OK;
    }
    /* Another registration may have given a use back meanwhile; this one
     * still saw none, so it reports the code used up. */
    st = invite_state(q, code);
    return st == MV_INVITE_OK ? MV_INVITE_USED_UP : st;
}

/* The verdict for code without taking a use. */
mv_invite_result mv_accounts_check_invite(mv_req *q, const char *code)
{
    if (!mv_db_get(q)) {
        return MV_INVITE_DB_ERROR;
    }
    return invite_state(q, code);
}

/* The 400 (or database error) reply for a code that cannot be used. */
int mv_accounts_reply_invite(mv_req *q, mv_invite_result res)
{
    switch (res) {
    case MV_INVITE_INVALID:
        return mv_reply_error(q, HTTP_BAD_REQUEST, "invalid_invite_code",
                              "The invite code is unknown, disabled or "
                              "expired.");
    case MV_INVITE_USED_UP:
        return mv_reply_error(q, HTTP_BAD_REQUEST, "invite_code_used_up",
                              "The invite code has no uses left.");
    default:
        return mv_reply_db_error(q);
    }
}

/* 0 once the user owns a fresh code, -1 on a database failure. */
int mv_accounts_give_invite_code(mv_req *q, apr_int64_t user_id)
{
    char code[MV_INVITE_LEN_MAX + 1];
    const char *params[3];
    PGresult *res;
    int i;

    params[1] = mv_int_param(q, user_id);
    params[2] = apr_itoa(q->r->pool, q->cfg->invite_quota);
    for (i = 0; i < GIVE_CODE_TRIES; i++) {
        mv_invite_code_generate(code, (size_t)q->cfg->invite_code_length);
        params[0] = code;
        if (!(res = mv_db_exec(q->db, &STMT_INVITE_GIVE, params))) {
            return -1;
        }
        if (mv_db_rows(res) == 1) {
            return 0;
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "MV0311: generated invite code collided; retrying");
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                  "MV0312: %d generated invite codes in a row collided; "
                  "MocaverseInviteCodeLength is too short for this database",
                  GIVE_CODE_TRIES);
    return -1;
}

/* -------------------------------------------------------------- accounts */

static const mv_stmt STMT_USER_ACTIVE = {
    "mv_user_active", 1,
    "SELECT 1 FROM users WHERE id = $1::bigint AND disabled_at IS NULL"};

int mv_accounts_reply_disabled(mv_req *q)
{
    return mv_reply_error(q, HTTP_FORBIDDEN, "account_disabled",
                          "This account has been disabled.");
}

int mv_accounts_user_active(mv_req *q)
{
    const char *params[1] = {mv_int_param(q, q->user_id)};
    PGresult *res;

    if (!mv_db_get(q) ||
        !(res = mv_db_exec(q->db, &STMT_USER_ACTIVE, params))) {
        return -1;
    }
    return mv_db_rows(res) == 1;
}

/* ----------------------------------------------------------------- tokens */

/*
 * New family and its first token, in one statement; returns the user for
 * the response (no row when the user does not exist).
 */
static const mv_stmt STMT_TOKENS_ISSUE = {
    "mv_tokens_issue", 3,
    "WITH u AS (SELECT id, email, phone FROM users"
    "           WHERE id = $1 AND disabled_at IS NULL),"
    " f AS (INSERT INTO refresh_families (user_id, expires_at)"
    "       SELECT id, now() + $2::bigint * interval '1 second' FROM u"
    "       RETURNING id),"
    " t AS (INSERT INTO refresh_tokens (family_id, token_hash)"
    "       SELECT id, $3 FROM f RETURNING family_id)"
    " SELECT u.id, u.email, u.phone, c.code, c.remaining"
    "   FROM u JOIN t ON true"
    "   LEFT JOIN invite_codes c ON c.owner_id = u.id"};

/*
 * Rotation in one statement: the presented token, if current and in a
 * live family, is marked rotated and its successor is inserted in the
 * same family, whose expiry does not move.  A token rotated less than $3
 * seconds ago (MocaverseRefreshReuseInterval; 0 never) counts as current
 * too and gets another successor, its rotation time unchanged: two tabs,
 * a double click or a retry after a lost answer each get a pair.  The row
 * lock makes concurrent exchanges queue; each re-checks the condition on
 * the row the one before it left.
 */
static const mv_stmt STMT_TOKENS_ROTATE = {
    "mv_tokens_rotate", 3,
    "WITH old AS ("
    "   UPDATE refresh_tokens t SET rotated_at = coalesce(t.rotated_at, now())"
    "     FROM refresh_families f"
    "    WHERE t.token_hash = $1"
    "      AND (t.rotated_at IS NULL OR ($3::bigint > 0 AND t.rotated_at >"
    "           now() - $3::bigint * interval '1 second'))"
    "      AND f.id = t.family_id AND f.revoked_at IS NULL"
    "      AND f.expires_at > now()"
    "   RETURNING t.family_id, f.user_id),"
    " new AS (INSERT INTO refresh_tokens (family_id, token_hash)"
    "         SELECT family_id, $2 FROM old RETURNING family_id)"
    " SELECT u.id, u.email, u.phone, c.code, c.remaining"
    "   FROM old JOIN new USING (family_id)"
    "   JOIN users u ON u.id = old.user_id AND u.disabled_at IS NULL"
    "   LEFT JOIN invite_codes c ON c.owner_id = u.id"};

/* A rotated token presented again: its whole family is revoked. */
static const mv_stmt STMT_TOKENS_REUSED = {
    "mv_tokens_reused", 1,
    "UPDATE refresh_families f SET revoked_at = now()"
    "  FROM refresh_tokens t"
    " WHERE t.token_hash = $1 AND t.rotated_at IS NOT NULL"
    "   AND f.id = t.family_id AND f.revoked_at IS NULL"
    " RETURNING f.id"};

static const mv_stmt STMT_TOKENS_REVOKE = {
    "mv_tokens_revoke", 1,
    "UPDATE refresh_families SET revoked_at = now()"
    " WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)"
    "   AND revoked_at IS NULL"};

/* The stored form of a refresh token (r->pool). */
static const char *token_hash(mv_req *q, const char *token)
{
    char *out = apr_palloc(q->r->pool, MV_HASH_HEX_LEN + 1);

    mv_refresh_token_hash((const unsigned char *)q->cfg->jwt_secret.bytes,
                          q->cfg->jwt_secret.len, token, out);
    return out;
}

/* A string column as a JSON string, or JSON null for NULL: a new ref. */
static json_t *column_string(const PGresult *res, int row, int col)
{
    return !mv_db_text(res, row, col) ? json_null()
                                      : json_string(mv_db_text(res, row, col));
}

/*
 * The "user" object of a token response from a row of (id, email, phone,
 * code, remaining): a new reference.
 */
static json_t *user_json(const PGresult *res)
{
    json_t *code = json_null();

    if (mv_db_text(res, 0, 3)) {
        code = json_pack("{s:s, s:I}", "code", mv_db_text(res, 0, 3),
                         "remaining", (json_int_t)mv_db_int(res, 0, 4));
    }
    return json_pack("{s:I, s:o, s:o, s:o}", "id",
                     (json_int_t)mv_db_int(res, 0, 0), "email",
                     column_string(res, 0, 1), "phone",
                     column_string(res, 0, 2), "inviteCode", code);
}

/*
 * The token response for the user row res with the given refresh token:
 * signs the access token.  A new reference, or NULL on failure.
 */
static json_t *token_response(mv_req *q, const PGresult *res,
                              const char *refresh)
{
    char jti[MV_UUID_LEN + 1];
    char *access;
    json_t *body;

    mv_uuid_v4(jti);
    access = mv_jwt_sign(
        (const unsigned char *)q->cfg->jwt_secret.bytes, q->cfg->jwt_secret.len,
        q->cfg->issuer, mv_db_int(res, 0, 0),
        (long long)apr_time_sec(apr_time_now()), q->cfg->access_ttl, jti);
    if (!access) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "MV0313: signing an access token failed");
        return NULL;
    }
    body =
        json_pack("{s:s, s:s, s:s, s:I, s:o}", "accessToken", access,
                  "refreshToken", refresh, "tokenType", "Bearer", "expiresIn",
                  (json_int_t)q->cfg->access_ttl, "user", user_json(res));
    free(access);
    return body;
}

/* The outcome of a statement that returns one user row, or none. */
static mv_tokens_result tokens_from(mv_req *q, const PGresult *res,
                                    const char *refresh, json_t **out)
{
    if (!res) {
        return MV_TOKENS_ERROR;
    }
    if (mv_db_rows(res) != 1) {
        return MV_TOKENS_NO_USER;
    }
    *out = token_response(q, res, refresh);
    return *out ? MV_TOKENS_OK : MV_TOKENS_ERROR;
}

/* A new family and its token response in *out (a new reference). */
mv_tokens_result mv_accounts_issue_tokens(mv_req *q, apr_int64_t user_id,
                                          json_t **out)
{
    char refresh[MV_OPAQUE_TOKEN_LEN + 1];
    const char *params[3];

    if (!mv_db_get(q)) {
        return MV_TOKENS_ERROR;
    }
    mv_opaque_token(refresh);
    params[0] = mv_int_param(q, user_id);
    params[1] = mv_int_param(q, q->cfg->refresh_ttl);
    params[2] = token_hash(q, refresh);
    return tokens_from(q, mv_db_exec(q->db, &STMT_TOKENS_ISSUE, params),
                       refresh, out);
}

int mv_accounts_reply_tokens(mv_req *q, apr_int64_t user_id, json_t *extra)
{
    json_t *body = NULL;

    mv_json_pool(q->r->pool, extra);
    switch (mv_accounts_issue_tokens(q, user_id, &body)) {
    case MV_TOKENS_OK:
        break;
    case MV_TOKENS_NO_USER:
        return mv_accounts_reply_disabled(q);
    default:
        return mv_reply_db_error(q);
    }
    if (mv_db_commit(q->db) != 0) {
        json_decref(body);
        return mv_reply_db_error(q);
    }
    if (extra) {
        json_object_update(body, extra);
        if (json_object_get(extra, "token")) {
            json_object_set(body, "token",
                            json_object_get(body, "accessToken"));
        }
    }
    return mv_reply_json(q, HTTP_OK, body);
}

/* The successor's token response in *out (a new reference), or why not. */
mv_tokens_result mv_accounts_rotate_refresh(mv_req *q, const char *token,
                                            json_t **out)
{
    char next[MV_OPAQUE_TOKEN_LEN + 1];
    const char *params[3];
    mv_tokens_result st;
    PGresult *res;

    if (!mv_opaque_token_valid(token)) {
        return MV_TOKENS_NO_USER; /* never issued: no need to look */
    }
    if (!mv_db_get(q)) {
        return MV_TOKENS_ERROR;
    }
    mv_opaque_token(next);
    params[0] = token_hash(q, token);
    params[1] = token_hash(q, next);
    params[2] = mv_int_param(q, q->cfg->refresh_reuse_interval);
    st = tokens_from(q, mv_db_exec(q->db, &STMT_TOKENS_ROTATE, params), next,
                     out);
    if (st != MV_TOKENS_NO_USER) {
        return st;
    }
    /* Unknown, expired, revoked, or rotated before the reuse interval:
     * only the last is a reuse, which revokes the family, newest token
     * included.  (A statement whose answer was lost is never run again
     * (db.c), so a retry is this client's, and the interval covers it.) */
    if (!(res = mv_db_exec(q->db, &STMT_TOKENS_REUSED, params))) {
        return MV_TOKENS_ERROR;
    }
    if (mv_db_rows(res) > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, q->r,
                      "MV0314: rotated refresh token presented again; "
                      "family %s revoked",
                      mv_db_text(res, 0, 0));
    }
    return MV_TOKENS_NO_USER;
}

/* 0 once the token's family (if any) is revoked, -1 on failure. */
int mv_accounts_revoke_refresh(mv_req *q, const char *token)
{
    const char *params[1];

    if (!mv_opaque_token_valid(token)) {
        return 0; /* never issued: nothing to revoke */
    }
    if (!mv_db_get(q)) {
        return -1;
    }
    params[0] = token_hash(q, token);
    return mv_db_exec(q->db, &STMT_TOKENS_REVOKE, params) ? 0 : -1;
}
