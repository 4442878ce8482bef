/* Unit tests of the JSON field, error-body and time helpers (src/core/json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mv_json.h"

static json_t *parse(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    return v;
}

static const char *problem(json_t *errors, const char *field)
{
    return json_string_value(json_object_get(errors, field));
}

static void error_body_has_error_and_code(void **state)
{
    json_t *b = mv_error_body("not_found", "No such route.", NULL);
    (void)state;
    assert_string_equal(json_string_value(json_object_get(b, "code")),
                        "not_found");
    assert_string_equal(json_string_value(json_object_get(b, "error")),
                        "No such route.");
    assert_null(json_object_get(b, "fields"));
    json_decref(b);
}

static void error_body_carries_fields_when_any(void **state)
{
    json_t *f = json_object(), *b;
    (void)state;
    mv_fields_invalid(f, "email", "is required");
    b = mv_error_body("validation_failed", "Invalid.", f);
    assert_string_equal(problem(json_object_get(b, "fields"), "email"),
                        "is required");
    json_decref(b);
    json_decref(f);
}

static void string_field_present_missing_and_wrong_type(void **state)
{
    json_t *body = parse("{\"a\":\"x\",\"n\":5,\"z\":null}");
    json_t *e = json_object();
    (void)state;
    assert_string_equal(mv_fields_string(body, e, "a", 1), "x");
    assert_null(mv_fields_string(body, e, "missing", 0));
    assert_null(problem(e, "missing"));
    assert_null(mv_fields_string(body, e, "required", 1));
    assert_string_equal(problem(e, "required"), "is required");
    assert_null(mv_fields_string(body, e, "n", 0));
    assert_string_equal(problem(e, "n"), "must be a string");
    assert_null(mv_fields_string(body, e, "z", 1));
    assert_string_equal(problem(e, "z"), "is required");
    json_decref(body);
    json_decref(e);
}

static void int_field_rejects_reals_strings_and_out_of_range(void **state)
{
    json_t *body = parse("{\"ok\":7,\"real\":5.0,\"str\":\"5\",\"big\":"
                         "9007199254740993,\"neg\":-1,\"bool\":true}");
    json_t *e = json_object();
    int64_t v = 0;
    (void)state;
    assert_int_equal(mv_fields_int(body, e, "ok", 1, 10, 1, &v), 1);
    assert_int_equal(v, 7);
    assert_int_equal(mv_fields_int(body, e, "real", 1, 10, 1, &v), 0);
    assert_string_equal(problem(e, "real"), "must be an integer");
    assert_int_equal(mv_fields_int(body, e, "str", 1, 10, 1, &v), 0);
    assert_int_equal(mv_fields_int(body, e, "bool", 1, 10, 1, &v), 0);
    assert_int_equal(mv_fields_int(body, e, "big", 1, 10, 1, &v), 0);
    assert_string_equal(problem(e, "big"), "must be from 1 to 10");
    assert_int_equal(mv_fields_int(body, e, "neg", 1, 10, 1, &v), 0);
    assert_int_equal(v, 7);
    json_decref(body);
    json_decref(e);
}

static void first_problem_per_field_wins(void **state)
{
    json_t *e = json_object();
    (void)state;
    mv_fields_invalid(e, "f", "first");
    mv_fields_invalid(e, "f", "second");
    assert_string_equal(problem(e, "f"), "first");
    json_decref(e);
}

static void rfc3339_round_trip_and_offsets(void **state)
{
    int64_t t;
    char out[MV_RFC3339_LEN + 1];
    (void)state;
    assert_int_equal(mv_rfc3339_parse("2026-11-21T14:03:00Z", &t), 0);
    assert_int_equal(t, INT64_C(1795269780) * 1000000);
    mv_rfc3339_format(t, out);
    assert_string_equal(out, "2026-11-21T14:03:00Z");
    assert_int_equal(mv_rfc3339_parse("2026-11-21T15:03:00+01:00", &t), 0);
    mv_rfc3339_format(t, out);
    assert_string_equal(out, "2026-11-21T14:03:00Z");
    assert_int_equal(mv_rfc3339_parse("2026-11-21 14:03:00.5+00:00", &t), 0);
    assert_int_equal(t % 1000000, 500000);
    assert_int_equal(mv_rfc3339_parse("2024-02-29T00:00:00Z", &t), 0);
}

static void rfc3339_rejects_malformed(void **state)
{
    int64_t t;
    (void)state;
    assert_int_equal(mv_rfc3339_parse("2026-11-21", &t), -1);
    assert_int_equal(mv_rfc3339_parse("2026-11-21T14:03:00", &t), -1);
    assert_int_equal(mv_rfc3339_parse("2026-13-01T00:00:00Z", &t), -1);
    assert_int_equal(mv_rfc3339_parse("2026-02-29T00:00:00Z", &t), -1);
    assert_int_equal(mv_rfc3339_parse("2026-11-21T24:00:00Z", &t), -1);
    assert_int_equal(mv_rfc3339_parse("2026-11-21T14:03:00Zjunk", &t), -1);
    assert_int_equal(mv_rfc3339_parse("'; DROP TABLE users;--xxxxx", &t), -1);
    assert_int_equal(mv_rfc3339_parse("1969-12-31T23:59:59Z", &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_body_has_error_and_code),
        cmocka_unit_test(error_body_carries_fields_when_any),
        cmocka_unit_test(string_field_present_missing_and_wrong_type),
        cmocka_unit_test(int_field_rejects_reals_strings_and_out_of_range),
        cmocka_unit_test(first_problem_per_field_wins),
        cmocka_unit_test(rfc3339_round_trip_and_offsets),
        cmocka_unit_test(rfc3339_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
