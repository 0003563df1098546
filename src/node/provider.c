/*
 * provider.c — the provider role (provider.h): the model's advert, the advert client, and the
 * task server that runs assignments in sandboxes on libuv pool threads.
 *
 * A job's life: ASSIGN read on the loop -> uv_queue_work (octo_taskrun_run blocks its pool
 * thread; pieces become TOKEN frames in job->pending under p->mu and wake p->async) -> the
 * loop moves pending frames to the stream -> after_work appends RESULT or ERROR, flushes and
 * closes. A job outlives its stream when the orchestrator resets it (job->s becomes NULL and
 * job->cancel is set so the runner stops at its next piece); it is freed in after_work.
 *
 * A sealed job (an ASSIGN with "sealed") relays the Privacy Containers' exchange instead
 * (exec/privacy.h): octo_privacy_serve runs on a pool thread over one end of a socket pair, the
 * loop holds the other end as a uv_pipe_t and moves whole exchange frames between it and the
 * orchestrator's SEALED frames. The worker, in the sandbox, runs octo-runner on the model with
 * the opened request on its stdin. This node sees frames, sizes and the sandbox's outcome,
 * never the request or the text; its receipt is over the hashes of the sealed TASK and RESULT
 * frames and the metered counts of intel/taskwire.h. The job ends when both the pool thread has
 * returned and the pipe is closed (seal_maybe_end).
 */
#include "node/provider.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "chain/tx.h"
#include "crypto/hash.h"
#include "exec/privacy.h"
#include "exec/taskrun.h"
#include "infer/gguf.h"
#include "intel/advert.h"
#include "intel/sched.h"
#include "intel/taskwire.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct prov_seal;

struct prov_job {
    struct octo_provider *p;
    struct prov_job *next;
    struct octo_net_stream *s; /* NULL once the stream is gone */
    struct octo_taskwire_reader rd;
    struct octo_taskwire_assign assign;
    bool assigned, running;
    bool finishing; /* the last frame is queued: close once everything is written */
    uint64_t opened_ms;
    uv_work_t work;
    atomic_bool cancel;
    struct octo_buf pending; /* frames from the run thread (under p->mu) */
    struct octo_buf out;     /* frames being written on the loop */
    size_t out_off;
    bool overflow; /* pending passed OCTO_PROVIDER_OUT_MAX: cut off */
    struct octo_taskrun_result res;
    uint64_t started_ns;
    uint64_t start_ms, end_ms;   /* wall clock of the run, for the receipt */
    struct octo_sha256 out_hash; /* of the generated text (the run thread's) */
    struct prov_seal *seal;      /* a sealed task's relay, or NULL */
};

/* A sealed job's relay (see the top of the file). */
struct prov_seal {
    int fd;           /* the pool thread's end of the pair: it closes it when the exchange ends */
    int cancel_fd;    /* an eventfd: written, it kills the worker's sandbox */
    bool key_sent;    /* the worker's KEY went to the orchestrator */
    uv_pipe_t pipe;   /* the loop's end */
    bool pipe_closed; /* its close callback ran */
    bool closing;
    bool work_done;
    bool bad;           /* the exchange broke a rule: ends with ERROR */
    struct octo_buf rx; /* bytes from the exchange, split into whole frames here */
    char rbuf[16384];
    uint32_t frames_in; /* SEALED frames relayed into the exchange: HELLO, then TASK */
    size_t task_len;
    uint8_t task_hash[32], result_hash[32];
    bool have_result;
    int serve_rc;
    struct octo_privacy_report report;
    char threads[12], cap[12];
};

struct prov_orch {
    struct octo_provider *p;
    struct octo_multiaddr addr;
    struct octo_peerid id;
    bool acked, busy; /* busy: a dial or an advert stream is in flight */
    uint64_t next_ms; /* when to advertise next */
    struct octo_taskwire_reader rd;
};

struct octo_provider {
    struct octo_provider_config cfg;
    char model_path[4096], runner_exe[4096], worker_exe[4096];
    uint64_t model_bytes;
    char model_name[OCTO_ADVERT_NAME_MAX + 1];
    char quant[OCTO_ADVERT_QUANT_MAX + 1];
    uint8_t weights_hash[32];
    uint32_t context_len;
    struct prov_orch orch[OCTO_PROVIDER_ORCH_MAX];
    size_t n_orch;
    uv_timer_t timer;
    uv_async_t async;
    pthread_mutex_t mu;
    struct prov_job *jobs; /* every live job */
    uint32_t n_jobs;
    uint32_t running;
    bool stopped;
    bool async_closed;            /* under mu: run threads no longer wake the loop */
    bool have_chain;              /* receipts are signed for this chain */
    bool fault_commit_advertised; /* test fault (debug builds): see octo_provider_start */
    uint8_t chain_id[32];
    int handles; /* open libuv handles */
    struct octo_provider_stats stats;
};

static uint64_t wall_ms(const struct octo_provider *p)
{
    return (uint64_t)(octo_clock_wall(p->cfg.clock) / (int64_t)OCTO_NS_PER_MS);
}

/* ---- the model's description ------------------------------------------------------------ */

/* Name: the file name without directories and a .gguf suffix, reduced to the advert alphabet. */
static void model_name_from_path(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".gguf") == 0)
        n -= 5;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        char c = base[i];
        out[i] = (isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.') ? c : '-';
    }
    out[n] = '\0';
}

