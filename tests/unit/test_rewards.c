/*
 * test_rewards.c - unit tests for mv_rewards.h (cmocka).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mv_crypto.h"
#include "mv_validate.h"

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void phone_is_normalised_to_plus_and_digits(void **state)
{
    char out[MV_PHONE_DIGITS_MAX + 2];

    (void)state;
    assert_int_equal(mv_phone_normalize("+15551234567", out, sizeof out), 12);
    assert_string_equal(out, "+15551234567");
    assert_int_equal(mv_phone_normalize("15551234567", out, sizeof out), 12);
    assert_string_equal(out, "+15551234567");
    assert_int_equal(mv_phone_normalize("+1 (555) 123-45.67", out, sizeof out),
                     12);
    assert_string_equal(out, "+15551234567");
    assert_int_equal(mv_phone_normalize("12345678", out, sizeof out), 9);
    assert_int_equal(mv_phone_normalize("123456789012345", out, sizeof out),
                     16);
    assert_string_equal(out, "+123456789012345");
}

/* Every spelling of one number is one destination. */
static void every_spelling_of_a_number_is_one_destination(void **state)
{
    static const char *const spellings[] = {
        "+4915112345678",     "004915112345678",     "4915112345678",
        "+49 151 1234 5678",  "0049 151 12345678",   "+49.151.1234.5678",
        "0049-151-1234-5678", "+49 (151) 1234-5678", "(0049) 151 12345678",
        " +49-151-12345678 ",
    };
    char out[MV_PHONE_DIGITS_MAX + 2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof spellings / sizeof *spellings; i++) {
        if (mv_phone_normalize(spellings[i], out, sizeof out) != 14 ||
            strcmp(out, "+4915112345678") != 0) {
            fail_msg("\"%s\" became \"%s\"", spellings[i], out);
        }
    }
    /* 00 and 15 digits fit; the prefix is not a digit of the number. */
    assert_int_equal(mv_phone_normalize("00123456789012345", out, sizeof out),
                     16);
    assert_string_equal(out, "+123456789012345");
}

static void bad_phones_are_refused(void **state)
{
    const char *bad[] = {"",           "+",
                         "1234567",    "1234567890123456",
                         "++12345678", "12345678+",
                         "1234567a8",  "１２３４５６７８９",
                         "12345678\n", "' OR 1=1 --",
                         "+-+-+-+-",   "001234567",
                         "+00",        "0012345678901234567"};
    char out[MV_PHONE_DIGITS_MAX + 2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        strcpy(out, "junk");
        assert_int_equal(mv_phone_normalize(bad[i], out, sizeof out), -1);
        assert_string_equal(out, "");
    }
    assert_int_equal(mv_phone_normalize(NULL, out, sizeof out), -1);
    assert_int_equal(mv_phone_normalize("123456789", out, 5), -1);
}

static void email_is_validated_and_lower_cased(void **state)
{
    char out[MV_DESTINATION_MAX];

    (void)state;
    assert_int_equal(mv_email_normalize("Alice.B@Example.COM", out, sizeof out),
                     19);
    assert_string_equal(out, "alice.b@example.com");
    assert_int_equal(mv_email_normalize("not-an-email", out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(mv_email_normalize(" a@b.co", out, sizeof out), -1);
    assert_int_equal(mv_email_normalize(NULL, out, sizeof out), -1);
    assert_int_equal(mv_email_normalize("a@b.co", out, 6), -1);
    assert_int_equal(mv_email_normalize("a@b.co", out, 7), 6);
}

static void otp_code_is_exactly_six_digits(void **state)
{
    (void)state;
    assert_true(mv_otp_code_valid("000000"));
    assert_true(mv_otp_code_valid("123456"));
    assert_false(mv_otp_code_valid("12345"));
    assert_false(mv_otp_code_valid("1234567"));
    assert_false(mv_otp_code_valid("12345a"));
    assert_false(mv_otp_code_valid(" 12345"));
    assert_false(mv_otp_code_valid(""));
    assert_false(mv_otp_code_valid(NULL));
}

static void otp_hash_binds_destination_and_code(void **state)
{
    unsigned char key[32];
    char a[MV_HASH_HEX_LEN + 1], b[MV_HASH_HEX_LEN + 1];
    char c[MV_HASH_HEX_LEN + 1], d[MV_HASH_HEX_LEN + 1];

    (void)state;
    memset(key, 7, sizeof key);
    mv_otp_hash(key, sizeof key, "+15551234567", "123456", a);
    mv_otp_hash(key, sizeof key, "+15551234567", "123456", b);
    mv_otp_hash(key, sizeof key, "+15551234568", "123456", c);
    mv_otp_hash(key, sizeof key, "+15551234567", "123457", d);
    assert_int_equal(strlen(a), MV_HASH_HEX_LEN);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    mv_keyed_hash_hex(key, sizeof key, "+15551234567\n123456", 19, b);
    assert_string_equal(a, b);
}

static void uuid_array_is_a_postgres_literal_of_fresh_v4_tokens(void **state)
{
    size_t n = 1000, i, len;
    char *buf = malloc(MV_UUID_ARRAY_SIZE(n));

    (void)state;
    len = mv_uuid_array(buf, n);
    assert_int_equal(len, strlen(buf));
    assert_true(len + 1 <= MV_UUID_ARRAY_SIZE(n));
    assert_int_equal(buf[0], '{');
    assert_int_equal(buf[len - 1], '}');
    for (i = 0; i < n; i++) {
        char tok[MV_UUID_LEN + 1];
        const char *at = buf + MV_UUID_ARRAY_AT(i);
        memcpy(tok, at, MV_UUID_LEN);
        tok[MV_UUID_LEN] = '\0';
        assert_true(mv_uuid_parse(tok, NULL));
        assert_int_equal(tok[14], '4');
        assert_int_equal(at[MV_UUID_LEN], i + 1 < n ? ',' : '}');
        if (i > 0) {
            assert_memory_not_equal(at, buf + MV_UUID_ARRAY_AT(i - 1),
                                    MV_UUID_LEN);
        }
    }
    free(buf);
}

static void uuid_array_of_one_and_of_none(void **state)
{
    char buf[MV_UUID_ARRAY_SIZE(1)];
    char none[MV_UUID_ARRAY_SIZE(0)];

    (void)state;
    assert_int_equal(mv_uuid_array(buf, 1), MV_UUID_LEN + 2);
    assert_int_equal(buf[MV_UUID_LEN + 1], '}');
    assert_int_equal(mv_uuid_array(none, 0), 2);
    assert_string_equal(none, "{}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(phone_is_normalised_to_plus_and_digits),
        cmocka_unit_test(every_spelling_of_a_number_is_one_destination),
        cmocka_unit_test(bad_phones_are_refused),
        cmocka_unit_test(email_is_validated_and_lower_cased),
        cmocka_unit_test(otp_code_is_exactly_six_digits),
        cmocka_unit_test(otp_hash_binds_destination_and_code),
        cmocka_unit_test(uuid_array_is_a_postgres_literal_of_fresh_v4_tokens),
        cmocka_unit_test(uuid_array_of_one_and_of_none),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
