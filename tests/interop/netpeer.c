/*
 * netpeer.c — the C counterpart of tests/interop/js/peer.mjs: dials a libp2p peer with the
 * octo network stack and runs one test, printing one JSON object per line; exit status 0
 * only when the test held. Used by the interop tests (C dials js, C dials C) and by
 * bench_net.
 *
 *   netpeer MULTIADDR ping N | identify | echo STREAMS BYTES | big BYTES | perf UP DOWN
 *
 * echo and big send random bytes on /octo/echo/1.0.0 streams and compare the SHA-256 of
 * what comes back with what was sent; perf runs the /perf/1.0.0 exchange.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "net/net.h"
#include "node/sysclock.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_STREAMS_MAX 1000
#define CHUNK (64u * 1024u)

struct echo_job;

struct run {
    uv_loop_t loop;
    uv_timer_t timer;
    struct octo_net *net;
    struct octo_peerid peer;
    const char *test;
    unsigned long a, b;
    int ok;
    bool stopping;
    uint64_t t0;
    unsigned pings, jobs_done, jobs_ok;
    uint64_t rtts[10000];
    struct echo_job *jobs;
    uint64_t perf_received;
    uint64_t perf_sent;
};

struct echo_job {
    struct run *run;
    struct octo_net_stream *s;
    uint64_t size, generated, received;
    uint64_t seed;
    uint8_t chunk[CHUNK];
    size_t chunk_len, chunk_off;
    struct octo_sha256 sent_hash, recv_hash;
    bool done;
};

static void stop(struct run *r, int ok)
{
    if (r->stopping)
        return;
    r->stopping = true;
    r->ok = ok;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, NULL);
    octo_net_shutdown(r->net, NULL, NULL);
}

static void on_timeout(uv_timer_t *t)
{
    struct run *r = t->data;
    printf("{\"event\":\"error\",\"error\":\"timeout\"}\n");
    stop(r, 0);
}

static double ms_since(uint64_t t0)
{
    return (double)(uv_hrtime() - t0) / 1e6;
}

/* Deterministic pseudo-random content per job; the sent hash covers each chunk as it is
 * generated, and the chunk stays until the stream has taken all of it. */
static void next_chunk(struct echo_job *j)
{
    uint64_t left = j->size - j->generated;
    j->chunk_len = left < CHUNK ? (size_t)left : CHUNK;
    for (size_t i = 0; i < j->chunk_len; i++) {
        j->seed = j->seed * 6364136223846793005u + 1442695040888963407u;
        j->chunk[i] = (uint8_t)(j->seed >> 56);
    }
    octo_sha256_update(&j->sent_hash, j->chunk, j->chunk_len);
    j->generated += j->chunk_len;
    j->chunk_off = 0;
}

static void echo_send(struct echo_job *j)
{
    for (;;) {
        if (j->chunk_off == j->chunk_len) {
            if (j->generated == j->size)
                break;
            next_chunk(j);
        }
        int n = octo_net_stream_write(j->s, j->chunk + j->chunk_off, j->chunk_len - j->chunk_off);
        if (n <= 0)
            return;
        j->chunk_off += (size_t)n;
    }
    OCTO_IGNORE(octo_net_stream_close(j->s));
}

static void job_finish(struct echo_job *j, bool ok)
{
    if (j->done)
        return;
    j->done = true;
    struct run *r = j->run;
    r->jobs_done++;
    r->jobs_ok += ok;
    if (r->jobs_done == r->a) {
        bool all = r->jobs_ok == r->a;
        printf("{\"event\":\"%s\",\"streams\":%lu,\"bytes\":%lu,\"ok\":%s,\"ms\":%.3f}\n",
               strcmp(r->test, "big") == 0 ? "big" : "echo", r->a, r->b, all ? "true" : "false",
               ms_since(r->t0));
        stop(r, all);
    }
}

static void echo_open(struct octo_net_stream *s, int status, void *ctx)
{
    struct echo_job *j = ctx;
    j->s = s;
    if (status < 0) {
        fprintf(stderr, "netpeer: echo stream refused: %s\n", octo_strerror(status));
        job_finish(j, false);
        return;
    }
    echo_send(j);
}

static void echo_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    (void)s;
    struct echo_job *j = ctx;
    octo_sha256_update(&j->recv_hash, data, len);
    j->received += len;
}

static void echo_writable(struct octo_net_stream *s, void *ctx)
{
    (void)s;
    echo_send(ctx);
}

