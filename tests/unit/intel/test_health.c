/*
 * test_health.c — the health checker in virtual time: cooldown rules (3 in a row, >= 50 % of
 * >= 5 in the 60 s window), backoff doubling to 60 s and its reset, outcome classification,
 * window roll-off, probes and their schedule, the uptime ratio, latency percentiles and EWMA,
 * throughput and speed. Expected values are worked out by hand in the comments.
 */
#include "base/assert.h"
#include "intel/health.h"
#include "test.h"

#define S OCTO_NS_PER_S
#define MS OCTO_NS_PER_MS
#define T0 (UINT64_C(1000) * S) /* slot 200 of the 5 s window, hour epoch 0 */

static struct octo_health fresh(octo_tick now)
{
    struct octo_health h;
    int rc = octo_health_init(&h, now, 0);
    OCTO_ASSERT(rc == 0);
    return h;
}

static int fail_at(struct octo_health *h, octo_tick now)
{
    return octo_health_record(h, now, OCTO_HEALTH_PROVIDER_ERROR, 0, 0);
}

static int ok_at(struct octo_health *h, octo_tick now)
{
    return octo_health_record(h, now, OCTO_HEALTH_SUCCESS, 1000, 10);
}

static void test_init(void)
{
    struct octo_health h;
    CHECK(sizeof(struct octo_health) <= OCTO_HEALTH_SIZE_MAX);
    CHECK_OK(octo_health_init(&h, T0, 0));
    CHECK_EQ_INT(h.probe_interval_ms, OCTO_HEALTH_PROBE_INTERVAL_DEFAULT_MS);
    CHECK(octo_health_available(&h, T0));
    CHECK_EQ_U64(octo_health_cooldown_until(&h), 0);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 0);
    CHECK_EQ_INT(octo_health_backoff_level(&h), 0);
    CHECK_EQ_INT(octo_health_latency_ewma_us(&h), 0);
    CHECK_EQ_U64(octo_health_speed_tps(&h), 0);
    CHECK_EQ_INT(octo_health_probe_rtt_us(&h), 0);
    CHECK_EQ_U64(octo_health_throughput_tps(&h, T0 + 10 * S), 0);
    uint32_t v = 77;
    CHECK_ERR(octo_health_uptime_bps(&h, &v), OCTO_ENOTFOUND);
    CHECK_ERR(octo_health_latency_percentile_us(&h, 50, &v), OCTO_ENOTFOUND);
    CHECK_EQ_INT(v, 77);

    CHECK_OK(octo_health_init(&h, T0, OCTO_HEALTH_PROBE_INTERVAL_MIN_MS));
    CHECK_EQ_INT(h.probe_interval_ms, OCTO_HEALTH_PROBE_INTERVAL_MIN_MS);
    CHECK_OK(octo_health_init(&h, T0, OCTO_HEALTH_PROBE_INTERVAL_MAX_MS));
    CHECK_EQ_INT(h.probe_interval_ms, OCTO_HEALTH_PROBE_INTERVAL_MAX_MS);
    /* out of range: an error, but the struct is still usable with the default interval */
    CHECK_ERR(octo_health_init(&h, T0, OCTO_HEALTH_PROBE_INTERVAL_MIN_MS - 1), OCTO_EINVAL);
    CHECK_EQ_INT(h.probe_interval_ms, OCTO_HEALTH_PROBE_INTERVAL_DEFAULT_MS);
    CHECK_ERR(octo_health_init(&h, T0, OCTO_HEALTH_PROBE_INTERVAL_MAX_MS + 1), OCTO_EINVAL);
    CHECK(octo_health_available(&h, T0));
}

