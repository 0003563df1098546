/*
 * inference.c — the built-in backend: model in memory, worker pool, generation loop
 * (inference.h). The loop itself (octo_infer_drive) and the timing figures are shared with the
 * llama.cpp backend, which supplies its own sample and step functions.
 *
 * The pool: a dispatch publishes (fn, arg, rows), sets `pending` to the worker count and bumps
 * the generation counter; the caller and every worker take chunks of rows from a shared
 * counter until none are left (see chunk_for), then each worker decrements `pending`; the
 * caller waits until it reaches zero. Waiting is a short busy-wait (SPIN_PAUSES), then
 * sched_yield (so a peer that lost its CPU to another process gets it back quickly), and for
 * idle workers, after SPIN_NS, a sleep on the condition variable (counted in `sleepers`, so a
 * dispatch only signals when someone sleeps).
 */
#include "exec/inference.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <errno.h>
#include <fcntl.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SPIN_NS 2000000u  /* how long an idle worker waits before it sleeps */
#define SPIN_PAUSES 4096u /* busy-wait iterations before yielding the CPU instead */

uint64_t octo_infer_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the model file ---- */

/* The file is read into anonymous memory of our own rather than mapped: the weights are then
 * backed by transparent huge pages where the kernel offers them (MADV_HUGEPAGE; the region is
 * aligned to HUGE_PAGE for that), which spares the matrix-vector kernels a TLB miss every 4 KiB
 * (they read every weight once per token; huge pages made a cold Q4_0 matvec about a quarter
 * faster here), and a file truncated or rewritten later can no longer fault the reader. The
 * cost is one read of the file at open and the model's size in anonymous memory, which the
 * kernel cannot evict as it can a mapped file's pages: a model must fit in memory (open fails
 * with OCTO_ENOMEM, or the kernel's OOM handling steps in, rather than paging from the file). */
#define HUGE_PAGE ((size_t)2 << 20)
#define READ_CHUNK ((size_t)64 << 20)

static size_t map_len(size_t len)
{
    return (len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
}

/* An anonymous region of map_len(len) bytes aligned to HUGE_PAGE, or NULL. */
static uint8_t *alloc_aligned(size_t len)
{
    size_t n = map_len(len);
    uint8_t *p =
        mmap(NULL, n + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    size_t head = (size_t)(a - (uintptr_t)p);
    if (head > 0)
        munmap(p, head);
    munmap((uint8_t *)a + n, HUGE_PAGE - head); /* never empty: head < HUGE_PAGE */
#ifdef MADV_HUGEPAGE
    (void)madvise((void *)a, n, MADV_HUGEPAGE); /* advice only: without THP, 4 KiB pages */
#endif
    return (uint8_t *)a;
}

static int load_file(struct octo_infer_model *m, int fd, const char *path)
{
    uint8_t *buf = alloc_aligned(m->len);
    if (buf == NULL) {
        snprintf(m->reason, sizeof(m->reason), "%s: cannot allocate %zu bytes: %s", path, m->len,
                 strerror(errno));
        m->len = 0;
        return OCTO_ENOMEM;
    }
    m->map = buf;
    size_t off = 0;
    while (off < m->len) {
        size_t want = m->len - off < READ_CHUNK ? m->len - off : READ_CHUNK;
        ssize_t got = pread(fd, buf + off, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            snprintf(m->reason, sizeof(m->reason), "%s: read: %s", path,
                     got == 0 ? "the file shrank while it was read" : strerror(errno));
            return OCTO_EIO;
        }
        off += (size_t)got;
    }
    (void)mprotect(buf, map_len(m->len), PROT_READ); /* the weights are never written */
    return 0;
}

int octo_infer_open(struct octo_infer_model *m, const char *path)
{
    OCTO_ASSERT(m != NULL && path != NULL);
    memset(m, 0, sizeof(*m));
    octo_gguf_init(&m->gguf);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        snprintf(m->reason, sizeof(m->reason), "%s: %s", path, strerror(e));
        if (fd >= 0)
            close(fd);
        octo_infer_close(m);
        return e == ENOENT ? OCTO_ENOTFOUND : e == EACCES ? OCTO_EPERM : OCTO_EIO;
    }
    int rc = OCTO_EMALFORMED;
    if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
        snprintf(m->reason, sizeof(m->reason), "%s: not a regular, non-empty file", path);
    } else if ((uint64_t)st.st_size > (uint64_t)(SIZE_MAX - 2 * HUGE_PAGE)) {
        snprintf(m->reason, sizeof(m->reason), "%s: too large for this address space", path);
        rc = OCTO_ETOOBIG;
    } else {
        m->len = (size_t)st.st_size;
        rc = load_file(m, fd, path);
    }
    close(fd); /* on success everything is in memory now */
    if (rc != 0) {
        octo_infer_close(m);
        return rc;
    }
    rc = octo_gguf_parse(&m->gguf, m->map, m->len);
    if (rc != 0) {
        snprintf(m->reason, sizeof(m->reason), "%s: %s", path, m->gguf.reason);
        octo_infer_close(m);
        return rc;
    }
    char why[OCTO_LLAMA_REASON_MAX];
    rc = octo_llama_load(&m->llama, &m->gguf, why, sizeof(why));
    if (rc != 0) {
        snprintf(m->reason, sizeof(m->reason), "%s: %s", path, why);
        octo_infer_close(m);
    }
    return rc;
}

