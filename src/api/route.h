/*
 * route.h — HTTP routing as a pure function: a method and a path against a table of routes.
 *
 * A route's pattern is a path whose segments are literal or "{}" (one non-empty segment,
 * captured). The first route of the request's method (HEAD: also GET) whose pattern matches
 * the path is the answer; a path matched only by routes of other methods is 405 (with the
 * methods it has); anything else is 404. Paths are compared byte for byte (no decoding, no
 * trailing-slash folding): "/v1/models/" is not "/v1/models".
 */
#ifndef OCTO_API_ROUTE_H
#define OCTO_API_ROUTE_H

#include <stddef.h>

#define OCTO_ROUTE_CAPTURES_MAX 4
#define OCTO_ROUTE_PATH_MAX 2048 /* longer paths never match */

struct octo_route {
    const char *method; /* "GET", "POST", ... */
    const char *pattern;
    int id; /* what the caller dispatches on */
};

struct octo_route_match {
    int id;
    size_t n_captures;
    struct {
        const char *p; /* into the path */
        size_t len;
    } captures[OCTO_ROUTE_CAPTURES_MAX];
    char allow[64]; /* 405: the methods the path has, "GET, POST" */
};

enum octo_route_lookup {
    OCTO_ROUTE_FOUND = 0,
    OCTO_ROUTE_NOT_FOUND = 404,
    OCTO_ROUTE_BAD_METHOD = 405,
};

enum octo_route_lookup octo_route_find(const struct octo_route *routes, size_t n,
                                       const char *method, const char *path,
                                       struct octo_route_match *m);

#endif
