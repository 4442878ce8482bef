/*
 * mv_router.h — path matching for the route table.  Pure C: no httpd,
 * so the unit tests link it alone.
 */
#ifndef MV_ROUTER_H
#define MV_ROUTER_H

#include <stddef.h>

#define MV_ROUTE_MAX_PARAMS 4

/* A slice of the matched path: a parameter's text is path[off, off+len). */
typedef struct {
    size_t off;
    size_t len;
} mv_span;

/*
 * Matches path against pattern segment by segment; a "{name}" segment of
 * the pattern matches any one non-empty segment of the path and is stored
 * in params in order.  Returns the number of parameters (>= 0) on a match,
 * -1 otherwise.  Neither string is modified.
 */
int mv_path_match(const char *pattern, const char *path,
                  mv_span params[MV_ROUTE_MAX_PARAMS]);

/*
 * Strips base (a <Location> prefix without trailing slash) from uri.
 * Returns the route-relative path ("/" at least), or NULL when uri is not
 * under base.  The result points into uri.
 */
const char *mv_path_relative(const char *base, const char *uri);

#endif
