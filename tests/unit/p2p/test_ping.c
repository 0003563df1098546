/*
 * test_ping.c — /ipfs/ping/1.0.0: a dialer and a listener through memory with a manual
 * clock (RTT), byte-at-a-time delivery, mismatched echo, unsolicited bytes, listener
 * backpressure, the timeout timer, and state errors.
 */
#include "base/clock.h"
#include "p2p/ping.h"
#include "test.h"

#include <string.h>

static int init_role(struct octo_ping *p, enum octo_ping_role role)
{
    struct octo_ping_config cfg = {.role = role};
    return octo_ping_init(p, &cfg);
}

/* Moves from's output into to, chunk bytes per recv; returns the first recv error. */
static int pump(struct octo_ping *from, struct octo_ping *to, octo_tick now, size_t chunk)
{
    const uint8_t *d;
    size_t n;
    octo_ping_out(from, &d, &n);
    size_t off = 0;
    while (off < n) {
        size_t c = n - off < chunk ? n - off : chunk;
        int rc = octo_ping_recv(to, now, d + off, c);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        off += (size_t)rc;
    }
    octo_ping_out_consume(from, off);
    return 0;
}

static void payload_fill(uint8_t out[OCTO_PING_LEN], uint8_t seed)
{
    for (int i = 0; i < OCTO_PING_LEN; i++)
        out[i] = (uint8_t)(seed * 31 + i);
}

static void test_rtt_manual_clock(void)
{
    struct octo_clock_manual clk;
    octo_clock_manual_init(&clk, 1000, 0);
    struct octo_ping d, l;
    CHECK_OK(init_role(&d, OCTO_PING_DIALER));
    CHECK_OK(init_role(&l, OCTO_PING_LISTENER));
    size_t chunks[] = {1, 5, 32};
    for (uint8_t round = 0; round < 3; round++) {
        uint8_t payload[OCTO_PING_LEN];
        payload_fill(payload, round);
        CHECK_OK(octo_ping_send(&d, octo_clock_mono(&clk.clock), payload));
        CHECK_ERR(octo_ping_send(&d, 0, payload), OCTO_ESTATE); /* one in flight */
        const uint8_t *p;
        size_t n;
        octo_ping_out(&d, &p, &n);
        CHECK_EQ_U64(n, OCTO_PING_LEN);
        CHECK_MEM(p, payload, OCTO_PING_LEN);
        CHECK_EQ_U64(octo_ping_next_deadline(&d),
                     octo_clock_mono(&clk.clock) + OCTO_PING_TIMEOUT_NS_DEFAULT);
        octo_clock_manual_advance(&clk, 3 * OCTO_NS_PER_MS);
        CHECK_OK(pump(&d, &l, octo_clock_mono(&clk.clock), chunks[round]));
        octo_clock_manual_advance(&clk, 4 * OCTO_NS_PER_MS + round);
        CHECK_OK(pump(&l, &d, octo_clock_mono(&clk.clock), chunks[round]));
        struct octo_ping_event ev;
        CHECK(octo_ping_poll(&d, &ev));
        CHECK_EQ_INT(ev.type, OCTO_PING_EV_RTT);
        CHECK_EQ_U64(ev.rtt_ns, 7 * OCTO_NS_PER_MS + round);
        CHECK(!octo_ping_poll(&d, &ev));
        CHECK(!octo_ping_poll(&l, &ev));
        CHECK_EQ_U64(octo_ping_next_deadline(&d), OCTO_PING_NO_DEADLINE);
    }
    CHECK_EQ_INT(d.stats.ok, 3);
    CHECK_EQ_INT(d.stats.sent, 3);
    CHECK_EQ_INT(l.stats.echoed, 3);
    octo_ping_deinit(&d);
    octo_ping_deinit(&l);
}

