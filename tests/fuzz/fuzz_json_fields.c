/*
 * fuzz_json_fields.c - reading request bodies and writing JSON text: the
 * field readers (mv_fields_string, mv_fields_int) over whatever jansson
 * makes of a body (loaded as the module loads it), the error body, and the
 * hot-path writer (mv_json_put_*).
 * Input: any bytes (seeds from tests/unit/test_json.c).
 * Properties: a reader returns a value exactly when the member has the
 * right type (and range), and otherwise records the field in the errors
 * when the member is there or required; the writer writes what json_dumps
 * writes for the same string or integer, and fails on anything else.
 */
#include "fuzz.h"
#include "mv_json.h"

#include <errno.h>
#include <inttypes.h>

/* Field names the routes read, and the empty one. */
static const char *const names[] = {"email",    "code",   "count", "expiresAt",
                                    "password", "points", ""};

/* The readers on one member of body: their promises, both ways. */
static void check_readers(json_t *body, const char *name, int required)
{
    json_t *errors = json_object(), *v = json_object_get(body, name);
    int present = v != NULL && !json_is_null(v);
    const char *s = mv_fields_string(body, errors, name, required);
    int64_t n = 7;
    int got;

    MV_FUZZ_CHECK((s != NULL) == (present && json_is_string(v)));
    MV_FUZZ_CHECK((json_object_get(errors, name) != NULL) ==
                  (present ? !json_is_string(v) : required));
    json_object_clear(errors);

    got = mv_fields_int(body, errors, name, -5, 1000, required, &n);
    MV_FUZZ_CHECK(got == (present && json_is_integer(v) &&
                          json_integer_value(v) >= -5 &&
                          json_integer_value(v) <= 1000));
    MV_FUZZ_CHECK(got ? n == json_integer_value(v) : n == 7);
    MV_FUZZ_CHECK((json_object_get(errors, name) != NULL) ==
                  (present ? !got : required));

    /* The error body carries the problems as they are. */
    v = mv_error_body("validation_failed", "Invalid.", errors);
    MV_FUZZ_CHECK(v != NULL);
    MV_FUZZ_CHECK((json_object_get(v, "fields") != NULL) ==
                  (json_object_size(errors) > 0));
    json_decref(v);
    json_decref(errors);
}

/* mv_json_put_string on data agrees with json_dumps of the same string. */
static void check_put_string(const uint8_t *data, size_t size)
{
    size_t cap = MV_JSON_STRING_MAX(size);
    char *buf = malloc(cap);
    json_t *js = json_stringn((const char *)data, size);
    mv_json_buf b;

    MV_FUZZ_CHECK(buf != NULL);
    mv_json_buf_init(&b, buf, cap);
    mv_json_put_string(&b, (const char *)data, size);
    MV_FUZZ_CHECK(b.failed == (js == NULL));
    if (js != NULL) {
        char *want = json_dumps(js, JSON_COMPACT | JSON_ENCODE_ANY);
        size_t n;

        MV_FUZZ_CHECK(want != NULL);
        n = strlen(want);
        MV_FUZZ_CHECK(mv_json_buf_len(&b, buf) == n);
        MV_FUZZ_CHECK(memcmp(buf, want, n) == 0);
        free(want);
        /* Less room than the most it may write: nothing written, failed. */
        mv_json_buf_init(&b, buf, cap - 1);
        mv_json_put_string(&b, (const char *)data, size);
        MV_FUZZ_CHECK(b.failed && b.p == buf);
    }
    json_decref(js);
    free(buf);
}

/* mv_json_put_int_text on data succeeds exactly for the canonical text of
 * an int64_t, which mv_json_put_int then writes the same. */
static void check_put_int(const uint8_t *data, size_t size)
{
    char *s = mv_fuzz_cstring(data, size), *end;
    char text[MV_JSON_INT_MAX], printed[32], again[MV_JSON_INT_MAX];
    mv_json_buf b, b2;
    long long v;
    int canonical;

    mv_json_buf_init(&b, text, sizeof text);
    mv_json_put_int_text(&b, (const char *)data, size);
    errno = 0;
    v = strtoll(s, &end, 10);
    snprintf(printed, sizeof printed, "%lld", v);
    canonical = size > 0 && strlen(s) == size && *end == '\0' && errno == 0 &&
                strcmp(printed, s) == 0;
    MV_FUZZ_CHECK(b.failed == !canonical);
    if (canonical) {
        mv_json_buf_init(&b2, again, sizeof again);
        mv_json_put_int(&b2, v);
        MV_FUZZ_CHECK(!b2.failed && mv_json_buf_len(&b2, again) == size);
        MV_FUZZ_CHECK(memcmp(again, data, size) == 0);
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        check_readers(body, names[i], 0);
        check_readers(body, names[i], 1);
    }
    json_decref(body);
    check_put_string(data, size);
    check_put_int(data, size);
    return 0;
}
