/*
 * pool.c — the warm pool (pool.h): a FIFO of prepared sandboxes kept full by one refill thread.
 *
 * The refill thread owns every preparation (it is the parent of the prepared sandboxes, whose
 * PR_SET_PDEATHSIG is tied to the thread that cloned them) and every teardown of a used one, so
 * that neither costs the caller of octo_sandbox_pool_run anything: a run takes the oldest ready
 * sandbox under the mutex, runs it outside the mutex, puts it on the spent list and wakes the
 * thread. The thread loops: tear down the spent ones, prepare until count == max, sleep on the
 * condition variable. A failed preparation is counted, remembered (pool->error, reason) and
 * retried after REFILL_BACKOFF_MS, so a transient failure does not spin; runs meanwhile go cold.
 *
 * The template's bind strings are copied into one heap block (struct octo__pool_template), so
 * the caller's template need not outlive init.
 */
#include "exec/pool.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define REFILL_BACKOFF_MS 200

struct octo__pool_template {
    struct octo_sandbox_spec spec;
    bool started; /* started mode: argv/envp/cwd below are the waiting command's */
    char src[OCTO_SANDBOX_BINDS_MAX][OCTO_SANDBOX_PATH_MAX];
    char dst[OCTO_SANDBOX_BINDS_MAX][OCTO_SANDBOX_PATH_MAX];
    const char *argv[OCTO_SANDBOX_ARGS_MAX + 1];
    const char *envp[OCTO_SANDBOX_ENV_MAX + 1];
    char *strings; /* one heap block behind argv, envp and cwd */
};

static const char *const template_argv[] = {"true", NULL};