static void test_mismatched_echo(void)
{
    struct octo_ping d;
    CHECK_OK(init_role(&d, OCTO_PING_DIALER));
    uint8_t payload[OCTO_PING_LEN], wrong[OCTO_PING_LEN];
    payload_fill(payload, 1);
    memcpy(wrong, payload, sizeof(wrong));
    wrong[31] ^= 1;
    CHECK_OK(octo_ping_send(&d, 0, payload));
    CHECK_EQ_INT(octo_ping_recv(&d, 5, wrong, 31), 31);
    CHECK_ERR(octo_ping_recv(&d, 5, wrong + 31, 1), OCTO_EPROTO);
    struct octo_ping_event ev;
    CHECK(octo_ping_poll(&d, &ev));
    CHECK_EQ_INT(ev.type, OCTO_PING_EV_FAILED);
    CHECK_EQ_INT(ev.reason, OCTO_PING_MISMATCH);
    CHECK_EQ_INT(d.stats.mismatch, 1);
    CHECK_ERR(octo_ping_recv(&d, 6, wrong, 1), OCTO_ESTATE);
    CHECK_ERR(octo_ping_send(&d, 6, payload), OCTO_ESTATE);
    octo_ping_deinit(&d);
}

static void test_oversize_and_unsolicited(void)
{
    struct octo_ping d;
    CHECK_OK(init_role(&d, OCTO_PING_DIALER));
    uint8_t payload[OCTO_PING_LEN + 1];
    payload_fill(payload, 2);
    payload[OCTO_PING_LEN] = 0xee;
    /* bytes before any ping */
    CHECK_ERR(octo_ping_recv(&d, 0, payload, 1), OCTO_EPROTO);
    struct octo_ping_event ev;
    CHECK(octo_ping_poll(&d, &ev));
    CHECK_EQ_INT(ev.reason, OCTO_PING_UNSOLICITED);
    octo_ping_deinit(&d);
    /* an echo with one extra byte: the ping completes, the extra byte is an error */
    CHECK_OK(init_role(&d, OCTO_PING_DIALER));
    CHECK_OK(octo_ping_send(&d, 10, payload));
    CHECK_EQ_INT(octo_ping_recv(&d, 20, payload, sizeof(payload)), OCTO_PING_LEN);
    CHECK_ERR(octo_ping_recv(&d, 20, payload + OCTO_PING_LEN, 1), OCTO_EPROTO);
    CHECK(octo_ping_poll(&d, &ev));
    CHECK_EQ_INT(ev.type, OCTO_PING_EV_FAILED); /* the failure replaces the RTT event */
    CHECK_EQ_INT(d.stats.unsolicited, 1);
    octo_ping_deinit(&d);
}

static void test_listener_backpressure(void)
{
    struct octo_ping l;
    CHECK_OK(init_role(&l, OCTO_PING_LISTENER));
    uint8_t many[OCTO_PING_OUT_MAX + 3 * OCTO_PING_LEN];
    for (size_t i = 0; i < sizeof(many); i++)
        many[i] = (uint8_t)i;
    /* only what fits the output bound is consumed */
    CHECK_EQ_INT(octo_ping_recv(&l, 0, many, sizeof(many)), OCTO_PING_OUT_MAX);
    CHECK_EQ_INT(octo_ping_recv(&l, 0, many + OCTO_PING_OUT_MAX, 10), 0);
    const uint8_t *p;
    size_t n;
    octo_ping_out(&l, &p, &n);
    CHECK_EQ_U64(n, OCTO_PING_OUT_MAX);
    CHECK_MEM(p, many, OCTO_PING_OUT_MAX);
    octo_ping_out_consume(&l, OCTO_PING_LEN);
    /* a partial block is held until it completes */
    CHECK_EQ_INT(octo_ping_recv(&l, 0, many + OCTO_PING_OUT_MAX, 10), 10);
    octo_ping_out(&l, &p, &n);
    CHECK_EQ_U64(n, OCTO_PING_OUT_MAX - OCTO_PING_LEN);
    CHECK_EQ_INT(octo_ping_recv(&l, 0, many + OCTO_PING_OUT_MAX + 10, 100), 22);
    octo_ping_out(&l, &p, &n);
    CHECK_EQ_U64(n, OCTO_PING_OUT_MAX);
    CHECK_MEM(p + n - OCTO_PING_LEN, many + OCTO_PING_OUT_MAX, OCTO_PING_LEN);
    CHECK_EQ_INT(l.stats.echoed, OCTO_PING_OUT_MAX / OCTO_PING_LEN + 1);
    CHECK_ERR(octo_ping_send(&l, 0, many), OCTO_ESTATE); /* listeners do not ping */
    CHECK_EQ_U64(octo_ping_next_deadline(&l), OCTO_PING_NO_DEADLINE);
    octo_ping_deinit(&l);
}

