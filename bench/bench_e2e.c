/*
 * bench_e2e.c — the whole task path on a devnet (`octo devnet`: 1 validator, an orchestrator
 * with the gateway, 2 providers, every process real), driven by the OpenAI wire format from a
 * libcurl multi client with C requests in flight.
 *
 * Each row is <model>_c<C>, C the requests in flight:
 *   <model>_tasks_per_s          completed chat tasks per second, C at a time
 *   <model>_latency_p50/p95/p99  request to whole answer, as the client sees it
 *   <model>_direct_p50/p95       reference: the same tasks as a direct call to the provider
 *                                (ASSIGN to RESULT on its /octo/task/1.0.0 stream, measured by
 *                                the orchestrator in the same request: x-octo-provider-us)
 *   <model>_gateway_overhead_p50/p95   the gateway's own time per request: the request's time
 *                                in the orchestrator minus that direct call
 *                                (x-octo-gateway-overhead-us)
 *
 * Models: "noop", the providers' no-op agent (answered at once: the orchestration path alone —
 * key check, parse, durable task record, escrow, scheduling, the task stream, the receipt
 * check, the charge), and "tiny", the generated test model run by octo-runner in a fresh
 * sandbox per task. Design targets printed beside them: 10,000 tasks/s, p95 < 100 ms, gateway
 * overhead p50 <= 0.5 ms. Figures only: nothing fails on a slow machine.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "bench.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OCTO_BENCH_OCTO
#error "OCTO_BENCH_OCTO: the octo binary"
#endif

#define E2E_INFLIGHT_MAX 64

struct req {
    CURL *h;
    char body[512];
    uint64_t t0;
    char hdr[1024];
    size_t hlen;
};

struct run {
    const char *model;
    const char *label; /* metric prefix: model and in-flight count */
    int total, inflight;
    uint64_t *lat, *direct, *over; /* ns, ns, ns per completed request */
    int done, failed;
};

static char g_url[128], g_key[200];

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
    struct req *r = ctx;
    size_t len = sz * n;
    if (r->hlen + len < sizeof(r->hdr)) {
        memcpy(r->hdr + r->hlen, p, len);
        r->hlen += len;
        r->hdr[r->hlen] = '\0';
    }
    return len;
}

static uint64_t header_us(const struct req *r, const char *name)
{
    const char *h = strcasestr(r->hdr, name);
    return h != NULL ? strtoull(h + strlen(name), NULL, 10) : 0;
}

static void start_req(CURLM *m, struct req *r, const char *model, int i, struct curl_slist *headers)
{
    snprintf(r->body, sizeof(r->body),
             "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"task %d\"}],"
             "\"max_tokens\":8,\"temperature\":0}",
             model, i);
    r->hlen = 0;
    r->hdr[0] = '\0';
    curl_easy_reset(r->h);
    curl_easy_setopt(r->h, CURLOPT_URL, g_url);
    curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(r->h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
    curl_easy_setopt(r->h, CURLOPT_TIMEOUT, 30L);
    r->t0 = octo_bench_now_ns();
    curl_multi_add_handle(m, r->h);
}

static double run_tasks(struct run *x)
{
    CURLM *m = curl_multi_init();
    struct curl_slist *headers = curl_slist_append(NULL, g_key);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    struct req reqs[E2E_INFLIGHT_MAX];
    int started = 0, running = 0;
    uint64_t t0 = octo_bench_now_ns();
    for (int i = 0; i < x->inflight && started < x->total; i++) {
        reqs[i].h = curl_easy_init();
        start_req(m, &reqs[i], x->model, started++, headers);
    }
    do {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct req *r;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            curl_multi_remove_handle(m, r->h);
            if (msg->data.result == CURLE_OK && code == 200) {
                x->lat[x->done] = octo_bench_now_ns() - r->t0;
                x->direct[x->done] = header_us(r, "x-octo-provider-us: ") * 1000u;
                x->over[x->done] = header_us(r, "x-octo-gateway-overhead-us: ") * 1000u;
                x->done++;
            } else {
                x->failed++;
            }
            if (started < x->total)
                start_req(m, r, x->model, started++, headers);
            else
                curl_easy_cleanup(r->h);
        }
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    } while (running > 0 || started < x->total);
    double secs = (double)(octo_bench_now_ns() - t0) / 1e9;
    curl_slist_free_all(headers);
    curl_multi_cleanup(m);
    return secs;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, int n, int p)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof(*v), cmp_u64);
    int i = (n * p) / 100;
    return (double)v[i < n ? i : n - 1] / 1e6; /* ms */
}

/* Starts `octo devnet` in dir on port; waits for its API key line. Returns its pid or -1. */
static pid_t devnet_start(const char *dir, int port, char *key, size_t cap)
{
    char portarg[16], out[600];
    snprintf(portarg, sizeof(portarg), "%d", port);
    snprintf(out, sizeof(out), "%s.out", dir);
    struct octo_bench_argv a = {0};
    const char *args[] = {OCTO_BENCH_OCTO, "devnet", "--dir",       dir, "--port",       portarg,
                          "--validators",  "1",      "--providers", "2", "--noop-agent", NULL};
    for (int i = 0; args[i] != NULL; i++)
        octo_bench_arg(&a, args[i]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, OCTO_BENCH_OCTO, &fa, NULL, a.argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    for (int t = 0; t < 1200; t++) { /* 120 s */
        usleep(100000);
        FILE *f = fopen(out, "r");
        char line[512];
        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            if (strncmp(line, "  API key   ", 12) == 0) {
                line[strcspn(line, "\r\n")] = '\0';
                snprintf(key, cap, "%.*s", (int)cap - 1, line + 12);
                fclose(f);
                return pid;
            }
        }
        if (f != NULL)
            fclose(f);
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
    }
    kill(pid, SIGTERM);
    return -1;
}

