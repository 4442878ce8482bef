/*
 * handle_admin_users.c — the operator's view of accounts: search, one
 * user with the invite chain above and the invite tree below, and
 * disable / enable / revoke sessions.
 *
 * Disabling is immediate (docs/admin.md): the same transaction revokes
 * every refresh-token family, and from its commit on the user's access
 * tokens get 401 on every route that touches the database (the
 * dispatcher asks mv_accounts_user_active).  A scan racing the disable is
 * ordered by the user row's lock: the disable takes it FOR UPDATE, the
 * redemption FOR KEY SHARE (rewards_sql.h), so a scan either commits
 * before the disable or sees the user disabled and credits nothing.
 */
#include "mv_accounts.h"
#include "mv_admin.h"

#define TREE_DEPTH_DEFAULT 2
#define TREE_DEPTH_MAX 5
/* Invitees listed one by one (breadth first); the levels count them all. */
#define TREE_NODES_MAX 500
/* Steps up the invite chain, at most (ids only decrease along it). */
#define CHAIN_MAX 100

/* One user as in the list: id, email, phone, createdAt, invitedBy (the
 * inviting user's id, null for a root code or none), invitees, balance,
 * disabled; then the user's own code. */
#define USER_COLUMNS                                                           \
    "u.id, u.email, u.phone, u.created_at, ic.owner_id,"                       \
    " (SELECT count(*) FROM users i WHERE i.invited_by = oc.id),"              \
    " COALESCE(b.balance, 0), u.disabled_at IS NOT NULL,"                      \
    " oc.code, oc.remaining, oc.uses - oc.remaining, oc.disabled"
#define USER_FROM                                                              \
    " FROM users u LEFT JOIN invite_codes ic ON ic.id = u.invited_by"          \
    " LEFT JOIN invite_codes oc ON oc.owner_id = u.id"                         \
    " LEFT JOIN balances b ON b.user_id = u.id"
enum {
    COL_ID,
    COL_EMAIL,
    COL_PHONE,
    COL_CREATED,
    COL_INVITED_BY,
    COL_INVITEES,
    COL_BALANCE,
    COL_DISABLED,
    COL_CODE,
    COL_CODE_REMAINING,
    COL_CODE_USED,
    COL_CODE_DISABLED
};

/* $1 before, $2 rows */
static const mv_stmt STMT_LIST_ALL = {
    "mv_admin_users_all", 2,
    "SELECT " USER_COLUMNS USER_FROM
    " WHERE u.id < COALESCE($1::bigint, " MV_SQL_ID_MAX ")"
    " ORDER BY u.id DESC LIMIT $2::integer"};

/*
 * A search: every id matching MATCH (on $3, $4), found through its prefix
 * index, then the newest of them, then the page's rows.  Materialised, so
 * the planner cannot walk the primary key backwards hoping to meet
 * matches soon instead: a prefix whose users joined long ago would read
 * the whole table.  Planned at each run (mv_reply_page), so LIKE's prefix
 * becomes an index range.  $1 before, $2 rows.
 */
#define USER_SEARCH(MATCH)                                                     \
    "WITH m AS MATERIALIZED (SELECT id FROM users"                             \
    "  WHERE (" MATCH ") AND id < COALESCE($1::bigint, " MV_SQL_ID_MAX ")),"   \
    " p AS (SELECT id FROM m ORDER BY id DESC LIMIT $2::integer)"              \
    " SELECT " USER_COLUMNS USER_FROM " JOIN p ON p.id = u.id"                 \
    " ORDER BY u.id DESC"

/* $3 lower-cased e-mail LIKE pattern */
static const mv_stmt STMT_LIST_EMAIL = {
    "mv_admin_users_email", 3, USER_SEARCH("lower(email) LIKE $3::text")};

/* $3 phone LIKE pattern, $4 id (0: none) */
static const mv_stmt STMT_LIST_PHONE = {
    "mv_admin_users_phone", 4,
    USER_SEARCH("phone LIKE $3::text OR id = $4::bigint")};