static void test_three_consecutive_failures(void)
{
    struct octo_health h = fresh(T0);
    CHECK_EQ_INT(fail_at(&h, T0 + 1 * S), 0);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 1);
    CHECK_EQ_INT(octo_health_record(&h, T0 + 2 * S, OCTO_HEALTH_PROVIDER_TIMEOUT, 0, 0), 0);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 2);
    CHECK(octo_health_available(&h, T0 + 2 * S));
    CHECK_EQ_INT(fail_at(&h, T0 + 3 * S), 1); /* the third starts the cooldown */
    CHECK_EQ_U64(octo_health_cooldown_until(&h), T0 + 8 * S);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 0);
    CHECK_EQ_INT(octo_health_backoff_level(&h), 1);
    CHECK(!octo_health_available(&h, T0 + 3 * S));
    CHECK(!octo_health_available(&h, T0 + 8 * S - 1));
    CHECK(octo_health_available(&h, T0 + 8 * S));
    struct octo_health_window w;
    octo_health_window_stats(&h, T0 + 3 * S, &w);
    CHECK_EQ_INT(w.requests, 3);
    CHECK_EQ_INT(w.failures, 3);
}

static void test_success_resets_consecutive(void)
{
    struct octo_health h = fresh(T0);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(ok_at(&h, T0 + (uint64_t)i * MS), 0);
    /* F F S F F: never 3 in a row, and 4 failures of 11 requests is below 50 % */
    CHECK_EQ_INT(fail_at(&h, T0 + 10 * MS), 0);
    CHECK_EQ_INT(fail_at(&h, T0 + 11 * MS), 0);
    CHECK_EQ_INT(ok_at(&h, T0 + 12 * MS), 0);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 0);
    CHECK_EQ_INT(fail_at(&h, T0 + 13 * MS), 0);
    CHECK_EQ_INT(fail_at(&h, T0 + 14 * MS), 0);
    CHECK(octo_health_available(&h, T0 + 14 * MS));
    CHECK_EQ_INT(fail_at(&h, T0 + 15 * MS), 1); /* third in a row; 5 of 12 < 50 % */
    CHECK_EQ_U64(octo_health_cooldown_until(&h), T0 + 15 * MS + 5 * S);
}