static int read_model(struct octo_provider *p)
{
    int fd = open(p->model_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return OCTO_ENOTFOUND;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        close(fd);
        return OCTO_EIO;
    }
    size_t len = (size_t)st.st_size;
    p->model_bytes = len;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return OCTO_EIO;
    octo_sha256(map, len, p->weights_hash);
    struct octo_gguf g;
    octo_gguf_init(&g);
    int rc = octo_gguf_parse(&g, map, len);
    if (rc == 0) {
        const char *arch = NULL;
        size_t alen = 0;
        char key[96];
        if (octo_gguf_get_str(&g, "general.architecture", &arch, &alen) == 0 && alen < 64) {
            snprintf(key, sizeof(key), "%.*s.context_length", (int)alen, arch);
            if (octo_gguf_get_u32(&g, key, &p->context_len) != 0)
                p->context_len = 0;
        }
        const struct octo_gguf_tensor *t = octo_gguf_find_tensor(&g, "blk.0.attn_q.weight");
        const char *tn = t != NULL ? octo_ggml_type_name(t->type) : "unknown";
        size_t i = 0;
        for (; tn[i] != '\0' && i < OCTO_ADVERT_QUANT_MAX; i++)
            p->quant[i] = (char)tolower((unsigned char)tn[i]);
        p->quant[i] = '\0';
    }
    octo_gguf_deinit(&g);
    munmap(map, len);
    if (p->context_len == 0 || p->context_len > OCTO_ADVERT_CONTEXT_MAX)
        p->context_len = 2048;
    return rc == 0 ? 0 : OCTO_EMALFORMED;
}

/* /ip4/0.0.0.0/... or /ip6/::/... */
static bool unspecified(const struct octo_multiaddr *ma)
{
    static const uint8_t zero[16];
    /* binary form: varint code (0x04 ip4 or 0x29 ip6), then the address bytes */
    if (ma->len >= 5 && ma->bytes[0] == 0x04)
        return memcmp(ma->bytes + 1, zero, 4) == 0;
    if (ma->len >= 17 && ma->bytes[0] == 0x29)
        return memcmp(ma->bytes + 1, zero, 16) == 0;
    return false;
}

static int make_advert(struct octo_provider *p, uint8_t *out, size_t cap, size_t *len)
{
    struct octo_advert a;
    octo_advert_init(&a);
    octo_peerid_from_pubkey(&p->cfg.identity->pub, &a.provider);
    uint64_t now = wall_ms(p);
    a.seq = now;
    a.price_in_per_mtok = p->cfg.price_in;
    a.price_out_per_mtok = p->cfg.price_out;
    a.expiry_ms = now + OCTO_PROVIDER_ADVERT_TTL_MS;
    a.max_concurrency = p->cfg.concurrency;
    a.hw_tier = OCTO_HW_TIER_CPU;
    a.isolation = OCTO_ISOLATION_PROCESS;
    memcpy(a.country, p->cfg.country, sizeof(a.country));
    memcpy(a.continent, p->cfg.continent, sizeof(a.continent));
    a.models_count = 1;
    snprintf(a.models[0].name, sizeof(a.models[0].name), "%s", p->model_name);
    snprintf(a.models[0].quant, sizeof(a.models[0].quant), "%s", p->quant);
    memcpy(a.models[0].weights_hash, p->weights_hash, 32);
    a.models[0].context_len = p->context_len;
    if (p->cfg.noop_agent) { /* the benchmark's agent: answers at once, runs nothing */
        snprintf(a.models[1].name, sizeof(a.models[1].name), "%s", OCTO_PROVIDER_NOOP_MODEL);
        snprintf(a.models[1].quant, sizeof(a.models[1].quant), "none");
        a.models[1].context_len = 1;
        a.models_count = 2;
    }
    struct octo_multiaddr addrs[OCTO_ADVERT_ENDPOINTS_MAX];
    size_t n = octo_net_listen_addrs(p->cfg.net, addrs, OCTO_ADVERT_ENDPOINTS_MAX);
    for (size_t i = 0; i < n && addrs[i].len <= OCTO_ADVERT_ENDPOINT_MAX; i++) {
        if (unspecified(&addrs[i]))
            continue; /* 0.0.0.0 or :: names no host to others */
        a.endpoints[a.endpoints_count].len = (uint16_t)addrs[i].len;
        memcpy(a.endpoints[a.endpoints_count].bytes, addrs[i].bytes, addrs[i].len);
        a.endpoints_count++;
    }
    enum octo_advert_reason why;
    int rc = octo_advert_sign(&a, p->cfg.identity, out, cap, len, &why);
    if (rc != 0)
        OCTO_ERROR("provider: cannot sign the advert: %s", octo_advert_reason_str(why));
    return rc;
}

/* ---- advertising ---------------------------------------------------------------------- */

static void advert_on_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct prov_orch *o = ctx;
    uint8_t kind;
    const uint8_t *body;
    size_t blen;
    if (octo_taskwire_feed(&o->rd, data, len) != 0) {
        octo_net_stream_reset(s);
        return;
    }
    while (octo_taskwire_next(&o->rd, &kind, &body, &blen) == 1) {
        if (kind == OCTO_TASKWIRE_ACK) {
            if (!o->acked)
                OCTO_INFO("provider: advert of %s accepted by an orchestrator", o->p->model_name);
            o->acked = true;
            o->p->stats.adverts_acked++;
            o->next_ms = wall_ms(o->p) + OCTO_PROVIDER_ADVERT_TTL_MS / 3;
        } else {
            struct octo_taskwire_error e;
            if (kind == OCTO_TASKWIRE_ERROR && octo_taskwire_error_decode(body, blen, &e) == 0)
                OCTO_WARN("provider: advert refused: %s: %s", e.code, e.message);
            o->p->stats.adverts_refused++;
        }
        OCTO_IGNORE(octo_net_stream_close(s));
    }
}

static void advert_on_open(struct octo_net_stream *s, int status, void *ctx)
{
    struct prov_orch *o = ctx;
    if (status != 0)
        return;
    static uint8_t signed_ad[OCTO_ADVERT_SIGNED_MAX];
    size_t n;
    struct octo_buf f;
    octo_buf_init(&f, OCTO_ADVERT_SIGNED_MAX + OCTO_TASKWIRE_HEADER);
    if (make_advert(o->p, signed_ad, sizeof(signed_ad), &n) == 0 &&
        octo_taskwire_frame(&f, OCTO_TASKWIRE_ADVERT, signed_ad, n) == 0 &&
        octo_net_stream_write(s, f.data, f.len) == (int)f.len)
        o->p->stats.adverts_sent++;
    else
        octo_net_stream_reset(s);
    octo_buf_deinit(&f);
}

