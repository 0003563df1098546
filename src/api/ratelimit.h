/*
 * ratelimit.h — per-key request rate limits as token buckets, pure (now comes in).
 *
 * Each key's bucket holds up to a minute's worth of requests (rate_per_min) and refills
 * continuously at rate_per_min per minute. Integer arithmetic only: one request costs 60,000
 * units, a bucket holds rate * 60,000, and every millisecond adds `rate` units. A refused
 * request learns when the next one would pass (retry_after_ms, rounded up).
 *
 * At most OCTO_RATE_KEYS_MAX keys are tracked; when the table is full, the key seen longest
 * ago is forgotten (its bucket would have refilled anyway unless it was seen within the last
 * minute; forgetting only ever lets a request through early, never refuses one wrongly).
 */
#ifndef OCTO_API_RATELIMIT_H
#define OCTO_API_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define OCTO_RATE_KEYS_MAX 4096
#define OCTO_RATE_KEY_LEN 16 /* bytes of a key's name kept (an API key id is 12) */

struct octo_rate_bucket {
    char key[OCTO_RATE_KEY_LEN + 1];
    uint64_t units;   /* up to rate * 60000 */
    uint64_t last_ms; /* when last refilled */
    bool used;
};

struct octo_ratelimit {
    struct octo_rate_bucket b[OCTO_RATE_KEYS_MAX];
    uint64_t forgotten; /* keys dropped for room */
};

void octo_ratelimit_init(struct octo_ratelimit *rl);
/* May the key (rate_per_min >= 1) make a request at now_ms? If not, *retry_after_ms says when
 * the next would pass. */
bool octo_ratelimit_take(struct octo_ratelimit *rl, const char *key, uint32_t rate_per_min,
                         uint64_t now_ms, uint64_t *retry_after_ms);

#endif