static void test_ratio_rule_needs_five_requests(void)
{
    struct octo_health h = fresh(T0);
    /* S F S F: 50 % failed but only 4 requests */
    CHECK_EQ_INT(ok_at(&h, T0 + 1 * S), 0);
    CHECK_EQ_INT(fail_at(&h, T0 + 2 * S), 0);
    CHECK_EQ_INT(ok_at(&h, T0 + 3 * S), 0);
    CHECK_EQ_INT(fail_at(&h, T0 + 4 * S), 0);
    CHECK(octo_health_available(&h, T0 + 4 * S));
    /* the fifth request, a failure: 3 of 5 failed, two in a row */
    CHECK_EQ_INT(fail_at(&h, T0 + 5 * S), 1);
    CHECK_EQ_U64(octo_health_cooldown_until(&h), T0 + 10 * S);

    /* below and exactly at 50 %: S S F S F (2/5) S F (3/7) F (4/8 = 50 %) */
    h = fresh(T0);
    CHECK_EQ_INT(ok_at(&h, T0), 0);
    CHECK_EQ_INT(ok_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(ok_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(ok_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK(octo_health_available(&h, T0));
    CHECK_EQ_INT(fail_at(&h, T0 + 1), 1);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 0);
}

static void test_window_rolls_off(void)
{
    struct octo_health h = fresh(T0);
    /* slot 200: F S F S */
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(ok_at(&h, T0 + 1 * S), 0);
    CHECK_EQ_INT(fail_at(&h, T0 + 2 * S), 0);
    CHECK_EQ_INT(ok_at(&h, T0 + 3 * S), 0);
    struct octo_health_window w;
    octo_health_window_stats(&h, T0 + 59 * S, &w); /* slot 211: window 200..211 */
    CHECK_EQ_INT(w.requests, 4);
    CHECK_EQ_INT(w.failures, 2);
    octo_health_window_stats(&h, T0 + 60 * S, &w); /* slot 212: slot 200 has left */
    CHECK_EQ_INT(w.requests, 0);
    CHECK_EQ_INT(w.failures, 0);

    /* A failure 55 s later still sees the old ones (3 of 5) and cools down ... */
    struct octo_health copy = h;
    CHECK_EQ_INT(fail_at(&copy, T0 + 55 * S), 1);
    /* ... one 60 s later does not (1 of 1). */
    CHECK_EQ_INT(fail_at(&h, T0 + 60 * S), 0);
    octo_health_window_stats(&h, T0 + 60 * S, &w);
    CHECK_EQ_INT(w.requests, 1);
    CHECK_EQ_INT(w.failures, 1);

    /* partial roll: requests in slots 212, 215 and 222; at slot 226 only 215 and 222 remain */
    h = fresh(T0);
    CHECK_EQ_INT(ok_at(&h, T0 + 60 * S), 0);
    CHECK_EQ_INT(ok_at(&h, T0 + 75 * S), 0);
    CHECK_EQ_INT(ok_at(&h, T0 + 75 * S), 0);
    CHECK_EQ_INT(ok_at(&h, T0 + 110 * S), 0);
    octo_health_window_stats(&h, T0 + 115 * S, &w); /* slot 223: window 212..223 */
    CHECK_EQ_INT(w.requests, 4);
    octo_health_window_stats(&h, T0 + 130 * S, &w); /* slot 226: window 215..226 */
    CHECK_EQ_INT(w.requests, 3);
    CHECK_EQ_INT(ok_at(&h, T0 + 130 * S), 0); /* the update clears slot 212's bucket */
    octo_health_window_stats(&h, T0 + 130 * S, &w);
    CHECK_EQ_INT(w.requests, 4);
    octo_health_window_stats(&h, T0 + 10000 * S, &w);
    CHECK_EQ_INT(w.requests, 0);
}

static void test_late_now_goes_to_newest_slot(void)
{
    struct octo_health h = fresh(T0);
    CHECK_EQ_INT(ok_at(&h, T0 + 30 * S), 0);
    CHECK_EQ_INT(ok_at(&h, T0 + 10 * S), 0); /* earlier time: counted in slot 206 */
    struct octo_health_window w;
    octo_health_window_stats(&h, T0 + 20 * S, &w); /* earlier read: as of the newest slot */
    CHECK_EQ_INT(w.requests, 2);
    octo_health_window_stats(&h, T0 + 89 * S, &w); /* slot 217: window 206..217 */
    CHECK_EQ_INT(w.requests, 2);
    octo_health_window_stats(&h, T0 + 90 * S, &w);
    CHECK_EQ_INT(w.requests, 0);
}

static void test_backoff_doubles_to_cap_and_resets(void)
{
    static const uint64_t want_s[] = {5, 10, 20, 40, 60, 60, 60};
    struct octo_health h = fresh(T0);
    octo_tick t = T0;
    for (size_t k = 0; k < OCTO_ARRAY_LEN(want_s); k++) {
        /* rounds 120 s apart: the window is empty, so only the 3-in-a-row rule applies */
        CHECK_EQ_INT(fail_at(&h, t), 0);
        CHECK_EQ_INT(fail_at(&h, t + 1 * MS), 0);
        CHECK_EQ_INT(fail_at(&h, t + 2 * MS), 1);
        CHECK_EQ_U64(octo_health_cooldown_until(&h), t + 2 * MS + want_s[k] * S);
        CHECK_EQ_INT(octo_health_backoff_level(&h), k + 1);
        t += 120 * S;
    }
    /* a success during a cooldown does not reset the level */
    CHECK_EQ_INT(fail_at(&h, t), 0);
    CHECK_EQ_INT(fail_at(&h, t), 0);
    CHECK_EQ_INT(fail_at(&h, t), 1);
    CHECK_EQ_INT(ok_at(&h, t + 1 * S), 0);
    CHECK_EQ_INT(octo_health_backoff_level(&h), OCTO_ARRAY_LEN(want_s) + 1);
    /* a success after it does: the next cooldown is 5 s again */
    t += 120 * S;
    CHECK_EQ_INT(ok_at(&h, t), 0);
    CHECK_EQ_INT(octo_health_backoff_level(&h), 0);
    t += 120 * S;
    CHECK_EQ_INT(fail_at(&h, t), 0);
    CHECK_EQ_INT(fail_at(&h, t), 0);
    CHECK_EQ_INT(fail_at(&h, t), 1);
    CHECK_EQ_U64(octo_health_cooldown_until(&h), t + 5 * S);
}

static void test_failures_during_cooldown(void)
{
    struct octo_health h = fresh(T0);
    CHECK_EQ_INT(ok_at(&h, T0), 0);
    CHECK_EQ_INT(ok_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 1); /* 3 in a row (3 of 5 too) */
    CHECK_EQ_U64(octo_health_cooldown_until(&h), T0 + 5 * S);
    /* in-flight requests failing during the cooldown: counted, but no extension */
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(fail_at(&h, T0 + 1 * S), 0);
    CHECK_EQ_U64(octo_health_cooldown_until(&h), T0 + 5 * S);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 0);
    struct octo_health_window w;
    octo_health_window_stats(&h, T0 + 1 * S, &w);
    CHECK_EQ_INT(w.requests, 9);
    CHECK_EQ_INT(w.failures, 7);
    /* after it: the window is still bad, so the first failure cools again, doubled */
    CHECK(octo_health_available(&h, T0 + 5 * S));
    CHECK_EQ_INT(fail_at(&h, T0 + 5 * S), 1);
    CHECK_EQ_U64(octo_health_cooldown_until(&h), T0 + 15 * S);
    CHECK_EQ_INT(octo_health_backoff_level(&h), 2);
}

static void test_caller_outcomes_never_penalise(void)
{
    static const enum octo_health_outcome caller[] = {
        OCTO_HEALTH_CALLER_ERROR, OCTO_HEALTH_CALLER_TIMEOUT, OCTO_HEALTH_CANCELLED};
    struct octo_health h = fresh(T0);
    for (int i = 0; i < 300; i++) {
        octo_tick t = T0 + (uint64_t)i * 100 * MS;
        CHECK_EQ_INT(octo_health_record(&h, t, caller[i % 3], 5000000, 100), 0);
        CHECK(octo_health_available(&h, t));
    }
    struct octo_health_window w;
    octo_health_window_stats(&h, T0 + 30 * S, &w);
    CHECK_EQ_INT(w.requests, 0);
    CHECK_EQ_INT(w.failures, 0);
    CHECK_EQ_U64(w.tokens, 0);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 0);
    CHECK_EQ_INT(octo_health_latency_ewma_us(&h), 0);
    /* nor do they interrupt (or reset) a run of provider failures */
    CHECK_EQ_INT(fail_at(&h, T0 + 31 * S), 0);
    CHECK_EQ_INT(fail_at(&h, T0 + 31 * S), 0);
    CHECK_EQ_INT(octo_health_record(&h, T0 + 31 * S, OCTO_HEALTH_CALLER_TIMEOUT, 0, 0), 0);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 2);
    CHECK_EQ_INT(fail_at(&h, T0 + 31 * S), 1);
    /* unknown outcomes are rejected without touching the state */
    struct octo_health before;
    memcpy(&before, &h, sizeof(h));
    CHECK_ERR(octo_health_record(&h, T0 + 32 * S, OCTO_HEALTH_OUTCOME_COUNT, 0, 0), OCTO_EINVAL);
    CHECK_ERR(octo_health_record(&h, T0 + 32 * S, (enum octo_health_outcome)99, 0, 0), OCTO_EINVAL);
    CHECK_MEM(&h, &before, sizeof(h));
}

