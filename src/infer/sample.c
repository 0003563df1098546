/*
 * sample.c — token sampling (contract and order of steps: sample.h).
 *
 * Candidates are ordered by (logit descending, id ascending), a total order, so ties never
 * depend on the sort's stability. top-k selects with a bounded min-heap (O(n log k)) before
 * sorting the k winners; without top-k and top-p nothing is sorted and the draw walks ids in
 * order.
 *
 * Non-finite logits: NaN ones are skipped everywhere (OCTO_EINVAL only when all are NaN);
 * greedy compares the raw values; the drawn path counts +-inf as +-FLT_MAX, so a +inf logit is
 * always drawn (several share the draw) and a row of -inf ones is drawn from uniformly.
 */
#include "infer/sample.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "infer/detmath.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void octo_sample_params_default(struct octo_sample_params *p)
{
    OCTO_ASSERT(p != NULL);
    *p = (struct octo_sample_params){.temperature = 0.0f,
                                     .top_k = 0,
                                     .top_p = 1.0f,
                                     .repeat_penalty = 1.0f,
                                     .repeat_last_n = 64,
                                     .seed = 0};
}

bool octo_sample_params_valid(const struct octo_sample_params *p)
{
    return isfinite(p->temperature) && p->temperature >= 0.0f && !isnan(p->top_p) &&
           p->top_p > 0.0f && isfinite(p->repeat_penalty) && p->repeat_penalty > 0.0f &&
           p->repeat_last_n <= OCTO_SAMPLE_REPEAT_MAX;
}

int octo_sampler_init(struct octo_sampler *s, const struct octo_sample_params *p, size_t n_vocab)
{
    OCTO_ASSERT(s != NULL && p != NULL);
    memset(s, 0, sizeof(*s));
    if (n_vocab == 0 || n_vocab > OCTO_SAMPLE_VOCAB_MAX || !octo_sample_params_valid(p))
        return OCTO_EINVAL;
    s->params = *p;
    s->n_vocab = n_vocab;
    octo_rng_init(&s->rng, p->seed);
    s->cand = octo_calloc(n_vocab, sizeof(*s->cand));
    s->seen = octo_calloc(n_vocab, 1);
    s->recent = octo_calloc(p->repeat_last_n > 0 ? p->repeat_last_n : 1, sizeof(*s->recent));
    if (s->cand == NULL || s->seen == NULL || s->recent == NULL) {
        octo_sampler_deinit(s);
        return OCTO_ENOMEM;
    }
    return 0;
}

void octo_sampler_deinit(struct octo_sampler *s)
{
    if (s == NULL)
        return;
    octo_free(s->cand);
    octo_free(s->seen);
    octo_free(s->recent);
    memset(s, 0, sizeof(*s));
}

int octo_sampler_set_params(struct octo_sampler *s, const struct octo_sample_params *p)
{
    OCTO_ASSERT(s != NULL && p != NULL && s->cand != NULL);
    if (!octo_sample_params_valid(p))
        return OCTO_EINVAL;
    if (p->repeat_last_n != s->params.repeat_last_n) {
        uint32_t *recent =
            octo_calloc(p->repeat_last_n > 0 ? p->repeat_last_n : 1, sizeof(*s->recent));
        if (recent == NULL)
            return OCTO_ENOMEM;
        octo_free(s->recent);
        s->recent = recent;
    }
    s->params = *p;
    octo_sampler_reset(s);
    return 0;
}

void octo_sampler_reset(struct octo_sampler *s)
{
    OCTO_ASSERT(s != NULL);
    octo_rng_init(&s->rng, s->params.seed);
    s->recent_len = 0;
    s->recent_at = 0;
}

void octo_sampler_accept(struct octo_sampler *s, uint32_t token)
{
    OCTO_ASSERT(s != NULL);
    uint32_t n = s->params.repeat_last_n;
    if (n == 0 || token >= s->n_vocab)
        return;
    s->recent[s->recent_at] = token;
    s->recent_at = (s->recent_at + 1) % n;
    if (s->recent_len < n)
        s->recent_len++;
}

