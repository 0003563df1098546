/*
 * health.h — per-provider health state for the Task Router: passive outcomes of real
 * requests, active probes, cooldown with exponential backoff, rolling latency and throughput,
 * and a long-run uptime ratio kept for reputation.
 *
 * Tier 1 (fixed size, caller-allocated, no heap): the registry embeds one struct octo_health
 * per provider, so the struct is small (see OCTO_HEALTH_SIZE_MAX, checked at compile time).
 * Sans-I/O: time is always the caller's `now` (octo_tick, monotonic ns); nothing reads a clock.
 * All arithmetic is integer, so every node replaying the same inputs computes the same state.
 *
 * Outcome classification (LiteLLM lesson, ECOSYSTEM.md §5). Only provider-caused outcomes
 * count against a provider:
 *   SUCCESS            a request in the window; resets the consecutive-failure count; feeds
 *                      latency (EWMA and histogram), per-request speed and window throughput.
 *   PROVIDER_ERROR,    a request and a failure in the window; one more consecutive failure.
 *   PROVIDER_TIMEOUT
 *   CALLER_ERROR,      no effect on any state at all (not even the request count, so they
 *   CALLER_TIMEOUT,    neither penalise nor dilute the failure ratio).
 *   CANCELLED
 *
 * Cooldown rules. A provider failure recorded while the provider is not cooling down starts a
 * cooldown when either
 *   (a) it is the OCTO_HEALTH_FAIL_CONSECUTIVE-th (3rd) provider failure in a row, or
 *   (b) the 60 s window then holds >= OCTO_HEALTH_FAIL_MIN_REQUESTS (5) requests of which
 *       at least OCTO_HEALTH_FAIL_RATIO_PCT (50) % failed (failures * 100 >= requests * 50).
 * The cooldown lasts min(5 s << level, 60 s), where level counts the cooldowns since the last
 * success: 5, 10, 20, 40, 60, 60, ... s. Starting a cooldown raises the level and clears the
 * consecutive count. While cooling down (now < cooldown_until) failures still enter the
 * window but neither count as consecutive nor extend the cooldown; the cooldown ends by time
 * alone. A success (request or probe) resets the consecutive count; one recorded when not
 * cooling down also resets the level to 0. The window is not cleared by a cooldown, so a
 * provider that is still failing is cooled again by rule (b) on its first failure after the
 * cooldown (with the doubled duration, unless a success came in between).
 *
 * Window. 12 buckets of 5 s, indexed by slot = now / 5 s; the window is the current slot and
 * the 11 before it, so it spans between 55 and 60 s of history. Counts saturate (requests and
 * failures at 65535 per bucket, tokens at 2^32 - 1 per bucket). A `now` earlier than the
 * newest slot is recorded into the newest slot.
 *
 * Probes. octo_health_probe_result() counts as a request in the window; a failed probe is a
 * provider failure for the cooldown rules, an ok probe a success. Probe latency feeds only the
 * probe round-trip EWMA (request latency statistics stay request-only). Schedule: the first
 * probe is due at init time; then every probe interval (default 30 s); while cooling down
 * every interval / 4 (at least 1 s) and never later than cooldown_until, so the provider is
 * checked again the moment it becomes eligible.
 *
 * Uptime (for reputation). Time-weighted probe success: each probe adds weight
 * min(now - previous probe, probe interval) in ms (at least 1 ms; the first probe weighs one
 * interval) to `total`, and to `ok` when it succeeded; uptime = ok * 10000 / total basis
 * points. Time weighting keeps the faster probing during cooldown from over-counting bad
 * periods. Decay: at every hour boundary crossed (slot = now / 1 h), both sums are multiplied
 * by 7/8 (floor), so history fades with a half-life of about 5 h.
 *
 * Latency. EWMA with alpha 1/8 in fixed point (µs × 16), the first sample taken as is; and a
 * 32-bucket log histogram with two buckets per octave: bucket 0 is [0, 4096) µs, then
 * [2^o, 3·2^(o-1)) and [3·2^(o-1), 2^(o+1)) for o = 12..26, and bucket 31 is >= 2^27 µs
 * (~134 s). Samples are clamped to OCTO_HEALTH_LATENCY_MAX_US. When the histogram holds
 * OCTO_HEALTH_HIST_SAMPLES_MAX samples every count is halved (floor), so it tracks roughly the
 * last 512..1024 samples. A percentile reports the upper bound of the bucket holding the
 * ceil(count * pct / 100)-th sample; bucket 31 reports OCTO_HEALTH_LATENCY_MAX_US.
 *
 * Throughput: tokens of successful requests in the window divided by the window's span
 * (from the later of init time and the start of the oldest slot to now, at least 1 s).
 * Speed: EWMA (alpha 1/8, × 16) of tokens * 10^6 / latency_us over successes with tokens > 0.
 */
