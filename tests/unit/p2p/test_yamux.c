/*
 * test_yamux.c — the yamux core: a client and a server session connected in memory (a pump
 * that moves each side's output into the other's recv, coalesced, one byte at a time or in
 * random chunks) plus hand-made frames for protocol violations. Covers open/accept/ACK, id
 * parity and reuse, FIN both ways, RST, GoAway, ping RTT and keepalive with a manual clock,
 * window accounting, auto-tuning, 100 concurrent streams moving 1 MiB each way, the stream
 * and ACK-backlog limits, output backpressure, malformed headers, OOM and cleanup.
 *
 * With OCTO_YAMUX_SEED_DIR set, the client->server bytes of the basic scenarios are written
 * there (that is how fuzz/seeds/yamux/ was made).
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "p2p/yamux.h"
#include "test.h"

#include <stdlib.h>

enum { MODE_COALESCED, MODE_BYTES, MODE_RANDOM };

#define MS OCTO_NS_PER_MS
#define T0 (1000 * OCTO_NS_PER_S)
#define CAPTURE_MAX (64u * 1024u)

struct pair {
    struct octo_yamux c, s;
    octo_tick now;
    int mode;
    uint64_t rng;
    struct octo_buf capture; /* client -> server bytes (a prefix of CAPTURE_MAX at most) */
    bool capture_full;
};

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void cfg_default(struct octo_yamux_config *cfg, bool client)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->client = client;
    cfg->keepalive_off = true;
}

static int pair_init_cfg(struct pair *p, const struct octo_yamux_config *cc,
                         const struct octo_yamux_config *sc, int mode)
{
    memset(p, 0, sizeof(*p));
    p->now = T0;
    p->mode = mode;
    p->rng = 0x9e3779b97f4a7c15u;
    octo_buf_init(&p->capture, CAPTURE_MAX);
    int rc = octo_yamux_init(&p->c, cc);
    if (rc < 0)
        return rc;
    return octo_yamux_init(&p->s, sc);
}

static int pair_init(struct pair *p, int mode)
{
    struct octo_yamux_config cc, sc;
    cfg_default(&cc, true);
    cfg_default(&sc, false);
    return pair_init_cfg(p, &cc, &sc, mode);
}

static void pair_deinit(struct pair *p)
{
    octo_yamux_deinit(&p->c);
    octo_yamux_deinit(&p->s);
    octo_buf_deinit(&p->capture);
}

/* Moves from's output into to. Returns a negative error from to's recv, else 0. */
static int move(struct pair *p, struct octo_yamux *from, struct octo_yamux *to, bool *progress)
{
    const uint8_t *d;
    size_t n;
    octo_yamux_out(from, &d, &n);
    while (n > 0) {
        size_t chunk = n;
        if (p->mode == MODE_BYTES)
            chunk = 1;
        else if (p->mode == MODE_RANDOM)
            chunk = 1 + (size_t)(rng_next(&p->rng) % (n < 70000 ? n : 70000));
        int rc = octo_yamux_recv(to, p->now, d, chunk);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (from == &p->c && !p->capture_full) {
            if (p->capture.len + (size_t)rc > CAPTURE_MAX)
                p->capture_full = true;
            else if (octo_buf_append(&p->capture, d, (size_t)rc) < 0)
                return OCTO_ENOMEM;
        }
        octo_yamux_out_consume(from, (size_t)rc);
        *progress = true;
        octo_yamux_out(from, &d, &n);
    }
    return 0;
}

static int pump(struct pair *p)
{
    for (;;) {
        bool progress = false;
        int rc = move(p, &p->c, &p->s, &progress);
        if (rc < 0)
            return rc;
        rc = move(p, &p->s, &p->c, &progress);
        if (rc < 0)
            return rc;
        if (!progress)
            return 0;
    }
}

static void save_seed(const struct pair *p, const char *name)
{
    const char *dir = getenv("OCTO_YAMUX_SEED_DIR");
    if (dir == NULL || p->capture.len == 0)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return;
    fwrite(p->capture.data, 1, p->capture.len, f);
    fclose(f);
}

#define EXPECT_EV(y, t, id)                                                                        \
    do {                                                                                           \
        struct octo_yamux_event e_;                                                                \
        CHECK(octo_yamux_poll((y), &e_));                                                          \
        CHECK_EQ_INT(e_.type, (t));                                                                \
        CHECK_EQ_U64(e_.stream_id, (id));                                                          \
        CHECK(e_.detail != NULL);                                                                  \
    } while (0)

#define EXPECT_NO_EV(y)                                                                            \
    do {                                                                                           \
        struct octo_yamux_event e_;                                                                \
        CHECK(!octo_yamux_poll((y), &e_));                                                         \
    } while (0)

/* Expects a SESSION_ERROR with reason r (possibly after other events). */
#define EXPECT_SESSION_ERROR(y, r)                                                                 \
    do {                                                                                           \
        struct octo_yamux_event e_;                                                                \
        bool found_ = false;                                                                       \
        while (octo_yamux_poll((y), &e_)) {                                                        \
            if (e_.type == OCTO_YAMUX_EV_SESSION_ERROR) {                                          \
                CHECK_EQ_INT(e_.code, (r));                                                        \
                found_ = true;                                                                     \
            }                                                                                      \
        }                                                                                          \
        CHECK(found_);                                                                             \
    } while (0)

/* Pending output must end with exactly this frame header. */
#define CHECK_OUT_TAIL(y, type, flags, id, length)                                                 \
    do {                                                                                           \
        const uint8_t *d_;                                                                         \
        size_t n_;                                                                                 \
        uint8_t h_[OCTO_YAMUX_HEADER_LEN];                                                         \
        octo_yamux_out((y), &d_, &n_);                                                             \
        CHECK(n_ >= OCTO_YAMUX_HEADER_LEN);                                                        \
        octo_yamux_header_encode(h_, (type), (flags), (id), (length));                             \
        CHECK_MEM(d_ + n_ - OCTO_YAMUX_HEADER_LEN, h_, OCTO_YAMUX_HEADER_LEN);                     \
    } while (0)

static int feed_frame(struct octo_yamux *y, octo_tick now, uint8_t type, uint16_t flags,
                      uint32_t id, uint32_t length)
{
    uint8_t h[OCTO_YAMUX_HEADER_LEN];
    octo_yamux_header_encode(h, type, flags, id, length);
    return octo_yamux_recv(y, now, h, sizeof(h));
}

static bool control_room_test(const struct octo_yamux *y)
{
    return y->out.max - (y->out.len - y->out_off) >= 3 * OCTO_YAMUX_HEADER_LEN;
}

static void out_clear(struct octo_yamux *y)
{
    const uint8_t *d;
    size_t n;
    octo_yamux_out(y, &d, &n);
    octo_yamux_out_consume(y, n);
}

static void test_header_encode(void)
{
    uint8_t h[OCTO_YAMUX_HEADER_LEN];
    octo_yamux_header_encode(h, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 1, 0);
    CHECK_HEX(h, sizeof(h), "000100010000000100000000");
    octo_yamux_header_encode(h, OCTO_YAMUX_TYPE_GOAWAY, 0, 0, 2);
    CHECK_HEX(h, sizeof(h), "000300000000000000000002");
    octo_yamux_header_encode(h, OCTO_YAMUX_TYPE_DATA, 0x000f, 0x01020304, 0xa0b0c0d0);
    CHECK_HEX(h, sizeof(h), "0000000f01020304a0b0c0d0");
    CHECK_STR(octo_yamux_reason_str(OCTO_YAMUX_ERR_WINDOW_EXCEEDED), "receive window exceeded");
    CHECK_STR(octo_yamux_reason_str((enum octo_yamux_reason)99), "unknown reason");
}

