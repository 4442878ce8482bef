/*
 * mv_config.h — the directives of SPEC §2 and the configuration they fill.
 *
 * MV_DIRECTIVES is the one list of directives: src/config.c makes the
 * command_rec table, create, merge and finalize from it, and
 * tools/directives-md.c prints the README's table (`make directives-check`
 * fails when the two differ).  Adding a directive is one row here, plus the
 * field below, plus a parser only for a new kind.
 */
#ifndef MV_CONFIG_H
#define MV_CONFIG_H

#include "httpd.h"
#include "http_config.h"

#include "mv_crypto.h"
#include "mv_jwt.h"
#include "mv_rl.h"

#define MV_NAME "mod_mocaverse"
/* The version's one place is debian/changelog; the Makefile passes it. */
#ifndef MV_VERSION_NUMBER
#error "MV_VERSION_NUMBER is not defined: build with the Makefile"
#endif
#define MV_STRINGIFY(x) #x
#define MV_XSTRINGIFY(x) MV_STRINGIFY(x)
#define MV_VERSION MV_XSTRINGIFY(MV_VERSION_NUMBER)
#define MV_ISSUER_DEFAULT MV_NAME

#define MV_ADMIN_KEY_MIN 16
#define MV_BODY_MAX 65536

typedef enum { MV_OTP_LOG, MV_OTP_RESPONSE, MV_OTP_PIPE } mv_otp_delivery;
typedef enum { MV_RL_STORE_SHM, MV_RL_STORE_DATABASE } mv_rl_store;
typedef enum { MV_DB_POOLING_SESSION, MV_DB_POOLING_TRANSACTION } mv_db_pooling;

/*
 * How a directive's arguments are parsed, and the type of its field:
 *   SECRET, SECRET_FILE  mv_secret, at least `min` bytes (a file is read
 *                        once at start; one trailing newline is dropped)
 *   STRING               const char *, min..max characters
 *   INT, INT64           int, apr_int64_t within min..max
 *   FLAG                 int, On = 1
 *   ENUM                 int, the index of the word in `args` ("a|b|c")
 *   OTP                  ENUM whose last word takes a COMMAND
 *   PAIR                 two ints: the field within min..max, then the
 *                        `second` value
 *   RATE                 GROUP REQUESTS SECONDS into rate[]: REQUESTS
 *                        within min..max, SECONDS the `second` range;
 *                        defaults from mv_rl_groups
 */
typedef enum {
    MV_DK_SECRET,
    MV_DK_SECRET_FILE,
    MV_DK_STRING,
    MV_DK_INT,
    MV_DK_INT64,
    MV_DK_FLAG,
    MV_DK_ENUM,
    MV_DK_OTP,
    MV_DK_PAIR,
    MV_DK_RATE
} mv_directive_kind;

/* The second value of a PAIR or RATE directive, or none. */
#define MV_SECOND(field, min, max, dflt)                                       \
    {                                                                          \
        offsetof(mv_config, field), (min), (max), (dflt)                       \
    }
#define MV_NO_SECOND                                                           \
    {                                                                          \
        0, 0, 0, 0                                                             \
    }

/* A secret given in the configuration or in a file NAME "File". */
#define MV_SECRET_ROWS(X, name, field, min, help, doc)                         \
    X(name, MV_DK_SECRET, "STRING", field, min, 0, 0, MV_NO_SECOND, help, doc) \
    X(name "File", MV_DK_SECRET_FILE, "PATH", field, min, 0, 0, MV_NO_SECOND,  \
      "file holding the " help, doc)

/*
 * X(NAME, KIND, ARGS, FIELD, MIN, MAX, DEFAULT, SECOND, HELP, DOC_DEFAULT)
 * HELP is the README's meaning column and httpd's help text; DOC_DEFAULT
 * is the README's default column when the value alone does not say it
 * (NULL: printed from DEFAULT).  "Unset" is NULL or -1 until finalize.
 */
