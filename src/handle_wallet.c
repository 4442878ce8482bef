/*
 * handle_wallet.c — GET /users/{id}/wallet?limit=&before=: a user's points
 * balance and ledger, newest first, a page at a time.
 *
 * The balance is the maintained one (table balances, written with every
 * ledger entry), never a sum over the ledger.  A bearer token reads its own
 * wallet only; the admin key reads any.
 *
 * The reply is the module's hottest: up to 200 entries, so it is written
 * as JSON text straight from the result (mv_json_buf) rather than built
 * as a jansson tree, dumped and freed.  The text is what json_dumps wrote
 * for the same values (docs/BENCHMARKS.md, "Profile").
 */
#include "mv.h"
#include "mv_json.h"
#include "mv_validate.h"
#include "mv_rewards_sql.h"

#define WALLET_LIMIT_DEFAULT 50
#define WALLET_LIMIT_MAX 200
#define WALLET_ID_MAX 9223372036854775807LL

/* The fixed text of the reply and of one entry, keys and punctuation,
 * with "null" where a value may be NULL (PQgetlength gives it 0 bytes):
 * the buffer is sized from these and the values' lengths. */
#define WALLET_REPLY_TEXT                                                      \
    "{\"userId\":,\"balance\":,\"transactions\":[],\"nextBefore\":null}"
#define WALLET_ENTRY_TEXT                                                      \
    "{\"id\":,\"amount\":,\"type\":,\"couponId\":null,\"createdAt\":},"

/* Column numbers of MV_SQL_WALLET_PAGE. */
enum { COL_BALANCE, COL_ID, COL_AMOUNT, COL_TYPE, COL_COUPON, COL_CREATED };

#define PUT_LITERAL(b, lit) mv_json_put_raw(b, lit, sizeof lit - 1)

static const mv_stmt STMT_PAGE = {"mv_wallet_page", MV_SQL_WALLET_PAGE_NPARAMS,
                                  MV_SQL_WALLET_PAGE};

/* Bytes that row's entry can take in the reply, at most. */
static apr_size_t entry_max(const PGresult *res, int row)
{
    return sizeof WALLET_ENTRY_TEXT + mv_db_len(res, row, COL_ID) +
           mv_db_len(res, row, COL_AMOUNT) +
           MV_JSON_STRING_MAX(mv_db_len(res, row, COL_TYPE)) +
           mv_db_len(res, row, COL_COUPON) +
           MV_JSON_STRING_MAX(MV_RFC3339_LEN +
                              mv_db_len(res, row, COL_CREATED));
}

/* A bigint column as a JSON number, or null. */
static void put_int_column(mv_json_buf *b, const PGresult *res, int row,
                           int col)
{
    if (!mv_db_text(res, row, col)) {
        PUT_LITERAL(b, "null");
        return;
    }
    mv_json_put_int_text(b, mv_db_text(res, row, col),
                         mv_db_len(res, row, col));
}

/* A timestamptz column as an RFC 3339 UTC string (as mv_db_time), or
 * null. */
static void put_time_column(mv_json_buf *b, const PGresult *res, int row,
                            int col)
{
    char t[MV_RFC3339_LEN + 1];
    const char *v = mv_db_text(res, row, col);
    apr_size_t n = mv_db_len(res, row, col);

    if (!mv_db_text(res, row, col)) {
        PUT_LITERAL(b, "null");
    } else if (mv_pg_time_rfc3339(v, n, t) == 0) {
        /* Digits and "-:TZ" only: nothing to escape. */
        PUT_LITERAL(b, "\"");
        mv_json_put_raw(b, t, MV_RFC3339_LEN);
        PUT_LITERAL(b, "\"");
    } else {
        mv_json_put_string(b, v, n);
    }
}

/* One ledger entry: {id, amount, type, couponId, createdAt}. */
static void put_entry(mv_json_buf *b, const PGresult *res, int row)
{
    PUT_LITERAL(b, "{\"id\":");
    put_int_column(b, res, row, COL_ID);
    PUT_LITERAL(b, ",\"amount\":");
    put_int_column(b, res, row, COL_AMOUNT);
    PUT_LITERAL(b, ",\"type\":");
    mv_json_put_string(b, mv_db_text(res, row, COL_TYPE),
                       mv_db_len(res, row, COL_TYPE));
    PUT_LITERAL(b, ",\"couponId\":");
    put_int_column(b, res, row, COL_COUPON);
    PUT_LITERAL(b, ",\"createdAt\":");
    put_time_column(b, res, row, COL_CREATED);
    PUT_LITERAL(b, "}");
}