static void test_config(void)
{
    struct octo_yamux y;
    struct octo_yamux_config cfg;
    cfg_default(&cfg, true);
    cfg.window_max = OCTO_YAMUX_WINDOW_INITIAL - 1;
    CHECK_ERR(octo_yamux_init(&y, &cfg), OCTO_ECONFIG);
    octo_yamux_deinit(&y);
    cfg_default(&cfg, true);
    cfg.max_inbound_streams = OCTO_YAMUX_STREAMS_LIMIT + 1;
    CHECK_ERR(octo_yamux_init(&y, &cfg), OCTO_ECONFIG);
    cfg_default(&cfg, true);
    cfg.out_max = 10;
    CHECK_ERR(octo_yamux_init(&y, &cfg), OCTO_ECONFIG);
    cfg_default(&cfg, true);
    cfg.window_max = OCTO_YAMUX_WINDOW_MAX_LIMIT + 1;
    CHECK_ERR(octo_yamux_init(&y, &cfg), OCTO_ECONFIG);
    /* zeroed struct deinit, and an OOM init */
    memset(&y, 0, sizeof(y));
    octo_yamux_deinit(&y);
    cfg_default(&cfg, true);
    octo_alloc_fail_after(1, 0);
    CHECK_ERR(octo_yamux_init(&y, &cfg), OCTO_ENOMEM);
    octo_alloc_fail_after(0, 0);
    octo_yamux_deinit(&y);
    /* defaults resolved */
    CHECK_OK(octo_yamux_init(&y, &cfg));
    CHECK_EQ_U64(y.cfg.max_inbound_streams, OCTO_YAMUX_STREAMS_DEFAULT);
    CHECK_EQ_U64(y.cfg.window_max, OCTO_YAMUX_WINDOW_MAX_DEFAULT);
    CHECK_EQ_U64(y.cfg.out_max, OCTO_YAMUX_OUT_MAX_DEFAULT);
    octo_yamux_deinit(&y);
}

/* open, data before ACK, ACK on the first frame, explicit accept, FIN both ways, close. */
static void run_basic(int mode)
{
    struct pair p;
    CHECK_OK(pair_init(&p, mode));
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    CHECK_EQ_U64(id, 1);
    /* the open is WindowUpdate|SYN with delta 0 */
    const uint8_t *d;
    size_t n;
    octo_yamux_out(&p.c, &d, &n);
    CHECK_HEX(d, n, "000100010000000100000000");
    /* data may follow before the ACK */
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, (const uint8_t *)"hello", 5), 5);
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_OPENED, 1);
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_READABLE, 1);
    EXPECT_NO_EV(&p.s);
    struct octo_yamux_stream_info info;
    CHECK_OK(octo_yamux_stream_info(&p.c, 1, &info));
    CHECK(!info.acked);
    CHECK(info.outbound);
    uint8_t buf[64];
    CHECK_EQ_INT(octo_yamux_read(&p.s, p.now, 1, buf, sizeof(buf)), 5);
    CHECK_MEM(buf, "hello", 5);
    CHECK_ERR(octo_yamux_read(&p.s, p.now, 1, buf, sizeof(buf)), OCTO_EAGAIN);
    /* the server's first frame on the stream carries ACK */
    CHECK_EQ_INT(octo_yamux_write(&p.s, p.now, 1, (const uint8_t *)"world", 5), 5);
    octo_yamux_out(&p.s, &d, &n);
    CHECK_HEX(d, n, "000000020000000100000005776f726c64");
    CHECK_OK(pump(&p));
    CHECK_OK(octo_yamux_stream_info(&p.c, 1, &info));
    CHECK(info.acked);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_READABLE, 1);
    CHECK_EQ_INT(octo_yamux_read(&p.c, p.now, 1, buf, sizeof(buf)), 5);
    CHECK_MEM(buf, "world", 5);

    /* a second stream accepted explicitly: WindowUpdate|ACK */
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    CHECK_EQ_U64(id, 3);
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_OPENED, 3);
    CHECK_OK(octo_yamux_accept(&p.s, 3));
    CHECK_OUT_TAIL(&p.s, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_ACK, 3, 0);
    CHECK_OK(octo_yamux_accept(&p.s, 3)); /* no-op */
    CHECK_OK(octo_yamux_accept(&p.c, 3)); /* outbound: no-op */
    CHECK_ERR(octo_yamux_accept(&p.s, 99), OCTO_ENOTFOUND);
    CHECK_OK(pump(&p));
    CHECK_OK(octo_yamux_stream_info(&p.c, 3, &info));
    CHECK(info.acked);

    /* a server-opened stream gets an even id */
    uint32_t sid;
    CHECK_OK(octo_yamux_open(&p.s, p.now, &sid));
    CHECK_EQ_U64(sid, 2);
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_OPENED, 2);

    /* FIN client -> server with data in the same flush */
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, 1, (const uint8_t *)"bye", 3), 3);
    CHECK_OK(octo_yamux_close(&p.c, 1));
    CHECK_OK(octo_yamux_close(&p.c, 1)); /* idempotent */
    CHECK_ERR(octo_yamux_write(&p.c, p.now, 1, (const uint8_t *)"x", 1), OCTO_ESTATE);
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_READABLE, 1);
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_REMOTE_FIN, 1);
    CHECK_EQ_INT(octo_yamux_read(&p.s, p.now, 1, buf, sizeof(buf)), 3);
    CHECK_MEM(buf, "bye", 3);
    CHECK_EQ_INT(octo_yamux_read(&p.s, p.now, 1, buf, sizeof(buf)), 0); /* EOF */
    /* the server can still write after the client's FIN */
    CHECK_EQ_INT(octo_yamux_write(&p.s, p.now, 1, (const uint8_t *)"last", 4), 4);
    CHECK_OK(octo_yamux_close(&p.s, 1));
    /* both FINs: the server's side is over */
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_CLOSED, 1);
    CHECK_ERR(octo_yamux_stream_info(&p.s, 1, &info), OCTO_ENOTFOUND);
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_READABLE, 1);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_REMOTE_FIN, 1);
    EXPECT_NO_EV(&p.c);
    /* not over until the client has read everything */
    CHECK_EQ_INT(octo_yamux_read(&p.c, p.now, 1, buf, 2), 2);
    CHECK_EQ_INT(octo_yamux_read(&p.c, p.now, 1, buf + 2, sizeof(buf) - 2), 2);
    CHECK_MEM(buf, "last", 4);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_CLOSED, 1);
    CHECK_ERR(octo_yamux_read(&p.c, p.now, 1, buf, sizeof(buf)), OCTO_ENOTFOUND);

    /* FIN server -> client first on stream 2, then client */
    CHECK_OK(octo_yamux_close(&p.s, 2));
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_REMOTE_FIN, 2);
    CHECK_EQ_INT(octo_yamux_read(&p.c, p.now, 2, buf, sizeof(buf)), 0);
    CHECK_OK(octo_yamux_close(&p.c, 2));
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_CLOSED, 2);
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_REMOTE_FIN, 2);
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_CLOSED, 2);

    /* ping on the way, so the seed has one */
    CHECK_OK(octo_yamux_ping(&p.c, p.now));
    CHECK_OK(octo_yamux_reset(&p.c, 3));
    CHECK_OK(octo_yamux_goaway(&p.c, OCTO_YAMUX_GOAWAY_NORMAL));
    CHECK_OK(pump(&p));
    const struct octo_yamux_stats *st = octo_yamux_stats(&p.s);
    CHECK_EQ_U64(st->streams_opened_in, 2);
    CHECK_EQ_U64(st->pings_answered, 1);
    CHECK_EQ_U64(st->data_bytes_in, 8);
    for (int r = 0; r < OCTO_YAMUX_ERR_COUNT; r++)
        CHECK_EQ_U64(st->protocol_errors[r], 0);
    CHECK(st->frames_in > 5 && st->frames_out > 3);
    if (mode == MODE_COALESCED)
        save_seed(&p, "basic");
    pair_deinit(&p);
}

static void test_basic_coalesced(void)
{
    run_basic(MODE_COALESCED);
}

static void test_basic_bytes(void)
{
    run_basic(MODE_BYTES);
}

static void test_basic_random(void)
{
    run_basic(MODE_RANDOM);
}

