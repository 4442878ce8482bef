/*
 * handle_system.c — GET /health and GET /version: what load balancers and
 * operators poll.  Never rate-limited.
 */
#include "mv.h"

static const mv_stmt STMT_HEALTH = {"mv_health", 0, "SELECT 1"};

/* 200 when a real query reaches the database, 503 otherwise. */
static int health(mv_req *q)
{
    mv_db *db = mv_db_get(q);

    if (!db || !mv_db_exec(db, &STMT_HEALTH, NULL)) {
        return mv_reply_json(q, HTTP_SERVICE_UNAVAILABLE,
                             json_pack("{s:s, s:s}", "status", "unavailable",
                                       "database", "down"));
    }
    return mv_reply_json(q, HTTP_OK,
                         json_pack("{s:s, s:s}", "status", "ok", "database",
                                   "ok"));
}

static int version(mv_req *q)
{
    return mv_reply_json(q, HTTP_OK,
                         json_pack("{s:s, s:s}", "name", MV_NAME, "version",
                                   MV_VERSION));
}

const mv_route mv_system_routes[] = {
    {"GET", "/health", health, 0, MV_RL_NONE},
    {"GET", "/version", version, 0, MV_RL_NONE},
    {"POST", "/auth/login-with-email", version, MV_BODY, MV_RL_AUTH}, /*TEMPTEST*/
    {NULL, NULL, NULL, 0, MV_RL_NONE},
};