#ifndef OCTO_INTEL_HEALTH_H
#define OCTO_INTEL_HEALTH_H

#include "base/clock.h"
#include "base/err.h"

#include <stdbool.h>
#include <stdint.h>

#define OCTO_HEALTH_WINDOW_BUCKETS 12
#define OCTO_HEALTH_BUCKET_NS (UINT64_C(5) * OCTO_NS_PER_S)
#define OCTO_HEALTH_FAIL_CONSECUTIVE 3
#define OCTO_HEALTH_FAIL_MIN_REQUESTS 5
#define OCTO_HEALTH_FAIL_RATIO_PCT 50
#define OCTO_HEALTH_COOLDOWN_BASE_NS (UINT64_C(5) * OCTO_NS_PER_S)
#define OCTO_HEALTH_COOLDOWN_MAX_NS (UINT64_C(60) * OCTO_NS_PER_S)

#define OCTO_HEALTH_PROBE_INTERVAL_DEFAULT_MS 30000u
#define OCTO_HEALTH_PROBE_INTERVAL_MIN_MS 1000u
#define OCTO_HEALTH_PROBE_INTERVAL_MAX_MS 3600000u
#define OCTO_HEALTH_PROBE_COOLDOWN_DIVISOR 4u

#define OCTO_HEALTH_UPTIME_EPOCH_NS (UINT64_C(3600) * OCTO_NS_PER_S)
#define OCTO_HEALTH_UPTIME_BPS_MAX 10000u

#define OCTO_HEALTH_LATENCY_BUCKETS 32
#define OCTO_HEALTH_LATENCY_MAX_US 600000000u /* 600 s: longer samples are clamped */
#define OCTO_HEALTH_HIST_SAMPLES_MAX 1024u

/* Upper bound on sizeof(struct octo_health), asserted at compile time in health.c. */
#define OCTO_HEALTH_SIZE_MAX 256

enum octo_health_outcome {
    OCTO_HEALTH_SUCCESS = 0,
    OCTO_HEALTH_PROVIDER_ERROR,
    OCTO_HEALTH_PROVIDER_TIMEOUT,
    OCTO_HEALTH_CALLER_ERROR,
    OCTO_HEALTH_CALLER_TIMEOUT,
    OCTO_HEALTH_CANCELLED,
    OCTO_HEALTH_OUTCOME_COUNT /* not an outcome: the number of outcomes */
};

/* Treat as opaque; fields are visible only so that callers can embed the struct. */
struct octo_health {
    octo_tick created;        /* init time: start of the throughput span */
    octo_tick cooldown_until; /* end of the current or last cooldown; 0 = never cooled */
    octo_tick probe_last;     /* time of the last probe result (valid when probed) */
    uint64_t window_slot;     /* now / OCTO_HEALTH_BUCKET_NS of the newest bucket */
    uint64_t latency_ewma_x16;
    uint64_t speed_ewma_x16;
    uint32_t win_tokens[OCTO_HEALTH_WINDOW_BUCKETS];
    uint16_t win_requests[OCTO_HEALTH_WINDOW_BUCKETS];
    uint16_t win_failures[OCTO_HEALTH_WINDOW_BUCKETS];
    uint16_t latency_hist[OCTO_HEALTH_LATENCY_BUCKETS];
    uint16_t latency_count; /* sum of latency_hist */
    uint32_t uptime_epoch;  /* now / OCTO_HEALTH_UPTIME_EPOCH_NS at the last decay */
    uint32_t uptime_ok_ms;
    uint32_t uptime_total_ms;
    uint32_t probe_interval_ms;
    uint32_t probe_rtt_ewma_us;
    uint8_t consecutive_failures;
    uint8_t backoff_level;
    uint8_t flags;
};

