/* Unit tests of the JSON field, error-body and time helpers and of the
 * JSON text writer (src/core/json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
    assert_int_equal(mv_rfc3339_format(t, out), 0);
    assert_string_equal(out, "2026-11-21T14:03:00Z");
    assert_int_equal(mv_rfc3339_parse("2026-11-21T15:03:00+01:00", &t), 0);
    assert_int_equal(mv_rfc3339_format(t, out), 0);
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
    assert_int_equal(mv_rfc3339_parse("2026-11-21T14:03:00+0100", &t), -1);
    assert_int_equal(mv_rfc3339_parse("2026-11-21T14:03:00+1:00x", &t), -1);
}

/* The time s parses to, formatted again; "refused" when parsing fails
 * (static buffer). */
static const char *reparsed(const char *s)
{
    static char out[MV_RFC3339_LEN + 1];
    int64_t t;

    if (mv_rfc3339_parse(s, &t) != 0) {
        return "refused";
    }
    assert_int_equal(mv_rfc3339_format(t, out), 0);
    return out;
}

static void rfc3339_leap_second_is_the_next_second(void **state)
{
    (void)state;
    assert_string_equal(reparsed("2016-12-31T23:59:60Z"),
                        "2017-01-01T00:00:00Z");
    assert_string_equal(reparsed("9999-12-31T23:59:60Z"), "refused");
}

static void rfc3339_offsets_stop_at_23_59(void **state)
{
    (void)state;
    assert_string_equal(reparsed("2026-11-21T23:59:00+23:59"),
                        "2026-11-21T00:00:00Z");
    assert_string_equal(reparsed("2026-11-21T00:00:00-23:59"),
                        "2026-11-21T23:59:00Z");
    assert_string_equal(reparsed("2026-11-21T00:00:00+24:00"), "refused");
    assert_string_equal(reparsed("2026-11-21T00:00:00-24:00"), "refused");
    assert_string_equal(reparsed("2026-11-21T00:00:00+23:60"), "refused");
    assert_string_equal(reparsed("2026-11-21T00:00:00+99:99"), "refused");
}

/* Years 0001-9999 hold for the instant, once the offset is applied. */
static void rfc3339_year_range_is_checked_after_the_offset(void **state)
{
    (void)state;
    assert_string_equal(reparsed("9999-12-31T23:59:59Z"),
                        "9999-12-31T23:59:59Z");
    assert_string_equal(reparsed("9999-12-31T23:59:59.999999Z"),
                        "9999-12-31T23:59:59Z");
    assert_string_equal(reparsed("9999-12-31T23:59:59-01:00"), "refused");
    assert_string_equal(reparsed("9999-12-31T23:59:59-00:01"), "refused");
    assert_string_equal(reparsed("9999-12-31T22:59:59-01:00"),
                        "9999-12-31T23:59:59Z");
    assert_string_equal(reparsed("0001-01-01T00:00:00Z"),
                        "0001-01-01T00:00:00Z");
    assert_string_equal(reparsed("0001-01-01T00:00:00+00:01"), "refused");
    assert_string_equal(reparsed("0001-01-01T00:30:00+01:00"), "refused");
    assert_string_equal(reparsed("0001-01-01T01:00:00+01:00"),
                        "0001-01-01T00:00:00Z");
    assert_string_equal(reparsed("0000-12-31T23:59:59Z"), "refused");
    assert_string_equal(reparsed("0000-12-31T23:59:59-00:01"),
                        "0001-01-01T00:00:59Z");
    assert_string_equal(reparsed("1969-12-31T23:59:59.5Z"),
                        "1969-12-31T23:59:59Z");
}

/* Formatting checks its range and agrees with gmtime over years 1-9999. */
static void rfc3339_format_is_checked_and_agrees_with_gmtime(void **state)
{
    const int64_t first = INT64_C(-62135596800), last = INT64_C(253402300799);
    char out[MV_RFC3339_LEN + 1], want[40];
    struct tm tm;
    time_t t;
    (void)state;
    assert_int_equal(mv_rfc3339_format((last + 1) * 1000000, out), -1);
    assert_int_equal(mv_rfc3339_format(first * 1000000 - 1, out), -1);
    assert_int_equal(mv_rfc3339_format(INT64_MIN, out), -1);
    assert_int_equal(mv_rfc3339_format(INT64_MAX, out), -1);
    srand(7);
    for (int64_t s = first; s <= last; s += 86400 * 97 + rand() % 86400) {
        t = (time_t)s;
        gmtime_r(&t, &tm);
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
        assert_int_equal(mv_rfc3339_format(s * 1000000 + 999999, out), 0);
        if (strcmp(out, want) != 0) {
            fail_msg("%lld gave %s, not %s", (long long)s, out, want);
        }
        assert_string_equal(reparsed(want), want);
    }
}

