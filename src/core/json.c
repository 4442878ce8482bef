/*
 * json.c — request fields, error bodies and RFC 3339 times over jansson,
 * and the JSON text writer (mv_json_buf) of the hot replies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mv_json.h"
#include "mv_validate.h"

json_t *mv_error_body(const char *code, const char *message, json_t *fields)
{
    json_t *body = json_pack("{s:s, s:s}", "error", message, "code", code);

    if (body && fields && json_object_size(fields) > 0) {
        json_object_set(body, "fields", fields);
    }
    return body;
}

void mv_fields_invalid(json_t *errors, const char *field, const char *problem)
{
    if (!json_object_get(errors, field)) {
        json_object_set_new(errors, field, json_string(problem));
    }
}

/* The member, or NULL when absent or null (recording a required one). */
static json_t *field_get(json_t *body, json_t *errors, const char *field,
                         int required)
{
    json_t *v = json_object_get(body, field);

    if (v && json_is_null(v)) {
        v = NULL;
    }
    if (!v && required) {
        mv_fields_invalid(errors, field, "is required");
    }
    return v;
}

const char *mv_fields_string(json_t *body, json_t *errors, const char *field,
                             int required)
{
    json_t *v = field_get(body, errors, field, required);

    if (v && !json_is_string(v)) {
        mv_fields_invalid(errors, field, "must be a string");
        return NULL;
    }
    return v ? json_string_value(v) : NULL;
}

int mv_fields_int(json_t *body, json_t *errors, const char *field, int64_t min,
                  int64_t max, int required, int64_t *out)
{
    json_t *v = field_get(body, errors, field, required);
    json_int_t n;
    char msg[96];

    if (!v) {
        return 0;
    }
    if (!json_is_integer(v)) {
        mv_fields_invalid(errors, field, "must be an integer");
        return 0;
    }
    n = json_integer_value(v);
    if (n < min || n > max) {
        snprintf(msg, sizeof(msg), "must be from %" PRId64 " to %" PRId64, min,
                 max);
        mv_fields_invalid(errors, field, msg);
        return 0;
    }
    *out = n;
    return 1;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The civil date of a day count since 1970-01-01 (Howard Hinnant). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, yoe, doe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Seconds since the epoch of 0001-01-01T00:00:00Z and of
 * 9999-12-31T23:59:59Z: the range of times in and out (SPEC §3). */
#define TIME_MIN_SEC INT64_C(-62135596800)
#define TIME_MAX_SEC INT64_C(253402300799)

int mv_rfc3339_parse(const char *s, int64_t *usec)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, off = 0;
    int64_t frac = 0, scale = 100000, secs;
    const char *p;

    if (strlen(s) < 20 || strlen(s) > 40 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':') {
        return -1;
    }
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    h = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    sec = digits(s + 17, 2);
    /* sec 60: a leap second, carried into the next minute. */
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 ||
        h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) {
        return -1;
    }
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return -1;
    }
    p = s + 19;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9') {
            return -1;
        }
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10) {
            frac += (*p - '0') * scale;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        /* Each byte is read only once those before it were there: the
         * text may end anywhere (fuzz_rfc3339 found a read past it). */
        int oh = digits(p + 1, 2);
        int om = oh >= 0 && p[3] == ':' ? digits(p + 4, 2) : -1;
        /* Offsets within +-23:59 only: "+24:00" would shift a whole day. */
        if (oh < 0 || oh > 23 || om < 0 || om > 59) {
            return -1;
        }
        off = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        p += 6;
    } else {
        return -1;
    }
    if (*p) {
        return -1;
    }
    /* The year range holds for the instant, after the offset. */
    secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    if (secs < TIME_MIN_SEC || secs > TIME_MAX_SEC) {
        return -1;
    }
    *usec = secs * 1000000 + frac;
    return 0;
}

int mv_rfc3339_format(int64_t usec, char out[MV_RFC3339_LEN + 1])
{
    int64_t secs = usec / 1000000 - (usec % 1000000 < 0);
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int64_t rem = secs - days * 86400;
    int y, m, d;

    if (secs < TIME_MIN_SEC || secs > TIME_MAX_SEC) {
        return -1;
    }
    civil_from_days(days, &y, &m, &d);
    if (snprintf(out, MV_RFC3339_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02dZ", y,
                 m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
                 (int)(rem % 60)) != MV_RFC3339_LEN) {
        return -1;
    }
    return 0;
}

