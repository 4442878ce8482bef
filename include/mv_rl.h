/*
 * mv_rl.h — the arithmetic of rate limits and account lockouts.
 * Pure C (libsodium only, no httpd), so the unit tests link it alone.
 *
 * Counting model: a fixed window per bucket, anchored at the bucket's
 * first hit.  The first hit opens a window of W seconds; hits are counted
 * in it, and hit N + 1 onwards is refused until the window ends; the next
 * hit after that opens a new window.  The count saturates at limit + 1,
 * so it cannot overflow however hard a client hammers.  Both stores (the
 * shared-memory table below and the database statement in src/) follow
 * this model and judge with mv_rl_judge.
 */
#ifndef MV_RL_H
#define MV_RL_H

#include <stddef.h>
#include <stdint.h>

#define MV_RL_SLOTS 131072u /* buckets of the shared-memory table */
#define MV_RL_PROBE 16u     /* slots examined for one bucket */
#define MV_RL_KEY_MAX 64    /* longest client key, NUL included */
#define MV_USEC_PER_SEC 1000000

/* What one hit on a bucket means for the request. */
typedef struct {
    int allowed;    /* 1: within the limit */
    long remaining; /* hits left in this window, >= 0 */
    long reset;     /* whole seconds until the window ends, >= 1 */
} mv_rl_verdict;

/*
 * Judges the count-th hit of a window that ends in left_us microseconds
 * under a limit of `limit` hits.  The reset is rounded up, so a client that
 * waits that many seconds finds a new window.
 */
void mv_rl_judge(long count, long limit, int64_t left_us, mv_rl_verdict *v);

/* The rate groups a route counts against (MocaverseRateLimit GROUP). */
typedef enum {
    MV_RL_NONE = -1, /* not counted */
    MV_RL_AUTH,
    MV_RL_SCAN,
    MV_RL_API,
    MV_RL_GROUPS
} mv_rl_group;

/*
 * What each group is: its name in the directive and the headers, whether
 * it counts per user (once the bearer token is checked) rather than per
 * client address, and its default limit.
 */
typedef struct {
    const char *name;
    int per_user;
    int requests; /* default REQUESTS per SECONDS */
    int seconds;
} mv_rl_group_def;

extern const mv_rl_group_def mv_rl_groups[MV_RL_GROUPS];

/*
 * The bucket key of a client address, written into out (outsz bytes,
 * MV_RL_KEY_MAX is enough): an IPv4 address as itself, an IPv4-mapped IPv6
 * address as its IPv4 address, any other IPv6 address as its /64 network
 * ("2001:db8:1:2::/64", because one subscriber holds a whole /64), and
 * anything unparsable verbatim (truncated).  Returns out.
 */
const char *mv_rl_client_key(const char *ip, char *out, size_t outsz);

/*
 * Header values of draft-ietf-httpapi-ratelimit-headers-10 (structured
 * fields): RateLimit-Policy `"NAME";q=LIMIT;w=WINDOW` and RateLimit
 * `"NAME";r=REMAINING;t=RESET`.  Written into out; return the length, or
 * -1 when outsz is too small (out then holds "").
 */
int mv_rl_policy_value(char *out, size_t outsz, const char *name, long limit,
                       long window);
int mv_rl_limit_value(char *out, size_t outsz, const char *name,
                      const mv_rl_verdict *v);

/*
 * The shared-memory store: a fixed-size open-addressed hash table of
 * buckets in memory the caller provides (shared between processes).
 * A bucket is found by a 64-bit tag, SipHash-2-4 of its name under a
 * random key made when the table is formatted, so clients cannot choose
 * names that collide.  A bucket is looked for in MV_RL_PROBE consecutive
 * slots; a new one takes an empty or expired slot there, or else evicts
 * the slot whose window ends first (counted in mv_rl_table_evictions).
 * The table holds no lock: the caller serialises mv_rl_table_hit.
 */
typedef struct mv_rl_table mv_rl_table;

/* Bytes needed for a table of `slots` slots (a power of two). */
size_t mv_rl_table_size(uint32_t slots);
/* Formats mem as an empty table with a fresh random key; returns it. */
mv_rl_table *mv_rl_table_init(void *mem, uint32_t slots);
/* 1 if mem holds a table of this code's layout with `slots` slots (one
 * kept across a restart may come from another version of the module). */
int mv_rl_table_check(const void *mem, uint32_t slots);
/* The tag of a bucket name; never 0.  Needs no lock. */
uint64_t mv_rl_table_tag(const mv_rl_table *t, const char *name, size_t len);
/*
 * Counts one hit on the bucket `tag` at time now_us (any clock common to
 * all callers, microseconds) under `limit` hits per window_us, and judges
 * it into *v.
 */
void mv_rl_table_hit(mv_rl_table *t, uint64_t tag, long limit,
                     int64_t window_us, int64_t now_us, mv_rl_verdict *v);
/* How many live buckets were evicted to make room so far (ratelimit.c
 * logs it as it doubles: the table is too small). */
uint64_t mv_rl_table_evictions(const mv_rl_table *t);

#endif