static void report_model(const struct octo_bench *b, struct run *x, double secs)
{
    char p[96], name[64];
    snprintf(p, sizeof(p), "\"model\":\"%s\",\"in_flight\":%d,\"tasks\":%d,\"failed\":%d", x->model,
             x->inflight, x->done, x->failed);
    snprintf(name, sizeof(name), "%s_tasks_per_s", x->label);
    octo_bench_report(b, name, secs > 0 ? x->done / secs : 0, "tasks/s", p);
    const int ps[] = {50, 95, 99};
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "%s_latency_p%d", x->label, ps[i]);
        octo_bench_report(b, name, pct(x->lat, x->done, ps[i]), "ms", p);
    }
    snprintf(name, sizeof(name), "%s_direct_p50", x->label);
    octo_bench_report(b, name, pct(x->direct, x->done, 50), "ms",
                      "\"reference\":\"ASSIGN to RESULT at the provider\"");
    snprintf(name, sizeof(name), "%s_direct_p95", x->label);
    octo_bench_report(b, name, pct(x->direct, x->done, 95), "ms",
                      "\"reference\":\"ASSIGN to RESULT at the provider\"");
    snprintf(name, sizeof(name), "%s_gateway_overhead_p50", x->label);
    octo_bench_report(b, name, pct(x->over, x->done, 50), "ms", p);
    snprintf(name, sizeof(name), "%s_gateway_overhead_p95", x->label);
    octo_bench_report(b, name, pct(x->over, x->done, 95), "ms", p);
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "e2e", argc, argv);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char dir[] = "/tmp/octo-bench-e2e-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char net[sizeof(dir) + 8];
    snprintf(net, sizeof(net), "%s/dn", dir);
    int port = 30000 + (int)(getpid() % 200) * 100;
    char key[160];
    pid_t dn = devnet_start(net, port, key, sizeof(key));
    if (dn < 0) {
        fprintf(stderr, "bench_e2e: the devnet did not start (see %s.out)\n", net);
        return 1;
    }
    /* a key of its own: the demo key's rate (600 a minute) would cap the run */
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "%s apikey create --home %s/net/accounts/a0 --account %064d --budget 1000000 "
             "--rate 1000000",
             OCTO_BENCH_OCTO, net, 7);
    FILE *kf = popen(cmd, "r");
    char line[256];
    while (kf != NULL && fgets(line, sizeof(line), kf) != NULL) {
        char *k = strstr(line, "octo-");
        if (k != NULL) {
            k[strcspn(k, " \r\n")] = '\0';
            snprintf(key, sizeof(key), "%s", k);
        }
    }
    if (kf != NULL)
        pclose(kf);
    snprintf(g_url, sizeof(g_url), "http://127.0.0.1:%d/v1/chat/completions", port);
    snprintf(g_key, sizeof(g_key), "Authorization: Bearer %s", key);
    struct {
        const char *model, *label;
        int full, quick, inflight;
    } plan[] = {{"noop", "noop_c1", 1000, 200, 1},
                {"noop", "noop_c32", 4000, 400, 32},
                {"tiny", "tiny_c1", 200, 40, 1},
                {"tiny", "tiny_c4", 400, 60, 4}};
    for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
        struct run x = {.model = plan[i].model,
                        .label = plan[i].label,
                        .total = b.quick ? plan[i].quick : plan[i].full,
                        .inflight = plan[i].inflight};
        x.lat = octo_calloc((size_t)x.total, sizeof(uint64_t));
        x.direct = octo_calloc((size_t)x.total, sizeof(uint64_t));
        x.over = octo_calloc((size_t)x.total, sizeof(uint64_t));
        if (x.lat == NULL || x.direct == NULL || x.over == NULL)
            return 1;
        struct run warm = x; /* a few first, so that connections and caches are warm */
        warm.total = 8 < x.total ? 8 : x.total;
        run_tasks(&warm);
        warm.done = warm.failed = 0;
        double secs = run_tasks(&x);
        report_model(&b, &x, secs);
        octo_free(x.lat);
        octo_free(x.direct);
        octo_free(x.over);
    }
    octo_bench_report(&b, "target_tasks_per_s", 10000, "tasks/s", "\"reference\":\"design\"");
    octo_bench_report(&b, "target_latency_p95", 100, "ms", "\"reference\":\"design\"");
    octo_bench_report(&b, "target_gateway_overhead_p50", 0.5, "ms", "\"reference\":\"design\"");
    kill(dn, SIGTERM);
    waitpid(dn, NULL, 0);
    char rm[128];
    snprintf(rm, sizeof(rm), "rm -rf %s %s.out", dir, net);
    if (system(rm) != 0)
        fprintf(stderr, "bench_e2e: could not remove %s\n", dir);
    curl_global_cleanup();
    return 0;
}
