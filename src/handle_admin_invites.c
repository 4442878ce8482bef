/*
 * handle_admin_invites.c — GET /admin/invite-codes (search and filters)
 * and PATCH /admin/invite-codes/{code} (disable, uses left, expiry).
 * Creating root codes is POST /admin/invite-codes (handle_invites.c).
 */
#include "mv_admin.h"
#include "mv_crypto.h"
#include "mv_validate.h"

#define CODE_REMAINING_MAX 1000000

/* The columns of one invite code in a reply, and its status: disabled
 * wins over expired, expired over used up. */
#define INVITE_COLUMNS                                                         \
    "c.code, c.owner_id, u.email, u.phone, c.remaining,"                       \
    " c.uses - c.remaining, c.created_at, c.expires_at, c.disabled,"           \
    " CASE WHEN c.disabled THEN 'disabled'"                                    \
    "      WHEN c.expires_at <= now() THEN 'expired'"                          \
    "      WHEN c.remaining = 0 THEN 'used_up' ELSE 'active' END, c.id"
enum {
    COL_CODE,
    COL_OWNER,
    COL_EMAIL,
    COL_PHONE,
    COL_REMAINING,
    COL_USED,
    COL_CREATED,
    COL_EXPIRES,
    COL_DISABLED,
    COL_STATUS,
    COL_ID
};

static const char *const STATUSES[] = {"active", "used_up", "expired",
                                       "disabled", NULL};

/*
 * A page of codes, newest first.  Each filter is NULL when not asked for;
 * planned at each run (mv_reply_page), the planner drops those
 * conditions, so each shape of query uses its own index.
 *   $1 before (id), $2 rows, $3 owner (user id), $4 root (boolean),
 *   $5 code prefix pattern, $6 status
 */
static const mv_stmt STMT_LIST = {
    "mv_admin_invite_list", 6,
    "SELECT " INVITE_COLUMNS " FROM invite_codes c"
    " LEFT JOIN users u ON u.id = c.owner_id"
    " WHERE ($1::bigint IS NULL OR c.id < $1::bigint)"
    "   AND ($3::bigint IS NULL OR c.owner_id = $3::bigint)"
    "   AND ($4::boolean IS NULL OR (c.owner_id IS NULL) = $4::boolean)"
    "   AND ($5::text IS NULL OR c.code LIKE $5::text)"
    "   AND ($6::text IS NULL"
    "     OR ($6::text = 'disabled' AND c.disabled)"
    "     OR ($6::text = 'expired' AND NOT c.disabled"
    "         AND c.expires_at <= now())"
    "     OR ($6::text = 'used_up' AND NOT c.disabled AND c.remaining = 0"
    "         AND (c.expires_at IS NULL OR c.expires_at > now()))"
    "     OR ($6::text = 'active' AND NOT c.disabled AND c.remaining > 0"
    "         AND (c.expires_at IS NULL OR c.expires_at > now())))"
    " ORDER BY c.id DESC LIMIT $2::integer"};

/* One code as JSON: {code, owner, remaining, used, createdAt, expiresAt,
 * disabled, status}; owner is {id, email, phone} or null (a root code). */
static json_t *invite_json(mv_req *q, const PGresult *res, int row)
{
    json_t *owner = json_null();

    if (mv_db_text(res, row, COL_OWNER)) {
        owner =
            json_pack("{s:o, s:o, s:o}", "id", mv_col_int(res, row, COL_OWNER),
                      "email", mv_col_text(res, row, COL_EMAIL), "phone",
                      mv_col_text(res, row, COL_PHONE));
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "code",
                     mv_col_text(res, row, COL_CODE), "owner", owner,
                     "remaining", mv_col_int(res, row, COL_REMAINING), "used",
                     mv_col_int(res, row, COL_USED), "createdAt",
                     mv_col_time(q, res, row, COL_CREATED), "expiresAt",
                     mv_col_time(q, res, row, COL_EXPIRES), "disabled",
                     mv_col_bool(res, row, COL_DISABLED), "status",
                     mv_col_text(res, row, COL_STATUS));
}

