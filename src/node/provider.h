/*
 * provider.h — the provider role of a node: it serves one GGUF model, advertises it to its
 * orchestrators and executes the tasks they assign, each in a fresh process sandbox with the
 * built-in inference engine (exec/taskrun.h runs octo-runner there).
 *
 *   start: read the model's GGUF header (name from the file name, quantization, context
 *          length) and SHA-256 of its bytes; sign an advert (intel/advert.h) with the node's
 *          key: prices, concurrency, isolation "process", CPU tier, the node's listen
 *          addresses as endpoints, expiry OCTO_PROVIDER_ADVERT_TTL_MS ahead
 *   adverts: dial each configured orchestrator, send ADVERT on /octo/advert/1.0.0, wait for
 *          its ACK; retry every OCTO_PROVIDER_RETRY_MS until acknowledged, then advertise
 *          afresh (new seq) every third of the TTL
 *   tasks (/octo/task/1.0.0, accepted only from the configured orchestrators): one ASSIGN
 *          per stream; refused with ERROR (retry: true) when `concurrency` tasks run, when the
 *          model differs or the deadline has passed; else run on a libuv pool thread, each
 *          generated piece sent as a TOKEN frame as it comes, then one RESULT (or ERROR) and
 *          the stream closes. On a chain, a RESULT carries the ledger receipt (chain/tx.h)
 *          this node signs: task, requester, orchestrator, provider, SHA-256 of the request
 *          and of the text, tokens, the run's span and its price at the advertised prices. A stream
 * the orchestrator resets stops forwarding; the run is bounded by its max_tokens and the sandbox's
 * wall-clock limit.
 *
 * The no-op agent (noop_agent, for benchmarks): the advert also lists the model "noop", whose
 * tasks are answered at once with no text and no tokens, without a sandbox: what remains is the
 * orchestration path (gateway, scheduler, streams, records, receipts).
 *
 * Threads: everything but the sandbox run happens on the node's loop; a run's pieces are
 * queued under a mutex and moved to the stream by a uv_async on the loop.
 * Limits: OCTO_PROVIDER_JOBS_MAX task streams at once (others are reset), an ASSIGN within
 * OCTO_PROVIDER_ASSIGN_WAIT_MS, OCTO_PROVIDER_OUT_MAX bytes of frames waiting for one slow stream
 * (past it the task is cut off with an ERROR), OCTO_PROVIDER_CONCURRENCY_MAX tasks at once.
 */
#ifndef OCTO_NODE_PROVIDER_H
#define OCTO_NODE_PROVIDER_H

#include "base/clock.h"
#include "base/multiaddr.h"
#include "crypto/ident.h"
#include "net/net.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define OCTO_PROVIDER_ADVERT_TTL_MS (10u * 60u * 1000u)
#define OCTO_PROVIDER_RETRY_MS 2000u
#define OCTO_PROVIDER_ORCH_MAX 8
#define OCTO_PROVIDER_CONCURRENCY_MAX 64u
#define OCTO_PROVIDER_OUT_MAX (4u << 20)
#define OCTO_PROVIDER_ASSIGN_WAIT_MS 10000u /* a task stream must deliver its ASSIGN by then */
/* Task streams held at once (running, refused and waiting for their ASSIGN). */
#define OCTO_PROVIDER_JOBS_MAX(concurrency) (2u * (concurrency) + 8u)
#define OCTO_PROVIDER_PRICE_DEFAULT 1000000u /* base units per 1M tokens: 1 OCTO */
#define OCTO_PROVIDER_NOOP_MODEL "noop"
/* A sealed run's stdout, and its stderr: room for OCTO_TASKWIRE_SEALED_TOKENS_MAX tokens of the
 * runner's NDJSON (about 10 bytes a token beside the text), and within what the gateway keeps
 * of an answer (OCTO_GATEWAY_TEXT_MAX) with both streams in the sealed result. */
#define OCTO_PROVIDER_SEALED_OUTPUT_MAX (64u << 10)
#define OCTO_PROVIDER_SEALED_IO_MS 30000u /* a sealed exchange waits for its TASK */

struct octo_provider_config {
    uv_loop_t *loop;
    struct octo_net *net; /* started */
    const struct octo_identity *identity;
    const struct octo_clock *clock;
    const char *model_path;       /* the GGUF file served */
    const char *runner_exe;       /* host path of octo-runner */
    const char *worker_exe;       /* host path of octo-worker (sealed tasks); NULL: none */
    uint64_t price_in, price_out; /* base units per 1M tokens; 0: the default */
    uint32_t concurrency;         /* tasks at once; 0: 1 */
    uint32_t threads;             /* inference threads per task; 0: 1 */
    char country[3];              /* ISO 3166-1 alpha-2 of the host, "DE" */
    char continent[3];            /* AF AN AS EU NA OC SA */
    const struct octo_multiaddr *orchestrators; /* each with /p2p */
    size_t orchestrators_count;
    bool noop_agent; /* also serve OCTO_PROVIDER_NOOP_MODEL: answered at once, nothing runs */
    const uint8_t *chain_id; /* the chain's id (32 bytes, copied): results carry signed ledger
                                receipts; NULL: no chain, no receipts */
};

struct octo_provider_stats {
    uint64_t adverts_sent, adverts_acked, adverts_refused;
    uint64_t tasks_assigned, tasks_succeeded, tasks_failed, tasks_refused, tasks_cancelled;
    uint64_t tasks_sealed; /* succeeded sealed tasks (also in tasks_succeeded) */
    uint64_t tokens_out, frames_bad;
    uint64_t run_ns_total; /* wall time of finished runs */
    uint32_t running;
};

struct octo_provider;

/* Reads the model and starts advertising. Errors: OCTO_EINVAL (config), OCTO_EIO /
 * OCTO_ENOTFOUND (model file), OCTO_EMALFORMED (not a usable GGUF), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_provider_start(struct octo_provider **out,
                                      const struct octo_provider_config *cfg);
/* Stops timers and streams (before the net shuts down); runs still going finish on their
 * threads and are dropped. */
void octo_provider_stop(struct octo_provider *p);
/* Frees; the loop must have run until the runs and handles ended (octo_provider_idle). */
void octo_provider_destroy(struct octo_provider *p);
bool octo_provider_idle(const struct octo_provider *p);

const struct octo_provider_stats *octo_provider_stats(const struct octo_provider *p);
/* The served model's name (the file name without .gguf). */
const char *octo_provider_model(const struct octo_provider *p);

#endif
