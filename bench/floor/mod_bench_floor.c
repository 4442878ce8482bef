/*
 * mod_bench_floor.c — httpd's own floor for `make bench`: a handler that
 * does nothing but answer a constant JSON body, so /health can be
 * compared with what httpd itself costs per request on this machine.
 *
 *   <Location "/floor">       SetHandler bench-floor </Location>
 *   <Location "/floor-walk">  SetHandler bench-floor </Location>
 *
 * "/floor" is claimed at map_to_storage as mod_mocaverse claims its
 * routes (no directory walk, no file lookup); "/floor-walk" is not, so
 * the two together measure what that claim saves.  Not part of the
 * product: built into build/bench by `make bench` only.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"

#include <string.h>

#define FLOOR_HANDLER "bench-floor"
#define FLOOR_CLAIMED "/floor"
#define FLOOR_BODY "{\"status\":\"ok\"}"

static int floor_map_to_storage(request_rec *r)
{
    return strcmp(r->uri, FLOOR_CLAIMED) == 0 ? OK : DECLINED;
}

static int floor_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, FLOOR_HANDLER) != 0) {
        return DECLINED;
    }
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, sizeof FLOOR_BODY - 1);
    if (!r->header_only) {
        ap_rwrite(FLOOR_BODY, sizeof FLOOR_BODY - 1, r);
    }
    return OK;
}

static void floor_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_map_to_storage(floor_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(floor_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(bench_floor) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, floor_register_hooks,
    AP_MODULE_FLAG_NONE,
};
