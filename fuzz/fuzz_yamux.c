/*
 * fuzz_yamux.c — libFuzzer harness for the yamux session core. The input is what a remote
 * client sends; a server session takes it in chunks while its application side reads every
 * readable stream and, driven by a PRNG seeded from a hash of the input (so each input replays
 * the same way), accepts, writes, half-closes, resets, pings, drains the output partly or fully,
 * advances the clock and runs the timers. Checked: recv's count and errors, bounded output,
 * the flow-control invariant on every live stream, no leak after deinit.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "p2p/yamux.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TRACK_MAX 64

struct app {
    struct octo_yamux y;
    uint64_t rng;
    octo_tick now;
    uint32_t ids[TRACK_MAX];
    size_t nids;
};

static uint64_t rng_next(struct app *a)
{
    uint64_t x = a->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    a->rng = x;
    return x;
}

static void track(struct app *a, uint32_t id)
{
    if (a->nids < TRACK_MAX)
        a->ids[a->nids++] = id;
}

static void untrack(struct app *a, uint32_t id)
{
    for (size_t i = 0; i < a->nids; i++) {
        if (a->ids[i] == id) {
            a->ids[i] = a->ids[--a->nids];
            return;
        }
    }
}

static void check_stream(const struct app *a, uint32_t id)
{
    struct octo_yamux_stream_info info;
    if (octo_yamux_stream_info(&a->y, id, &info) < 0)
        return;
    OCTO_ASSERT((uint64_t)info.buffered + info.recv_credit + info.inflight <= info.recv_window);
    OCTO_ASSERT(info.recv_window <= a->y.cfg.window_max);
    OCTO_ASSERT(info.send_window <= UINT32_MAX);
}

static void app_write(struct app *a, uint32_t id)
{
    static uint8_t payload[100000];
    size_t len = (size_t)(rng_next(a) % sizeof(payload));
    if (rng_next(a) % 2) {
        /* the zero-copy path: a header for at most one frame, only with no output pending */
        uint8_t hdr[OCTO_YAMUX_HEADER_LEN];
        const uint8_t *pending;
        size_t pending_len;
        octo_yamux_out(&a->y, &pending, &pending_len);
        int rc = octo_yamux_write_direct(&a->y, a->now, id, len, hdr);
        OCTO_ASSERT(rc == OCTO_ESTATE || rc == OCTO_ENOTFOUND ||
                    (rc >= 0 && (size_t)rc <= len && rc <= (int)OCTO_YAMUX_FRAME_DATA_MAX));
        if (rc > 0)
            OCTO_ASSERT(pending_len == 0 && hdr[0] == 0 && hdr[1] == OCTO_YAMUX_TYPE_DATA);
        return;
    }
    int rc = octo_yamux_write(&a->y, a->now, id, payload, len);
    OCTO_ASSERT(rc == OCTO_ESTATE || rc == OCTO_ENOTFOUND || (rc >= 0 && (size_t)rc <= len));
}

/* One random application action on a tracked stream. */
static void app_act(struct app *a, uint32_t id)
{
    int rc = 0;
    switch (rng_next(a) % 8) {
    case 0:
        rc = octo_yamux_close(&a->y, id);
        break;
    case 1:
        rc = octo_yamux_reset(&a->y, id);
        break;
    case 2:
        rc = octo_yamux_accept(&a->y, id);
        break;
    case 3:
    case 4:
        app_write(a, id);
        break;
    default:
        break;
    }
    OCTO_ASSERT(rc == 0 || rc == OCTO_ESTATE || rc == OCTO_EBUSY || rc == OCTO_ENOTFOUND);
}

static void app_read(struct app *a, uint32_t id)
{
    static uint8_t buf[70000];
    if (rng_next(a) % 2) { /* the zero-copy path */
        for (;;) {
            const uint8_t *data;
            int n = octo_yamux_peek(&a->y, id, &data);
            if (n <= 0) {
                OCTO_ASSERT(n == 0 || n == OCTO_EAGAIN || n == OCTO_ESTATE || n == OCTO_ENOTFOUND);
                return;
            }
            size_t take = 1 + (size_t)(rng_next(a) % (uint64_t)n);
            OCTO_ASSERT(data != NULL);
            OCTO_ASSERT(octo_yamux_consume(&a->y, a->now, id, take) == 0);
        }
    }
    for (;;) {
        size_t cap = 1 + (size_t)(rng_next(a) % sizeof(buf));
        int n = octo_yamux_read(&a->y, a->now, id, buf, cap);
        if (n <= 0) {
            OCTO_ASSERT(n == 0 || n == OCTO_EAGAIN || n == OCTO_ESTATE || n == OCTO_ENOTFOUND);
            return;
        }
        OCTO_ASSERT((size_t)n <= cap);
    }
}