#define MV_DIRECTIVES(X)                                                       \
    MV_SECRET_ROWS(X, "MocaverseJWTSecret", jwt_secret, MV_JWT_KEY_MIN,        \
                   "HS256 key for access tokens", "required (one of the two)") \
    MV_SECRET_ROWS(X, "MocaverseAdminKey", admin_key, MV_ADMIN_KEY_MIN,        \
                   "key for admin routes", "unset: admin routes answer 403")   \
    X("MocaverseIssuer", MV_DK_STRING, "STRING", issuer, 1, 256, 0,            \
      MV_NO_SECOND, "`iss` claim written and required",                        \
      "`" MV_ISSUER_DEFAULT "`")                                               \
    X("MocaverseAccessTokenTTL", MV_DK_INT64, "SECONDS", access_ttl, 1,        \
      86400 * 7, 900, MV_NO_SECOND, "access-token lifetime", NULL)             \
    X("MocaverseRefreshTokenTTL", MV_DK_INT64, "SECONDS", refresh_ttl, 60,     \
      86400 * 3650, 2592000, MV_NO_SECOND, "refresh-token absolute lifetime",  \
      "2592000 (30 days)")                                                     \
    X("MocaverseRefreshReuseInterval", MV_DK_INT64, "SECONDS",                 \
      refresh_reuse_interval, 0, 300, 10, MV_NO_SECOND,                        \
      "a rotated refresh token presented again within this many seconds "      \
      "of its rotation gets a new pair in the same family instead of "         \
      "revoking it; 0 = strict",                                               \
      NULL)                                                                    \
    X("MocaverseInviteOnly", MV_DK_FLAG, "On|Off", invite_only, 0, 1, 1,       \
      MV_NO_SECOND, "On: every new account needs a valid invite code", NULL)   \
    X("MocaverseInviteQuota", MV_DK_INT, "N", invite_quota, 0, 1000000, 10,    \
      MV_NO_SECOND, "uses of the invite code each new user receives", NULL)    \
    X("MocaverseInviteCodeLength", MV_DK_INT, "N", invite_code_length,         \
      MV_INVITE_LEN_MIN, MV_INVITE_LEN_MAX, 8, MV_NO_SECOND,                   \
      "length of generated invite codes", NULL)                                \
    X("MocaverseOTPDelivery", MV_DK_OTP, "log|response|pipe COMMAND",          \
      otp_delivery, 0, 0, MV_OTP_LOG, MV_NO_SECOND,                            \
      "how a one-time code reaches the user", NULL)                            \
    X("MocaverseOTPTTL", MV_DK_INT64, "SECONDS", otp_ttl, 30, 86400, 300,      \
      MV_NO_SECOND, "one-time code lifetime", NULL)                            \
    X("MocaverseOTPMaxAttempts", MV_DK_INT, "N", otp_max_attempts, 1, 100, 5,  \
      MV_NO_SECOND, "wrong guesses before a one-time code is burned", NULL)    \
    X("MocaverseIdempotencyTTL", MV_DK_INT64, "SECONDS", idempotency_ttl, 60,  \
      86400 * 30, 86400, MV_NO_SECOND,                                         \
      "how long a stored `Idempotency-Key` answer is replayed", NULL)          \
    X("MocaverseRateLimit", MV_DK_RATE, "GROUP REQUESTS SECONDS", rate, 0,     \
      100000000, 0, MV_SECOND(rate, 1, 86400, 0),                              \
      "at most REQUESTS per SECONDS for the group `auth`, `scan` or `api`; "   \
      "0 disables",                                                            \
      NULL)                                                                    \
    X("MocaverseRateLimitStore", MV_DK_ENUM, "shm|database", rate_store, 0, 0, \
      MV_RL_STORE_SHM, MV_NO_SECOND, "where rate-limit counts live", NULL)     \
    X("MocaverseLoginLockout", MV_DK_PAIR, "FAILURES SECONDS",                 \
      lockout_failures, 0, 1000000, 10,                                        \
      MV_SECOND(lockout_seconds, 1, 86400 * 30, 900),                          \
      "account lockout after FAILURES failed logins for SECONDS; "             \
      "0 disables",                                                            \
      NULL)                                                                    \
    X("MocaverseCouponBatchMax", MV_DK_INT, "N", coupon_batch_max, 1, 100000,  \
      10000, MV_NO_SECOND, "largest `count` of one generate call", NULL)       \
    X("MocaversePasswordHash", MV_DK_PAIR, "OPS MEM_MIB", pwhash_ops, 1, 100,  \
      2, MV_SECOND(pwhash_mem_mib, 1, 4096, 19), "argon2id cost", NULL)        \
    X("MocaverseDBPooling", MV_DK_ENUM, "session|transaction", db_pooling, 0,  \
      0, MV_DB_POOLING_SESSION, MV_NO_SECOND,                                  \
      "`transaction`: keep no state in the database session between "          \
      "transactions (for PgBouncer in transaction mode)",                      \
      NULL)