static void test_parity_and_ids(void)
{
    struct pair p;
    /* server receiving a SYN with an even (its own) id */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    CHECK_ERR(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 2, 0),
              OCTO_EMALFORMED);
    CHECK_OUT_TAIL(&p.s, OCTO_YAMUX_TYPE_GOAWAY, 0, 0, OCTO_YAMUX_GOAWAY_PROTOCOL_ERROR);
    EXPECT_SESSION_ERROR(&p.s, OCTO_YAMUX_ERR_PARITY);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->protocol_errors[OCTO_YAMUX_ERR_PARITY], 1);
    /* the session stays failed */
    CHECK_ERR(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_SYN, 0, 1),
              OCTO_EMALFORMED);
    uint32_t id;
    CHECK_ERR(octo_yamux_open(&p.s, p.now, &id), OCTO_ESTATE);
    CHECK_ERR(octo_yamux_ping(&p.s, p.now), OCTO_ESTATE);
    CHECK_ERR(octo_yamux_goaway(&p.s, 0), OCTO_ESTATE);
    CHECK_EQ_U64(octo_yamux_next_deadline(&p.s), OCTO_YAMUX_TICK_NEVER);
    /* the client sees the GoAway */
    CHECK_OK(pump(&p));
    struct octo_yamux_event ev;
    CHECK(octo_yamux_poll(&p.c, &ev));
    CHECK_EQ_INT(ev.type, OCTO_YAMUX_EV_GOAWAY_RECEIVED);
    CHECK_EQ_INT(ev.code, OCTO_YAMUX_GOAWAY_PROTOCOL_ERROR);
    CHECK_ERR(octo_yamux_open(&p.c, p.now, &id), OCTO_ESTATE);
    pair_deinit(&p);

    /* client receiving a SYN with an odd id */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    CHECK_ERR(feed_frame(&p.c, p.now, OCTO_YAMUX_TYPE_DATA, OCTO_YAMUX_FLAG_SYN, 1, 0),
              OCTO_EMALFORMED);
    EXPECT_SESSION_ERROR(&p.c, OCTO_YAMUX_ERR_PARITY);
    pair_deinit(&p);

    /* id 0 for stream frames, nonzero for session frames */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    CHECK_ERR(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_DATA, OCTO_YAMUX_FLAG_SYN, 0, 0),
              OCTO_EMALFORMED);
    EXPECT_SESSION_ERROR(&p.s, OCTO_YAMUX_ERR_BAD_STREAM_ID);
    CHECK_ERR(feed_frame(&p.c, p.now, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_SYN, 2, 0),
              OCTO_EMALFORMED);
    EXPECT_SESSION_ERROR(&p.c, OCTO_YAMUX_ERR_BAD_STREAM_ID);
    pair_deinit(&p);

    /* reused ids: the same SYN twice, then a lower id */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    CHECK_OK(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 7, 0));
    CHECK_ERR(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 7, 0),
              OCTO_EMALFORMED);
    EXPECT_SESSION_ERROR(&p.s, OCTO_YAMUX_ERR_REUSED_ID);
    pair_deinit(&p);
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    CHECK_OK(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 7, 0));
    CHECK_ERR(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 5, 0),
              OCTO_EMALFORMED);
    EXPECT_SESSION_ERROR(&p.s, OCTO_YAMUX_ERR_REUSED_ID);
    pair_deinit(&p);

    /* frames for unknown streams are ignored (data skipped) */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    uint8_t frame[OCTO_YAMUX_HEADER_LEN + 3];
    octo_yamux_header_encode(frame, OCTO_YAMUX_TYPE_DATA, 0, 9, 3);
    memcpy(frame + OCTO_YAMUX_HEADER_LEN, "abc", 3);
    CHECK_EQ_INT(octo_yamux_recv(&p.s, p.now, frame, sizeof(frame)), (int)sizeof(frame));
    CHECK_OK(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_FIN, 11, 5));
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->frames_unknown_stream, 2);
    EXPECT_NO_EV(&p.s);
    pair_deinit(&p);
}

static void test_reset(void)
{
    struct pair p;
    CHECK_OK(pair_init(&p, MODE_BYTES));
    uint32_t a, b;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &a));
    CHECK_OK(octo_yamux_open(&p.c, p.now, &b));
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, a, (const uint8_t *)"data", 4), 4);
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_OPENED, a);
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_READABLE, a);
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_OPENED, b);
    /* client resets a while the server still holds unread data */
    CHECK_OK(octo_yamux_reset(&p.c, a));
    CHECK_OUT_TAIL(&p.c, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_RST, a, 0);
    CHECK_ERR(octo_yamux_reset(&p.c, a), OCTO_ESTATE);
    CHECK_ERR(octo_yamux_write(&p.c, p.now, a, (const uint8_t *)"x", 1), OCTO_ESTATE);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_CLOSED, a);
    CHECK_OK(pump(&p));
    uint8_t buf[8];
    CHECK_ERR(octo_yamux_read(&p.s, p.now, a, buf, sizeof(buf)), OCTO_ESTATE);
    CHECK_ERR(octo_yamux_write(&p.s, p.now, a, (const uint8_t *)"x", 1), OCTO_ESTATE);
    CHECK_ERR(octo_yamux_close(&p.s, a), OCTO_ESTATE);
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_RESET, a);
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_CLOSED, a);
    CHECK_ERR(octo_yamux_read(&p.s, p.now, a, buf, sizeof(buf)), OCTO_ENOTFOUND);
    /* late data for the reset stream is dropped, not an error */
    CHECK_EQ_INT(octo_yamux_write(&p.s, p.now, b, (const uint8_t *)"zz", 2), 2);
    CHECK_OK(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_DATA, 0, a, 0));
    /* the server resets b after a half-close: the client gets RESET then CLOSED */
    CHECK_OK(octo_yamux_close(&p.s, b));
    CHECK_OK(octo_yamux_reset(&p.s, b));
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_CLOSED, b);
    CHECK_OK(pump(&p));
    /* the reset drops the unread data and its READABLE */
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_RESET, b);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_CLOSED, b);
    EXPECT_NO_EV(&p.c);
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->resets_in, 1);
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->resets_out, 1);
    CHECK_EQ_U64(p.c.stream_count, 0);
    CHECK_EQ_U64(p.s.stream_count, 0);
    save_seed(&p, "reset");
    pair_deinit(&p);
}

static void test_goaway(void)
{
    struct pair p;
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_OPENED, id);
    CHECK_ERR(octo_yamux_goaway(&p.s, 3), OCTO_EINVAL);
    CHECK_OK(octo_yamux_goaway(&p.s, OCTO_YAMUX_GOAWAY_NORMAL));
    CHECK_OUT_TAIL(&p.s, OCTO_YAMUX_TYPE_GOAWAY, 0, 0, 0);
    CHECK_OK(octo_yamux_goaway(&p.s, OCTO_YAMUX_GOAWAY_NORMAL)); /* once */
    uint32_t other;
    CHECK_ERR(octo_yamux_open(&p.s, p.now, &other), OCTO_ESTATE);
    CHECK_OK(pump(&p));
    struct octo_yamux_event ev;
    CHECK(octo_yamux_poll(&p.c, &ev));
    CHECK_EQ_INT(ev.type, OCTO_YAMUX_EV_GOAWAY_RECEIVED);
    CHECK_EQ_INT(ev.code, 0);
    CHECK_ERR(octo_yamux_open(&p.c, p.now, &other), OCTO_ESTATE);
    /* the existing stream keeps working both ways */
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, (const uint8_t *)"abc", 3), 3);
    CHECK_EQ_INT(octo_yamux_write(&p.s, p.now, id, (const uint8_t *)"de", 2), 2);
    CHECK_OK(pump(&p));
    uint8_t buf[8];
    CHECK_EQ_INT(octo_yamux_read(&p.s, p.now, id, buf, sizeof(buf)), 3);
    CHECK_EQ_INT(octo_yamux_read(&p.c, p.now, id, buf, sizeof(buf)), 2);
    /* a SYN after our GoAway is refused with RST */
    CHECK_OK(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 5, 0));
    CHECK_OUT_TAIL(&p.s, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_RST, 5, 0);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->streams_refused, 1);
    save_seed(&p, "goaway");
    pair_deinit(&p);
}

