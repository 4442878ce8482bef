/*
 * handle_otp.c — POST /auth/otp and POST /auth/verify: sign-in with a
 * one-time code sent to a phone or an e-mail address.
 *
 * A code is six digits from libsodium, stored only as a keyed hash bound
 * to its destination, valid for MocaverseOTPTTL seconds, single use, and
 * burned after MocaverseOTPMaxAttempts guesses.  Only the newest code of a
 * destination counts; asking for a new one replaces the old, at most once
 * every OTP_RESEND_SECONDS.  Verifying a code takes it with one locking
 * statement, so of any number of simultaneous verifications of one code
 * exactly one succeeds.  A new destination becomes a new user under the
 * invite rules of SPEC §2, in the same transaction as the code's use.
 */
#include "mv.h"
#include "mv_accounts.h"
#include "mv_crypto.h"
#include "mv_validate.h"
#include "mv_otp_delivery.h"

#include <sodium.h>

#define OTP_RESEND_SECONDS 60

/* $1 destination: serialises code issuing per destination until commit. */
static const mv_stmt STMT_LOCK = {
    "mv_otp_lock", 1,
    "SELECT pg_advisory_xact_lock(hashtextextended('mv-otp ' || $1, 0))"};

/*
 * $1 destination, $2 code hash, $3 lifetime (s), $4 resend interval (s).
 * Unless a code was issued within the interval, replaces the
 * destination's codes with the new one.  One row: (new id or NULL,
 * seconds until a new code may be asked for, or NULL).
 */
static const mv_stmt STMT_ISSUE = {
    "mv_otp_issue", 4,
    "WITH recent AS (SELECT max(created_at) AS at FROM otp_codes"
    " WHERE destination = $1"
    " AND created_at > now() - $4::integer * interval '1 second'),"
    " old AS (DELETE FROM otp_codes o USING recent"
    " WHERE o.destination = $1 AND recent.at IS NULL),"
    " ins AS (INSERT INTO otp_codes (destination, code_hash, expires_at)"
    " SELECT $1, $2, now() + $3::bigint * interval '1 second'"
    " FROM recent WHERE at IS NULL RETURNING id)"
    " SELECT (SELECT id FROM ins), ceil(extract(epoch FROM"
    " recent.at + $4::integer * interval '1 second' - now()))::integer"
    " FROM recent"};

/* $1 code id: a code whose delivery failed is withdrawn. */
static const mv_stmt STMT_WITHDRAW = {
    "mv_otp_withdraw", 1, "DELETE FROM otp_codes WHERE id = $1::bigint"};

/*
 * $1 destination, $2 hash of the code offered, $3 max attempts.
 * Counts a guess against the destination's newest code while it is
 * unused, unexpired and not burned, and uses it when the hash matches;
 * the row lock makes simultaneous guesses take turns.  No row: no live
 * code.  Else (matched, id of the user with this destination or NULL).
 */
static const mv_stmt STMT_CHECK = {
    "mv_otp_check", 3,
    "WITH o AS (UPDATE otp_codes SET attempts = attempts + 1,"
    " used_at = CASE WHEN code_hash = $2 THEN now() END"
    " WHERE id = (SELECT id FROM otp_codes WHERE destination = $1"
    " ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE)"
    " AND used_at IS NULL AND expires_at > now()"
    " AND attempts < $3::integer"
    " RETURNING used_at IS NOT NULL AS matched)"
    " SELECT o.matched, u.id FROM o LEFT JOIN users u"
    " ON u.phone = $1 OR lower(u.email) = $1"};

/* $1 phone, $2 e-mail (one of them NULL).  No row: the account exists. */
static const mv_stmt STMT_USER_CREATE = {
    "mv_otp_user_create", 2,
    "INSERT INTO users (phone, email) VALUES ($1, $2)"
    " ON CONFLICT DO NOTHING RETURNING id"};

/* $1 destination: the account that owns it. */
static const mv_stmt STMT_USER_FIND = {
    "mv_otp_user_find", 1,
    "SELECT id FROM users WHERE phone = $1 OR lower(email) = $1"};

/* $1 user id, $2 invite code id: records who invited the new user. */
static const mv_stmt STMT_USER_INVITED = {
    "mv_otp_user_invited", 2,
    "UPDATE users SET invited_by = $2::bigint WHERE id = $1::bigint"};

/* What the body names: a phone or an e-mail, normalised. */
typedef struct {
    const char *destination; /* "+digits" or lower-case e-mail */
    int is_phone;
} otp_target;

