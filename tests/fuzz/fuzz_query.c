/*
 * fuzz_query.c - mv_query_get on hostile query strings.
 * Input: "args\nname" (seeds from tests/unit/test_query.c).
 * Properties: the result is -1, 0 or 1; out is always NUL-terminated
 * inside outsz and "" unless found; a value found with a large buffer is
 * found the same with a buffer just big enough for it, and is refused
 * (-1) by one a byte smaller; absent or unusable does not depend on the
 * buffer.
 */
#include "fuzz.h"
#include "mv_query.h"

#define BIG 512

/* mv_query_get into a heap buffer of exactly outsz bytes (so ASan sees a
 * write past it); the value is copied to copy (BIG bytes). */
static int get(const char *args, const char *name, size_t outsz, char *copy)
{
    char *out = malloc(outsz ? outsz : 1);
    int r;

    MV_FUZZ_CHECK(out != NULL);
    memset(out, 'x', outsz);
    r = mv_query_get(args, name, out, outsz);
    MV_FUZZ_CHECK(r >= -1 && r <= 1);
    if (outsz > 0) {
        MV_FUZZ_CHECK(memchr(out, '\0', outsz) != NULL);
        MV_FUZZ_CHECK(r == 1 || out[0] == '\0');
        snprintf(copy, BIG, "%s", out);
    } else {
        MV_FUZZ_CHECK(r == -1);
    }
    free(out);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *args, *name;
    char value[BIG], again[BIG];
    int r;

    mv_fuzz_split(data, size, &args, &name);
    r = get(args, name, BIG, value);
    if (r == 1) {
        size_t n = strlen(value);

        MV_FUZZ_CHECK(get(args, name, n + 1, again) == 1);
        MV_FUZZ_CHECK(strcmp(value, again) == 0);
        MV_FUZZ_CHECK(get(args, name, n, again) == -1);
    } else {
        /* Absent or unusable whatever the buffer. */
        MV_FUZZ_CHECK(get(args, name, 1, again) == r);
    }
    get(args, name, 0, again);
    free(args);
    free(name);
    return 0;
}
