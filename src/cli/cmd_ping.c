/*
 * cmd_ping.c — `octo ping MULTIADDR [-n N]`: dial a libp2p peer (octo or any other), ping it
 * N times over /ipfs/ping/1.0.0 and print each round trip, then a summary. Uses a fresh
 * throw-away identity, so it works without `octo init`. Exit status 0 when every ping was
 * answered, 1 otherwise, 2 for usage errors.
 */
#include "base/log.h"
#include "cli/cli.h"
#include "net/net.h"
#include "node/sysclock.h"

#include <string.h>

static const struct octo_flag ping_flags[] = {
    {"count", 'n', true, false, "N", "number of pings (default 5, at most 10000)"},
    {"timeout", 0, true, false, "SECONDS", "give up after this long (default 10 + N)"},
    {NULL, 0, false, false, NULL, NULL},
};

struct ping_run {
    struct octo_cli *cli;
    uv_loop_t loop;
    uv_timer_t timer;
    struct octo_net *net;
    unsigned count, answered;
    uint64_t rtt_min, rtt_max, rtt_sum;
    int status;
    bool stopping;
    char peer[OCTO_PEERID_TEXT_MAX];
};

static void stop(struct ping_run *r, int status)
{
    if (r->stopping)
        return;
    r->stopping = true;
    r->status = status;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, NULL);
    octo_net_shutdown(r->net, NULL, NULL);
}

static void on_timeout(uv_timer_t *t)
{
    struct ping_run *r = t->data;
    fprintf(r->cli->err, "octo: ping: timed out\n");
    stop(r, OCTO_ETIMEDOUT);
}

static void on_pong(struct octo_net *n, int status, uint64_t rtt_ns, bool done, void *ctx)
{
    (void)n;
    struct ping_run *r = ctx;
    if (!done && status == 0) {
        r->answered++;
        r->rtt_sum += rtt_ns;
        r->rtt_min = r->answered == 1 || rtt_ns < r->rtt_min ? rtt_ns : r->rtt_min;
        r->rtt_max = rtt_ns > r->rtt_max ? rtt_ns : r->rtt_max;
        fprintf(r->cli->out, "pong from %s: seq=%u time=%.3f ms\n", r->peer, r->answered,
                (double)rtt_ns / 1e6);
        fflush(r->cli->out);
        return;
    }
    if (status < 0)
        fprintf(r->cli->err, "octo: ping: %s\n", octo_strerror(status));
    stop(r, status);
}

static void on_dialed(struct octo_net *n, int status, const struct octo_peerid *peer, void *ctx)
{
    struct ping_run *r = ctx;
    if (status < 0) {
        fprintf(r->cli->err, "octo: ping: cannot connect: %s\n", octo_strerror(status));
        stop(r, status);
        return;
    }
    OCTO_ASSERT(octo_peerid_to_base58(peer, r->peer, sizeof(r->peer)) > 0);
    int rc = octo_net_ping(n, peer, r->count, on_pong, r);
    if (rc < 0) {
        fprintf(r->cli->err, "octo: ping: %s\n", octo_strerror(rc));
        stop(r, rc);
    }
}

static int run_ping(struct octo_cli *cli)
{
    if (cli->args.positional_count != 1)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo ping MULTIADDR [-n N]");
    struct octo_multiaddr ma;
    int rc = octo_multiaddr_from_text(cli->args.positional[0], &ma);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "invalid multiaddr '%.200s': %s",
                             cli->args.positional[0], octo_strerror(rc));
    uint64_t count = 5, timeout = 0;
    const char *v = octo_args_get(&cli->args, "count");
    if (v != NULL && (octo_cli_parse_u64(v, 10000, &count) < 0 || count == 0))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --count: expected 1..10000");
    v = octo_args_get(&cli->args, "timeout");
    if (v != NULL && (octo_cli_parse_u64(v, 86400, &timeout) < 0 || timeout == 0))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --timeout: expected 1..86400 seconds");
    if (timeout == 0)
        timeout = 10 + count;
    struct octo_identity id;
    if (octo_identity_generate(&id) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot create an identity");
    struct ping_run r = {.cli = cli, .count = (unsigned)count};
    uv_loop_init(&r.loop);
    struct octo_net_config ncfg = {.identity = &id, .clock = octo_sysclock()};
    rc = octo_net_create(&r.net, &r.loop, &ncfg);
    octo_identity_deinit(&id);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot create the network: %s",
                             octo_strerror(rc));
    rc = octo_net_start(r.net);
    uv_timer_init(&r.loop, &r.timer);
    r.timer.data = &r;
    uv_timer_start(&r.timer, on_timeout, timeout * 1000, 0);
    if (rc == 0)
        rc = octo_net_dial(r.net, &ma, on_dialed, &r);
    if (rc < 0) {
        fprintf(cli->err, "octo: ping: %s\n", octo_strerror(rc));
        stop(&r, rc);
    }
    uv_run(&r.loop, UV_RUN_DEFAULT);
    octo_net_destroy(r.net);
    OCTO_IGNORE(uv_loop_close(&r.loop));
    if (r.answered > 0)
        fprintf(cli->out, "%u/%u pings answered, rtt min/avg/max = %.3f/%.3f/%.3f ms\n", r.answered,
                r.count, (double)r.rtt_min / 1e6, (double)r.rtt_sum / r.answered / 1e6,
                (double)r.rtt_max / 1e6);
    return r.status == 0 && r.answered == r.count ? OCTO_EXIT_OK : OCTO_EXIT_FAIL;
}

const struct octo_cli_cmd octo_cmd_ping = {
    .name = "ping",
    .run = run_ping,
    .flags = ping_flags,
    .needs_config = true,
    .usage = "ping MULTIADDR [-n N] [--timeout SECONDS]",
    .summary = "dial a libp2p peer and measure round trips with /ipfs/ping/1.0.0",
};
