/*
 * test_admin_rules.c - unit tests for mv_admin_rules.h (cmocka): what a
 * search string means, invite-code prefixes, analytics periods.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mv_admin_rules.h"

#define DAY MV_DAY_USEC

static void
email_prefix_is_lower_cased_with_like_wildcards_escaped(void **state)
{
    char p[MV_ADMIN_PATTERN_SIZE];
    long long id = 7;

    (void)state;
    assert_int_equal(mv_admin_user_search("Ann.B", p, &id), MV_SEARCH_EMAIL);
    assert_string_equal(p, "ann.b%");
    assert_int_equal(id, 0);
    assert_int_equal(mv_admin_user_search("a_b%c\\d", p, &id),
                     MV_SEARCH_INVALID); /* '\' is no e-mail character */
    assert_int_equal(mv_admin_user_search("a_b%c@x", p, &id), MV_SEARCH_EMAIL);
    assert_string_equal(p, "a\\_b\\%c@x%");
    assert_int_equal(mv_admin_user_search("o'brien@", p, &id), MV_SEARCH_EMAIL);
    assert_string_equal(p, "o'brien@%");
}

static void digits_are_a_phone_prefix_and_an_id(void **state)
{
    char p[MV_ADMIN_PATTERN_SIZE];
    long long id = 0;

    (void)state;
    assert_int_equal(mv_admin_user_search("4915", p, &id), MV_SEARCH_PHONE);
    assert_string_equal(p, "+4915%");
    assert_int_equal(id, 4915);
    assert_int_equal(mv_admin_user_search("+49 (151) 12-3", p, &id),
                     MV_SEARCH_PHONE);
    assert_string_equal(p, "+49151123%");
    assert_int_equal(id, 0);
    assert_int_equal(mv_admin_user_search("0049151", p, &id), MV_SEARCH_PHONE);
    assert_string_equal(p, "+49151%");
    assert_int_equal(id, 49151);
    /* Too many digits for an id: still a phone prefix. */
    assert_int_equal(mv_admin_user_search("1234567890123456789", p, &id),
                     MV_SEARCH_PHONE);
    assert_int_equal(id, 0);
}

static void other_characters_are_refused(void **state)
{
    static const char *bad[] = {
        "",     "'; DROP TABLE users; --",
        "a b",  "\"x\"",
        "a;b",  "(a)",
        "a,b",  "\xe2\x80\xae",
        "a\tb", "<script>",
        "a\\b", " ",
    };
    char p[MV_ADMIN_PATTERN_SIZE], long_q[MV_ADMIN_SEARCH_MAX + 2];
    long long id;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mv_admin_user_search(bad[i], p, &id),
                         MV_SEARCH_INVALID);
    }
    memset(long_q, 'a', sizeof long_q - 1);
    long_q[sizeof long_q - 1] = '\0';
    assert_int_equal(mv_admin_user_search(long_q, p, &id), MV_SEARCH_INVALID);
    long_q[sizeof long_q - 2] = '\0';
    assert_int_equal(mv_admin_user_search(long_q, p, &id), MV_SEARCH_EMAIL);
}

static void code_prefix_normalised_like_codes(void **state)
{
    char p[20];

    (void)state;
    assert_int_equal(mv_admin_code_prefix("ab-c d", p), 0);
    assert_string_equal(p, "ABCD%");
    assert_int_equal(mv_admin_code_prefix("ABCDEFGHJKMNPQRS", p), 0);
    assert_string_equal(p, "ABCDEFGHJKMNPQRS%");
    assert_int_equal(mv_admin_code_prefix("ABCDEFGHJKMNPQRST", p), -1);
    assert_int_equal(mv_admin_code_prefix("", p), -1);
    assert_int_equal(mv_admin_code_prefix("--", p), -1);
    assert_int_equal(mv_admin_code_prefix("ILOU", p), -1);
    assert_int_equal(mv_admin_code_prefix("AB%", p), -1);
    assert_int_equal(mv_admin_code_prefix("A'B", p), -1);
}

static void periods_align_to_whole_days_and_are_bounded(void **state)
{
    int64_t day20000 = 20000 * DAY; /* 2024-10-04, a Friday */
    int64_t from, to;

    (void)state;
    from = day20000 + 5;
    to = day20000 + DAY + 1;
    assert_int_equal(mv_admin_period(&from, &to, MV_INTERVAL_DAY), 0);
    assert_int_equal(from, day20000);
    assert_int_equal(to, day20000 + 2 * DAY);
    /* A midnight "to" stays. */
    from = day20000;
    to = day20000 + DAY;
    assert_int_equal(mv_admin_period(&from, &to, MV_INTERVAL_DAY), 0);
    assert_int_equal(to, day20000 + DAY);
    /* Empty or reversed. */
    from = to = day20000;
    assert_int_equal(mv_admin_period(&from, &to, MV_INTERVAL_DAY), -1);
    from = day20000 + DAY;
    to = day20000;
    assert_int_equal(mv_admin_period(&from, &to, MV_INTERVAL_DAY), -1);
    /* 400 days pass, 401 do not; before 1970 too. */
    from = -400 * DAY;
    to = 0;
    assert_int_equal(mv_admin_period(&from, &to, MV_INTERVAL_DAY), 0);
    from = -401 * DAY;
    to = 0;
    assert_int_equal(mv_admin_period(&from, &to, MV_INTERVAL_DAY), -2);
    /* Weeks count from the Monday on or before from (day 20000 is a
     * Friday: its week began on day 19996). */
    from = day20000;
    to = (19996 + 400 * 7) * DAY;
    assert_int_equal(mv_admin_period(&from, &to, MV_INTERVAL_WEEK), 0);
    from = day20000;
    to = (19996 + 400 * 7) * DAY + 1;
    assert_int_equal(mv_admin_period(&from, &to, MV_INTERVAL_WEEK), -2);
    assert_int_equal(mv_admin_day_ceil(day20000), day20000);
    assert_int_equal(mv_admin_day_ceil(day20000 - 1), day20000);
    assert_int_equal(mv_admin_day_ceil(-1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            email_prefix_is_lower_cased_with_like_wildcards_escaped),
        cmocka_unit_test(digits_are_a_phone_prefix_and_an_id),
        cmocka_unit_test(other_characters_are_refused),
        cmocka_unit_test(code_prefix_normalised_like_codes),
        cmocka_unit_test(periods_align_to_whole_days_and_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