/*
 * Keys for one purpose each, derived from the JWT secret (mv_derive_key)
 * once at start; the stored hashes of rate-limit buckets, lockout accounts,
 * one-time codes and Idempotency-Key scopes and bodies are made under them.
 */
typedef struct {
    unsigned char rate_limit[MV_DERIVED_KEY_LEN];
    unsigned char lockout[MV_DERIVED_KEY_LEN];
    unsigned char otp[MV_DERIVED_KEY_LEN];
    unsigned char idempotency[MV_DERIVED_KEY_LEN];
} mv_purpose_keys;

typedef struct {
    int requests; /* 0 disables the group; -1 unset */
    int seconds;
} mv_rate_limit;

/* A key given in the configuration: len bytes at bytes, NULL when unset. */
typedef struct {
    const char *bytes;
    apr_size_t len;
} mv_secret;

/*
 * Per-server configuration.  Directives fill it, merge combines a virtual
 * host with the main server ("unset" is NULL or -1), and post_config applies
 * the defaults once (mv_config_finalize), so request-time code reads plain
 * values and never writes here.
 */
typedef struct mv_config {
    mv_secret jwt_secret;
    /* jwt_secret prepared for verification (mv_jwt_key), made by
     * mv_config_finalize in pconf and zeroed when pconf is cleared */
    const struct mv_jwt_key *jwt_key;
    /* Made with jwt_key, zeroed the same way. */
    const mv_purpose_keys *keys;
    mv_secret admin_key; /* unset: admin routes answer 403 */
    const char *issuer;
    apr_int64_t access_ttl;
    apr_int64_t refresh_ttl;
    apr_int64_t refresh_reuse_interval; /* seconds; 0: strict */
    int invite_only;
    int invite_quota;
    int invite_code_length;
    int otp_delivery; /* mv_otp_delivery */
    const char *otp_pipe_command;
    apr_int64_t otp_ttl;
    int otp_max_attempts;
    apr_int64_t idempotency_ttl;
    mv_rate_limit rate[MV_RL_GROUPS];
    int rate_store; /* mv_rl_store */
    int lockout_failures;
    int lockout_seconds;
    int coupon_batch_max;
    int pwhash_ops;
    int pwhash_mem_mib;
    int db_pooling; /* mv_db_pooling */
    /* Process-local state hung off the configuration at post_config (the
     * configuration itself stays read-only at request time). */
    apr_uint64_t *health_probe; /* last /health probe, handle_system.c */
} mv_config;

#define MV_HANDLER "mocaverse"

/*
 * Per-directory configuration: whether the section set SetHandler
 * mocaverse (-1: it set no handler) and the <Location> it was set for,
 * a literal prefix (without trailing slash; "" for "/") or a regex.
 */
typedef struct {
    int handler_is_ours;
    const char *base;
    ap_regex_t *base_re;
} mv_dir_config;

extern const command_rec mv_directives[];
void *mv_config_create_server(apr_pool_t *p, server_rec *s);
void *mv_config_merge_server(apr_pool_t *p, void *basev, void *addv);
void *mv_config_create_dir(apr_pool_t *p, char *dir);
void *mv_config_merge_dir(apr_pool_t *p, void *basev, void *addv);
/* Applies defaults, checks required directives and prepares the JWT key
 * and the purpose keys (allocated from p, zeroed by a cleanup of p); NULL
 * or an error. */
const char *mv_config_finalize(mv_config *c, apr_pool_t *p);
/* The path the request's routes are relative to: the <Location> that
 * set the handler ("" for the URL root), from r->pool or the config. */
const char *mv_config_base(request_rec *r);
/* 1 when the sections matching r so far set SetHandler mocaverse. */
int mv_config_handler_is_ours(request_rec *r);

#endif
