/* Unit tests of the route matcher (src/core/router.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mv_router.h"

static void static_path_matches_exactly(void **state)
{
    mv_span p[MV_ROUTE_MAX_PARAMS];
    (void)state;
    assert_int_equal(mv_path_match("/health", "/health", p), 0);
    assert_int_equal(
        mv_path_match("/auth/login-with-email", "/auth/login-with-email", p),
        0);
}

static void static_path_rejects_prefixes_suffixes_and_slashes(void **state)
{
    mv_span p[MV_ROUTE_MAX_PARAMS];
    (void)state;
    assert_int_equal(mv_path_match("/health", "/healthz", p), -1);
    assert_int_equal(mv_path_match("/health", "/health/", p), -1);
    assert_int_equal(mv_path_match("/health", "/heal", p), -1);
    assert_int_equal(mv_path_match("/health", "//health", p), -1);
    assert_int_equal(mv_path_match("/health", "", p), -1);
    assert_int_equal(mv_path_match("/auth/refresh", "/auth", p), -1);
}

static void param_segment_captures_its_text(void **state)
{
    const char *path = "/users/42/wallet";
    mv_span p[MV_ROUTE_MAX_PARAMS];
    (void)state;
    assert_int_equal(mv_path_match("/users/{id}/wallet", path, p), 1);
    assert_int_equal(p[0].len, 2);
    assert_memory_equal(path + p[0].off, "42", 2);
}

static void param_segment_takes_any_text_but_not_empty(void **state)
{
    const char *path = "/users/abc'--/wallet";
    mv_span p[MV_ROUTE_MAX_PARAMS];
    (void)state;
    assert_int_equal(mv_path_match("/users/{id}/wallet", path, p), 1);
    assert_int_equal(p[0].len, 6);
    assert_int_equal(mv_path_match("/users/{id}/wallet", "/users//wallet", p),
                     -1);
    assert_int_equal(
        mv_path_match("/users/{id}/wallet", "/users/1/2/wallet", p), -1);
}

static void relative_path_strips_location_prefix(void **state)
{
    (void)state;
    assert_string_equal(mv_path_relative("", "/health"), "/health");
    assert_string_equal(mv_path_relative("/api", "/api/health"), "/health");
    assert_string_equal(mv_path_relative("/api", "/api"), "/");
    assert_null(mv_path_relative("/api", "/apiary/health"));
    assert_null(mv_path_relative("/api", "/other"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(static_path_matches_exactly),
        cmocka_unit_test(static_path_rejects_prefixes_suffixes_and_slashes),
        cmocka_unit_test(param_segment_captures_its_text),
        cmocka_unit_test(param_segment_takes_any_text_but_not_empty),
        cmocka_unit_test(relative_path_strips_location_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
