/*
 * health.c — per-provider health state (rules and formats in health.h).
 *
 * Every update first rolls the 60 s window forward to `now` (clearing the buckets of slots
 * that passed), then applies the outcome. Reads never mutate: they skip buckets whose slot is
 * too old for the `now` they are given. The cooldown decision is taken only when a provider
 * failure is recorded, which is the only event that can make a healthy provider unhealthy.
 */
#include "intel/health.h"

#include "base/assert.h"

#include <string.h>

_Static_assert(sizeof(struct octo_health) <= OCTO_HEALTH_SIZE_MAX, "health state too large");
_Static_assert(OCTO_HEALTH_FAIL_CONSECUTIVE <= UINT8_MAX, "consecutive count is a uint8_t");
_Static_assert(OCTO_HEALTH_HIST_SAMPLES_MAX <= UINT16_MAX, "histogram counts are uint16_t");
_Static_assert(OCTO_HEALTH_LATENCY_MAX_US >= (UINT32_C(1) << 27), "clamp above the top bucket");

enum {
    FLAG_PROBED = 1u << 0,
    FLAG_LATENCY = 1u << 1,
    FLAG_SPEED = 1u << 2,
    FLAG_PROBE_RTT = 1u << 3,
};

#define EWMA_SHIFT 3      /* alpha = 1/8 */
#define EWMA_SCALE 16     /* fixed point: value × 16 */
#define LEVEL_MAX 16      /* backoff level saturates here (the duration cap hits at level 4) */
#define HIST_OCTAVE_LO 12 /* bucket 0 is [0, 2^12) µs */
#define HIST_OCTAVE_HI 26 /* the last two-way split octave; >= 2^27 µs is the top bucket */
#define UPTIME_DECAY_EPOCHS_MAX 200u /* (7/8)^200 × 2^32 < 1: everything has decayed */

int octo_health_init(struct octo_health *h, octo_tick now, uint32_t probe_interval_ms)
{
    OCTO_ASSERT(h != NULL);
    memset(h, 0, sizeof(*h));
    h->created = now;
    h->window_slot = now / OCTO_HEALTH_BUCKET_NS;
    h->uptime_epoch = (uint32_t)(now / OCTO_HEALTH_UPTIME_EPOCH_NS);
    h->probe_interval_ms = OCTO_HEALTH_PROBE_INTERVAL_DEFAULT_MS;
    if (probe_interval_ms == 0)
        return 0;
    if (probe_interval_ms < OCTO_HEALTH_PROBE_INTERVAL_MIN_MS ||
        probe_interval_ms > OCTO_HEALTH_PROBE_INTERVAL_MAX_MS)
        return OCTO_EINVAL;
    h->probe_interval_ms = probe_interval_ms;
    return 0;
}

/* ---- the 60 s window ---- */

static void window_advance(struct octo_health *h, octo_tick now)
{
    uint64_t slot = now / OCTO_HEALTH_BUCKET_NS;
    if (slot <= h->window_slot)
        return; /* same slot, or a late `now`: record into the newest slot */
    uint64_t gap = slot - h->window_slot;
    if (gap > OCTO_HEALTH_WINDOW_BUCKETS)
        gap = OCTO_HEALTH_WINDOW_BUCKETS;
    for (uint64_t s = slot - gap + 1; s <= slot; s++) {
        size_t i = (size_t)(s % OCTO_HEALTH_WINDOW_BUCKETS);
        h->win_requests[i] = 0;
        h->win_failures[i] = 0;
        h->win_tokens[i] = 0;
    }
    h->window_slot = slot;
}

static void window_add(struct octo_health *h, octo_tick now, bool failed, uint32_t tokens)
{
    window_advance(h, now);
    size_t i = (size_t)(h->window_slot % OCTO_HEALTH_WINDOW_BUCKETS);
    if (h->win_requests[i] < UINT16_MAX)
        h->win_requests[i]++;
    if (failed && h->win_failures[i] < UINT16_MAX)
        h->win_failures[i]++;
    uint32_t room = UINT32_MAX - h->win_tokens[i];
    h->win_tokens[i] += tokens < room ? tokens : room;
    OCTO_DASSERT(h->win_failures[i] <= h->win_requests[i]);
}

