/*
 * test_crypto.c - unit tests for mv_crypto.h (cmocka).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <sodium.h>

#include "mv_crypto.h"
#include "mv_validate.h"

#define TEST_OPS 2
#define TEST_MEM (8U * 1024U * 1024U)

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void test_invite_code_uses_alphabet_and_requested_length(void **state)
{
    char code[MV_INVITE_LEN_MAX + 2];
    size_t len, i;
    int round;

    (void)state;
    for (len = MV_INVITE_LEN_MIN; len <= MV_INVITE_LEN_MAX; len++) {
        for (round = 0; round < 50; round++) {
            memset(code, 'x', sizeof code);
            mv_invite_code_generate(code, len);
            assert_int_equal(strlen(code), len);
            for (i = 0; i < len; i++) {
                assert_non_null(strchr(MV_INVITE_ALPHABET, code[i]));
            }
        }
    }
}

static void test_invite_alphabet_has_32_symbols_without_lookalikes(void **state)
{
    (void)state;
    assert_int_equal(strlen(MV_INVITE_ALPHABET), 32);
    assert_null(strchr(MV_INVITE_ALPHABET, 'I'));
    assert_null(strchr(MV_INVITE_ALPHABET, 'L'));
    assert_null(strchr(MV_INVITE_ALPHABET, 'O'));
    assert_null(strchr(MV_INVITE_ALPHABET, 'U'));
}

static void test_invite_codes_cover_the_whole_alphabet(void **state)
{
    int seen[256] = {0};
    char code[MV_INVITE_LEN_MAX + 1];
    size_t i;
    int round;

    (void)state;
    for (round = 0; round < 200; round++) {
        mv_invite_code_generate(code, MV_INVITE_LEN_MAX);
        for (i = 0; i < MV_INVITE_LEN_MAX; i++) {
            seen[(unsigned char)code[i]] = 1;
        }
    }
    for (i = 0; i < 32; i++) {
        assert_true(seen[(unsigned char)MV_INVITE_ALPHABET[i]]);
    }
}

static void
test_invite_normalize_drops_spaces_dashes_and_uppercases(void **state)
{
    char out[MV_INVITE_LEN_MAX + 1];

    (void)state;
    assert_int_equal(mv_invite_code_normalize(" 7kq2-m9xh ", out, sizeof out),
                     8);
    assert_string_equal(out, "7KQ2M9XH");
    assert_int_equal(mv_invite_code_normalize("7KQ2M9XH", out, sizeof out), 8);
    assert_string_equal(out, "7KQ2M9XH");
    assert_int_equal(mv_invite_code_normalize("ab-cd-ef", out, sizeof out), 6);
    assert_string_equal(out, "ABCDEF");
    assert_int_equal(
        mv_invite_code_normalize("ABCDEFGHJKMNPQRS", out, sizeof out), 16);
    assert_string_equal(out, "ABCDEFGHJKMNPQRS");
}

static void test_invite_normalize_rejects_lookalike_letters(void **state)
{
    char out[MV_INVITE_LEN_MAX + 1];

    (void)state;
    assert_int_equal(mv_invite_code_normalize("7KQ2M9XI", out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(mv_invite_code_normalize("7KQ2M9Xl", out, sizeof out), -1);
    assert_int_equal(mv_invite_code_normalize("7KQ2M9XO", out, sizeof out), -1);
    assert_int_equal(mv_invite_code_normalize("7kq2m9xu", out, sizeof out), -1);
}

static void test_invite_normalize_rejects_bad_lengths_and_chars(void **state)
{
    char out[MV_INVITE_LEN_MAX + 1];
    char small[4];

    (void)state;
    assert_int_equal(mv_invite_code_normalize("ABCDE", out, sizeof out), -1);
    assert_int_equal(mv_invite_code_normalize("", out, sizeof out), -1);
    assert_int_equal(mv_invite_code_normalize(" - - ", out, sizeof out), -1);
    assert_int_equal(
        mv_invite_code_normalize("ABCDEFGHJKMNPQRST", out, sizeof out), -1);
    assert_int_equal(mv_invite_code_normalize("ABC_DEFG", out, sizeof out), -1);
    assert_int_equal(mv_invite_code_normalize("ABC\tDEFG", out, sizeof out),
                     -1);
    assert_int_equal(mv_invite_code_normalize("ABCD\xC3\xA9"
                                              "FG",
                                              out, sizeof out),
                     -1);
    assert_int_equal(mv_invite_code_normalize(NULL, out, sizeof out), -1);
    assert_int_equal(mv_invite_code_normalize("ABCDEFGH", small, sizeof small),
                     -1);
}

static void test_uuid_v4_has_version_and_variant_bits(void **state)
{
    char u[37], back[37];
    int round;

    (void)state;
    for (round = 0; round < 200; round++) {
        mv_uuid_v4(u);
        assert_int_equal(strlen(u), 36);
        assert_int_equal(u[8], '-');
        assert_int_equal(u[13], '-');
        assert_int_equal(u[18], '-');
        assert_int_equal(u[23], '-');
        assert_int_equal(u[14], '4');
        assert_non_null(strchr("89ab", u[19]));
        assert_true(mv_uuid_parse(u, back));
        assert_string_equal(u, back); /* lowercase */
    }
}