/* GET /admin/invite-codes?owner=&root=&status=&q=&limit=&before= */
static int list_codes(mv_req *q)
{
    static const char *const booleans[] = {"false", "true", NULL};
    const char *params[6], *text;
    char pattern[MV_INVITE_LEN_MAX + 2];
    long long owner = 0;
    int root, status;
    mv_page page;

    mv_query_page(q, &page);
    mv_query_int(q, "owner", MV_ID_MAX, &owner);
    root = mv_query_choice(q, "root", booleans);
    status = mv_query_choice(q, "status", STATUSES);
    if ((text = mv_query_text(q, "q", MV_ADMIN_SEARCH_MAX)) &&
        mv_admin_code_prefix(text, pattern) != 0) {
        mv_invalid(q, "q", "must be the beginning of an invite code");
    }
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    params[2] = owner ? mv_int_param(q, owner) : NULL;
    params[3] = root < 0 ? NULL : booleans[root];
    params[4] = text ? pattern : NULL;
    params[5] = status < 0 ? NULL : STATUSES[status];
    return mv_reply_page(q, &page, &STMT_LIST, params, COL_ID, invite_json);
}

/*
 * Changes what the body names; "used" stays as it was, so a new remaining
 * moves the granted uses with it.  No row: no such code.
 *   $1 code, $2 disabled, $3 remaining, $4 "1" to set expires_at,
 *   $5 expires_at (NULL: never)
 */
static const mv_stmt STMT_PATCH = {
    "mv_admin_invite_patch", 5,
    "WITH c AS (UPDATE invite_codes c SET"
    "   disabled = COALESCE($2::boolean, c.disabled),"
    "   uses = CASE WHEN $3::integer IS NULL THEN c.uses"
    "          ELSE c.uses - c.remaining + $3::integer END,"
    "   remaining = COALESCE($3::integer, c.remaining),"
    "   expires_at = CASE WHEN $4::text IS NULL THEN c.expires_at"
    "                ELSE $5::timestamptz END"
    " WHERE c.code = $1 RETURNING *)"
    " SELECT " INVITE_COLUMNS " FROM c LEFT JOIN users u ON u.id = c.owner_id"};

/* PATCH /admin/invite-codes/{code} {disabled?, remaining?, expiresAt?} */
static int patch_code(mv_req *q)
{
    char code[MV_INVITE_LEN_MAX + 1];
    const char *params[5] = {code, NULL, NULL, NULL, NULL};
    json_t *disabled = json_object_get(q->body, "disabled");
    json_t *expires = json_object_get(q->body, "expiresAt");
    apr_int64_t remaining;
    apr_time_t at;
    PGresult *res;

    if (mv_invite_code_normalize(q->param[0], code, sizeof code) < 0) {
        return mv_reply_error(q, HTTP_NOT_FOUND, "invite_code_not_found",
                              "No invite code is spelled like this.");
    }
    if (disabled && !json_is_boolean(disabled)) {
        mv_invalid(q, "disabled", "must be true or false");
    } else if (disabled) {
        params[1] = json_is_true(disabled) ? "true" : "false";
    }
    if (mv_body_int(q, "remaining", 0, CODE_REMAINING_MAX, MV_OPTIONAL,
                    &remaining)) {
        params[2] = mv_int_param(q, remaining);
    }
    if (expires && json_is_null(expires)) {
        params[3] = "1"; /* null: the code never expires */
    } else if (mv_body_time(q, "expiresAt", MV_OPTIONAL, &at)) {
        params[3] = "1";
        params[4] = mv_time_format(q->r->pool, at);
    }
    if (mv_has_invalid(q)) {
        return mv_reply_invalid(q);
    }
    if (!mv_db_get(q) || mv_db_begin(q->db) != 0 ||
        !(res = mv_db_exec(q->db, &STMT_PATCH, params))) {
        return mv_reply_db_error(q);
    }
    if (mv_db_rows(res) != 1) {
        return mv_reply_error(q, HTTP_NOT_FOUND, "invite_code_not_found",
                              "No invite code is spelled like this.");
    }
    if (mv_audit_ok(q, code) != 0 || mv_db_commit(q->db) != 0) {
        return mv_reply_db_error(q);
    }
    return mv_reply_json(q, HTTP_OK, invite_json(q, res, 0));
}

const mv_route mv_admin_invite_routes[] = {
    {"GET", "/admin/invite-codes", list_codes, MV_ADMIN, MV_RL_API},
    {"PATCH", "/admin/invite-codes/{code}", patch_code, MV_ADMIN | MV_BODY,
     MV_RL_API},
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
