/*
 * config.c — the directives of SPEC §2: create, merge, validate, finalize.
 *
 * Each directive handler validates its value and returns an error string,
 * so a bad value stops httpd at start with a message naming the directive.
 * Secrets are never echoed in those messages.
 */
#include "mv.h"
#include "mv_crypto.h"
#include "mv_jwt.h"
#include "mv_ratelimit.h"

#include "apr_file_io.h"

#define UNSET -1

static const int rate_defaults[MV_RL_GROUPS][2] = {
    [MV_RL_AUTH] = {20, 60},
    [MV_RL_SCAN] = {60, 60},
    [MV_RL_API] = {600, 60},
};

void *mv_config_create_server(apr_pool_t *p, server_rec *s)
{
    mv_config *c = apr_pcalloc(p, sizeof(*c));
    int g;

    (void)s;
    c->access_ttl = c->refresh_ttl = c->otp_ttl = UNSET;
    c->invite_only = c->invite_quota = c->invite_code_length = UNSET;
    c->otp_delivery = c->otp_max_attempts = UNSET;
    c->rate_store = c->lockout_failures = c->lockout_seconds = UNSET;
    c->coupon_batch_max = c->pwhash_ops = c->pwhash_mem_mib = UNSET;
    for (g = 0; g < MV_RL_GROUPS; g++) {
        c->rate[g].requests = c->rate[g].seconds = UNSET;
    }
    return c;
}

#define MERGE_PTR(f) m->f = add->f ? add->f : base->f
#define MERGE_NUM(f) m->f = add->f != UNSET ? add->f : base->f

void *mv_config_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    const mv_config *base = basev, *add = addv;
    mv_config *m = apr_pcalloc(p, sizeof(*m));
    int g;

    if (add->jwt_secret) {
        m->jwt_secret = add->jwt_secret;
        m->jwt_secret_len = add->jwt_secret_len;
    } else {
        m->jwt_secret = base->jwt_secret;
        m->jwt_secret_len = base->jwt_secret_len;
    }
    if (add->admin_key) {
        m->admin_key = add->admin_key;
        m->admin_key_len = add->admin_key_len;
    } else {
        m->admin_key = base->admin_key;
        m->admin_key_len = base->admin_key_len;
    }
    MERGE_PTR(issuer);
    MERGE_NUM(access_ttl);
    MERGE_NUM(refresh_ttl);
    MERGE_NUM(invite_only);
    MERGE_NUM(invite_quota);
    MERGE_NUM(invite_code_length);
    if (add->otp_delivery != UNSET) {
        m->otp_delivery = add->otp_delivery;
        m->otp_pipe_command = add->otp_pipe_command;
    } else {
        m->otp_delivery = base->otp_delivery;
        m->otp_pipe_command = base->otp_pipe_command;
    }
    MERGE_NUM(otp_ttl);
    MERGE_NUM(otp_max_attempts);
    for (g = 0; g < MV_RL_GROUPS; g++) {
        m->rate[g] =
            add->rate[g].requests != UNSET ? add->rate[g] : base->rate[g];
    }
    MERGE_NUM(rate_store);
    MERGE_NUM(lockout_failures);
    MERGE_NUM(lockout_seconds);
    MERGE_NUM(coupon_batch_max);
    MERGE_NUM(pwhash_ops);
    MERGE_NUM(pwhash_mem_mib);
    return m;
}

#define DEFAULT(f, v)                                                          \
    if (c->f == UNSET)                                                         \
    c->f = (v)

/* Pool cleanup: zeroes the prepared JWT key k. */
static apr_status_t clear_jwt_key(void *k)
{
    mv_jwt_key_clear(k);
    return APR_SUCCESS;
}

const char *mv_config_finalize(mv_config *c, apr_pool_t *p)
{
    mv_jwt_key *key;
    int g;

    if (!c->jwt_secret) {
        return "MocaverseJWTSecret or MocaverseJWTSecretFile is required";
    }
    key = apr_palloc(p, sizeof(*key));
    if (mv_jwt_key_init(key, (const unsigned char *)c->jwt_secret,
                        c->jwt_secret_len) != 0) {
        return "MocaverseJWTSecret: the secret is too short";
    }
    apr_pool_cleanup_register(p, key, clear_jwt_key, apr_pool_cleanup_null);
    c->jwt_key = key;
    if (!c->issuer) {
        c->issuer = MV_NAME;
    }
    DEFAULT(access_ttl, 900);
    DEFAULT(refresh_ttl, 2592000);
    DEFAULT(invite_only, 1);
    DEFAULT(invite_quota, 10);
    DEFAULT(invite_code_length, 8);
    DEFAULT(otp_delivery, MV_OTP_LOG);
    DEFAULT(otp_ttl, 300);
    DEFAULT(otp_max_attempts, 5);
    for (g = 0; g < MV_RL_GROUPS; g++) {
        if (c->rate[g].requests == UNSET) {
            c->rate[g].requests = rate_defaults[g][0];
            c->rate[g].seconds = rate_defaults[g][1];
        }
    }
    DEFAULT(rate_store, MV_RL_STORE_SHM);
    DEFAULT(lockout_failures, 10);
    DEFAULT(lockout_seconds, 900);
    DEFAULT(coupon_batch_max, 10000);
    DEFAULT(pwhash_ops, 2);
    DEFAULT(pwhash_mem_mib, 19);
    c->health_probe = apr_pcalloc(p, sizeof(*c->health_probe));
    return NULL;
}