void octo_infer_close(struct octo_infer_model *m)
{
    if (m == NULL)
        return;
    octo_llama_unload(&m->llama);
    octo_gguf_deinit(&m->gguf);
    if (m->map != NULL)
        munmap((void *)(uintptr_t)m->map, map_len(m->len));
    m->map = NULL;
    m->len = 0;
}

/* ---- the worker pool ---- */

struct worker_arg;

struct octo_infer_pool {
    pthread_t th[OCTO_INFER_THREADS_MAX];
    struct worker_arg *args; /* one per worker */
    uint32_t workers;        /* threads - 1 */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;
    atomic_uint pending;
    atomic_uint sleepers;
    atomic_bool stop;
    octo_llama_range_fn fn;
    void *arg;
    size_t rows;
    size_t chunk;       /* rows taken at a time (chunk_for) */
    atomic_size_t next; /* the first row nobody has taken yet */
};

struct worker_arg {
    struct octo_infer_pool *p;
    uint32_t index; /* 1..workers (the caller is 0) */
};

/* Rows are taken in chunks from a shared counter rather than split in fixed shares, so a
 * thread slowed by another process (or a busy core) does not hold the others back: about 8
 * chunks per thread, multiples of 4 rows, at least 16. Fewer than CHUNK_FEW rows (attention's
 * 12 to 64 heads, a tiny model's matrices) are split evenly, one share per thread, so that no
 * thread waits while one takes them all (the 16-row minimum gave 12 heads to one thread).
 * Rows are independent, so who computes which row never changes a result. */
#define CHUNK_FEW 64u
static size_t chunk_for(size_t rows, uint32_t threads)
{
    if (rows < CHUNK_FEW)
        return (rows + threads - 1) / threads;
    size_t c = rows / ((size_t)threads * 8u);
    c = (c + 3u) & ~(size_t)3u;
    return c < 16u ? 16u : c;
}

static void run_chunks(struct octo_infer_pool *p)
{
    for (;;) {
        size_t r0 = atomic_fetch_add_explicit(&p->next, p->chunk, memory_order_relaxed);
        if (r0 >= p->rows)
            return;
        size_t r1 = p->rows - r0 < p->chunk ? p->rows : r0 + p->chunk;
        p->fn(p->arg, r0, r1);
    }
}

/* Waits for a generation other than seen; returns it (or the current one when stopping). */
static unsigned wait_gen(struct octo_infer_pool *p, unsigned seen)
{
    uint64_t until = octo_infer_now_ns() + SPIN_NS;
    for (unsigned spins = 0;; spins++) {
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (g != seen || atomic_load(&p->stop))
            return g;
        if (spins < SPIN_PAUSES) {
            CPU_RELAX();
            continue;
        }
        if (octo_infer_now_ns() < until) {
            sched_yield(); /* a descheduled peer (an oversubscribed CPU) gets to run */
            continue;
        }
        pthread_mutex_lock(&p->mu);
        atomic_fetch_add(&p->sleepers, 1);
        while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
            pthread_cond_wait(&p->cv, &p->mu);
        atomic_fetch_sub(&p->sleepers, 1);
        pthread_mutex_unlock(&p->mu);
        until = octo_infer_now_ns() + SPIN_NS;
    }
}