static void advert_on_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    (void)status;
    struct prov_orch *o = ctx;
    o->busy = false;
    octo_taskwire_reader_deinit(&o->rd);
}

static const struct octo_net_stream_ops advert_ops = {
    .on_open = advert_on_open,
    .on_data = advert_on_data,
    .on_close = advert_on_close,
};

static void advertise_to(struct prov_orch *o)
{
    octo_taskwire_reader_init(&o->rd, 4096);
    o->busy = true;
    if (octo_net_stream_open(o->p->cfg.net, &o->id, OCTO_ADVERT_PROTOCOL, &advert_ops, o, NULL) !=
        0) {
        o->busy = false;
        octo_taskwire_reader_deinit(&o->rd);
    }
}

static void on_dialed(struct octo_net *n, int status, const struct octo_peerid *peer, void *ctx)
{
    (void)n;
    (void)peer;
    struct prov_orch *o = ctx;
    o->busy = false;
    if (status != 0 || o->p->stopped) {
        OCTO_DEBUG("provider: orchestrator dial failed: %s", octo_strerror(status));
        return;
    }
    advertise_to(o);
}

static void on_timer(uv_timer_t *t)
{
    struct octo_provider *p = t->data;
    uint64_t now = wall_ms(p);
    for (struct prov_job *j = p->jobs; j != NULL; j = j->next)
        if (!j->assigned && j->s != NULL && now - j->opened_ms > OCTO_PROVIDER_ASSIGN_WAIT_MS)
            octo_net_stream_reset(j->s); /* no ASSIGN in time; on_close frees it */
    for (size_t i = 0; i < p->n_orch; i++) {
        struct prov_orch *o = &p->orch[i];
        if (o->busy || now < o->next_ms)
            continue;
        o->next_ms = now + OCTO_PROVIDER_RETRY_MS; /* an ACK moves it further */
        o->busy = true;
        if (octo_net_dial(p->cfg.net, &o->addr, on_dialed, o) != 0)
            o->busy = false;
    }
}

/* ---- tasks ---------------------------------------------------------------------------- */

static void job_flush(struct prov_job *j)
{
    while (j->s != NULL && j->out_off < j->out.len) {
        int n = octo_net_stream_write(j->s, j->out.data + j->out_off, j->out.len - j->out_off);
        if (n < 0) {
            octo_net_stream_reset(j->s);
            return;
        }
        if (n == 0)
            return; /* on_writable */
        j->out_off += (size_t)n;
    }
    if (j->out_off == j->out.len) {
        octo_buf_reset(&j->out);
        j->out_off = 0;
        if (j->finishing && j->s != NULL) {
            j->finishing = false;
            OCTO_IGNORE(octo_net_stream_close(j->s));
        }
    }
}

/* Queues the job's last frame (already in out) and closes the stream once it is sent. */
static void job_finish(struct prov_job *j)
{
    j->finishing = true;
    job_flush(j);
}

/* Moves frames the run thread queued to the stream. */
static void job_take_pending(struct prov_job *j)
{
    struct octo_provider *p = j->p;
    pthread_mutex_lock(&p->mu);
    int rc = j->pending.len > 0 ? octo_buf_append(&j->out, j->pending.data, j->pending.len) : 0;
    octo_buf_reset(&j->pending);
    pthread_mutex_unlock(&p->mu);
    if (rc != 0 && j->s != NULL) {
        octo_net_stream_reset(j->s); /* the orchestrator does not read: cut it off */
        atomic_store(&j->cancel, true);
    }
    job_flush(j);
}

static void on_async(uv_async_t *a)
{
    struct octo_provider *p = a->data;
    for (struct prov_job *j = p->jobs; j != NULL; j = j->next)
        if (j->running)
            job_take_pending(j);
}

static int on_piece(void *ctx, const char *text, size_t len)
{
    struct prov_job *j = ctx;
    struct octo_provider *p = j->p;
    octo_sha256_update(&j->out_hash, text, len);
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t off = 0; rc == 0 && off < len; off += OCTO_TASKWIRE_TOKEN_MAX) {
        size_t n = len - off < OCTO_TASKWIRE_TOKEN_MAX ? len - off : OCTO_TASKWIRE_TOKEN_MAX;
        rc = octo_taskwire_frame(&j->pending, OCTO_TASKWIRE_TOKEN, text + off, n);
    }
    if (!p->async_closed)
        uv_async_send(&p->async);
    pthread_mutex_unlock(&p->mu);
    if (rc != 0)
        j->overflow = true;
    return rc != 0 || atomic_load(&j->cancel) ? 1 : 0;
}

static void run_work(uv_work_t *w)
{
    struct prov_job *j = w->data;
    struct octo_provider *p = j->p;
    struct octo_taskrun_spec spec = {
        .runner_exe = p->runner_exe,
        .model_path = p->model_path,
        .kind = j->assign.kind == OCTO_TASKWIRE_COMPLETION ? OCTO_TASKRUN_COMPLETION
                                                           : OCTO_TASKRUN_CHAT,
        .request = (const uint8_t *)j->assign.request,
        .request_len = j->assign.request_len,
        .threads = p->cfg.threads,
        .deterministic = j->assign.deterministic,
        .on_piece = on_piece,
        .ctx = j,
        .cancel = &j->cancel,
    };
    uint64_t left = j->assign.deadline_ms > wall_ms(p) ? j->assign.deadline_ms - wall_ms(p) : 1;
    spec.limits.wall_ms = left < OCTO_TASKRUN_WALL_MS_DEFAULT ? left : OCTO_TASKRUN_WALL_MS_DEFAULT;
    if (octo_taskrun_run(&spec, &j->res) != 0 && j->res.error[0] == '\0') {
        j->res.ok = false;
        snprintf(j->res.error, sizeof(j->res.error), "invalid_request");
    }
}

static void send_error(struct octo_buf *out, const char *code, const char *message, bool retry)
{
    struct octo_taskwire_error e = {.retry = retry};
    snprintf(e.code, sizeof(e.code), "%.*s", (int)sizeof(e.code) - 1, code);
    snprintf(e.message, sizeof(e.message), "%.*s", (int)sizeof(e.message) - 1, message);
    OCTO_IGNORE(octo_taskwire_error_encode(out, &e));
}

