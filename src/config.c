/*
 * config.c — the directives of SPEC §2 (MV_DIRECTIVES in mv_config.h):
 * create, merge, parse, finalize, and httpd's command table, all made from
 * that one list.
 *
 * Each directive handler validates its value and returns an error string,
 * so a bad value stops httpd at start with a message naming the directive.
 * Secrets are never echoed in those messages.
 */
#include "mv.h"

#include "apr_file_io.h"

#include <sodium.h>

#define UNSET -1

/* One row of MV_DIRECTIVES, with the field as an offset into mv_config. */
typedef struct {
    const char *name;
    mv_directive_kind kind;
    const char *args;
    apr_size_t field;
    apr_int64_t min, max, dflt;
    struct {
        apr_size_t field;
        apr_int64_t min, max, dflt;
    } second;
} mv_directive;

#define ROW(name, kind, args, field, min, max, dflt, second, help, doc)        \
    {name, kind, args, offsetof(mv_config, field), min, max, dflt, second},
static const mv_directive directive_rows[] = {MV_DIRECTIVES(ROW)};
#undef ROW
#define NROWS (sizeof(directive_rows) / sizeof(*directive_rows))

#define FIELD(c, type, off) ((type *)((char *)(c) + (off)))

/* Numeric fields: int for every kind but INT64. */
static int is_numeric(mv_directive_kind k)
{
    return k != MV_DK_SECRET && k != MV_DK_SECRET_FILE && k != MV_DK_STRING &&
           k != MV_DK_RATE;
}

static void set_num(void *c, const mv_directive *d, apr_size_t off,
                    apr_int64_t v)
{
    if (d->kind == MV_DK_INT64) {
        *FIELD(c, apr_int64_t, off) = v;
    } else {
        *FIELD(c, int, off) = (int)v;
    }
}

static apr_int64_t get_num(const void *c, const mv_directive *d, apr_size_t off)
{
    return d->kind == MV_DK_INT64 ? *FIELD(c, apr_int64_t, off)
                                  : *FIELD(c, int, off);
}

void *mv_config_create_server(apr_pool_t *p, server_rec *s)
{
    mv_config *c = apr_pcalloc(p, sizeof(*c));
    apr_size_t i;
    int g;

    (void)s;
    for (i = 0; i < NROWS; i++) {
        const mv_directive *d = &directive_rows[i];
        if (is_numeric(d->kind)) {
            set_num(c, d, d->field, UNSET);
        }
        if (d->kind == MV_DK_PAIR) {
            set_num(c, d, d->second.field, UNSET);
        }
    }
    for (g = 0; g < MV_RL_GROUPS; g++) {
        c->rate[g].requests = c->rate[g].seconds = UNSET;
    }
    return c;
}

/* A virtual host's value where it set one, else the main server's. */
void *mv_config_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    const mv_config *base = basev, *add = addv;
    mv_config *m = apr_pmemdup(p, base, sizeof(*m));
    apr_size_t i;
    int g;

    for (i = 0; i < NROWS; i++) {
        const mv_directive *d = &directive_rows[i];

        switch (d->kind) {
        case MV_DK_SECRET:
        case MV_DK_SECRET_FILE:
            if (FIELD(add, mv_secret, d->field)->bytes) {
                *FIELD(m, mv_secret, d->field) =
                    *FIELD(add, mv_secret, d->field);
            }
            break;
        case MV_DK_STRING:
            if (*FIELD(add, const char *, d->field)) {
                *FIELD(m, const char *, d->field) =
                    *FIELD(add, const char *, d->field);
            }
            break;
        case MV_DK_RATE:
            for (g = 0; g < MV_RL_GROUPS; g++) {
                if (add->rate[g].requests != UNSET) {
                    m->rate[g] = add->rate[g];
                }
            }
            break;
        case MV_DK_PAIR:
            if (get_num(add, d, d->second.field) != UNSET) {
                set_num(m, d, d->second.field,
                        get_num(add, d, d->second.field));
            }
            /* fall through */
        default:
            if (get_num(add, d, d->field) != UNSET) {
                set_num(m, d, d->field, get_num(add, d, d->field));
                if (d->kind == MV_DK_OTP) {
                    m->otp_pipe_command = add->otp_pipe_command;
                }
            }
        }
    }
    return m;
}

/* Pool cleanups: zero the prepared JWT key k, the purpose keys k. */
static apr_status_t clear_jwt_key(void *k)
{
    mv_jwt_key_clear(k);
    return APR_SUCCESS;
}

static apr_status_t clear_purpose_keys(void *k)
{
    sodium_memzero(k, sizeof(mv_purpose_keys));
    return APR_SUCCESS;
}