/* ------------------------------------------------------ directive helpers */

static mv_config *server_config(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &mocaverse_module);
}

/* Parses a decimal integer in [min, max]; NULL or an error naming cmd. */
static const char *parse_int(cmd_parms *cmd, const char *arg, apr_int64_t min,
                             apr_int64_t max, apr_int64_t *out)
{
    char *end;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end != '\0' || v < min || v > max) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not an integer from %" APR_INT64_T_FMT
                            " to %" APR_INT64_T_FMT,
                            cmd->cmd->name, arg, min, max);
    }
    *out = v;
    return NULL;
}

static const char *parse_int32(cmd_parms *cmd, const char *arg, int min,
                               int max, int *out)
{
    apr_int64_t v;
    const char *err = parse_int(cmd, arg, min, max, &v);

    if (!err) {
        *out = (int)v;
    }
    return err;
}

/*
 * Reads a secret file whole, drops one trailing newline, and checks the
 * minimum length.  The contents never appear in a message.
 */
static const char *read_secret_file(cmd_parms *cmd, const char *path,
                                    apr_size_t min, const char **out,
                                    apr_size_t *outlen)
{
    const char *fname = ap_server_root_relative(cmd->pool, path);
    apr_file_t *f;
    apr_finfo_t finfo;
    apr_size_t len;
    char *buf;
    apr_status_t rv;

    if (!fname) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name,
                            path);
    }
    rv = apr_file_open(&f, fname, APR_FOPEN_READ, 0, cmd->temp_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&finfo, APR_FINFO_SIZE, f);
    }
    if (rv == APR_SUCCESS && finfo.size > 65536) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: '%s' is larger than 64 KiB",
                            cmd->cmd->name, fname);
    }
    if (rv == APR_SUCCESS) {
        len = (apr_size_t)finfo.size;
        buf = apr_palloc(cmd->pool, len + 1);
        rv = len ? apr_file_read_full(f, buf, len, &len) : APR_SUCCESS;
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        char err[128];
        return apr_psprintf(cmd->pool, "%s: cannot read '%s': %s",
                            cmd->cmd->name, fname,
                            apr_strerror(rv, err, sizeof(err)));
    }
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
    }
    if (len > 0 && buf[len - 1] == '\r') {
        len--;
    }
    buf[len] = '\0';
    if (len < min) {
        return apr_psprintf(cmd->pool,
                            "%s: the secret in '%s' is %" APR_SIZE_T_FMT
                            " bytes; at least %" APR_SIZE_T_FMT " are required",
                            cmd->cmd->name, fname, len, min);
    }
    *out = buf;
    *outlen = len;
    return NULL;
}

static const char *check_secret(cmd_parms *cmd, const char *arg, apr_size_t min,
                                const char **out, apr_size_t *outlen)
{
    apr_size_t len = strlen(arg);

    if (len < min) {
        return apr_psprintf(cmd->pool,
                            "%s: the secret is %" APR_SIZE_T_FMT
                            " bytes; at least %" APR_SIZE_T_FMT " are required",
                            cmd->cmd->name, len, min);
    }
    *out = arg;
    *outlen = len;
    return NULL;
}

/* ----------------------------------------------------- directive handlers */

static const char *set_jwt_secret(cmd_parms *cmd, void *d, const char *arg)
{
    mv_config *c = server_config(cmd);
    (void)d;
    return check_secret(cmd, arg, MV_JWT_SECRET_MIN, &c->jwt_secret,
                        &c->jwt_secret_len);
}

static const char *set_jwt_secret_file(cmd_parms *cmd, void *d, const char *arg)
{
    mv_config *c = server_config(cmd);
    (void)d;
    return read_secret_file(cmd, arg, MV_JWT_SECRET_MIN, &c->jwt_secret,
                            &c->jwt_secret_len);
}