static void test_timeout(void)
{
    struct octo_ping d;
    struct octo_ping_config cfg = {.role = OCTO_PING_DIALER, .timeout_ns = 500};
    CHECK_OK(octo_ping_init(&d, &cfg));
    uint8_t payload[OCTO_PING_LEN];
    payload_fill(payload, 3);
    CHECK_OK(octo_ping_send(&d, 1000, payload));
    CHECK_EQ_U64(octo_ping_next_deadline(&d), 1500);
    CHECK_OK(octo_ping_on_timer(&d, 1499));
    struct octo_ping_event ev;
    CHECK(!octo_ping_poll(&d, &ev));
    CHECK_OK(octo_ping_on_timer(&d, 1500));
    CHECK(octo_ping_poll(&d, &ev));
    CHECK_EQ_INT(ev.type, OCTO_PING_EV_FAILED);
    CHECK_EQ_INT(ev.reason, OCTO_PING_TIMEOUT);
    CHECK_EQ_INT(d.stats.timeout, 1);
    CHECK_EQ_U64(octo_ping_next_deadline(&d), OCTO_PING_NO_DEADLINE);
    CHECK_ERR(octo_ping_recv(&d, 1600, payload, OCTO_PING_LEN), OCTO_ESTATE);
    octo_ping_deinit(&d);
}

static void test_clock_backwards_and_config(void)
{
    struct octo_ping d;
    CHECK_OK(init_role(&d, OCTO_PING_DIALER));
    uint8_t payload[OCTO_PING_LEN];
    payload_fill(payload, 4);
    CHECK_OK(octo_ping_send(&d, 100, payload));
    CHECK_EQ_INT(octo_ping_recv(&d, 50, payload, OCTO_PING_LEN), OCTO_PING_LEN);
    struct octo_ping_event ev;
    CHECK(octo_ping_poll(&d, &ev));
    CHECK_EQ_U64(ev.rtt_ns, 0);
    /* an undelivered event blocks the next send */
    CHECK_OK(octo_ping_send(&d, 200, payload));
    CHECK_EQ_INT(octo_ping_recv(&d, 250, payload, OCTO_PING_LEN), OCTO_PING_LEN);
    CHECK_ERR(octo_ping_send(&d, 300, payload), OCTO_ESTATE);
    CHECK(octo_ping_poll(&d, &ev));
    CHECK_EQ_U64(ev.rtt_ns, 50);
    CHECK_EQ_INT(octo_ping_recv(&d, 250, payload, 0), 0);
    octo_ping_deinit(&d);
    struct octo_ping_config bad = {.role = (enum octo_ping_role)0};
    CHECK_ERR(octo_ping_init(&d, &bad), OCTO_EINVAL);
    octo_ping_deinit(&d);
    struct octo_ping zero;
    memset(&zero, 0, sizeof(zero));
    octo_ping_deinit(&zero);
}

int main(void)
{
    OCTO_RUN(test_rtt_manual_clock);
    OCTO_RUN(test_mismatched_echo);
    OCTO_RUN(test_oversize_and_unsolicited);
    OCTO_RUN(test_listener_backpressure);
    OCTO_RUN(test_timeout);
    OCTO_RUN(test_clock_backwards_and_config);
    return octo_test_finish();
}