static void test_uuid_v4_values_are_distinct(void **state)
{
    char a[37], b[37];

    (void)state;
    mv_uuid_v4(a);
    mv_uuid_v4(b);
    assert_string_not_equal(a, b);
}

static void test_uuid_parse_accepts_upper_case_and_lowercases(void **state)
{
    char out[37];

    (void)state;
    assert_true(mv_uuid_parse("3F2504E0-4F89-41D3-9A0C-0305E82C3301", out));
    assert_string_equal(out, "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    assert_true(mv_uuid_parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301", NULL));
}

static void test_uuid_parse_rejects_wrong_length_and_non_hex(void **state)
{
    char out[37];

    (void)state;
    /* 35 and 37 characters */
    assert_false(mv_uuid_parse("3f2504e0-4f89-41d3-9a0c-0305e82c330", out));
    assert_false(mv_uuid_parse("3f2504e0-4f89-41d3-9a0c-0305e82c33011", out));
    assert_false(mv_uuid_parse("3f2504e0-4f89-41d3-9a0c-0305e82c330g", out));
    assert_false(mv_uuid_parse("3f2504e0a4f89-41d3-9a0c-0305e82c3301", out));
    assert_false(mv_uuid_parse("3f2504e04f8941d39a0c0305e82c3301", out));
    assert_false(mv_uuid_parse("{3f2504e0-4f89-41d3-9a0c-0305e82c330}", out));
    assert_false(mv_uuid_parse(" 3f2504e0-4f89-41d3-9a0c-0305e82c330", out));
    assert_false(mv_uuid_parse("", out));
    assert_false(mv_uuid_parse(NULL, out));
}

static void test_otp_is_six_decimal_digits(void **state)
{
    char otp[7];
    int round, i;

    (void)state;
    for (round = 0; round < 500; round++) {
        memset(otp, 'x', sizeof otp);
        mv_otp_generate(otp);
        assert_int_equal(strlen(otp), 6);
        for (i = 0; i < 6; i++) {
            assert_true(otp[i] >= '0' && otp[i] <= '9');
        }
    }
}

static void test_opaque_token_is_43_base64url_chars_and_distinct(void **state)
{
    char a[MV_OPAQUE_TOKEN_LEN + 1], b[MV_OPAQUE_TOKEN_LEN + 1];
    unsigned char bin[64];
    size_t binlen = 0, i;

    (void)state;
    mv_opaque_token(a);
    mv_opaque_token(b);
    assert_int_equal(strlen(a), 43);
    assert_int_equal(strlen(b), 43);
    assert_string_not_equal(a, b);
    for (i = 0; i < 43; i++) {
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "abcdefghijklmnopqrstuvwxyz0123456789-_",
                               a[i]));
    }
    assert_int_equal(
        sodium_base642bin(bin, sizeof bin, a, 43, NULL, &binlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING),
        0);
    assert_int_equal(binlen, 32);
}

static void test_keyed_hash_matches_hmac_sha256_vectors(void **state)
{
    char hex[MV_HASH_HEX_LEN + 1];
    const char *fox = "The quick brown fox jumps over the lazy dog";
    unsigned char longkey[100];

    (void)state;
    /* RFC-style well-known vector (also: openssl dgst -sha256 -hmac key) */
    mv_keyed_hash_hex((const unsigned char *)"key", 3, fox, strlen(fox), hex);
    assert_string_equal(hex, "f7bc83f430538424b13298e6aa6fb143"
                             "ef4d59a14946175997479dbc2d1a3cd8");

    mv_keyed_hash_hex((const unsigned char *)"mocaverse-test-key", 18,
                      "refresh-token-value", 19, hex);
    assert_string_equal(hex, "dc58bb3d26deef8516310990cd473a11"
                             "730bcb1b8662e4cab6bbda71b857b12c");

    mv_keyed_hash_hex((const unsigned char *)"key", 3, "", 0, hex);
    assert_string_equal(hex, "5d5d139563c95b5967b9bd9a8c9b233a"
                             "9dedb45072794cd232dc1b74832607d0");

    /* key longer than the SHA-256 block is hashed first */
    memset(longkey, 'k', sizeof longkey);
    mv_keyed_hash_hex(longkey, sizeof longkey, "long key", 8, hex);
    assert_string_equal(hex, "5903eedefe0bba3f15b658715e41d71f"
                             "1848739bddf19e497e968df5723dcd56");
}