static void job_free(struct prov_job *j)
{
    struct octo_provider *p = j->p;
    for (struct prov_job **pp = &p->jobs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            p->n_jobs--;
            break;
        }
    }
    if (j->seal != NULL) {
        OCTO_ASSERT(j->seal->pipe_closed && j->seal->work_done);
        close(j->seal->cancel_fd);
        octo_buf_deinit(&j->seal->rx);
        octo_free(j->seal);
    }
    octo_taskwire_assign_free(&j->assign);
    octo_taskwire_reader_deinit(&j->rd);
    octo_buf_deinit(&j->pending);
    octo_buf_deinit(&j->out);
    octo_free(j);
}

/* The ledger receipt of a successful run (chain/tx.h), signed with the node's key: the task
 * (its 16-byte id, zero-padded), who escrowed it (the ASSIGN's requester) and who assigned it
 * (the stream's peer), this provider, SHA-256 of the request and of the generated text, the
 * tokens, the run's wall-clock span and the price from this provider's advertised prices.
 * OCTO_ENOTFOUND without a chain (no chain id), without a requester, or for a price of 0. */
static int make_receipt(struct prov_job *j, const uint8_t input[32], const uint8_t output[32],
                        uint32_t prompt, uint32_t completion,
                        uint8_t out[OCTO_TASKWIRE_RECEIPT_LEN])
{
    struct octo_provider *p = j->p;
    struct octo_pubkey orch;
    if (!p->have_chain || !j->assign.has_requester || j->s == NULL ||
        octo_peerid_pubkey(octo_net_stream_peer(j->s), &orch) != 0)
        return OCTO_ENOTFOUND;
    struct octo_receipt rec;
    memset(&rec, 0, sizeof(rec));
    memcpy(rec.task, j->assign.task, OCTO_TASKWIRE_ID_LEN);
    memcpy(rec.requester, j->assign.requester, 32);
    memcpy(rec.orchestrator, orch.bytes, 32);
    memcpy(rec.provider, p->cfg.identity->pub.bytes, 32);
    memcpy(rec.input, input, 32);
    memcpy(rec.output, output, 32);
    rec.tokens = (uint64_t)prompt + completion;
    rec.start_ms = j->start_ms;
    rec.end_ms = j->end_ms >= j->start_ms ? j->end_ms : j->start_ms;
    rec.price = octo_sched_charge_amount(p->cfg.price_in, prompt, p->cfg.price_out, completion);
    if (rec.price == 0)
        return OCTO_ENOTFOUND; /* nothing to settle (the ledger wants a price) */
    octo_receipt_encode(&rec, out);
    octo_receipt_sign(p->chain_id, out, p->cfg.identity);
    return 0;
}

/* The run's execution commitment (intel/commit.h), signed with the node's key, into res:
 * what ran (the weights' SHA-256 as the runner hashed them, the quantization), how isolated
 * (a process sandbox; no attestation), the tokens and the times, over the same input and
 * output hashes as the receipt. */
static void make_commitment(struct prov_job *j, const uint8_t in[32], const uint8_t out[32],
                            const uint8_t model[32], struct octo_taskwire_result *res)
{
    struct octo_provider *p = j->p;
    struct octo_commitment c;
    memset(&c, 0, sizeof(c));
    c.flags = (j->seal != NULL ? OCTO_COMMIT_FLAG_SEALED : 0) |
              (j->assign.deterministic ? OCTO_COMMIT_FLAG_DETERMINISTIC : 0);
    memcpy(c.task, j->assign.task, sizeof(c.task));
    memcpy(c.input, in, 32);
    memcpy(c.output, out, 32);
    memcpy(c.model_sha256, model, 32);
#ifdef OCTO_DEBUG_ASSERTIONS
    if (p->fault_commit_advertised && !j->seal) /* a test fault: it lies about what it ran */
        memcpy(c.model_sha256, p->weights_hash, 32);
#endif
    bool noop = p->cfg.noop_agent && strcmp(j->assign.model, OCTO_PROVIDER_NOOP_MODEL) == 0;
    const char *q = noop ? "none" : p->quant;
    size_t ql = strlen(q);
    if (ql >= sizeof(c.quant))
        return; /* a quantization name the commitment cannot carry: none is sent */
    memcpy(c.quant, q, ql + 1);
    c.prompt_tokens = res->prompt_tokens;
    c.completion_tokens = res->completion_tokens;
    c.isolation = OCTO_ISOLATION_PROCESS;
    c.start_ms = j->start_ms;
    c.end_ms = j->end_ms >= j->start_ms ? j->end_ms : j->start_ms;
    res->has_commitment = octo_commit_sign(&c, p->cfg.identity, res->commitment) == 0;
}

/* The run's last frame: RESULT, or ERROR (retry when the fault is this node's, not the
 * request's). */
static void job_finish_frame(struct prov_job *j, uint64_t run_ns)
{
    struct octo_taskrun_result *r = &j->res;
    if (j->overflow) {
        send_error(&j->out, "overflow", "the orchestrator did not read the stream", true);
    } else if (r->ok) {
        struct octo_taskwire_result res = {.prompt_tokens = r->prompt_tokens,
                                           .completion_tokens = r->completion_tokens,
                                           .ttft_ns = r->ttft_ns,
                                           .run_ns = run_ns};
        snprintf(res.finish, sizeof(res.finish), "%s", r->finish);
        memcpy(res.model_sha256, r->model_sha256, 32);
        uint8_t in[32], out[32];
        octo_sha256(j->assign.request, j->assign.request_len, in);
        octo_sha256_final(&j->out_hash, out);
        res.has_receipt =
            make_receipt(j, in, out, r->prompt_tokens, r->completion_tokens, res.receipt) == 0;
        make_commitment(j, in, out, r->model_sha256, &res);
        OCTO_IGNORE(octo_taskwire_result_encode(&j->out, &res));
    } else {
        bool request_fault = strcmp(r->error, "invalid_request") == 0 ||
                             strcmp(r->error, "context_length_exceeded") == 0 ||
                             strcmp(r->error, "request_too_large") == 0;
        send_error(&j->out, r->error[0] != '\0' ? r->error : "runner",
                   r->message[0] != '\0' ? r->message : "the run failed", !request_fault);
    }
}