void octo_health_window_stats(const struct octo_health *h, octo_tick now,
                              struct octo_health_window *out)
{
    OCTO_ASSERT(h != NULL);
    OCTO_ASSERT(out != NULL);
    memset(out, 0, sizeof(*out));
    uint64_t slot_now = now / OCTO_HEALTH_BUCKET_NS;
    if (slot_now < h->window_slot)
        slot_now = h->window_slot;
    uint64_t lag = slot_now - h->window_slot; /* slots that passed since the last update */
    for (size_t i = 0; i < OCTO_HEALTH_WINDOW_BUCKETS; i++) {
        uint64_t age = (h->window_slot + OCTO_HEALTH_WINDOW_BUCKETS - i) %
                       OCTO_HEALTH_WINDOW_BUCKETS; /* of bucket i relative to window_slot */
        if (lag >= OCTO_HEALTH_WINDOW_BUCKETS || age + lag >= OCTO_HEALTH_WINDOW_BUCKETS)
            continue;
        out->requests += h->win_requests[i];
        out->failures += h->win_failures[i];
        out->tokens += h->win_tokens[i];
    }
    /* Span: from the later of init and the start of the oldest slot in the window. */
    uint64_t oldest_slot = slot_now >= OCTO_HEALTH_WINDOW_BUCKETS - 1
                               ? slot_now - (OCTO_HEALTH_WINDOW_BUCKETS - 1)
                               : 0;
    octo_tick start = oldest_slot * OCTO_HEALTH_BUCKET_NS;
    if (start < h->created)
        start = h->created;
    uint64_t span_ms = now > start ? (now - start) / OCTO_NS_PER_MS : 0;
    out->span_ms = span_ms < 1000 ? 1000 : span_ms;
}

uint64_t octo_health_throughput_tps(const struct octo_health *h, octo_tick now)
{
    struct octo_health_window w;
    octo_health_window_stats(h, now, &w);
    /* tokens <= 12 × (2^32 - 1), so tokens × 1000 cannot overflow. */
    return w.tokens * 1000 / w.span_ms;
}

/* ---- cooldown ---- */

static bool cooling(const struct octo_health *h, octo_tick now)
{
    return now < h->cooldown_until;
}

static void note_success(struct octo_health *h, octo_tick now)
{
    h->consecutive_failures = 0;
    if (!cooling(h, now))
        h->backoff_level = 0;
}

static octo_tick cooldown_duration(unsigned level)
{
    /* 5 s << 4 = 80 s already exceeds the cap, so stop shifting there. */
    if (level >= 4)
        return OCTO_HEALTH_COOLDOWN_MAX_NS;
    octo_tick d = OCTO_HEALTH_COOLDOWN_BASE_NS << level;
    return d < OCTO_HEALTH_COOLDOWN_MAX_NS ? d : OCTO_HEALTH_COOLDOWN_MAX_NS;
}

/* Called after a failure entered the window. Returns 1 when a cooldown starts. */
static int note_failure(struct octo_health *h, octo_tick now)
{
    if (cooling(h, now))
        return 0;
    if (h->consecutive_failures < UINT8_MAX)
        h->consecutive_failures++;
    struct octo_health_window w;
    octo_health_window_stats(h, now, &w);
    bool by_count = h->consecutive_failures >= OCTO_HEALTH_FAIL_CONSECUTIVE;
    bool by_ratio = w.requests >= OCTO_HEALTH_FAIL_MIN_REQUESTS &&
                    (uint64_t)w.failures * 100 >= (uint64_t)w.requests * OCTO_HEALTH_FAIL_RATIO_PCT;
    if (!by_count && !by_ratio)
        return 0;
    octo_tick d = cooldown_duration(h->backoff_level);
    h->cooldown_until = now <= UINT64_MAX - d ? now + d : UINT64_MAX;
    if (h->backoff_level < LEVEL_MAX)
        h->backoff_level++;
    h->consecutive_failures = 0;
    return 1;
}

bool octo_health_available(const struct octo_health *h, octo_tick now)
{
    OCTO_ASSERT(h != NULL);
    return !cooling(h, now);
}

octo_tick octo_health_cooldown_until(const struct octo_health *h)
{
    OCTO_ASSERT(h != NULL);
    return h->cooldown_until;
}

unsigned octo_health_consecutive_failures(const struct octo_health *h)
{
    OCTO_ASSERT(h != NULL);
    return h->consecutive_failures;
}

unsigned octo_health_backoff_level(const struct octo_health *h)
{
    OCTO_ASSERT(h != NULL);
    return h->backoff_level;
}

/* ---- latency and speed ---- */

static unsigned hist_index(uint64_t us)
{
    if (us < (UINT64_C(1) << HIST_OCTAVE_LO))
        return 0;
    unsigned octave = 63u - (unsigned)__builtin_clzll(us);
    if (octave > HIST_OCTAVE_HI)
        return OCTO_HEALTH_LATENCY_BUCKETS - 1;
    unsigned sub = (unsigned)(us >> (octave - 1)) & 1u; /* the bit below the leading one */
    return 1u + 2u * (octave - HIST_OCTAVE_LO) + sub;
}