static const mv_stmt STMT_ONE = {"mv_admin_user", 1,
                                 "SELECT " USER_COLUMNS USER_FROM
                                 " WHERE u.id = $1::bigint"};

/* From the inviter up: (code joined with, its owner or NULL, e-mail,
 * phone).  $1 user, $2 steps at most. */
static const mv_stmt STMT_CHAIN = {
    "mv_admin_user_chain", 2,
    "WITH RECURSIVE up(step, code_id) AS ("
    "   SELECT 1, invited_by FROM users"
    "    WHERE id = $1::bigint AND invited_by IS NOT NULL"
    "   UNION ALL"
    "   SELECT up.step + 1, o.invited_by FROM up"
    "     JOIN invite_codes c ON c.id = up.code_id"
    "     JOIN users o ON o.id = c.owner_id"
    "    WHERE o.invited_by IS NOT NULL AND up.step < $2::integer)"
    " SELECT c.code, c.owner_id, o.email, o.phone FROM up"
    "   JOIN invite_codes c ON c.id = up.code_id"
    "   LEFT JOIN users o ON o.id = c.owner_id"
    "  ORDER BY up.step"};

/*
 * The tree below a user, in one walk: first a row per level
 * ('L', depth, count), then up to $3 invitees breadth first
 * ('N', depth, NULL, id, inviter, email, phone, created_at, disabled).
 * $1 user, $2 depth.
 */
static const mv_stmt STMT_TREE = {
    "mv_admin_user_tree", 3,
    "WITH RECURSIVE down(depth, id, parent) AS ("
    "   SELECT 0, $1::bigint, NULL::bigint"
    "   UNION ALL"
    "   SELECT d.depth + 1, u.id, d.id FROM down d"
    "     JOIN invite_codes c ON c.owner_id = d.id"
    "     JOIN users u ON u.invited_by = c.id"
    "    WHERE d.depth < $2::integer),"
    " nodes AS (SELECT * FROM down WHERE depth > 0"
    "            ORDER BY depth, id LIMIT $3::integer)"
    " SELECT 'L', depth, count(*), NULL::bigint, NULL::bigint, NULL::text,"
    "        NULL::text, NULL::timestamptz, NULL::boolean"
    "   FROM down WHERE depth > 0 GROUP BY depth"
    " UNION ALL"
    " SELECT 'N', n.depth, NULL, n.id, n.parent, u.email, u.phone,"
    "        u.created_at, u.disabled_at IS NOT NULL"
    "   FROM nodes n JOIN users u ON u.id = n.id"
    " ORDER BY 1, 2, 4"};
enum {
    TREE_KIND,
    TREE_DEPTH,
    TREE_COUNT,
    TREE_ID,
    TREE_PARENT,
    TREE_EMAIL,
    TREE_PHONE,
    TREE_CREATED,
    TREE_DISABLED
};

/* The list fields of a user row: a new object. */
static json_t *user_json(mv_req *q, const PGresult *res, int row)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     mv_col_int(res, row, COL_ID), "email",
                     mv_col_text(res, row, COL_EMAIL), "phone",
                     mv_col_text(res, row, COL_PHONE), "createdAt",
                     mv_col_time(q, res, row, COL_CREATED), "invitedBy",
                     mv_col_int(res, row, COL_INVITED_BY), "invitees",
                     mv_col_int(res, row, COL_INVITEES), "balance",
                     mv_col_int(res, row, COL_BALANCE), "disabled",
                     mv_col_bool(res, row, COL_DISABLED));
}

/* GET /admin/users?q=&limit=&before= */
static int list_users(mv_req *q)
{
    char pattern[MV_ADMIN_PATTERN_SIZE];
    const char *params[4], *text;
    const mv_stmt *st = &STMT_LIST_ALL;
    long long id = 0;
    mv_page page;

    pattern[0] = '\0';
    mv_query_page(q, &page);
    if ((text = mv_query_text(q, "q", MV_ADMIN_SEARCH_MAX))) {
        switch (mv_admin_user_search(text, pattern, &id)) {
        case MV_SEARCH_EMAIL:
            st = &STMT_LIST_EMAIL;
            break;
        case MV_SEARCH_PHONE:
            st = &STMT_LIST_PHONE;
            break;
        default:
            mv_invalid(q, "q", "must be an e-mail or phone prefix, or an id");
        }
    }
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    params[2] = pattern;
    params[3] = mv_int_param(q, id);
    return mv_reply_page(q, &page, st, params, COL_ID, user_json);
}