/*
 * Reads {phone} or {email} into *t (strings in r->pool).  Returns 0, or -1
 * with the problem recorded for mv_reply_invalid.
 */
static int otp_target_parse(mv_req *q, otp_target *t)
{
    const char *phone = mv_body_string(q, "phone", MV_OPTIONAL);
    const char *email = mv_body_string(q, "email", MV_OPTIONAL);
    char *out = apr_palloc(q->r->pool, MV_DESTINATION_MAX);

    if (mv_has_invalid(q)) {
        return -1;
    }
    if (phone && email) {
        mv_invalid(q, "phone", "give a phone or an email, not both");
        return -1;
    }
    if (!phone && !email) {
        mv_invalid(q, "phone", "a phone or an email is required");
        return -1;
    }
    if (phone && mv_phone_normalize(phone, out, MV_DESTINATION_MAX) < 0) {
        mv_invalid(q, "phone",
                   "must be 8 to 15 digits with an optional leading +");
        return -1;
    }
    if (email && mv_email_normalize(email, out, MV_DESTINATION_MAX) < 0) {
        mv_invalid(q, "email", "must be a valid e-mail address");
        return -1;
    }
    t->destination = out;
    t->is_phone = phone != NULL;
    return 0;
}

/* The stored hash of code for destination, in r->pool. */
static const char *otp_hash(mv_req *q, const char *destination,
                            const char *code)
{
    char *out = apr_palloc(q->r->pool, MV_HASH_HEX_LEN + 1);

    mv_otp_hash(q->cfg->keys->otp, MV_DERIVED_KEY_LEN, destination, code, out);
    return out;
}

/*
 * Stores the hash of a new code for t unless one was issued too recently.
 * Returns the new code's id (> 0), 0 when throttled (*retry_after set), or
 * -1 on a database failure.
 */
static apr_int64_t otp_store(mv_req *q, mv_db *db, const otp_target *t,
                             const char *hash, int *retry_after)
{
    const char *params[] = {t->destination, hash,
                            mv_int_param(q, q->cfg->otp_ttl),
                            apr_psprintf(q->r->pool, "%d", OTP_RESEND_SECONDS)};
    const char *id;
    PGresult *res;

    if (mv_db_begin(db) != 0) {
        return -1;
    }
    if (!mv_db_exec(db, &STMT_LOCK, params) ||
        !(res = mv_db_exec(db, &STMT_ISSUE, params)) || mv_db_commit(db) != 0) {
        mv_db_rollback(db);
        return -1;
    }
    if ((id = mv_db_text(res, 0, 0))) {
        return apr_atoi64(id);
    }
    *retry_after = (int)mv_db_int(res, 0, 1);
    if (*retry_after < 1) {
        *retry_after = 1;
    } else if (*retry_after > OTP_RESEND_SECONDS) {
        *retry_after = OTP_RESEND_SECONDS;
    }
    return 0;
}

/* POST /auth/otp {phone} or {email} → {success, expiresIn[, otp]} */
static int otp_request(mv_req *q)
{
    char code[MV_OTP_LEN + 1];
    otp_target t;
    apr_int64_t id;
    int retry_after = OTP_RESEND_SECONDS;
    json_t *body;
    mv_db *db;

    if (otp_target_parse(q, &t) != 0) {
        return mv_reply_invalid(q);
    }
    if (!(db = mv_db_get(q))) {
        return mv_reply_db_error(q);
    }
    mv_otp_generate(code);
    id = otp_store(q, db, &t, otp_hash(q, t.destination, code), &retry_after);
    if (id < 0) {
        return mv_reply_db_error(q);
    }
    if (id == 0) {
        apr_table_setn(q->r->headers_out, "Retry-After",
                       apr_itoa(q->r->pool, retry_after));
        return mv_reply_error(q, HTTP_TOO_MANY_REQUESTS, "otp_throttled",
                              "A code was sent moments ago; wait before "
                              "asking for another.");
    }
    if (mv_otp_deliver(q, t.destination, code) != 0) {
        const char *params[] = {mv_int_param(q, id)};
        mv_db_exec(db, &STMT_WITHDRAW, params);
        return mv_reply_error(q, HTTP_SERVICE_UNAVAILABLE, "delivery_failed",
                              "The code could not be sent; try again.");
    }
    body = json_pack("{s:b, s:I}", "success", 1, "expiresIn",
                     (json_int_t)q->cfg->otp_ttl);
    if (q->cfg->otp_delivery == MV_OTP_RESPONSE) {
        json_object_set_new(body, "otp", json_string(code));
    }
    return mv_reply_json(q, HTTP_OK, body);
}

