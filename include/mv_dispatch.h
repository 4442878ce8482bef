/*
 * mv_dispatch.h — the request a handler gets and the route tables
 * (src/dispatch.c finds the route, checks rate limits and credentials,
 * reads the body, then calls the handler).
 */
#ifndef MV_DISPATCH_H
#define MV_DISPATCH_H

#include "httpd.h"
#include <jansson.h>

#include "mv_config.h"
#include "mv_router.h"

typedef struct mv_db mv_db;
typedef struct mv_req mv_req;
typedef int (*mv_handler_fn)(mv_req *q);

/* Route flags: what the dispatcher does before the handler runs. */
#define MV_BODY 0x01   /* a JSON object body is parsed into q->body */
#define MV_BEARER 0x02 /* a valid access token sets q->user_id */
#define MV_ADMIN 0x04  /* the admin key sets q->is_admin */
/* MV_BEARER | MV_ADMIN: either one is enough. */
/* Accepts Idempotency-Key: after the body is parsed, the dispatcher calls
 * mv_idempotency_claim_or_reply (mv_idempotency.h).  For state-changing routes
 * with MV_BEARER or MV_ADMIN (keys are scoped to the caller) whose answer holds
 * no credential (a token response must never be stored). */
#define MV_IDEMPOTENT 0x08
/* The handler's own statement refuses a bearer whose account was disabled
 * or deleted (and answers 401): the dispatcher skips its separate account
 * query, one round trip less on a hot route (handle_scan.c). */
#define MV_ACCOUNT_CHECKED 0x10

typedef struct {
    const char *method;
    const char *path; /* relative to the <Location>; {x} params */
    mv_handler_fn handler;
    unsigned flags;
    mv_rl_group rate_group;
} mv_route;

/*
 * What a handler gets: the request, the effective configuration, the path
 * parameters, the parsed body (borrowed: r->pool owns it), the caller's
 * identity, and the database handle once asked for.
 */
struct mv_req {
    request_rec *r;
    const mv_config *cfg;
    const mv_route *route;
    const char *param[MV_ROUTE_MAX_PARAMS];
    json_t *body;
    json_t *invalid;     /* field -> problem (mv_has_invalid) */
    apr_int64_t user_id; /* 0 unless a bearer token was accepted */
    int is_admin;
    mv_db *db;
    struct mv_idem *idem; /* a claimed Idempotency-Key (idempotency.c) */
};

/* Route groups, one per handler file, each ending with a NULL method. */
extern const mv_route mv_system_routes[];
extern const mv_route mv_auth_routes[];         /* handle_auth.c */
extern const mv_route mv_invite_routes[];       /* handle_invites.c */
extern const mv_route mv_otp_routes[];          /* handle_otp.c */
extern const mv_route mv_coupon_routes[];       /* handle_coupons.c */
extern const mv_route mv_scan_routes[];         /* handle_scan.c */
extern const mv_route mv_wallet_routes[];       /* handle_wallet.c */
extern const mv_route mv_admin_invite_routes[]; /* handle_admin_invites.c */
extern const mv_route mv_admin_user_routes[];   /* handle_admin_users.c */
extern const mv_route mv_admin_batch_routes[];  /* handle_admin_batches.c */
extern const mv_route
    mv_admin_analytics_routes[]; /* handle_admin_analytics.c */

int mv_dispatch(request_rec *r);
/* Registers the dispatcher's filter (register_hooks). */
void mv_dispatch_register(void);

#endif