static void app_events(struct app *a)
{
    struct octo_yamux_event ev;
    while (octo_yamux_poll(&a->y, &ev)) {
        OCTO_ASSERT(ev.detail != NULL);
        switch (ev.type) {
        case OCTO_YAMUX_EV_STREAM_OPENED:
            track(a, ev.stream_id);
            if (rng_next(a) % 2)
                app_act(a, ev.stream_id);
            break;
        case OCTO_YAMUX_EV_READABLE:
            if (rng_next(a) % 4 != 0)
                app_read(a, ev.stream_id);
            break;
        case OCTO_YAMUX_EV_REMOTE_FIN:
            app_read(a, ev.stream_id);
            if (rng_next(a) % 2) {
                int rc = octo_yamux_close(&a->y, ev.stream_id);
                OCTO_ASSERT(rc == 0 || rc == OCTO_ESTATE || rc == OCTO_EBUSY ||
                            rc == OCTO_ENOTFOUND);
            }
            break;
        case OCTO_YAMUX_EV_WRITABLE:
            app_write(a, ev.stream_id);
            break;
        case OCTO_YAMUX_EV_STREAM_CLOSED: {
            struct octo_yamux_stream_info info;
            untrack(a, ev.stream_id);
            OCTO_ASSERT(octo_yamux_stream_info(&a->y, ev.stream_id, &info) == OCTO_ENOTFOUND);
            break;
        }
        case OCTO_YAMUX_EV_SESSION_ERROR:
            OCTO_ASSERT(ev.code > 0 && ev.code < OCTO_YAMUX_ERR_COUNT);
            break;
        default:
            break;
        }
    }
}

static void app_drain(struct app *a)
{
    const uint8_t *out;
    size_t len;
    octo_yamux_out(&a->y, &out, &len);
    OCTO_ASSERT(len <= a->y.cfg.out_max + OCTO_YAMUX_OUT_HEADROOM);
    if (len == 0)
        return;
    size_t n = rng_next(a) % 4 == 0 ? (size_t)(rng_next(a) % (len + 1)) : len;
    octo_yamux_out_consume(&a->y, n);
}

static void app_misc(struct app *a)
{
    uint64_t r = rng_next(a);
    a->now += r % (200 * OCTO_NS_PER_MS);
    if (a->now >= octo_yamux_next_deadline(&a->y)) {
        int trc = octo_yamux_on_timer(&a->y, a->now);
        OCTO_ASSERT(trc == 0 || trc == OCTO_EIO || trc == OCTO_EMALFORMED || trc == OCTO_ENOMEM);
    }
    int rc = 0;
    switch ((r >> 16) % 16) {
    case 0:
        rc = octo_yamux_ping(&a->y, a->now);
        break;
    case 1: {
        uint32_t id;
        if (octo_yamux_open(&a->y, a->now, &id) == 0)
            track(a, id);
        break;
    }
    case 2:
        rc = octo_yamux_goaway(&a->y, (uint32_t)((r >> 24) % 4));
        break;
    case 3:
    case 4:
        if (a->nids > 0)
            app_act(a, a->ids[(r >> 24) % a->nids]);
        break;
    default:
        break;
    }
    OCTO_ASSERT(rc == 0 || rc == OCTO_ESTATE || rc == OCTO_EBUSY || rc == OCTO_EINVAL);
    for (size_t i = 0; i < a->nids; i++)
        check_stream(a, a->ids[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    struct app a;
    memset(&a, 0, sizeof(a));
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a of the input seeds the app's choices */
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    a.rng = h | 1;
    a.now = 1000 * OCTO_NS_PER_S;
    struct octo_yamux_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.client = false;
    if (h & 0x10) {
        cfg.max_inbound_streams = 4;
        cfg.max_unacked_inbound = 2;
        cfg.out_max = 4096;
    }
    if (h & 0x20)
        cfg.rtt_default_ns = 10 * OCTO_NS_PER_MS;
    OCTO_ASSERT(octo_yamux_init(&a.y, &cfg) == 0);
    size_t off = 0;
    int stalls = 0;
    while (off < size) {
        size_t chunk = size - off;
        if (rng_next(&a) % 4 != 0)
            chunk = 1 + (size_t)(rng_next(&a) % (chunk < 300 ? chunk : 300));
        int rc = octo_yamux_recv(&a.y, a.now, data + off, chunk);
        if (rc < 0) {
            OCTO_ASSERT(rc == OCTO_EMALFORMED || rc == OCTO_ENOMEM || rc == OCTO_EIO);
            OCTO_ASSERT(octo_yamux_recv(&a.y, a.now, data + off, chunk) == rc);
            app_events(&a);
            break;
        }
        OCTO_ASSERT((size_t)rc <= chunk);
        off += (size_t)rc;
        if (rc == 0) {
            /* only a full output may stop recv; draining it must unblock */
            const uint8_t *out;
            size_t len;
            octo_yamux_out(&a.y, &out, &len);
            OCTO_ASSERT(len > a.y.cfg.out_max);
            octo_yamux_out_consume(&a.y, len);
            OCTO_ASSERT(++stalls < 1000000);
        }
        app_events(&a);
        app_misc(&a);
        app_drain(&a);
    }
    octo_yamux_deinit(&a.y);
    octo_alloc_stats(&after);
    OCTO_ASSERT(after.allocs_live == before.allocs_live);
    return 0;
}
