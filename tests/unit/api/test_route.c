/*
 * test_route.c — the route table: literal and captured segments, 404 and 405 with Allow,
 * HEAD answered by GET routes, and paths that must not match (prefixes, trailing slashes,
 * empty captures).
 */
#include "api/route.h"
#include "test.h"

#include <string.h>

static const struct octo_route routes[] = {
    {"GET", "/v1/models", 1},       {"POST", "/v1/chat/completions", 2},
    {"GET", "/api/v1/tasks/{}", 3}, {"DELETE", "/api/v1/tasks/{}", 4},
    {"GET", "/api/v1/{}/x/{}", 5},  {"GET", "/", 6},
};
#define N (sizeof(routes) / sizeof(routes[0]))

static void test_found(void)
{
    struct octo_route_match m;
    CHECK_EQ_INT(octo_route_find(routes, N, "GET", "/v1/models", &m), OCTO_ROUTE_FOUND);
    CHECK_EQ_INT(m.id, 1);
    CHECK_EQ_INT(m.n_captures, 0);
    CHECK_EQ_INT(octo_route_find(routes, N, "HEAD", "/v1/models", &m), OCTO_ROUTE_FOUND);
    CHECK_EQ_INT(octo_route_find(routes, N, "GET", "/api/v1/tasks/abc123", &m), OCTO_ROUTE_FOUND);
    CHECK_EQ_INT(m.id, 3);
    CHECK_EQ_INT(m.n_captures, 1);
    CHECK(m.captures[0].len == 6 && memcmp(m.captures[0].p, "abc123", 6) == 0);
    CHECK_EQ_INT(octo_route_find(routes, N, "DELETE", "/api/v1/tasks/abc", &m), OCTO_ROUTE_FOUND);
    CHECK_EQ_INT(m.id, 4);
    CHECK_EQ_INT(octo_route_find(routes, N, "GET", "/api/v1/a/x/b", &m), OCTO_ROUTE_FOUND);
    CHECK_EQ_INT(m.id, 5);
    CHECK_EQ_INT(m.n_captures, 2);
    CHECK(m.captures[1].len == 1 && m.captures[1].p[0] == 'b');
    CHECK_EQ_INT(octo_route_find(routes, N, "GET", "/", &m), OCTO_ROUTE_FOUND);
    CHECK_EQ_INT(m.id, 6);
}

static void test_not_found(void)
{
    struct octo_route_match m;
    static const char *const paths[] = {"/v1/model",
                                        "/v1/models/",
                                        "/v1/modelsx",
                                        "/api/v1/tasks/",
                                        "/api/v1/tasks/a/b",
                                        "/api/v1/tasks",
                                        "",
                                        "//",
                                        "/api/v1//x/b",
                                        "/v1/chat/completions?x"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        CHECK_EQ_INT(octo_route_find(routes, N, "GET", paths[i], &m), OCTO_ROUTE_NOT_FOUND);
        CHECK_EQ_INT(m.id, -1);
    }
    char long_path[OCTO_ROUTE_PATH_MAX + 10];
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    CHECK_EQ_INT(octo_route_find(routes, N, "GET", long_path, &m), OCTO_ROUTE_NOT_FOUND);
}

static void test_bad_method(void)
{
    struct octo_route_match m;
    CHECK_EQ_INT(octo_route_find(routes, N, "GET", "/v1/chat/completions", &m),
                 OCTO_ROUTE_BAD_METHOD);
    CHECK(strcmp(m.allow, "POST") == 0);
    CHECK_EQ_INT(octo_route_find(routes, N, "PUT", "/api/v1/tasks/7", &m), OCTO_ROUTE_BAD_METHOD);
    CHECK(strcmp(m.allow, "GET, HEAD, DELETE") == 0);
    CHECK_EQ_INT(octo_route_find(routes, N, "HEAD", "/v1/chat/completions", &m),
                 OCTO_ROUTE_BAD_METHOD);
}

int main(void)
{
    OCTO_RUN(test_found);
    OCTO_RUN(test_not_found);
    OCTO_RUN(test_bad_method);
    return octo_test_finish();
}