static void test_probe_failures_cool_down(void)
{
    struct octo_health h = fresh(T0);
    CHECK_EQ_U64(octo_health_next_probe(&h, T0), T0); /* due at once */
    CHECK_EQ_INT(octo_health_probe_result(&h, T0, true, 2000), 0);
    CHECK_EQ_U64(octo_health_next_probe(&h, T0), T0 + 30 * S);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 30 * S, false, 0), 0);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 60 * S, false, 0), 0);
    CHECK_EQ_INT(octo_health_consecutive_failures(&h), 2);
    CHECK_EQ_U64(octo_health_next_probe(&h, T0 + 60 * S), T0 + 90 * S);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 90 * S, false, 0), 1);
    CHECK_EQ_U64(octo_health_cooldown_until(&h), T0 + 95 * S);
    /* cooling: every 30 s / 4 = 7.5 s but no later than the cooldown's end (5 s) */
    CHECK_EQ_U64(octo_health_next_probe(&h, T0 + 91 * S), T0 + 95 * S);
    /* after it, the regular interval */
    CHECK_EQ_U64(octo_health_next_probe(&h, T0 + 95 * S), T0 + 120 * S);
    /* an ok probe during the cooldown does not end it (and does not reset the level) */
    struct octo_health copy;
    memcpy(&copy, &h, sizeof(h));
    CHECK_EQ_INT(octo_health_probe_result(&copy, T0 + 92 * S, true, 100), 0);
    CHECK(!octo_health_available(&copy, T0 + 92 * S));
    CHECK_EQ_U64(octo_health_cooldown_until(&copy), T0 + 95 * S);
    CHECK_EQ_INT(octo_health_backoff_level(&copy), 1);
    /* an ok probe resets the failure run: F F P F F is no cooldown when diluted */
    h = fresh(T0);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(ok_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0, true, 100), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK(octo_health_available(&h, T0));
    /* a failed probe is the third in a row */
    CHECK_EQ_INT(octo_health_probe_result(&h, T0, false, 0), 1);
}