static void run_done(uv_work_t *w, int status)
{
    (void)status;
    struct prov_job *j = w->data;
    struct octo_provider *p = j->p;
    uint64_t run_ns = uv_hrtime() - j->started_ns;
    j->end_ms = wall_ms(p);
    p->stats.run_ns_total += run_ns;
    p->running--;
    p->stats.running = p->running;
    j->running = false;
    job_take_pending(j);
    if (j->res.ok && !j->overflow) {
        p->stats.tasks_succeeded++;
        p->stats.tokens_out += j->res.completion_tokens;
    } else if (atomic_load(&j->cancel)) {
        p->stats.tasks_cancelled++;
    } else {
        p->stats.tasks_failed++;
        OCTO_WARN("provider: task failed: %s: %s", j->res.error, j->res.message);
    }
    if (j->s == NULL) {
        job_free(j);
        return;
    }
    job_finish_frame(j, run_ns);
    job_finish(j);
}

/* The no-op agent's answer: no text, no tokens, at once (with its receipt, price 0, on a
 * chain). What is left is the orchestration path itself, which the benchmark measures. */
static void noop_answer(struct prov_job *j)
{
    struct octo_provider *p = j->p;
    j->assigned = true;
    memset(&j->res, 0, sizeof(j->res));
    j->res.ok = true;
    snprintf(j->res.finish, sizeof(j->res.finish), "stop");
    j->start_ms = j->end_ms = wall_ms(p);
    octo_sha256_init(&j->out_hash);
    p->stats.tasks_succeeded++;
    job_finish_frame(j, 0);
    job_finish(j);
}

/* ---- sealed tasks ---------------------------------------------------------------------- */

static void seal_closed(uv_handle_t *h);

/* Closes the loop's end of the pair (the pool thread then sees the exchange end). */
static void seal_close(struct prov_seal *s)
{
    if (s->closing)
        return;
    s->closing = true;
    if (!s->work_done) { /* a run still going is stopped, not left to its wall deadline */
        uint64_t one = 1;
        OCTO_IGNORE(write(s->cancel_fd, &one, sizeof(one)) == (ssize_t)sizeof(one));
    }
    uv_close((uv_handle_t *)&s->pipe, seal_closed);
}

struct seal_write {
    uv_write_t req;
    uv_buf_t buf;
};

static void seal_written(uv_write_t *w, int status)
{
    (void)status; /* a failed write closes nothing here: the exchange's own timeout ends it */
    octo_free(w->data);
}

/* A SEALED frame from the orchestrator: one exchange frame for the worker. The first must be a
 * HELLO for the class the task was assigned as, the second a TASK; nothing may follow. */
static void seal_in(struct prov_job *j, const uint8_t *frame, size_t len)
{
    struct prov_seal *s = j->seal;
    uint8_t want = s->frames_in == 0 ? OCTO_FRAME_HELLO : OCTO_FRAME_TASK;
    if (len < OCTO_FRAME_HEAD_LEN || frame[0] != want || s->frames_in >= 2 ||
        (want == OCTO_FRAME_HELLO && (len != OCTO_FRAME_HEAD_LEN + OCTO_PRIVACY_HELLO_LEN ||
                                      frame[len - 1] != (uint8_t)j->assign.sealed))) {
        j->p->stats.frames_bad++;
        s->bad = true;
        seal_close(s);
        return;
    }
    s->frames_in++;
    if (want == OCTO_FRAME_TASK) {
        s->task_len = len;
        octo_sha256(frame, len, s->task_hash);
    }
    if (s->closing)
        return;
    struct seal_write *w = octo_malloc(sizeof(*w) + len);
    if (w == NULL) {
        s->bad = true;
        seal_close(s);
        return;
    }
    memcpy(w + 1, frame, len);
    w->req.data = w;
    w->buf = uv_buf_init((char *)(w + 1), (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&s->pipe, &w->buf, 1, seal_written) != 0) {
        octo_free(w);
        s->bad = true;
        seal_close(s);
    }
}

static void seal_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct prov_job *j = h->data;
    *buf = uv_buf_init(j->seal->rbuf, sizeof(j->seal->rbuf));
}

/* Whole frames from the exchange (KEY, RESULT or ERROR) go to the orchestrator as they are. */
static void seal_out(struct prov_job *j)
{
    struct prov_seal *s = j->seal;
    for (;;) {
        enum octo_frame_type type;
        const uint8_t *body;
        size_t blen;
        long got =
            octo_frame_parse(s->rx.data, s->rx.len, OCTO_TASKWIRE_SEALED_MAX, &type, &body, &blen);
        if (got == OCTO_EAGAIN)
            return;
        if (got < 0 || (size_t)got > OCTO_TASKWIRE_SEALED_MAX) {
            s->bad = true;
            seal_close(s);
            return;
        }
        if (type == OCTO_FRAME_RESULT) {
            octo_sha256(s->rx.data, (size_t)got, s->result_hash);
            s->have_result = true;
        }
        s->key_sent = s->key_sent || type == OCTO_FRAME_KEY;
        if (j->s != NULL &&
            octo_taskwire_frame(&j->out, OCTO_TASKWIRE_SEALED, s->rx.data, (size_t)got) != 0) {
            octo_net_stream_reset(j->s);
            seal_close(s);
        }
        octo_buf_consume(&s->rx, (size_t)got);
        job_flush(j);
    }
}

static void seal_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct prov_job *j = st->data;
    struct prov_seal *s = j->seal;
    if (n > 0) {
        if (octo_buf_append(&s->rx, buf->base, (size_t)n) != 0) {
            s->bad = true;
            seal_close(s);
            return;
        }
        seal_out(j);
    } else if (n < 0) {
        seal_close(s); /* the pool thread closed its end: the exchange is over */
    }
}