static void echo_end(struct octo_net_stream *s, void *ctx)
{
    (void)s;
    struct echo_job *j = ctx;
    uint8_t a[32], b[32];
    octo_sha256_final(&j->sent_hash, a);
    octo_sha256_final(&j->recv_hash, b);
    job_finish(j, j->received == j->size && memcmp(a, b, 32) == 0);
}

static void echo_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    struct echo_job *j = ctx;
    if (!j->done)
        fprintf(stderr, "netpeer: echo stream closed early: %s (sent %llu, received %llu)\n",
                octo_strerror(status), (unsigned long long)j->generated,
                (unsigned long long)j->received);
    job_finish(j, false); /* no-op when it already finished */
}

static const struct octo_net_stream_ops echo_ops = {
    .on_open = echo_open,
    .on_data = echo_data,
    .on_end = echo_end,
    .on_writable = echo_writable,
    .on_close = echo_close,
};

static void start_echo(struct run *r, unsigned long streams, unsigned long bytes)
{
    r->jobs = octo_calloc(streams, sizeof(*r->jobs));
    OCTO_ASSERT(r->jobs != NULL);
    r->t0 = uv_hrtime();
    for (unsigned long i = 0; i < streams; i++) {
        struct echo_job *j = &r->jobs[i];
        j->run = r;
        j->size = bytes;
        j->seed = i + 1;
        octo_sha256_init(&j->sent_hash);
        octo_sha256_init(&j->recv_hash);
        int rc = octo_net_stream_open(r->net, &r->peer, OCTO_NET_ECHO_PROTOCOL, &echo_ops, j, NULL);
        if (rc < 0) {
            fprintf(stderr, "netpeer: cannot open stream %lu: %s\n", i, octo_strerror(rc));
            job_finish(j, false);
        }
    }
}

/* ---- ping ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void on_pong(struct octo_net *n, int status, uint64_t rtt_ns, bool done, void *ctx)
{
    (void)n;
    struct run *r = ctx;
    if (!done) {
        if (r->pings < OCTO_ARRAY_LEN(r->rtts))
            r->rtts[r->pings++] = rtt_ns;
        return;
    }
    if (status < 0 || r->pings == 0) {
        printf("{\"event\":\"error\",\"error\":\"ping: %s\"}\n", octo_strerror(status));
        stop(r, 0);
        return;
    }
    qsort(r->rtts, r->pings, sizeof(r->rtts[0]), cmp_u64);
    printf("{\"event\":\"ping\",\"n\":%u,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"min_ms\":%.4f}\n",
           r->pings, (double)r->rtts[r->pings / 2] / 1e6,
           (double)r->rtts[(r->pings * 99) / 100] / 1e6, (double)r->rtts[0] / 1e6);
    stop(r, 1);
}

/* ---- identify ---- */

static void on_identify(struct octo_net *n, const struct octo_net_peer_info *info, void *ctx)
{
    (void)n;
    struct run *r = ctx;
    if (strcmp(r->test, "identify") != 0)
        return;
    printf("{\"event\":\"identify\",\"agent\":\"%s\",\"protocol_version\":\"%s\",\"protocols\":[",
           info->agent_version, info->protocol_version);
    for (size_t i = 0; i < info->protocols_count; i++)
        printf("%s\"%s\"", i ? "," : "", info->protocols[i]);
    printf("],\"addrs\":[");
    for (size_t i = 0; i < info->listen_addrs_count; i++) {
        char text[OCTO_MULTIADDR_MAX_TEXT];
        if (octo_multiaddr_to_text(&info->listen_addrs[i], text, sizeof(text)) > 0)
            printf("%s\"%s\"", i ? "," : "", text);
    }
    printf("]}\n");
    stop(r, info->protocols_count > 0);
}

/* ---- perf ---- */

static void perf_send(struct octo_net_stream *s, struct run *r)
{
    static const uint8_t zeros[CHUNK];
    while (r->perf_sent < r->a) {
        size_t len = r->a - r->perf_sent < CHUNK ? (size_t)(r->a - r->perf_sent) : CHUNK;
        int n = octo_net_stream_write(s, zeros, len);
        if (n <= 0)
            return;
        r->perf_sent += (uint64_t)n;
    }
    OCTO_IGNORE(octo_net_stream_close(s));
}