static void test_probe_schedule_while_cooling(void)
{
    /* interval 10 s: while cooling every 2.5 s, capped at the cooldown's end */
    struct octo_health h;
    CHECK_OK(octo_health_init(&h, T0, 10000));
    CHECK_EQ_INT(octo_health_probe_result(&h, T0, false, 0), 0);
    CHECK_EQ_U64(octo_health_next_probe(&h, T0), T0 + 10 * S);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 10 * S, false, 0), 0);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 20 * S, false, 0), 1);
    CHECK_EQ_U64(octo_health_cooldown_until(&h), T0 + 25 * S);
    CHECK_EQ_U64(octo_health_next_probe(&h, T0 + 20 * S), T0 + 22500 * MS);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 22500 * MS, false, 0), 0);
    CHECK_EQ_U64(octo_health_next_probe(&h, T0 + 22500 * MS), T0 + 25 * S);
    /* interval 2 s: 0.5 s while cooling is raised to the 1 s floor */
    CHECK_OK(octo_health_init(&h, T0, 2000));
    for (int i = 0; i < 3; i++)
        OCTO_IGNORE(octo_health_probe_result(&h, T0, false, 0));
    CHECK(!octo_health_available(&h, T0));
    CHECK_EQ_U64(octo_health_next_probe(&h, T0), T0 + 1 * S);
    CHECK_EQ_U64(octo_health_next_probe(&h, T0 + 5 * S), T0 + 2 * S);
}