/* On a pool thread: the exchange, up to the worker's RESULT (or a refusal). */
static void seal_work(uv_work_t *w)
{
    struct prov_job *j = w->data;
    struct octo_provider *p = j->p;
    struct prov_seal *s = j->seal;
    struct octo_taskrun_spec ts = {.threads = p->cfg.threads};
    uint64_t now = wall_ms(p);
    uint64_t left = j->assign.deadline_ms > now ? j->assign.deadline_ms - now : 1;
    ts.limits.wall_ms = left < OCTO_TASKRUN_WALL_MS_DEFAULT ? left : OCTO_TASKRUN_WALL_MS_DEFAULT;
    ts.limits.output_bytes = OCTO_PROVIDER_SEALED_OUTPUT_MAX;
    struct octo_privacy_provider pp = {.node = p->cfg.identity,
                                       .worker_exe = p->worker_exe,
                                       .limits = octo_taskrun_limits(&ts, p->model_bytes),
                                       .net = OCTO_SANDBOX_NET_NONE,
                                       .io_timeout_ms = OCTO_PROVIDER_SEALED_IO_MS,
                                       .cancel_fd = s->cancel_fd};
    pp.binds[0] = (struct octo_sandbox_bind){p->runner_exe, OCTO_TASKRUN_RUNNER_PATH, false};
    pp.binds[1] = (struct octo_sandbox_bind){p->model_path, OCTO_TASKRUN_MODEL_PATH, false};
    pp.binds_count = 2;
    const char *argv[] = {OCTO_TASKRUN_RUNNER_PATH,
                          "--model",
                          OCTO_TASKRUN_MODEL_PATH,
                          "--kind",
                          j->assign.kind == OCTO_TASKWIRE_COMPLETION ? "completion" : "chat",
                          "--threads",
                          s->threads,
                          "--max-tokens-cap",
                          s->cap,
                          NULL};
    s->serve_rc = octo_privacy_serve(&pp, s->fd, s->fd, argv, &s->report);
    close(s->fd);
    s->fd = -1;
}

/* The sealed run's last frame: RESULT with the metered counts and the receipt over the sealed
 * frames' hashes, or ERROR with the exchange's reason. */
static void seal_finish_frame(struct prov_job *j, uint64_t run_ns)
{
    struct octo_provider *p = j->p;
    struct prov_seal *s = j->seal;
    if (!s->bad && s->report.result_sent && s->have_result) {
        struct octo_taskwire_result res = {.prompt_tokens =
                                               octo_taskwire_sealed_prompt_tokens(s->task_len),
                                           .completion_tokens = j->assign.max_tokens,
                                           .run_ns = run_ns};
        snprintf(res.finish, sizeof(res.finish), "sealed");
        memcpy(res.model_sha256, p->weights_hash, 32);
        res.has_receipt = make_receipt(j, s->task_hash, s->result_hash, res.prompt_tokens,
                                       res.completion_tokens, res.receipt) == 0;
        make_commitment(j, s->task_hash, s->result_hash, p->weights_hash, &res);
        OCTO_IGNORE(octo_taskwire_result_encode(&j->out, &res));
        p->stats.tasks_succeeded++;
        p->stats.tasks_sealed++;
        return;
    }
    p->stats.tasks_failed++;
    const char *why = s->report.reason[0] != '\0' ? s->report.reason
                      : s->bad                    ? "the sealed exchange broke its order"
                                                  : octo_strerror(s->serve_rc);
    OCTO_WARN("provider: sealed task failed: %s", why);
    /* before the worker's KEY went out another provider may still serve the client: ours to
     * retry. After it the client's payload is bound to this worker: a worker that took the
     * TASK and then died (killed, out of memory, a broken sandbox, its time up) is this node's
     * fault; anything else (no TASK, one that does not open, the output cap) is the client's */
    enum octo_sandbox_outcome o = s->report.sandbox.outcome;
    bool ours = !s->key_sent || (s->report.accepted && o != OCTO_SANDBOX_EXITED &&
                                 o != OCTO_SANDBOX_OUTPUT && o != OCTO_SANDBOX_CANCELLED);
    send_error(&j->out, "sealed_failed", why, ours);
}

static void seal_maybe_end(struct prov_job *j)
{
    struct prov_seal *s = j->seal;
    if (!s->work_done || !s->pipe_closed)
        return;
    j->running = false;
    if (j->s == NULL) {
        job_free(j);
        return;
    }
    seal_finish_frame(j, uv_hrtime() - j->started_ns);
    job_finish(j);
}

static void seal_closed(uv_handle_t *h)
{
    struct prov_job *j = h->data;
    j->p->handles--;
    j->seal->pipe_closed = true;
    seal_maybe_end(j);
}

static void seal_done(uv_work_t *w, int status)
{
    (void)status;
    struct prov_job *j = w->data;
    struct octo_provider *p = j->p;
    j->end_ms = wall_ms(p);
    p->stats.run_ns_total += uv_hrtime() - j->started_ns;
    p->running--;
    p->stats.running = p->running;
    j->seal->work_done = true;
    seal_maybe_end(j);
}