/* mv_pg_time_rfc3339 on a NUL-terminated s: the result, or NULL for -1
 * (static buffer). */
static const char *pg_time(const char *s)
{
    static char out[MV_RFC3339_LEN + 1];

    return mv_pg_time_rfc3339(s, strlen(s), out) == 0 ? out : NULL;
}

static void pg_time_rewrites_utc_iso_text(void **state)
{
    (void)state;
    assert_string_equal(pg_time("2026-11-21 14:03:00.123456+00"),
                        "2026-11-21T14:03:00Z");
    assert_string_equal(pg_time("2026-11-21 14:03:00+00"),
                        "2026-11-21T14:03:00Z");
    assert_string_equal(pg_time("2026-11-21 14:03:59.9+00"),
                        "2026-11-21T14:03:59Z");
    assert_string_equal(pg_time("2026-12-31 23:59:59.999999+00"),
                        "2026-12-31T23:59:59Z");
    assert_string_equal(pg_time("1970-01-01 00:00:00+00"),
                        "1970-01-01T00:00:00Z");
    assert_string_equal(pg_time("2024-02-29 12:00:00+00"),
                        "2024-02-29T12:00:00Z");
    assert_string_equal(pg_time("2000-02-29 12:00:00+00"),
                        "2000-02-29T12:00:00Z");
    assert_string_equal(pg_time("9999-12-31 23:59:59+00"),
                        "9999-12-31T23:59:59Z");
    assert_string_equal(pg_time("1969-12-31 23:59:59+00"),
                        "1969-12-31T23:59:59Z");
    assert_string_equal(pg_time("0001-01-01 00:00:00+00"),
                        "0001-01-01T00:00:00Z");
}

static void pg_time_converts_other_offsets(void **state)
{
    (void)state;
    assert_string_equal(pg_time("2026-11-21 15:03:00+01"),
                        "2026-11-21T14:03:00Z");
    assert_string_equal(pg_time("2026-11-21 22:03:00.5-08"),
                        "2026-11-22T06:03:00Z");
    /* Seven fraction digits: not PostgreSQL's shape, still a time. */
    assert_string_equal(pg_time("2026-11-21 14:03:00.1234567+00"),
                        "2026-11-21T14:03:00Z");
    /* A leap second is carried into the next minute, as before. */
    assert_string_equal(pg_time("2026-12-31 23:59:60+00"),
                        "2027-01-01T00:00:00Z");
}

static void pg_time_refuses_what_is_no_time_in_years_1_to_9999(void **state)
{
    static const char *bad[] = {
        "",
        "infinity",
        "-infinity",
        "0044-03-15 12:00:00+00 BC",
        "12026-01-01 00:00:00+00",
        "2026-02-29 00:00:00+00",
        "1900-02-29 00:00:00+00",
        "2026-04-31 00:00:00+00",
        "2026-13-01 00:00:00+00",
        "2026-00-10 00:00:00+00",
        "2026-11-00 00:00:00+00",
        "2026-11-21 24:00:00+00",
        "2026-11-21 14:60:00+00",
        "2026-11-21 14:03:00+05:30",
        "2026-11-21 14:03:00.+00",
        "2026-11-21 14:03:00",
        "2026-11-21T14:03:00+0x",
        "2026-11-21 14:03:0a+00",
        "2026/11/21 14:03:00+00",
        "2026-11-21 14:03:00+00junk",
        "2026-11-21 14:03:00.12a456+00",
        "'; DROP TABLE ledger;--+00",
    };
    char nul[] = "2026-11-21 14:03:00+00";
    char out[MV_RFC3339_LEN + 1];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (pg_time(bad[i])) {
            fail_msg("accepted \"%s\" as %s", bad[i], pg_time(bad[i]));
        }
    }
    /* A NUL inside the given length is no time either. */
    nul[13] = '\0';
    assert_int_equal(mv_pg_time_rfc3339(nul, sizeof nul - 1, out), -1);
    /* Only len bytes are read: a prefix is judged alone. */
    assert_int_equal(mv_pg_time_rfc3339("2026-11-21 14:03:00+00", 19, out), -1);
}

