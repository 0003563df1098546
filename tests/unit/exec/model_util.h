/*
 * model_util.h — helpers for the inference tests of the exec module: writes a generated GGUF
 * (infer/gentest.h) of a shape and weight type under $OCTO_TEST_TMP (or /tmp), named after the
 * caller's tag and the process id so parallel tests never share one (the same arguments give
 * the same bytes); collects generated token ids; and gives a loopback port where connections
 * are refused.
 */
#ifndef OCTO_TEST_MODEL_UTIL_H
#define OCTO_TEST_MODEL_UTIL_H

#include "infer/gentest.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int model_util_sink(void *ctx, const void *p, size_t n)
{
    return fwrite(p, 1, n, ctx) == n ? 0 : OCTO_EIO;
}

/* Writes the model (with chat_template as its tokenizer.chat_template unless NULL) to
 * path[0..size); a failure is a failed check. */
static inline void model_util_write_tmpl(const char *tag, const char *shape, uint32_t type,
                                         uint64_t seed, const char *chat_template, char *path,
                                         size_t size)
{
    const char *tmp = getenv("OCTO_TEST_TMP");
    if (tmp != NULL)
        (void)mkdir(tmp, 0755);
    snprintf(path, size, "%s/%s-%s-%u-%d.gguf", tmp != NULL ? tmp : "/tmp", tag, shape, type,
             (int)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    struct octo_gentest_params p = {.shape = octo_gentest_shape_find(shape),
                                    .weight_type = type,
                                    .seed = seed,
                                    .chat_template = chat_template};
    CHECK(p.shape != NULL);
    int rc = p.shape != NULL ? octo_gentest_write(&p, model_util_sink, f, NULL, 0) : OCTO_EINVAL;
    CHECK(rc == 0);
    CHECK(fclose(f) == 0);
}

static inline void model_util_write(const char *tag, const char *shape, uint32_t type,
                                    uint64_t seed, char *path, size_t size)
{
    model_util_write_tmpl(tag, shape, type, seed, NULL, path, size);
}

/* Token ids as a generation's callback (octo_infer_token_fn) receives them. */
#define MODEL_UTIL_IDS_MAX 256u
struct model_util_ids {
    uint32_t v[MODEL_UTIL_IDS_MAX];
    size_t n;
};

static inline int model_util_collect(void *ctx, uint32_t tok)
{
    struct model_util_ids *c = ctx;
    if (c->n < MODEL_UTIL_IDS_MAX)
        c->v[c->n++] = tok;
    return 0;
}

/* A loopback TCP socket that is bound but does not listen, and the base URL of an
 * OpenAI-compatible server there ("http://127.0.0.1:PORT/v1") into url[0..size): connections
 * to it are refused (unlike a fixed port such as 9, where something may listen) for as long as
 * *fd stays open. A failure is a failed check. */
static inline void model_util_refused_url(int *fd, char *url, size_t size)
{
    url[0] = '\0';
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(*fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    CHECK(bind(*fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(getsockname(*fd, (struct sockaddr *)&a, &alen) == 0);
    snprintf(url, size, "http://127.0.0.1:%d/v1", (int)ntohs(a.sin_port));
}

#endif
