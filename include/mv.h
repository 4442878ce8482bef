/*
 * mv.h — private header of mod_mocaverse's httpd-facing code.
 *
 * Every .c file under src/ that touches request_rec includes this header,
 * which puts the module in the log tag (so `LogLevel mocaverse:debug` works)
 * and declares the plumbing that handlers share: configuration, the request
 * context, replies, body fields, authentication and the database.
 */
#ifndef MV_H
#define MV_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include <jansson.h>
#include <libpq-fe.h>

#include "mv_router.h"

#ifndef MV_MODULE_C /* mod_mocaverse.c declares it with the module */
APLOG_USE_MODULE(mocaverse);
#endif
extern module AP_MODULE_DECLARE_DATA mocaverse_module;

#define MV_NAME "mod_mocaverse"
/* The version's one place is debian/changelog; the Makefile passes it. */
#ifndef MV_VERSION_NUMBER
#error "MV_VERSION_NUMBER is not defined: build with the Makefile"
#endif
#define MV_STRINGIFY(x) #x
#define MV_XSTRINGIFY(x) MV_STRINGIFY(x)
#define MV_VERSION MV_XSTRINGIFY(MV_VERSION_NUMBER)

/* ---------------------------------------------------------------- config */

#define MV_JWT_SECRET_MIN 32
#define MV_ADMIN_KEY_MIN 16
#define MV_BODY_MAX 65536

typedef enum {
    MV_RL_NONE = -1,
    MV_RL_AUTH,
    MV_RL_SCAN,
    MV_RL_API,
    MV_RL_GROUPS
} mv_rl_group;

typedef enum { MV_OTP_LOG, MV_OTP_RESPONSE, MV_OTP_PIPE } mv_otp_delivery;
typedef enum { MV_RL_STORE_SHM, MV_RL_STORE_DATABASE } mv_rl_store;

typedef struct {
    int requests; /* 0 disables the group; -1 unset */
    int seconds;
} mv_rate_limit;

/*
 * Per-server configuration.  Directives fill it, merge combines a virtual
 * host with the main server ("unset" is NULL or -1), and post_config applies
 * the defaults once (mv_config_finalize), so request-time code reads plain
 * values and never writes here.
 */
typedef struct {
    const char *jwt_secret;
    apr_size_t jwt_secret_len;
    /* jwt_secret prepared for verification (mv_jwt_key), made by
     * mv_config_finalize in pconf and zeroed when pconf is cleared */
    const struct mv_jwt_key *jwt_key;
    const char *admin_key; /* NULL: admin routes answer 403 */
    apr_size_t admin_key_len;
    const char *issuer;
    apr_int64_t access_ttl;
    apr_int64_t refresh_ttl;
    int invite_only;
    int invite_quota;
    int invite_code_length;
    int otp_delivery; /* mv_otp_delivery */
    const char *otp_pipe_command;
    apr_int64_t otp_ttl;
    int otp_max_attempts;
    mv_rate_limit rate[MV_RL_GROUPS];
    int rate_store; /* mv_rl_store */
    int lockout_failures;
    int lockout_seconds;
    int coupon_batch_max;
    int pwhash_ops;
    int pwhash_mem_mib;
    /* Process-local state hung off the configuration at post_config (the
     * configuration itself stays read-only at request time). */
    apr_uint64_t *health_probe; /* last /health probe, handle_system.c */
} mv_config;

extern const command_rec mv_directives[];
void *mv_config_create_server(apr_pool_t *p, server_rec *s);
void *mv_config_merge_server(apr_pool_t *p, void *basev, void *addv);
/* Applies defaults, checks required directives and prepares the JWT key
 * (allocated from p, zeroed by a cleanup of p); NULL or an error. */
const char *mv_config_finalize(mv_config *c, apr_pool_t *p);

/* --------------------------------------------------------------- request */

typedef struct mv_db mv_db;
typedef struct mv_req mv_req;
typedef int (*mv_handler_fn)(mv_req *q);

/* Route flags: what the dispatcher does before the handler runs. */
#define MV_BODY 0x01   /* a JSON object body is parsed into q->body */
#define MV_BEARER 0x02 /* a valid access token sets q->user_id */
#define MV_ADMIN 0x04  /* the admin key sets q->is_admin */
/* MV_BEARER | MV_ADMIN: either one is enough. */

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
};

/* Route groups, one per handler file, each ending with a NULL method. */
extern const mv_route mv_system_routes[];
extern const mv_route mv_auth_routes[];   /* handle_auth.c */
extern const mv_route mv_invite_routes[]; /* handle_invites.c */
extern const mv_route mv_otp_routes[];    /* handle_otp.c */
extern const mv_route mv_coupon_routes[]; /* handle_coupons.c */
extern const mv_route mv_scan_routes[];   /* handle_scan.c */
extern const mv_route mv_wallet_routes[]; /* handle_wallet.c */

int mv_dispatch(request_rec *r);

/* ---------------------------------------------------------------- replies */

/*
 * Every reply goes through these.  They set the status, the JSON content
 * type and the body, and return OK, so a handler ends with
 * `return mv_reply_...(...)`.
 */
int mv_reply_json(mv_req *q, int status, json_t *body); /* steals body */
/* A body already serialised (json[0..len), borrowed; copied out before
 * the call returns); mv_reply_json ends here too. */
int mv_reply_raw(mv_req *q, int status, const char *json, apr_size_t len);
int mv_reply_error(mv_req *q, int status, const char *code,
                   const char *message);
/* 400 validation_failed with the "fields" gathered in q->invalid. */
int mv_reply_invalid(mv_req *q);
/* 503 unavailable, or 500 internal_error for a failure that is ours. */
int mv_reply_db_error(mv_req *q);

