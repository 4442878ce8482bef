/*
 * test_query.c - unit tests for mv_query.h (cmocka).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mv_query.h"

static void finds_a_parameter_among_others(void **state)
{
    char v[16];

    (void)state;
    assert_int_equal(mv_query_get("limit=20&before=981", "before", v, sizeof v),
                     1);
    assert_string_equal(v, "981");
    assert_int_equal(mv_query_get("limit=20&before=981", "limit", v, sizeof v),
                     1);
    assert_string_equal(v, "20");
    assert_int_equal(mv_query_get("x=1&&limit=7&", "limit", v, sizeof v), 1);
    assert_string_equal(v, "7");
}

static void absent_parameter_is_0_with_empty_out(void **state)
{
    char v[16] = "junk";

    (void)state;
    assert_int_equal(mv_query_get(NULL, "limit", v, sizeof v), 0);
    assert_string_equal(v, "");
    assert_int_equal(mv_query_get("", "limit", v, sizeof v), 0);
    assert_int_equal(mv_query_get("limits=5&lim=3", "limit", v, sizeof v), 0);
    assert_int_equal(mv_query_get("&&&", "limit", v, sizeof v), 0);
}

static void empty_and_valueless_parameters_are_found_empty(void **state)
{
    char v[16];

    (void)state;
    assert_int_equal(mv_query_get("limit=", "limit", v, sizeof v), 1);
    assert_string_equal(v, "");
    assert_int_equal(mv_query_get("limit", "limit", v, sizeof v), 1);
    assert_string_equal(v, "");
}

static void values_and_keys_are_percent_decoded(void **state)
{
    char v[16];

    (void)state;
    assert_int_equal(mv_query_get("lim%69t=%32%30", "limit", v, sizeof v), 1);
    assert_string_equal(v, "20");
    assert_int_equal(mv_query_get("limit=1+2", "limit", v, sizeof v), 1);
    assert_string_equal(v, "1 2");
    assert_int_equal(mv_query_get("limit=a%3db", "limit", v, sizeof v), 1);
    assert_string_equal(v, "a=b");
}

static void duplicates_bad_escapes_nul_and_overflow_are_refused(void **state)
{
    char v[8];

    (void)state;
    assert_int_equal(mv_query_get("limit=1&limit=2", "limit", v, sizeof v), -1);
    assert_string_equal(v, "");
    assert_int_equal(mv_query_get("limit=%", "limit", v, sizeof v), -1);
    assert_int_equal(mv_query_get("limit=%2", "limit", v, sizeof v), -1);
    assert_int_equal(mv_query_get("limit=%zz", "limit", v, sizeof v), -1);
    assert_int_equal(mv_query_get("limit=1%00", "limit", v, sizeof v), -1);
    assert_int_equal(mv_query_get("limit=12345678", "limit", v, sizeof v), -1);
    assert_int_equal(mv_query_get("limit=1234567", "limit", v, sizeof v), 1);
    assert_string_equal(v, "1234567");
}

static void undecodable_other_keys_are_skipped(void **state)
{
    char v[8];

    (void)state;
    assert_int_equal(mv_query_get("%zz=1&limit=3", "limit", v, sizeof v), 1);
    assert_string_equal(v, "3");
    assert_int_equal(mv_query_get("%=&limit=4", "limit", v, sizeof v), 1);
    assert_string_equal(v, "4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_a_parameter_among_others),
        cmocka_unit_test(absent_parameter_is_0_with_empty_out),
        cmocka_unit_test(empty_and_valueless_parameters_are_found_empty),
        cmocka_unit_test(values_and_keys_are_percent_decoded),
        cmocka_unit_test(duplicates_bad_escapes_nul_and_overflow_are_refused),
        cmocka_unit_test(undecodable_other_keys_are_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
