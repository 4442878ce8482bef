/*
 * handle_scan.c — POST /scan: a signed-in user redeems a coupon.
 *
 * The redemption is one statement (mv_rewards_sql.h) in autocommit: the
 * coupon is taken at most once whatever the concurrency, across every
 * process and host sharing the database, and its scan row, ledger credit
 * and balance change commit together.  Only when it returns no row does a
 * second, read-only query say why (404, 409 or 410).  With an
 * Idempotency-Key (idempotency.c) the statement runs inside the key's
 * transaction, so the answer is stored with the redemption.
 */
#include "mv.h"
#include "mv_crypto.h"
#include "mv_json.h"
#include "mv_validate.h"
#include "mv_rewards_sql.h"

#define SCAN_DEVICE_ID_MAX 128 /* code points */
#define SCAN_GPS_MAX 256       /* bytes of its text form */

static const mv_stmt STMT_REDEEM = {
    "mv_scan_redeem", MV_SQL_SCAN_REDEEM_NPARAMS, MV_SQL_SCAN_REDEEM};
static const mv_stmt STMT_STATUS = {
    "mv_scan_status", MV_SQL_SCAN_STATUS_NPARAMS, MV_SQL_SCAN_STATUS};

/*
 * The optional "gps" field as stored text: a string as is, an object or
 * array as its compact JSON (older clients send {"lat":..,"lng":..}).
 * Returns NULL when absent; records a problem for other types or sizes.
 * The result lives in r->pool.
 */
static const char *scan_gps(mv_req *q)
{
    json_t *v = json_object_get(q->body, "gps");
    const char *text;
    char *dumped;

    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (json_is_string(v)) {
        text = json_string_value(v);
    } else if (json_is_object(v) || json_is_array(v)) {
        if (!(dumped = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS))) {
            mv_invalid(q, "gps", "could not be read");
            return NULL;
        }
        text = apr_pstrdup(q->r->pool, dumped);
        free(dumped);
    } else {
        mv_invalid(q, "gps", "must be a string or an object");
        return NULL;
    }
    if (strlen(text) > SCAN_GPS_MAX) {
        mv_invalid(q, "gps", "is too long");
        return NULL;
    }
    return text;
}

/*
 * Reads the body: *token set to the canonical lower-case UUID (r->pool),
 * or NULL when it is well-formed but not a UUID.  Returns 0, or replies
 * (400) and returns 1.
 */
static int scan_parse(mv_req *q, const char **token, const char **device,
                      const char **gps)
{
    json_t *t = json_object_get(q->body, "token");
    const char *s;
    char *canon;

    if (!t || json_is_null(t) ||
        (json_is_string(t) && json_string_length(t) == 0)) {
        mv_reply_error(q, HTTP_BAD_REQUEST, "token_required",
                       "A coupon token is required.");
        return 1;
    }
    s = mv_body_string(q, "token", MV_REQUIRED);
    *device = mv_body_string(q, "deviceId", MV_OPTIONAL);
    if (*device &&
        mv_utf8_length(*device, strlen(*device)) > SCAN_DEVICE_ID_MAX) {
        mv_invalid(q, "deviceId", "is too long");
    }
    *gps = scan_gps(q);
    if (mv_has_invalid(q)) {
        mv_reply_invalid(q);
        return 1;
    }
    canon = apr_palloc(q->r->pool, MV_UUID_LEN + 1);
    *token = mv_uuid_parse(s, canon) ? canon : NULL;
    return 0;
}

/*
 * The 401/404/409/410 reply for a token that redeemed nothing.  A 409 for
 * a coupon the caller redeemed says so, with that scan's id and points: a
 * client that lost the 200 of its first try still learns its outcome.
 */
static int scan_refused(mv_req *q, mv_db *db, const char *token,
                        const char *user)
{
    const char *params[] = {token, user};
    PGresult *res = mv_db_exec(db, &STMT_STATUS, params);

    if (!res) {
        return mv_reply_db_error(q);
    }
    if (!mv_db_bool(res, 0, 0)) {
        /* Disabled or deleted since the token was checked. */
        return mv_reply_user_deleted(q);
    }
    if (!mv_db_bool(res, 0, 1)) {
        return mv_reply_error(q, HTTP_NOT_FOUND, "coupon_not_found",
                              "No coupon has this token.");
    }
    if (mv_db_bool(res, 0, 2) && mv_db_text(res, 0, 5)) {
        json_t *body =
            mv_error_body("coupon_already_redeemed",
                          "You have already redeemed this coupon.", NULL);
        json_object_set_new(body, "redeemedByYou", json_true());
        json_object_set_new(body, "scanId", json_integer(mv_db_int(res, 0, 5)));
        json_object_set_new(body, "points", json_integer(mv_db_int(res, 0, 6)));
        return mv_reply_json(q, HTTP_CONFLICT, body);
    }
    if (mv_db_bool(res, 0, 2)) {
        return mv_reply_error(q, HTTP_CONFLICT, "coupon_already_redeemed",
                              "This coupon has already been redeemed.");
    }
    if (mv_db_bool(res, 0, 3)) {
        return mv_reply_error(q, HTTP_GONE, "coupon_void",
                              "This coupon has been voided.");
    }
    return mv_reply_error(q, HTTP_GONE, "coupon_expired",
                          "This coupon has expired.");
}

/* POST /scan {token, deviceId?, gps?} → {success, points, balance, scanId} */
static int scan(mv_req *q)
{
    const char *token, *device, *gps, *params[4];
    PGresult *res;
    mv_db *db;

    if (scan_parse(q, &token, &device, &gps)) {
        return OK;
    }
    if (!token) {
        return mv_reply_error(q, HTTP_NOT_FOUND, "coupon_not_found",
                              "No coupon has this token.");
    }
    if (!(db = mv_db_get(q))) {
        return mv_reply_db_error(q);
    }
    params[0] = token;
    params[1] = mv_int_param(q, q->user_id);
    params[2] = device;
    params[3] = gps;
    if (!(res = mv_db_exec(db, &STMT_REDEEM, params))) {
        return mv_reply_db_error(q);
    }
    if (mv_db_rows(res) == 0) {
        return scan_refused(q, db, token, params[1]);
    }
    return mv_reply_json(q, HTTP_OK,
                         json_pack("{s:b, s:I, s:I, s:I}", "success", 1,
                                   "points", (json_int_t)mv_db_int(res, 0, 0),
                                   "balance", (json_int_t)mv_db_int(res, 0, 1),
                                   "scanId", (json_int_t)mv_db_int(res, 0, 2)));
}

const mv_route mv_scan_routes[] = {
    {"POST", "/scan", scan,
     MV_BEARER | MV_BODY | MV_IDEMPOTENT | MV_ACCOUNT_CHECKED, MV_RL_SCAN},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
