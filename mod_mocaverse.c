/*
 * mod_mocaverse — an invite-only sign-up and coupon-reward API served from
 * inside Apache httpd, on PostgreSQL through mod_dbd.
 *
 * This file holds the module record, the hooks and the handler's entry;
 * the directives live in src/config.c, request plumbing in src/dispatch.c
 * and src/http.c, the database layer in src/db.c, and one file per route
 * group in src/handle_*.c.
 */
#define MV_MODULE_C
#include "mv.h"
#include "mv_passwords.h"

#include <sodium.h>

/* Registers what the configuration may refer to (the Mutex type). */
static int mv_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    return mv_ratelimit_pre_config(pconf);
}

/* Checks every server's configuration once at start; a failure stops
 * httpd with a message that names the directive.  Then sets up the
 * rate limiter's shared memory. */
static int mv_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    server_rec *vs;
    (void)plog;
    (void)ptemp;

    if (sodium_init() < 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "MV0001: libsodium failed to initialise");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (mv_db_retrieve() != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "MV0002: mod_dbd is not loaded; load it before "
                     "mod_mocaverse");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (vs = s; vs; vs = vs->next) {
        mv_config *c =
            ap_get_module_config(vs->module_config, &mocaverse_module);
        const char *err = mv_config_finalize(c, pconf);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, vs, "MV0003: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return mv_ratelimit_post_config(pconf, s);
}

/* Per-process state, made once in each child: it attaches to what
 * post_config shared and makes its own hashing slots. */
static void mv_child_init(apr_pool_t *pchild, server_rec *s)
{
    mv_ratelimit_child_init(pchild, s);
    mv_passwords_child_init(pchild, s);
}

/*
 * The module's requests skip the mapping to files: the first location
 * walk (before translate_name) tells whether SetHandler mocaverse applies;
 * such a request is marked here, and map_to_storage, which runs with the
 * per-directory configuration reset, reads the mark.
 */
static int mv_translate_name(request_rec *r)
{
    if (mv_config_handler_is_ours(r)) {
        ap_set_module_config(r->request_config, &mocaverse_module, r);
    }
    return DECLINED;
}

/*
 * Claims a marked request before core's hooks: no directory walk or file
 * lookup for a URL that is no file, and no TRACE echo from core (which
 * answers TRACE here, with the request's headers, credentials included):
 * TRACE then reaches the handler and gets 405 like any wrong method.
 */
static int mv_map_to_storage(request_rec *r)
{
    return ap_get_module_config(r->request_config, &mocaverse_module)
               ? OK
               : DECLINED;
}

static int mv_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, MV_HANDLER) != 0) {
        return DECLINED;
    }
    return mv_dispatch(r);
}

static void mv_register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = {"mod_dbd.c", NULL};
    (void)p;

    ap_hook_pre_config(mv_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(mv_post_config, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(mv_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(mv_translate_name, NULL, NULL,
                           APR_HOOK_REALLY_FIRST);
    ap_hook_map_to_storage(mv_map_to_storage, NULL, NULL,
                           APR_HOOK_REALLY_FIRST);
    ap_hook_handler(mv_handler, NULL, NULL, APR_HOOK_MIDDLE);
    mv_dispatch_register();
}

AP_DECLARE_MODULE(mocaverse) = {
    STANDARD20_MODULE_STUFF, mv_config_create_dir,   mv_config_merge_dir,
    mv_config_create_server, mv_config_merge_server, mv_directives,
    mv_register_hooks,       AP_MODULE_FLAG_NONE,
};
