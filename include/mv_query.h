/*
 * mv_query.h - reading one parameter of a URL query string
 * ("limit=20&before=981"), pure logic without httpd/APR.
 */
#ifndef MV_QUERY_H
#define MV_QUERY_H

#include <stddef.h>

/*
 * Looks for the parameter `name` in args (the part after '?', without it;
 * NULL or "" is an empty query).  Keys and values are percent-decoded,
 * '+' meaning a space.  Returns:
 *    1  found: the decoded value + NUL is in the caller's out;
 *    0  absent (out = "");
 *   -1  unusable (out = ""): given more than once, a malformed %-escape
 *       or a %00 in its value, or a value longer than outsz - 1 bytes.
 * A pair whose key cannot be decoded is not `name` and is skipped.
 */
int mv_query_get(const char *args, const char *name, char *out, size_t outsz);

#endif /* MV_QUERY_H */
