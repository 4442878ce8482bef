/*
 * query.c - one parameter of a URL query string (see mv_query.h).
 */
#include "mv_query.h"

#include <string.h>

/* Value of a hex digit, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Percent-decodes s[0..len) into out (outsz bytes, NUL-terminated).
 * Returns the decoded length, or -1 for a malformed escape, a decoded NUL
 * or a result that does not fit.
 */
static long decode(const char *s, size_t len, char *out, size_t outsz)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;
            if (i + 2 >= len) {
                return -1;
            }
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return -1;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= outsz) {
            return -1;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

int mv_query_get(const char *args, const char *name, char *out, size_t outsz)
{
    size_t namelen = strlen(name);
    int found = 0;
    const char *p = args;
    char key[64];

    if (out == NULL || outsz == 0) {
        return -1;
    }
    out[0] = '\0';
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        long kl = decode(p, klen, key, sizeof key);

        if (kl == (long)namelen && memcmp(key, name, namelen) == 0) {
            if (found) {
                out[0] = '\0';
                return -1;
            }
            found = 1;
            if (decode(eq ? eq + 1 : p + plen, eq ? plen - klen - 1 : 0, out,
                       outsz) < 0) {
                out[0] = '\0';
                return -1;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return found;
}