static void test_uptime_ratio(void)
{
    struct octo_health h = fresh(T0);
    uint32_t bps = 0;
    CHECK_ERR(octo_health_uptime_bps(&h, &bps), OCTO_ENOTFOUND);
    /* regular 30 s spacing: ok ok ok fail = 3/4 */
    CHECK_EQ_INT(octo_health_probe_result(&h, T0, true, 1000), 0);
    CHECK_OK(octo_health_uptime_bps(&h, &bps));
    CHECK_EQ_INT(bps, 10000);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 30 * S, true, 1000), 0);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 60 * S, true, 1000), 0);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 90 * S, false, 0), 0);
    CHECK_OK(octo_health_uptime_bps(&h, &bps));
    CHECK_EQ_INT(bps, 7500);
    CHECK_EQ_U64(h.uptime_total_ms, 120000);
    /* a failure 1 s later weighs 1 s: 90000 / 121000 */
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 91 * S, false, 0), 0);
    CHECK_OK(octo_health_uptime_bps(&h, &bps));
    CHECK_EQ_INT(bps, 7438);
    /* T0 + 1 h crosses one hour boundary: ×7/8 = 78750 / 105875, then an ok probe weighing
     * one interval (capped): 108750 / 135875 */
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 3600 * S, true, 1000), 0);
    CHECK_EQ_U64(h.uptime_ok_ms, 108750);
    CHECK_EQ_U64(h.uptime_total_ms, 135875);
    CHECK_OK(octo_health_uptime_bps(&h, &bps));
    CHECK_EQ_INT(bps, 8003);
    /* 300 hours later everything old has decayed: one failed probe = 0 */
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 300 * 3600 * S, false, 0), 0);
    CHECK_OK(octo_health_uptime_bps(&h, &bps));
    CHECK_EQ_INT(bps, 0);
    CHECK_EQ_U64(h.uptime_total_ms, 30000);
    /* two probes at the same instant: the second weighs the 1 ms floor */
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 300 * 3600 * S, true, 1000), 0);
    CHECK_EQ_U64(h.uptime_total_ms, 30001);
    CHECK_EQ_U64(h.uptime_ok_ms, 1);
}

static void test_probe_rtt(void)
{
    struct octo_health h = fresh(T0);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0, true, 1000), 0);
    CHECK_EQ_INT(octo_health_probe_rtt_us(&h), 1000);
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 30 * S, true, 2000), 0);
    CHECK_EQ_INT(octo_health_probe_rtt_us(&h), 1125); /* 1000 + 1000 / 8 */
    CHECK_EQ_INT(octo_health_probe_result(&h, T0 + 60 * S, false, 9999999), 0);
    CHECK_EQ_INT(octo_health_probe_rtt_us(&h), 1125); /* failed probes carry no rtt */
    CHECK_EQ_INT(octo_health_latency_ewma_us(&h), 0); /* probes are not request latency */
}

static uint32_t single_sample_p100(uint64_t us)
{
    struct octo_health h = fresh(T0);
    uint32_t out = 0;
    OCTO_IGNORE(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, us, 0));
    OCTO_IGNORE(octo_health_latency_percentile_us(&h, 100, &out));
    return out;
}

static void test_latency_buckets(void)
{
    CHECK_EQ_INT(single_sample_p100(0), 4096);
    CHECK_EQ_INT(single_sample_p100(4095), 4096);
    CHECK_EQ_INT(single_sample_p100(4096), 6144);
    CHECK_EQ_INT(single_sample_p100(6143), 6144);
    CHECK_EQ_INT(single_sample_p100(6144), 8192);
    CHECK_EQ_INT(single_sample_p100(8191), 8192);
    CHECK_EQ_INT(single_sample_p100(8192), 12288);
    CHECK_EQ_INT(single_sample_p100(1000000), 1048576); /* 1 s in [786432, 1048576) */
    CHECK_EQ_INT(single_sample_p100((UINT64_C(1) << 27) - 1), 1u << 27);
    CHECK_EQ_INT(single_sample_p100(UINT64_C(1) << 27), OCTO_HEALTH_LATENCY_MAX_US);
    CHECK_EQ_INT(single_sample_p100(UINT64_MAX), OCTO_HEALTH_LATENCY_MAX_US);
}