/* The chain above: [{id, email, phone, code}] from the inviter up; the
 * last has id null when the chain starts at a root code. */
static json_t *chain_json(const PGresult *res)
{
    json_t *chain = json_array();
    int i, n = mv_db_rows(res);

    for (i = 0; i < n; i++) {
        json_array_append_new(chain, json_pack("{s:o, s:o, s:o, s:o}", "id",
                                               mv_col_int(res, i, 1), "email",
                                               mv_col_text(res, i, 2), "phone",
                                               mv_col_text(res, i, 3), "code",
                                               mv_col_text(res, i, 0)));
    }
    return chain;
}

/* The tree below: {depth, levels: [{depth, count}], nodes: [{id,
 * invitedBy, depth, email, phone, createdAt, disabled}], truncated}. */
static json_t *tree_json(mv_req *q, const PGresult *res, long long depth)
{
    json_t *levels = json_array(), *nodes = json_array();
    long long total = 0;
    int i, n = mv_db_rows(res);

    for (i = 0; i < n; i++) {
        if (*mv_db_text(res, i, TREE_KIND) == 'L') {
            total += mv_db_int(res, i, TREE_COUNT);
            json_array_append_new(
                levels,
                json_pack("{s:o, s:o}", "depth", mv_col_int(res, i, TREE_DEPTH),
                          "count", mv_col_int(res, i, TREE_COUNT)));
            continue;
        }
        json_array_append_new(
            nodes, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                             mv_col_int(res, i, TREE_ID), "invitedBy",
                             mv_col_int(res, i, TREE_PARENT), "depth",
                             mv_col_int(res, i, TREE_DEPTH), "email",
                             mv_col_text(res, i, TREE_EMAIL), "phone",
                             mv_col_text(res, i, TREE_PHONE), "createdAt",
                             mv_col_time(q, res, i, TREE_CREATED), "disabled",
                             mv_col_bool(res, i, TREE_DISABLED)));
    }
    return json_pack("{s:I, s:o, s:o, s:b}", "depth", (json_int_t)depth,
                     "levels", levels, "nodes", nodes, "truncated",
                     (long long)json_array_size(nodes) < total);
}

/* GET /admin/users/{id}?depth=1..5 */
static int show_user(mv_req *q)
{
    long long id, depth = TREE_DEPTH_DEFAULT;
    const char *params[3];
    PGresult *user, *chain, *tree;
    json_t *body, *code = json_null();

    mv_path_id(q, 0, &id);
    mv_query_int(q, "depth", TREE_DEPTH_MAX, &depth);
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    params[0] = mv_int_param(q, id);
    if (!mv_db_get(q) || !(user = mv_db_exec(q->db, &STMT_ONE, params))) {
        return mv_reply_db_error(q);
    }
    if (mv_db_rows(user) != 1) {
        return mv_reply_error(q, HTTP_NOT_FOUND, "user_not_found",
                              "No user has this id.");
    }
    params[1] = mv_int_param(q, CHAIN_MAX);
    if (!(chain = mv_db_exec(q->db, &STMT_CHAIN, params))) {
        return mv_reply_db_error(q);
    }
    params[1] = mv_int_param(q, depth);
    params[2] = mv_int_param(q, TREE_NODES_MAX);
    if (!(tree = mv_db_exec(q->db, &STMT_TREE, params))) {
        return mv_reply_db_error(q);
    }
    if (mv_db_text(user, 0, COL_CODE)) {
        code = json_pack("{s:o, s:o, s:o, s:o}", "code",
                         mv_col_text(user, 0, COL_CODE), "remaining",
                         mv_col_int(user, 0, COL_CODE_REMAINING), "used",
                         mv_col_int(user, 0, COL_CODE_USED), "disabled",
                         mv_col_bool(user, 0, COL_CODE_DISABLED));
    }
    body = user_json(q, user, 0);
    json_object_set_new(body, "inviteCode", code);
    json_object_set_new(body, "chain", chain_json(chain));
    json_object_set_new(body, "tree", tree_json(q, tree, depth));
    return mv_reply_json(q, HTTP_OK, body);
}

