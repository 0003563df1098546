/*
 * sbx_util.h — helpers shared by the sandbox and warm-pool tests: an output capture for
 * octo_sandbox_spec.on_output and a count of this process's leftover sandbox cgroups.
 * Header-only (static functions): each test binary is one .c file.
 */
#ifndef OCTO_TEST_SBX_UTIL_H
#define OCTO_TEST_SBX_UTIL_H

#include "exec/cgroup.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CAP_OUT 65536

struct capture {
    char out[CAP_OUT];
    size_t out_len;
    char err[CAP_OUT];
    size_t err_len;
};

/* octo_sandbox_output_fn: appends to ctx (a struct capture), NUL-terminated, truncating. */
static void capture_fn(void *ctx, int stream, const uint8_t *data, size_t len)
{
    struct capture *c = ctx;
    char *buf = stream == 1 ? c->out : c->err;
    size_t *l = stream == 1 ? &c->out_len : &c->err_len;
    size_t take = len < CAP_OUT - 1 - *l ? len : CAP_OUT - 1 - *l;
    memcpy(buf + *l, data, take);
    *l += take;
    buf[*l] = '\0';
}

/* Counts "octo-sbx-<our pid>-*" directories left in our cgroup bases (other processes, such
 * as the escape suite running in parallel, have their own); -1 if the layout is unreadable. */
static int leftover_cgroups(void)
{
    struct octo__cgroup_layout l;
    if (octo__cgroup_layout_load(&l) != 0)
        return -1;
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "octo-sbx-%d-", (int)getpid());
    int n = 0;
    for (size_t i = 0; i < OCTO__CG_SLOTS; i++) {
        if (l.base[i][0] == '\0')
            continue;
        DIR *d = opendir(l.base[i]);
        if (d == NULL)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, prefix, (size_t)plen) == 0)
                n++;
        }
        closedir(d);
    }
    return n;
}

#endif
