/*
 * test_validate.c - unit tests for mv_validate.h (cmocka).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "mv_validate.h"

/* mv_utf8_length over a NUL-terminated literal. */
static long utf8_len(const char *s)
{
    return mv_utf8_length(s, strlen(s));
}

static void test_utf8_length_counts_ascii_bytes(void **state)
{
    (void)state;
    assert_int_equal(utf8_len(""), 0);
    assert_int_equal(utf8_len("password"), 8);
    assert_int_equal(mv_utf8_length(NULL, 0), 0);
}

static void test_utf8_length_counts_multibyte_as_one(void **state)
{
    (void)state;
    assert_int_equal(utf8_len("\xC3\xA9"), 1);         /* e acute */
    assert_int_equal(utf8_len("\xE2\x82\xAC"), 1);     /* euro */
    assert_int_equal(utf8_len("\xF0\x9F\x98\x80"), 1); /* emoji */
    assert_int_equal(utf8_len("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"), 5);
    assert_int_equal(utf8_len("\xF4\x8F\xBF\xBF"), 1); /* U+10FFFF */
    assert_int_equal(utf8_len("\xEF\xBF\xBF"), 1);     /* U+FFFF */
}

static void test_utf8_length_counts_embedded_nul(void **state)
{
    (void)state;
    assert_int_equal(mv_utf8_length("a\0b", 3), 3);
}

static void test_utf8_length_rejects_overlong_forms(void **state)
{
    (void)state;
    assert_int_equal(utf8_len("\xC0\x80"), -1);
    assert_int_equal(utf8_len("\xC1\xBF"), -1);
    assert_int_equal(utf8_len("\xE0\x80\xAF"), -1);
    assert_int_equal(utf8_len("\xF0\x80\x80\xAF"), -1);
}

static void test_utf8_length_rejects_surrogates(void **state)
{
    (void)state;
    assert_int_equal(utf8_len("\xED\xA0\x80"), -1); /* U+D800 */
    assert_int_equal(utf8_len("\xED\xBF\xBF"), -1); /* U+DFFF */
    assert_int_equal(utf8_len("\xED\x9F\xBF"), 1);  /* U+D7FF */
}

static void test_utf8_length_rejects_truncated_sequences(void **state)
{
    (void)state;
    assert_int_equal(utf8_len("abc\xC3"), -1);
    assert_int_equal(utf8_len("\xE2\x82"), -1);
    assert_int_equal(utf8_len("\xF0\x9F\x98"), -1);
    /* the length bound is honoured: the full sequence is cut at 2 bytes */
    assert_int_equal(mv_utf8_length("\xE2\x82\xAC", 2), -1);
    /* continuation replaced by ASCII */
    assert_int_equal(utf8_len("\xE2\x82Z"), -1);
}

static void test_utf8_length_rejects_above_10ffff_and_stray_bytes(void **state)
{
    (void)state;
    assert_int_equal(utf8_len("\xF4\x90\x80\x80"), -1);
    assert_int_equal(utf8_len("\xF5\x80\x80\x80"), -1);
    assert_int_equal(utf8_len("\xFF"), -1);
    assert_int_equal(utf8_len("\x80"), -1); /* lone cont. */
    assert_int_equal(mv_utf8_length(NULL, 1), -1);
}

static void test_email_accepts_ordinary_addresses(void **state)
{
    (void)state;
    assert_true(mv_email_valid("a@b.co"));
    assert_true(mv_email_valid("john.doe+tag@example.com"));
    assert_true(mv_email_valid("O'Brien_x-y@sub-1.mail.example.org"));
    assert_true(mv_email_valid("user@EXAMPLE.COM"));
    assert_true(mv_email_valid("!#$%&'*+-/=?^_`{|}~@x1.io"));
}

static void test_email_rejects_bad_structure(void **state)
{
    (void)state;
    assert_false(mv_email_valid(NULL));
    assert_false(mv_email_valid(""));
    assert_false(mv_email_valid("plainaddress"));
    assert_false(mv_email_valid("@example.com"));
    assert_false(mv_email_valid("a@"));
    assert_false(mv_email_valid("a@@b.co"));
    assert_false(mv_email_valid("a@b@c.co"));
    assert_false(mv_email_valid("a b@c.co"));
    assert_false(mv_email_valid("a\"b@c.co"));
    assert_false(mv_email_valid("caf\xC3\xA9@b.co")); /* non-ASCII */
}

static void test_email_rejects_misplaced_dots_in_local_part(void **state)
{
    (void)state;
    assert_false(mv_email_valid(".a@b.co"));
    assert_false(mv_email_valid("a.@b.co"));
    assert_false(mv_email_valid("a..b@b.co"));
    assert_true(mv_email_valid("a.b.c@b.co"));
}

