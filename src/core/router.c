/*
 * router.c — segment-wise path matching with {param} segments.
 */
#include <string.h>

#include "mv_router.h"

/* Length of the segment starting at s (up to the next '/' or the end). */
static size_t segment_len(const char *s)
{
    const char *slash = strchr(s, '/');
    return slash ? (size_t)(slash - s) : strlen(s);
}

int mv_path_match(const char *pattern, const char *path,
                  mv_span params[MV_ROUTE_MAX_PARAMS])
{
    const char *p = pattern, *u = path;
    int n = 0;

    while (*p == '/' && *u == '/') {
        size_t plen, ulen;

        p++;
        u++;
        plen = segment_len(p);
        ulen = segment_len(u);
        if (plen > 1 && p[0] == '{' && p[plen - 1] == '}') {
            if (ulen == 0 || n == MV_ROUTE_MAX_PARAMS) {
                return -1;
            }
            params[n].off = (size_t)(u - path);
            params[n].len = ulen;
            n++;
        } else if (plen != ulen || memcmp(p, u, plen) != 0) {
            return -1;
        }
        p += plen;
        u += ulen;
    }
    return (*p == '\0' && *u == '\0') ? n : -1;
}

const char *mv_path_relative(const char *base, const char *uri)
{
    size_t blen = strlen(base);

    if (strncmp(uri, base, blen) != 0) {
        return NULL;
    }
    uri += blen;
    if (*uri == '\0') {
        return "/";
    }
    return *uri == '/' ? uri : NULL;
}