/* The purpose keys of secret, in p until p is cleared. */
static const mv_purpose_keys *derive_keys(const mv_secret *secret,
                                          apr_pool_t *p)
{
    mv_purpose_keys *k = apr_palloc(p, sizeof(*k));
    const unsigned char *s = (const unsigned char *)secret->bytes;

    mv_derive_key(s, secret->len, MV_RATELIMIT_KEY_LABEL, k->rate_limit);
    mv_derive_key(s, secret->len, MV_LOCKOUT_KEY_LABEL, k->lockout);
    mv_derive_key(s, secret->len, MV_OTP_KEY_LABEL, k->otp);
    mv_derive_key(s, secret->len, MV_IDEMPOTENCY_KEY_LABEL, k->idempotency);
    apr_pool_cleanup_register(p, k, clear_purpose_keys, apr_pool_cleanup_null);
    return k;
}

const char *mv_config_finalize(mv_config *c, apr_pool_t *p)
{
    mv_jwt_key *key;
    apr_size_t i;
    int g;

    /* Both secret directives check the length: the key always fits. */
    if (!c->jwt_secret.bytes) {
        return "MocaverseJWTSecret or MocaverseJWTSecretFile is required";
    }
    key = apr_palloc(p, sizeof(*key));
    mv_jwt_key_init(key, (const unsigned char *)c->jwt_secret.bytes,
                    c->jwt_secret.len);
    apr_pool_cleanup_register(p, key, clear_jwt_key, apr_pool_cleanup_null);
    c->jwt_key = key;
    c->keys = derive_keys(&c->jwt_secret, p);
    if (!c->issuer) {
        c->issuer = MV_ISSUER_DEFAULT;
    }
    for (i = 0; i < NROWS; i++) {
        const mv_directive *d = &directive_rows[i];
        if (!is_numeric(d->kind)) {
            continue;
        }
        if (get_num(c, d, d->field) == UNSET) {
            set_num(c, d, d->field, d->dflt);
        }
        if (d->kind == MV_DK_PAIR && get_num(c, d, d->second.field) == UNSET) {
            set_num(c, d, d->second.field, d->second.dflt);
        }
    }
    for (g = 0; g < MV_RL_GROUPS; g++) {
        if (c->rate[g].requests == UNSET) {
            c->rate[g].requests = mv_rl_groups[g].requests;
            c->rate[g].seconds = mv_rl_groups[g].seconds;
        }
    }
    c->health_probe = apr_pcalloc(p, sizeof(*c->health_probe));
    return NULL;
}

void *mv_config_create_dir(apr_pool_t *p, char *dir)
{
    mv_dir_config *d = apr_pcalloc(p, sizeof(*d));

    (void)dir;
    d->handler_is_ours = UNSET;
    return d;
}

void *mv_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const mv_dir_config *base = basev, *add = addv;
    mv_dir_config *m = apr_palloc(p, sizeof(*m));

    /* The section that set the handler last wins, as it does for core. */
    *m = add->handler_is_ours != UNSET ? *add : *base;
    return m;
}

/* 1 if the section directive d is named name ("<Location"), any case. */
static int section_is(const ap_directive_t *d, const char *name)
{
    return strcasecmp(d->directive, name) == 0;
}

/*
 * Where SetHandler mocaverse in the section around cmd puts the routes:
 * the enclosing <Location> (through <If>, <Limit>, <IfModule> and the
 * like), as a
 * literal prefix or a regex.  Outside any <Location> the routes start at
 * the URL root.
 */
static void set_handler_base(cmd_parms *cmd, mv_dir_config *d)
{
    const ap_directive_t *s;

    d->base = "";
    for (s = cmd->directive->parent; s; s = s->parent) {
        if (section_is(s, "<Location") || section_is(s, "<LocationMatch")) {
            break;
        }
        if (!section_is(s, "<If") && !section_is(s, "<ElseIf") &&
            !section_is(s, "<Else") && !section_is(s, "<Limit") &&
            !section_is(s, "<LimitExcept") && !section_is(s, "<IfModule") &&
            !section_is(s, "<IfDefine") && !section_is(s, "<IfFile") &&
            !section_is(s, "<IfDirective") && !section_is(s, "<IfSection")) {
            return;
        }
    }
    if (s) {
        /* The section's argument as core reads it: up to the '>'. */
        const char *end = ap_strrchr_c(s->args, '>');
        const char *args =
            apr_pstrmemdup(cmd->temp_pool, s->args,
                           end ? (apr_size_t)(end - s->args) : strlen(s->args));
        const char *path = ap_getword_conf(cmd->pool, &args);
        int regex = section_is(s, "<LocationMatch");

        if (!regex && strcmp(path, "~") == 0) {
            path = ap_getword_conf(cmd->pool, &args);
            regex = 1;
        }
        if (regex) {
            d->base_re = ap_pregcomp(cmd->pool, path, AP_REG_EXTENDED);
        } else {
            apr_size_t len = strlen(path);
            while (len > 0 && path[len - 1] == '/') {
                len--;
            }
            d->base = apr_pstrmemdup(cmd->pool, path, len);
        }
    }
}