static const char *set_admin_key(cmd_parms *cmd, void *d, const char *arg)
{
    mv_config *c = server_config(cmd);
    (void)d;
    return check_secret(cmd, arg, MV_ADMIN_KEY_MIN, &c->admin_key,
                        &c->admin_key_len);
}

static const char *set_admin_key_file(cmd_parms *cmd, void *d, const char *arg)
{
    mv_config *c = server_config(cmd);
    (void)d;
    return read_secret_file(cmd, arg, MV_ADMIN_KEY_MIN, &c->admin_key,
                            &c->admin_key_len);
}

static const char *set_issuer(cmd_parms *cmd, void *d, const char *arg)
{
    mv_config *c = server_config(cmd);
    (void)d;
    if (!*arg || strlen(arg) > 256) {
        return apr_psprintf(cmd->pool, "%s: 1 to 256 characters",
                            cmd->cmd->name);
    }
    c->issuer = arg;
    return NULL;
}

/* Directives taking one bounded integer, told apart by cmd->info. */
enum {
    INT_ACCESS_TTL,
    INT_REFRESH_TTL,
    INT_INVITE_QUOTA,
    INT_INVITE_LEN,
    INT_OTP_TTL,
    INT_OTP_ATTEMPTS,
    INT_BATCH_MAX
};

static const char *set_int(cmd_parms *cmd, void *d, const char *arg)
{
    mv_config *c = server_config(cmd);
    (void)d;

    switch ((int)(apr_uintptr_t)cmd->info) {
    case INT_ACCESS_TTL:
        return parse_int(cmd, arg, 1, 86400 * 7, &c->access_ttl);
    case INT_REFRESH_TTL:
        return parse_int(cmd, arg, 60, 86400 * 3650, &c->refresh_ttl);
    case INT_OTP_TTL:
        return parse_int(cmd, arg, 30, 86400, &c->otp_ttl);
    case INT_INVITE_QUOTA:
        return parse_int32(cmd, arg, 0, 1000000, &c->invite_quota);
    case INT_INVITE_LEN:
        return parse_int32(cmd, arg, MV_INVITE_LEN_MIN, MV_INVITE_LEN_MAX,
                           &c->invite_code_length);
    case INT_OTP_ATTEMPTS:
        return parse_int32(cmd, arg, 1, 100, &c->otp_max_attempts);
    case INT_BATCH_MAX:
        return parse_int32(cmd, arg, 1, 100000, &c->coupon_batch_max);
    }
    return "mod_mocaverse: unknown integer directive";
}

static const char *set_invite_only(cmd_parms *cmd, void *d, int on)
{
    (void)d;
    server_config(cmd)->invite_only = on;
    return NULL;
}

static const char *set_otp_delivery(cmd_parms *cmd, void *d, const char *how,
                                    const char *command)
{
    mv_config *c = server_config(cmd);
    (void)d;

    if (!strcasecmp(how, "pipe")) {
        if (!command || !*command) {
            return apr_psprintf(cmd->pool, "%s pipe: a COMMAND is required",
                                cmd->cmd->name);
        }
        c->otp_delivery = MV_OTP_PIPE;
        c->otp_pipe_command = command;
        return NULL;
    }
    if (command) {
        return apr_psprintf(cmd->pool, "%s %s takes no COMMAND", cmd->cmd->name,
                            how);
    }
    if (!strcasecmp(how, "log")) {
        c->otp_delivery = MV_OTP_LOG;
    } else if (!strcasecmp(how, "response")) {
        c->otp_delivery = MV_OTP_RESPONSE;
    } else {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not one of log, response, pipe",
                            cmd->cmd->name, how);
    }
    c->otp_pipe_command = NULL;
    return NULL;
}

static const char *set_rate_limit(cmd_parms *cmd, void *d, const char *group,
                                  const char *requests, const char *seconds)
{
    mv_config *c = server_config(cmd);
    int g, n, s;
    const char *err;
    (void)d;

    for (g = 0; g < MV_RL_GROUPS; g++) {
        if (!strcasecmp(group, mv_rl_group_name(g))) {
            break;
        }
    }
    if (g == MV_RL_GROUPS) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not one of auth, scan, api",
                            cmd->cmd->name, group);
    }
    if ((err = parse_int32(cmd, requests, 0, 100000000, &n)) ||
        (err = parse_int32(cmd, seconds, 1, 86400, &s))) {
        return err;
    }
    c->rate[g].requests = n;
    c->rate[g].seconds = s;
    return NULL;
}