static void test_ping_rtt(void)
{
    struct pair p;
    CHECK_OK(pair_init(&p, MODE_BYTES));
    CHECK_OK(octo_yamux_ping(&p.c, p.now));
    CHECK_OUT_TAIL(&p.c, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_SYN, 0, 1);
    CHECK_OK(octo_yamux_ping(&p.c, p.now)); /* one outstanding: nothing sent */
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->pings_sent, 1);
    bool progress = false;
    CHECK_OK(move(&p, &p.c, &p.s, &progress));
    CHECK_OUT_TAIL(&p.s, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_ACK, 0, 1);
    p.now += 37 * MS;
    CHECK_OK(move(&p, &p.s, &p.c, &progress));
    struct octo_yamux_event ev;
    CHECK(octo_yamux_poll(&p.c, &ev));
    CHECK_EQ_INT(ev.type, OCTO_YAMUX_EV_PING_RTT);
    CHECK_EQ_U64(ev.rtt_ns, 37 * MS);
    EXPECT_NO_EV(&p.c);
    EXPECT_NO_EV(&p.s);
    /* unsolicited and mismatched ACKs are ignored and counted */
    CHECK_OK(feed_frame(&p.c, p.now, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_ACK, 0, 1));
    CHECK_OK(octo_yamux_ping(&p.c, p.now));
    CHECK_OK(feed_frame(&p.c, p.now, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_ACK, 0, 99));
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->ping_acks_ignored, 2);
    EXPECT_NO_EV(&p.c);
    CHECK_OK(feed_frame(&p.c, p.now + 2 * MS, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_ACK, 0, 2));
    CHECK(octo_yamux_poll(&p.c, &ev));
    CHECK_EQ_INT(ev.type, OCTO_YAMUX_EV_PING_RTT);
    CHECK_EQ_U64(ev.rtt_ns, 2 * MS);
    /* a Ping with neither SYN nor ACK is a protocol error */
    CHECK_ERR(feed_frame(&p.c, p.now, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_FIN, 0, 1),
              OCTO_EMALFORMED);
    EXPECT_SESSION_ERROR(&p.c, OCTO_YAMUX_ERR_BAD_FLAGS);
    pair_deinit(&p);
}

static void test_keepalive(void)
{
    struct pair p;
    struct octo_yamux_config cc, sc;
    cfg_default(&cc, true);
    cc.keepalive_off = false; /* defaults: 30 s interval, 15 s timeout */
    cfg_default(&sc, false);
    CHECK_OK(pair_init_cfg(&p, &cc, &sc, MODE_COALESCED));
    CHECK_EQ_U64(octo_yamux_next_deadline(&p.s), OCTO_YAMUX_TICK_NEVER);
    CHECK_EQ_U64(octo_yamux_next_deadline(&p.c), 0); /* first ping right away */
    CHECK_OK(octo_yamux_on_timer(&p.c, p.now));
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->pings_sent, 1);
    CHECK_EQ_U64(octo_yamux_next_deadline(&p.c), p.now + 15 * OCTO_NS_PER_S);
    CHECK_OK(octo_yamux_on_timer(&p.c, p.now + 1)); /* nothing due */
    octo_tick sent = p.now;
    p.now += 20 * MS;
    CHECK_OK(pump(&p));
    struct octo_yamux_event ev;
    CHECK(octo_yamux_poll(&p.c, &ev));
    CHECK_EQ_INT(ev.type, OCTO_YAMUX_EV_PING_RTT);
    CHECK_EQ_U64(octo_yamux_next_deadline(&p.c), sent + 30 * OCTO_NS_PER_S);
    CHECK_OK(octo_yamux_on_timer(&p.c, sent + 29 * OCTO_NS_PER_S));
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->pings_sent, 1);
    p.now = sent + 30 * OCTO_NS_PER_S;
    CHECK_OK(octo_yamux_on_timer(&p.c, p.now));
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->pings_sent, 2);
    /* the ACK never comes */
    CHECK_OK(octo_yamux_on_timer(&p.c, p.now + 15 * OCTO_NS_PER_S - 1));
    CHECK_ERR(octo_yamux_on_timer(&p.c, p.now + 15 * OCTO_NS_PER_S), OCTO_EIO);
    EXPECT_SESSION_ERROR(&p.c, OCTO_YAMUX_ERR_KEEPALIVE_TIMEOUT);
    CHECK_ERR(feed_frame(&p.c, p.now, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_ACK, 0, 2), OCTO_EIO);
    CHECK_ERR(octo_yamux_on_timer(&p.c, p.now + 16 * OCTO_NS_PER_S), OCTO_EIO);
    CHECK_EQ_U64(octo_yamux_next_deadline(&p.c), OCTO_YAMUX_TICK_NEVER);
    pair_deinit(&p);
}

/* Writes a deterministic pattern: byte at offset `off` of stream id in direction dir. */
static uint8_t pattern(uint32_t id, uint32_t dir, size_t off)
{
    return (uint8_t)(id * 131u + dir * 17u + (uint32_t)off * 7u + (uint32_t)(off >> 9));
}

static void fill_pattern(uint8_t *buf, size_t n, uint32_t id, uint32_t dir, size_t off)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern(id, dir, off + i);
}

static bool check_pattern(const uint8_t *buf, size_t n, uint32_t id, uint32_t dir, size_t off)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != pattern(id, dir, off + i))
            return false;
    }
    return true;
}

static void drain_events(struct octo_yamux *y)
{
    struct octo_yamux_event ev;
    while (octo_yamux_poll(y, &ev)) {
    }
}

static void test_window_hold_back(void)
{
    struct pair p;
    CHECK_OK(pair_init(&p, MODE_RANDOM));
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    static uint8_t big[1024 * 1024];
    fill_pattern(big, sizeof(big), id, 0, 0);
    /* exactly the initial window is accepted, in 64 KiB frames */
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, big, sizeof(big)), OCTO_YAMUX_WINDOW_INITIAL);
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, big, 1), 0);
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->frames_out, 1 + 4);
    CHECK_OK(pump(&p));
    drain_events(&p.s);
    /* nothing read: no credit comes back, the sender stays held */
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, big, 1), 0);
    struct octo_yamux_stream_info info;
    CHECK_OK(octo_yamux_stream_info(&p.s, id, &info));
    CHECK_EQ_U64(info.buffered, OCTO_YAMUX_WINDOW_INITIAL);
    CHECK_EQ_U64(info.recv_credit, 0);
    /* reading less than half the window sends no update */
    static uint8_t got[1024 * 1024];
    CHECK_EQ_INT(octo_yamux_read(&p.s, p.now, id, got, 100000), 100000);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->window_updates_out, 0);
    CHECK_OK(pump(&p));
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, big, 1), 0);
    EXPECT_NO_EV(&p.c);
    /* past half: one update for everything consumed */
    CHECK_EQ_INT(octo_yamux_read(&p.s, p.now, id, got + 100000, 31072), 31072);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->window_updates_out, 1);
    CHECK_OUT_TAIL(&p.s, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_ACK, id, 131072);
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_WRITABLE, id);
    CHECK_OK(octo_yamux_stream_info(&p.c, id, &info));
    CHECK_EQ_U64(info.send_window, 131072);
    size_t sent = OCTO_YAMUX_WINDOW_INITIAL;
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, big + sent, sizeof(big) - sent), 131072);
    sent += 131072;
    /* read the rest as it comes and check the content */
    size_t recvd = 131072;
    for (int guard = 0; recvd < sizeof(big) && guard < 1000; guard++) {
        CHECK_OK(pump(&p));
        int n = 0;
        while (recvd < sizeof(got) &&
               (n = octo_yamux_read(&p.s, p.now, id, got + recvd, sizeof(got) - recvd)) > 0)
            recvd += (size_t)n;
        if (recvd < sizeof(got))
            CHECK_ERR(n, OCTO_EAGAIN);
        CHECK_OK(pump(&p));
        if (sent < sizeof(big)) {
            n = octo_yamux_write(&p.c, p.now, id, big + sent, sizeof(big) - sent);
            CHECK_OK(n);
            sent += (size_t)n;
        }
        /* the sender's credit never exceeds what the receiver granted */
        CHECK_OK(octo_yamux_stream_info(&p.s, id, &info));
        CHECK(info.buffered + info.recv_credit + info.inflight <= info.recv_window);
    }
    CHECK_EQ_U64(recvd, sizeof(big));
    CHECK(check_pattern(got, sizeof(got), id, 0, 0));
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->protocol_errors[OCTO_YAMUX_ERR_WINDOW_EXCEEDED], 0);
    save_seed(&p, "window");
    pair_deinit(&p);
}

