/*
 * accounts_tokens.c — the token response of SPEC §4.1 (see mv_accounts.h):
 * an HS256 access token and an opaque refresh token that starts a new
 * refresh family.
 */
#include "mv.h"
#include "mv_accounts.h"
#include "mv_crypto.h"
#include "mv_jwt.h"
#include "mv_keys.h"

#include <sodium.h>

/*
 * $1 user id, $2 refresh-token hash, $3 refresh lifetime in seconds.
 * Starts the family with its first token and reads the user back with
 * their invite code, in one round trip.
 */
static const mv_stmt STMT_ISSUE = {
    "mv_accounts_issue", 3,
    "WITH f AS (INSERT INTO refresh_families (user_id, expires_at)"
    " VALUES ($1::bigint, now() + $3::bigint * interval '1 second')"
    " RETURNING id),"
    " t AS (INSERT INTO refresh_tokens (family_id, token_hash)"
    " SELECT id, $2 FROM f RETURNING id)"
    " SELECT u.id, u.email, u.phone, c.code, c.remaining,"
    " (SELECT count(*) FROM t)"
    " FROM users u LEFT JOIN invite_codes c ON c.owner_id = u.id"
    " WHERE u.id = $1::bigint"};

/* The "user" member of the token response (a new reference). */
static json_t *token_user(mv_db *db, const PGresult *res)
{
    const char *email = mv_db_value(db, res, 0, 1);
    const char *phone = mv_db_value(db, res, 0, 2);
    const char *code = mv_db_value(db, res, 0, 3);
    json_t *invite = code ? json_pack("{s:s, s:I}", "code", code,
                                      "remaining",
                                      (json_int_t)apr_atoi64(
                                          PQgetvalue(res, 0, 4)))
                          : json_null();

    return json_pack("{s:I, s:o, s:o, s:o}", "id",
                     (json_int_t)apr_atoi64(PQgetvalue(res, 0, 0)), "email",
                     email ? json_string(email) : json_null(), "phone",
                     phone ? json_string(phone) : json_null(), "inviteCode",
                     invite);
}

int mv_accounts_reply_tokens(mv_req *q, apr_int64_t user_id, json_t *extra)
{
    const mv_config *cfg = q->cfg;
    unsigned char key[MV_KEY_LEN];
    char refresh[MV_OPAQUE_TOKEN_LEN + 1], hash[MV_HASH_HEX_LEN + 1];
    char jti[MV_UUID_LEN + 1], *access;
    const char *params[3];
    PGresult *res;
    json_t *body;
    mv_db *db = mv_db_get(q);

    mv_json_pool(q->r->pool, extra);
    if (!db) {
        return mv_reply_db_error(q);
    }
    mv_opaque_token(refresh);
    mv_refresh_hash_key(cfg->jwt_secret, cfg->jwt_secret_len, key);
    mv_keyed_hash_hex(key, sizeof key, refresh, MV_OPAQUE_TOKEN_LEN, hash);
    sodium_memzero(key, sizeof key);
    params[0] = apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT, user_id);
    params[1] = hash;
    params[2] = apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT,
                             cfg->refresh_ttl);
    mv_uuid_v4(jti);
    access = mv_jwt_sign((const unsigned char *)cfg->jwt_secret,
                         cfg->jwt_secret_len, cfg->issuer, user_id,
                         (long long)apr_time_sec(apr_time_now()),
                         cfg->access_ttl, jti);
    if (!access) {
        mv_db_rollback(db);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "MV0301: signing an access token failed");
        return mv_reply_error(q, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                              "Internal error.");
    }
    res = mv_db_exec(db, &STMT_ISSUE, params);
    if (!res || PQntuples(res) != 1 || mv_db_commit(db) != 0) {
        mv_db_rollback(db);
        free(access);
        return mv_reply_db_error(q);
    }
    body = json_pack("{s:s, s:s, s:s, s:I, s:o}", "accessToken", access,
                     "refreshToken", refresh, "tokenType", "Bearer",
                     "expiresIn", (json_int_t)cfg->access_ttl, "user",
                     token_user(db, res));
    if (body && extra) {
        json_object_update(body, extra);
        if (json_object_get(extra, "token")) {
            json_object_set_new(body, "token", json_string(access));
        }
    }
    free(access);
    return mv_reply_json(q, HTTP_OK, body);
}