static void test_latency_percentiles(void)
{
    struct octo_health h = fresh(T0);
    uint32_t v = 0;
    CHECK_ERR(octo_health_latency_percentile_us(&h, 50, &v), OCTO_ENOTFOUND);
    /* 5 × 100 µs, 3 × 5000 µs, 1 × 10000 µs, 1 × 200 s */
    for (int i = 0; i < 5; i++)
        CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 100, 0));
    for (int i = 0; i < 3; i++)
        CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 5000, 0));
    CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 10000, 0));
    CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 200000000, 0));
    /* failures carry no latency */
    CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_PROVIDER_TIMEOUT, 99999999, 0));
    static const struct {
        unsigned pct;
        uint32_t us;
    } want[] = {{1, 4096},
                {50, 4096},
                {51, 6144},
                {80, 6144},
                {90, 12288},
                {91, OCTO_HEALTH_LATENCY_MAX_US},
                {100, OCTO_HEALTH_LATENCY_MAX_US}};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(want); i++) {
        CHECK_OK(octo_health_latency_percentile_us(&h, want[i].pct, &v));
        CHECK_EQ_INT(v, want[i].us);
    }
    v = 7;
    CHECK_ERR(octo_health_latency_percentile_us(&h, 0, &v), OCTO_EINVAL);
    CHECK_ERR(octo_health_latency_percentile_us(&h, 101, &v), OCTO_EINVAL);
    CHECK_EQ_INT(v, 7);
}

static void test_latency_histogram_halves(void)
{
    struct octo_health h = fresh(T0);
    uint32_t v = 0;
    for (unsigned i = 0; i < OCTO_HEALTH_HIST_SAMPLES_MAX; i++)
        CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 100, 0));
    CHECK_EQ_INT(h.latency_count, OCTO_HEALTH_HIST_SAMPLES_MAX / 2);
    for (unsigned i = 0; i < OCTO_HEALTH_HIST_SAMPLES_MAX / 2; i++)
        CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 50000, 0));
    /* halved again: 256 old + 256 new */
    CHECK_EQ_INT(h.latency_count, OCTO_HEALTH_HIST_SAMPLES_MAX / 2);
    CHECK_OK(octo_health_latency_percentile_us(&h, 50, &v));
    CHECK_EQ_INT(v, 4096);
    CHECK_OK(octo_health_latency_percentile_us(&h, 51, &v));
    CHECK_EQ_INT(v, 65536); /* 50000 is in [49152, 65536) */
}

static void test_latency_ewma(void)
{
    struct octo_health h = fresh(T0);
    CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 1000, 0));
    CHECK_EQ_INT(octo_health_latency_ewma_us(&h), 1000);
    CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 2000, 0));
    CHECK_EQ_INT(octo_health_latency_ewma_us(&h), 1125);
    CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 0, 0));
    /* ×16: 18000 + (0 - 18000) / 8 = 15750 -> 984.375 -> 984 */
    CHECK_EQ_INT(octo_health_latency_ewma_us(&h), 984);
    /* converges on a steady input */
    for (int i = 0; i < 200; i++)
        CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 40000, 0));
    CHECK_EQ_INT(octo_health_latency_ewma_us(&h), 40000);
    /* clamped */
    h = fresh(T0);
    CHECK_OK(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, UINT64_MAX, 0));
    CHECK_EQ_INT(octo_health_latency_ewma_us(&h), OCTO_HEALTH_LATENCY_MAX_US);
}