/* The zero-copy send: refused while output is pending, then a header for up to one frame
 * within the window; the peer accepts header + payload delivered by the caller. */
static void test_write_direct(void)
{
    struct pair p;
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    uint8_t hdr[OCTO_YAMUX_HEADER_LEN];
    static uint8_t big[300 * 1024];
    fill_pattern(big, sizeof(big), id, 0, 0);
    /* the SYN is still pending in the output: no direct frame may overtake it */
    CHECK_EQ_INT(octo_yamux_write_direct(&p.c, p.now, id, 1000, hdr), 0);
    CHECK_OK(pump(&p));
    drain_events(&p.s);
    size_t sent = 0;
    for (;;) {
        int n = octo_yamux_write_direct(&p.c, p.now, id, sizeof(big) - sent, hdr);
        CHECK(n >= 0);
        if (n == 0)
            break;
        CHECK(n <= (int)OCTO_YAMUX_FRAME_DATA_MAX);
        CHECK_OK(octo_yamux_recv(&p.s, p.now, hdr, sizeof(hdr)) == (int)sizeof(hdr) ? 0 : -1);
        CHECK_EQ_INT(octo_yamux_recv(&p.s, p.now, big + sent, (size_t)n), n);
        sent += (size_t)n;
    }
    /* exactly the initial window went out; the receiver holds it all, in order */
    CHECK_EQ_U64(sent, OCTO_YAMUX_WINDOW_INITIAL);
    static uint8_t got[300 * 1024];
    CHECK_EQ_INT(octo_yamux_read(&p.s, p.now, id, got, sizeof(got)), OCTO_YAMUX_WINDOW_INITIAL);
    CHECK(check_pattern(got, OCTO_YAMUX_WINDOW_INITIAL, id, 0, 0));
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->data_bytes_out, OCTO_YAMUX_WINDOW_INITIAL);
    CHECK_ERR(octo_yamux_write_direct(&p.c, p.now, id + 2, 10, hdr), OCTO_ENOTFOUND);
    pair_deinit(&p);
}

/* Zero-copy read: peek shows contiguous buffered bytes, consume returns credit like read. */
static void test_peek_consume(void)
{
    struct pair p;
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    static uint8_t big[200 * 1024];
    fill_pattern(big, sizeof(big), id, 0, 0);
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, big, sizeof(big)), (int)sizeof(big));
    CHECK_OK(pump(&p));
    drain_events(&p.s);
    const uint8_t *data;
    size_t got = 0;
    while (got < sizeof(big)) {
        int n = octo_yamux_peek(&p.s, id, &data);
        CHECK(n > 0);
        size_t take = (size_t)n < 7000 ? (size_t)n : 7000;
        CHECK(check_pattern(data, take, id, 0, got));
        CHECK_OK(octo_yamux_consume(&p.s, p.now, id, take));
        got += take;
    }
    CHECK_ERR(octo_yamux_peek(&p.s, id, &data), OCTO_EAGAIN);
    CHECK_ERR(octo_yamux_consume(&p.s, p.now, id, 1), OCTO_EINVAL);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->window_updates_out, 1); /* past half the window */
    CHECK_ERR(octo_yamux_peek(&p.s, id + 2, &data), OCTO_ENOTFOUND);
    pair_deinit(&p);
}

static void test_window_exceeded(void)
{
    struct pair p;
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    /* the whole window in one frame is fine; one more byte is not */
    CHECK_OK(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_DATA, OCTO_YAMUX_FLAG_SYN, 1,
                        OCTO_YAMUX_WINDOW_INITIAL));
    static uint8_t zeros[OCTO_YAMUX_WINDOW_INITIAL];
    CHECK_EQ_INT(octo_yamux_recv(&p.s, p.now, zeros, sizeof(zeros)), (int)sizeof(zeros));
    CHECK_ERR(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_DATA, 0, 1, 1), OCTO_EMALFORMED);
    CHECK_OUT_TAIL(&p.s, OCTO_YAMUX_TYPE_GOAWAY, 0, 0, OCTO_YAMUX_GOAWAY_PROTOCOL_ERROR);
    EXPECT_SESSION_ERROR(&p.s, OCTO_YAMUX_ERR_WINDOW_EXCEEDED);
    pair_deinit(&p);
    /* a single frame larger than the window */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    CHECK_ERR(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_DATA, OCTO_YAMUX_FLAG_SYN, 1,
                         OCTO_YAMUX_WINDOW_INITIAL + 1),
              OCTO_EMALFORMED);
    EXPECT_SESSION_ERROR(&p.s, OCTO_YAMUX_ERR_WINDOW_EXCEEDED);
    pair_deinit(&p);
    /* send window overflow from a huge WindowUpdate */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    CHECK_ERR(
        feed_frame(&p.c, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_ACK, id, UINT32_MAX),
        OCTO_EMALFORMED);
    EXPECT_SESSION_ERROR(&p.c, OCTO_YAMUX_ERR_WINDOW_OVERFLOW);
    CHECK_ERR(octo_yamux_write(&p.c, p.now, id, (const uint8_t *)"x", 1), OCTO_ESTATE);
    pair_deinit(&p);
}

static void test_window_partial_frame(void)
{
    /* bytes of a Data frame still in flight are not re-granted when the app reads */
    struct octo_yamux y;
    struct octo_yamux_config cfg;
    cfg_default(&cfg, false);
    CHECK_OK(octo_yamux_init(&y, &cfg));
    CHECK_OK(feed_frame(&y, T0, OCTO_YAMUX_TYPE_DATA, OCTO_YAMUX_FLAG_SYN, 1, 200000));
    static uint8_t payload[200000];
    CHECK_EQ_INT(octo_yamux_recv(&y, T0, payload, 150000), 150000);
    struct octo_yamux_stream_info info;
    CHECK_OK(octo_yamux_stream_info(&y, 1, &info));
    CHECK_EQ_U64(info.inflight, 50000);
    CHECK_EQ_U64(info.buffered, 150000);
    CHECK_EQ_U64(info.recv_credit, OCTO_YAMUX_WINDOW_INITIAL - 200000);
    static uint8_t got[200000];
    CHECK_EQ_INT(octo_yamux_read(&y, T0, 1, got, sizeof(got)), 150000);
    CHECK_OUT_TAIL(&y, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_ACK, 1, 150000);
    CHECK_EQ_INT(octo_yamux_recv(&y, T0, payload, 50000), 50000);
    CHECK_OK(octo_yamux_stream_info(&y, 1, &info));
    CHECK_EQ_U64(info.inflight, 0);
    CHECK_EQ_U64(info.buffered + info.recv_credit, OCTO_YAMUX_WINDOW_INITIAL);
    /* the peer may use exactly the credit it has, not more */
    CHECK_ERR(feed_frame(&y, T0, OCTO_YAMUX_TYPE_DATA, 0, 1, info.recv_credit + 1),
              OCTO_EMALFORMED);
    EXPECT_SESSION_ERROR(&y, OCTO_YAMUX_ERR_WINDOW_EXCEEDED);
    octo_yamux_deinit(&y);
}

static void test_malformed_headers(void)
{
    static const struct {
        const char *hex;
        enum octo_yamux_reason reason;
    } cases[] = {
        {"010100010000000100000000", OCTO_YAMUX_ERR_BAD_VERSION},
        {"ff0000000000000000000000", OCTO_YAMUX_ERR_BAD_VERSION},
        {"000400000000000100000000", OCTO_YAMUX_ERR_BAD_TYPE},
        {"00ff00000000000000000000", OCTO_YAMUX_ERR_BAD_TYPE},
        {"000100000000000000000000", OCTO_YAMUX_ERR_BAD_STREAM_ID},
        {"000300000000000100000000", OCTO_YAMUX_ERR_BAD_STREAM_ID},
        {"000200000000000000000000", OCTO_YAMUX_ERR_BAD_FLAGS},
        /* Data for an unknown stream longer than any window we could grant */
        {"000000000000000901000001", OCTO_YAMUX_ERR_FRAME_TOO_BIG},
    };
    for (size_t i = 0; i < OCTO_ARRAY_LEN(cases); i++) {
        for (int mode = MODE_COALESCED; mode <= MODE_BYTES; mode++) {
            struct octo_yamux y;
            struct octo_yamux_config cfg;
            cfg_default(&cfg, false);
            CHECK_OK(octo_yamux_init(&y, &cfg));
            size_t n;
            const uint8_t *h = octo_test_hex(cases[i].hex, &n);
            int rc = 0;
            if (mode == MODE_COALESCED) {
                rc = octo_yamux_recv(&y, T0, h, n);
            } else {
                for (size_t k = 0; k < n && rc >= 0; k++) {
                    rc = octo_yamux_recv(&y, T0, h + k, 1);
                    if (k + 1 < n)
                        CHECK_EQ_INT(rc, 1);
                }
            }
            CHECK_ERR(rc, OCTO_EMALFORMED);
            EXPECT_SESSION_ERROR(&y, cases[i].reason);
            CHECK_EQ_U64(octo_yamux_stats(&y)->protocol_errors[cases[i].reason], 1);
            octo_yamux_deinit(&y);
        }
    }
}

