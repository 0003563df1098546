/*
 * sample.h — choosing the next token from a row of logits: greedy, or temperature with top-k,
 * top-p (nucleus) and a repetition penalty over the last tokens, drawn from a seeded
 * generator (base/rng.h), so the same seed gives the same tokens on every machine.
 *
 * Order of the steps (llama.cpp's default chain, restricted to these samplers):
 *   1. repetition penalty on the last repeat_last_n accepted tokens (each distinct token once):
 *      a positive logit is divided by the penalty, a negative one multiplied (clamped to the
 *      finite floats);
 *   2. temperature 0 (or below OCTO_SAMPLE_GREEDY_TEMP): greedy, the highest logit, lowest id on
 *      ties — nothing is drawn;
 *   3. top-k: the k highest logits (ties broken by lower id); k = 0 keeps all;
 *   4. top-p: the shortest prefix of the candidates by descending probability, under the
 *      softmax of the raw logits (before temperature, as llama.cpp's chain does), whose mass
 *      reaches p (at least one); p >= 1 keeps all;
 *   5. softmax of logit / temperature over the kept candidates (in double, max subtracted);
 *   6. one draw: u = 53 random bits / 2^53, walking the kept candidates in order.
 * Determinism: every step is exact or order-fixed, and exp() is infer/detmath.h's, the same
 * bits on every machine, so a verifier re-running a task with the same seed draws the same
 * tokens; greedy decoding involves no exp() at all.
 *
 * Pure: no allocation after init (the candidate arrays are sized by the vocabulary at init)
 * except in octo_sampler_set_params when the repetition window changes size.
 */
#ifndef OCTO_INFER_SAMPLE_H
#define OCTO_INFER_SAMPLE_H

#include "base/err.h"
#include "base/rng.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_SAMPLE_VOCAB_MAX (1u << 20) /* tokens in a vocabulary */
#define OCTO_SAMPLE_REPEAT_MAX 4096u     /* repeat_last_n */
#define OCTO_SAMPLE_GREEDY_TEMP 1e-6f    /* temperatures below this are greedy */

struct octo_sample_params {
    float temperature;      /* 0 = greedy */
    uint32_t top_k;         /* 0 = off */
    float top_p;            /* >= 1 = off */
    float repeat_penalty;   /* 1 = off; must be > 0 */
    uint32_t repeat_last_n; /* <= OCTO_SAMPLE_REPEAT_MAX */
    uint64_t seed;
};

struct octo_sample_cand {
    float logit;
    uint32_t id;
    double p;
};

struct octo_sampler {
    struct octo_sample_params params;
    struct octo_rng rng;
    size_t n_vocab;
    struct octo_sample_cand *cand; /* n_vocab */
    uint32_t *recent;              /* ring of the last repeat_last_n accepted tokens */
    size_t recent_len, recent_at;
    uint8_t *seen; /* n_vocab bits: a token penalised once per step */
};

/* Defaults: greedy, no top-k/top-p, no penalty, seed 0. */
void octo_sample_params_default(struct octo_sample_params *p);

/* Whether p is acceptable: temperature >= 0 and finite, top_p > 0, repeat_penalty > 0 (not
 * NaN), repeat_last_n <= OCTO_SAMPLE_REPEAT_MAX. */
bool octo_sample_params_valid(const struct octo_sample_params *p);

/* Errors: OCTO_EINVAL (n_vocab 0 or > OCTO_SAMPLE_VOCAB_MAX, temperature < 0 or not finite,
 * top_p <= 0 or NaN, repeat_penalty <= 0 or NaN, repeat_last_n too large), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_sampler_init(struct octo_sampler *s, const struct octo_sample_params *p,
                                    size_t n_vocab);
void octo_sampler_deinit(struct octo_sampler *s);

/* Picks the next token from logits[0..n_vocab) (modified in place by the penalty). Does not
 * accept it: call octo_sampler_accept with the token actually used. Infinite logits count as
 * +-FLT_MAX (a +inf token wins; NaN logits are never picked). Returns the token id, or
 * OCTO_EINVAL when every logit is NaN. */
OCTO_MUST_USE long octo_sampler_sample(struct octo_sampler *s, float *logits);

/* New parameters for a sampler made by octo_sampler_init (same vocabulary), then a reset.
 * Errors: OCTO_EINVAL as init (the sampler is unchanged), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_sampler_set_params(struct octo_sampler *s,
                                          const struct octo_sample_params *p);

/* Back to the state right after init: the generator reseeded, no recent tokens — so a task
 * run on a reused sampler draws what a fresh one would. */
void octo_sampler_reset(struct octo_sampler *s);

/* Records a token (a prompt token or a sampled one) for the repetition penalty. */
void octo_sampler_accept(struct octo_sampler *s, uint32_t token);

#endif