static void perf_open(struct octo_net_stream *s, int status, void *ctx)
{
    struct run *r = ctx;
    if (status < 0) {
        stop(r, 0);
        return;
    }
    uint8_t header[8];
    for (int i = 0; i < 8; i++)
        header[i] = (uint8_t)(r->b >> (56 - 8 * i));
    r->t0 = uv_hrtime();
    OCTO_ASSERT(octo_net_stream_write(s, header, 8) == 8);
    perf_send(s, r);
}

static void perf_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    (void)s;
    (void)data;
    ((struct run *)ctx)->perf_received += len;
}

static void perf_writable(struct octo_net_stream *s, void *ctx)
{
    perf_send(s, ctx);
}

static void perf_end(struct octo_net_stream *s, void *ctx)
{
    (void)s;
    struct run *r = ctx;
    double ms = ms_since(r->t0);
    printf("{\"event\":\"perf\",\"upload\":%lu,\"download\":%llu,\"ms\":%.3f,\"mbit_s\":%.1f}\n",
           r->a, (unsigned long long)r->perf_received, ms,
           (double)(r->a + r->perf_received) * 8 / ms / 1000);
    stop(r, r->perf_received == r->b);
}

static void perf_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    if (status < 0)
        stop(ctx, 0);
}

static const struct octo_net_stream_ops perf_ops = {
    .on_open = perf_open,
    .on_data = perf_data,
    .on_end = perf_end,
    .on_writable = perf_writable,
    .on_close = perf_close,
};

static void on_dialed(struct octo_net *n, int status, const struct octo_peerid *peer, void *ctx)
{
    struct run *r = ctx;
    if (status < 0) {
        printf("{\"event\":\"error\",\"error\":\"dial: %s\"}\n", octo_strerror(status));
        stop(r, 0);
        return;
    }
    r->peer = *peer;
    int rc = 0;
    if (strcmp(r->test, "ping") == 0)
        rc = octo_net_ping(n, peer, (unsigned)r->a, on_pong, r);
    else if (strcmp(r->test, "echo") == 0)
        start_echo(r, r->a, r->b);
    else if (strcmp(r->test, "big") == 0) {
        r->b = r->a; /* one stream of a bytes: job_finish compares against r->a streams */
        r->a = 1;
        start_echo(r, 1, r->b);
    } else if (strcmp(r->test, "perf") == 0)
        rc = octo_net_stream_open(n, peer, OCTO_NET_PERF_PROTOCOL, &perf_ops, r, NULL);
    if (rc < 0) {
        printf("{\"event\":\"error\",\"error\":\"%s\"}\n", octo_strerror(rc));
        stop(r, 0);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: netpeer MULTIADDR ping N|identify|echo S B|big B|perf UP DOWN\n");
        return 2;
    }
    static struct run r;
    signal(SIGPIPE, SIG_IGN);
    r.test = argv[2];
    r.a = argc > 3 ? strtoul(argv[3], NULL, 10) : 5;
    r.b = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
    if (strcmp(r.test, "echo") == 0 && (r.a == 0 || r.a > ECHO_STREAMS_MAX))
        return 2;
    struct octo_multiaddr ma;
    struct octo_identity id;
    if (octo_crypto_init() < 0 || octo_multiaddr_from_text(argv[1], &ma) < 0 ||
        octo_identity_generate(&id) < 0)
        return 2;
    struct octo_log_config log = {.level = OCTO_LOG_WARN, .clock = octo_sysclock()};
    octo_log_configure(&log);
    uv_loop_init(&r.loop);
    /* OCTO_NO_INLINE_MUXER=1: advertise no muxer in Noise, so the peer must negotiate
     * /yamux/1.0.0 with multistream-select inside the secure channel */
    const char *no_inline = getenv("OCTO_NO_INLINE_MUXER");
    struct octo_net_config cfg = {.identity = &id,
                                  .clock = octo_sysclock(),
                                  .no_inline_muxer = no_inline != NULL && no_inline[0] == '1'};
    if (octo_net_create(&r.net, &r.loop, &cfg) < 0 || octo_net_start(r.net) < 0)
        return 1;
    octo_identity_deinit(&id);
    octo_net_on_identify(r.net, on_identify, &r);
    uv_timer_init(&r.loop, &r.timer);
    r.timer.data = &r;
    uv_timer_start(&r.timer, on_timeout, 120000, 0);
    if (octo_net_dial(r.net, &ma, on_dialed, &r) < 0)
        stop(&r, 0);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    octo_net_destroy(r.net);
    OCTO_IGNORE(uv_loop_close(&r.loop));
    octo_free(r.jobs);
    fflush(stdout);
    return r.ok ? 0 : 1;
}