/*
 * SetHandler, seen before core applies it: httpd offers a directive to
 * the modules loaded last first, and DECLINE_CMD passes it on to core.
 * Core keeps only the handler's name; the module notes where the handler
 * was set, so routes are relative to that <Location> with nothing but
 * SetHandler in it (SPEC §1).
 */
static const char *note_set_handler(cmd_parms *cmd, void *dirv,
                                    const char *args)
{
    mv_dir_config *d = dirv;
    const char *name = ap_getword_conf(cmd->temp_pool, &args);

    d->handler_is_ours = strcasecmp(name, MV_HANDLER) == 0;
    d->base = NULL;
    d->base_re = NULL;
    if (d->handler_is_ours) {
        set_handler_base(cmd, d);
    }
    return DECLINE_CMD;
}

const char *mv_config_base(request_rec *r)
{
    const mv_dir_config *d =
        ap_get_module_config(r->per_dir_config, &mocaverse_module);
    ap_regmatch_t m;

    if (d->base_re) {
        /* The part of the path the <LocationMatch> matched, if a prefix. */
        if (ap_regexec(d->base_re, r->uri, 1, &m, 0) == 0 && m.rm_so == 0) {
            apr_size_t len = (apr_size_t)m.rm_eo;
            while (len > 0 && r->uri[len - 1] == '/') {
                len--;
            }
            return apr_pstrmemdup(r->pool, r->uri, len);
        }
        return "";
    }
    return d->base ? d->base : "";
}

int mv_config_handler_is_ours(request_rec *r)
{
    const mv_dir_config *d =
        ap_get_module_config(r->per_dir_config, &mocaverse_module);

    return d->handler_is_ours == 1;
}

/* ------------------------------------------------------ directive helpers */

static mv_config *server_config(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &mocaverse_module);
}

/* The row of the directive being parsed. */
static const mv_directive *row(cmd_parms *cmd)
{
    return cmd->info;
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

/* The index of word in the "a|b|c" list that starts d->args, or -1. */
static int enum_index(const mv_directive *d, const char *word)
{
    const char *w = d->args;
    apr_size_t n = strlen(word);
    int i;

    for (i = 0; *w && *w != ' '; i++) {
        apr_size_t len = strcspn(w, "| ");
        if (len == n && !strncasecmp(w, word, n)) {
            return i;
        }
        w += len;
        w += *w == '|';
    }
    return -1;
}

static const char *not_one_of(cmd_parms *cmd, const char *word)
{
    const mv_directive *d = row(cmd);
    return apr_psprintf(cmd->pool, "%s: '%s' is not one of %.*s",
                        cmd->cmd->name, word, (int)strcspn(d->args, " "),
                        d->args);
}

/* ----------------------------------------------------- directive handlers */

/* SECRET, SECRET_FILE, STRING, INT, INT64, ENUM: one argument. */
static const char *set_one(cmd_parms *cmd, void *dir, const char *arg)
{
    const mv_directive *d = row(cmd);
    mv_config *c = server_config(cmd);
    mv_secret *secret = FIELD(c, mv_secret, d->field);
    apr_int64_t v;
    const char *err;
    apr_size_t len;
    int i;
    (void)dir;

    switch (d->kind) {
    case MV_DK_SECRET:
        len = strlen(arg);
        if (len < (apr_size_t)d->min) {
            return apr_psprintf(cmd->pool,
                                "%s: the secret is %" APR_SIZE_T_FMT
                                " bytes; at least %" APR_INT64_T_FMT
                                " are required",
                                cmd->cmd->name, len, d->min);
        }
        secret->bytes = arg;
        secret->len = len;
        return NULL;
    case MV_DK_SECRET_FILE:
        return read_secret_file(cmd, arg, (apr_size_t)d->min, &secret->bytes,
                                &secret->len);
    case MV_DK_STRING:
        len = strlen(arg);
        if (len < (apr_size_t)d->min || len > (apr_size_t)d->max) {
            return apr_psprintf(cmd->pool,
                                "%s: %" APR_INT64_T_FMT " to %" APR_INT64_T_FMT
                                " characters",
                                cmd->cmd->name, d->min, d->max);
        }
        *FIELD(c, const char *, d->field) = arg;
        return NULL;
    case MV_DK_ENUM:
        if ((i = enum_index(d, arg)) < 0) {
            return not_one_of(cmd, arg);
        }
        *FIELD(c, int, d->field) = i;
        return NULL;
    default:
        if ((err = parse_int(cmd, arg, d->min, d->max, &v))) {
            return err;
        }
        set_num(c, d, d->field, v);
        return NULL;
    }
}

static const char *set_flag(cmd_parms *cmd, void *dir, int on)
{
    (void)dir;
    *FIELD(server_config(cmd), int, row(cmd)->field) = on;
    return NULL;
}

/* PAIR: two integers, each within its range. */
static const char *set_pair(cmd_parms *cmd, void *dir, const char *first,
                            const char *second)
{
    const mv_directive *d = row(cmd);
    mv_config *c = server_config(cmd);
    apr_int64_t a, b;
    const char *err;
    (void)dir;

    if ((err = parse_int(cmd, first, d->min, d->max, &a)) ||
        (err = parse_int(cmd, second, d->second.min, d->second.max, &b))) {
        return err;
    }
    set_num(c, d, d->field, a);
    set_num(c, d, d->second.field, b);
    return NULL;
}

/* OTP: log | response | pipe COMMAND (the last word takes the command). */
static const char *set_otp_delivery(cmd_parms *cmd, void *dir, const char *how,
                                    const char *command)
{
    mv_config *c = server_config(cmd);
    int i = enum_index(row(cmd), how);
    (void)dir;

    if (i < 0) {
        return not_one_of(cmd, how);
    }
    if (i == MV_OTP_PIPE && (!command || !*command)) {
        return apr_psprintf(cmd->pool, "%s %s: a COMMAND is required",
                            cmd->cmd->name, how);
    }
    if (i != MV_OTP_PIPE && command) {
        return apr_psprintf(cmd->pool, "%s %s takes no COMMAND", cmd->cmd->name,
                            how);
    }
    c->otp_delivery = i;
    c->otp_pipe_command = command;
    return NULL;
}

/* RATE: GROUP REQUESTS SECONDS. */
static const char *set_rate_limit(cmd_parms *cmd, void *dir, const char *group,
                                  const char *requests, const char *seconds)
{
    const mv_directive *d = row(cmd);
    mv_config *c = server_config(cmd);
    apr_int64_t n, s;
    const char *err;
    int g;
    (void)dir;

    for (g = 0; g < MV_RL_GROUPS; g++) {
        if (!strcasecmp(group, mv_rl_groups[g].name)) {
            break;
        }
    }
    if (g == MV_RL_GROUPS) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not one of auth, scan, api",
                            cmd->cmd->name, group);
    }
    if ((err = parse_int(cmd, requests, d->min, d->max, &n)) ||
        (err = parse_int(cmd, seconds, d->second.min, d->second.max, &s))) {
        return err;
    }
    c->rate[g].requests = (int)n;
    c->rate[g].seconds = (int)s;
    return NULL;
}