/* Moves `total` bytes client -> server on one stream, reading as fast as it arrives, with
 * the clock advancing `step` per round. Returns the server's final receive window. */
static uint32_t transfer(struct pair *p, uint32_t id, size_t total, uint64_t step)
{
    static uint8_t chunk[256 * 1024];
    static uint8_t got[256 * 1024];
    size_t sent = 0, recvd = 0;
    bool ok = true;
    for (int guard = 0; recvd < total && guard < 100000 && ok; guard++) {
        while (sent < total) {
            size_t want = total - sent < sizeof(chunk) ? total - sent : sizeof(chunk);
            fill_pattern(chunk, want, id, 0, sent);
            int n = octo_yamux_write(&p->c, p->now, id, chunk, want);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        if (pump(p) < 0)
            ok = false;
        p->now += step;
        int n;
        while ((n = octo_yamux_read(&p->s, p->now, id, got, sizeof(got))) > 0) {
            if (!check_pattern(got, (size_t)n, id, 0, recvd))
                ok = false;
            recvd += (size_t)n;
        }
        if (pump(p) < 0)
            ok = false;
        drain_events(&p->c);
        drain_events(&p->s);
    }
    struct octo_yamux_stream_info info;
    if (!ok || recvd != total || octo_yamux_stream_info(&p->s, id, &info) < 0)
        return 0;
    return info.recv_window;
}

static void establish_rtt(struct pair *p, struct octo_yamux *pinger, uint64_t rtt)
{
    bool progress = false;
    struct octo_yamux *other = pinger == &p->c ? &p->s : &p->c;
    if (octo_yamux_ping(pinger, p->now) < 0)
        return;
    (void)move(p, pinger, other, &progress);
    p->now += rtt;
    (void)move(p, other, pinger, &progress);
    drain_events(pinger);
}

static void test_autotune(void)
{
    struct pair p;
    /* the reader keeps up (no time passes): the window doubles up to 16 MiB */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    establish_rtt(&p, &p.s, 10 * MS);
    CHECK(p.s.rtt_known);
    CHECK_EQ_U64(p.s.rtt_ns, 10 * MS);
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    CHECK_EQ_U64(transfer(&p, id, 40u * 1024 * 1024, 0), OCTO_YAMUX_WINDOW_MAX_DEFAULT);
    struct octo_yamux_stream_info info;
    CHECK_OK(octo_yamux_stream_info(&p.c, id, &info));
    CHECK(info.send_window <= OCTO_YAMUX_WINDOW_MAX_DEFAULT);
    /* few updates: at most one per half window consumed */
    CHECK(octo_yamux_stats(&p.s)->window_updates_out < 100);
    pair_deinit(&p);

    /* within 4 RTT still grows (step = RTT per round) */
    CHECK_OK(pair_init(&p, MODE_RANDOM));
    establish_rtt(&p, &p.s, 10 * MS);
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    CHECK(transfer(&p, id, 8u * 1024 * 1024, 10 * MS) > OCTO_YAMUX_WINDOW_INITIAL);
    pair_deinit(&p);

    /* the reader is slow (more than 4 RTT per half window): no growth */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    establish_rtt(&p, &p.s, 10 * MS);
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    CHECK_EQ_U64(transfer(&p, id, 4u * 1024 * 1024, 41 * MS), OCTO_YAMUX_WINDOW_INITIAL);
    pair_deinit(&p);

    /* no RTT known and no default: no growth (js) */
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    CHECK_EQ_U64(transfer(&p, id, 4u * 1024 * 1024, 0), OCTO_YAMUX_WINDOW_INITIAL);
    pair_deinit(&p);

    /* a configured default RTT until measured; a smaller configured ceiling */
    struct octo_yamux_config cc, sc;
    cfg_default(&cc, true);
    cfg_default(&sc, false);
    sc.rtt_default_ns = 50 * MS;
    sc.window_max = 1024 * 1024;
    CHECK_OK(pair_init_cfg(&p, &cc, &sc, MODE_COALESCED));
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    CHECK_EQ_U64(transfer(&p, id, 8u * 1024 * 1024, 0), 1024 * 1024);
    pair_deinit(&p);
}

#define NSTREAMS 100
#define PER_STREAM (1024u * 1024u)

static void run_many_streams(int mode)
{
    struct pair p;
    CHECK_OK(pair_init(&p, mode));
    uint32_t ids[NSTREAMS];
    size_t sent[2][NSTREAMS], recvd[2][NSTREAMS];
    bool closed[2][NSTREAMS], fin_sent[2][NSTREAMS];
    memset(sent, 0, sizeof(sent));
    memset(recvd, 0, sizeof(recvd));
    memset(closed, 0, sizeof(closed));
    memset(fin_sent, 0, sizeof(fin_sent));
    for (int i = 0; i < NSTREAMS; i++) {
        CHECK_OK(octo_yamux_open(&p.c, p.now, &ids[i]));
        CHECK_EQ_U64(ids[i], 1 + 2 * (uint32_t)i);
    }
    static uint8_t buf[96 * 1024];
    struct octo_yamux *side[2] = {&p.c, &p.s};
    int closed_count = 0;
    int guard;
    for (guard = 0; closed_count < 2 * NSTREAMS && guard < 20000; guard++) {
        for (int d = 0; d < 2; d++) {
            for (int i = 0; i < NSTREAMS; i++) {
                if (closed[d][i] || fin_sent[d][i])
                    continue;
                if (sent[d][i] < PER_STREAM) {
                    size_t want = PER_STREAM - sent[d][i];
                    if (want > sizeof(buf))
                        want = sizeof(buf);
                    fill_pattern(buf, want, ids[i], (uint32_t)d, sent[d][i]);
                    int n = octo_yamux_write(side[d], p.now, ids[i], buf, want);
                    if (n == OCTO_ENOTFOUND && d == 1)
                        continue; /* not opened on the server yet */
                    CHECK_OK(n);
                    sent[d][i] += (size_t)n;
                }
                if (sent[d][i] == PER_STREAM) {
                    CHECK_OK(octo_yamux_close(side[d], ids[i]));
                    fin_sent[d][i] = true;
                }
            }
        }
        CHECK_OK(pump(&p));
        for (int d = 0; d < 2; d++) {
            for (int i = 0; i < NSTREAMS; i++) {
                if (closed[d][i])
                    continue;
                int n;
                while ((n = octo_yamux_read(side[d], p.now, ids[i], buf, sizeof(buf))) > 0) {
                    CHECK(check_pattern(buf, (size_t)n, ids[i], (uint32_t)(1 - d), recvd[d][i]));
                    recvd[d][i] += (size_t)n;
                }
            }
            struct octo_yamux_event ev;
            while (octo_yamux_poll(side[d], &ev)) {
                if (ev.type == OCTO_YAMUX_EV_STREAM_CLOSED) {
                    uint32_t i = (ev.stream_id - 1) / 2;
                    CHECK(i < NSTREAMS);
                    CHECK(!closed[d][i]);
                    CHECK_EQ_U64(recvd[d][i], PER_STREAM);
                    closed[d][i] = true;
                    closed_count++;
                }
                CHECK(ev.type != OCTO_YAMUX_EV_STREAM_RESET);
                CHECK(ev.type != OCTO_YAMUX_EV_SESSION_ERROR);
            }
        }
        CHECK_OK(pump(&p));
    }
    CHECK_EQ_INT(closed_count, 2 * NSTREAMS);
    CHECK_EQ_U64(p.c.stream_count, 0);
    CHECK_EQ_U64(p.s.stream_count, 0);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->data_bytes_in, (uint64_t)NSTREAMS * PER_STREAM);
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->data_bytes_in, (uint64_t)NSTREAMS * PER_STREAM);
    save_seed(&p, mode == MODE_RANDOM ? "many-random" : "many-coalesced");
    pair_deinit(&p);
}