/* Every second-aligned shape PostgreSQL writes, across leap years and
 * month ends, agrees with gmtime. */
static void pg_time_agrees_with_gmtime(void **state)
{
    static const char *fractions[] = {"",      ".5",     ".25",    ".123",
                                      ".1234", ".12345", ".123456"};
    char pg[40], want[MV_RFC3339_LEN + 1];
    const char *got;
    struct tm tm;
    time_t t;
    (void)state;
    srand(6);
    /* Every 7,919 s + a random part from 1970 to 2200. */
    for (int64_t s = 0; s < INT64_C(7258118400); s += 7919 + rand() % 86400) {
        t = (time_t)s;
        gmtime_r(&t, &tm);
        snprintf(pg, sizeof pg, "%04d-%02d-%02d %02d:%02d:%02d%s+00",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, fractions[s % 7]);
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
        got = pg_time(pg);
        if (!got || strcmp(got, want) != 0) {
            fail_msg("%s gave %s, not %s", pg, got ? got : "-1", want);
        }
    }
}

/* What the writer wrote, NUL-terminated (static buffer). */
static char written[1024];
static mv_json_buf writer(size_t cap)
{
    mv_json_buf b;

    assert_true(cap < sizeof written);
    memset(written, '#', sizeof written);
    mv_json_buf_init(&b, written, cap);
    return b;
}
static const char *text(const mv_json_buf *b)
{
    written[mv_json_buf_len(b, written)] = '\0';
    return written;
}

/* mv_json_put_string writes what json_dumps writes for the same string. */
static void string_is_escaped_as_jansson_does(void **state)
{
    static const char *const samples[] = {
        "adjustment",
        "",
        "quote\" backslash\\ slash/",
        "tab\tnl\ncr\r",
        "\b\f\x01\x1f\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "\xe2\x80\xa8 line separator",
        "<script>'</script>",
    };
    char all[32];
    (void)state;
    for (size_t i = 0; i <= sizeof samples / sizeof *samples; i++) {
        const char *s = samples[i % (sizeof samples / sizeof *samples)];
        size_t n = strlen(s);
        json_t *j;
        char *want;
        mv_json_buf b = writer(MV_JSON_STRING_MAX(32));

        if (i == sizeof samples / sizeof *samples) {
            /* Every control character, NUL included. */
            for (n = 0; n < sizeof all; n++) {
                all[n] = (char)n;
            }
            s = all;
        }
        j = json_stringn(s, n);
        want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        mv_json_put_string(&b, s, n);
        assert_false(b.failed);
        assert_string_equal(text(&b), want);
        free(want);
        json_decref(j);
    }
}

static void string_refuses_invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "\xc3", "a\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "\xff"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mv_json_buf b = writer(64);

        mv_json_put_string(&b, bad[i], strlen(bad[i]));
        assert_true(b.failed);
        assert_int_equal(mv_json_buf_len(&b, written), 0);
    }
}

static void int_text_is_copied_only_when_an_int64(void **state)
{
    static const char *const good[] = {
        "0", "7", "-1", "120", "9223372036854775807", "-9223372036854775808"};
    static const char *const bad[] = {"",
                                      "-",
                                      "01",
                                      "-0",
                                      "+1",
                                      "1.0",
                                      "1e3",
                                      " 1",
                                      "1 ",
                                      "0x1",
                                      "null",
                                      "9223372036854775808",
                                      "-9223372036854775809",
                                      "9999999999999999999",
                                      "12345678901234567890"};
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        mv_json_buf b = writer(32);

        mv_json_put_int_text(&b, good[i], strlen(good[i]));
        assert_false(b.failed);
        assert_string_equal(text(&b), good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mv_json_buf b = writer(32);

        mv_json_put_int_text(&b, bad[i], strlen(bad[i]));
        if (!b.failed) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
        assert_int_equal(mv_json_buf_len(&b, written), 0);
    }
}

static void int_is_written_in_decimal(void **state)
{
    static const int64_t values[] = {
        0, 1, -1, 42, 1000000, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    char want[32];
    (void)state;
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        mv_json_buf b = writer(MV_JSON_INT_MAX);

        mv_json_put_int(&b, values[i]);
        assert_false(b.failed);
        snprintf(want, sizeof want, "%" PRId64, values[i]);
        assert_string_equal(text(&b), want);
    }
}