static void test_ct_equal_compares_content_and_length(void **state)
{
    (void)state;
    assert_true(mv_ct_equal("admin-key-123456", 16, "admin-key-123456", 16));
    assert_false(mv_ct_equal("admin-key-123456", 16, "admin-key-123457", 16));
    assert_false(mv_ct_equal("Xdmin-key-123456", 16, "admin-key-123456", 16));
    assert_false(mv_ct_equal("admin-key-123456", 16, "admin-key-12345", 15));
    assert_false(mv_ct_equal("admin-key-1234560", 17, "admin-key-123456", 16));
    assert_false(mv_ct_equal("", 0, "a", 1));
    assert_true(mv_ct_equal("", 0, "", 0));
    assert_true(mv_ct_equal(NULL, 0, "", 0));
    assert_false(mv_ct_equal(NULL, 3, "abc", 3));
    /* embedded NUL bytes are content, not terminators */
    assert_false(mv_ct_equal("ab\0c", 4, "ab\0d", 4));
    assert_true(mv_ct_equal("ab\0c", 4, "ab\0c", 4));
}

static void test_password_hash_round_trip_is_argon2id(void **state)
{
    char hash[MV_PASSWORD_HASH_MAX];
    const char *pw = "correct horse battery staple";

    (void)state;
    assert_int_equal(mv_password_hash(pw, strlen(pw), TEST_OPS, TEST_MEM, hash),
                     0);
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_true(mv_password_verify(hash, pw, strlen(pw)));
}

static void test_password_verify_refuses_wrong_password(void **state)
{
    char hash[MV_PASSWORD_HASH_MAX];
    const char *pw = "correct horse battery staple";

    (void)state;
    assert_int_equal(mv_password_hash(pw, strlen(pw), TEST_OPS, TEST_MEM, hash),
                     0);
    assert_false(mv_password_verify(hash, "correct horse battery stapl", 27));
    assert_false(
        mv_password_verify(hash, "Correct horse battery staple", strlen(pw)));
    assert_false(mv_password_verify(hash, "", 0));
    /* length is explicit: a prefix of the right password is refused */
    assert_false(mv_password_verify(hash, pw, strlen(pw) - 1));
}

static void test_password_hashes_are_salted(void **state)
{
    char h1[MV_PASSWORD_HASH_MAX], h2[MV_PASSWORD_HASH_MAX];

    (void)state;
    assert_int_equal(mv_password_hash("password", 8, TEST_OPS, TEST_MEM, h1),
                     0);
    assert_int_equal(mv_password_hash("password", 8, TEST_OPS, TEST_MEM, h2),
                     0);
    assert_string_not_equal(h1, h2);
    assert_true(mv_password_verify(h2, "password", 8));
}

static void test_password_verify_refuses_non_argon2id_strings(void **state)
{
    char argon2i[crypto_pwhash_STRBYTES];
    char junk[300];

    (void)state;
    assert_int_equal(crypto_pwhash_str_alg(argon2i, "password", 8, 3, TEST_MEM,
                                           crypto_pwhash_ALG_ARGON2I13),
                     0);
    assert_false(mv_password_verify(argon2i, "password", 8));
    assert_false(mv_password_verify("", "password", 8));
    assert_false(mv_password_verify("$argon2id$garbage", "password", 8));
    assert_false(mv_password_verify(NULL, "password", 8));
    memset(junk, 'a', sizeof junk - 1);
    junk[sizeof junk - 1] = '\0';
    memcpy(junk, "$argon2id$", 10);
    assert_false(mv_password_verify(junk, "password", 8));
}

static void test_password_hash_refuses_out_of_range_cost(void **state)
{
    char hash[MV_PASSWORD_HASH_MAX];

    (void)state;
    assert_int_equal(mv_password_hash("password", 8, 0, TEST_MEM, hash), -1);
    assert_int_equal(mv_password_hash("password", 8, TEST_OPS, 1024, hash), -1);
    assert_string_equal(hash, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invite_code_uses_alphabet_and_requested_length),
        cmocka_unit_test(
            test_invite_alphabet_has_32_symbols_without_lookalikes),
        cmocka_unit_test(test_invite_codes_cover_the_whole_alphabet),
        cmocka_unit_test(
            test_invite_normalize_drops_spaces_dashes_and_uppercases),
        cmocka_unit_test(test_invite_normalize_rejects_lookalike_letters),
        cmocka_unit_test(test_invite_normalize_rejects_bad_lengths_and_chars),
        cmocka_unit_test(test_uuid_v4_has_version_and_variant_bits),
        cmocka_unit_test(test_uuid_v4_values_are_distinct),
        cmocka_unit_test(test_uuid_parse_accepts_upper_case_and_lowercases),
        cmocka_unit_test(test_uuid_parse_rejects_wrong_length_and_non_hex),
        cmocka_unit_test(test_otp_is_six_decimal_digits),
        cmocka_unit_test(test_opaque_token_is_43_base64url_chars_and_distinct),
        cmocka_unit_test(test_keyed_hash_matches_hmac_sha256_vectors),
        cmocka_unit_test(test_ct_equal_compares_content_and_length),
        cmocka_unit_test(test_password_hash_round_trip_is_argon2id),
        cmocka_unit_test(test_password_verify_refuses_wrong_password),
        cmocka_unit_test(test_password_hashes_are_salted),
        cmocka_unit_test(test_password_verify_refuses_non_argon2id_strings),
        cmocka_unit_test(test_password_hash_refuses_out_of_range_cost),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
