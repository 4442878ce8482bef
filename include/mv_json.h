/*
 * mv_json.h — JSON request fields, error bodies and RFC 3339 times.
 * Pure C over jansson: no httpd, so the unit tests link it alone.
 */
#ifndef MV_JSON_H
#define MV_JSON_H

#include <stdint.h>
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
int mv_fields_int(json_t *body, json_t *errors, const char *field,
                  int64_t min, int64_t max, int required, int64_t *out);

/* RFC 3339 ("2026-11-21T14:03:00Z", fractions and offsets accepted) to
 * microseconds since the epoch.  Returns 0, or -1 when malformed. */
int mv_rfc3339_parse(const char *s, int64_t *usec);

/* Microseconds since the epoch to "YYYY-MM-DDTHH:MM:SSZ" (21 bytes). */
#define MV_RFC3339_LEN 20
void mv_rfc3339_format(int64_t usec, char out[MV_RFC3339_LEN + 1]);

#endif
