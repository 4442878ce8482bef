/*
 * mv_counter.h — counts in the database, shared by every process and host
 * (src/counter.c): MocaverseRateLimitStore database and
 * MocaverseLoginLockout count with it.
 *
 * A counter is a table of buckets (migrations 004, 005): a fixed window
 * anchored at a bucket's first hit, as in mv_rl.h, counted by one atomic
 * statement.  Bucket names are stored only as keyed hashes.
 */
#ifndef MV_COUNTER_H
#define MV_COUNTER_H

#include "mv_dispatch.h"
#include "mv_rl.h"

typedef struct mv_counter mv_counter;

/* The counters: per (rate group, client) and per login account. */
extern const mv_counter mv_counter_rate_limits;
extern const mv_counter mv_counter_login_failures;

/*
 * Counts one hit on the bucket `name` under `limit` hits per `seconds` and
 * judges it into *v.  Now and then also sweeps ended windows (best effort).
 * 0, or -1 when the database failed (nothing replied).
 */
int mv_counter_hit(mv_req *q, const mv_counter *c, const char *name, long limit,
                   int seconds, mv_rl_verdict *v);
/* Forgets the bucket `name`: 0, or -1 when the database failed. */
int mv_counter_clear(mv_req *q, const mv_counter *c, const char *name);

#endif