/* Starts the exchange of an accepted sealed ASSIGN. 0, or the job is to be refused. */
static int seal_start(struct prov_job *j)
{
    struct octo_provider *p = j->p;
    struct prov_seal *s = octo_calloc(1, sizeof(*s));
    if (s == NULL)
        return OCTO_ENOMEM;
    int sv[2];
    s->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->cancel_fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        if (s->cancel_fd >= 0)
            close(s->cancel_fd);
        octo_free(s);
        return OCTO_EIO;
    }
    s->fd = sv[1];
    octo_buf_init(&s->rx, OCTO_TASKWIRE_SEALED_MAX + sizeof(s->rbuf));
    snprintf(s->threads, sizeof(s->threads), "%u", p->cfg.threads != 0 ? p->cfg.threads : 1u);
    snprintf(s->cap, sizeof(s->cap), "%u", j->assign.max_tokens);
    uv_pipe_init(p->cfg.loop, &s->pipe, 0);
    s->pipe.data = j;
    j->seal = s;
    p->handles++;
    int rc = uv_pipe_open(&s->pipe, sv[0]);
    if (rc != 0)
        close(sv[0]); /* not the pipe's yet */
    else
        rc = uv_read_start((uv_stream_t *)&s->pipe, seal_alloc, seal_read);
    if (rc != 0) {
        close(sv[1]);
        s->fd = -1;
        s->work_done = true;
        s->bad = true;
        seal_close(s);
        return 0; /* seal_closed ends it with ERROR */
    }
    j->running = true;
    p->running++;
    p->stats.running = p->running;
    j->started_ns = uv_hrtime();
    j->start_ms = wall_ms(p);
    j->work.data = j;
    if (uv_queue_work(p->cfg.loop, &j->work, seal_work, seal_done) != 0) {
        close(s->fd);
        s->fd = -1;
        p->running--;
        p->stats.running = p->running;
        s->work_done = true;
        s->bad = true;
        seal_close(s);
    }
    return 0;
}

/* Checks an ASSIGN and starts its run, or answers ERROR. */
static void job_assign(struct prov_job *j, const uint8_t *body, size_t len)
{
    struct octo_provider *p = j->p;
    p->stats.tasks_assigned++;
    const char *why = NULL, *code = "busy";
    if (octo_taskwire_assign_decode(body, len, &j->assign) != 0) {
        p->stats.frames_bad++;
        why = "malformed assignment";
        code = "malformed";
    } else if (p->cfg.noop_agent && strcmp(j->assign.model, OCTO_PROVIDER_NOOP_MODEL) == 0) {
        noop_answer(j);
        return;
    } else if (strcmp(j->assign.model, p->model_name) != 0) {
        why = "this provider does not serve that model";
        code = "model_not_served";
    } else if (j->assign.deadline_ms <= wall_ms(p)) {
        why = "the deadline has passed";
        code = "deadline";
    } else if (p->stopped || p->running >= p->cfg.concurrency) {
        why = "every slot is taken";
    } else if (j->assign.sealed != OCTO_TASKWIRE_OPEN && p->worker_exe[0] == '\0') {
        why = "this provider cannot run sealed tasks (no octo-worker beside the node)";
        code = "unsupported";
    }
    j->assigned = true;
    if (why == NULL && j->assign.sealed != OCTO_TASKWIRE_OPEN) {
        if (seal_start(j) == 0)
            return; /* the stream goes on: SEALED frames follow */
        why = "cannot start the sealed exchange";
    }
    octo_taskwire_reader_deinit(&j->rd); /* one ASSIGN per stream: nothing more is read */
    octo_taskwire_reader_init(&j->rd, OCTO_TASKWIRE_HEADER);
    if (why != NULL) {
        p->stats.tasks_refused++;
        send_error(&j->out, code, why, true);
        job_finish(j);
        return;
    }
    j->running = true;
    p->running++;
    p->stats.running = p->running;
    j->started_ns = uv_hrtime();
    j->start_ms = wall_ms(p);
    octo_sha256_init(&j->out_hash);
    j->work.data = j;
    if (uv_queue_work(p->cfg.loop, &j->work, run_work, run_done) != 0) {
        j->running = false;
        p->running--;
        p->stats.running = p->running;
        send_error(&j->out, "busy", "cannot start the run", true);
        job_finish(j);
    }
}

static void task_on_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct prov_job *j = ctx;
    if (j->assigned && j->seal == NULL && j->assign.sealed != OCTO_TASKWIRE_OPEN)
        return; /* a refused sealed task: its frames on their way are dropped */
    if (octo_taskwire_feed(&j->rd, data, len) != 0) {
        j->p->stats.frames_bad++;
        octo_net_stream_reset(s);
        return;
    }
    uint8_t kind;
    const uint8_t *body;
    size_t blen;
    if (j->assigned && j->seal == NULL) { /* the orchestrator half-closes after its ASSIGN */
        j->p->stats.frames_bad++;
        octo_net_stream_reset(s);
        return;
    }
    while (octo_taskwire_next(&j->rd, &kind, &body, &blen) == 1) {
        if (!j->assigned && kind == OCTO_TASKWIRE_ASSIGN) {
            job_assign(j, body, blen);
            if (j->seal == NULL)
                return;
        } else if (j->seal != NULL && kind == OCTO_TASKWIRE_SEALED) {
            seal_in(j, body, blen);
        } else {
            j->p->stats.frames_bad++;
            octo_net_stream_reset(s);
            return;
        }
    }
}

static void task_on_writable(struct octo_net_stream *s, void *ctx)
{
    (void)s;
    job_flush(ctx);
}

static void task_on_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    (void)status;
    struct prov_job *j = ctx;
    j->s = NULL;
    if (j->seal != NULL && !(j->seal->work_done && j->seal->pipe_closed)) {
        seal_close(j->seal); /* the exchange ends; freed in seal_maybe_end */
        return;
    }
    if (j->running) {
        atomic_store(&j->cancel, true); /* freed when the run returns */
        return;
    }
    job_free(j);
}

static const struct octo_net_stream_ops task_ops = {
    .on_data = task_on_data,
    .on_writable = task_on_writable,
    .on_close = task_on_close,
};

static bool from_orchestrator(const struct octo_provider *p, const struct octo_peerid *peer)
{
    for (size_t i = 0; i < p->n_orch; i++)
        if (octo_peerid_equal(&p->orch[i].id, peer))
            return true;
    return false;
}