/* httpd's table: each row's handler and argument count follow its kind;
 * cmd->info points at the row. */
#define INIT_MV_DK_SECRET AP_INIT_TAKE1
#define INIT_MV_DK_SECRET_FILE AP_INIT_TAKE1
#define INIT_MV_DK_STRING AP_INIT_TAKE1
#define INIT_MV_DK_INT AP_INIT_TAKE1
#define INIT_MV_DK_INT64 AP_INIT_TAKE1
#define INIT_MV_DK_ENUM AP_INIT_TAKE1
#define INIT_MV_DK_FLAG AP_INIT_FLAG
#define INIT_MV_DK_PAIR AP_INIT_TAKE2
#define INIT_MV_DK_OTP AP_INIT_TAKE12
#define INIT_MV_DK_RATE AP_INIT_TAKE3
#define SET_MV_DK_SECRET set_one
#define SET_MV_DK_SECRET_FILE set_one
#define SET_MV_DK_STRING set_one
#define SET_MV_DK_INT set_one
#define SET_MV_DK_INT64 set_one
#define SET_MV_DK_ENUM set_one
#define SET_MV_DK_FLAG set_flag
#define SET_MV_DK_PAIR set_pair
#define SET_MV_DK_OTP set_otp_delivery
#define SET_MV_DK_RATE set_rate_limit

enum {
#define INDEX(name, kind, args, field, min, max, dflt, second, help, doc)      \
    ROW_##field##_##kind,
    MV_DIRECTIVES(INDEX)
#undef INDEX
};

#define COMMAND(name, kind, args, field, min, max, dflt, second, help, doc)    \
    INIT_##kind(name, SET_##kind,                                              \
                (void *)&directive_rows[ROW_##field##_##kind], RSRC_CONF,      \
                args ": " help),
const command_rec mv_directives[] = {
    MV_DIRECTIVES(COMMAND)
    /* Core's directive, seen first and passed on (note_set_handler). */
    AP_INIT_RAW_ARGS("SetHandler", note_set_handler, NULL, OR_FILEINFO,
                     "a handler name that overrides any other configured "
                     "handler"),
    {NULL}};
#undef COMMAND
