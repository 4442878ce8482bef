/*
 * handle_wallet.c — GET /users/{id}/wallet?limit=&before=: a user's points
 * balance and ledger, newest first, a page at a time.
 *
 * The balance is the maintained one (table balances, written with every
 * ledger entry), never a sum over the ledger.  A bearer token reads its own
 * wallet only; the admin key reads any.
 */
#include "mv.h"
#include "mv_query.h"
#include "mv_validate.h"
#include "rewards_sql.h"

#define WALLET_LIMIT_DEFAULT 50
#define WALLET_LIMIT_MAX 200
#define WALLET_ID_MAX 9223372036854775807LL
#define WALLET_QUERY_VALUE_MAX 32       /* bytes of one decoded value */

static const mv_stmt STMT_PAGE = {"mv_wallet_page",
                                  MV_SQL_WALLET_PAGE_NPARAMS,
                                  MV_SQL_WALLET_PAGE};

/*
 * A positive integer query parameter within 1..max: 1 and *out set when
 * given, 0 when absent; a malformed, repeated or out-of-range value is
 * recorded with mv_invalid (and 0 returned).
 */
static int query_int(mv_req *q, const char *name, long long max,
                     long long *out)
{
    char v[WALLET_QUERY_VALUE_MAX];
    int found = mv_query_get(q->r->args, name, v, sizeof v);

    if (found == 0) {
        return 0;
    }
    if (found < 0 || !mv_parse_id(v, max, out)) {
        mv_invalid(q, name, apr_psprintf(q->r->pool,
                                         "must be an integer from 1 to %"
                                         APR_INT64_T_FMT, (apr_int64_t)max));
        return 0;
    }
    return 1;
}

/* One ledger entry of the page as a JSON object (a new reference). */
static json_t *wallet_entry(mv_req *q, const PGresult *res, int row)
{
    json_t *coupon = PQgetisnull(res, row, 4)
                         ? json_null()
                         : json_integer(apr_atoi64(PQgetvalue(res, row, 4)));

    return json_pack("{s:I, s:I, s:s, s:o, s:s}", "id",
                     (json_int_t)apr_atoi64(PQgetvalue(res, row, 1)),
                     "amount",
                     (json_int_t)apr_atoi64(PQgetvalue(res, row, 2)), "type",
                     PQgetvalue(res, row, 3), "couponId", coupon,
                     "createdAt", mv_pg_time(q->r->pool, res, row, 5));
}

/* GET /users/{id}/wallet → {userId, balance, transactions, nextBefore} */
static int wallet(mv_req *q)
{
    long long id, limit = WALLET_LIMIT_DEFAULT, before = 0;
    int has_before, n, i;
    const char *params[3];
    json_t *list, *next = json_null();
    PGresult *res;
    mv_db *db;

    if (!mv_parse_id(q->param[0], WALLET_ID_MAX, &id)) {
        mv_invalid(q, "id", "must be a positive integer");
    }
    query_int(q, "limit", WALLET_LIMIT_MAX, &limit);
    has_before = query_int(q, "before", WALLET_ID_MAX, &before);
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
    params[0] = apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT,
                             (apr_int64_t)id);
    params[1] = has_before ? apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT,
                                          (apr_int64_t)before)
                           : NULL;
    /* One entry more than the page shows says whether another page exists. */
    params[2] = apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT,
                             (apr_int64_t)limit + 1);
    if (!(res = mv_db_exec(db, &STMT_PAGE, params))) {
        return mv_reply_db_error(q);
    }
    if ((n = PQntuples(res)) == 0) {
        if (!q->is_admin) {
            /* A valid token for a user who has since been deleted. */
            return mv_reply_error(q, HTTP_UNAUTHORIZED, "unauthorized",
                                  "A valid access token is required.");
        }
        return mv_reply_error(q, HTTP_NOT_FOUND, "user_not_found",
                              "No user has this id.");
    }
    list = json_array();
    for (i = 0; i < n && i < limit && !PQgetisnull(res, i, 1); i++) {
        json_array_append_new(list, wallet_entry(q, res, i));
    }
    if (n > limit) {
        next = json_integer(apr_atoi64(PQgetvalue(res, limit - 1, 1)));
    }
    return mv_reply_json(q, HTTP_OK,
                         json_pack("{s:I, s:I, s:o, s:o}", "userId",
                                   (json_int_t)id, "balance",
                                   (json_int_t)apr_atoi64(
                                       PQgetvalue(res, 0, 0)),
                                   "transactions", list, "nextBefore", next));
}

const mv_route mv_wallet_routes[] = {
    {"GET", "/users/{id}/wallet", wallet, MV_BEARER | MV_ADMIN, MV_RL_API},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