static void apply_penalty(struct octo_sampler *s, float *logits)
{
    float pen = s->params.repeat_penalty;
    if (pen == 1.0f || s->recent_len == 0)
        return;
    for (size_t i = 0; i < s->recent_len; i++) {
        uint32_t t = s->recent[i];
        if (s->seen[t])
            continue;
        s->seen[t] = 1;
        float v = logits[t] > 0.0f ? logits[t] / pen : logits[t] * pen;
        logits[t] = v > FLT_MAX ? FLT_MAX : v < -FLT_MAX ? -FLT_MAX : v;
    }
    for (size_t i = 0; i < s->recent_len; i++)
        s->seen[s->recent[i]] = 0;
}

/* a ranks before b: higher logit, then lower id. */
static bool before(const struct octo_sample_cand *a, const struct octo_sample_cand *b)
{
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int cand_cmp(const void *pa, const void *pb)
{
    const struct octo_sample_cand *a = pa, *b = pb;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

static long greedy(const struct octo_sampler *s, const float *logits)
{
    long best = -1;
    for (size_t i = 0; i < s->n_vocab; i++) {
        if (isnan(logits[i]))
            continue;
        if (best < 0 || logits[i] > logits[best])
            best = (long)i;
    }
    return best < 0 ? OCTO_EINVAL : best;
}

/* Min-heap on "before" (the root is the weakest kept candidate). */
static void heap_down(struct octo_sample_cand *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && before(&h[m], &h[l]))
            m = l;
        if (r < n && before(&h[m], &h[r]))
            m = r;
        if (m == i)
            return;
        struct octo_sample_cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Keeps the k best of cand[0..n) in cand[0..k), sorted best first. Returns the count kept. */
static size_t top_k(struct octo_sample_cand *cand, size_t n, size_t k)
{
    if (k == 0 || k >= n) {
        qsort(cand, n, sizeof(*cand), cand_cmp);
        return n;
    }
    for (size_t i = k / 2; i-- > 0;)
        heap_down(cand, k, i);
    for (size_t i = k; i < n; i++) {
        if (before(&cand[i], &cand[0])) {
            cand[0] = cand[i];
            heap_down(cand, k, 0);
        }
    }
    qsort(cand, k, sizeof(*cand), cand_cmp);
    return k;
}

long octo_sampler_sample(struct octo_sampler *s, float *logits)
{
    OCTO_ASSERT(s != NULL && logits != NULL);
    apply_penalty(s, logits);
    const struct octo_sample_params *p = &s->params;
    if (p->temperature < OCTO_SAMPLE_GREEDY_TEMP)
        return greedy(s, logits);
    size_t n = 0;
    for (size_t i = 0; i < s->n_vocab; i++) {
        float v = logits[i];
        if (isnan(v))
            continue;
        /* +-inf as +-FLT_MAX (as the penalty clamps): logit - max stays finite, so a +inf
         * logit wins and all -inf ones are equally likely instead of NaN probabilities. */
        v = v > FLT_MAX ? FLT_MAX : v < -FLT_MAX ? -FLT_MAX : v;
        s->cand[n++] = (struct octo_sample_cand){v, (uint32_t)i, 0.0};
    }
    if (n == 0)
        return OCTO_EINVAL;
    bool ordered = p->top_k > 0 || p->top_p < 1.0f;
    if (ordered)
        n = top_k(s->cand, n, p->top_k);
    float max = s->cand[0].logit;
    for (size_t i = 1; i < n; i++)
        max = s->cand[i].logit > max ? s->cand[i].logit : max;
    if (p->top_p < 1.0f) { /* on the raw distribution, before temperature */
        double total = 0.0;
        for (size_t i = 0; i < n; i++) {
            s->cand[i].p = octo_detmath_exp((double)s->cand[i].logit - (double)max);
            total += s->cand[i].p;
        }
        double mass = 0.0, want = (double)p->top_p * total;
        size_t keep = 0;
        while (keep < n && (keep == 0 || mass < want))
            mass += s->cand[keep++].p;
        n = keep;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        s->cand[i].p =
            octo_detmath_exp(((double)s->cand[i].logit - (double)max) / (double)p->temperature);
        sum += s->cand[i].p;
    }
    double u = (double)(octo_rng_next(&s->rng) >> 11) * (1.0 / 9007199254740992.0) * sum;
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        acc += s->cand[i].p;
        if (u < acc)
            return (long)s->cand[i].id;
    }
    return (long)s->cand[n - 1].id;
}