/* Upper bound (exclusive) of bucket i in µs; the top bucket reports the clamp. */
static uint32_t hist_upper(unsigned i)
{
    OCTO_ASSERT(i < OCTO_HEALTH_LATENCY_BUCKETS);
    if (i == 0)
        return UINT32_C(1) << HIST_OCTAVE_LO;
    if (i == OCTO_HEALTH_LATENCY_BUCKETS - 1)
        return OCTO_HEALTH_LATENCY_MAX_US;
    unsigned octave = HIST_OCTAVE_LO + (i - 1) / 2;
    if ((i - 1) % 2 == 0)
        return UINT32_C(3) << (octave - 1);
    return UINT32_C(1) << (octave + 1);
}

static uint64_t ewma_update(uint64_t ewma_x16, uint64_t sample, bool first)
{
    int64_t target = (int64_t)(sample * EWMA_SCALE);
    if (first)
        return (uint64_t)target;
    int64_t e = (int64_t)ewma_x16;
    e += (target - e) / (1 << EWMA_SHIFT);
    OCTO_DASSERT(e >= 0);
    return (uint64_t)e;
}

static void latency_add(struct octo_health *h, uint64_t us)
{
    h->latency_ewma_x16 = ewma_update(h->latency_ewma_x16, us, !(h->flags & FLAG_LATENCY));
    h->flags |= FLAG_LATENCY;
    h->latency_hist[hist_index(us)]++;
    h->latency_count++;
    if (h->latency_count < OCTO_HEALTH_HIST_SAMPLES_MAX)
        return;
    uint16_t count = 0;
    for (size_t i = 0; i < OCTO_HEALTH_LATENCY_BUCKETS; i++) {
        h->latency_hist[i] /= 2;
        count = (uint16_t)(count + h->latency_hist[i]);
    }
    h->latency_count = count;
}

static void speed_add(struct octo_health *h, uint64_t us, uint32_t tokens)
{
    if (tokens == 0)
        return;
    /* tokens < 2^32, × 10^6 < 2^52: no overflow; × 16 in the EWMA < 2^56. */
    uint64_t tps = (uint64_t)tokens * 1000000u / (us > 0 ? us : 1);
    h->speed_ewma_x16 = ewma_update(h->speed_ewma_x16, tps, !(h->flags & FLAG_SPEED));
    h->flags |= FLAG_SPEED;
}

uint32_t octo_health_latency_ewma_us(const struct octo_health *h)
{
    OCTO_ASSERT(h != NULL);
    return (uint32_t)((h->latency_ewma_x16 + EWMA_SCALE / 2) / EWMA_SCALE);
}

int octo_health_latency_percentile_us(const struct octo_health *h, unsigned pct, uint32_t *out_us)
{
    OCTO_ASSERT(h != NULL);
    OCTO_ASSERT(out_us != NULL);
    if (pct == 0 || pct > 100)
        return OCTO_EINVAL;
    if (h->latency_count == 0)
        return OCTO_ENOTFOUND;
    uint32_t rank = ((uint32_t)h->latency_count * pct + 99) / 100; /* ceil, >= 1 */
    uint32_t cum = 0;
    for (unsigned i = 0; i < OCTO_HEALTH_LATENCY_BUCKETS; i++) {
        cum += h->latency_hist[i];
        if (cum >= rank) {
            *out_us = hist_upper(i);
            return 0;
        }
    }
    OCTO_UNREACHABLE(); /* the buckets sum to latency_count >= rank */
}

uint64_t octo_health_speed_tps(const struct octo_health *h)
{
    OCTO_ASSERT(h != NULL);
    return (h->speed_ewma_x16 + EWMA_SCALE / 2) / EWMA_SCALE;
}

uint32_t octo_health_probe_rtt_us(const struct octo_health *h)
{
    OCTO_ASSERT(h != NULL);
    return h->probe_rtt_ewma_us;
}

/* ---- outcomes ---- */

int octo_health_record(struct octo_health *h, octo_tick now, enum octo_health_outcome outcome,
                       uint64_t latency_us, uint32_t tokens)
{
    OCTO_ASSERT(h != NULL);
    uint64_t us = latency_us < OCTO_HEALTH_LATENCY_MAX_US ? latency_us : OCTO_HEALTH_LATENCY_MAX_US;
    switch (outcome) {
    case OCTO_HEALTH_SUCCESS:
        window_add(h, now, false, tokens);
        latency_add(h, us);
        speed_add(h, us, tokens);
        note_success(h, now);
        return 0;
    case OCTO_HEALTH_PROVIDER_ERROR:
    case OCTO_HEALTH_PROVIDER_TIMEOUT:
        window_add(h, now, true, 0);
        return note_failure(h, now);
    case OCTO_HEALTH_CALLER_ERROR:
    case OCTO_HEALTH_CALLER_TIMEOUT:
    case OCTO_HEALTH_CANCELLED:
        return 0; /* caller-caused: says nothing about the provider */
    case OCTO_HEALTH_OUTCOME_COUNT:
        break;
    }
    return OCTO_EINVAL;
}