static void on_task_stream(struct octo_net_stream *s, void *ctx)
{
    struct octo_provider *p = ctx;
    if (p->stopped || !from_orchestrator(p, octo_net_stream_peer(s)) ||
        p->n_jobs >= OCTO_PROVIDER_JOBS_MAX(p->cfg.concurrency))
        return; /* not set: the stream is reset */
    struct prov_job *j = octo_calloc(1, sizeof(*j));
    if (j == NULL)
        return;
    j->p = p;
    j->s = s;
    octo_taskwire_reader_init(&j->rd, OCTO_TASKWIRE_FRAME_MAX);
    octo_buf_init(&j->pending, OCTO_PROVIDER_OUT_MAX);
    octo_buf_init(&j->out, 2 * OCTO_PROVIDER_OUT_MAX);
    atomic_init(&j->cancel, false);
    j->opened_ms = wall_ms(p);
    j->next = p->jobs;
    p->jobs = j;
    p->n_jobs++;
    octo_net_stream_set_ops(s, &task_ops, j);
}

/* ---- life cycle ----------------------------------------------------------------------- */

static int copy_path(char *dst, size_t cap, const char *src)
{
    if (src == NULL || src[0] != '/' || strlen(src) >= cap)
        return OCTO_EINVAL;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

static int setup_orchestrators(struct octo_provider *p)
{
    if (p->cfg.orchestrators_count > OCTO_PROVIDER_ORCH_MAX)
        return OCTO_EINVAL;
    for (size_t i = 0; i < p->cfg.orchestrators_count; i++) {
        struct prov_orch *o = &p->orch[p->n_orch];
        struct sockaddr_storage sa;
        bool has_peer = false;
        if (octo_net_multiaddr_to_sockaddr(&p->cfg.orchestrators[i], &sa, &o->id, &has_peer) != 0 ||
            !has_peer)
            return OCTO_EINVAL;
        o->p = p;
        o->addr = p->cfg.orchestrators[i];
        p->n_orch++;
    }
    return 0;
}

int octo_provider_start(struct octo_provider **out, const struct octo_provider_config *cfg)
{
    *out = NULL;
    struct octo_provider *p = octo_calloc(1, sizeof(*p));
    if (p == NULL)
        return OCTO_ENOMEM;
    p->cfg = *cfg;
    if (cfg->chain_id != NULL) {
        memcpy(p->chain_id, cfg->chain_id, 32);
        p->have_chain = true;
    }
    if (p->cfg.price_in == 0)
        p->cfg.price_in = OCTO_PROVIDER_PRICE_DEFAULT;
    if (p->cfg.price_out == 0)
        p->cfg.price_out = OCTO_PROVIDER_PRICE_DEFAULT;
    if (p->cfg.concurrency == 0)
        p->cfg.concurrency = 1;
    int rc = copy_path(p->model_path, sizeof(p->model_path), cfg->model_path);
    if (rc == 0)
        rc = copy_path(p->runner_exe, sizeof(p->runner_exe), cfg->runner_exe);
    if (rc == 0 && cfg->worker_exe != NULL)
        rc = copy_path(p->worker_exe, sizeof(p->worker_exe), cfg->worker_exe);
    if (rc == 0 && p->cfg.concurrency > OCTO_PROVIDER_CONCURRENCY_MAX)
        rc = OCTO_EINVAL;
    if (rc == 0)
        rc = setup_orchestrators(p);
    if (rc == 0) {
        model_name_from_path(p->model_path, p->model_name, sizeof(p->model_name));
        rc = read_model(p);
    }
    if (rc == 0) { /* an advert that cannot be signed (bad region, ...) fails the start */
        static uint8_t probe[OCTO_ADVERT_SIGNED_MAX];
        size_t n;
        rc = make_advert(p, probe, sizeof(probe), &n) == 0 ? 0 : OCTO_EINVAL;
    }
#ifdef OCTO_DEBUG_ASSERTIONS
    /* Fault injection for tests of the verifier, in debug builds only (never in release): with
     * OCTO_TEST_FAULTS=commit-advertised-weights the provider's commitments name the weights it
     * advertised, whatever its runner loaded: a provider that lies about its model, which only
     * re-execution can catch (tests/cli/test_reexec.sh). */
    const char *faults = getenv("OCTO_TEST_FAULTS");
    p->fault_commit_advertised = faults != NULL && strstr(faults, "commit-advertised-weights");
    if (p->fault_commit_advertised)
        OCTO_WARN("provider: TEST FAULT: commitments name the advertised weights, whatever ran");
#endif
    if (rc == 0)
        rc = octo_net_handle(cfg->net, OCTO_TASK_PROTOCOL, on_task_stream, p);
    if (rc != 0) {
        octo_free(p);
        return rc;
    }
    pthread_mutex_init(&p->mu, NULL);
    uv_timer_init(cfg->loop, &p->timer);
    uv_async_init(cfg->loop, &p->async, on_async);
    p->timer.data = p;
    p->async.data = p;
    p->handles = 2;
    uv_timer_start(&p->timer, on_timer, 0, 500);
    OCTO_INFO("provider: serving %s (%s, context %u) to %zu orchestrator(s)", p->model_name,
              p->quant, p->context_len, p->n_orch);
    *out = p;
    return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct octo_provider *p = h->data;
    p->handles--;
}

void octo_provider_stop(struct octo_provider *p)
{
    if (p == NULL || p->stopped)
        return;
    p->stopped = true;
    for (struct prov_job *j = p->jobs; j != NULL; j = j->next) {
        atomic_store(&j->cancel, true);
        if (j->seal != NULL)
            seal_close(j->seal);
    }
    pthread_mutex_lock(&p->mu);
    p->async_closed = true;
    pthread_mutex_unlock(&p->mu);
    uv_close((uv_handle_t *)&p->timer, on_handle_closed);
    uv_close((uv_handle_t *)&p->async, on_handle_closed);
}

bool octo_provider_idle(const struct octo_provider *p)
{
    return p == NULL || (p->handles == 0 && p->running == 0);
}

void octo_provider_destroy(struct octo_provider *p)
{
    if (p == NULL)
        return;
    OCTO_ASSERT(octo_provider_idle(p));
    while (p->jobs != NULL)
        job_free(p->jobs);
    pthread_mutex_destroy(&p->mu);
    octo_free(p);
}

const struct octo_provider_stats *octo_provider_stats(const struct octo_provider *p)
{
    return &p->stats;
}

const char *octo_provider_model(const struct octo_provider *p)
{
    return p->model_name;
}