/* ------------------------------------------------------------- actions */

/*
 * The user row locked FOR UPDATE (so that a concurrent redemption, which
 * holds or waits for FOR KEY SHARE, is ordered against this transaction),
 * then the change.  $1 user id.  No row: no such user.
 */
static const mv_stmt STMT_LOCK = {
    "mv_admin_user_lock", 1,
    "SELECT id FROM users WHERE id = $1::bigint FOR UPDATE"};
static const mv_stmt STMT_DISABLE = {
    "mv_admin_user_disable", 1,
    "UPDATE users SET disabled_at = COALESCE(disabled_at, now())"
    " WHERE id = $1::bigint"};
static const mv_stmt STMT_ENABLE = {
    "mv_admin_user_enable", 1,
    "UPDATE users SET disabled_at = NULL WHERE id = $1::bigint"};
static const mv_stmt STMT_REVOKE = {
    "mv_admin_user_revoke", 1,
    "UPDATE refresh_families SET revoked_at = now()"
    " WHERE user_id = $1::bigint AND revoked_at IS NULL"};

typedef enum { ACT_DISABLE, ACT_ENABLE, ACT_REVOKE } user_action;

/*
 * Runs one action on user {id} in one transaction with its audit row, and
 * replies {id, disabled, revokedSessions}.
 */
static int user_act(mv_req *q, user_action act)
{
    const char *params[1];
    PGresult *revoked = NULL, *state;
    long long id;
    mv_db *db;

    if (mv_admin_begin_locked_or_reply(q, &STMT_LOCK, "user_not_found",
                                       "No user has this id.", &id)) {
        return OK;
    }
    db = q->db;
    params[0] = mv_int_param(q, id);
    if ((act == ACT_DISABLE && !mv_db_exec(db, &STMT_DISABLE, params)) ||
        (act == ACT_ENABLE && !mv_db_exec(db, &STMT_ENABLE, params)) ||
        (act != ACT_ENABLE &&
         !(revoked = mv_db_exec(db, &STMT_REVOKE, params))) ||
        !(state = mv_db_exec(db, &STMT_ONE, params)) ||
        mv_audit_ok(q, params[0]) != 0 || mv_db_commit(db) != 0) {
        return mv_reply_db_error(q);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, q->r,
                  "MV0502: %s on user %" APR_INT64_T_FMT
                  " by the admin key from %s",
                  q->route->path, (apr_int64_t)id, q->r->useragent_ip);
    return mv_reply_json(
        q, HTTP_OK,
        json_pack("{s:I, s:o, s:I}", "id", (json_int_t)id, "disabled",
                  mv_col_bool(state, 0, COL_DISABLED), "revokedSessions",
                  (json_int_t)(revoked ? mv_db_changed(revoked) : 0)));
}

/* POST /admin/users/{id}/disable */
static int disable_user(mv_req *q)
{
    return user_act(q, ACT_DISABLE);
}

/* POST /admin/users/{id}/enable */
static int enable_user(mv_req *q)
{
    return user_act(q, ACT_ENABLE);
}

/* POST /admin/users/{id}/revoke-sessions */
static int revoke_sessions(mv_req *q)
{
    return user_act(q, ACT_REVOKE);
}

const mv_route mv_admin_user_routes[] = {
    {"GET", "/admin/users", list_users, MV_ADMIN, MV_RL_API},
    {"GET", "/admin/users/{id}", show_user, MV_ADMIN, MV_RL_API},
    {"POST", "/admin/users/{id}/disable", disable_user, MV_ADMIN, MV_RL_API},
    {"POST", "/admin/users/{id}/enable", enable_user, MV_ADMIN, MV_RL_API},
    {"POST", "/admin/users/{id}/revoke-sessions", revoke_sessions, MV_ADMIN,
     MV_RL_API},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
