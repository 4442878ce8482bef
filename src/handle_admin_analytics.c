/*
 * handle_admin_analytics.c — GET /admin/analytics (acquisition and
 * rewards over a period) and GET /admin/audit (the admin actions).
 *
 * Analytics never loads rows into the module and never scans the big
 * tables over a period: finished UTC days are rolled up once into
 * stats_daily (migrations/007_admin.sql, stats_refresh), the days after
 * the last roll-up are computed from the tables through their time
 * indexes, and the reply sums days (docs/admin.md).
 */
#include "mv_admin.h"

#define ANALYTICS_DEFAULT_DAYS 30
#define TOP_INVITERS 10
#define BATCHES_MAX 50

static const char *const INTERVALS[] = {"day", "week", NULL};

/* The days of [$1, $2) (dates): the rolled-up ones, then the ones after
 * the last roll-up (or from the first sign-up's day) computed from the
 * tables. */
#define DAYS_CTE                                                               \
    "WITH days AS ("                                                           \
    " SELECT * FROM stats_daily WHERE day >= $1::date AND day < $2::date"      \
    " UNION ALL"                                                               \
    " SELECT s.* FROM generate_series("                                        \
    "   GREATEST($1::date, (SELECT COALESCE(max(day) + 1,"                     \
    "     stats_first_day(), $2::date) FROM stats_daily)),"                    \
    "   $2::date - 1, interval '1 day') g,"                                    \
    " LATERAL stats_day(g::date) s)"

/* Per bucket ($3: 'day' or 'week'), every bucket of [$1, $2) present:
 * (start, signups by e-mail, by one-time code, invite uses, scans,
 * points). */
static const mv_stmt STMT_BUCKETS = {
    "mv_admin_buckets", 3,
    DAYS_CTE ","
             " buckets AS (SELECT b::date AS start FROM generate_series("
             "   date_trunc($3::text, $1::date::timestamp),"
             "   ($2::date - 1)::timestamp, ('1 ' || $3::text)::interval) b)"
             " SELECT b.start::timestamp AT TIME ZONE 'UTC',"
             "  COALESCE(sum(d.signups_email), 0),"
             "  COALESCE(sum(d.signups_otp), 0),"
             "  COALESCE(sum(d.invite_uses), 0), COALESCE(sum(d.scans), 0),"
             "  COALESCE(sum(d.points), 0)"
             " FROM buckets b LEFT JOIN days d"
             "   ON date_trunc($3::text, d.day::timestamp)::date = b.start"
             " GROUP BY b.start ORDER BY b.start"};

/* The funnel of [$1, $2): codes held by users at its end (every user
 * holds one: the rolled-up sign-ups before $2, and the users since the
 * last roll-up through the time index), user codes first used in it,
 * invitees of user codes who joined in it, and those invitees' first
 * scans in it. */
static const mv_stmt STMT_FUNNEL = {
    "mv_admin_funnel", 2,
    DAYS_CTE
    " SELECT (SELECT COALESCE(sum(signups_email + signups_otp), 0)"
    "           FROM stats_daily WHERE day < $2::date)"
    "      + (SELECT count(*) FROM users"
    "          WHERE created_at >= (SELECT COALESCE(max(day) + 1,"
    "                  '-infinity'::date) FROM stats_daily)::timestamp"
    "                  AT TIME ZONE 'UTC'"
    "            AND created_at < $2::date::timestamp AT TIME ZONE 'UTC'),"
    " COALESCE(sum(codes_first_used), 0), COALESCE(sum(user_invitees), 0),"
    " COALESCE(sum(invitee_first_scans), 0)"
    " FROM days"};

/* The users whose codes brought the most sign-ups, all time. */
static const mv_stmt STMT_TOP = {
    "mv_admin_top_inviters", 1,
    "SELECT c.owner_id, u.email, u.phone, c.uses - c.remaining"
    "  FROM invite_codes c JOIN users u ON u.id = c.owner_id"
    " WHERE c.owner_id IS NOT NULL AND c.uses - c.remaining > 0"
    " ORDER BY c.uses - c.remaining DESC, c.id LIMIT $1::integer"};

/* Batches created in [$1, $2), newest first: (id, name, count, redeemed,
 * voided). */
static const mv_stmt STMT_BATCHES = {
    "mv_admin_batch_rates", 3,
    "SELECT b.id, b.name, b.count, r.redeemed, b.voided"
    " FROM coupon_batches b" MV_SQL_BATCH_REDEEMED
    " WHERE b.created_at >= $1::date::timestamp AT TIME ZONE 'UTC'"
    "   AND b.created_at < $2::date::timestamp AT TIME ZONE 'UTC'"
    " ORDER BY b.id DESC LIMIT $3::integer"};

/* A count column (never NULL here) as a number. */
static long long count_at(const PGresult *res, int row, int col)
{
    return mv_db_int(res, row, col);
}

static json_t *buckets_json(mv_req *q, const PGresult *res)
{
    json_t *list = json_array();
    int i, n = mv_db_rows(res);

    for (i = 0; i < n; i++) {
        json_array_append_new(list,
                              json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
                                        "start", mv_col_time(q, res, i, 0),
                                        "signupsEmail", mv_col_int(res, i, 1),
                                        "signupsOtp", mv_col_int(res, i, 2),
                                        "inviteUses", mv_col_int(res, i, 3),
                                        "scans", mv_col_int(res, i, 4),
                                        "pointsIssued", mv_col_int(res, i, 5)));
    }
    return list;
}

