/*
 * mv_ratelimit.h — MocaverseRateLimit's stores and hooks (src/ratelimit.c); the
 * arithmetic is in mv_rl.h.
 */
#ifndef MV_RATELIMIT_H
#define MV_RATELIMIT_H

#include "mv_dispatch.h"

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
int mv_ratelimit_or_reply(mv_req *q);

#endif