/* Window totals as of some `now`. */
struct octo_health_window {
    uint32_t requests; /* provider-relevant requests (successes, provider failures, probes) */
    uint32_t failures; /* provider failures and failed probes */
    uint64_t tokens;   /* tokens of successful requests */
    uint64_t span_ms;  /* time the window covers (at least 1000) */
};

/* Initialises h as a healthy provider first seen at `now`. probe_interval_ms is the regular
 * probe interval; 0 selects OCTO_HEALTH_PROBE_INTERVAL_DEFAULT_MS. Returns 0, or OCTO_EINVAL
 * when the interval is outside [OCTO_HEALTH_PROBE_INTERVAL_MIN_MS, ..._MAX_MS] (h is then
 * initialised with the default interval, so it is always usable). */
OCTO_MUST_USE int octo_health_init(struct octo_health *h, octo_tick now,
                                   uint32_t probe_interval_ms);

/* Records the outcome of one request finished at `now`. latency_us and tokens are used only
 * for OCTO_HEALTH_SUCCESS (latency clamped to OCTO_HEALTH_LATENCY_MAX_US). Returns 1 when
 * this outcome started a cooldown, 0 otherwise, OCTO_EINVAL for an unknown outcome (no state
 * changes). */
OCTO_MUST_USE int octo_health_record(struct octo_health *h, octo_tick now,
                                     enum octo_health_outcome outcome, uint64_t latency_us,
                                     uint32_t tokens);

/* Records an active probe finished at `now`: ok or not, and its round-trip time (used only
 * when ok). Returns 1 when this probe started a cooldown, else 0. */
int octo_health_probe_result(struct octo_health *h, octo_tick now, bool ok, uint64_t latency_us);

/* True when the provider is not cooling down at `now` (now >= cooldown_until). */
bool octo_health_available(const struct octo_health *h, octo_tick now);

/* End of the current (or last) cooldown; 0 when the provider was never cooled. */
octo_tick octo_health_cooldown_until(const struct octo_health *h);

/* Provider failures in a row since the last success or cooldown start. */
unsigned octo_health_consecutive_failures(const struct octo_health *h);

/* Cooldowns since the last success outside a cooldown (the next cooldown lasts
 * min(5 s << level, 60 s)). */
unsigned octo_health_backoff_level(const struct octo_health *h);

/* When the next probe is due (see the schedule in the design comment); a value <= now means
 * "due now". Callers probing many providers should add their own jitter. */
octo_tick octo_health_next_probe(const struct octo_health *h, octo_tick now);

/* Totals of the 60 s window as of `now` (buckets older than the window are ignored). */
void octo_health_window_stats(const struct octo_health *h, octo_tick now,
                              struct octo_health_window *out);

/* Tokens per second served over the window as of `now` (floor). */
uint64_t octo_health_throughput_tps(const struct octo_health *h, octo_tick now);

/* Latency EWMA in µs (rounded), 0 before the first successful request. */
uint32_t octo_health_latency_ewma_us(const struct octo_health *h);

/* The pct-th percentile (1..100) of recent request latency, as the upper bound of the
 * histogram bucket holding it, in *out_us. OCTO_EINVAL for pct outside 1..100, OCTO_ENOTFOUND
 * when there are no samples (*out_us untouched in both cases). */
OCTO_MUST_USE int octo_health_latency_percentile_us(const struct octo_health *h, unsigned pct,
                                                    uint32_t *out_us);

/* Per-request generation speed EWMA in tokens per second (rounded), 0 before any sample. */
uint64_t octo_health_speed_tps(const struct octo_health *h);

/* Round-trip EWMA of successful probes in µs, 0 before the first one. */
uint32_t octo_health_probe_rtt_us(const struct octo_health *h);

/* Time-weighted probe uptime in basis points (0..10000) in *out_bps. OCTO_ENOTFOUND before
 * the first probe (*out_bps untouched then). */
OCTO_MUST_USE int octo_health_uptime_bps(const struct octo_health *h, uint32_t *out_bps);

#endif