static void test_throughput_and_speed(void)
{
    struct octo_health h = fresh(T0);
    CHECK_OK(octo_health_record(&h, T0 + 10 * S, OCTO_HEALTH_SUCCESS, 2000000, 1000));
    /* 1000 tokens over the 10 s since init */
    CHECK_EQ_U64(octo_health_throughput_tps(&h, T0 + 10 * S), 100);
    /* the span never drops below 1 s */
    CHECK_EQ_U64(octo_health_throughput_tps(&h, T0 + 10 * S - 9500 * MS), 1000);
    CHECK_EQ_U64(octo_health_speed_tps(&h), 500); /* 1000 tokens in 2 s */
    CHECK_OK(octo_health_record(&h, T0 + 11 * S, OCTO_HEALTH_SUCCESS, 100000, 100));
    /* ×16: 8000 + (16000 - 8000) / 8 = 9000 -> 562.5 -> 563 */
    CHECK_EQ_U64(octo_health_speed_tps(&h), 563);
    CHECK_OK(octo_health_record(&h, T0 + 12 * S, OCTO_HEALTH_SUCCESS, 100000, 0));
    CHECK_EQ_U64(octo_health_speed_tps(&h), 563); /* no tokens, no speed sample */
    /* failures carry no tokens */
    CHECK_OK(octo_health_record(&h, T0 + 12 * S, OCTO_HEALTH_PROVIDER_ERROR, 0, 5000));
    struct octo_health_window w;
    octo_health_window_stats(&h, T0 + 12 * S, &w);
    CHECK_EQ_U64(w.tokens, 1100);
    CHECK_EQ_U64(w.span_ms, 12000);
    CHECK_EQ_U64(octo_health_throughput_tps(&h, T0 + 12 * S), 91); /* 1100 / 12 */
    CHECK_EQ_U64(octo_health_throughput_tps(&h, T0 + 100 * S), 0); /* rolled off */
    /* long after init the span is the window: slot 240 -> oldest slot 229 starts at 1145 s */
    CHECK_OK(octo_health_record(&h, T0 + 200 * S, OCTO_HEALTH_SUCCESS, 1000, 6000));
    octo_health_window_stats(&h, T0 + 200 * S, &w);
    CHECK_EQ_U64(w.span_ms, 55000);
    CHECK_EQ_U64(octo_health_throughput_tps(&h, T0 + 200 * S), 109); /* 6000 / 55 */
    octo_health_window_stats(&h, T0 + 204 * S, &w);
    CHECK_EQ_U64(w.span_ms, 59000);
}

static void test_counters_saturate(void)
{
    struct octo_health h = fresh(T0);
    for (int i = 0; i < 70000; i++)
        OCTO_IGNORE(octo_health_record(&h, T0, OCTO_HEALTH_SUCCESS, 10, UINT32_MAX));
    struct octo_health_window w;
    octo_health_window_stats(&h, T0, &w);
    CHECK_EQ_INT(w.requests, UINT16_MAX);
    CHECK_EQ_U64(w.tokens, UINT32_MAX);
    CHECK(octo_health_speed_tps(&h) > 0);
    /* 65535 requests in the bucket: 3 failures in a row still cool, the ratio does not */
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 0);
    CHECK_EQ_INT(fail_at(&h, T0), 1);
}

int main(void)
{
    OCTO_RUN(test_init);
    OCTO_RUN(test_three_consecutive_failures);
    OCTO_RUN(test_success_resets_consecutive);
    OCTO_RUN(test_ratio_rule_needs_five_requests);
    OCTO_RUN(test_window_rolls_off);
    OCTO_RUN(test_late_now_goes_to_newest_slot);
    OCTO_RUN(test_backoff_doubles_to_cap_and_resets);
    OCTO_RUN(test_failures_during_cooldown);
    OCTO_RUN(test_caller_outcomes_never_penalise);
    OCTO_RUN(test_probe_failures_cool_down);
    OCTO_RUN(test_probe_schedule_while_cooling);
    OCTO_RUN(test_uptime_ratio);
    OCTO_RUN(test_probe_rtt);
    OCTO_RUN(test_latency_buckets);
    OCTO_RUN(test_latency_percentiles);
    OCTO_RUN(test_latency_histogram_halves);
    OCTO_RUN(test_latency_ewma);
    OCTO_RUN(test_throughput_and_speed);
    OCTO_RUN(test_counters_saturate);
    return octo_test_finish();
}
