/*
 * rl.c — the arithmetic of rate limits (see mv_rl.h): the
 * verdict of a hit, client keys, header values and the shared-memory
 * table of buckets.  sodium_init() must have been called.
 */
#include "mv_rl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

/* "mvrltbl1"; change it whenever the layout below changes. */
#define TABLE_MAGIC 0x6d76726c74626c31ull

_Static_assert(crypto_shorthash_BYTES == sizeof(uint64_t),
               "SipHash output must fill a 64-bit tag");
_Static_assert((MV_RL_SLOTS & (MV_RL_SLOTS - 1)) == 0 &&
                   MV_RL_PROBE <= MV_RL_SLOTS,
               "the table's slot count must be a power of two");

/* One bucket.  An empty slot has tag 0 and reset_at 0. */
typedef struct {
    uint64_t tag;
    int64_t reset_at; /* end of the window, caller's clock, usec */
    uint32_t count;   /* hits in the window, at most limit + 1 */
    uint32_t unused;
} rl_slot;

struct mv_rl_table {
    uint64_t magic;
    uint32_t slots;
    uint32_t unused;
    unsigned char key[crypto_shorthash_KEYBYTES];
    uint64_t evictions;
    rl_slot slot[];
};

const mv_rl_group_def mv_rl_groups[MV_RL_GROUPS] = {
    [MV_RL_AUTH] = {"auth", 0, 20, 60},
    [MV_RL_SCAN] = {"scan", 1, 60, 60},
    [MV_RL_API] = {"api", 0, 600, 60},
};

void mv_rl_judge(long count, long limit, int64_t left_us, mv_rl_verdict *v)
{
    v->allowed = count <= limit;
    v->remaining = count < limit ? limit - count : 0;
    v->reset = left_us <= 0
                   ? 1
                   : (long)((left_us + MV_USEC_PER_SEC - 1) / MV_USEC_PER_SEC);
}

const char *mv_rl_client_key(const char *ip, char *out, size_t outsz)
{
    unsigned char a6[16];
    struct in_addr a4;
    char text[INET6_ADDRSTRLEN];
    size_t len;
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0,    0,
                                                0, 0, 0, 0, 0xff, 0xff};

    if (outsz == 0) {
        return out;
    }
    if (!ip) {
        ip = "";
    }
    /* httpd hands over addresses in canonical text: IPv4 is kept as it
     * is, without a round trip through inet_pton. */
    if (strchr(ip, ':') && inet_pton(AF_INET6, ip, a6) == 1) {
        if (memcmp(a6, v4_mapped, sizeof(v4_mapped)) == 0) {
            memcpy(&a4, a6 + 12, 4);
            inet_ntop(AF_INET, &a4, text, sizeof(text));
            snprintf(out, outsz, "%s", text);
        } else {
            memset(a6 + 8, 0, 8);
            inet_ntop(AF_INET6, a6, text, sizeof(text));
            snprintf(out, outsz, "%s/64", text);
        }
        return out;
    }
    len = strnlen(ip, outsz - 1);
    memcpy(out, ip, len);
    out[len] = '\0';
    return out;
}

/*
 * Header values are built by hand: they are made on every limited
 * request, and snprintf was a measurable part of the limiter's cost.
 */

/* Appends the text s to out[*n..] if it fits (NUL kept); 0 or -1. */
static int put_text(char *out, size_t outsz, size_t *n, const char *s)
{
    size_t len = strlen(s);

    if (*n + len >= outsz) {
        return -1;
    }
    memcpy(out + *n, s, len + 1);
    *n += len;
    return 0;
}

/* Appends the decimal form of v likewise. */
static int put_long(char *out, size_t outsz, size_t *n, long v)
{
    char digits[24], *p = digits + sizeof(digits);
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--p = '-';
    }
    return put_text(out, outsz, n, p);
}

/* `"name";a=x;b=y` into out: the length, or -1 and "" if it does not fit. */
static int item(char *out, size_t outsz, const char *name, const char *a,
                long x, const char *b, long y)
{
    size_t n = 0;

    if (outsz == 0) {
        return -1;
    }
    out[0] = '\0';
    if (put_text(out, outsz, &n, "\"") || put_text(out, outsz, &n, name) ||
        put_text(out, outsz, &n, a) || put_long(out, outsz, &n, x) ||
        put_text(out, outsz, &n, b) || put_long(out, outsz, &n, y)) {
        out[0] = '\0';
        return -1;
    }
    return (int)n;
}

int mv_rl_policy_value(char *out, size_t outsz, const char *name, long limit,
                       long window)
{
    return item(out, outsz, name, "\";q=", limit, ";w=", window);
}

int mv_rl_limit_value(char *out, size_t outsz, const char *name,
                      const mv_rl_verdict *v)
{
    return item(out, outsz, name, "\";r=", v->remaining, ";t=", v->reset);
}

/* ------------------------------------------------------------- table */

size_t mv_rl_table_size(uint32_t slots)
{
    return sizeof(mv_rl_table) + (size_t)slots * sizeof(rl_slot);
}

mv_rl_table *mv_rl_table_init(void *mem, uint32_t slots)
{
    mv_rl_table *t = mem;

    memset(t, 0, mv_rl_table_size(slots));
    t->magic = TABLE_MAGIC;
    t->slots = slots;
    crypto_shorthash_keygen(t->key);
    return t;
}

int mv_rl_table_check(const void *mem, uint32_t slots)
{
    const mv_rl_table *t = mem;

    return t->magic == TABLE_MAGIC && t->slots == slots;
}

uint64_t mv_rl_table_tag(const mv_rl_table *t, const char *name, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t tag;

    crypto_shorthash(h, (const unsigned char *)name, len, t->key);
    memcpy(&tag, h, sizeof(tag));
    return tag ? tag : 1;
}

/*
 * The slot of bucket `tag`: its own when present, else an empty or
 * expired one of its probe run, else the one whose window ends first
 * (evicted).  A slot taken for a new bucket has an already ended window.
 */
static rl_slot *slot_for(mv_rl_table *t, uint64_t tag, int64_t now_us)
{
    uint32_t mask = t->slots - 1, start = (uint32_t)tag & mask, i;
    rl_slot *s, *free_slot = NULL, *victim = NULL;

    for (i = 0; i < MV_RL_PROBE; i++) {
        s = &t->slot[(start + i) & mask];
        if (s->tag == tag) {
            return s;
        }
        if (!free_slot && (s->tag == 0 || s->reset_at <= now_us)) {
            free_slot = s;
        }
        if (!victim || s->reset_at < victim->reset_at) {
            victim = s;
        }
    }
    if (!free_slot) {
        t->evictions++;
        free_slot = victim;
    }
    free_slot->tag = tag;
    free_slot->count = 0;
    free_slot->reset_at = now_us;
    return free_slot;
}

void mv_rl_table_hit(mv_rl_table *t, uint64_t tag, long limit,
                     int64_t window_us, int64_t now_us, mv_rl_verdict *v)
{
    rl_slot *s = slot_for(t, tag, now_us);

    if (s->reset_at <= now_us) {
        s->reset_at = now_us + window_us;
        s->count = 0;
    }
    if ((long)s->count <= limit) {
        s->count++;
    }
    mv_rl_judge((long)s->count, limit, s->reset_at - now_us, v);
}

uint64_t mv_rl_table_evictions(const mv_rl_table *t)
{
    return t->evictions;
}
