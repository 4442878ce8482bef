/*
 * fuzz_rfc3339.c - RFC 3339 times: mv_rfc3339_parse, mv_rfc3339_format and
 * mv_pg_time_rfc3339 (PostgreSQL's timestamptz text).
 * Input: any bytes (seeds from tests/unit/test_json.c).
 * Properties (round trips, over the range of SPEC §3: years 0001-9999):
 *  - a time that parses formats as 20 characters that parse back to the
 *    same instant, fraction dropped (a leap second is the next minute's
 *    first second);
 *  - the first 8 bytes as an instant within that range format into text
 *    that parses back to it;
 *  - PostgreSQL text accepted by mv_pg_time_rfc3339 gives 20 characters
 *    that parse, and its fast path writes what parsing the text as
 *    RFC 3339 would.
 */
#include "fuzz.h"
#include "mv_json.h"

#define USEC 1000000LL
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds. */
#define FIRST_SECOND (-62135596800LL)
#define LAST_SECOND 253402300799LL

/* The whole seconds of usec (rounded down, as the text has them). */
static int64_t seconds_of(int64_t usec)
{
    return usec / USEC - (usec % USEC < 0);
}

/* Formats usec into a heap buffer of exactly MV_RFC3339_LEN + 1 bytes and
 * checks the text parses back to usec's second; the text into copy. */
static void format_round_trip(int64_t usec, char copy[MV_RFC3339_LEN + 1])
{
    char *out = malloc(MV_RFC3339_LEN + 1);
    int64_t back;

    MV_FUZZ_CHECK(out != NULL);
    memset(out, 'x', MV_RFC3339_LEN + 1);
    mv_rfc3339_format(usec, out);
    MV_FUZZ_CHECK(memchr(out, '\0', MV_RFC3339_LEN + 1) ==
                  out + MV_RFC3339_LEN);
    MV_FUZZ_CHECK(mv_rfc3339_parse(out, &back) == 0);
    MV_FUZZ_CHECK(back == seconds_of(usec) * USEC);
    memcpy(copy, out, MV_RFC3339_LEN + 1);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = mv_fuzz_cstring(data, size);
    char text[MV_RFC3339_LEN + 1];
    char *pg = malloc(MV_RFC3339_LEN + 1);
    int64_t usec;

    MV_FUZZ_CHECK(pg != NULL);
    if (mv_rfc3339_parse(s, &usec) == 0) {
        format_round_trip(usec, text);
    }

    if (size >= sizeof usec) {
        memcpy(&usec, data, sizeof usec);
        if (seconds_of(usec) >= FIRST_SECOND &&
            seconds_of(usec) <= LAST_SECOND) {
            format_round_trip(usec, text);
        }
    }

    if (mv_pg_time_rfc3339((const char *)data, size, pg) == 0) {
        int64_t back;
        char *offset = malloc(size + sizeof ":00");

        MV_FUZZ_CHECK(memchr(pg, '\0', MV_RFC3339_LEN + 1) ==
                      pg + MV_RFC3339_LEN);
        MV_FUZZ_CHECK(mv_rfc3339_parse(pg, &back) == 0);
        /* The same text read as RFC 3339 ("+00" -> "+00:00") gives the
         * same second, whichever path mv_pg_time_rfc3339 took. */
        MV_FUZZ_CHECK(offset != NULL);
        memcpy(offset, data, size);
        memcpy(offset + size, ":00", sizeof ":00");
        MV_FUZZ_CHECK(mv_rfc3339_parse(offset, &usec) == 0);
        format_round_trip(usec, text);
        MV_FUZZ_CHECK(strcmp(text, pg) == 0);
        free(offset);
    }
    free(pg);
    free(s);
    return 0;
}