/* Ties a jansson value to the pool: decref'd when the pool is cleared. */
json_t *mv_json_pool(apr_pool_t *p, json_t *v);

/* --------------------------------------------------------- body fields */

#define MV_REQUIRED 1
#define MV_OPTIONAL 0

/* Records "field: problem" for the 400 reply; keeps the first per field. */
void mv_invalid(mv_req *q, const char *field, const char *problem);
/* 1 once any field problem was recorded: reply with mv_reply_invalid. */
int mv_has_invalid(const mv_req *q);
/*
 * The string value of a body field (borrowed), or NULL when it is absent
 * or not a string; a required field's absence and any wrong type are
 * recorded with mv_invalid.
 */
const char *mv_body_string(mv_req *q, const char *field, int required);
/*
 * An integer field within [min, max]: 1 and *out set when present and
 * valid, 0 otherwise (problems recorded as above; *out left untouched).
 */
int mv_body_int(mv_req *q, const char *field, apr_int64_t min, apr_int64_t max,
                int required, apr_int64_t *out);
/*
 * An RFC 3339 timestamp field: 1 and *out (microseconds) set when present
 * and valid, 0 otherwise (problems recorded).
 */
int mv_body_time(mv_req *q, const char *field, int required, apr_time_t *out);
/* RFC 3339 UTC with a Z ("2026-11-21T14:03:00Z"), from r->pool. */
const char *mv_time_format(apr_pool_t *p, apr_time_t t);
/* Same for a PostgreSQL timestamptz in ISO form, or NULL for NULL. */
const char *mv_pg_time(apr_pool_t *p, const PGresult *res, int row, int col);

/* ------------------------------------------------------------- database */

/*
 * SQL that the module owns.  Each statement is prepared on a pooled
 * connection the first time it runs there and again after the connection
 * was re-established; declare them as static const next to their handler.
 */
typedef struct {
    const char *name; /* unique, "mv_" prefixed */
    int nparams;
    const char *sql;
} mv_stmt;

/* Finds mod_dbd's ap_dbd_acquire (post_config); -1 if mod_dbd is absent. */
int mv_db_retrieve(void);
/* The request's database handle; NULL when the database is unreachable. */
mv_db *mv_db_get(mv_req *q);
/*
 * Runs a statement with text parameters (NULL for SQL NULL).  Returns the
 * result, which r->pool owns, or NULL on failure (see mv_db_error_state).
 * Inside a transaction, a failure marks the transaction failed: the
 * caller stops and replies; the transaction is rolled back by the cleanup.
 */
PGresult *mv_db_exec(mv_db *db, const mv_stmt *st, const char *const *params);
/* BEGIN / COMMIT / ROLLBACK.  0 on success, -1 on failure. */
int mv_db_begin(mv_db *db);
int mv_db_commit(mv_db *db);
void mv_db_rollback(mv_db *db);
/* SQLSTATE of the last failure ("" if none, e.g. a lost connection). */
const char *mv_db_sqlstate(const mv_db *db);
/* 1 when the last failure was a unique violation (SQLSTATE 23505). */
int mv_db_unique_violation(const mv_db *db);
/* Decimal text of an integer (id, count, seconds) for a statement
 * parameter, from r->pool. */
const char *mv_int_param(mv_req *q, apr_int64_t v);
/* The value at (row, col) copied into r->pool; NULL for SQL NULL. */
const char *mv_db_value(mv_db *db, const PGresult *res, int row, int col);

/* ----------------------------------------------------------- rate limits */

/*
 * MocaverseRateLimit (src/ratelimit.c, docs/ratelimit.md).  The hooks
 * keep the shared-memory store in the process pool, so its counts and
 * its lock outlive graceful restarts; each returns OK or an error status.
 */
int mv_ratelimit_pre_config(apr_pool_t *pconf);
int mv_ratelimit_post_config(apr_pool_t *pconf, server_rec *s);
void mv_ratelimit_child_init(apr_pool_t *p, server_rec *s);
/*
 * Counts the request against its route's rate group (per client IP for
 * auth and api, per user for scan once q->user_id is known) and sets the
 * RateLimit-Policy and RateLimit headers.  Returns 0 to go on, or 1 when
 * it replied: 429 rate_limited with Retry-After, or 503 unavailable when
 * the database store cannot count (fail closed).
 */
int mv_ratelimit(mv_req *q);

/*
 * Account lockout (MocaverseLoginLockout), counted in the database so it
 * holds across processes and hosts.  `account` is the lower-cased e-mail
 * of a login, or "otp:" + destination for one-time-code guesses; it is
 * stored only as a keyed hash.
 *
 * mv_lockout_refused counts this attempt as a failure *before* the
 * credential is checked, so concurrent guesses cannot slip past the
 * bound; a successful check then calls mv_lockout_cleared, and a wrong
 * one needs no call.  Call both outside a transaction (each is one
 * autocommitted statement).
 *
 * mv_lockout_refused returns 0 (go on and check the credential), or 1
 * once it has answered the request: 429 account_locked with Retry-After,
 * or the database error.  With MocaverseLoginLockout 0 it returns 0
 * without touching the database.  mv_lockout_cleared forgets the
 * account's failures: 0, or -1 on failure.
 */
int mv_lockout_refused(mv_req *q, const char *account);
int mv_lockout_cleared(mv_req *q, const char *account);

/* ------------------------------------------------------------------ auth */

/* 1 if the request carries the configured admin key (constant time). */
int mv_auth_admin(mv_req *q);
/* The bearer token of the Authorization header, or NULL. */
const char *mv_auth_bearer_token(request_rec *r);

#endif