static void *worker_main(void *arg)
{
    struct worker_arg *w = arg;
    struct octo_infer_pool *p = w->p;
    unsigned seen = 0;
    for (;;) {
        seen = wait_gen(p, seen);
        if (atomic_load(&p->stop))
            return NULL;
        run_chunks(p);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

/* octo_llama_parallel_fn: the caller takes chunks with the workers, then waits for them. */
static void pool_parallel(void *ctx, size_t rows, octo_llama_range_fn fn, void *arg)
{
    struct octo_infer_pool *p = ctx;
    p->fn = fn;
    p->arg = arg;
    p->rows = rows;
    p->chunk = chunk_for(rows, p->workers + 1);
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->pending, p->workers, memory_order_relaxed);
    /* seq_cst: pairs with the worker's sleepers++ then gen load (no lost wake-up). */
    atomic_fetch_add(&p->gen, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    run_chunks(p);
    for (unsigned spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire) != 0;
         spins++) {
        if (spins < SPIN_PAUSES)
            CPU_RELAX();
        else
            sched_yield();
    }
}

static void pool_stop(struct octo_infer_pool *p, uint32_t started)
{
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    octo_free(p->args);
    octo_free(p);
}

static int pool_start(struct octo_infer_pool **out, uint32_t threads)
{
    struct octo_infer_pool *p = octo_calloc(1, sizeof(*p));
    if (p == NULL)
        return OCTO_ENOMEM;
    p->workers = threads - 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->args = octo_calloc(p->workers > 0 ? p->workers : 1, sizeof(*p->args));
    if (p->args == NULL) {
        pool_stop(p, 0);
        return OCTO_ENOMEM;
    }
    for (uint32_t i = 0; i < p->workers; i++) {
        p->args[i] = (struct worker_arg){p, i + 1};
        if (pthread_create(&p->th[i], NULL, worker_main, &p->args[i]) != 0) {
            pool_stop(p, i);
            return OCTO_EIO;
        }
    }
    *out = p;
    return 0;
}

/* ---- sessions ---- */

int octo_infer_session_init(struct octo_infer_session *s, const struct octo_infer_model *m,
                            uint32_t threads, uint32_t n_ctx, enum octo_quant_mode mode,
                            const struct octo_sample_params *sp)
{
    OCTO_ASSERT(s != NULL && m != NULL && sp != NULL);
    memset(s, 0, sizeof(*s));
    if (threads == 0 || threads > OCTO_INFER_THREADS_MAX)
        return OCTO_EINVAL;
    s->m = m;
    uint32_t eos = 0;
    s->eos =
        octo_gguf_get_u32(&m->gguf, "tokenizer.ggml.eos_token_id", &eos) == 0 ? eos : UINT32_MAX;
    /* prompts are fed in batches of up to OCTO_LLAMA_BATCH_MAX tokens (no more than fit) */
    uint32_t ctx = n_ctx != 0 ? n_ctx : m->llama.cfg.n_ctx;
    uint32_t batch = ctx < OCTO_LLAMA_BATCH_MAX ? ctx : OCTO_LLAMA_BATCH_MAX;
    int rc = octo_llama_state_init_batch(&s->state, &m->llama, n_ctx, batch > 0 ? batch : 1, mode);
    if (rc == 0)
        rc = octo_sampler_init(&s->sampler, sp, m->llama.cfg.n_vocab);
    if (rc == 0 && threads > 1)
        rc = pool_start(&s->pool, threads);
    if (rc != 0) {
        octo_infer_session_deinit(s);
        return rc;
    }
    if (s->pool != NULL) {
        s->state.parallel = pool_parallel;
        s->state.parallel_ctx = s->pool;
    }
    return 0;
}

void octo_infer_session_deinit(struct octo_infer_session *s)
{
    if (s == NULL)
        return;
    if (s->pool != NULL)
        pool_stop(s->pool, s->pool->workers);
    octo_sampler_deinit(&s->sampler);
    octo_llama_state_deinit(&s->state);
    memset(s, 0, sizeof(*s));
}

void octo_infer_cancel(struct octo_infer_session *s)
{
    atomic_store(&s->cancel, true);
}

static double per_second(uint64_t count, uint64_t ns)
{
    return ns > 0 ? (double)count * 1e9 / (double)ns : 0.0;
}

void octo_infer_stats_finish(struct octo_infer_stats *st, uint64_t t0, uint64_t first,
                             uint64_t last)
{
    if (first != 0)
        st->ttft_ns = first - t0;
    st->generate_ns = first != 0 && st->completion_tokens > 1 ? last - first : 0;
    st->prompt_tps = per_second(st->prompt_tokens, st->prompt_ns);
    st->generate_tps =
        st->completion_tokens > 1 ? per_second(st->completion_tokens - 1, st->generate_ns) : 0.0;
}

int octo_infer_drive(const struct octo_infer_steps *d, size_t n, uint32_t max_tokens, uint64_t t0,
                     octo_infer_token_fn on_token, void *ctx, struct octo_infer_stats *st)
{
    st->prompt_tokens = (uint32_t)n;
    st->prompt_ns = octo_infer_now_ns() - t0;
    uint64_t first = 0;
    uint32_t pos = (uint32_t)n;
    int rc = 0;
    for (uint32_t i = 0; i < max_tokens; i++) {
        uint32_t tok = 0;
        rc = d->sample(d->ctx, &tok);
        if (rc != 0)
            break;
        if (i == 0)
            first = octo_infer_now_ns();
        st->completion_tokens++;
        if (d->is_stop(d->ctx, tok)) {
            st->stopped_eos = true;
            break;
        }
        if (on_token != NULL && on_token(ctx, tok) != 0)
            break;
        if (atomic_exchange(d->cancel, false)) {
            st->cancelled = true;
            break;
        }
        if (i + 1 == max_tokens)
            break;
        if (pos >= d->n_ctx) {
            st->context_full = true;
            break;
        }
        rc = d->step(d->ctx, tok, pos++);
        if (rc == OCTO_INFER_STEP_CANCELLED) {
            st->cancelled = true;
            rc = 0;
            break;
        }
        if (rc != 0)
            break;
    }
    octo_infer_stats_finish(st, t0, first, octo_infer_now_ns());
    return rc;
}

/* The built-in engine's steps: octo's sampler, the session's stop rule, one forward pass. */
static int session_sample(void *ctx, uint32_t *tok)
{
    struct octo_infer_session *s = ctx;
    long t = octo_sampler_sample(&s->sampler, s->state.logits);
    if (t < 0)
        return (int)t;
    octo_sampler_accept(&s->sampler, (uint32_t)t);
    *tok = (uint32_t)t;
    return 0;
}

static bool session_is_stop(void *ctx, uint32_t tok)
{
    const struct octo_infer_session *s = ctx;
    return tok == s->eos || (s->is_stop != NULL && s->is_stop(s->stop_ctx, tok));
}

static int session_step(void *ctx, uint32_t tok, uint32_t pos)
{
    struct octo_infer_session *s = ctx;
    OCTO_DASSERT(s->state.pos == pos);
    (void)pos;
    return octo_llama_forward(&s->state, tok);
}

int octo_infer_generate(struct octo_infer_session *s, const uint32_t *prompt, size_t n,
                        uint32_t max_tokens, octo_infer_token_fn on_token, void *ctx,
                        struct octo_infer_stats *st)
{
    OCTO_ASSERT(s != NULL && st != NULL && (prompt != NULL || n == 0));
    memset(st, 0, sizeof(*st));
    uint32_t vocab = s->m->llama.cfg.n_vocab;
    if (n == 0 || n > s->state.n_ctx)
        return OCTO_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (prompt[i] >= vocab)
            return OCTO_EINVAL;
    }
    octo_llama_reset(&s->state);
    octo_sampler_reset(&s->sampler); /* a reused session draws what a fresh one would */
    uint64_t t0 = octo_infer_now_ns();
    /* The prompt in batches (one pass over the weights per batch, the products split over
     * the pool's threads like a single step's), cancel checked between batches. */
    for (size_t i = 0; i < n;) {
        if (atomic_exchange(&s->cancel, false)) {
            st->cancelled = true;
            return 0;
        }
        uint32_t k = (uint32_t)(n - i < s->state.batch ? n - i : s->state.batch);
        int rc = octo_llama_forward_batch(&s->state, prompt + i, k);
        if (rc != 0)
            return rc;
        for (uint32_t j = 0; j < k; j++)
            octo_sampler_accept(&s->sampler, prompt[i + j]);
        i += k;
    }
    const struct octo_infer_steps steps = {
        .sample = session_sample,
        .is_stop = session_is_stop,
        .step = session_step,
        .ctx = s,
        .cancel = &s->cancel,
        .n_ctx = s->state.n_ctx,
    };
    return octo_infer_drive(&steps, n, max_tokens, t0, on_token, ctx, st);
}
