/*
 * route.c — method and path against the route table (route.h).
 */
#include "api/route.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Does path match pattern? Captures go into m (when non-NULL). */
static bool match(const char *pattern, const char *path, struct octo_route_match *m)
{
    size_t nc = 0;
    const char *p = pattern, *s = path;
    while (*p != '\0' && *s != '\0') {
        if (p[0] == '{' && p[1] == '}') {
            size_t len = strcspn(s, "/");
            if (len == 0 || nc == OCTO_ROUTE_CAPTURES_MAX)
                return false;
            if (m != NULL) {
                m->captures[nc].p = s;
                m->captures[nc].len = len;
            }
            nc++;
            p += 2;
            s += len;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*p != '\0' || *s != '\0')
        return false;
    if (m != NULL)
        m->n_captures = nc;
    return true;
}

static void allow_add(struct octo_route_match *m, const char *method)
{
    if (strstr(m->allow, method) != NULL)
        return;
    size_t used = strlen(m->allow);
    int n = snprintf(m->allow + used, sizeof(m->allow) - used, "%s%s", used ? ", " : "", method);
    if (n < 0 || (size_t)n >= sizeof(m->allow) - used)
        m->allow[used] = '\0'; /* does not fit: left out */
}

enum octo_route_lookup octo_route_find(const struct octo_route *routes, size_t n,
                                       const char *method, const char *path,
                                       struct octo_route_match *m)
{
    memset(m, 0, sizeof(*m));
    m->id = -1;
    if (path == NULL || method == NULL || strlen(path) > OCTO_ROUTE_PATH_MAX)
        return OCTO_ROUTE_NOT_FOUND;
    bool exists = false;
    for (size_t i = 0; i < n; i++) {
        if (!match(routes[i].pattern, path, NULL))
            continue;
        exists = true;
        if (strcmp(routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            (void)match(routes[i].pattern, path, m);
            m->id = routes[i].id;
            m->allow[0] = '\0';
            return OCTO_ROUTE_FOUND;
        }
        allow_add(m, routes[i].method);
        if (strcmp(routes[i].method, "GET") == 0)
            allow_add(m, "HEAD"); /* answered by GET routes */
    }
    return exists ? OCTO_ROUTE_BAD_METHOD : OCTO_ROUTE_NOT_FOUND;
}
