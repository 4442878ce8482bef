/*
 * mv_json.h — JSON request fields, error bodies, RFC 3339 times, and a
 * writer for JSON text that hot paths build without a jansson tree.
 * Pure C over jansson: no httpd, so the unit tests link it alone.
 */
#ifndef MV_JSON_H
#define MV_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>

/* {"error": message, "code": code[, "fields": fields]}: a new reference;
 * fields is borrowed (copied by reference) and may be NULL or empty. */
json_t *mv_error_body(const char *code, const char *message, json_t *fields);

/* Records "field: problem" in the errors object; the first per field wins. */
void mv_fields_invalid(json_t *errors, const char *field, const char *problem);

/*
 * A string member of body (borrowed) or NULL when absent, JSON null, or not
 * a string.  A missing required field and a wrong type go into errors.
 */
const char *mv_fields_string(json_t *body, json_t *errors, const char *field,
                             int required);

/*
 * An integer member within [min, max]: returns 1 and sets *out when present
 * and valid, 0 otherwise (problems recorded; *out untouched).  Reals,
 * strings and booleans are wrong types, even "5" and 5.0.
 */
int mv_fields_int(json_t *body, json_t *errors, const char *field, int64_t min,
                  int64_t max, int required, int64_t *out);

/* RFC 3339 ("2026-11-21T14:03:00Z", fractions, offsets within +-23:59
 * and a leap second accepted) to microseconds since the epoch.  Returns 0,
 * or -1 when malformed or, once the offset is applied, outside
 * 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z. */
int mv_rfc3339_parse(const char *s, int64_t *usec);

/* Microseconds since the epoch to "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with
 * the NUL).  Returns 0, or -1 (out undefined) outside years 0001-9999. */
#define MV_RFC3339_LEN 20
int mv_rfc3339_format(int64_t usec, char out[MV_RFC3339_LEN + 1]);

/*
 * A PostgreSQL timestamptz in ISO text (DateStyle ISO; under TimeZone UTC
 * "2026-11-21 14:03:00.123456+00" or "2026-11-21 14:03:00+00") as
 * "2026-11-21T14:03:00Z" in out, the fraction dropped.  The UTC shape is
 * rewritten in place without a parse; any other offset is parsed and
 * converted.  Returns 0, or -1 when s[0..len) is no such time within
 * years 0001-9999 (infinity, BC, a five-digit year): the caller keeps the
 * text.
 */
int mv_pg_time_rfc3339(const char *s, size_t len, char out[MV_RFC3339_LEN + 1]);

/*
 * JSON text written straight into a caller's buffer, for replies too hot
 * to build as a jansson tree.  The output is what json_dumps with
 * JSON_COMPACT writes for the same values.  Every mv_json_put_* appends at
 * b->p and stays below b->end; one that does not fit, or is given text
 * that is not what it expects, sets b->failed and writes nothing, and so
 * do all later ones.  The text is not NUL-terminated.
 */
typedef struct {
    char *p;   /* where the next byte goes */
    char *end; /* one past the last usable byte */
    int failed;
} mv_json_buf;

/* A writer over buf[0..cap) (buf is the caller's). */
void mv_json_buf_init(mv_json_buf *b, char *buf, size_t cap);
/* Bytes written so far since buf. */
#define mv_json_buf_len(b, buf) ((size_t)((b)->p - (buf)))
/* Bytes mv_json_put_string may write for len bytes of text, at most. */
#define MV_JSON_STRING_MAX(len) (2 + 6 * (size_t)(len))
/* Bytes mv_json_put_int may write, at most ("-9223372036854775808"). */
#define MV_JSON_INT_MAX 20

/* s[0..n) as it is: punctuation, keys, literals (the caller's JSON).
 * Inline: most calls copy a few constant bytes. */
static inline void mv_json_put_raw(mv_json_buf *b, const char *s, size_t n)
{
    if (b->failed || n > (size_t)(b->end - b->p)) {
        b->failed = 1;
        return;
    }
    memcpy(b->p, s, n);
    b->p += n;
}

/* s[0..n) as a JSON string: quoted, escaped as jansson does (", \,
 * control characters; nothing else); fails unless s is valid UTF-8. */
void mv_json_put_string(mv_json_buf *b, const char *s, size_t n);
/* A decimal integer in text (PostgreSQL's output of a bigint), copied as
 * it is; fails unless s[0..n) is -?(0|[1-9][0-9]*) within int64_t. */
void mv_json_put_int_text(mv_json_buf *b, const char *s, size_t n);
/* v in decimal. */
void mv_json_put_int(mv_json_buf *b, int64_t v);

#endif