static void test_email_rejects_bad_domains(void **state)
{
    (void)state;
    assert_false(mv_email_valid("a@localhost")); /* no dot */
    assert_false(mv_email_valid("a@b.c"));       /* short TLD */
    assert_false(mv_email_valid("a@b.c0m"));     /* TLD digit */
    assert_false(mv_email_valid("a@-b.co"));
    assert_false(mv_email_valid("a@b-.co"));
    assert_false(mv_email_valid("a@b..co"));
    assert_false(mv_email_valid("a@.b.co"));
    assert_false(mv_email_valid("a@b.co."));
    assert_false(mv_email_valid("a@b_c.co"));
    assert_false(mv_email_valid("a@[127.0.0.1]"));
    assert_true(mv_email_valid("a@b-c.co"));
    assert_true(mv_email_valid("a@123.example.co"));
}

static void test_email_enforces_part_lengths(void **state)
{
    char buf[300];

    (void)state;
    /* local part: 64 ok, 65 refused */
    memset(buf, 'a', 64);
    strcpy(buf + 64, "@b.co");
    assert_true(mv_email_valid(buf));
    memset(buf, 'a', 65);
    strcpy(buf + 65, "@b.co");
    assert_false(mv_email_valid(buf));

    /* label: 63 ok, 64 refused */
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 63);
    strcpy(buf + 65, ".co");
    assert_true(mv_email_valid(buf));
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 64);
    strcpy(buf + 66, ".co");
    assert_false(mv_email_valid(buf));
}

/* Builds "x@" + labels of up to 63 'd' + ".com" with strlen total. */
static void build_email(char *buf, size_t total)
{
    size_t pos = 2, end = total - 4;

    memcpy(buf, "x@", 2);
    while (pos < end) {
        size_t n = end - pos;
        if (n > 63) {
            n = 63;
        }
        if (pos > 2) {
            buf[pos++] = '.';
            if (n > end - pos) {
                n = end - pos;
            }
        }
        memset(buf + pos, 'd', n);
        pos += n;
    }
    strcpy(buf + pos, ".com");
}

static void test_email_accepts_254_and_rejects_255_chars(void **state)
{
    char buf[300];

    (void)state;
    build_email(buf, 254);
    assert_int_equal(strlen(buf), 254);
    assert_true(mv_email_valid(buf));
    build_email(buf, 255);
    assert_int_equal(strlen(buf), 255);
    assert_false(mv_email_valid(buf));
}

static void test_password_policy_counts_code_points(void **state)
{
    /* 8 x U+00E9: 16 bytes, 8 code points */
    const char *eacute8 = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                          "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";
    char big[600];

    (void)state;
    assert_int_equal(mv_password_check_policy("1234567", 7),
                     MV_PASSWORD_TOO_SHORT);
    assert_int_equal(mv_password_check_policy("12345678", 8), MV_PASSWORD_OK);
    assert_int_equal(mv_password_check_policy(eacute8, 16), MV_PASSWORD_OK);
    assert_int_equal(mv_password_check_policy(eacute8, 14),
                     MV_PASSWORD_TOO_SHORT);
    assert_int_equal(mv_password_check_policy(NULL, 0), MV_PASSWORD_TOO_SHORT);

    /* Every byte read is set: the 129th too (make test-asan caught a read
     * of an uninitialised one that passed at -O2 by luck). */
    memset(big, 'p', MV_PASSWORD_MAX + 1);
    assert_int_equal(mv_password_check_policy(big, MV_PASSWORD_MAX),
                     MV_PASSWORD_OK);
    assert_int_equal(mv_password_check_policy(big, MV_PASSWORD_MAX + 1),
                     MV_PASSWORD_TOO_LONG);
    /* 128 four-byte code points: 512 bytes but exactly at the limit; one
     * more is too long */
    for (size_t i = 0; i < MV_PASSWORD_MAX + 1; i++) {
        memcpy(big + 4 * i, "\xF0\x9F\x98\x80", 4);
    }
    assert_int_equal(mv_password_check_policy(big, 4 * MV_PASSWORD_MAX),
                     MV_PASSWORD_OK);
    assert_int_equal(mv_password_check_policy(big, 4 * (MV_PASSWORD_MAX + 1)),
                     MV_PASSWORD_TOO_LONG);
}

static void test_password_policy_reports_invalid_utf8(void **state)
{
    (void)state;
    assert_int_equal(mv_password_check_policy("abcdefgh\xC0\x80", 10),
                     MV_PASSWORD_BAD_UTF8);
    assert_int_equal(mv_password_check_policy("\xFF", 1), MV_PASSWORD_BAD_UTF8);
}

static void test_parse_id_accepts_canonical_positive_integers(void **state)
{
    long long v = 0;

    (void)state;
    assert_true(mv_parse_id("1", LLONG_MAX, &v));
    assert_int_equal(v, 1);
    assert_true(mv_parse_id("42", LLONG_MAX, &v));
    assert_int_equal(v, 42);
    assert_true(mv_parse_id("9223372036854775807", LLONG_MAX, &v));
    assert_true(v == LLONG_MAX);
    assert_true(mv_parse_id("100", 100, &v));
    assert_int_equal(v, 100);
}

