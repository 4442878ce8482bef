/*
 * fuzz_router.c - mv_path_match and mv_path_relative on hostile paths.
 * Input: "pattern\npath" (seeds from tests/unit/test_router.c).
 * Properties: a match's parameters are non-empty, '/'-free slices of the
 * path, and the pattern with its {name} segments replaced by them is the
 * path again; a relative path is a suffix of the uri after the base.
 */
#include "fuzz.h"
#include "mv_router.h"

/* The pattern with each {name} segment replaced by its parameter; out
 * has room for strlen(pattern) + strlen(path) + 1 bytes. */
static void fill_in(const char *pattern, const char *path,
                    const mv_span *params, char *out)
{
    const char *p = pattern;
    int n = 0;

    while (*p) {
        size_t seg = strcspn(p + 1, "/") + 1; /* with its leading '/' */

        /* "{name}" as mv_path_match sees it: '{', '}', 2 bytes at least */
        if (seg > 2 && p[1] == '{' && p[seg - 1] == '}') {
            *out++ = '/';
            memcpy(out, path + params[n].off, params[n].len);
            out += params[n].len;
            n++;
        } else {
            memcpy(out, p, seg);
            out += seg;
        }
        p += seg;
    }
    *out = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mv_span params[MV_ROUTE_MAX_PARAMS];
    char *pattern, *path, *again;
    const char *rel;
    int n;

    mv_fuzz_split(data, size, &pattern, &path);
    n = mv_path_match(pattern, path, params);
    MV_FUZZ_CHECK(n >= -1 && n <= MV_ROUTE_MAX_PARAMS);
    if (n >= 0) {
        for (int i = 0; i < n; i++) {
            MV_FUZZ_CHECK(params[i].len > 0);
            MV_FUZZ_CHECK(params[i].off + params[i].len <= strlen(path));
            MV_FUZZ_CHECK(memchr(path + params[i].off, '/', params[i].len) ==
                          NULL);
        }
        again = malloc(strlen(pattern) + strlen(path) + 1);
        MV_FUZZ_CHECK(again != NULL);
        fill_in(pattern, path, params, again);
        MV_FUZZ_CHECK(strcmp(again, path) == 0);
        free(again);
    }

    /* The first line as a <Location> base, the second as the uri. */
    rel = mv_path_relative(pattern, path);
    if (rel != NULL) {
        size_t blen = strlen(pattern);

        MV_FUZZ_CHECK(rel[0] == '/');
        MV_FUZZ_CHECK(strncmp(path, pattern, blen) == 0);
        MV_FUZZ_CHECK(path[blen] == '\0' ? strcmp(rel, "/") == 0
                                         : rel == path + blen);
    }
    free(pattern);
    free(path);
    return 0;
}