/* A put that does not fit writes nothing, and nothing after it does. */
static void writer_stops_at_its_end(void **state)
{
    mv_json_buf b = writer(10);
    (void)state;
    mv_json_put_raw(&b, "[1,", 3);
    mv_json_put_string(&b, "ab", 2); /* up to 14 bytes: no room */
    assert_true(b.failed);
    mv_json_put_raw(&b, "]", 1);
    mv_json_put_int(&b, 5);
    assert_string_equal(text(&b), "[1,");
    assert_int_equal(written[3], '\0');
    assert_int_equal(written[10], '#');
    /* Exactly full is fine. */
    b = writer(MV_JSON_INT_MAX + 2);
    mv_json_put_raw(&b, "[", 1);
    mv_json_put_int(&b, INT64_MIN);
    mv_json_put_raw(&b, "]", 1);
    assert_false(b.failed);
    assert_string_equal(text(&b), "[-9223372036854775808]");
    mv_json_put_raw(&b, "x", 1);
    assert_true(b.failed);
    assert_int_equal(written[MV_JSON_INT_MAX + 2], '\0');
}

/* A document written piece by piece is what jansson writes for it. */
static void written_document_matches_json_dumps(void **state)
{
    json_t *doc =
        json_pack("{s:I, s:I, s:[{s:I, s:s, s:n}], s:n}", "userId",
                  (json_int_t)12, "balance", (json_int_t)-3, "transactions",
                  "id", (json_int_t)9007199254740993LL, "type", "adj\"ustment",
                  "couponId", "nextBefore");
    char *want = json_dumps(doc, JSON_COMPACT);
    mv_json_buf b = writer(256);
    (void)state;
    mv_json_put_raw(&b, "{\"userId\":", 10);
    mv_json_put_int(&b, 12);
    mv_json_put_raw(&b, ",\"balance\":", 11);
    mv_json_put_int_text(&b, "-3", 2);
    mv_json_put_raw(&b, ",\"transactions\":[{\"id\":", 23);
    mv_json_put_int_text(&b, "9007199254740993", 16);
    mv_json_put_raw(&b, ",\"type\":", 8);
    mv_json_put_string(&b, "adj\"ustment", 11);
    mv_json_put_raw(&b, ",\"couponId\":null}],\"nextBefore\":null}", 37);
    assert_false(b.failed);
    assert_string_equal(text(&b), want);
    free(want);
    json_decref(doc);
}

/* A time cut off inside its offset is refused without reading past the
 * end: each text is a heap copy of exactly its size, so make test-asan
 * reports a read beyond it (fuzz_rfc3339 found one in a rewrite of the
 * offset parsing that read the ':' before knowing the hour was there). */
static void rfc3339_cut_offset_is_read_no_further(void **state)
{
    static const char *const cut[] = {
        "2026-11-21T14:03:00+",     "2026-11-21T14:03:00+1",
        "2026-11-21T14:03:00-12",   "2026-11-21T14:03:00+12:",
        "2026-11-21T14:03:00+12:3", "2026-11-21T14:03:00.5-0",
    };
    int64_t t = 0;

    (void)state;
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        char *s = strdup(cut[i]);

        assert_non_null(s);
        assert_int_equal(mv_rfc3339_parse(s, &t), -1);
        free(s);
    }
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
        cmocka_unit_test(rfc3339_leap_second_is_the_next_second),
        cmocka_unit_test(rfc3339_offsets_stop_at_23_59),
        cmocka_unit_test(rfc3339_year_range_is_checked_after_the_offset),
        cmocka_unit_test(rfc3339_format_is_checked_and_agrees_with_gmtime),
        cmocka_unit_test(pg_time_rewrites_utc_iso_text),
        cmocka_unit_test(pg_time_converts_other_offsets),
        cmocka_unit_test(pg_time_refuses_what_is_no_time_in_years_1_to_9999),
        cmocka_unit_test(pg_time_agrees_with_gmtime),
        cmocka_unit_test(string_is_escaped_as_jansson_does),
        cmocka_unit_test(string_refuses_invalid_utf8),
        cmocka_unit_test(int_text_is_copied_only_when_an_int64),
        cmocka_unit_test(int_is_written_in_decimal),
        cmocka_unit_test(writer_stops_at_its_end),
        cmocka_unit_test(written_document_matches_json_dumps),
        cmocka_unit_test(rfc3339_cut_offset_is_read_no_further),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