static void test_parse_id_rejects_non_canonical_or_out_of_range(void **state)
{
    long long v = 77;

    (void)state;
    assert_false(mv_parse_id("abc", LLONG_MAX, &v));
    assert_false(mv_parse_id("0", LLONG_MAX, &v));
    assert_false(mv_parse_id("-1", LLONG_MAX, &v));
    assert_false(mv_parse_id("+1", LLONG_MAX, &v));
    assert_false(mv_parse_id("01", LLONG_MAX, &v));
    assert_false(mv_parse_id("", LLONG_MAX, &v));
    assert_false(mv_parse_id(" 1", LLONG_MAX, &v));
    assert_false(mv_parse_id("1 ", LLONG_MAX, &v));
    assert_false(mv_parse_id("12a", LLONG_MAX, &v));
    assert_false(mv_parse_id("99999999999999999999", LLONG_MAX, &v));
    assert_false(mv_parse_id("9223372036854775808", LLONG_MAX, &v));
    assert_false(mv_parse_id("101", 100, &v));
    assert_false(mv_parse_id("7", 5, &v));
    assert_false(mv_parse_id("1", 0, &v));
    assert_false(mv_parse_id(NULL, LLONG_MAX, &v));
    assert_int_equal(v, 77); /* untouched on failure */
}

static void test_idempotency_key_accepts_bare_and_quoted(void **state)
{
    char out[MV_IDEMPOTENCY_KEY_MAX + 1], longest[MV_IDEMPOTENCY_KEY_MAX + 3];
    (void)state;
    assert_int_equal(mv_idempotency_key_parse("8e03978e-40d5", out, sizeof out),
                     13);
    assert_string_equal(out, "8e03978e-40d5");
    assert_int_equal(mv_idempotency_key_parse("a b~!", out, sizeof out), 5);
    assert_int_equal(mv_idempotency_key_parse("\"8e03978e\"", out, sizeof out),
                     8);
    assert_string_equal(out, "8e03978e");
    assert_int_equal(
        mv_idempotency_key_parse("\"a\\\"b\\\\c\"", out, sizeof out), 5);
    assert_string_equal(out, "a\"b\\c");
    memset(longest, 'k', MV_IDEMPOTENCY_KEY_MAX);
    longest[MV_IDEMPOTENCY_KEY_MAX] = '\0';
    assert_int_equal(mv_idempotency_key_parse(longest, out, sizeof out),
                     MV_IDEMPOTENCY_KEY_MAX);
    /* 255 characters between quotes are fine too. */
    longest[0] = '"';
    memset(longest + 1, 'k', MV_IDEMPOTENCY_KEY_MAX);
    longest[MV_IDEMPOTENCY_KEY_MAX + 1] = '"';
    longest[MV_IDEMPOTENCY_KEY_MAX + 2] = '\0';
    assert_int_equal(mv_idempotency_key_parse(longest, out, sizeof out),
                     MV_IDEMPOTENCY_KEY_MAX);
}

static void test_idempotency_key_rejects_empty_long_and_malformed(void **state)
{
    char out[MV_IDEMPOTENCY_KEY_MAX + 1], toolong[MV_IDEMPOTENCY_KEY_MAX + 2];
    const char *bad[] = {"",          "\"\"",        "\"abc",
                         "\"abc\"x",  "\"a\\nb\"",   "\"a\\\"",
                         "tab\there", "caf\xc3\xa9", "del\x7f"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(mv_idempotency_key_parse(bad[i], out, sizeof out), -1);
    }
    memset(toolong, 'k', MV_IDEMPOTENCY_KEY_MAX + 1);
    toolong[MV_IDEMPOTENCY_KEY_MAX + 1] = '\0';
    assert_int_equal(mv_idempotency_key_parse(toolong, out, sizeof out), -1);
    assert_int_equal(mv_idempotency_key_parse("ok", out, 10), -1); /* outsz */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_length_counts_ascii_bytes),
        cmocka_unit_test(test_utf8_length_counts_multibyte_as_one),
        cmocka_unit_test(test_utf8_length_counts_embedded_nul),
        cmocka_unit_test(test_utf8_length_rejects_overlong_forms),
        cmocka_unit_test(test_utf8_length_rejects_surrogates),
        cmocka_unit_test(test_utf8_length_rejects_truncated_sequences),
        cmocka_unit_test(test_utf8_length_rejects_above_10ffff_and_stray_bytes),
        cmocka_unit_test(test_email_accepts_ordinary_addresses),
        cmocka_unit_test(test_email_rejects_bad_structure),
        cmocka_unit_test(test_email_rejects_misplaced_dots_in_local_part),
        cmocka_unit_test(test_email_rejects_bad_domains),
        cmocka_unit_test(test_email_enforces_part_lengths),
        cmocka_unit_test(test_email_accepts_254_and_rejects_255_chars),
        cmocka_unit_test(test_password_policy_counts_code_points),
        cmocka_unit_test(test_password_policy_reports_invalid_utf8),
        cmocka_unit_test(test_parse_id_accepts_canonical_positive_integers),
        cmocka_unit_test(test_parse_id_rejects_non_canonical_or_out_of_range),
        cmocka_unit_test(test_idempotency_key_accepts_bare_and_quoted),
        cmocka_unit_test(test_idempotency_key_rejects_empty_long_and_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