static void test_many_streams_coalesced(void)
{
    run_many_streams(MODE_COALESCED);
}

static void test_many_streams_random(void)
{
    run_many_streams(MODE_RANDOM);
}

static void test_stream_limits(void)
{
    struct pair p;
    struct octo_yamux_config cc, sc;
    cfg_default(&cc, true);
    cc.max_outbound_streams = 6;
    cfg_default(&sc, false);
    sc.max_inbound_streams = 4;
    CHECK_OK(pair_init_cfg(&p, &cc, &sc, MODE_BYTES));
    uint32_t ids[6];
    for (int i = 0; i < 6; i++)
        CHECK_OK(octo_yamux_open(&p.c, p.now, &ids[i]));
    uint32_t extra;
    CHECK_ERR(octo_yamux_open(&p.c, p.now, &extra), OCTO_EBUSY); /* outbound limit */
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, ids[5], (const uint8_t *)"lost", 4), 4);
    CHECK_OK(pump(&p));
    /* the server took 4 and refused 2 with RST (data for them skipped) */
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->streams_refused, 2);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->streams_opened_in, 4);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_RESET, ids[4]);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_CLOSED, ids[4]);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_RESET, ids[5]);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_CLOSED, ids[5]);
    /* the client has room again */
    CHECK_OK(octo_yamux_open(&p.c, p.now, &extra));
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_RESET, extra);
    /* a server stream ends -> room for one more inbound */
    for (int i = 0; i < 4; i++)
        EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_OPENED, ids[i]);
    CHECK_OK(octo_yamux_reset(&p.s, ids[0]));
    /* the stream awaiting its CLOSED poll still counts */
    CHECK_OK(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 101, 0));
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->streams_refused, 4);
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_CLOSED, ids[0]);
    CHECK_OK(feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 103, 0));
    EXPECT_EV(&p.s, OCTO_YAMUX_EV_STREAM_OPENED, 103);
    save_seed(&p, "limits");
    pair_deinit(&p);
}

static void test_unacked_limits(void)
{
    struct pair p;
    struct octo_yamux_config cc, sc;
    cfg_default(&cc, true);
    cc.max_unacked_outbound = 3;
    cfg_default(&sc, false);
    sc.max_unacked_inbound = 2;
    CHECK_OK(pair_init_cfg(&p, &cc, &sc, MODE_COALESCED));
    uint32_t a, b, c, d;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &a));
    CHECK_OK(octo_yamux_open(&p.c, p.now, &b));
    CHECK_OK(octo_yamux_open(&p.c, p.now, &c));
    CHECK_ERR(octo_yamux_open(&p.c, p.now, &d), OCTO_EBUSY); /* 3 unacked outbound */
    CHECK_OK(pump(&p));
    /* the server app has not accepted: the third exceeds its ACK backlog */
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_RESET, c);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_CLOSED, c);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->streams_refused, 1);
    CHECK_OK(octo_yamux_open(&p.c, p.now, &d)); /* c's end freed an unacked slot */
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_RESET, d);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_STREAM_CLOSED, d);
    /* accepting frees backlog slots on both sides */
    CHECK_OK(octo_yamux_accept(&p.s, a));
    CHECK_EQ_INT(octo_yamux_write(&p.s, p.now, b, (const uint8_t *)"ack", 3), 3);
    CHECK_OK(pump(&p));
    CHECK_EQ_U64(p.c.outbound_unacked, 0);
    CHECK_EQ_U64(p.s.inbound_unacked, 0);
    uint32_t e;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &e));
    CHECK_OK(pump(&p));
    struct octo_yamux_event ev;
    bool opened = false;
    while (octo_yamux_poll(&p.s, &ev))
        opened = opened || (ev.type == OCTO_YAMUX_EV_STREAM_OPENED && ev.stream_id == e);
    CHECK(opened);
    pair_deinit(&p);
}

static void test_output_backpressure(void)
{
    struct pair p;
    struct octo_yamux_config cc, sc;
    cfg_default(&cc, true);
    cc.out_max = 10000;
    cfg_default(&sc, false);
    CHECK_OK(pair_init_cfg(&p, &cc, &sc, MODE_COALESCED));
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    static uint8_t data[50000];
    fill_pattern(data, sizeof(data), id, 0, 0);
    int n = octo_yamux_write(&p.c, p.now, id, data, sizeof(data));
    CHECK(n > 0 && n < 10000);
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, data + n, sizeof(data) - (size_t)n), 0);
    const uint8_t *d;
    size_t len;
    octo_yamux_out(&p.c, &d, &len);
    CHECK(len <= 10000);
    /* draining a little is not enough; draining past half is */
    octo_yamux_out_consume(&p.c, 12);
    EXPECT_NO_EV(&p.c);
    CHECK_OK(pump(&p));
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_WRITABLE, id);
    pair_deinit(&p);

    /* window arrives while the output is full (filled by another stream's complete write):
     * WRITABLE comes once the output drains */
    cfg_default(&cc, true);
    cc.out_max = 300000;
    CHECK_OK(pair_init_cfg(&p, &cc, &sc, MODE_COALESCED));
    uint32_t a, b;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &a));
    CHECK_OK(octo_yamux_open(&p.c, p.now, &b));
    static uint8_t big[1024 * 1024];
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, a, big, sizeof(big)), OCTO_YAMUX_WINDOW_INITIAL);
    size_t rest = 300000 - 2 * OCTO_YAMUX_HEADER_LEN - 4 * (65536 + OCTO_YAMUX_HEADER_LEN) -
                  OCTO_YAMUX_HEADER_LEN;
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, b, big, rest), (int)rest);
    EXPECT_NO_EV(&p.c);
    CHECK_OK(feed_frame(&p.c, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_ACK, a, 1000));
    EXPECT_NO_EV(&p.c);
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, a, big, 1), 0);
    out_clear(&p.c);
    EXPECT_EV(&p.c, OCTO_YAMUX_EV_WRITABLE, a);
    EXPECT_NO_EV(&p.c);
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, a, big, sizeof(big)), 1000);
    pair_deinit(&p);

    /* recv stops consuming when the control headroom is used up (ping flood) */
    struct octo_yamux y;
    cfg_default(&sc, false);
    sc.out_max = 1024;
    CHECK_OK(octo_yamux_init(&y, &sc));
    size_t nping = (1024 + OCTO_YAMUX_OUT_HEADROOM) / OCTO_YAMUX_HEADER_LEN + 10;
    uint8_t *flood = octo_malloc(nping * OCTO_YAMUX_HEADER_LEN);
    CHECK(flood != NULL);
    for (size_t i = 0; i < nping; i++)
        octo_yamux_header_encode(flood + i * OCTO_YAMUX_HEADER_LEN, OCTO_YAMUX_TYPE_PING,
                                 OCTO_YAMUX_FLAG_SYN, 0, (uint32_t)i);
    size_t total = nping * OCTO_YAMUX_HEADER_LEN;
    int rc = octo_yamux_recv(&y, T0, flood, total);
    CHECK(rc > 0 && (size_t)rc < total);
    CHECK_EQ_INT(octo_yamux_recv(&y, T0, flood + rc, total - (size_t)rc), 0);
    /* application control frames are refused rather than eating the reserve */
    uint32_t sid;
    CHECK_ERR(octo_yamux_open(&y, T0, &sid), OCTO_EBUSY);
    CHECK_ERR(octo_yamux_ping(&y, T0), OCTO_EBUSY);
    CHECK_ERR(octo_yamux_goaway(&y, 0), OCTO_EBUSY);
    octo_yamux_out(&y, &d, &len);
    CHECK(len <= 1024 + OCTO_YAMUX_OUT_HEADROOM);
    octo_yamux_out_consume(&y, len);
    size_t off = (size_t)rc;
    while (off < total) {
        rc = octo_yamux_recv(&y, T0, flood + off, total - off);
        CHECK(rc > 0);
        off += (size_t)rc;
        octo_yamux_out(&y, &d, &len);
        octo_yamux_out_consume(&y, len);
    }
    CHECK_EQ_U64(octo_yamux_stats(&y)->pings_answered, nping);
    octo_free(flood);
    octo_yamux_deinit(&y);
}

