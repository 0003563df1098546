/*
 * ratelimit.c — token buckets by key (ratelimit.h): open addressing on a hash of the key,
 * linear probing, the stalest bucket evicted when the table is full.
 */
#include "api/ratelimit.h"

#include "base/assert.h"

#include <stdio.h>
#include <string.h>

#define COST 60000u /* units per request: a minute in milliseconds */

void octo_ratelimit_init(struct octo_ratelimit *rl)
{
    memset(rl, 0, sizeof(*rl));
}

static uint32_t hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a: table placement only, nothing depends on it */
    for (const char *p = key; *p != '\0'; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

static struct octo_rate_bucket *find(struct octo_ratelimit *rl, const char *key, uint64_t rate,
                                     uint64_t now_ms)
{
    uint32_t start = hash(key) % OCTO_RATE_KEYS_MAX;
    struct octo_rate_bucket *stalest = NULL;
    for (uint32_t i = 0; i < OCTO_RATE_KEYS_MAX; i++) {
        struct octo_rate_bucket *b = &rl->b[(start + i) % OCTO_RATE_KEYS_MAX];
        if (b->used && strcmp(b->key, key) == 0)
            return b;
        if (!b->used) {
            stalest = b;
            break;
        }
        if (stalest == NULL || b->last_ms < stalest->last_ms)
            stalest = b;
    }
    OCTO_ASSERT(stalest != NULL);
    if (stalest->used)
        rl->forgotten++;
    memset(stalest, 0, sizeof(*stalest));
    stalest->used = true;
    snprintf(stalest->key, sizeof(stalest->key), "%s", key);
    stalest->units = rate * COST; /* a new key starts with a full minute */
    stalest->last_ms = now_ms;
    return stalest;
}

bool octo_ratelimit_take(struct octo_ratelimit *rl, const char *key, uint32_t rate_per_min,
                         uint64_t now_ms, uint64_t *retry_after_ms)
{
    OCTO_ASSERT(rate_per_min >= 1);
    uint64_t rate = rate_per_min, cap = rate * COST;
    struct octo_rate_bucket *b = find(rl, key, rate, now_ms);
    if (b->units > cap)
        b->units = cap; /* the key's rate was lowered */
    if (now_ms > b->last_ms) {
        uint64_t add = (now_ms - b->last_ms) * rate;
        b->units = add >= cap - b->units ? cap : b->units + add;
        b->last_ms = now_ms;
    }
    if (b->units >= COST) {
        b->units -= COST;
        *retry_after_ms = 0;
        return true;
    }
    *retry_after_ms = (COST - b->units + rate - 1) / rate;
    return false;
}