static const char *set_rate_store(cmd_parms *cmd, void *d, const char *arg)
{
    mv_config *c = server_config(cmd);
    (void)d;

    if (!strcasecmp(arg, "shm")) {
        c->rate_store = MV_RL_STORE_SHM;
    } else if (!strcasecmp(arg, "database")) {
        c->rate_store = MV_RL_STORE_DATABASE;
    } else {
        return apr_psprintf(cmd->pool, "%s: '%s' is not shm or database",
                            cmd->cmd->name, arg);
    }
    return NULL;
}

static const char *set_lockout(cmd_parms *cmd, void *d, const char *failures,
                               const char *seconds)
{
    mv_config *c = server_config(cmd);
    const char *err;
    (void)d;

    if ((err = parse_int32(cmd, failures, 0, 1000000, &c->lockout_failures))) {
        return err;
    }
    return parse_int32(cmd, seconds, 1, 86400 * 30, &c->lockout_seconds);
}

static const char *set_password_hash(cmd_parms *cmd, void *d, const char *ops,
                                     const char *mem)
{
    mv_config *c = server_config(cmd);
    const char *err;
    (void)d;

    /* libsodium's argon2id accepts opslimit >= 1 and memory >= 8 KiB. */
    if ((err = parse_int32(cmd, ops, 1, 100, &c->pwhash_ops))) {
        return err;
    }
    return parse_int32(cmd, mem, 1, 4096, &c->pwhash_mem_mib);
}

#define INT_DIRECTIVE(name, which, help)                                       \
    AP_INIT_TAKE1(name, set_int, (void *)(apr_uintptr_t)(which), RSRC_CONF,    \
                  help)

const command_rec mv_directives[] = {
    AP_INIT_TAKE1("MocaverseJWTSecret", set_jwt_secret, NULL, RSRC_CONF,
                  "HS256 key for access tokens (at least 32 bytes)"),
    AP_INIT_TAKE1("MocaverseJWTSecretFile", set_jwt_secret_file, NULL,
                  RSRC_CONF, "file holding the HS256 key for access tokens"),
    AP_INIT_TAKE1("MocaverseAdminKey", set_admin_key, NULL, RSRC_CONF,
                  "key for admin routes (at least 16 bytes)"),
    AP_INIT_TAKE1("MocaverseAdminKeyFile", set_admin_key_file, NULL, RSRC_CONF,
                  "file holding the key for admin routes"),
    AP_INIT_TAKE1("MocaverseIssuer", set_issuer, NULL, RSRC_CONF,
                  "iss claim written and required"),
    INT_DIRECTIVE("MocaverseAccessTokenTTL", INT_ACCESS_TTL,
                  "access-token lifetime in seconds"),
    INT_DIRECTIVE("MocaverseRefreshTokenTTL", INT_REFRESH_TTL,
                  "refresh-token absolute lifetime in seconds"),
    AP_INIT_FLAG("MocaverseInviteOnly", set_invite_only, NULL, RSRC_CONF,
                 "On: new accounts need an invite code"),
    INT_DIRECTIVE("MocaverseInviteQuota", INT_INVITE_QUOTA,
                  "uses of the invite code each new user receives"),
    INT_DIRECTIVE("MocaverseInviteCodeLength", INT_INVITE_LEN,
                  "length of generated invite codes, 6-16"),
    AP_INIT_TAKE12("MocaverseOTPDelivery", set_otp_delivery, NULL, RSRC_CONF,
                   "log | response | pipe COMMAND"),
    INT_DIRECTIVE("MocaverseOTPTTL", INT_OTP_TTL,
                  "one-time code lifetime in seconds"),
    INT_DIRECTIVE("MocaverseOTPMaxAttempts", INT_OTP_ATTEMPTS,
                  "wrong guesses before a one-time code is burned"),
    AP_INIT_TAKE3("MocaverseRateLimit", set_rate_limit, NULL, RSRC_CONF,
                  "GROUP (auth|scan|api) REQUESTS SECONDS; 0 disables"),
    AP_INIT_TAKE1("MocaverseRateLimitStore", set_rate_store, NULL, RSRC_CONF,
                  "shm | database"),
    AP_INIT_TAKE2("MocaverseLoginLockout", set_lockout, NULL, RSRC_CONF,
                  "FAILURES SECONDS"),
    INT_DIRECTIVE("MocaverseCouponBatchMax", INT_BATCH_MAX,
                  "largest count one coupon generate call accepts"),
    AP_INIT_TAKE2("MocaversePasswordHash", set_password_hash, NULL, RSRC_CONF,
                  "argon2id OPS MEM_MIB"),
    {NULL},
};