static json_t *top_json(const PGresult *res)
{
    json_t *list = json_array();
    int i, n = mv_db_rows(res);

    for (i = 0; i < n; i++) {
        json_array_append_new(
            list, json_pack("{s:o, s:o, s:o, s:o}", "id", mv_col_int(res, i, 0),
                            "email", mv_col_text(res, i, 1), "phone",
                            mv_col_text(res, i, 2), "invitees",
                            mv_col_int(res, i, 3)));
    }
    return list;
}

static json_t *batches_json(const PGresult *res)
{
    json_t *list = json_array();
    int i, n = mv_db_rows(res);

    for (i = 0; i < n; i++) {
        long long count = count_at(res, i, 2);
        json_array_append_new(
            list,
            json_pack("{s:o, s:o, s:I, s:o, s:o, s:f}", "id",
                      mv_col_int(res, i, 0), "name", mv_col_text(res, i, 1),
                      "count", (json_int_t)count, "redeemed",
                      mv_col_int(res, i, 3), "voided", mv_col_int(res, i, 4),
                      "redemptionRate",
                      count > 0 ? (double)count_at(res, i, 3) / count : 0.0));
    }
    return list;
}

/* The funnel object and the k-factor (invitees per code used, null when
 * no code was used). */
static json_t *funnel_json(const PGresult *res, json_t **kfactor)
{
    long long used = count_at(res, 0, 1), invitees = count_at(res, 0, 2);

    *kfactor = used > 0 ? json_real((double)invitees / used) : json_null();
    return json_pack("{s:I, s:I, s:I, s:I}", "codesHeld",
                     (json_int_t)count_at(res, 0, 0), "codesUsed",
                     (json_int_t)used, "invitees", (json_int_t)invitees,
                     "inviteesScanned", (json_int_t)count_at(res, 0, 3));
}

/* GET /admin/analytics?from=&to=&interval=day|week */
static int analytics(mv_req *q)
{
    apr_time_t from, to = q->r->request_time;
    int has_from, interval, rc;
    const char *params[3];
    PGresult *buckets, *funnel, *top, *batches;
    json_t *kfactor, *funnel_body;
    mv_db *db;

    has_from = mv_query_time(q, "from", &from);
    mv_query_time(q, "to", &to);
    if ((interval = mv_query_choice(q, "interval", INTERVALS)) < 0) {
        interval = MV_INTERVAL_DAY;
    }
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    if (!has_from) { /* the last 30 whole days, today included */
        from = mv_admin_day_ceil(to) - ANALYTICS_DEFAULT_DAYS * MV_DAY_USEC;
    }
    rc = mv_admin_period(&from, &to, (mv_interval)interval);
    if (rc == -1) {
        mv_invalid(q, "to", "must be after from");
    } else if (rc == -2) {
        mv_invalid(q, "from",
                   apr_psprintf(q->r->pool, "the period spans more than %d %ss",
                                MV_ANALYTICS_BUCKETS_MAX, INTERVALS[interval]));
    }
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    /* Dates as the statements take them: the days of the aligned period. */
    params[0] = apr_pstrndup(q->r->pool, mv_time_format(q->r->pool, from), 10);
    params[1] = apr_pstrndup(q->r->pool, mv_time_format(q->r->pool, to), 10);
    params[2] = INTERVALS[interval];
    if (!(db = mv_db_get(q)) || mv_admin_stats_refresh(q) != 0 ||
        !(buckets = mv_db_exec(db, &STMT_BUCKETS, params)) ||
        !(funnel = mv_db_exec(db, &STMT_FUNNEL, params)) ||
        !(top = mv_db_exec(db, &STMT_TOP,
                           (const char *[]){mv_int_param(q, TOP_INVITERS)})) ||
        !(batches =
              mv_db_exec(db, &STMT_BATCHES,
                         (const char *[]){params[0], params[1],
                                          mv_int_param(q, BATCHES_MAX)}))) {
        return mv_reply_db_error(q);
    }
    funnel_body = funnel_json(funnel, &kfactor);
    return mv_reply_json(
        q, HTTP_OK,
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "from",
                  mv_time_format(q->r->pool, from), "to",
                  mv_time_format(q->r->pool, to), "interval",
                  INTERVALS[interval], "buckets", buckets_json(q, buckets),
                  "funnel", funnel_body, "kFactor", kfactor, "topInviters",
                  top_json(top), "batches", batches_json(batches)));
}

/* ---------------------------------------------------------------- audit */

/* $1 before, $2 rows */
static const mv_stmt STMT_AUDIT = {
    "mv_admin_audit_list", 2,
    "SELECT id, method, route, target, client_ip, status, outcome,"
    " created_at FROM admin_audit"
    " WHERE id < COALESCE($1::bigint, " MV_SQL_ID_MAX ")"
    " ORDER BY id DESC LIMIT $2::integer"};

/* One audit row: {id, method, route, target, clientIp, status, outcome,
 * createdAt}. */
static json_t *audit_json(mv_req *q, const PGresult *res, int row)
{
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
        mv_col_int(res, row, 0), "method", mv_col_text(res, row, 1), "route",
        mv_col_text(res, row, 2), "target", mv_col_text(res, row, 3),
        "clientIp", mv_col_text(res, row, 4), "status", mv_col_int(res, row, 5),
        "outcome", mv_col_text(res, row, 6), "createdAt",
        mv_col_time(q, res, row, 7));
}

/* GET /admin/audit?limit=&before= */
static int audit(mv_req *q)
{
    const char *params[2];
    mv_page page;

    mv_query_page(q, &page);
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    return mv_reply_page(q, &page, &STMT_AUDIT, params, 0, audit_json);
}

const mv_route mv_admin_analytics_routes[] = {
    {"GET", "/admin/analytics", analytics, MV_ADMIN, MV_RL_API},
    {"GET", "/admin/audit", audit, MV_ADMIN, MV_RL_API},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