/*
 * The new-account half of verify, inside the transaction that used the
 * one-time code: the invite rules, the user, the use of their invite code
 * and their own code, the tokens.  has_code and code come from
 * mv_accounts_invite_input.
 */
static int verify_create(mv_req *q, mv_db *db, const otp_target *t,
                         int has_code, const char *code)
{
    apr_int64_t invite_id = 0, user_id;
    const char *params[2];
    mv_invite_result inv;
    PGresult *res;

    if (has_code == 0 && q->cfg->invite_only) {
        return mv_reply_error(q, HTTP_BAD_REQUEST, "invite_code_required",
                              "An invite code is required to sign up.");
    }
    if (has_code < 0) {
        return mv_accounts_reply_invite(q, MV_INVITE_INVALID);
    }
    params[0] = t->is_phone ? t->destination : NULL;
    params[1] = t->is_phone ? NULL : t->destination;
    if (!(res = mv_db_exec(db, &STMT_USER_CREATE, params))) {
        return mv_reply_db_error(q);
    }
    if (mv_db_rows(res) == 0) {
        /* The account appeared meanwhile (say, an e-mail registration):
         * the code proved the destination, so sign into it. */
        if (!(res = mv_db_exec(db, &STMT_USER_FIND, &t->destination)) ||
            mv_db_rows(res) != 1) {
            return mv_reply_db_error(q);
        }
        return mv_accounts_reply_tokens(
            q, mv_db_int(res, 0, 0),
            json_pack("{s:b, s:n}", "created", 0, "token"));
    }
    user_id = mv_db_int(res, 0, 0);
    if (has_code) {
        if ((inv = mv_accounts_take_invite(q, code, &invite_id)) !=
            MV_INVITE_OK) {
            return mv_accounts_reply_invite(q, inv);
        }
        params[0] = mv_int_param(q, user_id);
        params[1] = mv_int_param(q, invite_id);
        if (!mv_db_exec(db, &STMT_USER_INVITED, params)) {
            return mv_reply_db_error(q);
        }
    }
    if (mv_accounts_give_invite_code(q, user_id) != 0) {
        return mv_reply_db_error(q);
    }
    return mv_accounts_reply_tokens(
        q, user_id, json_pack("{s:b, s:n}", "created", 1, "token"));
}

/* POST /auth/verify {phone or email, otp, inviteCode?}
 * → token response + {token, created} */
static int verify(mv_req *q)
{
    otp_target t;
    const char *otp, *code = NULL, *account, *params[3];
    int has_code;
    PGresult *res;
    mv_db *db;

    otp_target_parse(q, &t);
    otp = mv_body_string(q, "otp", MV_REQUIRED);
    if (otp && !mv_otp_code_valid(otp)) {
        mv_invalid(q, "otp", "must be 6 digits");
    }
    has_code = mv_accounts_invite_input(q, MV_OPTIONAL, &code);
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    /* Guesses per destination are bounded across codes too. */
    account = apr_pstrcat(q->r->pool, "otp:", t.destination, NULL);
    if (mv_lockout_count_or_reply(q, account)) {
        return OK;
    }
    if (!(db = mv_db_get(q))) {
        return mv_reply_db_error(q);
    }
    params[0] = t.destination;
    params[1] = otp_hash(q, t.destination, otp);
    params[2] = apr_itoa(q->r->pool, q->cfg->otp_max_attempts);
    if (mv_db_begin(db) != 0 || !(res = mv_db_exec(db, &STMT_CHECK, params))) {
        return mv_reply_db_error(q);
    }
    if (mv_db_rows(res) == 0 || !mv_db_bool(res, 0, 0)) {
        /* Commit: a wrong guess must count against the code. */
        if (mv_db_commit(db) != 0) {
            return mv_reply_db_error(q);
        }
        return mv_reply_error(q, HTTP_UNAUTHORIZED, "invalid_otp",
                              "The code is wrong, expired or used.");
    }
    /* The code is proven: forget the destination's failures with it. */
    if (mv_lockout_cleared(q, account) != 0) {
        return mv_reply_db_error(q);
    }
    if (mv_db_text(res, 0, 1)) {
        return mv_accounts_reply_tokens(
            q, mv_db_int(res, 0, 1),
            json_pack("{s:b, s:n}", "created", 0, "token"));
    }
    return verify_create(q, db, &t, has_code, code);
}

const mv_route mv_otp_routes[] = {
    {"POST", "/auth/otp", otp_request, MV_BODY, MV_RL_AUTH},
    {"POST", "/auth/verify", verify, MV_BODY, MV_RL_AUTH},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