/* 1 if s[0..n) are all ASCII digits. */
static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/*
 * The fast path of mv_pg_time_rfc3339: 0 and out written when s is
 * "YYYY-MM-DD HH:MM:SS[.f{1,6}]+00" with a valid date from year 1 on and a
 * time within 00:00:00..23:59:59, else -1.  Whatever it accepts, the
 * parse-and-format path would turn into the same bytes (a leap second,
 * which that path carries into the next minute, is left to it).
 */
static int pg_time_utc(const char *s, size_t len, char out[MV_RFC3339_LEN + 1])
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d;

    if (len != 22 && (len < 24 || len > 29 || s[19] != '.' ||
                      !all_digits(s + 20, len - 23))) {
        return -1;
    }
    if (s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
        s[16] != ':' || memcmp(s + len - 3, "+00", 3) != 0 ||
        !all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2) ||
        !all_digits(s + 11, 2) || !all_digits(s + 14, 2) ||
        !all_digits(s + 17, 2)) {
        return -1;
    }
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 &&
         !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) ||
        digits(s + 11, 2) > 23 || digits(s + 14, 2) > 59 ||
        digits(s + 17, 2) > 59) {
        return -1;
    }
    memcpy(out, s, 19);
    out[10] = 'T';
    out[19] = 'Z';
    out[20] = '\0';
    return 0;
}

int mv_pg_time_rfc3339(const char *s, size_t len, char out[MV_RFC3339_LEN + 1])
{
    char buf[48];
    int64_t usec;

    if (pg_time_utc(s, len, out) == 0) {
        return 0;
    }
    /* Another shape: parsed and converted to UTC.  PostgreSQL writes a
     * whole-hour offset as "-08", RFC 3339 wants "-08:00"; one with
     * minutes ("+05:30" + ":00") stays malformed and is refused. */
    if (len + sizeof ":00" > sizeof buf || memchr(s, '\0', len)) {
        return -1;
    }
    memcpy(buf, s, len);
    memcpy(buf + len, ":00", sizeof ":00");
    if (mv_rfc3339_parse(buf, &usec) != 0) {
        return -1;
    }
    return mv_rfc3339_format(usec, out);
}

/* ------------------------------------------------------- JSON writer */

void mv_json_buf_init(mv_json_buf *b, char *buf, size_t cap)
{
    b->p = buf;
    b->end = buf + cap;
    b->failed = 0;
}

/* 1 when n more bytes fit (and nothing failed before), else fails b. */
static int room(mv_json_buf *b, size_t n)
{
    if (b->failed || n > (size_t)(b->end - b->p)) {
        b->failed = 1;
        return 0;
    }
    return 1;
}

void mv_json_put_string(mv_json_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    char *o;

    if (mv_utf8_length(s, n) < 0) {
        b->failed = 1;
        return;
    }
    if (!room(b, MV_JSON_STRING_MAX(n))) {
        return;
    }
    o = b->p;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 0xf];
            o += 5;
        }
    }
    *o++ = '"';
    b->p = o;
}

void mv_json_put_int_text(mv_json_buf *b, const char *s, size_t n)
{
    /* The largest magnitudes of int64_t, as 19 digits. */
    static const char max[] = "9223372036854775807";
    static const char min[] = "9223372036854775808";
    int neg = n > 0 && s[0] == '-';
    const char *d = s + neg;
    size_t nd = n - (size_t)neg;

    if (nd == 0 || nd > 19 || !all_digits(d, nd) || (d[0] == '0' && nd > 1) ||
        (neg && nd == 1 && d[0] == '0') ||
        (nd == 19 && memcmp(d, neg ? min : max, 19) > 0)) {
        b->failed = 1;
        return;
    }
    mv_json_put_raw(b, s, n);
}

void mv_json_put_int(mv_json_buf *b, int64_t v)
{
    char tmp[MV_JSON_INT_MAX];
    char *o = tmp + sizeof tmp;
    /* The magnitude as unsigned, so INT64_MIN does not overflow. */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        *--o = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0) {
        *--o = '-';
    }
    mv_json_put_raw(b, o, (size_t)(tmp + sizeof tmp - o));
}