/*
 * The 200 body {userId, balance, transactions, nextBefore} of a page of
 * n rows (at most limit shown; one more says another page exists), as
 * JSON text in r->pool with its length in *len.  NULL when a value is
 * not what the schema promises (not a bigint, not UTF-8).
 */
static const char *wallet_body(mv_req *q, const PGresult *res, int n,
                               long long id, long long limit, apr_size_t *len)
{
    apr_size_t cap = sizeof WALLET_REPLY_TEXT + MV_JSON_INT_MAX +
                     mv_db_len(res, 0, COL_BALANCE);
    int shown, i;
    mv_json_buf b;
    char *buf;

    for (shown = 0;
         shown < n && shown < limit && mv_db_text(res, shown, COL_ID);
         shown++) {
        cap += entry_max(res, shown);
    }
    if (n > limit) {
        cap += mv_db_len(res, limit - 1, COL_ID);
    }
    buf = apr_palloc(q->r->pool, cap);
    mv_json_buf_init(&b, buf, cap);
    PUT_LITERAL(&b, "{\"userId\":");
    mv_json_put_int(&b, id);
    PUT_LITERAL(&b, ",\"balance\":");
    put_int_column(&b, res, 0, COL_BALANCE);
    PUT_LITERAL(&b, ",\"transactions\":[");
    for (i = 0; i < shown; i++) {
        if (i > 0) {
            PUT_LITERAL(&b, ",");
        }
        put_entry(&b, res, i);
    }
    PUT_LITERAL(&b, "],\"nextBefore\":");
    if (n > limit) {
        put_int_column(&b, res, limit - 1, COL_ID);
    } else {
        PUT_LITERAL(&b, "null");
    }
    PUT_LITERAL(&b, "}");
    if (b.failed) {
        return NULL;
    }
    *len = mv_json_buf_len(&b, buf);
    return buf;
}

/* GET /users/{id}/wallet → {userId, balance, transactions, nextBefore} */
static int wallet(mv_req *q)
{
    long long id, limit = WALLET_LIMIT_DEFAULT, before = 0;
    int has_before, n;
    const char *params[3], *body;
    apr_size_t len;
    PGresult *res;
    mv_db *db;

    if (!mv_parse_id(q->param[0], WALLET_ID_MAX, &id)) {
        mv_invalid(q, "id", "must be a positive integer");
    }
    mv_query_int(q, "limit", WALLET_LIMIT_MAX, &limit);
    has_before = mv_query_int(q, "before", WALLET_ID_MAX, &before);
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    if (!q->is_admin && q->user_id != id) {
        return mv_reply_error(q, HTTP_FORBIDDEN, "forbidden",
                              "You can only read your own wallet.");
    }
    if (!(db = mv_db_get(q))) {
        return mv_reply_db_error(q);
    }
    params[0] = mv_int_param(q, (apr_int64_t)id);
    params[1] = has_before ? mv_int_param(q, (apr_int64_t)before) : NULL;
    /* One entry more than the page shows says whether another page exists. */
    params[2] = mv_int_param(q, (apr_int64_t)limit + 1);
    if (!(res = mv_db_exec(db, &STMT_PAGE, params))) {
        return mv_reply_db_error(q);
    }
    if ((n = mv_db_rows(res)) == 0) {
        if (!q->is_admin) {
            return mv_reply_user_deleted(q);
        }
        return mv_reply_error(q, HTTP_NOT_FOUND, "user_not_found",
                              "No user has this id.");
    }
    if (!(body = wallet_body(q, res, n, id, limit, &len))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "wallet of user %lld: a ledger value is malformed", id);
        return mv_reply_error(q, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                              "Internal error.");
    }
    return mv_reply_raw(q, HTTP_OK, body, len);
}

const mv_route mv_wallet_routes[] = {
    {"GET", "/users/{id}/wallet", wallet, MV_BEARER | MV_ADMIN, MV_RL_API},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
