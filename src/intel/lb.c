/*
 * lb.c — power-of-two choices (algorithm and weights in lb.h).
 *
 * The weights live in a fixed array on the stack (OCTO_LB_CANDIDATES_MAX entries, 2 KiB), so
 * a pick allocates nothing; it costs two passes to weigh, and one pass per draw.
 */
#include "intel/lb.h"

#include "base/assert.h"

#include <stdbool.h>

_Static_assert(OCTO_LB_CANDIDATES_MAX <= 256, "weight sum must stay below 2^61");

static bool eligible(const struct octo_lb_candidate *c)
{
    return c->in_flight < c->capacity;
}

uint64_t octo_lb_cost_weight(uint64_t price, uint64_t price_min)
{
    uint64_t p = price > 0 ? price : 1;
    uint64_t m = price_min > 0 ? price_min : 1;
    OCTO_ASSERT(m <= p);
    while (p >= (UINT64_C(1) << 32)) {
        p >>= 1;
        m >>= 1;
    }
    uint64_t f = (m << 31) / p; /* m < 2^32, so m << 31 < 2^63; f <= 2^31 */
    uint64_t w = (f * f) >> 10; /* f^2 <= 2^62 */
    OCTO_DASSERT(w <= OCTO_LB_COST_WEIGHT_ONE);
    return w > 0 ? w : 1;
}

/* Fills w[] and returns the weight sum (0 when nothing is eligible). */
static uint64_t weigh(const struct octo_lb_candidate *cands, size_t count,
                      enum octo_lb_strategy strategy, uint64_t *w, size_t *n_eligible)
{
    uint64_t price_min = UINT64_MAX;
    *n_eligible = 0;
    for (size_t i = 0; i < count; i++) {
        if (!eligible(&cands[i]))
            continue;
        (*n_eligible)++;
        uint64_t p = cands[i].price > 0 ? cands[i].price : 1;
        if (p < price_min)
            price_min = p;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (!eligible(&cands[i]))
            w[i] = 0;
        else if (strategy == OCTO_LB_COST)
            w[i] = octo_lb_cost_weight(cands[i].price, price_min);
        else
            w[i] = 1;
        total += w[i];
    }
    return total;
}

/* Draws a position with probability w[i] / total, skipping position `skip` (whose weight
 * must already be excluded from total). */
static size_t draw(const uint64_t *w, size_t count, uint64_t total, size_t skip,
                   struct octo_rng *rng)
{
    OCTO_ASSERT(total > 0);
    uint64_t x = octo_rng_below(rng, total);
    for (size_t i = 0; i < count; i++) {
        if (i == skip)
            continue;
        if (x < w[i])
            return i;
        x -= w[i];
    }
    OCTO_UNREACHABLE();
}

/* True when a should win over b (a was drawn first, so it wins a full tie). */
static bool better_or_tied(const struct octo_lb_candidate *a, const struct octo_lb_candidate *b)
{
    uint64_t load_a = (uint64_t)a->in_flight * b->capacity;
    uint64_t load_b = (uint64_t)b->in_flight * a->capacity;
    if (load_a != load_b)
        return load_a < load_b;
    uint32_t free_a = a->capacity - a->in_flight; /* both eligible: no underflow */
    uint32_t free_b = b->capacity - b->in_flight;
    return free_a >= free_b;
}

int octo_lb_pick(const struct octo_lb_candidate *cands, size_t count,
                 enum octo_lb_strategy strategy, struct octo_rng *rng, size_t *chosen)
{
    OCTO_ASSERT(rng != NULL);
    OCTO_ASSERT(chosen != NULL);
    if (count == 0)
        return OCTO_ENOTFOUND;
    OCTO_ASSERT(cands != NULL);
    if (count > OCTO_LB_CANDIDATES_MAX)
        return OCTO_ETOOBIG;
    if (strategy != OCTO_LB_LEAST_LOADED && strategy != OCTO_LB_COST)
        return OCTO_EINVAL;
    uint64_t w[OCTO_LB_CANDIDATES_MAX];
    size_t n_eligible;
    uint64_t total = weigh(cands, count, strategy, w, &n_eligible);
    if (n_eligible == 0)
        return OCTO_EBUSY;
    if (n_eligible == 1) {
        for (size_t i = 0; i < count; i++) {
            if (w[i] > 0) {
                *chosen = i;
                return 0;
            }
        }
        OCTO_UNREACHABLE();
    }
    size_t a = draw(w, count, total, count, rng);
    size_t b = draw(w, count, total - w[a], a, rng);
    OCTO_ASSERT(a != b);
    OCTO_ASSERT(eligible(&cands[a]));
    OCTO_ASSERT(eligible(&cands[b]));
    *chosen = better_or_tied(&cands[a], &cands[b]) ? a : b;
    return 0;
}
