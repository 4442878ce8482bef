/*
 * admin_rules.c - search strings and analytics periods of the admin
 * routes (see mv_admin_rules.h).
 */
#include "mv_admin_rules.h"
#include "mv_crypto.h"

#include <string.h>

static int code_char(char c)
{
    return c && strchr(MV_INVITE_ALPHABET, c) != NULL;
}

static int phone_char(char c)
{
    return (c >= '0' && c <= '9') || c == ' ' || c == '-' || c == '.' ||
           c == '(' || c == ')';
}

/* RFC 5322 atext, plus '.' and '@': what an e-mail address is made of. */
static int email_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+/=?^_`{|}~-.@", c));
}

/* "+digits%" from a phone-like q, or -1 when q is not one. */
static int phone_pattern(const char *q, char *out, size_t outsz)
{
    size_t n = 0;
    const char *s = q;

    if (*s == '+') {
        s++;
    } else if (s[0] == '0' && s[1] == '0') {
        s += 2;
    }
    out[n++] = '+';
    for (; *s; s++) {
        if (!phone_char(*s)) {
            return -1;
        }
        if (*s >= '0' && *s <= '9') {
            if (n + 2 >= outsz) {
                return -1;
            }
            out[n++] = *s;
        }
    }
    if (n == 1) {
        return -1;
    }
    out[n++] = '%';
    out[n] = '\0';
    return 0;
}

mv_search_kind mv_admin_user_search(const char *q,
                                    char pattern[MV_ADMIN_PATTERN_SIZE],
                                    long long *id)
{
    size_t len = q ? strlen(q) : 0, i, n = 0;

    *id = 0;
    pattern[0] = '\0';
    if (len == 0 || len > MV_ADMIN_SEARCH_MAX) {
        return MV_SEARCH_INVALID;
    }
    if (strspn(q, "0123456789") == len && len <= 18) {
        long long v = 0;
        for (i = 0; i < len; i++) {
            v = v * 10 + (q[i] - '0');
        }
        *id = v;
    }
    if (phone_pattern(q, pattern, MV_ADMIN_PATTERN_SIZE) == 0) {
        return MV_SEARCH_PHONE;
    }
    *id = 0;
    for (i = 0; i < len; i++) {
        char c = q[i];
        if (!email_char(c)) {
            pattern[0] = '\0';
            return MV_SEARCH_INVALID;
        }
        if (c == '%' || c == '_' || c == '\\') {
            pattern[n++] = '\\';
        }
        pattern[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    pattern[n++] = '%';
    pattern[n] = '\0';
    return MV_SEARCH_EMAIL;
}

int mv_admin_code_prefix(const char *q, char pattern[18])
{
    size_t n = 0;

    pattern[0] = '\0';
    for (; q && *q; q++) {
        char c = *q;
        if (c == ' ' || c == '-') {
            continue;
        }
        if (c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        }
        if (!code_char(c) || n == MV_INVITE_LEN_MAX) {
            pattern[0] = '\0';
            return -1;
        }
        pattern[n++] = c;
    }
    if (n == 0) {
        return -1;
    }
    pattern[n++] = '%';
    pattern[n] = '\0';
    return 0;
}

/* Floor division of a time by a day, for times before 1970 too. */
static int64_t day_floor(int64_t t)
{
    int64_t d = t / MV_DAY_USEC;
    return (t % MV_DAY_USEC < 0) ? d - 1 : d;
}

int64_t mv_admin_day_ceil(int64_t t)
{
    int64_t d = day_floor(t);

    return (d * MV_DAY_USEC == t ? d : d + 1) * MV_DAY_USEC;
}

int mv_admin_period(int64_t *from, int64_t *to, mv_interval interval)
{
    int64_t first = day_floor(*from),
            last = mv_admin_day_ceil(*to) / MV_DAY_USEC;
    int64_t buckets;

    if (last <= first) {
        return -1;
    }
    if (interval == MV_INTERVAL_WEEK) {
        /* Day 0 (1970-01-01) was a Thursday: Monday is day 4 mod 7. */
        int64_t monday = first - (((first - 4) % 7) + 7) % 7;
        buckets = (last - monday + 6) / 7;
    } else {
        buckets = last - first;
    }
    if (buckets > MV_ANALYTICS_BUCKETS_MAX) {
        return -2;
    }
    *from = first * MV_DAY_USEC;
    *to = last * MV_DAY_USEC;
    return 0;
}
