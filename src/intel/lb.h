/*
 * lb.h — the load balancer: power-of-two choices over a short list of candidates that the
 * router has already filtered (available, eligible under the policy) and ranked.
 *
 * Pure and allocation-free: the candidates are borrowed for the call, randomness comes from
 * the caller's struct octo_rng, all arithmetic is integer. Same candidates and same rng state
 * give the same pick on every machine.
 *
 * Algorithm (octo_lb_pick):
 *  1. Eligible = candidates with in_flight < capacity. None: OCTO_EBUSY (the caller queues or
 *     applies backpressure; a full candidate is never picked). One: it is picked without
 *     consuming randomness.
 *  2. Each eligible candidate i gets a draw weight w_i (ineligible ones weigh 0):
 *       OCTO_LB_LEAST_LOADED  w_i = 1 (uniform);
 *       OCTO_LB_COST          w_i = octo_lb_cost_weight(price_i, m), m = the lowest price among
 *                             the eligible: 2^52 · (m / price_i)^2 in fixed point, i.e. the
 *                             draw is proportional to 1 / price^2 (OpenRouter's default).
 *  3. Two distinct candidates are drawn: the first with probability w_i / W (W the sum of the
 *     weights), the second with probability w_j / (W - w_first) among the others; each draw is
 *     one octo_rng_below() over the integer weight sum, walking the candidates in array order.
 *  4. The less loaded of the two wins, compared exactly by cross-multiplication:
 *     in_flight_a · capacity_b < in_flight_b · capacity_a. Ties go to the one with more free
 *     slots (capacity − in_flight), then to the first drawn. So with equal loads the pick is
 *     distributed exactly as the first draw: uniform, or ∝ 1/price² for the cost strategy.
 *
 * Cost weight, exactly: prices are clamped to at least 1 (a free provider weighs like price 1);
 * while p >= 2^32 both p and m are shifted right by one bit (keeping their ratio to within
 * 2^-31); then f = floor(2^31 · m / p) and w = max(1, floor(f^2 / 2^10)). The cheapest weighs
 * exactly 2^52, twice the price weighs 2^50; the floor of 1 keeps every eligible candidate
 * drawable. With at most OCTO_LB_CANDIDATES_MAX (2^8) candidates W < 2^61.
 */
#ifndef OCTO_INTEL_LB_H
#define OCTO_INTEL_LB_H

#include "base/err.h"
#include "base/rng.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_LB_CANDIDATES_MAX 256
#define OCTO_LB_COST_WEIGHT_ONE (UINT64_C(1) << 52)

enum octo_lb_strategy {
    OCTO_LB_LEAST_LOADED = 0, /* power of two uniform choices on load */
    OCTO_LB_COST = 1,         /* power of two choices drawn ∝ 1/price² */
};

struct octo_lb_candidate {
    uint64_t price;     /* integer OCTO units (any consistent unit); 0 is weighted as 1 */
    uint32_t index;     /* the caller's identifier (e.g. registry slot); not used here */
    uint32_t in_flight; /* requests currently running there */
    uint32_t capacity;  /* max concurrency; 0 means it takes nothing */
};

/* Draw weight of a candidate priced `price` when the cheapest eligible one costs `price_min`
 * (both clamped to >= 1; price_min must be <= price after clamping, asserted). Returns a value
 * in [1, OCTO_LB_COST_WEIGHT_ONE], exactly OCTO_LB_COST_WEIGHT_ONE when price == price_min. */
uint64_t octo_lb_cost_weight(uint64_t price, uint64_t price_min);

/* Picks one of cands[0..count) as described in the design comment and stores its position in
 * *chosen (cands[*chosen].index is the caller's identifier). Returns 0, or
 *   OCTO_ENOTFOUND  count == 0;
 *   OCTO_ETOOBIG    count > OCTO_LB_CANDIDATES_MAX;
 *   OCTO_EINVAL     unknown strategy;
 *   OCTO_EBUSY      every candidate is at capacity.
 * *chosen is untouched on error. */
OCTO_MUST_USE int octo_lb_pick(const struct octo_lb_candidate *cands, size_t count,
                               enum octo_lb_strategy strategy, struct octo_rng *rng,
                               size_t *chosen);

#endif