static struct timespec deadline_in(uint64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (ms % 1000u) * 1000000u;
    ts.tv_sec += (time_t)(ms / 1000u + ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return ts;
}

/* Copies a NULL-terminated list (at most max entries) into dst, its strings at *at. */
static void list_copy(const char *const *in, const char **dst, char **at)
{
    size_t i = 0;
    for (; in[i] != NULL; i++) {
        size_t n = strlen(in[i]) + 1;
        memcpy(*at, in[i], n);
        dst[i] = *at;
        *at += n;
    }
    dst[i] = NULL;
}

static size_t list_bytes(const char *const *in, size_t max, bool *ok)
{
    size_t n = 0, i = 0;
    for (; in != NULL && in[i] != NULL && i <= max; i++)
        n += strnlen(in[i], OCTO__SANDBOX_TASK_MAX) + 1;
    if (i > max || n > OCTO__SANDBOX_TASK_MAX)
        *ok = false;
    return n;
}

/* Started mode: the command the sandboxes start, copied (strings in one heap block). */
static int template_command(struct octo__pool_template *t, const struct octo_sandbox_spec *in)
{
    if (in->argv == NULL || in->argv[0] == NULL)
        return OCTO_EINVAL;
    bool ok = true;
    size_t cwd_len = in->cwd != NULL ? strnlen(in->cwd, OCTO_SANDBOX_PATH_MAX) + 1 : 0;
    size_t total = list_bytes(in->argv, OCTO_SANDBOX_ARGS_MAX, &ok) +
                   list_bytes(in->envp, OCTO_SANDBOX_ENV_MAX, &ok) + cwd_len;
    if (!ok || cwd_len > OCTO_SANDBOX_PATH_MAX)
        return OCTO_EINVAL;
    t->strings = octo_malloc(total + 1);
    if (t->strings == NULL)
        return OCTO_ENOMEM;
    char *at = t->strings;
    list_copy(in->argv, t->argv, &at);
    t->spec.argv = t->argv;
    if (in->envp != NULL) {
        list_copy(in->envp, t->envp, &at);
        t->spec.envp = t->envp;
    }
    if (in->cwd != NULL) {
        memcpy(at, in->cwd, cwd_len);
        t->spec.cwd = at;
    }
    return 0;
}

/* Copies the parts of the template a preparation uses; argv is a placeholder unless the pool
 * starts the template's command. */
static int template_copy(struct octo__pool_template *t, const struct octo_sandbox_spec *in)
{
    memset(&t->spec, 0, sizeof(t->spec));
    t->spec.argv = template_argv;
    if (t->started) {
        int rc = template_command(t, in);
        if (rc != 0)
            return rc;
    }
    t->spec.net = in->net;
    t->spec.limits = in->limits;
    if (in->binds_count > OCTO_SANDBOX_BINDS_MAX)
        return OCTO_EINVAL;
    for (size_t i = 0; i < in->binds_count; i++) {
        const struct octo_sandbox_bind *b = &in->binds[i];
        if (b->src == NULL || b->dst == NULL ||
            strnlen(b->src, OCTO_SANDBOX_PATH_MAX) >= OCTO_SANDBOX_PATH_MAX ||
            strnlen(b->dst, OCTO_SANDBOX_PATH_MAX) >= OCTO_SANDBOX_PATH_MAX)
            return OCTO_EINVAL;
        memcpy(t->src[i], b->src, strlen(b->src) + 1);
        memcpy(t->dst[i], b->dst, strlen(b->dst) + 1);
        t->spec.binds[i] = (struct octo_sandbox_bind){t->src[i], t->dst[i], b->writable};
    }
    t->spec.binds_count = in->binds_count;
    /* the same checks as a run (paths, limits), on the copy */
    int rc = octo__sandbox_warm_accepts(&t->spec, t->started, &t->spec);
    return rc == OCTO_EUNSUPPORTED ? OCTO_EINVAL : rc;
}

/* Tears down the spent sandboxes (called by the refill thread, mutex held on entry and exit). */
static void teardown_spent(struct octo_sandbox_pool *pool)
{
    while (pool->spent_count > 0) {
        struct octo__sandbox_warm *w = pool->spent[--pool->spent_count];
        pthread_mutex_unlock(&pool->mu);
        octo__sandbox_warm_discard(w);
        pthread_mutex_lock(&pool->mu);
    }
}

static bool full(const struct octo_sandbox_pool *pool)
{
    return pool->count >= pool->max && pool->spent_count == 0;
}

static void *refill_main(void *arg)
{
    struct octo_sandbox_pool *pool = arg;
    pthread_mutex_lock(&pool->mu);
    while (!pool->stop) {
        teardown_spent(pool);
        if (pool->count >= pool->max) {
            pthread_cond_broadcast(&pool->cv); /* full: wake octo_sandbox_pool_wait_full */
            while (!pool->stop && pool->count >= pool->max && pool->spent_count == 0)
                pthread_cond_wait(&pool->cv, &pool->mu);
            continue;
        }
        pthread_mutex_unlock(&pool->mu);
        struct octo__sandbox_warm *w = NULL;
        char reason[sizeof(pool->reason)];
        reason[0] = '\0';
        int rc = octo__sandbox_warm_prepare(&pool->tmpl->spec, pool->tmpl->started, &w, reason,
                                            sizeof(reason));
        pthread_mutex_lock(&pool->mu);
        if (rc == 0 && !pool->stop && pool->count < pool->max) {
            pool->ready[pool->count++] = w;
            pool->stats.prepared++;
            pthread_cond_broadcast(&pool->cv);
            continue;
        }
        if (rc == 0) { /* stopping (or no room): not needed */
            pthread_mutex_unlock(&pool->mu);
            octo__sandbox_warm_discard(w);
            pthread_mutex_lock(&pool->mu);
            continue;
        }
        pool->stats.prepare_failures++;
        pool->error = rc;
        memcpy(pool->reason, reason, sizeof(reason));
        pthread_cond_broadcast(&pool->cv);
        struct timespec until = deadline_in(REFILL_BACKOFF_MS);
        if (!pool->stop)
            (void)pthread_cond_timedwait(&pool->cv, &pool->mu, &until);
    }
    teardown_spent(pool);
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

static int pool_init(struct octo_sandbox_pool *pool, size_t max,
                     const struct octo_sandbox_spec *template_spec, bool started)
{
    OCTO_ASSERT(pool != NULL && template_spec != NULL);
    memset(pool, 0, sizeof(*pool));
    if (max == 0 || max > OCTO_SANDBOX_POOL_MAX)
        return OCTO_EINVAL;
    /* Binds are fixed when a sandbox is prepared, and a host path may name another directory
     * (a new tenant's) by the time the task comes: prepared sandboxes carry no binds, and a
     * spec with binds runs cold (octo__sandbox_warm_accepts). */
    if (template_spec->binds_count > 0) {
        snprintf(pool->reason, sizeof(pool->reason), "a pool template has no binds");
        return OCTO_EUNSUPPORTED;
    }
    pool->tmpl = octo_calloc(1, sizeof(*pool->tmpl));
    if (pool->tmpl == NULL)
        return OCTO_ENOMEM;
    pool->tmpl->started = started;
    int rc = template_copy(pool->tmpl, template_spec);
    if (rc != 0) {
        octo_free(pool->tmpl->strings);
        octo_free(pool->tmpl);
        pool->tmpl = NULL;
        return rc;
    }
    pool->max = max;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    if (pthread_create(&pool->refill, NULL, refill_main, pool) != 0) {
        octo_sandbox_pool_deinit(pool);
        return OCTO_ENOMEM;
    }
    pool->started = true;
    pthread_mutex_lock(&pool->mu);
    struct timespec until = deadline_in(OCTO_SANDBOX_POOL_FILL_MS);
    rc = 0;
    while (pool->count < pool->max && pool->error == 0 && rc == 0)
        rc = pthread_cond_timedwait(&pool->cv, &pool->mu, &until);
    int err = pool->error;
    bool filled = pool->count >= pool->max;
    pthread_mutex_unlock(&pool->mu);
    if (filled)
        return 0;
    char reason[sizeof(pool->reason)];
    memcpy(reason, pool->reason, sizeof(reason));
    octo_sandbox_pool_deinit(pool);
    memcpy(pool->reason, reason, sizeof(reason));
    return err != 0 ? err : OCTO_ETIMEDOUT;
}

int octo_sandbox_pool_init(struct octo_sandbox_pool *pool, size_t max,
                           const struct octo_sandbox_spec *template_spec)
{
    return pool_init(pool, max, template_spec, false);
}

int octo_sandbox_pool_init_started(struct octo_sandbox_pool *pool, size_t max,
                                   const struct octo_sandbox_spec *template_spec)
{
    return pool_init(pool, max, template_spec, true);
}

/* Takes the oldest ready sandbox, or NULL when none is ready. */
static struct octo__sandbox_warm *take(struct octo_sandbox_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    struct octo__sandbox_warm *w = NULL;
    if (pool->count > 0) {
        w = pool->ready[0];
        memmove(&pool->ready[0], &pool->ready[1], (pool->count - 1) * sizeof(pool->ready[0]));
        pool->count--;
    } else {
        pool->stats.cold_empty++;
    }
    pthread_mutex_unlock(&pool->mu);
    return w;
}

/* Hands a used sandbox to the refill thread and counts the run. */
static void give_back(struct octo_sandbox_pool *pool, struct octo__sandbox_warm *w, bool ran)
{
    pthread_mutex_lock(&pool->mu);
    bool room = pool->spent_count < OCTO_SANDBOX_POOL_MAX;
    if (room)
        pool->spent[pool->spent_count++] = w;
    if (ran)
        pool->stats.warm_runs++;
    else
        pool->stats.cold_unusable++;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    if (!room) /* many runs ended while the thread was busy: tear this one down here */
        octo__sandbox_warm_discard(w);
}

int octo_sandbox_pool_run(struct octo_sandbox_pool *pool, const struct octo_sandbox_spec *spec,
                          struct octo_sandbox_result *out)
{
    OCTO_ASSERT(pool != NULL && pool->started && out != NULL);
    int rc = octo__sandbox_warm_accepts(&pool->tmpl->spec, pool->tmpl->started, spec);
    if (rc == OCTO_EINVAL)
        return rc;
    if (rc != 0) {
        pthread_mutex_lock(&pool->mu);
        pool->stats.cold_mismatch++;
        pthread_mutex_unlock(&pool->mu);
        return octo_sandbox_run(spec, out);
    }
    struct octo__sandbox_warm *w = take(pool);
    if (w == NULL)
        return octo_sandbox_run(spec, out);
    rc = octo__sandbox_warm_run(w, spec, out);
    give_back(pool, w, rc == 0);
    if (rc == OCTO_EAGAIN)
        return octo_sandbox_run(spec, out);
    return rc;
}

int octo_sandbox_pool_wait_full(struct octo_sandbox_pool *pool, uint64_t timeout_ms)
{
    OCTO_ASSERT(pool != NULL && pool->started);
    struct timespec until = deadline_in(timeout_ms);
    pthread_mutex_lock(&pool->mu);
    int rc = 0;
    while (!full(pool) && rc == 0)
        rc = pthread_cond_timedwait(&pool->cv, &pool->mu, &until);
    bool ok = full(pool);
    pthread_mutex_unlock(&pool->mu);
    return ok ? 0 : OCTO_ETIMEDOUT;
}

void octo_sandbox_pool_stats(struct octo_sandbox_pool *pool, struct octo_sandbox_pool_stats *st)
{
    OCTO_ASSERT(pool != NULL && pool->started && st != NULL);
    pthread_mutex_lock(&pool->mu);
    *st = pool->stats;
    st->ready = pool->count;
    pthread_mutex_unlock(&pool->mu);
}

void octo_sandbox_pool_deinit(struct octo_sandbox_pool *pool)
{
    if (pool == NULL || pool->tmpl == NULL)
        return;
    if (pool->started) {
        pthread_mutex_lock(&pool->mu);
        pool->stop = true;
        pthread_cond_broadcast(&pool->cv);
        pthread_mutex_unlock(&pool->mu);
        pthread_join(pool->refill, NULL);
        pool->started = false;
    }
    /* The thread is gone (its children got PDEATHSIG); kill, reap and remove them anyway. */
    for (size_t i = 0; i < pool->count; i++)
        octo__sandbox_warm_discard(pool->ready[i]);
    for (size_t i = 0; i < pool->spent_count; i++)
        octo__sandbox_warm_discard(pool->spent[i]);
    pool->count = pool->spent_count = 0;
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
    octo_free(pool->tmpl->strings);
    octo_free(pool->tmpl);
    pool->tmpl = NULL;
}