/* ---- probes and uptime ---- */

static void uptime_decay(struct octo_health *h, octo_tick now)
{
    uint64_t epoch = now / OCTO_HEALTH_UPTIME_EPOCH_NS;
    if (epoch <= h->uptime_epoch)
        return;
    uint64_t n = epoch - h->uptime_epoch;
    h->uptime_epoch = (uint32_t)epoch;
    if (n >= UPTIME_DECAY_EPOCHS_MAX) {
        h->uptime_ok_ms = 0;
        h->uptime_total_ms = 0;
        return;
    }
    for (uint64_t k = 0; k < n && h->uptime_total_ms > 0; k++) {
        h->uptime_ok_ms = (uint32_t)((uint64_t)h->uptime_ok_ms * 7 / 8);
        h->uptime_total_ms = (uint32_t)((uint64_t)h->uptime_total_ms * 7 / 8);
    }
}

static uint32_t probe_weight_ms(const struct octo_health *h, octo_tick now)
{
    if (!(h->flags & FLAG_PROBED))
        return h->probe_interval_ms;
    uint64_t since_ms = now > h->probe_last ? (now - h->probe_last) / OCTO_NS_PER_MS : 0;
    if (since_ms > h->probe_interval_ms)
        since_ms = h->probe_interval_ms;
    return since_ms > 0 ? (uint32_t)since_ms : 1;
}

int octo_health_probe_result(struct octo_health *h, octo_tick now, bool ok, uint64_t latency_us)
{
    OCTO_ASSERT(h != NULL);
    uptime_decay(h, now);
    uint32_t w = probe_weight_ms(h, now);
    /* Steady state stays near 8 × epoch (28.8e6 ms); saturate anyway. */
    h->uptime_total_ms = h->uptime_total_ms <= UINT32_MAX - w ? h->uptime_total_ms + w : UINT32_MAX;
    if (ok)
        h->uptime_ok_ms = h->uptime_ok_ms <= UINT32_MAX - w ? h->uptime_ok_ms + w : UINT32_MAX;
    OCTO_DASSERT(h->uptime_ok_ms <= h->uptime_total_ms);
    h->probe_last = now;
    h->flags |= FLAG_PROBED;
    if (!ok) {
        window_add(h, now, true, 0);
        return note_failure(h, now);
    }
    uint64_t us = latency_us < OCTO_HEALTH_LATENCY_MAX_US ? latency_us : OCTO_HEALTH_LATENCY_MAX_US;
    if (!(h->flags & FLAG_PROBE_RTT)) {
        h->probe_rtt_ewma_us = (uint32_t)us;
    } else {
        int64_t e = h->probe_rtt_ewma_us;
        e += ((int64_t)us - e) / (1 << EWMA_SHIFT);
        h->probe_rtt_ewma_us = (uint32_t)e;
    }
    h->flags |= FLAG_PROBE_RTT;
    window_add(h, now, false, 0);
    note_success(h, now);
    return 0;
}

octo_tick octo_health_next_probe(const struct octo_health *h, octo_tick now)
{
    OCTO_ASSERT(h != NULL);
    if (!(h->flags & FLAG_PROBED))
        return h->created;
    uint64_t interval = (uint64_t)h->probe_interval_ms * OCTO_NS_PER_MS;
    if (!cooling(h, now))
        return h->probe_last + interval;
    interval /= OCTO_HEALTH_PROBE_COOLDOWN_DIVISOR;
    if (interval < OCTO_NS_PER_S)
        interval = OCTO_NS_PER_S;
    octo_tick due = h->probe_last + interval;
    return due < h->cooldown_until ? due : h->cooldown_until;
}

int octo_health_uptime_bps(const struct octo_health *h, uint32_t *out_bps)
{
    OCTO_ASSERT(h != NULL);
    OCTO_ASSERT(out_bps != NULL);
    if (h->uptime_total_ms == 0)
        return OCTO_ENOTFOUND;
    *out_bps =
        (uint32_t)((uint64_t)h->uptime_ok_ms * OCTO_HEALTH_UPTIME_BPS_MAX / h->uptime_total_ms);
    return 0;
}
