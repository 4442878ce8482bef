/*
 * mv_admin_rules.h - the pure pieces of the admin routes (no httpd/APR):
 * what a search box string means, as a LIKE prefix safe to bind, and the
 * bounds of the analytics period.
 */
#ifndef MV_ADMIN_RULES_H
#define MV_ADMIN_RULES_H

#include <stddef.h>
#include <stdint.h>

/* Longest search string accepted (an e-mail's length). */
#define MV_ADMIN_SEARCH_MAX 254
/* Bytes a LIKE pattern made from a search string can take, NUL included:
 * every character escaped, plus the trailing '%'. */
#define MV_ADMIN_PATTERN_SIZE (2 * MV_ADMIN_SEARCH_MAX + 2)

typedef enum {
    MV_SEARCH_INVALID, /* characters no e-mail, phone or id has */
    MV_SEARCH_EMAIL,   /* pattern: lower-cased e-mail prefix + '%' */
    MV_SEARCH_PHONE    /* pattern: "+digits%"; *id set when q was digits */
} mv_search_kind;

/*
 * What GET /admin/users?q= looks for.  Digits (with the separators people
 * type in phone numbers, and an optional leading '+' or "00") are a phone
 * prefix, and when they are bare digits also a user id (*id, else 0).
 * Otherwise q must be made of the characters of an e-mail address
 * (RFC 5322 atext, '.', '@'): an e-mail prefix, matched regardless of case,
 * with LIKE's '%', '_' and '\' escaped.  pattern has MV_ADMIN_PATTERN_SIZE
 * bytes.  An empty or over-long q is MV_SEARCH_INVALID.
 */
mv_search_kind mv_admin_user_search(const char *q,
                                    char pattern[MV_ADMIN_PATTERN_SIZE],
                                    long long *id);

/*
 * An invite-code prefix (GET /admin/invite-codes?q=) as a LIKE pattern:
 * upper-cased, spaces and dashes dropped, then 1..16 characters of the
 * code alphabet followed by '%'.  0 on success, -1 when q cannot begin a
 * code.  pattern has at least MV_INVITE_LEN_MAX + 2 bytes.
 */
int mv_admin_code_prefix(const char *q, char pattern[18]);

/* Microseconds in a day, and the most buckets one analytics call returns. */
#define MV_DAY_USEC INT64_C(86400000000)
#define MV_ANALYTICS_BUCKETS_MAX 400

typedef enum { MV_INTERVAL_DAY, MV_INTERVAL_WEEK } mv_interval;

/*
 * Aligns an analytics period to whole UTC days: *from down to its day's
 * start, *to up to the next day's start unless already there (times in
 * microseconds since the Unix epoch).  Then checks it: 0 when from < to
 * and the period spans at most MV_ANALYTICS_BUCKETS_MAX buckets of the
 * interval (weeks counted from the Monday on or before from); -1 when
 * to <= from; -2 when there are too many buckets.
 */
int mv_admin_period(int64_t *from, int64_t *to, mv_interval interval);

/* t rounded up to the next UTC midnight (t itself when it is one). */
int64_t mv_admin_day_ceil(int64_t t);

#endif /* MV_ADMIN_RULES_H */
