/*
 * model_util.h — for the exec tests that need a model file: writes a generated GGUF
 * (infer/gentest.h) of a shape and weight type under $OCTO_TEST_TMP (or /tmp), named after the
 * caller's tag and the process id so parallel tests never share one.
 */
#ifndef OCTO_TEST_MODEL_UTIL_H
#define OCTO_TEST_MODEL_UTIL_H

#include "infer/gentest.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
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

#endif
