/*
 * json.c — request fields, error bodies and RFC 3339 times over jansson.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mv_json.h"

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

int mv_fields_int(json_t *body, json_t *errors, const char *field,
                  int64_t min, int64_t max, int required, int64_t *out)
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
        snprintf(msg, sizeof(msg), "must be from %" PRId64 " to %" PRId64,
                 min, max);
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

int mv_rfc3339_parse(const char *s, int64_t *usec)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, off = 0;
    int64_t frac = 0, scale = 100000;
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
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) {
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
    }
    else if ((*p == '+' || *p == '-') && digits(p + 1, 2) >= 0 &&
             p[3] == ':' && digits(p + 4, 2) >= 0) {
        off = digits(p + 1, 2) * 3600 + digits(p + 4, 2) * 60;
        if (*p == '-') {
            off = -off;
        }
        p += 6;
    }
    else {
        return -1;
    }
    if (*p) {
        return -1;
    }
    *usec = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
              off) * 1000000) + frac;
    return 0;
}

void mv_rfc3339_format(int64_t usec, char out[MV_RFC3339_LEN + 1])
{
    time_t t = (time_t)(usec / 1000000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, MV_RFC3339_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