static void test_update_waits_for_room(void)
{
    /* a window update that finds no output room is sent from out_consume */
    struct pair p;
    struct octo_yamux_config cc, sc;
    cfg_default(&cc, true);
    cfg_default(&sc, false);
    sc.out_max = 1024;
    CHECK_OK(pair_init_cfg(&p, &cc, &sc, MODE_COALESCED));
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    static uint8_t data[OCTO_YAMUX_WINDOW_INITIAL];
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, data, sizeof(data)), (int)sizeof(data));
    CHECK_OK(pump(&p));
    drain_events(&p.s);
    /* fill the server's output with ping answers */
    size_t k = 0;
    while (control_room_test(&p.s)) {
        CHECK_OK(
            feed_frame(&p.s, p.now, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_SYN, 0, (uint32_t)k));
        k++;
    }
    static uint8_t got[OCTO_YAMUX_WINDOW_INITIAL];
    CHECK_EQ_INT(octo_yamux_read(&p.s, p.now, id, got, sizeof(got)), (int)sizeof(got));
    CHECK_EQ_U64(p.s.updates_pending, 1);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->window_updates_out, 0);
    out_clear(&p.s);
    CHECK_EQ_U64(p.s.updates_pending, 0);
    CHECK_EQ_U64(octo_yamux_stats(&p.s)->window_updates_out, 1);
    CHECK_OUT_TAIL(&p.s, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_ACK, id,
                   OCTO_YAMUX_WINDOW_INITIAL);
    pair_deinit(&p);
}

static void test_read_errors(void)
{
    struct pair p;
    CHECK_OK(pair_init(&p, MODE_COALESCED));
    uint32_t id;
    CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
    uint8_t buf[4];
    CHECK_ERR(octo_yamux_read(&p.c, p.now, id, buf, 0), OCTO_EINVAL);
    CHECK_ERR(octo_yamux_read(&p.c, p.now, id, buf, sizeof(buf)), OCTO_EAGAIN);
    CHECK_ERR(octo_yamux_read(&p.c, p.now, 77, buf, sizeof(buf)), OCTO_ENOTFOUND);
    CHECK_ERR(octo_yamux_accept(&p.c, 77), OCTO_ENOTFOUND);
    CHECK_ERR(octo_yamux_stream_info(&p.c, 77, &(struct octo_yamux_stream_info){0}),
              OCTO_ENOTFOUND);
    CHECK_ERR(octo_yamux_write(&p.c, p.now, 77, buf, 1), OCTO_ENOTFOUND);
    CHECK_ERR(octo_yamux_close(&p.c, 77), OCTO_ENOTFOUND);
    CHECK_ERR(octo_yamux_reset(&p.c, 77), OCTO_ENOTFOUND);
    CHECK_EQ_INT(octo_yamux_write(&p.c, p.now, id, buf, 0), 0);
    /* data after the peer's FIN is dropped and counted */
    CHECK_OK(feed_frame(&p.c, p.now, OCTO_YAMUX_TYPE_WINDOW_UPDATE,
                        OCTO_YAMUX_FLAG_ACK | OCTO_YAMUX_FLAG_FIN, id, 0));
    uint8_t frame[OCTO_YAMUX_HEADER_LEN + 2];
    octo_yamux_header_encode(frame, OCTO_YAMUX_TYPE_DATA, 0, id, 2);
    frame[12] = 'h';
    frame[13] = 'i';
    CHECK_EQ_INT(octo_yamux_recv(&p.c, p.now, frame, sizeof(frame)), (int)sizeof(frame));
    CHECK_EQ_U64(octo_yamux_stats(&p.c)->data_after_fin, 1);
    CHECK_EQ_INT(octo_yamux_read(&p.c, p.now, id, buf, sizeof(buf)), 0);
    pair_deinit(&p);
}

static void test_oom(void)
{
    /* a stream allocation failure ends the session with GoAway(internal error) */
    struct octo_yamux y;
    struct octo_yamux_config cfg;
    cfg_default(&cfg, false);
    CHECK_OK(octo_yamux_init(&y, &cfg));
    octo_alloc_fail_after(1, 0);
    int rc = feed_frame(&y, T0, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 1, 0);
    octo_alloc_fail_after(0, 0);
    CHECK_ERR(rc, OCTO_ENOMEM);
    CHECK_OUT_TAIL(&y, OCTO_YAMUX_TYPE_GOAWAY, 0, 0, OCTO_YAMUX_GOAWAY_INTERNAL_ERROR);
    EXPECT_SESSION_ERROR(&y, OCTO_YAMUX_ERR_NO_MEMORY);
    octo_yamux_deinit(&y);
    /* a receive buffer allocation failure */
    CHECK_OK(octo_yamux_init(&y, &cfg));
    CHECK_OK(feed_frame(&y, T0, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, 1, 0));
    octo_alloc_fail_after(1, 0);
    rc = feed_frame(&y, T0, OCTO_YAMUX_TYPE_DATA, 0, 1, 10);
    octo_alloc_fail_after(0, 0);
    CHECK_ERR(rc, OCTO_ENOMEM);
    octo_yamux_deinit(&y);
    /* an open that cannot allocate */
    CHECK_OK(octo_yamux_init(&y, &cfg));
    uint32_t id;
    octo_alloc_fail_after(1, 0);
    rc = octo_yamux_open(&y, T0, &id);
    octo_alloc_fail_after(0, 0);
    CHECK_ERR(rc, OCTO_ENOMEM);
    CHECK_EQ_U64(y.outbound_count, 0);
    octo_yamux_deinit(&y);
}

static void test_deinit_with_live_streams(void)
{
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    struct pair p;
    CHECK_OK(pair_init(&p, MODE_RANDOM));
    static uint8_t data[100000];
    for (int i = 0; i < 10; i++) {
        uint32_t id;
        CHECK_OK(octo_yamux_open(&p.c, p.now, &id));
        CHECK_OK(octo_yamux_write(&p.c, p.now, id, data, sizeof(data)));
    }
    CHECK_OK(pump(&p));
    CHECK_OK(octo_yamux_reset(&p.c, 1)); /* CLOSED never polled */
    pair_deinit(&p);
    octo_alloc_stats(&after);
    CHECK_EQ_U64(after.allocs_live, before.allocs_live);
    CHECK_EQ_U64(after.bytes_live, before.bytes_live);
}

int main(void)
{
    OCTO_RUN(test_header_encode);
    OCTO_RUN(test_config);
    OCTO_RUN(test_basic_coalesced);
    OCTO_RUN(test_basic_bytes);
    OCTO_RUN(test_basic_random);
    OCTO_RUN(test_parity_and_ids);
    OCTO_RUN(test_reset);
    OCTO_RUN(test_goaway);
    OCTO_RUN(test_ping_rtt);
    OCTO_RUN(test_keepalive);
    OCTO_RUN(test_window_hold_back);
    OCTO_RUN(test_write_direct);
    OCTO_RUN(test_peek_consume);
    OCTO_RUN(test_window_exceeded);
    OCTO_RUN(test_window_partial_frame);
    OCTO_RUN(test_malformed_headers);
    OCTO_RUN(test_autotune);
    OCTO_RUN(test_many_streams_coalesced);
    OCTO_RUN(test_many_streams_random);
    OCTO_RUN(test_stream_limits);
    OCTO_RUN(test_unacked_limits);
    OCTO_RUN(test_output_backpressure);
    OCTO_RUN(test_update_waits_for_room);
    OCTO_RUN(test_read_errors);
    OCTO_RUN(test_oom);
    OCTO_RUN(test_deinit_with_live_streams);
    return octo_test_finish();
}
